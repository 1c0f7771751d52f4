#include "tools/chat_app.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

using std::chrono::seconds;

// A ChatApp wired to one end of a socketpair; the test plays the server on the other.
class ChatAppTest : public ::testing::Test {
 protected:
  ChatAppTest() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    connection_ = LineConnection::Adopt(UniqueFd(fds[0]));
    server_ = UniqueFd(fds[1]);
    app_ = std::make_unique<ChatApp>(
        connection_.get(), &session_, RenderOptions{},
        [this](absl::string_view line) { printed_.emplace_back(line); }, seconds(60), start_);
  }

  // What the client sent since the last call.
  std::string Sent() {
    char buffer[4096];
    ssize_t n = ::recv(server_.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  }
  void ServerSays(absl::string_view lines) {
    ASSERT_EQ(::send(server_.get(), lines.data(), lines.size(), 0),
              static_cast<ssize_t>(lines.size()));
    ASSERT_TRUE(app_->OnServerReadable().ok());
  }

  const ChatApp::Clock::time_point start_ = ChatApp::Clock::now();
  client::Session session_{"", ""};
  std::unique_ptr<LineConnection> connection_;
  UniqueFd server_;
  std::unique_ptr<ChatApp> app_;
  std::vector<std::string> printed_;
};

TEST_F(ChatAppTest, KeepsAliveOnlyAfterAQuietInterval) {
  ASSERT_TRUE(app_->KeepAlive(start_ + seconds(59)).ok());
  EXPECT_EQ(Sent(), "");
  ASSERT_TRUE(app_->KeepAlive(start_ + seconds(61)).ok());
  EXPECT_EQ(Sent(), "/ping keepalive\n");
  ASSERT_TRUE(app_->KeepAlive(start_ + seconds(62)).ok());
  EXPECT_EQ(Sent(), "") << "once per interval";
}

TEST_F(ChatAppTest, TypingPostponesTheKeepalive) {
  ASSERT_TRUE(app_->OnTypedLine("hello").ok());
  EXPECT_EQ(Sent(), "hello\n");
  // The typed line reset the clock, so a minute after `start_` is too early.
  ASSERT_TRUE(app_->KeepAlive(ChatApp::Clock::now() + seconds(30)).ok());
  EXPECT_EQ(Sent(), "");
}

TEST_F(ChatAppTest, HidesTheKeepalivePongButNotOthers) {
  ServerSays("PONG keepalive\nPONG mine\n");
  EXPECT_EQ(printed_, std::vector<std::string>{"* pong mine"});
}

TEST_F(ChatAppTest, EchoesPrivateMessagesAndAnswersHelpLocally) {
  ASSERT_TRUE(app_->OnTypedLine("/msg bob  see you").ok());
  EXPECT_EQ(Sent(), "/msg bob  see you\n");
  ASSERT_TRUE(app_->OnTypedLine("/HELP").ok());
  EXPECT_EQ(Sent(), "") << "help is local";
  ASSERT_GE(printed_.size(), 2u);
  EXPECT_EQ(printed_[0], "* (to bob) see you");
}

TEST_F(ChatAppTest, HistoryTypedAgainScrollsFurtherBack) {
  ServerSays("OK JOIN lounge 2\n");
  ASSERT_TRUE(app_->OnTypedLine("/history").ok());
  EXPECT_EQ(Sent(), "/history\n") << "nothing shown yet: the newest lines";
  ServerSays(
      "@id=30;time=2026-12-01T10:00:00.000Z;history MSG lounge bob a\n"
      "@id=40;time=2026-12-01T10:00:01.000Z;history MSG lounge bob b\n"
      "OK HISTORY lounge 2\n");
  ASSERT_TRUE(app_->OnTypedLine("/history 5").ok());
  EXPECT_EQ(Sent(), "/history 5 before=30\n");
  ASSERT_TRUE(app_->OnTypedLine("/history 5 before=7").ok());
  EXPECT_EQ(Sent(), "/history 5 before=7\n") << "what the person asked for goes as typed";
}

}  // namespace
}  // namespace roomchat
