// LineConnection: a client's TCP connection to a roomchat server, its input read as lines. The one
// "socket and lines" reader of the client side: the terminal client (//tools) and the end-to-end
// tests' TestClient (//tests) are built on it. (The load generator in //bench frames lines itself:
// it reads thousands of non-blocking sockets per thread.)
//
// Lines are split at LF and handed over without it; nothing else is interpreted. A connection the
// server closed (EOF) or reset reads as Unavailable. Over TLS (ClientTls), every read also takes
// what OpenSSL had already decrypted, so a caller polling fd() never misses a line.
//
// Thread contract: not thread-safe; one thread uses a LineConnection at a time.
#ifndef ROOMCHAT_CHAT_CLIENT_LINE_CONNECTION_H_
#define ROOMCHAT_CHAT_CLIENT_LINE_CONNECTION_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "chat/client/client_tls.h"
#include "chat/loop/socket.h"

namespace roomchat {

struct LineConnectionOptions {
  // SO_RCVBUF set before connecting; 0 keeps the system's default. A small one makes a slow
  // reader.
  int receive_buffer_bytes = 0;
  // A local address to bind before connecting (e.g. "127.0.0.2", another loopback address, so a
  // test can be a client from a second address); empty lets the system pick.
  std::string local_address;
  // TLS (a server's --tls_port): the certificate is checked against the system's CAs or
  // tls.ca_file, and against the host connected to, unless tls.insecure.
  bool tls = false;
  ClientTlsOptions tls_options;
};

class LineConnection {
 public:
  // Connects to host:port (a name or an address); the error says host:port and why.
  static absl::StatusOr<std::unique_ptr<LineConnection>> Connect(
      const std::string& host, int port, LineConnectionOptions options = {});
  // Adopts a socket that is already connected (a socketpair end, in tests).
  static std::unique_ptr<LineConnection> Adopt(UniqueFd fd);

  LineConnection(const LineConnection&) = delete;
  LineConnection& operator=(const LineConnection&) = delete;

  int fd() const { return fd_.get(); }
  // "TLSv1.3" over TLS; empty over plain TCP.
  std::string tls_version() const { return tls_ == nullptr ? "" : tls_->version(); }

  // Sends all of `bytes`, blocking.
  absl::Status Send(absl::string_view bytes);

  // One read, blocking until bytes come: appends each line it completed to `lines`.
  absl::Status ReadLines(std::vector<std::string>* lines);

  // The next line, without its LF, waiting until `deadline` at most: DeadlineExceeded if none came
  // in time. Lines already buffered are returned without reading.
  absl::StatusOr<std::string> ReadLine(absl::Time deadline);

  // Closes with a RST instead of a FIN, as a crashed client would.
  void Reset();
  // Closes with a FIN.
  void Close() { fd_.Reset(); }

 private:
  explicit LineConnection(UniqueFd fd) : fd_(std::move(fd)) {}

  // One read of what the socket (or OpenSSL) has: bytes read, 0 at the end, -1 when there was
  // nothing after all (poll again); or an error.
  absl::StatusOr<ssize_t> ReadSome(char* buffer, size_t size);

  // One read, waiting until `deadline` for bytes; OK when some arrived.
  absl::Status Fill(absl::Time deadline);
  // Moves the next complete line out of the buffer into `line`; false if there is none.
  bool TakeLine(std::string* line);

  UniqueFd fd_;
  std::unique_ptr<ClientTls> tls_;  // null over plain TCP
  // Bytes read and not yet handed out as lines; starts at read_pos_.
  std::string buffer_;
  size_t read_pos_ = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLIENT_LINE_CONNECTION_H_
