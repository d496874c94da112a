// TLS contexts per workload identity. Everything a callback needs hangs off OpenSSL ex_data:
// the identity's ContextState on each SSL_CTX (so a context outlives the IdentityTls safely),
// a ConnState on each SSL (expected peer, failure reason, verification result) and a SessionPeer
// on each cached SSL_SESSION (what was verified when the session was made, so that a resumed
// connection learns its peer without decoding a certificate).
#include "tls/identity_tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "meshsim/policy/identity.h"
#include "pki/material.h"

namespace meshsim::proxy::tls {

namespace detail {

struct ContextState {
  std::shared_ptr<const pki::TrustAnchors> anchors;
  std::shared_ptr<const pki::SimClock> clock;
  std::string spiffe_id;
  int64_t not_after = 0;

  mutable std::mutex mutex;
  // Client side: one resumable session per upstream key, taken out when offered.
  std::unordered_map<std::string, SslSessionPtr> sessions;
  // Server side: the session cache, by session id; single use (each resumption gets a new
  // ticket); the oldest entry is evicted when full.
  struct Cached {
    SslSessionPtr session;
    uint64_t sequence = 0;
  };
  std::unordered_map<std::string, Cached> server_sessions;
  std::map<uint64_t, std::string> server_order;  // sequence -> session id
  uint64_t next_sequence = 0;
};

}  // namespace detail

namespace {

using detail::ContextState;

// What was verified about the peer of a session; immutable once attached.
struct SessionPeer {
  std::string spiffe_id;
  std::optional<policy::PeerIdentity> identity;
  int64_t not_after = 0;
};

// Per-connection state.
struct ConnState {
  bool client = false;
  std::string expected_spiffe_id;
  std::string session_key;
  std::optional<pki::PeerCertInfo> verified;  // set by a successful verify callback
  std::string failure;                        // verification / secure naming / refusal
  std::string local_error;                    // OpenSSL's reason for a fatal alert we sent
  std::string remote_alert;                   // description of a fatal alert we received
};

// ex_data callbacks. OpenSSL calls free callbacks for every registered index, data or not.
void freeContextState(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {  // NOLINT
  delete static_cast<std::shared_ptr<ContextState>*>(ptr);
}
void freeConnState(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {  // NOLINT
  delete static_cast<ConnState*>(ptr);
}
void freeSessionPeer(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {  // NOLINT
  delete static_cast<std::shared_ptr<const SessionPeer>*>(ptr);
}
// Sessions are duplicated by OpenSSL (e.g. for each TLS 1.3 ticket on a resumed connection):
// the copy gets its own reference to the same immutable SessionPeer.
int dupSessionPeer(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** from_d, int, long,  // NOLINT
                   void*) {
  auto* from = static_cast<std::shared_ptr<const SessionPeer>*>(*from_d);
  if (from != nullptr) *from_d = new std::shared_ptr<const SessionPeer>(*from);
  return 1;
}

struct ExIndices {
  int ctx = -1;
  int ssl = -1;
  int session = -1;
};

const ExIndices& exIndices() {
  static const ExIndices indices = [] {
    ExIndices i;
    i.ctx = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, freeContextState);
    i.ssl = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, freeConnState);
    i.session = SSL_SESSION_get_ex_new_index(0, nullptr, nullptr, dupSessionPeer, freeSessionPeer);
    return i;
  }();
  return indices;
}

ContextState* contextState(const SSL_CTX* ctx) {
  auto* holder =
      static_cast<std::shared_ptr<ContextState>*>(SSL_CTX_get_ex_data(ctx, exIndices().ctx));
  return holder != nullptr ? holder->get() : nullptr;
}

ConnState* findConnState(const SSL* ssl) {
  return static_cast<ConnState*>(SSL_get_ex_data(ssl, exIndices().ssl));
}

// The connection's state, created on first use (null only when allocation fails in OpenSSL).
ConnState* connState(SSL* ssl) {
  if (ConnState* existing = findConnState(ssl)) return existing;
  auto* state = new ConnState;
  state->client = SSL_is_server(ssl) == 0;
  if (SSL_set_ex_data(ssl, exIndices().ssl, state) != 1) {
    delete state;
    return nullptr;
  }
  return state;
}

std::shared_ptr<const SessionPeer> sessionPeer(const SSL_SESSION* session) {
  if (session == nullptr) return nullptr;
  auto* holder = static_cast<std::shared_ptr<const SessionPeer>*>(
      SSL_SESSION_get_ex_data(session, exIndices().session));
  return holder != nullptr ? *holder : nullptr;
}

// Attaches what this connection verified to `session`, unless it already carries it (a session
// duplicated from a resumed one inherits its peer through dupSessionPeer).
void attachSessionPeer(SSL* ssl, SSL_SESSION* session) {
  if (sessionPeer(session) != nullptr) return;
  ConnState* conn = findConnState(ssl);
  if (conn == nullptr || !conn->verified) return;
  auto peer = std::make_shared<SessionPeer>();
  peer->spiffe_id = conn->verified->spiffe_id;
  peer->identity = conn->verified->identity;
  peer->not_after = conn->verified->not_after;
  auto* holder = new std::shared_ptr<const SessionPeer>(std::move(peer));
  if (SSL_SESSION_set_ex_data(session, exIndices().session, holder) != 1) delete holder;
}

// The X509_V_ERR code whose text verifyParsed put in `message`, so that the alert OpenSSL sends
// tells the peer what went wrong (certificate expired, unknown CA, ...). Longer texts first:
// "self-signed certificate" is a prefix of "self-signed certificate in certificate chain".
int verifyErrorCode(const std::string& message) {
  static constexpr std::array kCodes = {
      X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
      X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
      X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
      X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
      X509_V_ERR_CERT_HAS_EXPIRED,
      X509_V_ERR_CERT_NOT_YET_VALID,
      X509_V_ERR_CERT_SIGNATURE_FAILURE,
      X509_V_ERR_INVALID_CA,
      X509_V_ERR_CERT_UNTRUSTED,
      X509_V_ERR_CERT_REJECTED,
  };
  for (int code : kCodes) {
    if (message.find(X509_verify_cert_error_string(code)) != std::string::npos) return code;
  }
  return X509_V_ERR_APPLICATION_VERIFICATION;
}

// Replaces OpenSSL's chain verification: one call to verifyParsed on the certificates OpenSSL
// decoded from the handshake (leaf first in the untrusted stack), at the simulated time.
int verifyPeerChain(X509_STORE_CTX* store_ctx, void* arg) {
  const auto* state = static_cast<const ContextState*>(arg);
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  ConnState* conn = ssl != nullptr ? connState(ssl) : nullptr;
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  STACK_OF(X509)* presented = X509_STORE_CTX_get0_untrusted(store_ctx);
  std::vector<X509*> untrusted;
  const int count = presented != nullptr ? sk_X509_num(presented) : 0;
  untrusted.reserve(count > 0 ? static_cast<size_t>(count) : 0);
  for (int i = 0; i < count; ++i) {
    X509* cert = sk_X509_value(presented, i);
    if (cert != leaf) untrusted.push_back(cert);
  }
  auto fail = [&](std::string reason, int code) {
    if (conn != nullptr) conn->failure = std::move(reason);
    X509_STORE_CTX_set_error(store_ctx, code);
    return 0;
  };
  if (untrusted.size() + 1 > pki::kMaxChainCertificates) {
    return fail("peer certificate: chain of " + std::to_string(untrusted.size() + 1) +
                    " certificates is longer than " + std::to_string(pki::kMaxChainCertificates),
                X509_V_ERR_CERT_CHAIN_TOO_LONG);
  }
  auto verified = pki::detail::verifyParsed(*state->anchors, leaf, untrusted, state->clock->now());
  if (!verified.ok()) {
    const Status status = verified.status();
    const std::string& message = status.message();
    return fail("peer certificate: " + message, verifyErrorCode(message));
  }
  if (conn != nullptr && conn->client && !conn->expected_spiffe_id.empty() &&
      verified->spiffe_id != conn->expected_spiffe_id) {
    return fail(
        "secure naming: expected " + conn->expected_spiffe_id + " got " + verified->spiffe_id,
        X509_V_ERR_APPLICATION_VERIFICATION);
  }
  if (conn != nullptr) conn->verified = std::move(verified).value();
  X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
  return 1;
}

// OpenSSL 3.0 describes the TLS 1.3 alerts as "unknown".
std::string alertDescription(int alert) {
  switch (alert & 0xff) {
    case 109:
      return "missing extension";
    case 116:
      return "certificate required";
    case 120:
      return "no application protocol";
    default:
      return SSL_alert_desc_string_long(alert);
  }
}

// Records fatal alerts: the reason for one we send (OpenSSL queued it just before), and the
// description of one we receive. The error queue itself may be drained by the caller (Asio
// turns it into an error_code), so failureReason() cannot rely on it.
void infoCallback(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) == 0) return;
  if (((ret >> 8) & 0xff) != SSL3_AL_FATAL) return;
  ConnState* conn = findConnState(ssl);
  if (conn == nullptr) return;
  if ((where & SSL_CB_WRITE) != 0) {
    if (conn->local_error.empty()) {
      const unsigned long err = ERR_peek_last_error();
      const char* reason = err != 0 ? ERR_reason_error_string(err) : nullptr;
      conn->local_error = reason != nullptr ? reason : "sent alert: " + alertDescription(ret);
    }
  } else if (conn->remote_alert.empty()) {
    conn->remote_alert = alertDescription(ret);
  }
}

// Server: a session entered the cache; remember what its peer was verified as.
// Server: a session for a ticket was made; keep a private copy in the identity's cache. A copy,
// because OpenSSL marks a connection's own session not resumable when the SSL is freed without
// a close_notify, which pooled proxy connections routinely are.
int serverNewSession(SSL* ssl, SSL_SESSION* session) {
  ContextState* state = contextState(SSL_get_SSL_CTX(ssl));
  const ConnState* conn = findConnState(ssl);
  if (state == nullptr || (conn != nullptr && !conn->failure.empty())) return 0;
  attachSessionPeer(ssl, session);
  auto peer = sessionPeer(session);
  if (peer == nullptr || state->clock->now() >= peer->not_after) return 0;
  unsigned int id_length = 0;
  const unsigned char* id = SSL_SESSION_get_id(session, &id_length);
  SslSessionPtr copy(SSL_SESSION_dup(session));
  if (!copy || id_length == 0) return 0;
  std::string key(reinterpret_cast<const char*>(id), id_length);
  std::lock_guard lock(state->mutex);
  if (auto old = state->server_sessions.find(key); old != state->server_sessions.end()) {
    state->server_order.erase(old->second.sequence);
    state->server_sessions.erase(old);
  }
  while (state->server_sessions.size() >= kServerSessionCacheSize) {
    auto oldest = state->server_order.begin();
    state->server_sessions.erase(oldest->second);
    state->server_order.erase(oldest);
  }
  const uint64_t sequence = state->next_sequence++;
  state->server_order.emplace(sequence, key);
  state->server_sessions.emplace(std::move(key), ContextState::Cached{std::move(copy), sequence});
  return 0;  // OpenSSL keeps (and frees) its own reference
}

// Server: a client offered a ticket (a session id). Single use: the entry leaves the cache.
// A session whose client certificate has expired at the simulated time is not resumed, so the
// handshake falls back to a full one and verification reports the expiry.
SSL_SESSION* serverGetSession(SSL* ssl, const unsigned char* id, int id_length, int* copy) {
  *copy = 0;  // we hand over our reference
  ContextState* state = contextState(SSL_get_SSL_CTX(ssl));
  if (state == nullptr || id_length <= 0) return nullptr;
  SslSessionPtr session;
  {
    std::lock_guard lock(state->mutex);
    auto it = state->server_sessions.find(
        std::string(reinterpret_cast<const char*>(id), static_cast<size_t>(id_length)));
    if (it == state->server_sessions.end()) return nullptr;
    session = std::move(it->second.session);
    state->server_order.erase(it->second.sequence);
    state->server_sessions.erase(it);
  }
  auto peer = sessionPeer(session.get());
  if (peer == nullptr || state->clock->now() >= peer->not_after) return nullptr;
  return session.release();
}

// Client: the server's ticket arrived; store it under the connection's upstream key.
int clientNewSession(SSL* ssl, SSL_SESSION* session) {
  ConnState* conn = findConnState(ssl);
  ContextState* state = contextState(SSL_get_SSL_CTX(ssl));
  if (conn == nullptr || state == nullptr || conn->session_key.empty()) return 0;
  if (!conn->failure.empty()) return 0;  // the peer was refused (see verifiedPeer)
  attachSessionPeer(ssl, session);
  auto peer = sessionPeer(session);
  // Nothing verified, or a server certificate already expired: never resume it.
  if (peer == nullptr || state->clock->now() >= peer->not_after) return 0;
  // A copy, for the same reason as on the server.
  SslSessionPtr copy(SSL_SESSION_dup(session));
  if (!copy) return 0;
  std::lock_guard lock(state->mutex);
  auto it = state->sessions.find(conn->session_key);
  if (it == state->sessions.end() && state->sessions.size() >= kClientSessionStoreSize) {
    state->sessions.erase(state->sessions.begin());
  }
  state->sessions[conn->session_key] = std::move(copy);
  return 0;  // OpenSSL keeps (and frees) its own reference
}

Status sslError(std::string_view what) { return internalError(pki::detail::opensslError(what)); }

// Settings both sides share: TLS 1.3 only, X25519 first, the verify callback.
Result<detail::SslCtxPtr> newContext(const SSL_METHOD* method,
                                     const std::shared_ptr<ContextState>& state) {
  detail::SslCtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) return sslError("SSL_CTX_new");
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) != 1) {
    return sslError("restricting to TLS 1.3");
  }
  if (SSL_CTX_set1_groups_list(ctx.get(), "X25519:P-256") != 1) {
    return sslError("SSL_CTX_set1_groups_list");
  }
  if (SSL_CTX_set_ciphersuites(ctx.get(),
                               "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                               "TLS_CHACHA20_POLY1305_SHA256") != 1) {
    return sslError("SSL_CTX_set_ciphersuites");
  }
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  auto* holder = new std::shared_ptr<ContextState>(state);
  if (SSL_CTX_set_ex_data(ctx.get(), exIndices().ctx, holder) != 1) {
    delete holder;
    return sslError("SSL_CTX_set_ex_data");
  }
  SSL_CTX_set_cert_verify_callback(ctx.get(), verifyPeerChain, state.get());
  SSL_CTX_set_info_callback(ctx.get(), infoCallback);
  return ctx;
}

// The SVID as this identity presents it. Intermediates that the trust anchors already know (the
// mesh CA registers each one) stay off the wire: peers of the same mesh find them in their own
// anchors, and every full handshake then decodes and verifies one certificate fewer per side
// (OpenSSL 3.0 spends more on decoding a certificate than on checking its signature). Unknown
// intermediates (another CA's SVID, a stolen one from elsewhere) are sent as before.
Status useSvid(SSL_CTX* ctx, const pki::SvidMaterial& material,
               const pki::TrustAnchors& anchors) {
  if (SSL_CTX_use_certificate(ctx, material.leaf.get()) != 1) {
    return sslError("SSL_CTX_use_certificate");
  }
  SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
  for (const auto& cert : material.chain) {
    if (pki::detail::knowsIntermediate(anchors, cert.get())) continue;
    if (SSL_CTX_add1_chain_cert(ctx, cert.get()) != 1) return sslError("SSL_CTX_add1_chain_cert");
  }
  if (SSL_CTX_use_PrivateKey(ctx, material.key.get()) != 1) {
    return sslError("SSL_CTX_use_PrivateKey");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return sslError("the SVID's private key does not match its certificate");
  }
  return okStatus();
}

Result<detail::SslCtxPtr> newClientContext(const std::shared_ptr<ContextState>& state,
                                           const pki::SvidMaterial* material) {
  auto ctx = newContext(TLS_client_method(), state);
  if (!ctx.ok()) return ctx.status();
  SSL_CTX* c = ctx->get();
  if (material != nullptr) {
    if (Status used = useSvid(c, *material, *state->anchors); !used.ok()) return used;
  }
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(c, clientNewSession);
  return ctx;
}

Result<detail::SslCtxPtr> newServerContext(const std::shared_ptr<ContextState>& state,
                                           const pki::SvidMaterial& material) {
  auto ctx = newContext(TLS_server_method(), state);
  if (!ctx.ok()) return ctx.status();
  SSL_CTX* c = ctx->get();
  if (Status used = useSvid(c, material, *state->anchors); !used.ok()) return used;
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // Stateful resumption: the ticket is a session id into this cache, so a resumed server
  // reuses the parsed client certificate instead of decoding it from a stateless ticket.
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
  if (SSL_CTX_set_num_tickets(c, 1) != 1) return sslError("SSL_CTX_set_num_tickets");
  SSL_CTX_sess_set_new_cb(c, serverNewSession);
  SSL_CTX_sess_set_get_cb(c, serverGetSession);
  // Sessions of one identity resume only with that identity.
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_len = 0;
  const std::string context_name = "meshsim identity " + state->spiffe_id;
  if (EVP_Digest(context_name.data(), context_name.size(), digest.data(), &digest_len, EVP_sha256(),
                 nullptr) != 1) {
    return sslError("hashing the session id context");
  }
  if (SSL_CTX_set_session_id_context(
          c, digest.data(), std::min<unsigned int>(digest_len, SSL_MAX_SID_CTX_LENGTH)) != 1) {
    return sslError("SSL_CTX_set_session_id_context");
  }
  return ctx;
}

}  // namespace

IdentityTls::IdentityTls(std::shared_ptr<detail::ContextState> state, detail::SslCtxPtr server,
                         detail::SslCtxPtr client)
    : state_(std::move(state)), server_(std::move(server)), client_(std::move(client)) {}

IdentityTls::~IdentityTls() = default;

const std::string& IdentityTls::spiffeId() const { return state_->spiffe_id; }

int64_t IdentityTls::notAfter() const { return state_->not_after; }

size_t IdentityTls::cachedClientSessions() const {
  std::lock_guard lock(state_->mutex);
  return state_->sessions.size();
}

size_t IdentityTls::cachedServerSessions() const {
  std::lock_guard lock(state_->mutex);
  return state_->server_sessions.size();
}

Result<std::shared_ptr<const IdentityTls>> IdentityTls::create(
    const pki::Svid& svid, const pki::TrustBundle& trust,
    std::shared_ptr<const pki::SimClock> clock) {
  if (!svid.material || !svid.material->leaf || !svid.material->key) {
    return invalidArgument("SVID " + svid.spiffe_id + " has no parsed certificate and key");
  }
  if (!clock) return invalidArgument("IdentityTls needs a clock");
  ERR_clear_error();
  auto state = std::make_shared<ContextState>();
  state->anchors = trust.anchors();
  state->clock = std::move(clock);
  state->spiffe_id = svid.spiffe_id;
  state->not_after = svid.not_after;
  auto server = newServerContext(state, *svid.material);
  if (!server.ok()) return server.status();
  auto client = newClientContext(state, svid.material.get());
  if (!client.ok()) return client.status();
  return std::shared_ptr<const IdentityTls>(
      new IdentityTls(std::move(state), std::move(server).value(), std::move(client).value()));
}

Result<std::shared_ptr<const IdentityTls>> IdentityTls::anonymousClient(
    const pki::TrustBundle& trust, std::shared_ptr<const pki::SimClock> clock) {
  if (!clock) return invalidArgument("IdentityTls needs a clock");
  ERR_clear_error();
  auto state = std::make_shared<ContextState>();
  state->anchors = trust.anchors();
  state->clock = std::move(clock);
  auto client = newClientContext(state, nullptr);
  if (!client.ok()) return client.status();
  return std::shared_ptr<const IdentityTls>(
      new IdentityTls(std::move(state), nullptr, std::move(client).value()));
}

void prepareClient(SSL* ssl, const IdentityTls& identity, std::string_view expected_spiffe_id,
                   std::string_view session_key) {
  ConnState* conn = connState(ssl);
  if (conn == nullptr) return;
  conn->client = true;
  conn->expected_spiffe_id.assign(expected_spiffe_id);
  conn->session_key.assign(session_key);
  if (session_key.empty()) return;
  ContextState& state = *identity.state_;
  SslSessionPtr session;
  {
    std::lock_guard lock(state.mutex);
    auto it = state.sessions.find(conn->session_key);
    if (it == state.sessions.end()) return;
    // Single use: the server forgets the session once resumed; this connection's ticket
    // replaces it.
    session = std::move(it->second);
    state.sessions.erase(it);
  }
  auto peer = sessionPeer(session.get());
  const bool usable = peer != nullptr && state.clock->now() < peer->not_after &&
                      (expected_spiffe_id.empty() || peer->spiffe_id == expected_spiffe_id);
  if (!usable) return;
  // A session OpenSSL no longer considers resumable is simply not offered.
  SSL_set_session(ssl, session.get());
}

void prepareServer(SSL* ssl, const IdentityTls& /*identity*/) {
  if (ConnState* conn = connState(ssl)) conn->client = false;
}

std::optional<PeerInfo> verifiedPeer(SSL* ssl) {
  if (ssl == nullptr || SSL_is_init_finished(ssl) == 0) return std::nullopt;
  ConnState* conn = connState(ssl);
  if (conn == nullptr) return std::nullopt;
  PeerInfo info;
  info.resumed = SSL_session_reused(ssl) == 1;
  if (!info.resumed) {
    if (!conn->verified) return std::nullopt;
    info.spiffe_id = conn->verified->spiffe_id;
    info.identity = conn->verified->identity;
    info.not_after = conn->verified->not_after;
    return info;
  }
  SSL_SESSION* session = SSL_get_session(ssl);
  ContextState* state = contextState(SSL_get_SSL_CTX(ssl));
  auto peer = sessionPeer(session);
  // The session was taken out of the caches when offered; a refused connection stores no new
  // one (the session callbacks check the failure).
  auto refuse = [&](std::string reason) -> std::optional<PeerInfo> {
    conn->failure = std::move(reason);
    return std::nullopt;
  };
  if (peer == nullptr || state == nullptr) {
    return refuse("resumed session carries no verified peer identity");
  }
  const int64_t now = state->clock->now();
  if (now >= peer->not_after) {
    return refuse("peer certificate: certificate has expired (resumed session of " +
                  peer->spiffe_id + "; notAfter " + pki::formatUtc(peer->not_after) +
                  ", checked at " + pki::formatUtc(now) + ")");
  }
  info.spiffe_id = peer->spiffe_id;
  info.identity = peer->identity;
  info.not_after = peer->not_after;
  return info;
}

std::string failureReason(SSL* ssl) {
  if (ssl == nullptr) return {};
  if (const ConnState* conn = findConnState(ssl)) {
    if (!conn->failure.empty()) return conn->failure;
    if (!conn->local_error.empty()) return conn->local_error;
    if (!conn->remote_alert.empty()) return "peer sent alert: " + conn->remote_alert;
  }
  const unsigned long err = ERR_peek_last_error();
  if (err == 0) return {};
  const char* reason = ERR_reason_error_string(err);
  if (reason != nullptr) return reason;
  char buf[256];
  ERR_error_string_n(err, buf, sizeof buf);
  return buf;
}

}  // namespace meshsim::proxy::tls
