#include "chat/web/websocket_codec.h"

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

constexpr size_t kMaxLine = 64;

// A client's frame: FIN when `fin`, masked with a fixed key unless `masked` is false.
std::string ClientFrame(uint8_t opcode, absl::string_view payload, bool fin = true,
                        bool masked = true) {
  std::string frame;
  frame.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(mask_bit | payload.size()));
  } else {
    frame.push_back(static_cast<char>(mask_bit | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xff));
  }
  const char key[4] = {0x11, 0x22, 0x33, 0x44};
  if (masked) frame.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    frame.push_back(masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i]);
  }
  return frame;
}

// The status code of the close frame in `output` (server frames are unmasked), or 0.
int CloseCode(const std::string& output) {
  for (size_t at = 0; at + 1 < output.size();) {
    auto opcode = static_cast<uint8_t>(output[at]) & 0x0f;
    size_t length = static_cast<uint8_t>(output[at + 1]) & 0x7f;
    if (opcode == 0x8 && length >= 2) {
      return (static_cast<uint8_t>(output[at + 2]) << 8) | static_cast<uint8_t>(output[at + 3]);
    }
    at += 2 + length;  // the tests' server frames are all short
  }
  return 0;
}

class WebSocketCodecTest : public ::testing::Test {
 protected:
  WebSocketCodecTest() : codec_(*WebSocketCodec::Create(kMaxLine)) {}
  std::string Output() {
    std::string out;
    codec_->TakeProtocolOutput(&out);
    return out;
  }
  std::string NextText() {
    std::optional<Frame> frame = codec_->Next();
    if (!frame) return "<none>";
    switch (frame->kind) {
      case Frame::Kind::kLine: return std::string(frame->text);
      case Frame::Kind::kEmpty: return "<empty>";
      case Frame::Kind::kTooLong: return "<too long>";
      case Frame::Kind::kBadEncoding: return "<bad encoding>";
    }
    return "";
  }
  std::unique_ptr<WebSocketCodec> codec_;
};

TEST_F(WebSocketCodecTest, EachTextMessageIsALineAcrossReadsAndFragments) {
  std::string bytes = ClientFrame(0x1, "/join lounge") + ClientFrame(0x1, "hel", false) +
                      ClientFrame(0x0, "lo") + ClientFrame(0x1, "");
  codec_->Append(bytes.substr(0, 5));
  EXPECT_EQ(NextText(), "<none>");
  codec_->Append(bytes.substr(5));
  EXPECT_EQ(NextText(), "/join lounge");
  EXPECT_EQ(NextText(), "hello");
  EXPECT_EQ(NextText(), "<empty>");
  EXPECT_FALSE(codec_->closed());
}

TEST_F(WebSocketCodecTest, TheLineRulesApplyToMessages) {
  codec_->Append(ClientFrame(0x1, "two\nlines") + ClientFrame(0x1,
                                                              "\xc2\x9b"
                                                              "2J"));
  EXPECT_EQ(NextText(), "<bad encoding>");
  EXPECT_EQ(NextText(), "<bad encoding>");
  EXPECT_FALSE(codec_->closed()) << "answered with ERR bad-encoding, like a TCP line";
}

TEST_F(WebSocketCodecTest, PingIsAnsweredWithPong) {
  codec_->Append(ClientFrame(0x9, "beat"));
  std::string out = Output();
  ASSERT_GE(out.size(), 6u);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x8a);  // FIN + pong
  EXPECT_EQ(out.substr(2), "beat");
}

TEST_F(WebSocketCodecTest, BinaryIs1003InvalidUtf8Is1007OversizeIs1009UnmaskedIs1002) {
  struct Case {
    std::string bytes;
    int code;
  } cases[] = {
      {ClientFrame(0x2, "bin"), 1003},
      {ClientFrame(0x1, "\xff\xfe"), 1007},
      {ClientFrame(0x1, std::string(kMaxLine + 1, 'x')), 1009},
      {ClientFrame(0x1, "hi", true, /*masked=*/false), 1002},
  };
  for (const Case& c : cases) {
    auto codec = *WebSocketCodec::Create(kMaxLine);
    codec->Append(c.bytes + ClientFrame(0x1, "after"));
    std::string out;
    codec->TakeProtocolOutput(&out);
    EXPECT_EQ(CloseCode(out), c.code);
    EXPECT_EQ(codec->close_code_sent(), c.code);
    EXPECT_TRUE(codec->closed()) << c.code;
    EXPECT_FALSE(codec->Next().has_value()) << "nothing is taken after the close";
  }
}

TEST_F(WebSocketCodecTest, APeersCloseIsAnsweredAndNoDataFollows) {
  std::string close_payload("\x03\xe8", 2);  // 1000
  codec_->Append(ClientFrame(0x8, close_payload));
  EXPECT_EQ(CloseCode(Output()), 1000);
  EXPECT_TRUE(codec_->closed());
  std::string encoded;
  codec_->Encode("BYE quit\n", &encoded);
  EXPECT_EQ(encoded, "") << "no data frame after a close frame";
}

TEST_F(WebSocketCodecTest, EncodesEachLineAsOneTextFrameAndEndsWithOneClose) {
  std::string out;
  codec_->Encode("WELCOME guest1 hi\nOK NICK a\n", &out);
  EXPECT_EQ(out, std::string("\x81\x11WELCOME guest1 hi\x81\x09OK NICK a"));
  std::string end;
  codec_->End(&end);
  EXPECT_EQ(CloseCode(end), 1000);
  std::string again;
  codec_->End(&again);
  EXPECT_EQ(again, "") << "one close frame";
}

TEST_F(WebSocketCodecTest, ALongLineUsesTheExtendedLength) {
  std::string line(300, 'x');
  std::string out;
  codec_->Encode(line + "\n", &out);
  ASSERT_EQ(out.size(), 4 + line.size());
  EXPECT_EQ(static_cast<uint8_t>(out[1]), 126);
  EXPECT_EQ((static_cast<uint8_t>(out[2]) << 8) | static_cast<uint8_t>(out[3]), 300);
}

}  // namespace
}  // namespace roomchat
