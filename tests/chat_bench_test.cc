// End-to-end tests of //bench:chat_bench against the real server (and a two-node cluster of it,
// --servers): a small run accounts for every delivery, and bad setups end with a clear message
// and a non-zero exit.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "chat/cluster/test_redis.h"
#include "chat/server.h"
#include "chat/loop/socket.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/subprocess.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

constexpr char kBenchPath[] = "bench/chat_bench";

std::unique_ptr<Server> StartServer(ServerOptions options) {
  options.port = 0;
  options.http_port = 0;
  options.https_port = 0;  // used only with a certificate
  options.data_dir = NewDataDir();
  auto server = std::make_unique<Server>(options);
  EXPECT_TRUE(server->Start().ok());
  return server;
}

// The number after "<field>": in chat_bench's JSON, or -1.
int64_t JsonCount(const std::string& json, absl::string_view field) {
  std::string key = absl::StrCat("\"", field, "\":");
  size_t at = json.find(key);
  int64_t count = -1;
  if (at == std::string::npos) return count;
  absl::string_view rest = absl::string_view(json).substr(at + key.size());
  if (!absl::SimpleAtoi(rest.substr(0, rest.find_first_of(",}")), &count)) return -1;
  return count;
}

// A run that lost nothing: every line sent reached each of its `receivers`, none twice or out of
// order. How many lines the pacer sent in the measured second is timing (it falls behind on a
// loaded machine), so only at least half of the `nominal` count is asked for.
void ExpectEveryLineDelivered(const std::string& json, int receivers, int nominal) {
  const int64_t sent = JsonCount(json, "sent");
  EXPECT_GE(sent, nominal / 2) << json;
  EXPECT_EQ(JsonCount(json, "expected"), sent * receivers) << json;
  EXPECT_EQ(JsonCount(json, "delivered"), sent * receivers) << json;
  EXPECT_TRUE(absl::StrContains(json,
                                "\"lost\":0,\"loss_pct\":0.000000,\"duplicates\":0,"
                                "\"reorders\":0"))
      << json;
}

TEST(ChatBenchTest, ASmallOpenLoopRunDeliversEverythingInOrder) {
  auto server = StartServer({});
  Subprocess bench(kBenchPath, {absl::StrCat("--port=", server->port()), "--rooms=3", "--members=4",
                                "--senders=2", "--rate=20", "--duration=1", "--warmup=0.2",
                                "--json", "--max_loss_pct=0"});
  ASSERT_TRUE(bench.ExitsWith(0, kLineDeadline)) << bench.Stderr();
  std::string json = bench.Stdout();
  // 3 rooms x 2 senders x 20/s x 1 s, each to the 3 other members.
  ExpectEveryLineDelivered(json, 3, 120);
  EXPECT_FALSE(absl::StrContains(json, "latency_other_nodes_ms")) << "one server: no split";
  EXPECT_TRUE(absl::StrContains(bench.Stderr(), "delivered")) << "a progress line each second";
}

// A node of a cluster on `redis`, up once it has answered a heartbeat (docs/CLUSTER.md).
std::unique_ptr<Server> StartClusterNode(const TestRedis& redis, const std::string& node_id) {
  ServerOptions options;
  options.http_port = -1;
  options.cluster_redis = absl::StrCat("127.0.0.1:", redis.port());
  options.node_id = node_id;
  auto node = StartServer(options);
  EXPECT_TRUE(node->TEST_cluster()->WaitUntilJoined(kLineDeadline)) << node_id << " never beat";
  return node;
}

TEST(ChatBenchTest, ARunOverTwoClusterNodesDeliversEverythingInOrder) {
  TestRedis redis;
  ASSERT_TRUE(redis.Start().ok());
  auto n0 = StartClusterNode(redis, "n0");
  auto n1 = StartClusterNode(redis, "n1");
  Subprocess bench(kBenchPath, {absl::StrCat("--servers=127.0.0.1:", n0->port(), ",127.0.0.1:",
                                             n1->port()),
                                "--rooms=3", "--members=4", "--senders=1", "--rate=20",
                                "--duration=1", "--warmup=0.2", "--json", "--max_loss_pct=0"});
  ASSERT_TRUE(bench.ExitsWith(0, kLineDeadline)) << bench.Stderr();
  std::string json = bench.Stdout();
  // 3 rooms x 1 sender x 20/s x 1 s, each to the 3 other members (two of them on the other node);
  // the JOIN events the members see while the others join are not deliveries.
  ExpectEveryLineDelivered(json, 3, 60);
  // Member 2 is on the sender's node, members 1 and 3 on the other: both latencies are reported.
  EXPECT_TRUE(absl::StrContains(json, "\"latency_sender_node_ms\":{\"p50\":")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"latency_other_nodes_ms\":{\"p50\":")) << json;
}

TEST(ChatBenchTest, ServersRefusesOtherProtocolsAndThePortFlag) {
  Subprocess resp(kBenchPath, {"--proto=resp", "--servers=127.0.0.1:1,127.0.0.1:2"});
  EXPECT_TRUE(resp.ExitsWith(2, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(resp.Stderr(), "--servers works with --proto=line only"))
      << resp.Stderr();
  Subprocess port(kBenchPath, {"--port=7070", "--servers=127.0.0.1:1,127.0.0.1:2"});
  EXPECT_TRUE(port.ExitsWith(2, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(port.Stderr(), "--servers and --port exclude each other"))
      << port.Stderr();
  Subprocess bad(kBenchPath, {"--servers=127.0.0.1:1,localhost"});
  EXPECT_TRUE(bad.ExitsWith(2, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(bad.Stderr(), "\"localhost\" is not HOST:PORT")) << bad.Stderr();
}

TEST(ChatBenchTest, AClosedLoopRunCompletesEveryMessage) {
  auto server = StartServer(ServerOptions{.flood_lines_per_s = 0});
  Subprocess bench(kBenchPath,
                   {absl::StrCat("--port=", server->port()), "--rooms=1", "--members=5", "--rate=0",
                    "--window=8", "--duration=1", "--warmup=0.2", "--max_loss_pct=0"});
  ASSERT_TRUE(bench.ExitsWith(0, kLineDeadline)) << bench.Stderr();
  EXPECT_TRUE(absl::StrContains(bench.Stdout(), "lost 0 (0.0000%); duplicates 0; reorders 0"))
      << bench.Stdout();
}

TEST(ChatBenchTest, ATlsRunOnTheTlsPortDeliversEverythingInOrder) {
  const std::string dir = NewDataDir();
  const std::string make_cert = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout ",
      dir, "/key.pem -out ", dir, "/cert.pem -subj /CN=localhost 2>/dev/null");
  ASSERT_EQ(std::system(make_cert.c_str()), 0);
  ServerOptions options{.flood_lines_per_s = 0};
  options.tls_cert = dir + "/cert.pem";
  options.tls_key = dir + "/key.pem";
  options.tls_port = 0;
  auto server = StartServer(options);
  ASSERT_GT(server->tls_port(), 0);
  Subprocess bench(kBenchPath, {"--tls", absl::StrCat("--port=", server->tls_port()), "--rooms=2",
                                "--members=4", "--senders=2", "--rate=20", "--duration=1",
                                "--warmup=0.2", "--json", "--max_loss_pct=0"});
  ASSERT_TRUE(bench.ExitsWith(0, kLineDeadline)) << bench.Stderr();
  std::string json = bench.Stdout();
  ExpectEveryLineDelivered(json, 3, 80);
}

TEST(ChatBenchTest, AWebSocketRunOnTheHttpPortDeliversEverythingInOrder) {
  auto server = StartServer(ServerOptions{.flood_lines_per_s = 0});
  Subprocess bench(kBenchPath, {"--proto=ws", absl::StrCat("--port=", server->http_port()),
                                "--rooms=2", "--members=4", "--senders=2", "--rate=20",
                                "--duration=1", "--warmup=0.2", "--json", "--max_loss_pct=0"});
  ASSERT_TRUE(bench.ExitsWith(0, kLineDeadline)) << bench.Stderr();
  std::string json = bench.Stdout();
  // 2 rooms x 2 senders x 20/s x 1 s, each to the 3 other members.
  ExpectEveryLineDelivered(json, 3, 80);
}

TEST(ChatBenchTest, ARefusedWebSocketUpgradeSaysSo) {
  auto server = StartServer({});
  // The TCP port says WELCOME, not HTTP/1.1 101.
  Subprocess bench(kBenchPath, {"--proto=ws", absl::StrCat("--port=", server->port()), "--rooms=1",
                                "--members=2", "--setup_timeout=5", "--duration=1"});
  EXPECT_TRUE(bench.ExitsWith(2, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(bench.Stderr(), "server refused: not an HTTP response"))
      << bench.Stderr();
}

TEST(ChatBenchTest, CannotConnectExitsTwo) {
  absl::StatusOr<UniqueFd> probe = ListenTcp("127.0.0.1", 0, 1);
  ASSERT_TRUE(probe.ok());
  int port = *LocalPort(probe->get());
  probe->Reset();
  Subprocess bench(kBenchPath, {absl::StrCat("--port=", port), "--duration=1"});
  EXPECT_TRUE(bench.ExitsWith(2, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(bench.Stderr(), "cannot connect to 127.0.0.1:")) << bench.Stderr();
}

TEST(ChatBenchTest, AServerThatRefusesEndsTheRunWithItsWords) {
  // Flood control at 5 lines/s refuses a sender at 200/s.
  auto server = StartServer(ServerOptions{.flood_lines_per_s = 5, .flood_burst = 5});
  Subprocess bench(kBenchPath, {absl::StrCat("--port=", server->port()), "--rooms=1", "--members=2",
                                "--rate=200", "--duration=2", "--warmup=0"});
  EXPECT_TRUE(bench.ExitsWith(2, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(bench.Stderr(), "server refused: ERR flood")) << bench.Stderr();
}

// A fake roomchat for two members that relays the sender's lines to the receiver with known faults:
// of every 10 lines it drops the 3rd, sends the 5th twice, and swaps the 7th and 8th.
class ManglingServer {
 public:
  ManglingServer() : listener_(*ListenTcp("127.0.0.1", 0, 8)) {
    port_ = *LocalPort(listener_.get());
    thread_ = std::thread([this] { Serve(); });
  }
  ~ManglingServer() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void Serve() {
    std::vector<UniqueFd> members;
    std::vector<std::string> buffers(2);
    std::string held;  // the 7th line, sent after the 8th
    int relayed = 0;
    while (!stop_) {
      std::vector<pollfd> fds{{listener_.get(), POLLIN, 0}};
      for (auto& member : members) fds.push_back({member.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents && members.size() < 2) {
        members.emplace_back(::accept(listener_.get(), nullptr, nullptr));
        Write(members.back().get(), absl::StrCat("WELCOME guest", members.size(), " hi\n"));
      }
      for (size_t m = 0; m + 1 < fds.size(); ++m) {
        if (!fds[m + 1].revents) continue;
        char chunk[65536];
        ssize_t n = ::read(members[m].get(), chunk, sizeof(chunk));
        if (n <= 0) return;
        buffers[m].append(chunk, static_cast<size_t>(n));
        for (size_t end; (end = buffers[m].find('\n')) != std::string::npos;) {
          std::string line = buffers[m].substr(0, end);
          buffers[m].erase(0, end + 1);
          if (absl::StartsWith(line, "/join ")) {
            Write(members[m].get(), absl::StrCat("OK JOIN ", line.substr(6), " 2\n"));
            continue;
          }
          if (absl::StartsWith(line, "/") || members.size() < 2) continue;
          std::string msg = absl::StrCat("MSG bench0 guest", m + 1, " ", line, "\n");
          int fd = members[1 - m].get();
          switch (relayed++ % 10) {
            case 2: break;                         // dropped
            case 4: Write(fd, msg + msg); break;   // duplicated
            case 6: held = msg; break;             // held back...
            case 7: Write(fd, msg + held); break;  // ...and sent after the next
            default: Write(fd, msg);
          }
        }
      }
    }
  }
  static void Write(int fd, const std::string& bytes) {
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }

  UniqueFd listener_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(ChatBenchTest, CountsLossDuplicatesAndReordersExactly) {
  ManglingServer server;
  // One sender at 20/s for 1 s, no warmup: 20 lines, so two rounds of the faults above.
  Subprocess bench(kBenchPath,
                   {absl::StrCat("--port=", server.port()), "--rooms=1", "--members=2", "--rate=20",
                    "--duration=1", "--warmup=0", "--json", "--max_loss_pct=1"});
  EXPECT_TRUE(bench.ExitsWith(3, kLineDeadline)) << bench.Stderr();
  std::string json = bench.Stdout();
  EXPECT_TRUE(absl::StrContains(json, "\"sent\":20,")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"delivered\":18,\"deliveries_per_s\"")) << json;
  EXPECT_TRUE(absl::StrContains(json,
                                "\"lost\":2,\"loss_pct\":10.000000,\"duplicates\":2,"
                                "\"reorders\":2"))
      << json;
  EXPECT_TRUE(absl::StrContains(bench.Stderr(), "over --max_loss_pct=1")) << bench.Stderr();
}

TEST(ChatBenchTest, SetupTimesOutWithAClearMessage) {
  // Listening, so connections complete, but nobody ever says WELCOME.
  absl::StatusOr<UniqueFd> silent = ListenTcp("127.0.0.1", 0, 16);
  ASSERT_TRUE(silent.ok());
  Subprocess bench(kBenchPath, {absl::StrCat("--port=", *LocalPort(silent->get())), "--rooms=1",
                                "--members=2", "--setup_timeout=1", "--duration=1"});
  EXPECT_TRUE(bench.ExitsWith(2, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(bench.Stderr(), "setup timed out: 0 of 2 connections ready"))
      << bench.Stderr();
}

TEST(ChatBenchTest, RefusesARemoteHostUnlessAllowed) {
  Subprocess bench(kBenchPath, {"--host=192.0.2.1", "--duration=1"});
  EXPECT_TRUE(bench.ExitsWith(2, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(bench.Stderr(), "not a loopback address")) << bench.Stderr();
}

}  // namespace
}  // namespace roomchat
