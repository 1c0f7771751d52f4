// End-to-end tests of the chat_server binary itself: what main() does with flags, signals and logs.
#include <signal.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

constexpr char kServerPath[] = "chat/chat_server";

// The port in the "listening on 127.0.0.1:<port>" log line, once the server has logged it.
std::optional<int> WaitUntilListening(Subprocess& server) {
  const std::string marker = "listening on 127.0.0.1:";
  if (!server.WaitForStderr(marker, kLineDeadline)) return std::nullopt;
  std::string log = server.Stderr();
  size_t at = log.find(marker) + marker.size();
  int port = 0;
  if (!absl::SimpleAtoi(log.substr(at, log.find(' ', at) - at), &port)) return std::nullopt;
  return port;
}

void ExpectCleanShutdownOn(int signal_number) {
  Subprocess server(kServerPath, {"--port=0"});
  std::optional<int> port = WaitUntilListening(server);
  ASSERT_TRUE(port.has_value()) << server.Stderr();
  auto alice = Login(*port, "alice");
  auto bob = Login(*port, "bob");
  ASSERT_NE(bob, nullptr);
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");

  server.Signal(signal_number);
  for (TestClient* client : {alice.get(), bob.get()}) {
    absl::StatusOr<std::vector<std::string>> last = client->ReadUntilClosed();
    ASSERT_TRUE(last.ok()) << last.status();
    EXPECT_EQ(*last, std::vector<std::string>{"BYE server-shutdown"});
  }
  EXPECT_TRUE(server.ExitsWith(0, kLineDeadline));
  std::string log = server.Stderr();
  EXPECT_TRUE(absl::StrContains(log, "roomchat server starting")) << log;
  EXPECT_TRUE(absl::StrContains(log, "connected from 127.0.0.1:")) << log;
  EXPECT_TRUE(absl::StrContains(log, "room Lounge opened by alice")) << log;
  EXPECT_TRUE(absl::StrContains(log, "disconnected from Lounge: server shutdown")) << log;
  EXPECT_TRUE(absl::StrContains(log, "room Lounge closed")) << log;
  EXPECT_TRUE(absl::StrContains(log, "shut down")) << log;
}

TEST(ServerBinaryTest, SigtermSaysByeJoinsEveryThreadAndExitsZero) {
  ExpectCleanShutdownOn(SIGTERM);
}

TEST(ServerBinaryTest, SigintDoesTheSame) { ExpectCleanShutdownOn(SIGINT); }

TEST(ServerBinaryTest, LogsNoChatLinesAtInfo) {
  Subprocess server(kServerPath, {"--port=0"});
  std::optional<int> port = WaitUntilListening(server);
  ASSERT_TRUE(port.has_value()) << server.Stderr();
  auto alice = Login(*port, "alice");
  auto bob = Login(*port, "bob");
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  bob->Send("a secret chat line").IgnoreError();
  ASSERT_EQ(alice->Next(), "JOIN Lounge bob");
  ASSERT_EQ(alice->Next(), "MSG Lounge bob a secret chat line");
  bob->Send("/msg alice a secret whisper").IgnoreError();
  ASSERT_EQ(alice->Next(), "PRIV bob a secret whisper");
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.ExitsWith(0, kLineDeadline));
  std::string log = server.Stderr();
  EXPECT_FALSE(absl::StrContains(log, "secret")) << log;
}

TEST(ServerBinaryTest, RefusesNonsenseFlagsWithAClearMessage) {
  const std::pair<std::string, std::string> cases[] = {
      {"--port=70000", "--port must be 0-65535"},
      {"--port=-1", "--port must be 0-65535"},
      {"--max_clients=0", "--max_clients must be at least 1"},
      {"--max_rooms=0", "--max_rooms must be at least 1"},
      {"--max_room_members=0", "--max_room_members must be at least 1"},
      {"--max_line_bytes=10", "--max_line_bytes must be 64-1048576"},
      {"--max_outbuf_bytes=100", "--max_outbuf_bytes must be at least twice --max_line_bytes"},
      {"--idle_timeout_s=-5", "--idle_timeout_s must be 0 (off) or more"},
      {"--host=", "--host must not be empty"},
  };
  for (const auto& [flag, message] : cases) {
    Subprocess server(kServerPath, {flag});
    EXPECT_TRUE(server.ExitsWith(2, kLineDeadline)) << flag;
    std::string log = server.Stderr();
    EXPECT_TRUE(absl::StrContains(log, message)) << flag << ": " << log;
  }
}

TEST(ServerBinaryTest, SaysWhyItCannotListen) {
  Subprocess first(kServerPath, {"--port=0"});
  std::optional<int> port = WaitUntilListening(first);
  ASSERT_TRUE(port.has_value());
  Subprocess second(kServerPath, {absl::StrCat("--port=", *port)});
  EXPECT_TRUE(second.ExitsWith(1, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(second.Stderr(), "Address already in use")) << second.Stderr();
}

}  // namespace
}  // namespace roomchat
