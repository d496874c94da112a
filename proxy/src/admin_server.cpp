// The admin endpoint of `meshsim serve`: plain HTTP/1.1 on 127.0.0.1, one thread of its own so a
// handler that waits for the engine thread never stalls a sidecar.
#include "admin_server.h"

#include <cctype>

namespace meshsim::proxy {

AdminServer::AdminServer() = default;

AdminServer::~AdminServer() { stop(); }

Result<uint16_t> AdminServer::start(uint16_t port, dataplane::AdminHandler handler) {
  if (thread_.joinable()) return Status(StatusCode::kFailedPrecondition, "the admin endpoint is already running");
  handler_ = std::move(handler);
  error_code ec;
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(StatusCode::kUnavailable,
                  "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
  }
  const auto bound = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, acceptLoop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
  return bound;
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
  });
  io_.stop();
  thread_.join();
}

awaitable<void> AdminServer::acceptLoop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

awaitable<void> AdminServer::serve(Socket socket) {
  TcpStream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec) break;
    auto& req = parser.get();
    dataplane::AdminRequest ar;
    ar.method = std::string(req.method_string());
    std::string target(req.target());
    auto q = target.find('?');
    ar.path = target.substr(0, q);
    if (q != std::string::npos) ar.query = target.substr(q + 1);
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ar.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    ar.body = std::move(req.body());
    dataplane::AdminResponse out = handler_(ar);
    Response res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::server, "meshsim-admin");
    res.set(http::field::content_type, out.content_type);
    res.body() = std::move(out.body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
    if (wec || !res.keep_alive()) break;
  }
  error_code ignored;
  stream.socket().shutdown(Socket::shutdown_both, ignored);
}

}  // namespace meshsim::proxy
