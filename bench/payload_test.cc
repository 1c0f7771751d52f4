#include "bench/payload.h"

#include "gtest/gtest.h"

namespace roomchat {
namespace {

TEST(PayloadTest, RoundTrips) {
  std::string payload;
  FormatPayload({0x1234, 987654321, 1234567890123456789}, 64, &payload);
  EXPECT_EQ(payload.size(), 64u);
  EXPECT_EQ(payload.substr(0, 9), "00001234 ");
  PayloadFields fields{};
  ASSERT_TRUE(ParsePayload(payload, &fields));
  EXPECT_EQ(fields.sender, 0x1234u);
  EXPECT_EQ(fields.seq, 987654321u);
  EXPECT_EQ(fields.send_ns, 1234567890123456789);
}

TEST(PayloadTest, IsPlainTextOfTheRequestedSize) {
  std::string payload;
  FormatPayload({1, 2, 3}, 4096, &payload);
  EXPECT_EQ(payload.size(), 4096u);
  for (char c : payload) EXPECT_TRUE(c == ' ' || isalnum(static_cast<unsigned char>(c)));
  FormatPayload({1, 2, 3}, 10, &payload);
  EXPECT_EQ(payload.size(), kMinPayloadBytes) << "never below the header";
}

TEST(PayloadTest, RejectsOtherText) {
  PayloadFields fields{};
  EXPECT_FALSE(ParsePayload("hello world", &fields));
  EXPECT_FALSE(ParsePayload(std::string(64, 'x'), &fields));
  EXPECT_FALSE(ParsePayload("0000zzzz 000000000001 0000000000000001 x", &fields));
}

}  // namespace
}  // namespace roomchat
