#include "bench/protocol.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

struct Recorder : ProtocolConnection::Sink {
  void OnMessage(absl::string_view payload) override { messages.emplace_back(payload); }
  void OnReady() override { ++ready; }
  void OnRefused(absl::string_view text) override { refused.emplace_back(text); }
  void Send(absl::string_view bytes) override { sent += std::string(bytes); }
  std::vector<std::string> messages;
  std::vector<std::string> refused;
  std::string sent;
  int ready = 0;
};

std::unique_ptr<ProtocolConnection> Make(Proto proto, bool publisher = false) {
  ProtocolConnection::Options options;
  options.proto = proto;
  options.room = "bench3";
  options.member = 7;
  options.publisher = publisher;
  return ProtocolConnection::Create(options);
}

TEST(LineProtocolTest, JoinsOrCreatesThenReadsMessages) {
  auto connection = Make(Proto::kLine);
  Recorder sink;
  EXPECT_EQ(connection->Hello(), "");
  std::string in =
      "WELCOME guest1 hi\nERR no-such-room nope\nOK CREATE bench3\n"
      "JOIN bench3 guest2\nMSG bench3 guest2 payload one\nMSG bench3 guest2 partial";
  size_t used = connection->Consume(in, sink);
  EXPECT_EQ(in.substr(used), "MSG bench3 guest2 partial") << "incomplete lines wait";
  EXPECT_EQ(sink.sent, "/join bench3\n/create bench3\n");
  EXPECT_EQ(sink.ready, 1);
  EXPECT_EQ(sink.messages, std::vector<std::string>{"payload one"});
  EXPECT_TRUE(sink.refused.empty());
  std::string out;
  connection->AppendMessage("abc", &out);
  EXPECT_EQ(out, "abc\n");
}

TEST(LineProtocolTest, ReportsRefusals) {
  auto connection = Make(Proto::kLine);
  Recorder sink;
  connection->Consume("WELCOME guest1 hi\nOK JOIN bench3 2\nERR flood slow down\nBYE flood\n",
                      sink);
  EXPECT_EQ(sink.ready, 1);
  ASSERT_EQ(sink.refused.size(), 2u);
  EXPECT_EQ(sink.refused[0], "ERR flood slow down");
}

TEST(RespProtocolTest, SubscribesAndReadsPushes) {
  auto connection = Make(Proto::kResp);
  Recorder sink;
  EXPECT_EQ(connection->Hello(), "*2\r\n$9\r\nSUBSCRIBE\r\n$6\r\nbench3\r\n");
  std::string in =
      "*3\r\n$9\r\nsubscribe\r\n$6\r\nbench3\r\n:1\r\n"
      "*3\r\n$7\r\nmessage\r\n$6\r\nbench3\r\n$11\r\nhello world\r\n"
      "*3\r\n$7\r\nmessage\r\n$6\r\nbench3\r\n$11\r\nhello";
  size_t used = connection->Consume(in, sink);
  EXPECT_EQ(sink.ready, 1);
  EXPECT_EQ(sink.messages, std::vector<std::string>{"hello world"});
  EXPECT_EQ(in.substr(used), "*3\r\n$7\r\nmessage\r\n$6\r\nbench3\r\n$11\r\nhello");
}

TEST(RespProtocolTest, PublisherFormatsAndIgnoresCounts) {
  auto connection = Make(Proto::kResp, /*publisher=*/true);
  Recorder sink;
  EXPECT_EQ(connection->Hello(), "*1\r\n$4\r\nPING\r\n");
  connection->Consume(":3\r\n", sink);
  EXPECT_EQ(sink.ready, 0) << "ready only once PING is answered";
  connection->Consume("+PONG\r\n:3\r\n", sink);
  EXPECT_EQ(sink.ready, 1);
  connection->Consume("-ERR wrong\r\n", sink);
  EXPECT_EQ(sink.refused.size(), 1u);
  std::string out;
  connection->AppendMessage("hi there", &out);
  EXPECT_EQ(out, "*3\r\n$7\r\nPUBLISH\r\n$6\r\nbench3\r\n$8\r\nhi there\r\n");
}

TEST(IrcProtocolTest, RegistersJoinsAnswersPingAndReadsPrivmsg) {
  auto connection = Make(Proto::kIrc);
  Recorder sink;
  EXPECT_EQ(connection->Hello(), "NICK b7\r\nUSER b7 0 * :roomchat bench\r\n");
  connection->Consume(":irc.local 001 b7 :Welcome\r\nPING :token\r\n", sink);
  EXPECT_EQ(sink.sent, "JOIN #bench3\r\nPONG :token\r\n");
  connection->Consume(
      ":b7!~b7@localhost JOIN :#bench3\r\n:irc.local 366 b7 #bench3 :End of NAMES list\r\n"
      ":b2!~b2@localhost PRIVMSG #bench3 :the payload\r\n",
      sink);
  EXPECT_EQ(sink.ready, 1);
  EXPECT_EQ(sink.messages, std::vector<std::string>{"the payload"});
  connection->Consume(":irc.local 433 * b7 :Nickname already in use\r\n", sink);
  EXPECT_EQ(sink.refused.size(), 1u);
  std::string out;
  connection->AppendMessage("x y", &out);
  EXPECT_EQ(out, "PRIVMSG #bench3 :x y\r\n");
}

TEST(ProtocolTest, NamesTheChoices) {
  EXPECT_TRUE(ParseProto("line").ok());
  EXPECT_FALSE(ParseProto("http").ok());
}

}  // namespace
}  // namespace roomchat
