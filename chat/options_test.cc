#include "chat/options.h"

#include <string>

#include "absl/strings/match.h"
#include "chat/protocol/replies.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

TEST(OptionsTest, TheDefaultsAreValid) { EXPECT_TRUE(ValidateOptions(ServerOptions()).ok()); }

// The smallest --max_outbuf_bytes accepted must hold the largest reply twice over: with 64-byte
// lines the old rule (twice the line) accepted 128 bytes, and /help alone is longer than that.
TEST(OptionsTest, TheOutputCapMustHoldTheLargestReplyTwice) {
  ServerOptions options;
  options.max_line_bytes = 64;
  options.outbuf_soft_bytes = 0;
  options.max_outbuf_bytes = 128;
  absl::Status refused = ValidateOptions(options);
  EXPECT_TRUE(absl::StrContains(refused.message(), "--max_outbuf_bytes must be at least"))
      << refused;
  size_t largest = LargestReplyBytes(options);
  EXPECT_GE(largest, replies::Help().size());
  options.max_outbuf_bytes = 2 * largest - 1;
  EXPECT_FALSE(ValidateOptions(options).ok());
  options.max_outbuf_bytes = 2 * largest;
  EXPECT_TRUE(ValidateOptions(options).ok());
}

TEST(OptionsTest, TheLargestReplyGrowsWithTheListsItMayHoldAndTheLineLength) {
  ServerOptions options;
  size_t with_defaults = LargestReplyBytes(options);
  options.max_rooms *= 2;
  EXPECT_GT(LargestReplyBytes(options), with_defaults) << "/rooms at --max_rooms";
  ServerOptions long_lines;
  long_lines.max_rooms = 1;
  long_lines.max_room_members = 1;
  long_lines.max_line_bytes = 100000;
  // MSG, a 32-character room and nick, the text and the spaces and LF.
  EXPECT_EQ(LargestReplyBytes(long_lines), 100000u + 4 + 32 + 1 + 32 + 1 + 1);
}

TEST(OptionsTest, TheHighWaterMarkLeavesRoomForOneReplyUnderTheHardCap) {
  ServerOptions options;
  EXPECT_EQ(HighWaterBytes(options), options.outbuf_soft_bytes);
  options.outbuf_soft_bytes = options.max_outbuf_bytes;
  EXPECT_EQ(HighWaterBytes(options), options.max_outbuf_bytes - LargestReplyBytes(options));
  options.outbuf_soft_bytes = 0;
  EXPECT_EQ(HighWaterBytes(options), options.max_outbuf_bytes / 2);
}

TEST(OptionsTest, NonsenseValuesAreNamed) {
  ServerOptions options;
  options.port = 70000;
  EXPECT_TRUE(absl::StrContains(ValidateOptions(options).message(), "--port"));
  options = ServerOptions();
  options.flood_burst = 0;
  EXPECT_TRUE(absl::StrContains(ValidateOptions(options).message(), "--flood_burst"));
  options = ServerOptions();
  options.https_port = -2;
  EXPECT_TRUE(absl::StrContains(ValidateOptions(options).message(), "--https_port"));
  for (const char* id : {"a b", "a:nicks", "a:members"}) {  // the last two: node a's Redis sets
    options = ServerOptions();
    options.node_id = id;
    EXPECT_TRUE(absl::StrContains(ValidateOptions(options).message(), "--node_id")) << id;
  }
  options.node_id = "10.0.0.7:7070";
  EXPECT_TRUE(ValidateOptions(options).ok());
}

TEST(OptionsTest, HttpsNeedsACertificateAndTheHttpPort) {
  ServerOptions options;
  EXPECT_FALSE(HttpsOn(options));
  options.tls_cert = "cert.pem";
  options.tls_key = "key.pem";
  EXPECT_TRUE(HttpsOn(options));
  options.http_port = -1;
  EXPECT_FALSE(HttpsOn(options));
  options.http_port = 0;
  options.https_port = -1;
  EXPECT_FALSE(HttpsOn(options));
  EXPECT_TRUE(WebOptionsOf(options, /*tls=*/true).tls);
  EXPECT_FALSE(WebOptionsOf(options).tls);
}

}  // namespace
}  // namespace roomchat
