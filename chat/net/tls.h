// TLS for the line port (OpenSSL 3, Debian's libssl): a server context that can be reloaded, and a
// Transport that speaks TLS over a non-blocking socket.
//
// TlsContext holds the certificate and key (PEM files), TLS 1.2 and 1.3 only, forward-secret AEAD
// ciphers, no renegotiation, no compression. Reload() reads the files again (SIGHUP); connections
// made after it use the new certificate, connections already made keep theirs (each SSL holds a
// reference to the SSL_CTX it was made from). A reload that fails keeps the old certificate.
//
// TlsTransport is a connection's transport once its handshake is done (the acceptor drives the
// handshake; see Handshake()). Read() reads records until the socket is drained or the buffer is
// full, so a short read still means "drained" for an edge-triggered loop, and nothing OpenSSL has
// already decrypted is left behind unnoticed: when the buffer fills, the caller reads again, and
// when the connection moves to another thread its SSL goes with it. OpenSSL's error queue is
// per thread, so it is cleared before every call. OpenSSL writes with write(2), so Load() sets
// SIGPIPE to be ignored, process-wide: a write to a closed client is an error, not the end.
//
// Thread contract: TlsContext is safe from any thread. A TlsTransport is not thread-safe; it is
// owned, like its Connection, by one thread at a time.
#ifndef ROOMCHAT_CHAT_NET_TLS_H_
#define ROOMCHAT_CHAT_NET_TLS_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "chat/loop/socket.h"
#include "chat/net/transport.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace roomchat {

class TlsContext {
 public:
  // Loads `cert_path` (a PEM chain) and `key_path` (its PEM private key); fails naming the file
  // and OpenSSL's reason.
  static absl::StatusOr<std::unique_ptr<TlsContext>> Load(std::string cert_path,
                                                          std::string key_path);
  ~TlsContext();

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Reads the files again; on failure the old certificate stays in use.
  absl::Status Reload();
  // A new server-side SSL over `fd`, from the current certificate.
  absl::StatusOr<SSL*> NewSsl(int fd);

 private:
  TlsContext(std::string cert_path, std::string key_path, SSL_CTX* context);

  // Const after construction.
  const std::string cert_path_;
  const std::string key_path_;

  absl::Mutex mu_;
  SSL_CTX* context_ ABSL_GUARDED_BY(mu_);
};

class TlsTransport final : public Transport {
 public:
  // Takes `ssl` (made by TlsContext::NewSsl over `fd`).
  TlsTransport(UniqueFd fd, SSL* ssl);
  ~TlsTransport() override;

  enum class Progress { kDone, kWantRead, kWantWrite };
  // One step of the server handshake; an error when it failed (a client that does not speak TLS,
  // an old protocol version, ...), with OpenSSL's reason.
  absl::StatusOr<Progress> Handshake();
  // The TLS version in use, e.g. "TLSv1.3".
  std::string Version() const;

  int fd() const override { return fd_.get(); }
  bool tls() const override { return true; }
  absl::StatusOr<ReadResult> Read(char* buffer, size_t size) override;
  absl::StatusOr<size_t> Write(const char* data, size_t size) override;
  void ShutdownWrite() override;

 private:
  // One SSL_read; kData with 0 bytes never happens.
  absl::StatusOr<ReadResult> ReadRecord(char* buffer, size_t size);

  const UniqueFd fd_;
  SSL* const ssl_;
  bool sent_close_ = false;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_TLS_H_
