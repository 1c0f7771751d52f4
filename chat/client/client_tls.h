// ClientTls: the client side of TLS for LineConnection (the terminal client's --tls): a blocking
// handshake over a connected socket that checks the server's certificate (the system's CAs, or
// one CA file, and the name or address the client connected to), then reads and writes.
//
// OpenSSL reads one record at a time and keeps what it decrypted beyond what was asked for; a
// caller that polls the socket must first take what is pending() (poll cannot see it).
//
// Thread contract: not thread-safe; owned by its LineConnection.
#ifndef ROOMCHAT_CHAT_CLIENT_CLIENT_TLS_H_
#define ROOMCHAT_CHAT_CLIENT_CLIENT_TLS_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace roomchat {

struct ClientTlsOptions {
  std::string ca_file;    // empty: the system's CAs
  bool insecure = false;  // accept any certificate (a self-signed one in a test); says so
};

class ClientTls {
 public:
  // Handshakes over `fd` (connected, blocking) with the server called `host`; the error says why
  // (an untrusted or mismatched certificate, a server that does not speak TLS, ...).
  static absl::StatusOr<std::unique_ptr<ClientTls>> Handshake(int fd, const std::string& host,
                                                              const ClientTlsOptions& options);
  ~ClientTls();

  ClientTls(const ClientTls&) = delete;
  ClientTls& operator=(const ClientTls&) = delete;

  // Blocking: bytes read (0 at the end of the session), or an error.
  absl::StatusOr<size_t> Read(char* buffer, size_t size);
  // Blocking: all of `bytes`.
  absl::Status Write(absl::string_view bytes);
  // Decrypted bytes waiting in OpenSSL.
  size_t pending() const;
  // "TLSv1.3", for the person.
  std::string version() const;

 private:
  ClientTls(SSL_CTX* context, SSL* ssl) : context_(context), ssl_(ssl) {}

  SSL_CTX* const context_;
  SSL* const ssl_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLIENT_CLIENT_TLS_H_
