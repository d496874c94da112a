#pragma once
/// A TCP socket with one deadline per connection, for the sidecars' request path.
///
/// beast::basic_stream gives the same timeouts by arming a timer for every read and write and
/// cancelling it when the operation completes: two timer-queue updates and one extra handler per
/// operation, six times per proxied request. Here setting a deadline only stores it; one timer
/// per connection is armed when an operation starts without one running, and when it fires it
/// either moves to the current deadline or, the deadline having passed with an operation
/// pending, closes the socket. So a busy keep-alive connection wakes its timer about once per
/// idle timeout, not per operation.
///
/// Semantics are basic_stream's: a deadline applies while an operation is pending; the
/// operation pending when it passes, and any started after it passed, complete with
/// beast::error::timeout, and the socket is closed. Destroying the stream closes the socket.

#include <boost/asio.hpp>
#include <boost/beast/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

namespace meshsim::proxy {

class TimedSocket {
 public:
  using Executor = boost::asio::io_context::executor_type;
  using executor_type = Executor;
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
  using Clock = std::chrono::steady_clock;
  using error_code = boost::system::error_code;

  explicit TimedSocket(Socket socket) : st_(std::make_shared<State>(std::move(socket))) {}
  TimedSocket(TimedSocket&&) noexcept = default;
  TimedSocket& operator=(TimedSocket&&) = delete;
  ~TimedSocket() {
    if (!st_) return;  // moved from
    error_code ignored;
    st_->socket.close(ignored);
    st_->timer.cancel();
  }

  executor_type get_executor() noexcept { return st_->socket.get_executor(); }
  Socket& socket() { return st_->socket; }

  /// Operations pending at `deadline`, or started after it, fail with beast::error::timeout.
  void expires_at(Clock::time_point deadline) {
    State& st = *st_;
    st.deadline = deadline;
    // A running timer set for later than the new deadline must come forward; one set for
    // earlier moves on by itself when it fires.
    if (st.armed && deadline < st.armed_for) arm(st_, deadline);
  }
  void expires_after(Clock::duration after) { expires_at(Clock::now() + after); }
  void expires_never() { st_->deadline = Clock::time_point::max(); }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return transfer<true>(buffers, std::forward<Token>(token));
  }

  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return transfer<false>(buffers, std::forward<Token>(token));
  }

  template <typename Token>
  auto async_connect(const boost::asio::ip::tcp::endpoint& endpoint, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [](auto handler, const std::shared_ptr<State>& st,
           const boost::asio::ip::tcp::endpoint& ep) {
          if (!begin<false>(st, handler)) return;
          st->socket.async_connect(ep, Done<decltype(handler)>{std::move(handler), st});
        },
        token, st_, endpoint);
  }

 private:
  struct State {
    explicit State(Socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    Socket socket;
    boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, Executor> timer;
    Clock::time_point deadline = Clock::time_point::max();
    Clock::time_point armed_for{};  // when the running timer fires
    uint64_t generation = 0;        // of the running timer; older waits are stale
    uint32_t pending = 0;           // operations in flight
    bool armed = false;
    bool timed_out = false;
  };

  // async_read_some (kRead) or async_write_some on the socket, under the deadline.
  template <bool kRead, typename Buffers, typename Token>
  auto transfer(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, size_t)>(
        [](auto handler, const std::shared_ptr<State>& st, const Buffers& b) {
          if (!begin<true>(st, handler)) return;
          Done<decltype(handler)> done{std::move(handler), st};
          if constexpr (kRead) {
            st->socket.async_read_some(b, std::move(done));
          } else {
            st->socket.async_write_some(b, std::move(done));
          }
        },
        token, st_, buffers);
  }

  static void arm(const std::shared_ptr<State>& st, Clock::time_point when) {
    st->armed = true;
    st->armed_for = when;
    const uint64_t generation = ++st->generation;
    st->timer.expires_at(when);
    st->timer.async_wait([weak = std::weak_ptr<State>(st), generation](error_code ec) {
      if (ec) return;  // cancelled: re-armed or destroyed
      auto state = weak.lock();
      if (!state || state->generation != generation) return;
      state->armed = false;
      if (state->pending == 0 || state->deadline == Clock::time_point::max()) return;
      if (Clock::now() < state->deadline) return arm(state, state->deadline);
      expire(*state);
    });
  }

  static void expire(State& st) {
    st.timed_out = true;
    error_code ignored;
    st.socket.close(ignored);
  }

  // Starts an operation: false (and `handler` completed with a timeout) when the deadline has
  // passed; otherwise makes sure the timer runs while it is pending.
  template <bool kWithSize, typename Handler>
  static bool begin(const std::shared_ptr<State>& st, Handler& handler) {
    if (st->deadline != Clock::time_point::max()) {
      if (st->timed_out || Clock::now() >= st->deadline) {
        expire(*st);
        boost::asio::post(st->socket.get_executor(),
                          [h = std::move(handler)]() mutable {
                            if constexpr (kWithSize) {
                              std::move(h)(boost::beast::error::timeout, size_t{0});
                            } else {
                              std::move(h)(boost::beast::error::timeout);
                            }
                          });
        return false;
      }
      if (!st->armed) arm(st, st->deadline);
    }
    ++st->pending;
    return true;
  }

  // Completes an operation, reporting a cancellation by the deadline as a timeout.
  template <typename Handler>
  struct Done {
    Handler handler;
    std::shared_ptr<State> st;
    void operator()(error_code ec, size_t n) {
      --st->pending;
      if (ec && st->timed_out) ec = boost::beast::error::timeout;
      std::move(handler)(ec, n);
    }
    void operator()(error_code ec) {
      --st->pending;
      if (ec && st->timed_out) ec = boost::beast::error::timeout;
      std::move(handler)(ec);
    }
  };

  std::shared_ptr<State> st_;
};

}  // namespace meshsim::proxy
