// The setup half of LoadGenerator::Worker (bench/load_worker.h): connecting each member of the
// worker's rooms to its server, the protocol's handshake, and waiting until every member has
// joined its room.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bench/load_worker.h"

namespace roomchat {

using load_internal::NowNs;

LoadGenerator::Worker::~Worker() {
  for (auto& connection : connections_) {
    connection->tls.reset();
    ::close(connection->fd);
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (tls_context_ != nullptr) SSL_CTX_free(tls_context_);
}

// Member m of a room on server m mod n, its senders (the first members) on the first server.
const ServerAddress& LoadGenerator::Worker::ServerOf(int member_in_room) const {
  if (member_in_room < workload_.senders) return workload_.servers.front();
  return workload_.servers[member_in_room % workload_.servers.size()];
}

absl::Status LoadGenerator::Worker::Connect(Room& room, uint32_t member,
                                            const ServerAddress& server, bool publisher,
                                            Connection** made) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string where = absl::StrCat(server.host, ":", server.port);
  if (getaddrinfo(server.host.c_str(), absl::StrCat(server.port).c_str(), &hints, &found)) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", server.host));
  }
  int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : connect(fd, found->ai_addr, found->ai_addrlen);
  int error = errno;
  freeaddrinfo(found);
  if (rc != 0) {
    if (fd >= 0) close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", where, ": ", std::strerror(error)));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto connection = std::make_unique<Connection>();
  if (workload_.tls) {
    absl::StatusOr<std::unique_ptr<TlsStream>> tls = TlsStream::Handshake(tls_context_, fd);
    if (!tls.ok()) {
      close(fd);
      return absl::UnavailableError(absl::StrCat(where, ": ", tls.status().message()));
    }
    connection->tls = *std::move(tls);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  connection->worker = this;
  connection->room = &room;
  connection->fd = fd;
  connection->member = member;
  connection->on_senders_server = &server == &workload_.servers.front();
  ProtocolConnection::Options options;
  options.proto = workload_.proto;
  options.room = room.name;
  options.member = member * 2 + (publisher ? 1 : 0);  // unique nick per connection
  options.publisher = publisher;
  options.irc_oper = workload_.irc_oper;
  options.http_host = where;
  connection->protocol = ProtocolConnection::Create(options);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = connection.get();
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  connection->Send(connection->protocol->Hello());
  *made = connection.get();
  connections_.push_back(std::move(connection));
  return absl::OkStatus();
}

// Connects members [from, to) of `room`, and the senders' publishing connections (resp).
absl::Status LoadGenerator::Worker::ConnectMembers(Room& room, int from, int to) {
  for (int m = from; m < to; ++m) {
    uint32_t member = static_cast<uint32_t>(room.index * workload_.members + m);
    const ServerAddress& server = ServerOf(m);
    Connection* connection = nullptr;
    if (absl::Status made = Connect(room, member, server, false, &connection); !made.ok()) {
      return made;
    }
    room.members.push_back(connection);
    if (m >= workload_.senders) continue;
    Sender& sender = room.senders[m];
    sender.id = member;
    sender.connection = connection;
    if (workload_.proto == Proto::kResp) {
      if (absl::Status made = Connect(room, member, server, true, &sender.connection); !made.ok()) {
        return made;
      }
    }
  }
  return absl::OkStatus();
}

// Until every connection made so far is ready (has joined its room).
absl::Status LoadGenerator::Worker::WaitUntilReady(int64_t deadline) {
  while (ready_ < connections_.size()) {
    int64_t now = NowNs();
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("setup timed out: ", ready_, " of ", connections_.size(),
                       " connections ready after ", workload_.setup_timeout_s, " s"));
    }
    if (absl::Status polled = Poll(std::min<int64_t>(deadline - now, 100000000)); !polled.ok()) {
      return polled;
    }
    if (!error_.ok()) return error_;
  }
  return absl::OkStatus();
}

absl::Status LoadGenerator::Worker::Setup(int64_t deadline) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (workload_.tls && (tls_context_ = TlsStream::NewClientContext()) == nullptr) {
    return absl::InternalError("tls: cannot make a client context");
  }
  for (int index : room_indices_) {
    auto room = std::make_unique<Room>();
    room->index = index;
    room->name = absl::StrCat(workload_.room_prefix, index);
    room->senders.resize(workload_.senders);
    rooms_.push_back(std::move(room));
  }
  // Over several servers the first member creates each room (on the first server), and the others
  // connect once it exists: they join it, wherever they are, rather than race to create it.
  const int creators = workload_.servers.size() > 1 ? 1 : workload_.members;
  for (auto& room : rooms_) {
    if (absl::Status made = ConnectMembers(*room, 0, creators); !made.ok()) return made;
  }
  if (creators < workload_.members) {
    if (absl::Status created = WaitUntilReady(deadline); !created.ok()) return created;
    for (auto& room : rooms_) {
      if (absl::Status made = ConnectMembers(*room, creators, workload_.members); !made.ok()) {
        return made;
      }
    }
  }
  for (auto& room : rooms_) {
    for (Connection* member : room->members) {
      member->next_seq.assign(workload_.senders, 0);
      member->missing.resize(workload_.senders);
    }
  }
  return WaitUntilReady(deadline);
}

}  // namespace roomchat
