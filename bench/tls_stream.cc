#include "bench/tls_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "chat/net/openssl_error.h"

namespace roomchat {
namespace {

std::string TakeError() { return TakeOpenSslError(std::strerror(errno)); }

constexpr size_t kReadAheadBytes = 64 * 1024;

}  // namespace

SSL_CTX* TlsStream::NewClientContext() {
  signal(SIGPIPE, SIG_IGN);  // OpenSSL writes with write(2): a closed server is an error, not the end
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read ahead into a buffer of several records: one read(2) brings in what the socket holds, where
  // without it every record costs two (its 5-byte header, then its body). Read() callers then drain
  // the buffer while has_pending() says so, since epoll cannot see it.
  SSL_CTX_set_read_ahead(context, 1);
  SSL_CTX_set_default_read_buffer_len(context, kReadAheadBytes);
  SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  return context;
}

absl::StatusOr<std::unique_ptr<TlsStream>> TlsStream::Handshake(SSL_CTX* context, int fd) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context);
  if (ssl == nullptr) return absl::InternalError("tls: " + TakeError());
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl));
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) return absl::UnavailableError("tls handshake: " + TakeError());
  return stream;
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

absl::StatusOr<size_t> TlsStream::Read(char* buffer, size_t size) {
  ERR_clear_error();
  int n = SSL_read(ssl_, buffer, static_cast<int>(size));
  if (n > 0) return static_cast<size_t>(n);
  switch (SSL_get_error(ssl_, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return 0;
    case SSL_ERROR_ZERO_RETURN: return absl::UnavailableError("the server ended the TLS session");
    default: return absl::UnavailableError("tls read: " + TakeError());
  }
}

absl::StatusOr<size_t> TlsStream::Write(const char* data, size_t size) {
  ERR_clear_error();
  int n = SSL_write(ssl_, data, static_cast<int>(size));
  if (n > 0) return static_cast<size_t>(n);
  switch (SSL_get_error(ssl_, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return 0;
    default: return absl::UnavailableError("tls write: " + TakeError());
  }
}

bool TlsStream::has_pending() const { return SSL_has_pending(ssl_) == 1; }

}  // namespace roomchat
