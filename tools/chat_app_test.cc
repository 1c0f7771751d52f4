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

TEST_F(ChatAppTest, KickedShowsItAndIsBackInTheLobby) {
  ServerSays("WELCOME guest3 hi\nOK JOIN Lounge 2\nKICK Lounge bob alice spam\n");
  EXPECT_EQ(session_.room(), "Lounge");
  ServerSays("KICKED Lounge alice be nice\n");
  EXPECT_EQ(session_.room(), "");
  EXPECT_EQ(session_.Prompt(), "guest3@lobby> ");
  EXPECT_EQ(printed_.back(),
            "* You were kicked from Lounge by alice: be nice; you are in the lobby");
  EXPECT_EQ(printed_[printed_.size() - 2], "* bob was kicked from Lounge by alice: spam");
}

TEST_F(ChatAppTest, LoginAndRenamedChangeTheNickAndShowNoPassword) {
  ServerSays("WELCOME guest3 hi\n");
  ASSERT_TRUE(app_->OnTypedLine("/login alice hunter2hunter2").ok());
  EXPECT_EQ(Sent(), "/login alice hunter2hunter2\n");
  ServerSays("OK LOGIN alice\n");
  EXPECT_EQ(session_.nick(), "alice");
  ServerSays("RENAMED alice guest7 someone logged in to the account alice\n");
  EXPECT_EQ(session_.Prompt(), "guest7@lobby> ");
  ASSERT_TRUE(app_->OnTypedLine("/password hunter2hunter2 n3wpassword").ok());
  ServerSays("OK PASSWORD\n");
  for (const std::string& line : printed_) {
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    EXPECT_EQ(line.find("n3wpassword"), std::string::npos) << line;
  }
  EXPECT_EQ(printed_.back(), "* Password changed");
}

TEST_F(ChatAppTest, ATypedRoomKeyIsKeptForARejoinButNeverShown) {
  ServerSays("WELCOME guest3 hi\n");
  ASSERT_TRUE(app_->OnTypedLine("/join Lounge s3cret").ok());
  EXPECT_EQ(Sent(), "/join Lounge s3cret\n");
  ServerSays("OK JOIN Lounge 2\nTOPIC Lounge alice tea\n");
  ASSERT_TRUE(app_->OnTypedLine("/key n3wkey").ok());
  ServerSays("OK KEY Lounge\n");
  EXPECT_EQ(printed_.back(), "* Key set for Lounge");
  for (const std::string& line : printed_) {
    EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
    EXPECT_EQ(line.find("n3wkey"), std::string::npos) << line;
  }
  client::Session again = session_.ForReconnect();
  ASSERT_TRUE(again.OnEvent(*ParseServerLine("WELCOME guest9 hi")).send == "/nick guest3\n");
  EXPECT_EQ(again.OnEvent(*ParseServerLine("OK NICK guest3")).send, "/join Lounge n3wkey\n");
}

TEST_F(ChatAppTest, TopicRepliesSayWhatTheTypedTopicDid) {
  ServerSays("WELCOME guest3 hi\nOK JOIN Lounge 2\n");
  ASSERT_TRUE(app_->OnTypedLine("/topic all about tea").ok());
  ServerSays("OK TOPIC Lounge\n");
  EXPECT_EQ(printed_.back(), "* You set the topic of Lounge: all about tea");
  ASSERT_TRUE(app_->OnTypedLine("/topic").ok());
  ServerSays("TOPIC Lounge alice all about tea\nOK TOPIC Lounge\n");
  EXPECT_EQ(printed_.back(), "* Topic of Lounge (set by alice): all about tea")
      << "the OK after the topic shown says nothing more";
  ASSERT_TRUE(app_->OnTypedLine("/topic -").ok());
  ServerSays("OK TOPIC Lounge\n");
  EXPECT_EQ(printed_.back(), "* You cleared the topic of Lounge");
  ASSERT_TRUE(app_->OnTypedLine("/topic").ok());
  ServerSays("OK TOPIC Lounge\n");
  EXPECT_EQ(printed_.back(), "* Lounge has no topic");
}

TEST_F(ChatAppTest, TopicsTypedAtOnceAreAnsweredInOrder) {
  ServerSays("WELCOME guest3 hi\nOK JOIN Lounge 2\n");
  ASSERT_TRUE(app_->OnTypedLine("/topic tea").ok());
  ASSERT_TRUE(app_->OnTypedLine("/topic -").ok());
  ASSERT_TRUE(app_->OnTypedLine("/topic").ok());
  ASSERT_TRUE(app_->OnTypedLine("/topic again").ok());
  ServerSays("ERR not-op only operators set the topic\nOK TOPIC Lounge\nOK TOPIC Lounge\n"
             "OK TOPIC Lounge\n");
  ASSERT_GE(printed_.size(), 3u);
  EXPECT_EQ(printed_[printed_.size() - 3], "* You cleared the topic of Lounge");
  EXPECT_EQ(printed_[printed_.size() - 2], "* Lounge has no topic");
  EXPECT_EQ(printed_.back(), "* You set the topic of Lounge: again");
}

TEST_F(ChatAppTest, APasswordCommandAfterSpacesIsNotSaidToTheRoom) {
  ServerSays("WELCOME guest3 hi\nOK JOIN Lounge 2\n");
  ASSERT_TRUE(app_->OnTypedLine("  /login alice hunter2hunter2").ok());
  EXPECT_EQ(Sent(), "") << "the server would take it for chat text";
  EXPECT_EQ(printed_.back(), "! not sent: a command starts with / (no space before it)");
  ASSERT_TRUE(app_->OnTypedLine("  /nick carol").ok());
  EXPECT_EQ(Sent(), "  /nick carol\n") << "no secret: chat text as typed";
}

TEST(HoldsSecretTest, PasswordAndKeyLinesAreNotForTheHistory) {
  EXPECT_TRUE(HoldsSecret("/register hunter2hunter2"));
  EXPECT_TRUE(HoldsSecret("/LOGIN alice hunter2hunter2"));
  EXPECT_TRUE(HoldsSecret("/login alice short")) << "refused by the server, still a password";
  EXPECT_TRUE(HoldsSecret("/password old12345 new12345"));
  EXPECT_TRUE(HoldsSecret("  /login alice hunter2hunter2"));
  EXPECT_TRUE(HoldsSecret("/login\talice hunter2hunter2"));
  EXPECT_TRUE(HoldsSecret("/key s3cret"));
  EXPECT_TRUE(HoldsSecret("/join Lounge s3cret"));
  EXPECT_TRUE(HoldsSecret("/join Lounge s3cret since=5"));
  EXPECT_TRUE(HoldsSecret("/create Lounge s3cret"));
  EXPECT_TRUE(HoldsSecret("/join Lounge two words")) << "refused, but may hold a key";
  EXPECT_FALSE(HoldsSecret("/key -"));
  EXPECT_FALSE(HoldsSecret("/join Lounge"));
  EXPECT_FALSE(HoldsSecret("/join Lounge since=5"));
  EXPECT_FALSE(HoldsSecret("/create Lounge"));
  EXPECT_FALSE(HoldsSecret("/logout"));
  EXPECT_FALSE(HoldsSecret("/nick alice"));
  EXPECT_FALSE(HoldsSecret("//login is how you log in")) << "chat text";
  EXPECT_FALSE(HoldsSecret("hello"));
  EXPECT_FALSE(HoldsSecret("/loginx"));
}

}  // namespace
}  // namespace roomchat
