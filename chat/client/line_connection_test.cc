#include "chat/client/line_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "chat/loop/socket.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

// A LineConnection on one end of a socketpair; the test plays the server on the other.
class LineConnectionTest : public ::testing::Test {
 protected:
  LineConnectionTest() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    connection_ = LineConnection::Adopt(UniqueFd(fds[0]));
    server_ = UniqueFd(fds[1]);
  }

  void ServerSends(absl::string_view bytes) {
    ASSERT_EQ(::send(server_.get(), bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
  }
  absl::StatusOr<std::string> ReadLine() {
    return connection_->ReadLine(absl::Now() + absl::Seconds(10));
  }

  std::unique_ptr<LineConnection> connection_;
  UniqueFd server_;
};

TEST_F(LineConnectionTest, JoinsLinesSplitAcrossReadsAndKeepsTheRest) {
  ServerSends("OK NI");
  ServerSends("CK a\nMSG r a hi\nPAR");
  EXPECT_EQ(ReadLine().value_or("<error>"), "OK NICK a");
  EXPECT_EQ(ReadLine().value_or("<error>"), "MSG r a hi");
  ServerSends("TIAL\n");
  EXPECT_EQ(ReadLine().value_or("<error>"), "PARTIAL");
}

TEST_F(LineConnectionTest, ReadLinesHandsOverEveryCompleteLineOfOneRead) {
  ServerSends("one\ntwo\nthr");
  std::vector<std::string> lines;
  ASSERT_TRUE(connection_->ReadLines(&lines).ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
}

TEST_F(LineConnectionTest, ADeadlineWithoutALineIsDeadlineExceeded) {
  ServerSends("no newline");
  absl::StatusOr<std::string> line = connection_->ReadLine(absl::Now() + absl::Milliseconds(20));
  EXPECT_TRUE(absl::IsDeadlineExceeded(line.status())) << line.status();
}

TEST_F(LineConnectionTest, EndOfInputIsUnavailable) {
  ServerSends("last\n");
  server_.Reset();
  EXPECT_EQ(ReadLine().value_or("<error>"), "last");
  EXPECT_TRUE(absl::IsUnavailable(ReadLine().status()));
  std::vector<std::string> lines;
  EXPECT_TRUE(absl::IsUnavailable(connection_->ReadLines(&lines)));
}

TEST_F(LineConnectionTest, SendsTheBytesAsTheyAre) {
  ASSERT_TRUE(connection_->Send("hello\n/quit").ok());
  char buffer[16];
  ssize_t n = ::recv(server_.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
  EXPECT_EQ(std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0), "hello\n/quit");
}

TEST(LineConnectionConnectTest, ConnectsByNameWithAReceiveBuffer) {
  absl::StatusOr<UniqueFd> listener = ListenTcp("127.0.0.1", 0, 1);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<int> port = LocalPort(listener->get());
  ASSERT_TRUE(port.ok());
  absl::StatusOr<std::unique_ptr<LineConnection>> connection =
      LineConnection::Connect("localhost", *port, {.receive_buffer_bytes = 4096});
  ASSERT_TRUE(connection.ok()) << connection.status();
  int size = 0;
  socklen_t length = sizeof(size);
  ASSERT_EQ(::getsockopt((*connection)->fd(), SOL_SOCKET, SO_RCVBUF, &size, &length), 0);
  EXPECT_LT(size, 64 * 1024);
}

TEST(LineConnectionConnectTest, BindsTheLocalAddressItIsGiven) {
  absl::StatusOr<UniqueFd> listener = ListenTcp("127.0.0.1", 0, 1);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<int> port = LocalPort(listener->get());
  ASSERT_TRUE(port.ok());
  absl::StatusOr<std::unique_ptr<LineConnection>> connection =
      LineConnection::Connect("127.0.0.1", *port, {.local_address = "127.0.0.2"});
  ASSERT_TRUE(connection.ok()) << connection.status();
  pollfd pfd{listener->get(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10000), 1);
  UniqueFd accepted(::accept(listener->get(), nullptr, nullptr));
  ASSERT_TRUE(accepted.valid());
  EXPECT_EQ(PeerAddress(accepted.get()).rfind("127.0.0.2:", 0), 0u) << PeerAddress(accepted.get());

  absl::StatusOr<std::unique_ptr<LineConnection>> bad =
      LineConnection::Connect("127.0.0.1", *port, {.local_address = "not-an-address"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not-an-address"), std::string::npos) << bad.status();
}

TEST(LineConnectionConnectTest, SaysWhereAndWhyItCannotConnect) {
  absl::StatusOr<std::unique_ptr<LineConnection>> connection =
      LineConnection::Connect("no-such-host.invalid", 7070);
  ASSERT_FALSE(connection.ok());
  EXPECT_TRUE(absl::IsUnavailable(connection.status()));
  EXPECT_NE(connection.status().message().find("no-such-host.invalid:7070"), std::string::npos);
}

}  // namespace
}  // namespace roomchat
