// ServerFixture: the in-process server on an ephemeral port that the end-to-end suites start, and
// the small helpers they share for reading what it sent.
//
// Thread contract: as a gtest fixture, for the test's thread.
#ifndef ROOMCHAT_TESTS_SERVER_FIXTURE_H_
#define ROOMCHAT_TESTS_SERVER_FIXTURE_H_

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/test_client.h"

namespace roomchat {

using Lines = std::vector<std::string>;

class ServerFixture : public ::testing::Test {
 protected:
  // Starts a server with `options` on a port it picks (127.0.0.1).
  void StartServer(ServerOptions options = {}) {
    options.port = 0;
    options.http_port = 0;
    options.https_port = 0;
    if (options.data_dir == ServerOptions().data_dir) options.data_dir = NewDataDir();
    server_ = std::make_unique<Server>(options);
    absl::Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  void TearDown() override { server_.reset(); }

  std::unique_ptr<TestClient> Login(absl::string_view nick = "", TestClientOptions options = {}) {
    return roomchat::Login(server_->port(), nick, options);
  }

  std::unique_ptr<Server> server_;
};

// Starts `count` in-process nodes of a cluster on the Redis at `redis_port` (ids n0, n1, ...),
// each with `options` on ports they pick (no HTTP port), appends them to `nodes`, and waits until
// each has joined (answered a heartbeat, so its guest numbers come from Redis).
inline void StartClusterNodes(int redis_port, int count, const ServerOptions& options,
                              std::vector<std::unique_ptr<Server>>* nodes) {
  const size_t first = nodes->size();
  for (int i = 0; i < count; ++i) {
    ServerOptions node = options;
    node.port = 0;
    node.http_port = -1;
    node.cluster_redis = absl::StrCat("127.0.0.1:", redis_port);
    node.node_id = absl::StrCat("n", first + i);
    if (node.data_dir == ServerOptions().data_dir) node.data_dir = NewDataDir();
    nodes->push_back(std::make_unique<Server>(node));
    absl::Status started = nodes->back()->Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  for (size_t i = first; i < nodes->size(); ++i) {
    ASSERT_TRUE((*nodes)[i]->TEST_cluster()->WaitUntilJoined(kLineDeadline)) << "n" << i;
  }
}

// Polls `done` (every 10 ms) until it holds or `deadline` passes; whether it held. `done` runs
// once a round, so it may have effects (send a command, keep the answer).
inline bool WaitUntil(absl::FunctionRef<bool()> done, absl::Duration deadline = kLineDeadline) {
  const absl::Time until = absl::Now() + deadline;
  while (!done()) {
    if (absl::Now() >= until) return false;
    absl::SleepFor(absl::Milliseconds(10));  // polling interval
  }
  return true;
}

// Sends `command` and reads its answer: every line up to the first "OK "/"ERR " line (that one
// last), or a "<...>" line when none came.
inline Lines Answer(TestClient& client, absl::string_view command) {
  Lines lines;
  if (!client.Send(command).ok()) return {"<send failed>"};
  while (true) {
    lines.push_back(client.Next());
    const std::string& line = lines.back();
    if (absl::StartsWith(line, "OK ") || absl::StartsWith(line, "ERR ") ||
        absl::StartsWith(line, "<")) {
      return lines;
    }
  }
}

// Asks `command` until its answer (sorted, with `sort`) is `want` or `deadline` passes: a state
// another node or thread changes asynchronously. Returns the last answer.
inline Lines AnswerUntil(TestClient& client, absl::string_view command, const Lines& want,
                         absl::Duration deadline = kLineDeadline, bool sort = false) {
  Lines answer;
  WaitUntil(
      [&] {
        answer = Answer(client, command);
        if (sort) std::sort(answer.begin(), answer.end());
        return answer == want;
      },
      deadline);
  return answer;
}

// Asks `command` (a one-line answer) until the answer starts with `want` or `deadline` passes;
// returns the last answer.
inline std::string AskUntil(TestClient& client, absl::string_view command, absl::string_view want,
                            absl::Duration deadline = kLineDeadline) {
  std::string answer;
  WaitUntil(
      [&] {
        answer = client.Ask(command);
        return absl::StartsWith(answer, want);
      },
      deadline);
  return answer;
}

// Waits until `node`'s link to Redis is up (or down); the deadline allows for a heartbeat that
// finds the node key past its life, or a command unanswered for the link's timeout.
inline ::testing::AssertionResult WaitClusterLink(const Server& node, bool up) {
  if (WaitUntil([&] { return node.TEST_cluster()->up() == up; },
                kLineDeadline + absl::Seconds(10))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "the link never went " << (up ? "up" : "down");
}

// Lines received before a round trip: what arrived unasked.
inline Lines Pending(TestClient& client) {
  absl::StatusOr<Lines> lines = client.Sync();
  EXPECT_TRUE(lines.ok()) << lines.status();
  return lines.ok() ? *lines
                    : Lines{absl::StrCat("<sync failed: ", lines.status().ToString(), ">")};
}

// A member of a room seated by SeatInRoom: its connection and its nick.
struct Seat {
  TestClient* client;
  std::string nick;
};
// The first of `seats` creates `room` and the others join it in turn, each JOIN read by those in
// before it. Fails the test on an unexpected line (for ASSERT_NO_FATAL_FAILURE).
inline void SeatInRoom(const std::string& room, const std::vector<Seat>& seats) {
  ASSERT_EQ(seats[0].client->Ask(absl::StrCat("/create ", room)), absl::StrCat("OK CREATE ", room));
  for (size_t i = 1; i < seats.size(); ++i) {
    ASSERT_EQ(seats[i].client->Ask(absl::StrCat("/join ", room)),
              absl::StrCat("OK JOIN ", room, " ", i + 1));
    for (size_t in = 0; in < i; ++in) {
      ASSERT_EQ(seats[in].client->Next(), absl::StrCat("JOIN ", room, " ", seats[i].nick));
    }
  }
}

// For EXPECT_TRUE: `reply` is "ERR <code>" or "ERR <code> <text>".
inline ::testing::AssertionResult IsErr(absl::string_view reply, absl::string_view code) {
  std::string want = absl::StrCat("ERR ", code);
  if (reply == want || absl::StartsWith(reply, absl::StrCat(want, " "))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected " << want << ", got " << reply;
}

}  // namespace roomchat

#endif  // ROOMCHAT_TESTS_SERVER_FIXTURE_H_
