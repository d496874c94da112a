#pragma once
/// A TLS stream for the sidecars: OpenSSL reads and writes records through a small BIO over two
/// per-connection byte buffers, and the stream moves those buffers to and from its transport.
///
/// Why not boost::asio::ssl::stream: its engine pushes every record through a BIO pair (one more
/// copy in each direction, a BIO_ctrl per operation) and drives each read and write through a
/// layered state machine; under wrk -c64, libcrypto and libc (the BIO pair and its copies) fell
/// from 15.5% to 11.2% of the chain process's profile with this stream instead. Here one
/// SSL_read/SSL_write works directly on the connection's buffers, all records one write produces
/// leave in one send (so a buffer sequence needs no flattening first), and an idle connection
/// waits on its transport's own read, which Asio tries speculatively before it waits.
///
/// Semantics follow asio::ssl::stream where callers can see them:
///  - errors OpenSSL reports are error_codes of asio::error::get_ssl_category() holding
///    ERR_get_error()'s packed code; an alert OpenSSL produced while failing is sent first;
///  - end of stream is asio::error::eof after the peer's close_notify and
///    asio::ssl::error::stream_truncated without one;
///  - at most one read and one handshake-or-write are in flight, and not a read and a write at
///    the same time (HTTP/1.1 and the TCP echo use a connection one direction at a time).
///
/// The stream owns the SSL (SSL_free when destroyed) and its transport (NextLayer: an
/// AsyncReadStream + AsyncWriteStream such as TimedSocket or a plain socket).

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace meshsim::proxy::tls {

/// The two byte buffers between OpenSSL and the transport.
struct RecordBuffers {
  /// Ciphertext received and not yet consumed by OpenSSL: in[begin, end).
  std::unique_ptr<char[]> in;
  size_t begin = 0;
  size_t end = 0;
  /// Ciphertext OpenSSL produced and not yet sent.
  std::string out;

  /// Room for the largest TLS record (16 KiB plaintext + header, padding and tag) and then some.
  static constexpr size_t kInCapacity = 18 * 1024;
  /// Makes room at the end of `in` (allocating it when there is none) and returns it.
  boost::asio::mutable_buffer readSpace();
  /// Frees `in` when it holds nothing: like SSL_MODE_RELEASE_BUFFERS for OpenSSL's own record
  /// buffers, an idle connection (a pooled one, a keep-alive one between requests) keeps no
  /// record buffer. The allocator's thread cache makes the next allocation cheap.
  void releaseIfEmpty() {
    if (begin == end && in) {
      in.reset();
      begin = end = 0;
    }
  }
};

/// Attaches a BIO over `buffers` to `ssl` as both its read and write BIO (SSL_set_bio).
/// False when OpenSSL cannot allocate it.
bool attachRecordBio(SSL* ssl, RecordBuffers* buffers);

/// The error_code for a failed SSL call: OpenSSL's first queued error in the ssl category, else
/// unspecified_system_error. Empties the thread's error queue.
boost::system::error_code sslError();

template <typename NextLayer>
class TlsStream {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;
  enum class Role { kClient, kServer };

  /// Takes ownership of `ssl` (from SSL_new on one of the identity's contexts).
  TlsStream(NextLayer next, SSL* ssl) : next_(std::move(next)), ssl_(ssl) {
    ok_ = ssl_ != nullptr && attachRecordBio(ssl_, &buffers_);
  }
  ~TlsStream() {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() { return next_; }
  const NextLayer& next_layer() const { return next_; }
  SSL* native_handle() { return ssl_; }

  /// Runs the TLS handshake as `role`. Handler: void(error_code).
  template <typename Token>
  auto async_handshake(Role role, Token&& token) {
    if (ssl_ != nullptr) {
      if (role == Role::kClient) {
        SSL_set_connect_state(ssl_);
      } else {
        SSL_set_accept_state(ssl_);
      }
    }
    return boost::asio::async_compose<Token, void(boost::system::error_code)>(
        Op<HandshakeStep>{this, {}}, token, next_);
  }

  /// Reads at least one byte of plaintext. Handler: void(error_code, size_t).
  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, size_t)>(
        Op<ReadStep<MutableBuffers>>{this, {buffers}}, token, next_);
  }

  /// Writes every byte of `buffers` (one record per buffer, all sent at once).
  /// Handler: void(error_code, size_t).
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, size_t)>(
        Op<WriteStep<ConstBuffers>>{this, {buffers}}, token, next_);
  }

 private:
  using error_code = boost::system::error_code;

  // What one SSL call asks for next.
  enum class Next { kDone, kRead, kFailed };

  // Classifies the result `r` of an SSL call; sets `ec` when it failed.
  Next classify(int r, error_code& ec) {
    if (r > 0) return Next::kDone;
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ:
        return Next::kRead;
      case SSL_ERROR_ZERO_RETURN:
        ec = boost::asio::error::eof;
        return Next::kFailed;
      default:
        ec = sslError();
        return Next::kFailed;
    }
  }

  // The transport's end of stream as asio::ssl reports it.
  error_code transportError(error_code ec) const {
    if (ec == boost::asio::error::eof && (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) == 0) {
      return boost::asio::ssl::error::stream_truncated;
    }
    return ec;
  }

  // One operation: runs the SSL call `step` until it is done, reading from the transport when it
  // wants input, and sending what it wrote before waiting for input and before completing (an
  // alert on failure too). Step: int(SSL*, size_t& bytes) returning the SSL call's result.
  template <typename Step>
  struct Op {
    TlsStream* s;
    Step step;
    enum { kRun, kReading, kSendingThenRun, kSendingThenComplete } state = kRun;
    error_code result{};  // of the SSL call, delivered after the send
    size_t n = 0;

    template <typename Self>
    void finish(Self& self, error_code ec, size_t bytes) {
      s->buffers_.releaseIfEmpty();
      if constexpr (Step::kHandshake) {
        self.complete(ec);
      } else {
        self.complete(ec, bytes);
      }
    }

    template <typename Self>
    void operator()(Self& self, error_code ec = {}, size_t transferred = 0) {
      auto& b = s->buffers_;
      switch (state) {
        case kRun:
          if (!s->ok_) return finish(self, boost::asio::error::no_memory, 0);
          if (step.waitsForInput(s->ssl_, b)) {
            // SSL_read could only ask for input here, and asking costs a pass through OpenSSL's
            // record layer: a reply is never in yet when a sidecar starts reading for it.
            state = kReading;
            return s->next_.async_read_some(b.readSpace(), std::move(self));
          }
          break;
        case kReading:
          if (ec) return finish(self, s->transportError(ec), 0);
          b.end += transferred;
          break;
        case kSendingThenRun:
          b.out.clear();
          if (ec) return finish(self, ec, 0);
          break;
        case kSendingThenComplete:
          b.out.clear();
          return finish(self, ec ? ec : result, ec || result ? 0 : n);
      }
      result = {};
      // SSL_get_error reads the thread's error queue: an error another OpenSSL user on this
      // thread left there (a JWT signature check, a certificate parse) would turn a plain
      // "wants input" into a failure. Peeking first: ERR_clear_error walks all sixteen slots
      // of the queue, and the queue is empty on nearly every call (it was 2% of a sidecar).
      if (ERR_peek_error() != 0) ERR_clear_error();
      const Next next = s->classify(step(s->ssl_, n), result);
      if (next == Next::kRead && b.out.empty()) {
        state = kReading;
        return s->next_.async_read_some(b.readSpace(), std::move(self));
      }
      if (b.out.empty()) return finish(self, result, next == Next::kDone ? n : 0);
      state = next == Next::kRead ? kSendingThenRun : kSendingThenComplete;
      boost::asio::async_write(s->next_, boost::asio::buffer(b.out), std::move(self));
    }
  };

  struct HandshakeStep {
    static constexpr bool kHandshake = true;
    int operator()(SSL* ssl, size_t&) const { return SSL_do_handshake(ssl); }
    static bool waitsForInput(SSL*, const RecordBuffers&) { return false; }
  };
  template <typename MutableBuffers>
  struct ReadStep {
    static constexpr bool kHandshake = false;
    MutableBuffers buffers;
    int operator()(SSL* ssl, size_t& n) const {
      const boost::asio::mutable_buffer first = *boost::asio::buffer_sequence_begin(buffers);
      n = 0;
      return first.size() == 0 ? 1 : SSL_read_ex(ssl, first.data(), first.size(), &n);
    }
    // Whether SSL_read can only want input: no ciphertext received and unread, nothing
    // buffered inside OpenSSL (a record or plaintext), no close_notify already taken in.
    bool waitsForInput(SSL* ssl, const RecordBuffers& b) const {
      return b.begin == b.end && (*boost::asio::buffer_sequence_begin(buffers)).size() != 0 &&
             SSL_has_pending(ssl) == 0 && (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) == 0;
    }
  };
  template <typename ConstBuffers>
  struct WriteStep {
    static constexpr bool kHandshake = false;
    ConstBuffers buffers;
    size_t done = 0;  // bytes of `buffers` already taken by SSL_write
    int operator()(SSL* ssl, size_t& n) {
      size_t skip = done;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        if (skip >= b.size()) {
          skip -= b.size();
          continue;
        }
        b += skip;
        skip = 0;
        size_t written = 0;
        const int r = SSL_write_ex(ssl, b.data(), b.size(), &written);
        if (r <= 0) return r;
        done += written;
      }
      n = done;
      return 1;
    }
    static bool waitsForInput(SSL*, const RecordBuffers&) { return false; }
  };

 private:
  NextLayer next_;
  SSL* ssl_;
  RecordBuffers buffers_;
  bool ok_ = false;
};

}  // namespace meshsim::proxy::tls
