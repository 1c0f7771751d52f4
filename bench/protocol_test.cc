#include "bench/protocol.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chat/web/http_routes.h"
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

// ---- ws: roomchat's lines in WebSocket frames.

// A server's frame (unmasked): FIN when `fin`.
std::string ServerFrame(uint8_t opcode, absl::string_view payload, bool fin = true) {
  std::string frame(1, static_cast<char>((fin ? 0x80 : 0) | opcode));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(payload.size()));
  } else {
    frame.push_back(126);
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xff));
  }
  return frame.append(payload.data(), payload.size());
}

std::string Text(absl::string_view line) { return ServerFrame(0x1, line); }

// The client's frames in `bytes`, unmasked, as "<opcode>:<payload>"; "unmasked!" for a frame the
// client failed to mask. The bench's frames are all short.
std::vector<std::string> ClientFrames(absl::string_view bytes) {
  std::vector<std::string> frames;
  while (bytes.size() >= 6) {
    int opcode = static_cast<uint8_t>(bytes[0]) & 0x0f;
    bool masked = static_cast<uint8_t>(bytes[1]) & 0x80;
    size_t length = static_cast<uint8_t>(bytes[1]) & 0x7f;
    if (!masked || length > 125 || bytes.size() < 6 + length) return {"unmasked or long!"};
    std::string payload(bytes.substr(6, length));
    for (size_t i = 0; i < length; ++i) payload[i] ^= bytes[2 + i % 4];
    frames.push_back(absl::StrCat(opcode, ":", payload));
    bytes.remove_prefix(6 + length);
  }
  if (!bytes.empty()) frames.push_back("trailing bytes!");
  return frames;
}

// Drives a connection as the load generator does: appends what arrives, drops what was consumed.
struct WsClient {
  WsClient() {
    ProtocolConnection::Options options;
    options.proto = Proto::kWs;
    options.room = "bench3";
    options.member = 7;
    options.http_host = "127.0.0.1:8080";
    connection = ProtocolConnection::Create(options);
    hello = connection->Hello();
    const std::string field = "Sec-WebSocket-Key: ";
    size_t at = hello.find(field) + field.size();
    key = hello.substr(at, hello.find("\r\n", at) - at);
  }
  std::string UpgradeResponse() const {
    return absl::StrCat(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "sec-websocket-accept: ",
        WebSocketAccept(key), "\r\n\r\n");
  }
  void Receive(absl::string_view bytes) {
    in.append(bytes.data(), bytes.size());
    in.erase(0, connection->Consume(in, sink));
  }
  // What the client sent since the last call, as frames.
  std::vector<std::string> Sent() {
    std::vector<std::string> frames = ClientFrames(sink.sent);
    sink.sent.clear();
    return frames;
  }

  std::unique_ptr<ProtocolConnection> connection;
  Recorder sink;
  std::string hello;
  std::string key;
  std::string in;
};

TEST(WsProtocolTest, UpgradesThenJoinsOrCreatesOverFrames) {
  WsClient client;
  EXPECT_EQ(client.hello.substr(0, client.hello.find("Sec-WebSocket-Key")),
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\n");
  EXPECT_EQ(client.key.size(), 24u) << "16 random bytes in base64";
  EXPECT_NE(client.hello.find("\r\nSec-WebSocket-Version: 13\r\n\r\n"), std::string::npos);
  EXPECT_EQ(client.hello.find("Origin"), std::string::npos);
  client.Receive(client.UpgradeResponse().substr(0, 20));
  EXPECT_EQ(client.in.size(), 20u) << "an incomplete response head waits";
  client.Receive(absl::StrCat(client.UpgradeResponse().substr(20), Text("WELCOME guest1 hi")));
  EXPECT_TRUE(client.in.empty());
  EXPECT_EQ(client.Sent(), std::vector<std::string>{"1:/join bench3"});
  client.Receive(Text("ERR no-such-room nope") + Text("OK CREATE bench3"));
  EXPECT_EQ(client.Sent(), std::vector<std::string>{"1:/create bench3"});
  client.Receive(Text("JOIN bench3 guest2") + Text("MSG bench3 guest2 payload one") +
                 Text("MSG bench3 guest2 payload two"));
  EXPECT_EQ(client.sink.ready, 1);
  EXPECT_EQ(client.sink.messages, (std::vector<std::string>{"payload one", "payload two"}));
  EXPECT_TRUE(client.sink.refused.empty());
  std::string out;
  client.connection->AppendMessage("abc", &out);
  client.connection->AppendMessage("", &out);
  EXPECT_EQ(ClientFrames(out), (std::vector<std::string>{"1:abc", "1:"}))
      << "one masked text frame per line, without its LF";
}

TEST(WsProtocolTest, FramesSplitAcrossReads) {
  WsClient client;
  std::string long_payload(300, 'p');  // a 16-bit length
  std::string stream = absl::StrCat(client.UpgradeResponse(), Text("WELCOME guest1 hi"),
                                    Text("OK JOIN bench3 2"), Text("MSG bench3 guest2 short"),
                                    Text(absl::StrCat("MSG bench3 guest2 ", long_payload)),
                                    Text(""), Text("MSG bench3 guest2 last"));
  for (char byte : stream) client.Receive(absl::string_view(&byte, 1));
  EXPECT_EQ(client.sink.ready, 1);
  EXPECT_EQ(client.sink.messages, (std::vector<std::string>{"short", long_payload, "last"}));
  EXPECT_TRUE(client.sink.refused.empty());
}

TEST(WsProtocolTest, ReassemblesAFragmentedMessage) {
  WsClient client;
  client.Receive(absl::StrCat(client.UpgradeResponse(), Text("WELCOME guest1 hi"),
                              Text("OK JOIN bench3 2"), ServerFrame(0x1, "MSG bench3 g", false),
                              ServerFrame(0x9, "mid-ping"), ServerFrame(0x0, "uest2 pie", false)));
  EXPECT_TRUE(client.sink.messages.empty()) << "not before the last fragment";
  client.Receive(ServerFrame(0x0, "ces"));
  EXPECT_EQ(client.sink.messages, std::vector<std::string>{"pieces"});
}

TEST(WsProtocolTest, AnswersPingIgnoresPongReportsClose) {
  WsClient client;
  client.Receive(absl::StrCat(client.UpgradeResponse(), Text("WELCOME guest1 hi")));
  client.Sent();
  client.Receive(ServerFrame(0x9, "are you there") + ServerFrame(0xa, "unasked pong") +
                 Text("OK JOIN bench3 2"));
  EXPECT_EQ(client.Sent(), std::vector<std::string>{"10:are you there"}) << "the pong, masked";
  EXPECT_EQ(client.sink.ready, 1);
  EXPECT_TRUE(client.sink.refused.empty());
  client.Receive(Text("MSG bench3 guest2 before") + ServerFrame(0x8, std::string("\x03\xe9", 2)) +
                 Text("MSG bench3 guest2 after"));
  EXPECT_EQ(client.sink.messages, std::vector<std::string>{"before"});
  EXPECT_EQ(client.sink.refused,
            std::vector<std::string>{"the server closed the WebSocket (code 1001)"});
}

TEST(WsProtocolTest, ReportsARefusedUpgradeAndBadFrames) {
  WsClient refused;
  refused.Receive("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(refused.sink.refused,
            std::vector<std::string>{"WebSocket upgrade refused: HTTP/1.1 403 Forbidden"});
  WsClient tcp_port;
  tcp_port.Receive("WELCOME guest1 hi\n");
  EXPECT_EQ(tcp_port.sink.refused,
            std::vector<std::string>{
                "not an HTTP response (is --port the HTTP port?): WELCOME guest1 hi"});
  WsClient wrong_accept;
  wrong_accept.Receive("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: nope\r\n\r\n");
  EXPECT_EQ(wrong_accept.sink.refused.size(), 1u);
  WsClient binary;
  binary.Receive(binary.UpgradeResponse() + ServerFrame(0x2, "bytes"));
  EXPECT_EQ(binary.sink.refused,
            std::vector<std::string>{"the server sent a binary WebSocket message"});
  WsClient malformed;
  malformed.Receive(malformed.UpgradeResponse() + ServerFrame(0x9, "ping", /*fin=*/false));
  EXPECT_EQ(malformed.sink.refused,
            std::vector<std::string>{"the server sent a malformed WebSocket frame"});
}

TEST(ProtocolTest, NamesTheChoices) {
  EXPECT_TRUE(ParseProto("line").ok());
  EXPECT_TRUE(ParseProto("ws").ok());
  EXPECT_FALSE(ParseProto("http").ok());
}

}  // namespace
}  // namespace roomchat
