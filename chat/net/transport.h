// Transport: how a connection's bytes cross the wire, below the codec: plain TCP here, TLS in
// chat/net/tls.h. Any codec runs over either (the line protocol, WebSocket), and neither codecs,
// rooms nor the registry know which (Redis 7 draws the same seam as one ConnectionType table per
// kind of connection).
//
// Thread contract: not thread-safe; owned, like its Connection, by one thread at a time.
#ifndef ROOMCHAT_CHAT_NET_TRANSPORT_H_
#define ROOMCHAT_CHAT_NET_TRANSPORT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chat/loop/socket.h"

namespace roomchat {

class Transport {
 public:
  // What one read got.
  struct ReadResult {
    enum class Kind { kData, kWouldBlock, kEndOfInput };
    Kind kind;
    size_t bytes = 0;  // kData: how many
  };

  virtual ~Transport() = default;

  // The descriptor an event loop watches.
  virtual int fd() const = 0;
  // Whether the bytes cross the wire inside TLS (metrics, the log; passwords may cross it).
  virtual bool tls() const = 0;
  // One read of at most `size` bytes into `buffer`. Aborted when the peer reset the connection;
  // another error for anything else.
  virtual absl::StatusOr<ReadResult> Read(char* buffer, size_t size) = 0;
  // One non-blocking write of at most `size` bytes; returns how many left (0: the socket is full).
  // Aborted when the peer reset or closed the connection; another error for anything else.
  virtual absl::StatusOr<size_t> Write(const char* data, size_t size) = 0;
  // No more output: the peer reads EOF after what was written.
  virtual void ShutdownWrite() = 0;
};

// A connected, non-blocking TCP socket.
class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(UniqueFd fd) : fd_(std::move(fd)) {}

  int fd() const override { return fd_.get(); }
  bool tls() const override { return false; }
  absl::StatusOr<ReadResult> Read(char* buffer, size_t size) override;
  absl::StatusOr<size_t> Write(const char* data, size_t size) override;
  void ShutdownWrite() override;

 private:
  const UniqueFd fd_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_TRANSPORT_H_
