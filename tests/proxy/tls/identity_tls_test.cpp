// The data plane's TLS identity layer: mutual TLS between workload identities issued by a real
// mesh CA, checked at a simulated time. Most handshakes run over in-memory BIO pairs (fast and
// deterministic); the rest run over loopback TCP with the proxy's own TlsStream, the way the
// sidecars use these contexts. Expected reasons come from istio-semantics.md sections 1-2 and OpenSSL's
// verification messages quoted in meshsim/pki/trust.h.
#include "tls/identity_tls.h"

#include "tls/tls_stream.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "meshsim/pki/ca.h"
#include "meshsim/pki/clock.h"
#include "meshsim/pki/svid.h"
#include "meshsim/pki/trust.h"
#include "pki/material.h"

namespace meshsim::proxy::tls {
namespace {

constexpr int64_t kStart = 1700000000;  // 2023-11-14T22:13:20Z
constexpr int64_t kHour = 3600;

const char* const kProductpage = "spiffe://cluster.local/ns/default/sa/productpage";
const char* const kReviews = "spiffe://cluster.local/ns/default/sa/reviews";
const char* const kRatings = "spiffe://cluster.local/ns/default/sa/ratings";

// One mesh: a clock, a CA with its trust bundle.
struct Mesh {
  std::shared_ptr<pki::SimClock> clock;
  std::unique_ptr<pki::MeshCa> ca;

  explicit Mesh(std::shared_ptr<pki::SimClock> shared_clock,
                std::string trust_domain = "cluster.local")
      : clock(std::move(shared_clock)) {
    pki::CaOptions options;
    options.trust_domain = std::move(trust_domain);
    options.clock = clock;
    auto made = pki::MeshCa::create(options);
    EXPECT_TRUE(made.ok()) << made.status().toString();
    ca = std::make_unique<pki::MeshCa>(std::move(made).value());
  }
  Mesh() : Mesh(std::make_shared<pki::SimClock>(kStart)) {}

  pki::Svid issue(const std::string& sa, int64_t ttl = pki::kDefaultSvidTtlSeconds) {
    auto svid = ca->issue(pki::SvidRequest{"", "default", sa, "east", ttl});
    EXPECT_TRUE(svid.ok()) << svid.status().toString();
    return std::move(svid).value();
  }
  std::shared_ptr<const IdentityTls> identity(const pki::Svid& svid) {
    auto made = IdentityTls::create(svid, ca->trustBundle(), clock);
    EXPECT_TRUE(made.ok()) << made.status().toString();
    return std::move(made).value();
  }
  std::shared_ptr<const IdentityTls> identity(const std::string& sa,
                                              int64_t ttl = pki::kDefaultSvidTtlSeconds) {
    return identity(issue(sa, ttl));
  }
  std::shared_ptr<const IdentityTls> anonymous() {
    auto made = IdentityTls::anonymousClient(ca->trustBundle(), clock);
    EXPECT_TRUE(made.ok()) << made.status().toString();
    return std::move(made).value();
  }
};

// What each side of one in-memory handshake ended with.
struct Outcome {
  bool client_ok = false;  // handshake done and no alert from the server afterwards
  bool server_ok = false;
  bool client_resumed = false;
  bool server_resumed = false;
  std::optional<PeerInfo> client_peer;  // taken right after the client's handshake completed
  std::optional<PeerInfo> server_peer;
  std::string client_reason;
  std::string server_reason;
};

// A client and a server SSL joined by a BIO pair.
class MemoryConnection {
 public:
  MemoryConnection(const IdentityTls& client, const IdentityTls& server,
                   std::string_view expected_spiffe_id, std::string_view session_key)
      : client_(SSL_new(client.clientContext())), server_(SSL_new(server.serverContext())) {
    BIO* client_bio = nullptr;
    BIO* server_bio = nullptr;
    EXPECT_EQ(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0), 1);
    SSL_set_bio(client_.get(), client_bio, client_bio);
    SSL_set_bio(server_.get(), server_bio, server_bio);
    SSL_set_connect_state(client_.get());
    SSL_set_accept_state(server_.get());
    prepareClient(client_.get(), client, expected_spiffe_id, session_key);
    prepareServer(server_.get(), server);
  }

  SSL* client() const { return client_.get(); }
  SSL* server() const { return server_.get(); }

  // `after_first_server_step` runs once the server has read the ClientHello (and looked up the
  // offered session) and answered it.
  Outcome run(const std::function<void()>& after_first_server_step = {}) {
    Outcome out;
    int c = 0;
    int s = 0;
    bool c_failed = false;
    bool s_failed = false;
    for (int round = 0; round < 16; ++round) {
      if (c != 1 && !c_failed) {
        c = SSL_do_handshake(client_.get());
        if (c != 1 && SSL_get_error(client_.get(), c) != SSL_ERROR_WANT_READ) c_failed = true;
        if (c == 1) out.client_peer = verifiedPeer(client_.get());
      }
      if (s != 1 && !s_failed) {
        s = SSL_do_handshake(server_.get());
        if (s != 1 && SSL_get_error(server_.get(), s) != SSL_ERROR_WANT_READ) s_failed = true;
        if (round == 0 && after_first_server_step) after_first_server_step();
      }
      if ((c == 1 || c_failed) && (s == 1 || s_failed)) break;
    }
    // A TLS 1.3 client finishes before the server has checked its certificate: its first read
    // processes the server's session ticket, or the alert that refused it.
    if (c == 1) {
      char byte = 0;
      const int r = SSL_read(client_.get(), &byte, 1);
      if (r <= 0 && SSL_get_error(client_.get(), r) != SSL_ERROR_WANT_READ) c_failed = true;
    }
    out.client_ok = c == 1 && !c_failed;
    out.server_ok = s == 1 && !s_failed;
    out.client_resumed = SSL_session_reused(client_.get()) == 1;
    out.server_resumed = SSL_session_reused(server_.get()) == 1;
    if (out.server_ok) out.server_peer = verifiedPeer(server_.get());
    out.client_reason = failureReason(client_.get());
    out.server_reason = failureReason(server_.get());
    ERR_clear_error();
    return out;
  }

 private:
  SslPtr client_;
  SslPtr server_;
};

Outcome connect(const IdentityTls& client, const IdentityTls& server,
                std::string_view expected_spiffe_id = "", std::string_view session_key = "") {
  MemoryConnection connection(client, server, expected_spiffe_id, session_key);
  return connection.run();
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

TEST(IdentityTls, MutualTlsBothSidesSeeEachOthersSpiffeId) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews");
  Outcome out = connect(*productpage, *reviews, kReviews, "127.1.0.3:9080");
  ASSERT_TRUE(out.client_ok) << out.client_reason;
  ASSERT_TRUE(out.server_ok) << out.server_reason;
  ASSERT_TRUE(out.client_peer.has_value());
  ASSERT_TRUE(out.server_peer.has_value());
  EXPECT_EQ(out.client_peer->spiffe_id, kReviews);
  EXPECT_EQ(out.server_peer->spiffe_id, kProductpage);
  ASSERT_TRUE(out.server_peer->identity.has_value());
  EXPECT_EQ(out.server_peer->identity->principal, "cluster.local/ns/default/sa/productpage");
  EXPECT_EQ(out.server_peer->identity->namespace_, "default");
  EXPECT_EQ(out.server_peer->identity->service_account, "productpage");
  EXPECT_EQ(out.server_peer->not_after, kStart + pki::kDefaultSvidTtlSeconds);
  EXPECT_FALSE(out.client_peer->resumed);
  EXPECT_FALSE(out.server_peer->resumed);
  EXPECT_EQ(out.client_reason, "");
  EXPECT_EQ(out.server_reason, "");
}

TEST(IdentityTls, EmptyExpectedIdAcceptsAnyMeshIdentity) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto ratings = mesh.identity("ratings");
  Outcome out = connect(*productpage, *ratings);
  ASSERT_TRUE(out.client_ok) << out.client_reason;
  ASSERT_TRUE(out.server_ok) << out.server_reason;
  EXPECT_EQ(out.client_peer->spiffe_id, kRatings);
}

TEST(IdentityTls, ContextsAreTls13OnlyWithStatefulServerCache) {
  Mesh mesh;
  pki::Svid svid = mesh.issue("reviews");
  auto reviews = mesh.identity(svid);
  for (SSL_CTX* ctx : {reviews->serverContext(), reviews->clientContext()}) {
    ASSERT_NE(ctx, nullptr);
    EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
    EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
    EXPECT_NE(SSL_CTX_get_mode(ctx) & SSL_MODE_RELEASE_BUFFERS, 0U);
  }
  SSL_CTX* server = reviews->serverContext();
  EXPECT_EQ(SSL_CTX_get_verify_mode(server), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  EXPECT_NE(SSL_CTX_get_options(server) & SSL_OP_NO_TICKET, 0U);
  EXPECT_EQ(SSL_CTX_get_session_cache_mode(server),
            SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
  EXPECT_EQ(SSL_CTX_get_verify_mode(reviews->clientContext()), SSL_VERIFY_PEER);
  // The SVID's own parsed leaf is what the contexts present: no re-decoding.
  EXPECT_EQ(SSL_CTX_get0_certificate(server), svid.material->leaf.get());
  EXPECT_EQ(SSL_CTX_get0_certificate(reviews->clientContext()), svid.material->leaf.get());
  EXPECT_EQ(reviews->spiffeId(), kReviews);
  EXPECT_EQ(reviews->notAfter(), kStart + pki::kDefaultSvidTtlSeconds);

  auto anonymous = mesh.anonymous();
  EXPECT_EQ(anonymous->serverContext(), nullptr);
  ASSERT_NE(anonymous->clientContext(), nullptr);
  EXPECT_EQ(SSL_CTX_get0_certificate(anonymous->clientContext()), nullptr);
  EXPECT_EQ(anonymous->spiffeId(), "");
  EXPECT_EQ(anonymous->notAfter(), 0);
}

TEST(IdentityTls, CreateRejectsMissingMaterialOrClock) {
  Mesh mesh;
  pki::Svid no_material = mesh.issue("reviews");
  no_material.material.reset();
  auto made = IdentityTls::create(no_material, mesh.ca->trustBundle(), mesh.clock);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);

  auto no_clock = IdentityTls::create(mesh.issue("reviews"), mesh.ca->trustBundle(), nullptr);
  ASSERT_FALSE(no_clock.ok());
  EXPECT_EQ(no_clock.status().code(), StatusCode::kInvalidArgument);

  auto anonymous_no_clock = IdentityTls::anonymousClient(mesh.ca->trustBundle(), nullptr);
  ASSERT_FALSE(anonymous_no_clock.ok());
  EXPECT_EQ(anonymous_no_clock.status().code(), StatusCode::kInvalidArgument);
}

TEST(IdentityTls, CreateRejectsKeyThatDoesNotMatchTheCertificate) {
  Mesh mesh;
  pki::Svid reviews = mesh.issue("reviews");
  pki::Svid ratings = mesh.issue("ratings");
  auto mixed = std::make_shared<pki::SvidMaterial>();
  mixed->leaf = pki::ossl::share(reviews.material->leaf.get());
  mixed->key = pki::ossl::share(ratings.material->key.get());
  mixed->spiffe_id = reviews.spiffe_id;
  pki::Svid broken = reviews;
  broken.material = mixed;
  auto made = IdentityTls::create(broken, mesh.ca->trustBundle(), mesh.clock);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInternal);
  ERR_clear_error();
}

TEST(IdentityTls, NothingToReportBeforeAHandshake) {
  Mesh mesh;
  auto reviews = mesh.identity("reviews");
  SslPtr ssl(SSL_new(reviews->serverContext()));
  prepareServer(ssl.get(), *reviews);
  EXPECT_FALSE(verifiedPeer(ssl.get()).has_value());
  EXPECT_EQ(failureReason(ssl.get()), "");
  EXPECT_FALSE(verifiedPeer(nullptr).has_value());
  EXPECT_EQ(failureReason(nullptr), "");
}

TEST(IdentityTls, ClientWithoutCertificateRefusedByServer) {
  Mesh mesh;
  auto anonymous = mesh.anonymous();
  auto reviews = mesh.identity("reviews");
  Outcome out = connect(*anonymous, *reviews, kReviews);
  EXPECT_FALSE(out.server_ok);
  EXPECT_FALSE(out.client_ok);
  EXPECT_EQ(out.server_reason, "peer did not return a certificate");
  EXPECT_EQ(out.client_reason, "peer sent alert: certificate required");
}

TEST(IdentityTls, AnonymousClientVerifiesServerThenIsRefused) {
  // DestinationRule tls SIMPLE towards a STRICT sidecar: the client checks the server (secure
  // naming included) and the server then refuses the connection for lack of a certificate.
  Mesh mesh;
  auto anonymous = mesh.anonymous();
  auto reviews = mesh.identity("reviews");
  Outcome out = connect(*anonymous, *reviews, kReviews);
  ASSERT_TRUE(out.client_peer.has_value());
  EXPECT_EQ(out.client_peer->spiffe_id, kReviews);
  EXPECT_FALSE(out.client_ok);
  EXPECT_FALSE(out.server_ok);
  EXPECT_FALSE(out.server_peer.has_value());

  // The same anonymous client still applies secure naming.
  Outcome wrong = connect(*anonymous, *reviews, kRatings);
  EXPECT_FALSE(wrong.client_ok);
  EXPECT_EQ(wrong.client_reason,
            std::string("secure naming: expected ") + kRatings + " got " + kReviews);
}

TEST(IdentityTls, ForgedSelfSignedClientRefused) {
  Mesh mesh;
  auto forged_svid = pki::forgeSelfSigned(kProductpage, *mesh.clock);
  ASSERT_TRUE(forged_svid.ok()) << forged_svid.status().toString();
  auto forged = IdentityTls::create(*forged_svid, mesh.ca->trustBundle(), mesh.clock);
  ASSERT_TRUE(forged.ok()) << forged.status().toString();
  auto reviews = mesh.identity("reviews");
  Outcome out = connect(**forged, *reviews, kReviews);
  EXPECT_FALSE(out.server_ok);
  EXPECT_FALSE(out.client_ok);
  EXPECT_TRUE(contains(out.server_reason, "peer certificate: "));
  EXPECT_TRUE(contains(out.server_reason, "self-signed certificate"));
  EXPECT_EQ(out.client_reason, "peer sent alert: unknown CA");
}

TEST(IdentityTls, ForgedSelfSignedServerRefusedByClient) {
  Mesh mesh;
  auto forged_svid = pki::forgeSelfSigned(kReviews, *mesh.clock);
  ASSERT_TRUE(forged_svid.ok());
  auto forged = IdentityTls::create(*forged_svid, mesh.ca->trustBundle(), mesh.clock);
  ASSERT_TRUE(forged.ok());
  auto productpage = mesh.identity("productpage");
  Outcome out = connect(*productpage, **forged, kReviews);
  EXPECT_FALSE(out.client_ok);
  EXPECT_FALSE(out.server_ok);
  EXPECT_TRUE(contains(out.client_reason, "self-signed certificate"));
  EXPECT_EQ(out.server_reason, "peer sent alert: unknown CA");
}

TEST(IdentityTls, ExpiredClientCertificateRefused) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage", kHour);
  auto reviews = mesh.identity("reviews");
  ASSERT_TRUE(mesh.clock->advance(kHour + 1).ok());
  Outcome out = connect(*productpage, *reviews, kReviews);
  EXPECT_FALSE(out.server_ok);
  EXPECT_FALSE(out.client_ok);
  EXPECT_TRUE(contains(out.server_reason, "peer certificate: "));
  EXPECT_TRUE(contains(out.server_reason, "certificate has expired"));
  EXPECT_EQ(out.client_reason, "peer sent alert: certificate expired");
}

TEST(IdentityTls, ExpiredServerCertificateRefusedByClient) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews", kHour);
  ASSERT_TRUE(mesh.clock->advance(kHour + 1).ok());
  Outcome out = connect(*productpage, *reviews, kReviews);
  EXPECT_FALSE(out.client_ok);
  EXPECT_FALSE(out.server_ok);
  EXPECT_TRUE(contains(out.client_reason, "certificate has expired"));
  EXPECT_EQ(out.server_reason, "peer sent alert: certificate expired");
}

TEST(IdentityTls, SecureNamingRefusesServerPresentingAnotherIdentity) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto ratings = mesh.identity("ratings");
  Outcome out = connect(*productpage, *ratings, kReviews, "127.1.0.3:9080");
  EXPECT_FALSE(out.client_ok);
  EXPECT_FALSE(out.server_ok);
  EXPECT_EQ(out.client_reason,
            std::string("secure naming: expected ") + kReviews + " got " + kRatings);
  EXPECT_FALSE(out.client_peer.has_value());
  EXPECT_EQ(productpage->cachedClientSessions(), 0U);
}

TEST(IdentityTls, OtherMeshTrustBundleRefused) {
  auto clock = std::make_shared<pki::SimClock>(kStart);
  Mesh ours(clock);
  Mesh theirs(clock);  // another root for the same trust domain
  auto outsider = theirs.identity("productpage");
  auto reviews = ours.identity("reviews");
  Outcome out = connect(*outsider, *reviews, kReviews);
  EXPECT_FALSE(out.client_ok);
  EXPECT_FALSE(out.server_ok);
  // The client checks the server first: the server's chain does not lead to its root.
  EXPECT_TRUE(contains(out.client_reason, "unable to get local issuer certificate"));
  EXPECT_EQ(out.server_reason, "peer sent alert: unknown CA");

  // And a server of the other mesh refuses our client the same way.
  auto their_server = theirs.identity("reviews");
  auto productpage = ours.identity("productpage");
  Outcome back = connect(*productpage, *their_server, kReviews);
  EXPECT_FALSE(back.client_ok);
  EXPECT_TRUE(contains(back.client_reason, "unable to get local issuer certificate"));
}

// Certificates the peer put on the wire, leaf first (OpenSSL's client view includes the leaf;
// the server's view of the client chain does not).
int presentedChain(SSL* ssl, bool server_side) {
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  const int n = chain != nullptr ? sk_X509_num(chain) : 0;
  return server_side ? n + 1 : n;
}

TEST(IdentityTls, MeshIdentitiesPresentTheirLeafAloneAndStillVerifyToTheRoot) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews");
  MemoryConnection connection(*productpage, *reviews, kReviews, "");
  Outcome out = connection.run();
  ASSERT_TRUE(out.client_ok) << out.client_reason;
  ASSERT_TRUE(out.server_ok) << out.server_reason;
  // The mesh CA registered its intermediate with the bundle: both sides send one certificate.
  EXPECT_EQ(presentedChain(connection.client(), false), 1);
  EXPECT_EQ(presentedChain(connection.server(), true), 1);
  EXPECT_EQ(out.server_peer->spiffe_id, kProductpage);
}

TEST(IdentityTls, IdentityOfAnotherCaPresentsItsWholeChain) {
  auto clock = std::make_shared<pki::SimClock>(kStart);
  Mesh ours(clock);
  Mesh theirs(clock);
  // Their SVID, trusted through a federated bundle that was merged before their intermediate
  // existed: our anchors do not know it, so it must travel with the leaf.
  pki::TrustBundle federated = ours.ca->trustBundle().merged(theirs.ca->trustBundle());
  auto visitor = IdentityTls::create(theirs.issue("productpage"), federated, clock);
  ASSERT_TRUE(visitor.ok()) << visitor.status().toString();
  auto reviews_made = IdentityTls::create(ours.issue("reviews"), federated, clock);
  ASSERT_TRUE(reviews_made.ok()) << reviews_made.status().toString();
  MemoryConnection connection(**visitor, **reviews_made, kReviews, "");
  Outcome out = connection.run();
  ASSERT_TRUE(out.client_ok) << out.client_reason;
  ASSERT_TRUE(out.server_ok) << out.server_reason;
  EXPECT_EQ(presentedChain(connection.server(), true), 2);  // leaf + their intermediate
  EXPECT_EQ(out.server_peer->spiffe_id, kProductpage);
}

TEST(IdentityTls, SecondConnectionResumesAndKeepsPeerIdentity) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews");
  Outcome first = connect(*productpage, *reviews, kReviews, "127.1.0.3:9080");
  ASSERT_TRUE(first.client_ok && first.server_ok) << first.client_reason << first.server_reason;
  EXPECT_FALSE(first.server_resumed);
  EXPECT_EQ(productpage->cachedClientSessions(), 1U);
  EXPECT_EQ(reviews->cachedServerSessions(), 1U);

  for (int i = 0; i < 3; ++i) {
    Outcome again = connect(*productpage, *reviews, kReviews, "127.1.0.3:9080");
    ASSERT_TRUE(again.client_ok && again.server_ok) << again.client_reason << again.server_reason;
    EXPECT_TRUE(again.client_resumed);
    EXPECT_TRUE(again.server_resumed);
    ASSERT_TRUE(again.server_peer.has_value());
    ASSERT_TRUE(again.client_peer.has_value());
    EXPECT_TRUE(again.server_peer->resumed);
    EXPECT_TRUE(again.client_peer->resumed);
    EXPECT_EQ(again.server_peer->spiffe_id, kProductpage);
    ASSERT_TRUE(again.server_peer->identity.has_value());
    EXPECT_EQ(again.server_peer->identity->service_account, "productpage");
    EXPECT_EQ(again.client_peer->spiffe_id, kReviews);
    EXPECT_EQ(again.server_peer->not_after, kStart + pki::kDefaultSvidTtlSeconds);
  }
  // Single use: each resumption consumed one session and left its own new ticket. (Every SSL
  // here is freed without a close_notify, which does not spoil the cached copies.)
  EXPECT_EQ(productpage->cachedClientSessions(), 1U);
  EXPECT_EQ(reviews->cachedServerSessions(), 1U);

  // Another upstream key has no session to resume.
  Outcome other = connect(*productpage, *reviews, kReviews, "127.1.0.4:9080");
  EXPECT_TRUE(other.server_ok);
  EXPECT_FALSE(other.server_resumed);
  EXPECT_EQ(productpage->cachedClientSessions(), 2U);
}

TEST(IdentityTls, NoSessionKeyMeansNoResumption) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews");
  ASSERT_TRUE(connect(*productpage, *reviews, kReviews).server_ok);
  EXPECT_EQ(productpage->cachedClientSessions(), 0U);
  Outcome again = connect(*productpage, *reviews, kReviews);
  EXPECT_TRUE(again.server_ok);
  EXPECT_FALSE(again.server_resumed);
}

TEST(IdentityTls, CachedSessionNotOfferedForAnotherExpectedIdentity) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews");
  ASSERT_TRUE(connect(*productpage, *reviews, kReviews, "127.1.0.3:9080").server_ok);
  ASSERT_EQ(productpage->cachedClientSessions(), 1U);
  // The same address is now expected to serve ratings: the session must not vouch for it.
  Outcome out = connect(*productpage, *reviews, kRatings, "127.1.0.3:9080");
  EXPECT_FALSE(out.client_resumed);
  EXPECT_FALSE(out.client_ok);
  EXPECT_EQ(out.client_reason,
            std::string("secure naming: expected ") + kRatings + " got " + kReviews);
}

TEST(IdentityTls, SessionOfExpiredClientCertificateIsNotResumed) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage", kHour);
  auto reviews = mesh.identity("reviews");
  ASSERT_TRUE(connect(*productpage, *reviews, kReviews, "k").server_ok);
  Outcome resumed = connect(*productpage, *reviews, kReviews, "k");
  ASSERT_TRUE(resumed.server_resumed);
  ASSERT_TRUE(resumed.server_peer.has_value());

  ASSERT_TRUE(mesh.clock->advance(kHour + 1).ok());
  // The client still trusts the server and offers its session; the server will not resume it
  // and the full handshake's verification refuses the expired client certificate.
  Outcome late = connect(*productpage, *reviews, kReviews, "k");
  EXPECT_FALSE(late.server_resumed);
  EXPECT_FALSE(late.server_ok);
  EXPECT_FALSE(late.client_ok);
  EXPECT_TRUE(contains(late.server_reason, "peer certificate: "));
  EXPECT_TRUE(contains(late.server_reason, "certificate has expired"));
  EXPECT_EQ(reviews->cachedServerSessions(), 0U);
}

TEST(IdentityTls, ResumedSessionRefusedOnceClientCertificateExpiredMeanwhile) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage", kHour);
  auto reviews = mesh.identity("reviews");
  ASSERT_TRUE(connect(*productpage, *reviews, kReviews, "k").server_ok);
  MemoryConnection connection(*productpage, *reviews, kReviews, "k");
  // The server accepts the resumption, then the simulated time passes the client's notAfter
  // before the handshake completes: no certificate is verified again, verifiedPeer refuses.
  Outcome out = connection.run([&] { ASSERT_TRUE(mesh.clock->advance(kHour + 1).ok()); });
  EXPECT_TRUE(out.server_resumed);
  EXPECT_TRUE(out.server_ok);  // the TLS layer completed
  EXPECT_FALSE(verifiedPeer(connection.server()).has_value());
  EXPECT_FALSE(out.server_peer.has_value());
  EXPECT_TRUE(contains(out.server_reason, "peer certificate: certificate has expired"));
  EXPECT_TRUE(contains(out.server_reason, "resumed session of " + std::string(kProductpage)));
  // The ticket of the refused connection was not cached.
  EXPECT_EQ(reviews->cachedServerSessions(), 0U);
}

TEST(IdentityTls, ClientDropsSessionOnceServerCertificateExpired) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews", kHour);
  ASSERT_TRUE(connect(*productpage, *reviews, kReviews, "k").server_ok);
  ASSERT_EQ(productpage->cachedClientSessions(), 1U);
  ASSERT_TRUE(mesh.clock->advance(kHour).ok());  // notAfter reached: expired
  Outcome out = connect(*productpage, *reviews, kReviews, "k");
  EXPECT_FALSE(out.client_resumed);
  EXPECT_FALSE(out.client_ok);
  EXPECT_TRUE(contains(out.client_reason, "certificate has expired"));
  EXPECT_EQ(productpage->cachedClientSessions(), 0U);
}

TEST(IdentityTls, ClientRefusesResumedServerWhoseCertificateExpiredMeanwhile) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews", kHour);
  ASSERT_TRUE(connect(*productpage, *reviews, kReviews, "k").server_ok);
  MemoryConnection connection(*productpage, *reviews, kReviews, "k");  // session offered
  ASSERT_TRUE(mesh.clock->advance(kHour + 1).ok());
  Outcome out = connection.run();
  EXPECT_TRUE(out.client_resumed);
  EXPECT_FALSE(out.client_peer.has_value());
  EXPECT_TRUE(contains(out.client_reason, "peer certificate: certificate has expired"));
  EXPECT_EQ(productpage->cachedClientSessions(), 0U);
}

TEST(IdentityTls, RotatedIdentityInteroperatesWithOldOneUntilItExpires) {
  Mesh mesh;
  pki::Svid old_reviews = mesh.issue("reviews", 2 * kHour);
  pki::Svid old_productpage = mesh.issue("productpage", 2 * kHour);
  auto reviews_v1 = mesh.identity(old_reviews);
  auto productpage_v1 = mesh.identity(old_productpage);
  ASSERT_TRUE(mesh.clock->advance(kHour).ok());  // rotation due at 50% of the lifetime
  auto reviews_v2 = mesh.identity(mesh.issue("reviews", 2 * kHour));
  auto productpage_v2 = mesh.identity(mesh.issue("productpage", 2 * kHour));
  EXPECT_EQ(reviews_v2->notAfter(), kStart + 3 * kHour);

  Outcome old_to_new = connect(*productpage_v1, *reviews_v2, kReviews);
  EXPECT_TRUE(old_to_new.client_ok && old_to_new.server_ok) << old_to_new.server_reason;
  EXPECT_EQ(old_to_new.server_peer->not_after, kStart + 2 * kHour);
  Outcome new_to_old = connect(*productpage_v2, *reviews_v1, kReviews);
  EXPECT_TRUE(new_to_old.client_ok && new_to_old.server_ok) << new_to_old.client_reason;
  EXPECT_EQ(new_to_old.client_peer->not_after, kStart + 2 * kHour);

  ASSERT_TRUE(mesh.clock->advance(kHour + 1).ok());  // the old SVIDs have expired
  Outcome stale_server = connect(*productpage_v2, *reviews_v1, kReviews);
  EXPECT_FALSE(stale_server.client_ok);
  EXPECT_TRUE(contains(stale_server.client_reason, "certificate has expired"));
  Outcome stale_client = connect(*productpage_v1, *reviews_v2, kReviews);
  EXPECT_FALSE(stale_client.server_ok);
  EXPECT_TRUE(contains(stale_client.server_reason, "certificate has expired"));
  Outcome fresh = connect(*productpage_v2, *reviews_v2, kReviews);
  EXPECT_TRUE(fresh.client_ok && fresh.server_ok) << fresh.client_reason << fresh.server_reason;
}

TEST(IdentityTls, ContextsOutliveTheirIdentityTls) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews");
  SSL_CTX* server_ctx = reviews->serverContext();
  ASSERT_EQ(SSL_CTX_up_ref(server_ctx), 1);
  detail::SslCtxPtr kept(server_ctx);
  SslPtr server(SSL_new(server_ctx));
  reviews.reset();  // the callbacks' state lives on in the context
  SslPtr client(SSL_new(productpage->clientContext()));
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  ASSERT_EQ(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0), 1);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  prepareClient(client.get(), *productpage, kReviews, "");
  int c = 0;
  int s = 0;
  for (int round = 0; round < 16 && (c != 1 || s != 1); ++round) {
    if (c != 1) c = SSL_do_handshake(client.get());
    if (s != 1) s = SSL_do_handshake(server.get());
  }
  ASSERT_EQ(s, 1);
  auto peer = verifiedPeer(server.get());
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->spiffe_id, kProductpage);
}

// ---- Loopback TCP with the proxy's TlsStream ---------------------------------------------

namespace asio = boost::asio;
using asio::ip::tcp;
using Stream = TlsStream<tcp::socket>;

struct TcpOutcome {
  bool server_done = false;
  bool client_done = false;
  boost::system::error_code server_ec;
  boost::system::error_code client_ec;
  std::optional<PeerInfo> server_peer;
  std::optional<PeerInfo> client_peer;
  std::string server_reason;
  std::string client_reason;
};

// Accepts one connection on 127.0.0.1 (port 0) and handshakes both ends; the client then reads
// once so that a refusal by the server reaches it. Bounded by a 10 s deadline of io_context
// run time; no sleeps.
TcpOutcome tcpHandshake(const IdentityTls& client_identity, const IdentityTls& server_identity,
                        std::string_view expected_spiffe_id) {
  TcpOutcome out;
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Stream server(tcp::socket(io), SSL_new(server_identity.serverContext()));
  Stream client(tcp::socket(io), SSL_new(client_identity.clientContext()));
  prepareServer(server.native_handle(), server_identity);
  const std::string key = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  prepareClient(client.native_handle(), client_identity, expected_spiffe_id, key);
  char byte = 0;

  acceptor.async_accept(server.next_layer(), [&](boost::system::error_code ec) {
    if (ec) {
      out.server_ec = ec;
      out.server_done = true;
      return;
    }
    server.async_handshake(Stream::Role::kServer, [&](boost::system::error_code hs) {
      out.server_ec = hs;
      out.server_done = true;
      out.server_reason = failureReason(server.native_handle());
      if (!hs) out.server_peer = verifiedPeer(server.native_handle());
      boost::system::error_code ignored;
      // Closing ends the client's read whether the server accepted or refused it.
      server.next_layer().close(ignored);
    });
  });
  client.next_layer().async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
    if (ec) {
      out.client_ec = ec;
      out.client_done = true;
      return;
    }
    client.async_handshake(Stream::Role::kClient, [&](boost::system::error_code hs) {
      if (hs) {
        out.client_ec = hs;
        out.client_done = true;
        out.client_reason = failureReason(client.native_handle());
        return;
      }
      out.client_peer = verifiedPeer(client.native_handle());
      client.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code rd, size_t) {
        out.client_ec = rd;
        out.client_done = true;
        out.client_reason = failureReason(client.native_handle());
      });
    });
  });
  io.run_for(std::chrono::seconds(10));
  return out;
}

// The packed OpenSSL reason of an error the stream reported (0 when not an OpenSSL error).
int sslReason(const boost::system::error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return 0;
  return ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
}

TEST(IdentityTlsStream, MutualTlsOverLoopbackTcp) {
  Mesh mesh;
  auto productpage = mesh.identity("productpage");
  auto reviews = mesh.identity("reviews");
  TcpOutcome out = tcpHandshake(*productpage, *reviews, kReviews);
  ASSERT_TRUE(out.server_done);
  ASSERT_TRUE(out.client_done);
  EXPECT_FALSE(out.server_ec) << out.server_ec.message() << " / " << out.server_reason;
  ASSERT_TRUE(out.server_peer.has_value());
  ASSERT_TRUE(out.client_peer.has_value());
  EXPECT_EQ(out.server_peer->spiffe_id, kProductpage);
  EXPECT_EQ(out.client_peer->spiffe_id, kReviews);
  // The server closed after its handshake without a close_notify: the client's read ends with
  // a truncated stream (the session ticket was processed on the way, so a resumable session is
  // stored).
  EXPECT_EQ(out.client_ec, asio::ssl::error::stream_truncated) << out.client_ec.message();
  EXPECT_EQ(productpage->cachedClientSessions(), 1U);
}

TEST(IdentityTlsStream, ForgedClientRefusedOverLoopbackTcp) {
  Mesh mesh;
  auto forged_svid = pki::forgeSelfSigned(kProductpage, *mesh.clock);
  ASSERT_TRUE(forged_svid.ok());
  auto forged = IdentityTls::create(*forged_svid, mesh.ca->trustBundle(), mesh.clock);
  ASSERT_TRUE(forged.ok());
  auto reviews = mesh.identity("reviews");
  TcpOutcome out = tcpHandshake(**forged, *reviews, kReviews);
  ASSERT_TRUE(out.server_done);
  ASSERT_TRUE(out.client_done);
  EXPECT_TRUE(out.server_ec);
  EXPECT_FALSE(out.server_peer.has_value());
  EXPECT_TRUE(contains(out.server_reason, "self-signed certificate"));
  // The server's alert reaches the client's first read as an OpenSSL error (what the proxy turns
  // into Envoy's "TLS error" body).
  EXPECT_EQ(sslReason(out.client_ec), SSL_R_TLSV1_ALERT_UNKNOWN_CA) << out.client_ec.message();
}

TEST(IdentityTlsStream, AnonymousClientRefusedOverLoopbackTcp) {
  Mesh mesh;
  auto anonymous = mesh.anonymous();
  auto reviews = mesh.identity("reviews");
  TcpOutcome out = tcpHandshake(*anonymous, *reviews, kReviews);
  ASSERT_TRUE(out.server_done);
  ASSERT_TRUE(out.client_done);
  EXPECT_TRUE(out.server_ec);
  EXPECT_EQ(out.server_reason, "peer did not return a certificate");
  ASSERT_TRUE(out.client_peer.has_value());  // it had verified the server
  EXPECT_EQ(out.client_peer->spiffe_id, kReviews);
  EXPECT_EQ(sslReason(out.client_ec), SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
      << out.client_ec.message();
}

// After the handshake the stream carries bytes both ways: a message written as several buffers
// arrives whole, and a reply larger than one TLS record (16 KiB) arrives intact. An error some
// other OpenSSL user left on the thread's queue (a failed JWT signature check, say) does not
// turn a read that waits for input into a failure.
// A productpage client and a reviews server stream on 127.0.0.1, not connected; prepare()
// sets both up, with `session_key` as the client's resumption key.
class TlsStreamPair : public ::testing::Test {
 protected:
  TlsStreamPair()
      : productpage(mesh.identity("productpage")),
        reviews(mesh.identity("reviews")),
        acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        server(tcp::socket(io), SSL_new(reviews->serverContext())),
        client(tcp::socket(io), SSL_new(productpage->clientContext())) {}
  void prepare(std::string_view session_key) {
    prepareServer(server.native_handle(), *reviews);
    prepareClient(client.native_handle(), *productpage, kReviews, session_key);
  }
  Mesh mesh;
  std::shared_ptr<const IdentityTls> productpage;
  std::shared_ptr<const IdentityTls> reviews;
  asio::io_context io;
  tcp::acceptor acceptor;
  Stream server;
  Stream client;
};

TEST_F(TlsStreamPair, CarriesBytesBothWaysAcrossRecords) {
  prepare("reviews");
  const std::string head = "GET / HTTP/1.1\r\n";
  const std::string tail = "host: reviews\r\n\r\n";
  std::string reply(40 * 1024, '\0');
  for (size_t i = 0; i < reply.size(); ++i) reply[i] = static_cast<char>('a' + i % 26);
  std::string server_got(head.size() + tail.size(), '\0');
  std::string client_got(reply.size(), '\0');
  boost::system::error_code server_ec;
  boost::system::error_code client_ec;
  bool done = false;

  acceptor.async_accept(server.next_layer(), [&](boost::system::error_code ec) {
    if (ec) return void(server_ec = ec);
    server.async_handshake(Stream::Role::kServer, [&](boost::system::error_code hs) {
      if (hs) return void(server_ec = hs);
      ERR_raise(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE);
      asio::async_read(server, asio::buffer(server_got), [&](boost::system::error_code rd, size_t) {
        if (rd) return void(server_ec = rd);
        asio::async_write(server, asio::buffer(reply),
                          [&](boost::system::error_code wr, size_t) { server_ec = wr; });
      });
    });
  });
  client.next_layer().async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
    if (ec) return void(client_ec = ec);
    client.async_handshake(Stream::Role::kClient, [&](boost::system::error_code hs) {
      if (hs) return void(client_ec = hs);
      const std::array<asio::const_buffer, 2> request{asio::buffer(head), asio::buffer(tail)};
      asio::async_write(client, request, [&](boost::system::error_code wr, size_t) {
        if (wr) return void(client_ec = wr);
        ERR_raise(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE);
        asio::async_read(client, asio::buffer(client_got),
                         [&](boost::system::error_code rd, size_t) {
                           client_ec = rd;
                           done = true;
                         });
      });
    });
  });
  io.run_for(std::chrono::seconds(10));
  ASSERT_TRUE(done);
  EXPECT_FALSE(server_ec) << server_ec.message();
  EXPECT_FALSE(client_ec) << client_ec.message();
  EXPECT_EQ(server_got, head + tail);
  EXPECT_EQ(client_got, reply);
}

// A record read in small pieces: after the first, every piece is already inside OpenSSL, and
// the stream must hand it over without waiting for more input (the server sends nothing else
// and keeps the connection open, so waiting would run into the deadline).
TEST_F(TlsStreamPair, ReadsARecordInPiecesSmallerThanItWithoutMoreInput) {
  prepare("");
  std::string message(3000, '\0');
  for (size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>('a' + i % 26);
  constexpr size_t kPiece = 100;
  std::string got(message.size(), '\0');
  size_t pieces = 0;
  boost::system::error_code client_ec;
  std::function<void()> readPiece = [&] {
    asio::async_read(client, asio::buffer(got.data() + pieces * kPiece, kPiece),
                     [&](boost::system::error_code rd, size_t) {
                       if (rd) return void(client_ec = rd);
                       if (++pieces * kPiece < got.size()) readPiece();
                     });
  };
  acceptor.async_accept(server.next_layer(), [&](boost::system::error_code ec) {
    if (ec) return;
    server.async_handshake(Stream::Role::kServer, [&](boost::system::error_code hs) {
      if (!hs) asio::async_write(server, asio::buffer(message), [](auto, size_t) {});
    });
  });
  client.next_layer().async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
    if (ec) return void(client_ec = ec);
    client.async_handshake(Stream::Role::kClient, [&](boost::system::error_code hs) {
      if (hs) return void(client_ec = hs);
      readPiece();
    });
  });
  io.run_for(std::chrono::seconds(5));
  EXPECT_FALSE(client_ec) << client_ec.message();
  ASSERT_EQ(pieces * kPiece, message.size());
  EXPECT_EQ(got, message);
}

}  // namespace
}  // namespace meshsim::proxy::tls
