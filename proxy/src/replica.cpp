// One workload replica: inbound listeners and the server-side filter chain (peer authentication
// → JWT → authorization → local rate limit → app), the in-process app, and the outbound side
// (route → endpoint → transport → pooled keep-alive connection). Runs on one io_context.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core.h"
#include "upstream_policy.h"
#include "meshsim/policy/authz.h"
#include "meshsim/policy/jwt.h"
#include "meshsim/policy/path.h"
#include "meshsim/routing/client_tls.h"
#include "meshsim/routing/destination.h"
#include "meshsim/routing/route.h"

namespace meshsim::proxy {

using Clock = std::chrono::steady_clock;

/// The method marking a TCP exchange inside the proxy (never sent on the wire).
constexpr std::string_view kTcpMethod = "MESHSIM-TCP";

/// A pooled upstream connection: plaintext or TLS, with its read buffer.
struct PooledConnection {
  std::unique_ptr<TcpStream> plain;
  std::unique_ptr<TlsStream> tls;
  beast::flat_buffer buffer;
  std::string out;  // the serialized request (writeMessage)
  bool mtls = false;
  std::string peer_spiffe_id;
  uint32_t requests = 0;  // requests carried (DestinationRule maxRequestsPerConnection)
};

/// What a server connection knows about its client.
struct Replica::ConnInfo {
  uint32_t port = 0;
  std::string remote_address;
  uint16_t remote_port = 0;
  std::optional<tls::PeerInfo> peer;  ///< verified mutual TLS
  bool mtls = false;
  model::MtlsMode mode = model::MtlsMode::kPermissive;  ///< the port's mode when accepted
};

// ------------------------------------------------------------------------- helpers

std::vector<std::pair<std::string, std::string>> policyHeaders(const Request& request) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(8);
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = field.value();
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == name; });
    if (it != out.end()) {
      it->second.append(",").append(value);
    } else {
      out.emplace_back(std::move(name), std::string(value));
    }
  }
  return out;
}

Response localReply(int status, std::string_view body, unsigned version, bool keep_alive) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "istio-envoy");
  if (!body.empty()) res.set(http::field::content_type, "text/plain");
  res.body() = std::string(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

double elapsedMs(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

namespace {

int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string fqdnOf(const model::Service* s) {
  return s == nullptr ? std::string() : s->meta.name + "." + s->meta.namespace_ + ".svc.cluster.local";
}

// The body Envoy shows for an upstream TLS failure, from the OpenSSL error of the handshake or of
// the first read after it (TLS 1.3 servers reject a client certificate after the client's
// handshake has completed).
std::string tlsFailureBody(const error_code& ec) {
  std::string reason = "TLS error";
  if (ec.category() == asio::error::get_ssl_category()) {
    switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
      case SSL_R_WRONG_VERSION_NUMBER:
      case SSL_R_PACKET_LENGTH_TOO_LONG:
      case SSL_R_RECORD_LENGTH_MISMATCH:
        reason = "TLS error: 268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER";
        break;
      case SSL_R_CERTIFICATE_VERIFY_FAILED:
        reason = "TLS error: CERTIFICATE_VERIFY_FAILED";
        break;
      case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
      case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
        reason = "TLS error: 268436498:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE";
        break;
      default:
        reason = "TLS error: " + ec.message();
    }
  } else if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof ||
             ec == asio::error::connection_reset) {
    return std::string(kBodyReset);
  } else {
    reason = "TLS error: " + ec.message();
  }
  return std::string(kBodyConnectFailure) + ", transport failure reason: " + reason;
}

// Whether any of the eight bytes of `word` needs a JSON escape: below 0x20, '"' or '\\'.
// The usual bit tricks for "has a byte less than n" and "has a zero byte" (after XOR with the
// character); exact for "any", and bytes >= 0x80 never match.
bool wordNeedsEscape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t quote = word ^ (kOnes * '"');
  const uint64_t backslash = word ^ (kOnes * '\\');
  return (((word - kOnes * 0x20) & ~word) | ((quote - kOnes) & ~quote) |
          ((backslash - kOnes) & ~backslash)) &
         kHigh;
}

// Appends `text` as a JSON string literal (RFC 8259 escaping; bytes >= 0x80 pass through).
// Runs of characters that need no escape are appended at once, found eight bytes at a time:
// the app writes every header it received into every answer.
void appendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the pending unescaped run
  for (size_t i = 0; i < text.size(); ++i) {
    if (i % 8 == 0 && i + 8 <= text.size()) {
      uint64_t word;
      std::memcpy(&word, text.data() + i, sizeof word);
      if (!wordNeedsEscape(word)) {
        i += 7;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(text.substr(run));
  out += '"';
}

bool isTlsError(const error_code& ec) { return ec.category() == asio::error::get_ssl_category(); }

// One HTTP/1.1 message as the bytes on the wire: start line, fields, blank line, body, into
// `out` (a per-connection buffer, so that a warm connection writes without allocating). Beast's
// serializer walks the fields and the body as a generic buffer sequence, which costs more on
// this path than the bytes themselves; every message the proxy writes has a string body sized
// by prepare_payload(), so one contiguous buffer and one write say the same. A chunked message
// (none is made here) keeps Beast's serializer. Header names go out in lower case, as Envoy's
// HTTP/1 codec writes them (apps and clients behind Envoy see "host", "content-type").
template <bool isRequest>
bool serializeMessage(const http::message<isRequest, http::string_body>& message,
                      std::string& out) {
  if (message.chunked()) return false;
  out.clear();
  const unsigned version = message.version();
  const char version_text[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + version / 10 % 10),
                               '.', static_cast<char>('0' + version % 10)};
  const std::string_view http_version(version_text, sizeof version_text);
  if constexpr (isRequest) {
    out.append(message.method_string()).append(" ").append(message.target()).append(" ");
    out.append(http_version).append("\r\n");
  } else {
    const unsigned status = message.result_int();
    const char code[] = {' ', static_cast<char>('0' + status / 100 % 10),
                         static_cast<char>('0' + status / 10 % 10),
                         static_cast<char>('0' + status % 10), ' '};
    out.append(http_version).append(code, sizeof code).append(message.reason()).append("\r\n");
  }
  for (const auto& field : message) {
    const size_t name_at = out.size();
    out.append(field.name_string());
    for (size_t i = name_at; i < out.size(); ++i) {
      if (out[i] >= 'A' && out[i] <= 'Z') out[i] = static_cast<char>(out[i] - 'A' + 'a');
    }
    out.append(": ").append(field.value()).append("\r\n");
  }
  out.append("\r\n").append(message.body());
  return true;
}

// Writes `message` through `out` (see serializeMessage). Not a coroutine itself: it hands back
// the write's own awaitable, so a message written costs no frame of its own. `message` and
// `out` must outlive the co_await of the result (every caller awaits it at once).
template <typename Stream, bool isRequest>
awaitable<std::tuple<error_code, size_t>> writeMessage(
    Stream& stream, const http::message<isRequest, http::string_body>& message, std::string& out) {
  if (!serializeMessage(message, out)) return http::async_write(stream, message, kTuple);
  return asio::async_write(stream, asio::buffer(out), kTuple);
}

// One HTTP/1.1 exchange on an established stream.
template <typename Stream>
awaitable<std::tuple<error_code, bool>> roundTrip(Stream& stream, beast::flat_buffer& buffer,
                                                  std::string& out, const Request& request,
                                                  http::response_parser<http::string_body>& parser,
                                                  Clock::time_point deadline) {
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [wec, wn] = co_await writeMessage(stream, request, out);
  if (wec) co_return std::make_tuple(wec, false);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kTuple);
  co_return std::make_tuple(rec, parser.got_some());
}

// A TCP "request": send the payload and expect it echoed back. 200 when it was, 0 (reset or
// closed without data: a TCP RBAC denial) otherwise.
template <typename Stream>
awaitable<std::tuple<error_code, std::string>> tcpEcho(Stream& stream, const std::string& payload,
                                                       Clock::time_point deadline) {
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(payload), kTuple);
  if (wec) co_return std::make_tuple(wec, std::string());
  std::string echoed(payload.size(), '\0');
  auto [rec, rn] = co_await asio::async_read(stream, asio::buffer(echoed), kTuple);
  co_return std::make_tuple(rec, std::move(echoed));
}

Request makeRequest(const OutboundRequest& r, std::string_view authority) {
  Request req;
  req.method_string(r.method);
  req.target(r.path);
  req.version(11);
  req.set(http::field::host, authority);
  for (const auto& [k, v] : r.headers) {
    if (k == "host" || k == "connection" || k == "content-length" || k == "transfer-encoding") continue;
    req.insert(k, v);
  }
  req.body() = r.body;
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

}  // namespace

// ------------------------------------------------------------------------- lifecycle

Replica::Replica(Mesh& mesh, asio::io_context& io, std::string key, uint32_t index,
                 std::string address, bool gateway)
    : mesh_(mesh),
      io_(io),
      key_(std::move(key)),
      index_(index),
      address_(std::move(address)),
      gateway_(gateway),
      rng_(static_cast<uint32_t>(std::hash<std::string>{}(key_) + index)) {}

Replica::~Replica() = default;

Status Replica::bindPort(uint32_t port) {
  error_code ec;
  auto listener = std::unique_ptr<Listener>(new Listener{port, Acceptor(io_), false});
  const tcp::endpoint ep(asio::ip::make_address_v4(address_, ec), static_cast<uint16_t>(port));
  if (ec) return invalidArgument("bad listener address " + address_);
  auto& a = listener->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(StatusCode::kUnavailable, "cannot listen on " + address_ + ":" +
                                                std::to_string(port) + ": " + ec.message());
  }
  if (port == 0) listener->port = a.local_endpoint().port();
  listeners_.push_back(std::move(listener));
  return okStatus();
}

std::vector<uint32_t> Replica::ports() const {
  std::vector<uint32_t> out;
  for (const auto& l : listeners_) out.push_back(l->port);
  return out;
}

void Replica::install(std::shared_ptr<const PlanView> view, const pki::Svid* svid) {
  // The token bucket survives a new plan (a certificate rotation, another workload's change)
  // unless this workload's bucket changed. Read before the old plan can go.
  const std::optional<model::TokenBucket> old_bucket =
      wp_ != nullptr ? wp_->rate_limit : std::optional<model::TokenBucket>();
  view_ = std::move(view);
  if (svid == nullptr) {
    svid_.reset();
    tls_.reset();
  } else if (!svid_ || svid_->serial_hex != svid->serial_hex) {
    // A new (rotated) certificate: new connections use it; established ones keep theirs.
    svid_ = *svid;
    tls_.reset();
  }
  if (!gateway_) {
    auto slash = key_.find('/');
    auto hash = key_.find('#');
    wp_ = view_->plan->find(std::string_view(key_).substr(0, slash),
                            std::string_view(key_).substr(slash + 1, hash - slash - 1));
    fqdn_ = wp_ != nullptr ? fqdnOf(wp_->service) : std::string();
  }
  hosts_.clear();  // resolved against the previous snapshot
  if (!sameBucket(old_bucket, wp_ != nullptr ? wp_->rate_limit : std::nullopt)) {
    bucket_init_ = false;
  }
  stopping_ = false;
  for (auto& l : listeners_) {
    if (!l->running) {
      l->running = true;
      asio::co_spawn(io_, acceptLoop(l.get()), asio::detached);
    }
  }
}

void Replica::shutdown() {
  stopping_ = true;
  for (auto& l : listeners_) {
    error_code ignored;
    l->acceptor.close(ignored);
  }
  pool_.clear();
}

// ------------------------------------------------------------------------- inbound

awaitable<void> Replica::acceptLoop(Listener* listener) {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, socket] = co_await listener->acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_ || !listener->acceptor.is_open()) {
        co_return;
      }
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    asio::co_spawn(io_, serveConnection(std::move(socket), listener->port), asio::detached);
  }
}

awaitable<void> Replica::serveConnection(Socket socket, uint32_t port) {
  auto self = shared_from_this();
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  ConnInfo info;
  info.port = port;
  auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  info.remote_address = remote.address().to_string();
  info.remote_port = remote.port();

  if (gateway_) {
    TcpStream stream(std::move(socket));
    co_await serveHttp(stream, info);
    co_return;
  }
  if (wp_ == nullptr) co_return;
  const dataplane::InboundPort* inbound = wp_->findPort(port);
  if (inbound == nullptr) co_return;
  info.mode = inbound->mode;
  const bool http_port = model::isHttp(inbound->protocol);

  // Without a sidecar the app listens itself: plaintext, no policy.
  bool tls_hello = false;
  if (wp_->sidecar && info.mode != model::MtlsMode::kDisable) {
    // Peek at the first byte: 0x16 starts a TLS handshake record (PERMISSIVE's TLS inspector).
    auto [wec] = co_await socket.async_wait(Socket::wait_read, kTuple);
    if (wec) co_return;
    unsigned char first = 0;
    ssize_t n = ::recv(socket.native_handle(), &first, 1, MSG_PEEK);
    if (n <= 0) co_return;
    tls_hello = first == 0x16;
    if (!tls_hello && info.mode == model::MtlsMode::kStrict) {
      // STRICT has no filter chain for plaintext: the connection is reset (NR).
      socket.set_option(asio::socket_base::linger(true, 0), ec);
      observe::AccessLogEntry e;
      e.start_unix_ms = unixMillis();
      e.workload = wp_->key;
      e.direction = "inbound";
      e.response_flags = "NR";
      e.response_details = "filter_chain_not_found";
      e.downstream_peer = info.remote_address + ":" + std::to_string(info.remote_port);
      e.upstream_host = address_ + ":" + std::to_string(port);
      mesh_.telemetry.log(std::move(e));
      socket.close(ec);
      co_return;
    }
  }
  if (!tls_hello) {
    TcpStream stream(std::move(socket));
    if (http_port) {
      co_await serveHttp(stream, info);
    } else {
      co_await serveTcp(stream, info);
    }
    co_return;
  }

  auto tls = identity();
  if (!tls) co_return;
  SSL* ssl = SSL_new(tls->serverContext());
  if (ssl == nullptr) co_return;
  tls::prepareServer(ssl, *tls);
  TlsStream stream(TcpStream(std::move(socket)), ssl);
  beast::get_lowest_layer(stream).expires_after(kConnectTimeout);
  auto [hec] = co_await stream.async_handshake(TlsStream::Role::kServer, kTuple);
  std::optional<tls::PeerInfo> peer;
  if (!hec) peer = tls::verifiedPeer(ssl);
  if (hec || !peer) {
    observe::AccessLogEntry e;
    e.start_unix_ms = unixMillis();
    e.workload = wp_->key;
    e.direction = "inbound";
    e.response_flags = "-";
    e.response_details = "tls_handshake_failed{" + tls::failureReason(ssl) + "}";
    e.downstream_peer = info.remote_address + ":" + std::to_string(info.remote_port);
    e.upstream_host = address_ + ":" + std::to_string(port);
    mesh_.telemetry.log(std::move(e));
    co_return;
  }
  info.peer = std::move(peer);
  info.mtls = true;
  if (http_port) {
    co_await serveHttp(stream, info);
  } else {
    co_await serveTcp(stream, info);
  }
}

template <typename Stream>
awaitable<void> Replica::serveHttp(Stream& stream, const ConnInfo& info) {
  auto self = shared_from_this();
  beast::flat_buffer buffer;
  std::string out;  // the serialized response (writeMessage)
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(8 * 1024 * 1024);
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec) {
      if (ec != http::error::end_of_stream && parser.got_some() && !stopping_ &&
          ec.category() == http::make_error_code(http::error::bad_method).category()) {
        // A malformed request (or a TLS ClientHello read as HTTP by a DISABLE port: DPE).
        Response bad = localReply(400, "Bad Request", 11, false);
        beast::get_lowest_layer(stream).expires_after(kConnectTimeout);
        co_await writeMessage(stream, bad, out);
      }
      break;
    }
    if (stopping_) break;
    Request& request = parser.get();
    Response response = co_await handleInbound(request, info);
    // Drain: a changed mTLS mode (or a removed workload) closes the connection after this
    // response, as Envoy drains listeners whose filter chains changed.
    bool keep = request.keep_alive() && !stopping_;
    if (!gateway_ && wp_ != nullptr) {
      const auto* inbound = wp_->findPort(info.port);
      if (inbound == nullptr || inbound->mode != info.mode) keep = false;
    }
    response.keep_alive(keep);
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    auto [wec, wn] = co_await writeMessage(stream, response, out);
    if (wec || !keep) break;
  }
  error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(Socket::shutdown_send, ignored);
}

template <typename Stream>
awaitable<void> Replica::serveTcp(Stream& stream, const ConnInfo& info) {
  auto self = shared_from_this();
  auto view = view_;
  const dataplane::WorkloadPlan* wp = wp_;
  Telemetry::Edge edge{"destination"};
  auto src = view->by_address.find(info.remote_address);
  edge.source = src != view->by_address.end() && info.mtls ? src->second.first : nullptr;
  edge.destination = wp;
  edge.source_principal = info.peer ? std::string_view(info.peer->spiffe_id) : std::string_view();
  edge.destination_service = fqdn_;
  edge.http = false;
  edge.mtls = info.mtls;
  if (wp->sidecar) {
    const policy::RequestAttributes attrs = connectionAttributes(info, false);
    auto decision = policy::evaluateAuthz(*wp->authz, attrs);
    if (!decision.allowed) {
      observe::AccessLogEntry e;
      e.start_unix_ms = unixMillis();
      e.workload = wp->key;
      e.direction = "inbound";
      e.response_details = std::string(decision.detail);
      e.downstream_peer = info.remote_address + ":" + std::to_string(info.remote_port);
      e.peer_principal = info.peer ? info.peer->spiffe_id : "-";
      mesh_.telemetry.log(std::move(e));
      co_return;  // TCP RBAC deny: the connection is closed without data
    }
  }
  mesh_.telemetry.tcp(edge, true);
  std::array<char, 16 * 1024> buf;
  for (;;) {
    beast::get_lowest_layer(stream).expires_after(kIdleTimeout);
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), kTuple);
    if (ec || n == 0) break;
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(buf.data(), n), kTuple);
    if (wec) break;
  }
  mesh_.telemetry.tcp(edge, false);
}

policy::RequestAttributes Replica::connectionAttributes(const ConnInfo& info, bool http) const {
  policy::RequestAttributes attrs;
  attrs.http = http;
  if (info.peer) attrs.peer = info.peer->identity;
  attrs.source_ip = info.remote_address;
  attrs.remote_ip = info.remote_address;
  attrs.destination_ip = address_;
  attrs.destination_port = info.port;
  return attrs;
}

std::shared_ptr<const tls::IdentityTls> Replica::identity() {
  if (!tls_ && svid_ && view_) {
    auto made = mesh_.identityFor(*svid_, view_->plan->trust, view_->plan->clock);
    if (made.ok()) {
      tls_ = *made;
    } else {
      observe::AccessLogEntry e;
      e.start_unix_ms = unixMillis();
      e.workload = gateway_ ? std::string("ingress") : key_;
      e.response_details = "tls_context_failed{" + made.status().message() + "}";
      mesh_.telemetry.log(std::move(e));
    }
  }
  return tls_;
}

bool Replica::takeToken() {
  const auto& bucket = *wp_->rate_limit;
  // Simulated time refills the bucket too (MeshRuntime::advanceTime).
  const auto now = meshNow(*view_->plan->clock);
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(1, bucket.fill_interval.millis));
  if (!bucket_init_) {
    tokens_ = bucket.max_tokens;
    last_fill_ = now;
    bucket_init_ = true;
  }
  const auto periods = (now - last_fill_) / interval;
  if (periods > 0) {
    tokens_ = std::min<double>(bucket.max_tokens,
                               tokens_ + static_cast<double>(periods) * bucket.tokens_per_fill);
    last_fill_ += periods * interval;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

awaitable<Response> Replica::handleInbound(Request& request, const ConnInfo& info) {
  auto self = shared_from_this();
  const auto start = Clock::now();
  const unsigned version = request.version();
  if (gateway_) {
    // The ingress gateway: route the request as a client sidecar would.
    OutboundRequest out;
    out.authority = std::string(request[http::field::host]);
    out.method = std::string(request.method_string());
    out.path = std::string(request.target());
    out.headers = policyHeaders(request);
    out.body = std::move(request.body());
    UpstreamResult r = co_await callUpstream(std::move(out));
    Response res{static_cast<http::status>(r.status == 0 ? 503 : r.status), version};
    for (const auto& [k, v] : r.headers) res.insert(k, v);
    res.body() = r.status == 0 ? std::string(kBodyReset) : std::move(r.body);
    res.prepare_payload();
    co_return res;
  }

  auto view = view_;
  const dataplane::WorkloadPlan* wp = wp_;
  const dataplane::InboundPort* inbound = wp->findPort(info.port);
  Telemetry::Edge edge{"destination"};
  auto src = view->by_address.find(info.remote_address);
  edge.source = src != view->by_address.end() ? src->second.first : nullptr;
  if (edge.source == nullptr && info.peer && info.peer->spiffe_id == view->ingress.spiffe_id) {
    edge.source = &view->ingress;  // entered through the ingress gateway
  }
  edge.destination = wp;
  edge.source_principal = info.peer ? std::string_view(info.peer->spiffe_id) : std::string_view();
  edge.destination_service = fqdn_;
  if (wp->service != nullptr) {
    edge.destination_service_name = wp->service->meta.name;
    edge.destination_service_namespace = wp->service->meta.namespace_;
  }
  edge.mtls = info.mtls;
  // Views into the request: the filters below add and remove other fields, never these.
  const std::string_view method = request.method_string();
  const std::string_view target = request.target();
  const std::string_view authority = request[http::field::host];

  auto finish = [&](Response res, std::string_view flags, std::string details) {
    mesh_.telemetry.request(edge, res.result_int(), flags, elapsedMs(start));
    if (!mesh_.telemetry.logging()) return res;
    observe::AccessLogEntry e;
    e.start_unix_ms = unixMillis();
    e.workload = wp->key;
    e.direction = "inbound";
    e.method = method;
    e.authority = authority;
    e.path = target;
    e.status = static_cast<int>(res.result_int());
    e.response_flags = flags.empty() ? "-" : std::string(flags);
    e.response_details = std::move(details);
    e.bytes_received = request.body().size();
    e.bytes_sent = res.body().size();
    e.duration_us = static_cast<uint64_t>(elapsedMs(start) * 1000);
    e.upstream_host = address_ + ":" + std::to_string(info.port);
    e.downstream_peer = info.remote_address + ":" + std::to_string(info.remote_port);
    e.peer_principal = info.peer ? info.peer->spiffe_id : "-";
    mesh_.telemetry.log(std::move(e));
    return res;
  };

  if (!wp->sidecar || inbound == nullptr) {
    Response res = co_await app(request, info, view);
    co_return res;
  }

  // 400: lower-case method, %00 in the path.
  if (Status st = policy::checkMethod(method); !st.ok()) {
    auto d = policy::badRequestDecision(st);
    co_return finish(localReply(d.status, d.body, version, false), "", "invalid_method");
  }
  auto normalized = policy::normalizePath(target);
  if (!normalized.ok()) {
    auto d = policy::badRequestDecision(normalized.status());
    co_return finish(localReply(d.status, d.body, version, false), "", "path_normalization_failed");
  }
  // Without RequestAuthentication or AuthorizationPolicy the filters have nothing to decide:
  // skip building their inputs (most workloads of a mesh, and every request's hot path).
  const bool jwt_rules = !wp->jwt->empty();
  const bool authz_rules = wp->authz->policyCount() > 0;
  std::vector<std::pair<std::string, std::string>> headers;
  if (jwt_rules || authz_rules) headers = policyHeaders(request);

  // JWT authentication.
  policy::JwtAuthnResult jres;
  if (jwt_rules) {
    policy::JwtRequest jr;
    jr.method = method;
    jr.host = authority;
    jr.path = target;
    jr.headers = headers;
    jres = policy::authenticateJwt(*wp->jwt, jr, view->plan->clock->now());
  }
  if (!jres.accepted) {
    Response res = localReply(jres.http_status, jres.body, version, request.keep_alive());
    for (const auto& [k, v] : jres.response_headers) res.set(k, v);
    co_return finish(std::move(res), "", "jwt_authn_access_denied{" + jres.body + "}");
  }
  for (const auto& h : jres.remove_headers) {
    headers.erase(std::remove_if(headers.begin(), headers.end(),
                                 [&](const auto& kv) { return kv.first == h; }),
                  headers.end());
    request.erase(h);
  }
  for (const auto& [k, v] : jres.add_headers) {
    headers.emplace_back(k, v);
    request.set(k, v);
  }

  // Authorization.
  if (authz_rules) {
    policy::RequestAttributes attrs = connectionAttributes(info, true);
    attrs.host = authority;
    attrs.method = method;
    attrs.path = normalized->path;
    attrs.headers = std::move(headers);
    attrs.auth = std::move(jres.auth);
    policy::AuthzDecision az = policy::evaluateAuthz(*wp->authz, attrs);
    if (!az.allowed) {
      co_return finish(localReply(az.status, az.body, version, request.keep_alive()), "",
                       std::string(az.detail));
    }
  }

  // Local rate limit.
  if (wp->rate_limit && !takeToken()) {
    Response res = localReply(429, kBodyRateLimited, version, request.keep_alive());
    res.set("x-local-rate-limit", "true");
    co_return finish(std::move(res), "RL", "local_rate_limited");
  }

  if (info.peer) {
    thread_local std::string xfcc;  // built without allocating once warm
    xfcc.assign("By=").append(wp->spiffe_id).append(";URI=").append(info.peer->spiffe_id);
    request.set("x-forwarded-client-cert", xfcc);
  }
  Response res = co_await app(request, info, view);
  co_return finish(std::move(res), "", "via_upstream");
}

// ------------------------------------------------------------------------- the app

awaitable<Response> Replica::app(const Request& request, const ConnInfo& info,
                                 const std::shared_ptr<const PlanView>& view) {
  auto self = shared_from_this();
  const dataplane::WorkloadPlan* wp = wp_;
  const model::ServiceBehaviour* behaviour =
      wp->service != nullptr ? &wp->service->behaviour : nullptr;
  // The answer is JSON written directly into one string: this runs for every request of every
  // app, and a DOM (one allocation per key) would cost more than the sidecars around it.
  std::string body;
  body.reserve(512);
  body += "{\"service\":";
  appendJsonString(body, wp->service != nullptr ? wp->service->meta.name : std::string_view());
  body += ",\"namespace\":";
  appendJsonString(body, wp->namespace_);
  body += ",\"workload\":";
  appendJsonString(body, wp->name);
  body += ",\"version\":";
  appendJsonString(body, wp->version);
  body += ",\"cluster\":";
  appendJsonString(body, wp->cluster);
  body += ",\"pod\":";
  appendJsonString(body, wp->replicas.size() > index_ ? std::string_view(wp->replicas[index_].pod)
                                                      : std::string_view(wp->name));
  body += ",\"method\":";
  appendJsonString(body, request.method_string());
  body += ",\"path\":";
  appendJsonString(body, request.target());
  body += ",\"mtls\":";
  body += info.mtls ? "true" : "false";
  body += ",\"headers\":{";
  bool first = true;
  for (const auto& field : request) {
    if (!first) body += ',';
    first = false;
    appendJsonString(body, field.name_string());
    body += ':';
    appendJsonString(body, field.value());
  }
  body += '}';
  int status = 200;
  if (behaviour != nullptr) {
    // The workload's own overrides (a failing or slow version) beat its Service's behaviour.
    static const model::BehaviourOverride kNoOverride;
    const model::BehaviourOverride& own =
        wp->workload != nullptr ? wp->workload->behaviour : kNoOverride;
    const double latency_ms = own.latency_ms.value_or(behaviour->latency_ms);
    const double error_rate = own.error_rate.value_or(behaviour->error_rate);
    const int32_t error_status = own.error_status.value_or(behaviour->error_status);
    if (latency_ms > 0) {
      Timer timer(io_);
      timer.expires_after(std::chrono::microseconds(static_cast<int64_t>(latency_ms * 1000)));
      co_await timer.async_wait(kTuple);
    }
    if (!behaviour->calls.empty()) body += ",\"calls\":[";
    bool first_call = true;
    for (const auto& call : behaviour->calls) {
      OutboundRequest out;
      std::string ns = wp->namespace_;
      std::string name = call.service;
      if (auto slash = call.service.find('/'); slash != std::string::npos) {
        ns = call.service.substr(0, slash);
        name = call.service.substr(slash + 1);
      }
      const model::Service* svc = view->plan->config->findService(ns, name);
      uint32_t port = call.port.value_or(svc != nullptr && !svc->ports.empty() ? svc->ports.front().port : 80);
      out.authority = name + "." + ns + ".svc.cluster.local:" + std::to_string(port);
      out.port = port;
      out.method = call.method;
      out.path = call.path;
      if (call.forward_jwt) {
        auto auth = request.find(http::field::authorization);
        if (auth != request.end()) out.headers.emplace_back("authorization", std::string(auth->value()));
      }
      if (auto rid = request.find("x-request-id"); rid != request.end()) {
        out.headers.emplace_back("x-request-id", std::string(rid->value()));
      }
      UpstreamResult r = co_await callUpstream(std::move(out));
      if (!first_call) body += ',';
      first_call = false;
      body += "{\"service\":";
      appendJsonString(body, ns + "/" + name);
      body += ",\"status\":" + std::to_string(r.status) + ",\"workload\":";
      appendJsonString(body, r.upstream_workload);
      if (!r.flags.empty()) {
        body += ",\"flags\":";
        appendJsonString(body, r.flags);
      }
      if (r.status >= 200 && r.status < 300) {
        dataplane::ProbeResult answered;
        readAppIdentity(r.body, answered);
        if (!answered.served_by.empty()) {
          body += ",\"version\":";
          appendJsonString(body, answered.version);
        }
      } else if (!r.body.empty()) {
        body += ",\"body\":";
        appendJsonString(body, std::string_view(r.body).substr(0, 200));
      }
      body += '}';
    }
    if (!behaviour->calls.empty()) body += ']';
    if (error_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < error_rate) {
      status = error_status;
    }
    if (behaviour->payload_bytes > 0) {
      body += ",\"payload\":\"";
      body.append(behaviour->payload_bytes, 'x');
      body += '"';
    }
  }
  body += '}';
  Response res{static_cast<http::status>(status), request.version()};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.prepare_payload();
  co_return res;
}

// ------------------------------------------------------------------------- outbound

std::shared_ptr<const routing::HostTarget> Replica::resolve(std::string_view host,
                                                            const PlanView& view) {
  if (&view == view_.get()) {
    if (auto it = hosts_.find(host); it != hosts_.end()) return it->second;
  }
  const std::string context_ns =
      wp_ != nullptr ? wp_->namespace_ : view.plan->config->rootNamespace();
  auto target = std::make_shared<const routing::HostTarget>(
      routing::resolveHost(*view.plan->config, host, context_ns));
  // Clients name a handful of hosts; anything else (a scan of made-up names) is not kept.
  // Only the current view's answers are kept (install() clears them).
  if (&view == view_.get() && hosts_.size() < 256) hosts_.emplace(std::string(host), target);
  return target;
}

awaitable<UpstreamResult> Replica::exchange(const std::shared_ptr<const PlanView>& view,
                                            const dataplane::WorkloadPlan& target,
                                            uint32_t replica, uint32_t target_port, bool mtls,
                                            bool tls_only, const Request& request,
                                            Clock::time_point deadline,
                                            uint32_t max_requests_per_connection) {
  UpstreamResult out;
  const std::string& addr = target.replicas[replica].address;
  out.upstream_host = addr + ":" + std::to_string(target_port);
  out.upstream_workload = target.key;
  const std::string pool_key = out.upstream_host + (mtls ? "|m" : tls_only ? "|s" : "|p");

  for (int fresh_try = 0; fresh_try < 2; ++fresh_try) {
    std::unique_ptr<PooledConnection> conn;
    auto& idle = pool_[pool_key];
    if (!idle.empty()) {
      conn = std::move(idle.back());
      idle.pop_back();
    }
    if (request.method_string() == kTcpMethod) conn.reset();
    const bool reused = conn != nullptr;
    if (!conn) {
      conn = std::make_unique<PooledConnection>();
      error_code ec;
      Socket socket(io_);
      socket.open(tcp::v4(), ec);
      if (!ec) socket.bind(tcp::endpoint(asio::ip::make_address_v4(address_, ec), 0), ec);
      if (ec) {
        out.status = 503;
        out.flags = "UF";
        out.body = std::string(kBodyConnectFailure);
        out.error = "bind " + address_ + ": " + ec.message();
        co_return out;
      }
      conn->plain = std::make_unique<TcpStream>(std::move(socket));
      conn->plain->expires_at(std::min(deadline, Clock::now() + kConnectTimeout));
      const tcp::endpoint ep(asio::ip::make_address_v4(addr, ec), static_cast<uint16_t>(target_port));
      auto [cec] = co_await conn->plain->async_connect(ep, kTuple);
      if (cec) {
        out.status = cec == beast::error::timeout ? 504 : 503;
        out.flags = cec == beast::error::timeout ? "UT" : "UF";
        out.body = std::string(cec == beast::error::timeout ? kBodyTimeout : kBodyConnectFailure);
        out.error = "connect " + out.upstream_host + ": " + cec.message();
        co_return out;
      }
      conn->plain->socket().set_option(tcp::no_delay(true), ec);
      if (mtls || tls_only) {
        std::shared_ptr<const tls::IdentityTls> identity = mtls ? this->identity() : nullptr;
        if (!identity) {
          auto anon = mesh_.anonymousFor(view->plan->trust, view->plan->clock);
          if (!anon.ok()) {
            out.status = 503;
            out.flags = "UF";
            out.body = std::string(kBodyConnectFailure);
            out.error = anon.status().message();
            co_return out;
          }
          identity = *anon;
        }
        SSL* ssl = SSL_new(identity->clientContext());
        tls::prepareClient(ssl, *identity, target.sidecar ? target.spiffe_id : std::string(),
                           out.upstream_host);
        conn->tls = std::make_unique<TlsStream>(std::move(*conn->plain), ssl);
        conn->plain.reset();
        auto [hec] = co_await conn->tls->async_handshake(TlsStream::Role::kClient, kTuple);
        if (hec) {
          out.status = 503;
          out.flags = "UF";
          out.body = tlsFailureBody(hec);
          std::string why = tls::failureReason(ssl);
          out.error = "TLS handshake with " + out.upstream_host + ": " + (why.empty() ? hec.message() : why);
          co_return out;
        }
        conn->mtls = mtls;
      }
    }

    if (request.method_string() == kTcpMethod) {
      // A TCP port: no HTTP, the payload goes through as bytes; connections are not pooled.
      error_code tec;
      std::string echoed;
      if (conn->tls) {
        std::tie(tec, echoed) = co_await tcpEcho(*conn->tls, request.body(), deadline);
      } else {
        std::tie(tec, echoed) = co_await tcpEcho(*conn->plain, request.body(), deadline);
      }
      out.mtls = conn->mtls;
      if (tec) {
        out.status = 0;
        out.error = "tcp " + out.upstream_host + ": connection closed without data (" + tec.message() + ")";
        if (isTlsError(tec)) {
          out.status = 503;
          out.flags = "UF";
          out.body = tlsFailureBody(tec);
        }
      } else {
        out.status = 200;
        out.body = std::move(echoed);
      }
      co_return out;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    error_code ec;
    bool got_some = false;
    if (conn->tls) {
      std::tie(ec, got_some) =
          co_await roundTrip(*conn->tls, conn->buffer, conn->out, request, parser, deadline);
    } else {
      std::tie(ec, got_some) =
          co_await roundTrip(*conn->plain, conn->buffer, conn->out, request, parser, deadline);
    }
    if (ec) {
      if (ec == beast::error::timeout) {
        out.status = 504;
        out.flags = "UT";
        out.body = std::string(kBodyTimeout);
        out.error = "upstream request timeout";
        co_return out;
      }
      if (reused && !got_some) continue;  // a stale pooled connection: try a fresh one
      out.status = 503;
      out.mtls = conn->mtls;
      if (isTlsError(ec)) {
        out.flags = "UF";
        out.body = tlsFailureBody(ec);
      } else {
        out.flags = "UC";
        out.body = std::string(kBodyReset);
      }
      out.error = "upstream " + out.upstream_host + ": " + ec.message();
      co_return out;
    }
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.mtls = conn->mtls;
    for (const auto& field : res) {
      if (field.name() == http::field::content_length || field.name() == http::field::connection ||
          field.name() == http::field::transfer_encoding) {
        continue;
      }
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    ++conn->requests;
    const bool spent =
        max_requests_per_connection != 0 && conn->requests >= max_requests_per_connection;
    if (res.keep_alive() && !stopping_ && !spent) {
      auto& back = pool_[pool_key];
      if (back.size() < kMaxIdlePerUpstream) back.push_back(std::move(conn));
    }
    co_return out;
  }
  out.status = 503;
  out.flags = "UC";
  out.body = std::string(kBodyReset);
  out.error = "upstream " + out.upstream_host + ": connection closed";
  co_return out;
}

awaitable<UpstreamResult> Replica::callUpstream(OutboundRequest r) {
  auto self = shared_from_this();
  auto view = view_;
  UpstreamResult out;
  if (!view || stopping_) {
    out.status = 503;
    out.flags = "UH";
    out.body = std::string(kBodyNoHealthyUpstream);
    co_return out;
  }
  const dataplane::MeshPlan& plan = *view->plan;
  const auto start = Clock::now();
  const dataplane::WorkloadPlan* me = wp_;

  // The Service port: from the request, the authority, or the Service's first port.
  uint32_t port = r.port;
  std::string_view host = routing::hostWithoutPort(r.authority);
  if (port == 0 && host.size() < r.authority.size()) {
    std::string_view p = std::string_view(r.authority).substr(host.size());
    if (!p.empty() && p.front() == ':') p.remove_prefix(1);
    for (char c : p) {
      if (c < '0' || c > '9') break;
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
  }
  const std::string& context_ns = me != nullptr ? me->namespace_ : plan.config->rootNamespace();
  const std::shared_ptr<const routing::HostTarget> resolved_host = resolve(host, *view);
  const routing::HostTarget& resolved = *resolved_host;
  if (port == 0 && resolved.resource != nullptr && !resolved.resource->ports.empty()) {
    port = resolved.resource->ports.front().port;
  }

  bool tcp_port = false;
  if (resolved.resource != nullptr) {
    for (const auto& sp : resolved.resource->ports) {
      if (sp.port == port) tcp_port = !model::isHttp(sp.protocol);
    }
  }
  if (tcp_port) {
    r.method = std::string(kTcpMethod);
    if (r.body.empty()) r.body = "meshsim tcp probe\n";
  }

  Telemetry::Edge edge{"source"};
  edge.source = me != nullptr ? me : gateway_ ? &view->ingress : nullptr;
  edge.http = !tcp_port;
  edge.source_principal = me != nullptr ? std::string_view(me->spiffe_id)
                          : gateway_    ? std::string_view(plan.ingress_svid.spiffe_id)
                                        : std::string_view();
  // canonical is the Service FQDN when the host names a Service.
  edge.destination_service = resolved.canonical;
  if (resolved.service) {
    edge.destination_service_name = resolved.service->name;
    edge.destination_service_namespace = resolved.service->namespace_;
  }
  std::string route_name = "default";

  auto finish = [&](UpstreamResult res, const dataplane::WorkloadPlan* dest) {
    edge.destination = dest;
    edge.mtls = res.mtls;
    const bool sidecar = gateway_ || (me != nullptr && me->sidecar);
    if (sidecar) {
      mesh_.telemetry.request(edge, res.status, res.flags, elapsedMs(start));
    }
    if (sidecar && mesh_.telemetry.logging()) {
      observe::AccessLogEntry e;
      e.start_unix_ms = unixMillis();
      e.workload = gateway_ ? std::string("ingress") : me->key;
      e.direction = "outbound";
      e.method = r.method;
      e.authority = r.authority;
      e.path = r.path;
      e.status = res.status;
      e.response_flags = res.flags.empty() ? "-" : res.flags;
      e.response_details = res.flags.empty() ? "via_upstream" : res.error.empty() ? "-" : res.error;
      e.bytes_received = r.body.size();  // from the app (the downstream of this hop)
      e.bytes_sent = res.body.size();
      e.duration_us = static_cast<uint64_t>(elapsedMs(start) * 1000);
      e.upstream_host = res.upstream_host.empty() ? "-" : res.upstream_host;
      e.downstream_peer = address_;
      e.peer_principal = res.mtls && dest != nullptr ? dest->spiffe_id : "-";
      e.route_name = route_name;
      mesh_.telemetry.log(std::move(e));
    }
    return res;
  };

  // A workload without a sidecar dials an endpoint of the Service directly, in plaintext.
  if (me != nullptr && !me->sidecar) {
    if (!resolved.service) {
      out.status = 503;
      out.error = "unknown service " + std::string(host);
      co_return finish(std::move(out), nullptr);
    }
    auto eps = routing::endpointsOf(*plan.config, *resolved.service);
    std::vector<std::pair<const dataplane::WorkloadPlan*, uint32_t>> candidates;
    for (const model::Workload* w : eps.workloads) {
      if (const auto* tp = plan.find(w)) {
        for (uint32_t i = 0; i < tp->replicas.size(); ++i) candidates.emplace_back(tp, i);
      }
    }
    if (candidates.empty()) {
      out.status = 0;
      out.error = "connection refused: no endpoint for " + resolved.service->key();
      co_return finish(std::move(out), nullptr);
    }
    auto [tp, idx] = candidates[round_robin_++ % candidates.size()];
    const auto* ip = tp->findServicePort(port);
    Request req = makeRequest(r, r.authority);
    auto deadline = start + (r.timeout.count() > 0 ? r.timeout : std::chrono::milliseconds(60000));
    UpstreamResult res = co_await exchange(view, *tp, idx, ip != nullptr ? ip->port : port, false,
                                           false, req, deadline);
    if (res.flags == "UC" || res.flags == "UF") {
      // No sidecar: the app sees the raw transport failure, not an Envoy reply.
      res.status = 0;
      res.error = res.error.empty() ? res.body : res.error;
      res.body.clear();
    }
    res.flags.clear();
    co_return finish(std::move(res), tp);
  }

  if (tcp_port) {
    // TCP: no HTTP routing; the whole Service, auto mTLS, the bytes echoed back.
    auto eps = resolved.service ? routing::endpointsOf(*plan.config, *resolved.service)
                                : routing::EndpointSet{};
    std::vector<std::pair<const dataplane::WorkloadPlan*, uint32_t>> candidates;
    for (const model::Workload* w : eps.workloads) {
      if (const auto* tp = plan.find(w)) {
        for (uint32_t i = 0; i < tp->replicas.size(); ++i) candidates.emplace_back(tp, i);
      }
    }
    if (candidates.empty()) {
      out.status = 503;
      out.flags = "UH";
      out.body = std::string(kBodyNoHealthyUpstream);
      co_return finish(std::move(out), nullptr);
    }
    auto [tp, idx] = candidates[round_robin_++ % candidates.size()];
    const dataplane::InboundPort* ip = tp->findServicePort(port);
    const auto mode = ip != nullptr ? ip->mode : model::MtlsMode::kPermissive;
    routing::EffectiveTrafficPolicy tpol;
    const routing::ClientTransport ct = routing::clientTransport(tpol, tp->sidecar, mode);
    Request req = makeRequest(r, r.authority);
    auto deadline = start + (r.timeout.count() > 0 ? r.timeout : std::chrono::milliseconds(60000));
    UpstreamResult res = co_await exchange(view, *tp, idx, ip != nullptr ? ip->port : port,
                                           ct.sends_mtls, ct.sends_tls && !ct.sends_mtls, req, deadline);
    co_return finish(std::move(res), tp);
  }

  routing::RouteRequest rr;
  rr.source_namespace = context_ns;
  rr.source_labels = me != nullptr ? &me->workload->labels : nullptr;
  rr.gateway = routing::kMeshGateway;
  rr.authority = r.authority;
  rr.port = port;
  rr.method = r.method;
  rr.path = r.path;
  rr.headers = r.headers;
  std::uniform_real_distribution<double> draw(0, 1);
  routing::RouteDice dice{draw(rng_), draw(rng_), draw(rng_)};
  routing::RouteResult route = routing::selectRoute(plan.routes, rr, dice);
  if (route.info != nullptr && !route.info->virtual_service.empty()) {
    route_name = route.info->virtual_service;
  }
  if (route.outcome != routing::RouteOutcome::kForward &&
      route.outcome != routing::RouteOutcome::kTimeout) {
    out.status = route.status;
    out.body = std::string(route.body);
    out.flags = std::string(route.flags);
    if (route.outcome == routing::RouteOutcome::kRedirect) {
      out.headers.emplace_back("location", route.location);
    }
    co_return finish(std::move(out), nullptr);
  }
  if (route.delay) {
    Timer timer(io_);
    timer.expires_after(std::chrono::milliseconds(route.delay->millis));
    co_await timer.async_wait(kTuple);
  }
  std::vector<std::pair<const dataplane::WorkloadPlan*, uint32_t>> candidates;
  if (route.endpoints != nullptr) {
    for (const model::Workload* w : route.endpoints->workloads) {
      if (const auto* tp = plan.find(w)) {
        for (uint32_t i = 0; i < tp->replicas.size(); ++i) candidates.emplace_back(tp, i);
      }
    }
  }
  if (candidates.empty()) {
    out.status = 503;
    out.flags = "UH";
    out.body = std::string(kBodyNoHealthyUpstream);
    co_return finish(std::move(out), nullptr);
  }

  std::chrono::milliseconds timeout = r.timeout;
  if (timeout.count() == 0) {
    timeout = route.timeout ? std::chrono::milliseconds(route.timeout->millis)
                            : std::chrono::milliseconds(60000);
    if (timeout.count() == 0) timeout = std::chrono::milliseconds(60000);
  }
  const auto deadline = Clock::now() + timeout;
  const std::string upstream_authority =
      std::string(route.host) + ":" + std::to_string(route.port != 0 ? route.port : port);
  Request req = makeRequest(r, r.authority.empty() ? upstream_authority : r.authority);
  // rewrite.uri replaces the matched prefix; the route layer resolved what to send.
  if (!route.rewrite_uri.empty()) req.target(route.rewrite_uri);
  // Endpoint pick, circuit breakers, retries and outlier ejection: upstream_policy.cpp.
  const dataplane::WorkloadPlan* dest = nullptr;
  UpstreamResult res = co_await forward(view, route, candidates, port, req, deadline, &dest);
  co_return finish(std::move(res), dest);
}

}  // namespace meshsim::proxy
