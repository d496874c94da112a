// TimedSocket: the sidecars' TCP connection with one deadline. Real loopback sockets; deadlines
// of tens of milliseconds, each test bounded by io_context::run_for; no sleeps.
#include "timed_socket.h"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>

namespace meshsim::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;
using error_code = boost::system::error_code;
using Acceptor = asio::basic_socket_acceptor<tcp, TimedSocket::Executor>;

// A connected pair on 127.0.0.1: `client` is a TimedSocket, `server` a plain socket.
struct Pair {
  asio::io_context io;
  Acceptor acceptor{io.get_executor(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  TimedSocket client{TimedSocket::Socket(io.get_executor())};
  TimedSocket::Socket server{io.get_executor()};

  Pair() {
    bool accepted = false;
    bool connected = false;
    acceptor.async_accept(server, [&](error_code ec) { accepted = !ec; });
    client.async_connect(acceptor.local_endpoint(), [&](error_code ec) { connected = !ec; });
    io.run_for(std::chrono::seconds(5));
    io.restart();
    EXPECT_TRUE(accepted && connected);
  }

  // One byte read by the client: what it got and how it ended.
  struct Read {
    char byte = 0;
    error_code ec;
    bool done = false;
  };
  // Starts a one-byte read on the client; `stop` ends the run when it completes (the
  // connection's timer may still be running).
  void startRead(Read& r, bool stop = false) {
    client.async_read_some(asio::buffer(&r.byte, 1), [this, &r, stop](error_code ec, size_t) {
      r.ec = ec;
      r.done = true;
      if (stop) io.stop();
    });
  }
};

TEST(TimedSocket, ReadPendingPastTheDeadlineTimesOutAndClosesTheSocket) {
  Pair p;
  p.client.expires_after(milliseconds(50));
  Pair::Read r;
  p.startRead(r);
  p.io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.ec, boost::beast::error::timeout) << r.ec.message();
  EXPECT_FALSE(p.client.socket().is_open());
}

TEST(TimedSocket, MovingTheDeadlineLaterKeepsAPendingReadAlive) {
  Pair p;
  p.client.expires_after(milliseconds(40));
  Pair::Read r;
  p.startRead(r, /*stop=*/true);
  // Push the deadline out, then let the peer answer after the first deadline has passed.
  p.client.expires_after(std::chrono::seconds(5));
  TimedSocket::Socket& server = p.server;
  asio::steady_timer answer(p.io, milliseconds(120));
  answer.async_wait([&](error_code) {
    asio::async_write(server, asio::buffer("x", 1), [](error_code, size_t) {});
  });
  p.io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(r.done);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.byte, 'x');
  EXPECT_TRUE(p.client.socket().is_open());
}

TEST(TimedSocket, EarlierDeadlineCutsAPendingReadShort) {
  Pair p;
  p.client.expires_after(std::chrono::seconds(30));
  Pair::Read r;
  const auto start = std::chrono::steady_clock::now();
  p.startRead(r);
  p.client.expires_after(milliseconds(30));
  p.io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.ec, boost::beast::error::timeout) << r.ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(TimedSocket, IdleConnectionIsNotClosedAndAnOperationAfterTheDeadlineTimesOut) {
  Pair p;
  // A write completes at once; its deadline then passes with nothing pending.
  p.client.expires_after(milliseconds(30));
  bool wrote = false;
  asio::async_write(p.client, asio::buffer("ping", 4), [&](error_code ec, size_t) { wrote = !ec; });
  asio::steady_timer later(p.io, milliseconds(80));
  Pair::Read r;
  later.async_wait([&](error_code) {
    EXPECT_TRUE(p.client.socket().is_open()) << "no operation was pending: nothing to time out";
    p.startRead(r);
  });
  p.io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(wrote);
  ASSERT_TRUE(r.done);
  EXPECT_EQ(r.ec, boost::beast::error::timeout) << "started after its deadline";
}

TEST(TimedSocket, NoDeadlineMeansNoTimeout) {
  Pair p;
  p.client.expires_never();
  std::string got(5, '\0');
  error_code rec;
  bool done = false;
  asio::async_read(p.client, asio::buffer(got), [&](error_code ec, size_t) {
    rec = ec;
    done = true;
  });
  asio::steady_timer answer(p.io, milliseconds(60));
  answer.async_wait([&](error_code) {
    asio::async_write(p.server, asio::buffer("hello", 5), [](error_code, size_t) {});
  });
  p.io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(done);
  EXPECT_FALSE(rec) << rec.message();
  EXPECT_EQ(got, "hello");
}

TEST(TimedSocket, DestroyingTheStreamWithATimerRunningIsSafe) {
  {
    Pair p;
    p.client.expires_after(milliseconds(20));
    Pair::Read r;
    p.startRead(r);
    p.io.run_for(milliseconds(1));  // the read and the timer are pending
    EXPECT_FALSE(r.done);
  }  // the stream, its timer and the io_context go away with work pending
  SUCCEED();
}

}  // namespace
}  // namespace meshsim::proxy
