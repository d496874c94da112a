// TLS 1.3 mutual-TLS handshake cost of the data plane's identity layer (proxy/src/tls), in-process
// over memory BIO pairs, against a baseline measured in the same run: the naive way, which
// builds a new SSL_CTX per connection and re-parses the PEM certificate chain, key and CA root
// each time (performance.md, design consequences 1-3).
//
// BM_FullHandshakeLeafAndIntermediate is the configuration performance.md measured in-process on
// its reference machine (620-680 µs per side, OpenSSL 3.0.22): shared per-identity contexts,
// leaf and intermediate sent both ways. It is meshsim's own identity layer with a trust bundle
// that holds the root alone, so the intermediate goes on the wire as for any other CA; the
// ratio of BM_FullHandshakeSharedContexts to it is what this machine's speed does not change.
//
// Both sides run on the benchmark thread. Google Benchmark's CPU time is the sum of the two
// sides; the counters client_us / server_us split it with per-side timers: every OpenSSL call
// made for one side (context building for the naive case, SSL_new, the handshake steps, the
// client's read of the session ticket, verifiedPeer, SSL_free) is bracketed by
// CLOCK_THREAD_CPUTIME_ID readings and charged to that side. The BIO pair (the stand-in for the
// socket) is charged to neither.
//
// BM_IdleConnectionMemory/<release> measures the heap held by one idle established SSL (after a
// 1 KiB request and response) with SSL_MODE_RELEASE_BUFFERS off (0) or on (1), as the allocator
// counts it (tcmalloc's generic.current_allocated_bytes, or glibc's mallinfo2): heap with the
// connections open minus heap after freeing them, minus the BIO pairs' own buffers, divided by
// the number of SSL objects. Server session-cache entries outlive the
// connection and are reported separately (cache_bytes_per_handshake).
//
// Run: build/tls-rel/bench/tls_handshake_bench --benchmark_repetitions=3
//        --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <malloc.h>
#ifdef MESHSIM_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#endif
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "meshsim/pki/ca.h"
#include "meshsim/pki/svid.h"
#include "meshsim/pki/trust.h"
#include "tls/identity_tls.h"

namespace {

namespace pki = meshsim::pki;
namespace tls = meshsim::proxy::tls;

constexpr int64_t kStart = 1700000000;
const char* const kServerId = "spiffe://cluster.local/ns/default/sa/reviews";

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "tls_handshake_bench: %s\n", why.c_str());
  std::abort();
}

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Accumulates the CPU time of the calls made for one side.
struct SideTimer {
  double seconds = 0;
  template <typename F>
  auto run(F&& f) {
    const double start = threadCpuSeconds();
    auto result = f();
    seconds += threadCpuSeconds() - start;
    return result;
  }
};

struct Fixture {
  std::shared_ptr<pki::SimClock> clock = std::make_shared<pki::SimClock>(kStart);
  std::unique_ptr<pki::MeshCa> ca;
  pki::Svid client_svid;
  pki::Svid server_svid;
  std::shared_ptr<const tls::IdentityTls> client;
  std::shared_ptr<const tls::IdentityTls> server;
  // The same certificates trusting the root alone: the intermediate is sent and verified.
  std::shared_ptr<const tls::IdentityTls> client_chained;
  std::shared_ptr<const tls::IdentityTls> server_chained;
  // PEM forms for the naive baseline.
  std::string client_chain_pem, client_key_pem, server_chain_pem, server_key_pem, root_pem;

  Fixture() {
    pki::CaOptions options;
    options.clock = clock;
    auto made = pki::MeshCa::create(options);
    if (!made.ok()) die(made.status().toString());
    ca = std::make_unique<pki::MeshCa>(std::move(made).value());
    client_svid = issue("productpage");
    server_svid = issue("reviews");
    client = identity(client_svid, ca->trustBundle());
    server = identity(server_svid, ca->trustBundle());
    client_chain_pem = client_svid.chainPem();
    server_chain_pem = server_svid.chainPem();
    client_key_pem = keyPem(client_svid);
    server_key_pem = keyPem(server_svid);
    root_pem = ca->trustBundle().pem();
    auto root_only = pki::TrustBundle::fromPem(root_pem);
    if (!root_only.ok()) die(root_only.status().toString());
    client_chained = identity(client_svid, *root_only);
    server_chained = identity(server_svid, *root_only);
  }

  pki::Svid issue(const std::string& sa) {
    auto svid = ca->issue(pki::SvidRequest{"", "default", sa, "east", pki::kDefaultSvidTtlSeconds});
    if (!svid.ok()) die(svid.status().toString());
    return std::move(svid).value();
  }
  std::shared_ptr<const tls::IdentityTls> identity(const pki::Svid& svid,
                                                   const pki::TrustBundle& trust) {
    auto made = tls::IdentityTls::create(svid, trust, clock);
    if (!made.ok()) die(made.status().toString());
    return std::move(made).value();
  }
  static std::string keyPem(const pki::Svid& svid) {
    auto pem = pki::privateKeyPem(svid);
    if (!pem.ok()) die(pem.status().toString());
    return *pem;
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void joinWithBioPair(SSL* client, SSL* server) {
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  if (BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) != 1) die("BIO_new_bio_pair");
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
}

// Runs the handshake to completion, then lets the client read the session ticket.
void handshake(SSL* client, SSL* server, SideTimer& client_time, SideTimer& server_time) {
  int c = 0;
  int s = 0;
  for (int round = 0; round < 16 && (c != 1 || s != 1); ++round) {
    if (c != 1) {
      c = client_time.run([&] { return SSL_do_handshake(client); });
      if (c != 1 && SSL_get_error(client, c) != SSL_ERROR_WANT_READ) die("client handshake");
    }
    if (s != 1) {
      s = server_time.run([&] { return SSL_do_handshake(server); });
      if (s != 1 && SSL_get_error(server, s) != SSL_ERROR_WANT_READ) die("server handshake");
    }
  }
  if (c != 1 || s != 1) die("handshake did not finish");
  char byte = 0;
  client_time.run([&] { return SSL_read(client, &byte, 1); });
  ERR_clear_error();
}

void report(benchmark::State& state, const SideTimer& client, const SideTimer& server) {
  state.counters["client_us"] =
      benchmark::Counter(client.seconds * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["server_us"] =
      benchmark::Counter(server.seconds * 1e6, benchmark::Counter::kAvgIterations);
}

enum class Expect { kFull, kResumed, kEither };

// One connection with the shared per-identity contexts. `session_key` empty: full handshake.
// `chained`: the identities that send their intermediate (BM_FullHandshakeLeafAndIntermediate).
void sharedContextConnection(const std::string& session_key, Expect expect, SideTimer& client_time,
                             SideTimer& server_time, bool chained = false) {
  Fixture& f = fixture();
  const tls::IdentityTls& client_id = chained ? *f.client_chained : *f.client;
  const tls::IdentityTls& server_id = chained ? *f.server_chained : *f.server;
  tls::SslPtr client(client_time.run([&] { return SSL_new(client_id.clientContext()); }));
  tls::SslPtr server(server_time.run([&] { return SSL_new(server_id.serverContext()); }));
  joinWithBioPair(client.get(), server.get());
  client_time.run([&] {
    tls::prepareClient(client.get(), client_id, kServerId, session_key);
    return 0;
  });
  server_time.run([&] {
    tls::prepareServer(server.get(), server_id);
    return 0;
  });
  handshake(client.get(), server.get(), client_time, server_time);
  auto server_peer = server_time.run([&] { return tls::verifiedPeer(server.get()); });
  auto client_peer = client_time.run([&] { return tls::verifiedPeer(client.get()); });
  if (!server_peer || !client_peer) die("peer not verified");
  if ((expect == Expect::kFull && server_peer->resumed) ||
      (expect == Expect::kResumed && !server_peer->resumed)) {
    die("unexpected resumption state");
  }
  // What the client sent after its leaf: the intermediate only when it is not a known one.
  STACK_OF(X509)* sent = SSL_get_peer_cert_chain(server.get());
  if (!server_peer->resumed && (sent != nullptr ? sk_X509_num(sent) : 0) != (chained ? 1 : 0)) {
    die("unexpected certificates on the wire");
  }
  client_time.run([&] {
    client.reset();
    return 0;
  });
  server_time.run([&] {
    server.reset();
    return 0;
  });
}

void BM_FullHandshakeSharedContexts(benchmark::State& state) {
  fixture();
  SideTimer client_time;
  SideTimer server_time;
  for (auto _ : state) sharedContextConnection("", Expect::kFull, client_time, server_time);
  report(state, client_time, server_time);
}
BENCHMARK(BM_FullHandshakeSharedContexts)->Unit(benchmark::kMicrosecond);

void BM_FullHandshakeLeafAndIntermediate(benchmark::State& state) {
  fixture();
  SideTimer client_time;
  SideTimer server_time;
  for (auto _ : state) sharedContextConnection("", Expect::kFull, client_time, server_time, true);
  report(state, client_time, server_time);
}
BENCHMARK(BM_FullHandshakeLeafAndIntermediate)->Unit(benchmark::kMicrosecond);

void BM_ResumedHandshakeSharedContexts(benchmark::State& state) {
  fixture();
  SideTimer warm_client;
  SideTimer warm_server;
  // A previous run of this benchmark may have left a session for the key already.
  sharedContextConnection("127.1.0.3:9080", Expect::kEither, warm_client, warm_server);
  SideTimer client_time;
  SideTimer server_time;
  for (auto _ : state)
    sharedContextConnection("127.1.0.3:9080", Expect::kResumed, client_time, server_time);
  report(state, client_time, server_time);
}
BENCHMARK(BM_ResumedHandshakeSharedContexts)->Unit(benchmark::kMicrosecond);

// ---- The naive baseline: everything per connection, from PEM --------------------------------

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

tls::detail::SslCtxPtr naiveContext(bool server, const std::string& chain_pem,
                                    const std::string& key_pem, const std::string& root_pem) {
  tls::detail::SslCtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_set1_groups_list(c, "X25519:P-256");
  BioPtr chain(BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())));
  X509* leaf = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr || SSL_CTX_use_certificate(c, leaf) != 1) die("naive leaf");
  X509_free(leaf);
  while (X509* intermediate = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(c, intermediate) != 1) die("naive chain");
  }
  ERR_clear_error();  // end of the PEM input
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr || SSL_CTX_use_PrivateKey(c, key) != 1) die("naive key");
  EVP_PKEY_free(key);
  BioPtr root_bio(BIO_new_mem_buf(root_pem.data(), static_cast<int>(root_pem.size())));
  X509* root = PEM_read_bio_X509(root_bio.get(), nullptr, nullptr, nullptr);
  if (root == nullptr || X509_STORE_add_cert(SSL_CTX_get_cert_store(c), root) != 1) {
    die("naive root");
  }
  X509_free(root);
  X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(c), static_cast<time_t>(fixture().clock->now()));
  SSL_CTX_set_verify(
      c, server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER, nullptr);
  return ctx;
}

void BM_BaselineNaivePerConnectionContexts(benchmark::State& state) {
  Fixture& f = fixture();
  SideTimer client_time;
  SideTimer server_time;
  for (auto _ : state) {
    auto client_ctx = client_time.run(
        [&] { return naiveContext(false, f.client_chain_pem, f.client_key_pem, f.root_pem); });
    auto server_ctx = server_time.run(
        [&] { return naiveContext(true, f.server_chain_pem, f.server_key_pem, f.root_pem); });
    tls::SslPtr client(client_time.run([&] { return SSL_new(client_ctx.get()); }));
    tls::SslPtr server(server_time.run([&] { return SSL_new(server_ctx.get()); }));
    joinWithBioPair(client.get(), server.get());
    handshake(client.get(), server.get(), client_time, server_time);
    if (SSL_get_verify_result(client.get()) != X509_V_OK ||
        SSL_get_verify_result(server.get()) != X509_V_OK) {
      die("naive verification failed");
    }
    client_time.run([&] {
      client.reset();
      client_ctx.reset();
      return 0;
    });
    server_time.run([&] {
      server.reset();
      server_ctx.reset();
      return 0;
    });
  }
  report(state, client_time, server_time);
}
BENCHMARK(BM_BaselineNaivePerConnectionContexts)->Unit(benchmark::kMicrosecond);

// ---- Memory of an idle connection ----------------------------------------------------------

// Bytes the program holds on the heap, from whichever allocator it runs with.
size_t heapInUse() {
#ifdef MESHSIM_TCMALLOC
  size_t bytes = 0;
  MallocExtension_GetNumericProperty("generic.current_allocated_bytes", &bytes);
  return bytes;
#else
  return mallinfo2().uordblks;
#endif
}

void BM_IdleConnectionMemory(benchmark::State& state) {
  Fixture& f = fixture();
  const bool release = state.range(0) != 0;
  constexpr int kConnections = 128;
  double ssl_bytes = 0;
  double cache_bytes = 0;
  for (auto _ : state) {
    // The BIO pairs' own buffers, to subtract.
    const size_t before_bio = heapInUse();
    {
      std::vector<BIO*> bios;
      for (int i = 0; i < kConnections; ++i) {
        BIO* a = nullptr;
        BIO* b = nullptr;
        BIO_new_bio_pair(&a, 0, &b, 0);
        bios.push_back(a);
        bios.push_back(b);
      }
      const size_t with_bio = heapInUse();
      for (BIO* bio : bios) BIO_free(bio);
      ssl_bytes -= static_cast<double>(with_bio - before_bio);
    }
    const size_t before = heapInUse();
    std::vector<tls::SslPtr> ssls;
    SideTimer ignored;
    for (int i = 0; i < kConnections; ++i) {
      tls::SslPtr client(SSL_new(f.client->clientContext()));
      tls::SslPtr server(SSL_new(f.server->serverContext()));
      if (!release) {
        SSL_clear_mode(client.get(), SSL_MODE_RELEASE_BUFFERS);
        SSL_clear_mode(server.get(), SSL_MODE_RELEASE_BUFFERS);
      }
      joinWithBioPair(client.get(), server.get());
      tls::prepareClient(client.get(), *f.client, kServerId, "");
      tls::prepareServer(server.get(), *f.server);
      handshake(client.get(), server.get(), ignored, ignored);
      std::string request(1024, 'q');
      std::string buffer(2048, '\0');
      if (SSL_write(client.get(), request.data(), 1024) != 1024) die("write request");
      if (SSL_read(server.get(), buffer.data(), 2048) != 1024) die("read request");
      if (SSL_write(server.get(), request.data(), 1024) != 1024) die("write response");
      if (SSL_read(client.get(), buffer.data(), 2048) != 1024) die("read response");
      ssls.push_back(std::move(client));
      ssls.push_back(std::move(server));
    }
    const size_t open = heapInUse();
    ssls.clear();
    const size_t closed = heapInUse();
    ssl_bytes += static_cast<double>(open - closed);
    cache_bytes += static_cast<double>(closed) - static_cast<double>(before);
  }
  const double per_iteration = static_cast<double>(state.iterations());
  state.counters["bytes_per_idle_ssl"] = ssl_bytes / per_iteration / (2.0 * kConnections);
  state.counters["cache_bytes_per_handshake"] = cache_bytes / per_iteration / kConnections;
}
BENCHMARK(BM_IdleConnectionMemory)->Arg(0)->Arg(1)->Iterations(4)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
