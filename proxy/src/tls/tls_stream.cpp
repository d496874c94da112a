#include "tls/tls_stream.h"

#include <openssl/bio.h>

#include <algorithm>

namespace meshsim::proxy::tls {
namespace {

// The BIO between OpenSSL and a RecordBuffers: reads take ciphertext the stream received (or ask
// to be retried when there is none), writes append to what the stream will send. Neither ever
// touches a socket, so OpenSSL never blocks and never sees EAGAIN.
int bioRead(BIO* bio, char* data, size_t len, size_t* read) {
  auto* b = static_cast<RecordBuffers*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const size_t available = b->end - b->begin;
  if (available == 0) {
    BIO_set_retry_read(bio);
    *read = 0;
    return 0;
  }
  const size_t n = std::min(len, available);
  std::memcpy(data, b->in.get() + b->begin, n);
  b->begin += n;
  if (b->begin == b->end) b->begin = b->end = 0;
  *read = n;
  return 1;
}

int bioWrite(BIO* bio, const char* data, size_t len, size_t* written) {
  auto* b = static_cast<RecordBuffers*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  b->out.append(data, len);
  *written = len;
  return 1;
}

long bioCtrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  auto* b = static_cast<RecordBuffers*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // the stream sends `out` when the SSL call returns
    case BIO_CTRL_PENDING:
      return b == nullptr ? 0 : static_cast<long>(b->end - b->begin);
    case BIO_CTRL_WPENDING:
      return b == nullptr ? 0 : static_cast<long>(b->out.size());
    default:
      return 0;
  }
}

int bioCreate(BIO* bio) {
  BIO_set_init(bio, 0);
  BIO_set_data(bio, nullptr);
  return 1;
}

const BIO_METHOD* recordBioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "meshsim records");
    if (m != nullptr) {
      BIO_meth_set_read_ex(m, bioRead);
      BIO_meth_set_write_ex(m, bioWrite);
      BIO_meth_set_ctrl(m, bioCtrl);
      BIO_meth_set_create(m, bioCreate);
    }
    return m;
  }();
  return method;
}

}  // namespace

boost::asio::mutable_buffer RecordBuffers::readSpace() {
  if (!in) in = std::make_unique_for_overwrite<char[]>(kInCapacity);
  if (begin == end) {
    begin = end = 0;
  } else if (begin > 0 && kInCapacity - end < kInCapacity / 2) {
    std::memmove(in.get(), in.get() + begin, end - begin);
    end -= begin;
    begin = 0;
  }
  return boost::asio::mutable_buffer(in.get() + end, kInCapacity - end);
}

bool attachRecordBio(SSL* ssl, RecordBuffers* buffers) {
  const BIO_METHOD* method = recordBioMethod();
  if (method == nullptr) return false;
  BIO* bio = BIO_new(method);
  if (bio == nullptr) return false;
  BIO_set_data(bio, buffers);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // one reference, for both directions
  return true;
}

boost::system::error_code sslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return boost::asio::ssl::error::unspecified_system_error;
  return {static_cast<int>(code), boost::asio::error::get_ssl_category()};
}

}  // namespace meshsim::proxy::tls
