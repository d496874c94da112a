#pragma once
// A small HTTP/1.1 server for the admin endpoint (`meshsim serve --admin-port`).

#include <thread>

#include "core.h"

namespace meshsim::proxy {

/// Serves an AdminHandler on 127.0.0.1 from its own io_context and thread.
class AdminServer {
 public:
  AdminServer();
  /// Stops and joins.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// Binds 127.0.0.1:`port` (0 = ephemeral) and starts serving; returns the bound port.
  Result<uint16_t> start(uint16_t port, dataplane::AdminHandler handler);
  /// Closes the listener and joins the thread. Idempotent.
  void stop();

 private:
  awaitable<void> acceptLoop();
  awaitable<void> serve(Socket socket);

  asio::io_context io_{1};
  Acceptor acceptor_{io_};
  dataplane::AdminHandler handler_;
  std::thread thread_;
};

}  // namespace meshsim::proxy
