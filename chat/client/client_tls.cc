#include "chat/client/client_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "chat/net/openssl_error.h"

namespace roomchat {
namespace {

std::string TakeError(SSL* ssl, int result) {
  // SSL_get_error reads the queue, so it is asked before TakeOpenSslError empties it.
  bool syscall = ssl != nullptr && SSL_get_error(ssl, result) == SSL_ERROR_SYSCALL;
  std::string text = TakeOpenSslError(
      !syscall ? "no detail from OpenSSL"
               : (errno != 0 ? std::strerror(errno) : "the server closed the connection"));
  if (ssl != nullptr && SSL_get_verify_result(ssl) != X509_V_OK) {
    text = absl::StrCat("certificate not trusted: ",
                        X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
  }
  return text;
}

bool IsAddress(const std::string& host) {
  unsigned char scratch[16];
  return inet_pton(AF_INET, host.c_str(), scratch) == 1 ||
         inet_pton(AF_INET6, host.c_str(), scratch) == 1;
}

absl::Status Configure(SSL_CTX* context, SSL* ssl, const std::string& host,
                       const ClientTlsOptions& options) {
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  if (options.insecure) return absl::OkStatus();
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  int loaded = options.ca_file.empty()
                   ? SSL_CTX_set_default_verify_paths(context)
                   : SSL_CTX_load_verify_locations(context, options.ca_file.c_str(), nullptr);
  if (loaded != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load CA ", options.ca_file, ": ", TakeError(nullptr, 0)));
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  int checked = IsAddress(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (checked != 1) return absl::InvalidArgumentError("cannot check the server's name " + host);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClientTls>> ClientTls::Handshake(int fd, const std::string& host,
                                                                const ClientTlsOptions& options) {
  ERR_clear_error();
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) return absl::InternalError("tls: " + TakeError(nullptr, 0));
  SSL* ssl = SSL_new(context);
  std::unique_ptr<ClientTls> tls(new ClientTls(context, ssl));
  if (ssl == nullptr) return absl::InternalError("tls: " + TakeError(nullptr, 0));
  if (absl::Status configured = Configure(context, ssl, host, options); !configured.ok()) {
    return configured;
  }
  if (!IsAddress(host)) SSL_set_tlsext_host_name(ssl, host.c_str());
  SSL_set_fd(ssl, fd);
  int result = SSL_connect(ssl);
  if (result != 1) return absl::UnavailableError("TLS handshake failed: " + TakeError(ssl, result));
  return tls;
}

ClientTls::~ClientTls() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  SSL_CTX_free(context_);
}

absl::StatusOr<size_t> ClientTls::Read(char* buffer, size_t size) {
  ERR_clear_error();
  int n = SSL_read(ssl_, buffer, static_cast<int>(size));
  if (n > 0) return static_cast<size_t>(n);
  int error = SSL_get_error(ssl_, n);
  if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && n == 0)) return 0;
  if (error == SSL_ERROR_SYSCALL && errno == ECONNRESET) {
    return absl::UnavailableError("the server reset the connection");
  }
  return absl::UnavailableError("tls read: " + TakeError(ssl_, n));
}

absl::Status ClientTls::Write(absl::string_view bytes) {
  while (!bytes.empty()) {
    ERR_clear_error();
    int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    if (n <= 0) return absl::UnavailableError("tls write: " + TakeError(ssl_, n));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

size_t ClientTls::pending() const { return static_cast<size_t>(SSL_pending(ssl_)); }

std::string ClientTls::version() const { return SSL_get_version(ssl_); }

}  // namespace roomchat
