// TlsStream: a load generator connection's TLS (chat_bench --tls), over a socket that is blocking
// for the handshake and non-blocking after it. No certificate check: the bench measures, it does
// not trust (it runs on loopback against a test certificate).
//
// The streams read ahead (one read(2) takes in as many records as the socket holds, up to 64 KiB),
// so what OpenSSL has buffered, decrypted or not, is invisible to epoll: a reader calls Read()
// again while has_pending() is true, and waits for epoll only once it is false.
//
// Thread contract: not thread-safe; one generator thread owns each stream.
#ifndef ROOMCHAT_BENCH_TLS_STREAM_H_
#define ROOMCHAT_BENCH_TLS_STREAM_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace roomchat {

class TlsStream {
 public:
  // Handshakes over `fd` (connected and blocking). One SSL_CTX serves many streams: `context`.
  static absl::StatusOr<std::unique_ptr<TlsStream>> Handshake(SSL_CTX* context, int fd);
  // The client context every stream of a generator shares (TLS 1.2+, no verification).
  static SSL_CTX* NewClientContext();
  ~TlsStream();

  // Non-blocking: bytes read into `buffer`, 0 when there is nothing now; an error at the end.
  absl::StatusOr<size_t> Read(char* buffer, size_t size);
  // Non-blocking: bytes written (0 when the socket is full).
  absl::StatusOr<size_t> Write(const char* data, size_t size);
  // Bytes OpenSSL holds and Read() has not returned yet (records read ahead, decrypted or not).
  bool has_pending() const;

 private:
  explicit TlsStream(SSL* ssl) : ssl_(ssl) {}
  SSL* const ssl_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_BENCH_TLS_STREAM_H_
