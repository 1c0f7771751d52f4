// ServerConnection: the client's TCP connection to a roomchat server, read as lines.
//
// Thread contract: not thread-safe; one thread uses it.
#ifndef ROOMCHAT_TOOLS_SERVER_CONNECTION_H_
#define ROOMCHAT_TOOLS_SERVER_CONNECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/loop/socket.h"

namespace roomchat {

class ServerConnection {
 public:
  // Connects to host:port (a name or an address). The error says host:port and why.
  static absl::StatusOr<std::unique_ptr<ServerConnection>> Connect(const std::string& host,
                                                                   int port);

  // Adopts a socket that is already connected (a socketpair end, in tests).
  static std::unique_ptr<ServerConnection> FromFd(UniqueFd fd);

  int fd() const { return fd_.get(); }
  // Sends all of `bytes`, blocking.
  absl::Status Send(absl::string_view bytes);
  // One read: appends the complete lines it finished to `lines`. Unavailable when the server closed
  // the connection (or reset it).
  absl::Status ReadLines(std::vector<std::string>* lines);

 private:
  explicit ServerConnection(UniqueFd fd) : fd_(std::move(fd)) {}

  UniqueFd fd_;
  std::string partial_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_TOOLS_SERVER_CONNECTION_H_
