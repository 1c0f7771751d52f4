#include "chat/net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/net/openssl_error.h"

namespace roomchat {
namespace {

// Forward secrecy and AEAD only for TLS 1.2 (TLS 1.3's suites are all of that kind).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

absl::StatusOr<SSL_CTX*> MakeContext(const std::string& cert_path, const std::string& key_path) {
  ERR_clear_error();
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr) return absl::InternalError("tls: " + TakeOpenSslError());
  auto fail = [&](absl::string_view what) {
    std::string reason = TakeOpenSslError();
    SSL_CTX_free(context);
    return absl::InvalidArgumentError(absl::StrCat("tls: ", what, ": ", reason));
  };
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION);
  // A client that closes without close_notify has simply left (its end of input), as on TCP.
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                   SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1) return fail("cipher list");
  if (SSL_CTX_use_certificate_chain_file(context, cert_path.c_str()) != 1) {
    return fail(absl::StrCat("certificate ", cert_path));
  }
  if (SSL_CTX_use_PrivateKey_file(context, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail(absl::StrCat("key ", key_path));
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    return fail(absl::StrCat("key ", key_path, " does not match ", cert_path));
  }
  return context;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::Load(std::string cert_path,
                                                             std::string key_path) {
  // OpenSSL writes with write(2), which raises SIGPIPE when the client has gone: a process that
  // serves TLS must ignore it (muduo and Redis do the same, process-wide), or one closed client
  // ends the server. main() does it too; this covers every other owner (tests, tools).
  signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<SSL_CTX*> context = MakeContext(cert_path, key_path);
  if (!context.ok()) return context.status();
  return std::unique_ptr<TlsContext>(
      new TlsContext(std::move(cert_path), std::move(key_path), *context));
}

TlsContext::TlsContext(std::string cert_path, std::string key_path, SSL_CTX* context)
    : cert_path_(std::move(cert_path)), key_path_(std::move(key_path)), context_(context) {}

TlsContext::~TlsContext() {
  absl::MutexLock lock(&mu_);
  SSL_CTX_free(context_);
}

absl::Status TlsContext::Reload() {
  absl::StatusOr<SSL_CTX*> context = MakeContext(cert_path_, key_path_);
  if (!context.ok()) return context.status();
  absl::MutexLock lock(&mu_);
  SSL_CTX_free(context_);  // SSLs made from it keep their own reference
  context_ = *context;
  return absl::OkStatus();
}

absl::StatusOr<SSL*> TlsContext::NewSsl(int fd) {
  ERR_clear_error();
  SSL* ssl;
  {
    absl::MutexLock lock(&mu_);
    ssl = SSL_new(context_);
  }
  if (ssl == nullptr) return absl::ResourceExhaustedError("tls: " + TakeOpenSslError());
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return absl::InternalError("tls: " + TakeOpenSslError());
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

TlsTransport::TlsTransport(UniqueFd fd, SSL* ssl) : fd_(std::move(fd)), ssl_(ssl) {}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

absl::StatusOr<TlsTransport::Progress> TlsTransport::Handshake() {
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_);
  if (result == 1) return Progress::kDone;
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ: return Progress::kWantRead;
    case SSL_ERROR_WANT_WRITE: return Progress::kWantWrite;
    case SSL_ERROR_SYSCALL:
      if (errno == ECONNRESET || errno == EPIPE || result == 0) {
        return absl::AbortedError("the client closed the connection during the TLS handshake");
      }
      return ErrnoStatus("tls handshake");
    default: return absl::InvalidArgumentError("tls handshake: " + TakeOpenSslError());
  }
}

std::string TlsTransport::Version() const { return SSL_get_version(ssl_); }

absl::StatusOr<Transport::ReadResult> TlsTransport::ReadRecord(char* buffer, size_t size) {
  ERR_clear_error();
  int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return ReadResult{ReadResult::Kind::kData, static_cast<size_t>(n)};
  switch (SSL_get_error(ssl_, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return ReadResult{ReadResult::Kind::kWouldBlock};
    case SSL_ERROR_ZERO_RETURN: return ReadResult{ReadResult::Kind::kEndOfInput};
    case SSL_ERROR_SYSCALL:
      if (n == 0 || errno == 0) return ReadResult{ReadResult::Kind::kEndOfInput};
      if (errno == ECONNRESET) return absl::AbortedError("reset");
      return ErrnoStatus("tls read");
    default: return absl::DataLossError("tls read: " + TakeOpenSslError());
  }
}

absl::StatusOr<Transport::ReadResult> TlsTransport::Read(char* buffer, size_t size) {
  size_t got = 0;
  while (got < size) {
    absl::StatusOr<ReadResult> record = ReadRecord(buffer + got, size - got);
    if (!record.ok()) return record;
    if (record->kind != ReadResult::Kind::kData) {
      if (got > 0) break;  // report the data; the end or the error shows on the next read
      return record;
    }
    got += record->bytes;
  }
  return ReadResult{ReadResult::Kind::kData, got};
}

absl::StatusOr<size_t> TlsTransport::Write(const char* data, size_t size) {
  if (size == 0) return 0;
  ERR_clear_error();
  int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return static_cast<size_t>(n);
  switch (SSL_get_error(ssl_, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return 0;
    case SSL_ERROR_SYSCALL:
      if (errno == ECONNRESET || errno == EPIPE) return absl::AbortedError("reset");
      return ErrnoStatus("tls write");
    case SSL_ERROR_ZERO_RETURN: return absl::AbortedError("the client closed its TLS session");
    default: return absl::DataLossError("tls write: " + TakeOpenSslError());
  }
}

void TlsTransport::ShutdownWrite() {
  if (!sent_close_) {
    sent_close_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify; the answer is not waited for
    ERR_clear_error();
  }
  ::shutdown(fd_.get(), SHUT_WR);
}

}  // namespace roomchat
