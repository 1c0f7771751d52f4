#include "tests/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace roomchat {

absl::StatusOr<std::unique_ptr<TestClient>> TestClient::Connect(int port,
                                                                TestClientOptions options) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket");
  if (options.receive_buffer_bytes > 0) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &options.receive_buffer_bytes,
                 sizeof(options.receive_buffer_bytes));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoStatus(absl::StrCat("connect 127.0.0.1:", port));
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<TestClient>(new TestClient(std::move(fd)));
}

absl::Status TestClient::SendRaw(absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("send");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status TestClient::Send(absl::string_view line) { return SendRaw(absl::StrCat(line, "\n")); }

absl::Status TestClient::Fill(absl::Time deadline) {
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("no line in time");
    pollfd pfd{fd_.get(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ErrnoStatus("poll");
    if (ready == 0) continue;
    char chunk[65536];
    ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return absl::OkStatus();
    }
    if (n == 0) return absl::UnavailableError("connection closed");
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == ECONNRESET) return absl::UnavailableError("connection reset");
    return ErrnoStatus("recv");
  }
}

absl::StatusOr<std::string> TestClient::ReadLine(absl::Duration deadline) {
  absl::Time until = absl::Now() + deadline;
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (absl::Status filled = Fill(until); !filled.ok()) return filled;
  }
}

std::string TestClient::Next(absl::Duration deadline) {
  absl::StatusOr<std::string> line = ReadLine(deadline);
  if (line.ok()) return *line;
  if (absl::IsDeadlineExceeded(line.status())) return "<timeout>";
  if (absl::IsUnavailable(line.status())) return "<closed>";
  return absl::StrCat("<error: ", line.status().ToString(), ">");
}

std::string TestClient::Ask(absl::string_view line) {
  if (absl::Status sent = Send(line); !sent.ok())
    return absl::StrCat("<error: ", sent.ToString(), ">");
  return Next();
}

absl::StatusOr<std::vector<std::string>> TestClient::ReadUntil(absl::string_view wanted,
                                                               absl::Duration deadline) {
  absl::Time until = absl::Now() + deadline;
  std::vector<std::string> before;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(until - absl::Now());
    if (!line.ok()) {
      return absl::Status(line.status().code(),
                          absl::StrCat(line.status().message(), " waiting for '", wanted,
                                       "' after ", before.size(), " other lines"));
    }
    if (*line == wanted) return before;
    before.push_back(*std::move(line));
  }
}

absl::StatusOr<std::vector<std::string>> TestClient::Sync() {
  std::string token = absl::StrCat("sync-", next_sync_++);
  if (absl::Status sent = Send(absl::StrCat("/ping ", token)); !sent.ok()) return sent;
  return ReadUntil(absl::StrCat("PONG ", token));
}

absl::StatusOr<std::vector<std::string>> TestClient::ReadUntilClosed(absl::Duration deadline) {
  absl::Time until = absl::Now() + deadline;
  std::vector<std::string> lines;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(until - absl::Now());
    if (absl::IsUnavailable(line.status())) return lines;
    if (!line.ok()) return line.status();
    lines.push_back(*std::move(line));
  }
}

void TestClient::Reset() {
  linger hard{1, 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  fd_.Reset();
}

std::unique_ptr<TestClient> Login(int port, absl::string_view nick, TestClientOptions options) {
  absl::StatusOr<std::unique_ptr<TestClient>> client = TestClient::Connect(port, options);
  if (!client.ok()) {
    ADD_FAILURE() << client.status();
    return nullptr;
  }
  std::string welcome = (*client)->Next();
  if (!absl::StartsWith(welcome, "WELCOME guest")) {
    ADD_FAILURE() << "expected WELCOME, got " << welcome;
    return nullptr;
  }
  if (!nick.empty()) {
    (*client)->Send(absl::StrCat("/nick ", nick)).IgnoreError();
    std::string reply = (*client)->Next();
    if (reply != absl::StrCat("OK NICK ", nick)) {
      ADD_FAILURE() << "expected OK NICK " << nick << ", got " << reply;
      return nullptr;
    }
  }
  return *std::move(client);
}

SlowReaderRoom JoinSlowReaderRoom(int port) {
  SlowReaderRoom room{Login(port, "sender"), Login(port, "reader"),
                      Login(port, "stuck", TestClientOptions{.receive_buffer_bytes = 4096})};
  if (room.sender == nullptr || room.reader == nullptr || room.stuck == nullptr) return room;
  EXPECT_EQ(room.sender->Ask("/create busy"), "OK CREATE busy");
  EXPECT_EQ(room.reader->Ask("/join busy"), "OK JOIN busy 2");
  EXPECT_EQ(room.stuck->Ask("/join busy"), "OK JOIN busy 3");
  EXPECT_EQ(room.reader->Next(), "JOIN busy stuck");
  EXPECT_TRUE(room.sender->ReadUntil("JOIN busy stuck").ok());
  return room;
}

bool SendBatchesThroughReader(SlowReaderRoom& room, int batches) {
  constexpr int kBatchLines = 64;
  const std::string padding(1000, 'p');
  bool saw_cut = false;
  for (int batch = 0; batch < batches; ++batch) {
    std::string bytes;
    for (int i = 0; i < kBatchLines; ++i) {
      absl::StrAppend(&bytes, batch * kBatchLines + i, " ", padding, "\n");
    }
    if (!room.sender->SendRaw(bytes).ok()) {
      ADD_FAILURE() << "the sender could not send batch " << batch;
      return saw_cut;
    }
    for (int i = 0; i < kBatchLines; ++i) {
      std::string line = room.reader->Next();
      if (line == "LEAVE busy stuck" && !saw_cut) {
        saw_cut = true;
        line = room.reader->Next();
      }
      std::string want = absl::StrCat("MSG busy sender ", batch * kBatchLines + i, " ", padding);
      if (line != want) {
        ADD_FAILURE() << "expected " << want.substr(0, 30) << "..., got " << line.substr(0, 60);
        return saw_cut;
      }
    }
  }
  return saw_cut;
}

}  // namespace roomchat
