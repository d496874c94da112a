#pragma once
/// The data plane's TLS identity layer: one pair of OpenSSL 3 contexts per workload identity,
/// built once from its SVID, and the per-connection hooks a sidecar calls around a handshake.
///
/// Design (performance.md, "design consequences"):
///  - one server and one client SSL_CTX per identity, shared by every connection of it; the
///    certificate, chain and key are the SVID's already-parsed objects (no PEM/DER decoding);
///  - TLS 1.3 only, X25519 first, AES-128-GCM first;
///  - short chains: an identity presents its leaf alone when the trust anchors already know its
///    intermediate (the mesh CA registers each one it makes), so a full handshake decodes and
///    verifies one certificate fewer per side; another CA's SVID is presented with its chain;
///  - peer chains are verified by pki::detail::verifyParsed on the X509 objects OpenSSL built
///    while reading the handshake, at the SIMULATED time (SimClock), never the wall clock;
///  - stateful TLS 1.3 resumption: the server keeps a bounded session cache and sends session
///    ids as tickets (SSL_OP_NO_TICKET), so a resumed server never re-parses the client
///    certificate; the client keeps one resumable session per upstream key. Tickets are single
///    use: a session is taken out of both caches when offered and the new connection's ticket
///    replaces it, so of several connections opened at once to one upstream only one resumes;
///  - SSL_MODE_RELEASE_BUFFERS on both contexts: an idle pooled connection holds no record
///    buffers (see the report in bench/tls_handshake_bench.cpp for the measured size).
///
/// Using it with the proxy's TlsStream (tls_stream.h; the tests do the same):
/// ```
///   // per connection:
///   TlsStream<tcp::socket> stream(std::move(socket), SSL_new(identity->serverContext()));
///   tls::prepareServer(stream.native_handle(), *identity);   // before async_handshake
///   stream.async_handshake(TlsStream<tcp::socket>::Role::kServer, [&](error_code ec) {
///     if (ec) return fail(ec, tls::failureReason(stream.native_handle()));
///     auto peer = tls::verifiedPeer(stream.native_handle());
///     if (!peer) return fail(tls::failureReason(stream.native_handle()));  // close: refused
///     ...
///   });
/// ```
/// The contexts work with boost::asio::ssl::stream as well (boost::asio::ssl::context(native
/// handle) takes one reference, so SSL_CTX_up_ref first). Never install another verify mode or
/// callback on a context or connection: verification is installed here.
///
/// Always call verifiedPeer() after a successful handshake and close the connection when it
/// returns nullopt: a TLS 1.3 resumption does not re-run certificate verification, so the check
/// that the peer certificate has not expired at the simulated time since the session was cached
/// lives there.
///
/// Thread-safety: IdentityTls is immutable after create() except for the client's session store,
/// which is guarded by a mutex; the SSL_CTX objects may be used from any thread concurrently
/// (OpenSSL locks its own session cache). prepareClient/prepareServer/verifiedPeer/failureReason
/// act on one SSL, which must be driven by one thread (one strand) at a time, like the SSL itself.
/// The SSL_CTX objects may outlive the IdentityTls (everything their callbacks need is attached
/// to them), so a connection made from them stays valid on its own.

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "meshsim/common/status.h"
#include "meshsim/pki/clock.h"
#include "meshsim/pki/svid.h"
#include "meshsim/pki/trust.h"
#include "meshsim/policy/request.h"

namespace meshsim::proxy::tls {

/// Sessions the server side of one identity keeps for resumption (the oldest is evicted). Each
/// entry holds the parsed client certificate chain: ~12.5 KiB measured, so at most ~3.2 MiB.
inline constexpr size_t kServerSessionCacheSize = 256;
/// Upstream keys the client side of one identity keeps a resumable session for.
inline constexpr size_t kClientSessionStoreSize = 4096;

namespace detail {
/// Everything the callbacks of an identity's contexts need; attached to each SSL_CTX.
struct ContextState;
/// Frees an SSL_CTX reference.
struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
/// Owns one SSL_CTX reference.
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
/// Frees an SSL.
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
/// Frees an SSL_SESSION reference.
struct SslSessionFree {
  void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};
}  // namespace detail

/// Owns an SSL (e.g. from SSL_new(identity.clientContext())).
using SslPtr = std::unique_ptr<SSL, detail::SslFree>;
/// Owns one SSL_SESSION reference.
using SslSessionPtr = std::unique_ptr<SSL_SESSION, detail::SslSessionFree>;

/// One workload identity's TLS contexts, built once from its SVID (never per connection).
/// Immutable after create() (apart from the mutex-guarded client session store); the SSL_CTX
/// objects are shared by every connection of the identity; thread-safe.
class IdentityTls {
 public:
  /// Builds a server and a client SSL_CTX: TLS 1.3 only, X25519 first, certificate + chain + key
  /// from svid.material (no re-parsing), peer verification through
  /// SSL_CTX_set_cert_verify_callback calling pki::detail::verifyParsed(*trust.anchors(), leaf,
  /// untrusted, clock->now()) with the X509 objects OpenSSL already built. Server: requires a
  /// client certificate (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT), stateful session
  /// cache (SSL_SESS_CACHE_SERVER, SSL_OP_NO_TICKET, a session id context derived from the SPIFFE
  /// ID, one ticket per handshake; the cache is this object's own, kServerSessionCacheSize
  /// entries, single use, and never resumes a session whose client certificate has expired at
  /// the simulated time; it keeps copies of sessions, so that freeing an SSL without a
  /// close_notify, which makes OpenSSL drop that connection's session, does not defeat
  /// resumption). Client: verifies the server
  /// chain and, when the connection was prepared with an expected SPIFFE ID, secure naming (the
  /// server's URI SAN must equal it); keeps resumable sessions per upstream key. `svid` may be
  /// self-signed (a forged certificate): create() still works; peers reject it.
  /// Errors: InvalidArgument when `svid` has no material or `clock` is null; Internal when
  /// OpenSSL refuses the key or certificate (e.g. a key that does not match the leaf).
  static Result<std::shared_ptr<const IdentityTls>> create(
      const pki::Svid& svid, const pki::TrustBundle& trust,
      std::shared_ptr<const pki::SimClock> clock);

  /// A client context that presents NO certificate but verifies the server (DestinationRule tls
  /// SIMPLE, or an outsider speaking TLS). Secure naming as above. InvalidArgument when `clock`
  /// is null; Internal when OpenSSL fails.
  static Result<std::shared_ptr<const IdentityTls>> anonymousClient(
      const pki::TrustBundle& trust, std::shared_ptr<const pki::SimClock> clock);

  /// Frees this object's context references (connections keep theirs).
  ~IdentityTls();
  IdentityTls(const IdentityTls&) = delete;
  IdentityTls& operator=(const IdentityTls&) = delete;

  /// The server context; null for anonymousClient(). Owned by this object (up-ref to keep it).
  SSL_CTX* serverContext() const { return server_.get(); }
  /// The client context. Owned by this object (up-ref to keep it).
  SSL_CTX* clientContext() const { return client_.get(); }
  /// The identity's SPIFFE ID; empty for anonymousClient().
  const std::string& spiffeId() const;
  /// The SVID's notAfter, seconds since the epoch (0 for anonymous).
  int64_t notAfter() const;
  /// Number of upstream keys that currently hold a resumable client session.
  size_t cachedClientSessions() const;
  /// Number of sessions in the server-side cache.
  size_t cachedServerSessions() const;

 private:
  IdentityTls(std::shared_ptr<detail::ContextState> state, detail::SslCtxPtr server,
              detail::SslCtxPtr client);
  friend void prepareClient(SSL* ssl, const IdentityTls& identity,
                            std::string_view expected_spiffe_id, std::string_view session_key);
  friend void prepareServer(SSL* ssl, const IdentityTls& identity);

  std::shared_ptr<detail::ContextState> state_;
  detail::SslCtxPtr server_;
  detail::SslCtxPtr client_;
};

/// Prepares a client SSL (made from identity.clientContext()) before SSL_connect: the SPIFFE ID
/// the server must present (empty = any valid mesh identity) and the resumption key (e.g.
/// "127.1.0.3:9080"; empty = never resume nor store). Takes the cached session for that key out
/// of the store (tickets are single use) and sets it when it was made with a server whose
/// identity satisfies `expected_spiffe_id` and whose certificate is still valid at the simulated
/// time; drops it otherwise. This connection's own ticket becomes the key's session when it
/// arrives, which OpenSSL processes on the client's first read after the handshake (and only if
/// the handshake and verifiedPeer() succeeded). Call at most once per SSL, before the handshake.
void prepareClient(SSL* ssl, const IdentityTls& identity, std::string_view expected_spiffe_id,
                   std::string_view session_key);

/// Prepares a server SSL (from identity.serverContext()) before SSL_accept: attaches the
/// per-connection state (failure reason, verified peer). Optional (the verify callback creates
/// the state on demand) but it keeps the allocation out of the handshake.
void prepareServer(SSL* ssl, const IdentityTls& identity);

/// What a successful handshake proved about the peer.
struct PeerInfo {
  std::string spiffe_id;                         ///< the peer's verified URI SAN
  std::optional<policy::PeerIdentity> identity;  ///< when spiffe://td/ns/N/sa/S
  int64_t not_after = 0;                         ///< the peer leaf's notAfter
  bool resumed = false;                          ///< the handshake resumed a cached session
};

/// The verified peer after a successful handshake on `ssl` (made from an IdentityTls context).
/// On a resumed session it is taken from what was verified when the session was cached (no
/// certificate decoding) and refused (nullopt, failureReason() says why, the session is dropped
/// from the caches) when the peer certificate has expired at the simulated time since, or, on a
/// client, when it no longer satisfies the prepared expected SPIFFE ID. nullopt when the
/// handshake has not completed or the peer presented no verified certificate.
std::optional<PeerInfo> verifiedPeer(SSL* ssl);

/// Why the last handshake on `ssl` failed (or its peer was refused), for access logs and probes:
/// "peer certificate: <verification error>" (e.g. "... certificate has expired ...", "... unable
/// to get local issuer certificate"), "secure naming: expected spiffe://... got spiffe://...",
/// OpenSSL's reason for a fatal alert this side sent (e.g. "peer did not return a certificate"),
/// "peer sent alert: <description>" (e.g. "certificate expired", "unknown CA") for an alert
/// received, else OpenSSL's last queued error string. Empty when none is known.
std::string failureReason(SSL* ssl);

}  // namespace meshsim::proxy::tls
