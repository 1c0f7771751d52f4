// lobby_probe: how long a newcomer waits for WELCOME while other clients keep the lobby busy.
//
// It opens --rooms rooms (one connection each), then --bursters connections each send --commands
// "/rooms" in one write and read every reply, --rounds times (waiting for the flood bucket to
// refill between rounds). Meanwhile a prober connects every --probe_interval_ms and times
// connect -> WELCOME. Prints the WELCOME latency percentiles during the bursts, and the bursts'
// length. Loopback only; every loop is bounded in count and time.
//
//   bazel run -c opt //bench:lobby_probe -- --port=7070
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/client/line_connection.h"
#include "chat/protocol/command.h"
#include "chat/protocol/words.h"
#include "gflags/gflags.h"

DEFINE_string(host, "127.0.0.1", "Server address (loopback).");
DEFINE_int32(port, 7070, "Server port.");
DEFINE_int32(rooms, 1000, "Rooms open during the bursts.");
DEFINE_int32(bursters, 10, "Connections sending /rooms bursts.");
DEFINE_int32(commands, 400, "/rooms per burst (the default flood burst allows 400).");
DEFINE_int32(rounds, 3, "Bursts per burster, 2.5 s apart so the flood bucket refills.");
DEFINE_int32(probe_interval_ms, 5, "Time between newcomers.");

namespace roomchat {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(60);

std::unique_ptr<LineConnection> Connect() {
  absl::StatusOr<std::unique_ptr<LineConnection>> connection =
      LineConnection::Connect(FLAGS_host, FLAGS_port);
  if (!connection.ok()) {
    std::fprintf(stderr, "lobby_probe: %s\n", std::string(connection.status().message()).c_str());
    std::exit(2);
  }
  if (!(*connection)->ReadLine(absl::Now() + kDeadline).ok()) std::exit(2);  // WELCOME
  return *std::move(connection);
}

// Sends each burst and reads every reply; false if the server cut it or went quiet.
bool Burst(LineConnection& connection) {
  std::string burst;
  for (int i = 0; i < FLAGS_commands; ++i) burst += FormatCommand(Command::Kind::kRooms);
  for (int round = 0; round < FLAGS_rounds; ++round) {
    if (round > 0) absl::SleepFor(absl::Milliseconds(2500));  // the flood bucket refills
    if (!connection.Send(burst).ok()) return false;
    for (int replies = 0; replies < FLAGS_commands;) {
      absl::StatusOr<std::string> line = connection.ReadLine(absl::Now() + kDeadline);
      if (!line.ok()) return false;
      if (line->rfind(absl::StrCat(words::kOk, " "), 0) == 0) ++replies;
    }
  }
  return true;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

int Run() {
  std::vector<std::unique_ptr<LineConnection>> owners;
  for (int i = 0; i < FLAGS_rooms; ++i) {
    owners.push_back(Connect());
    owners.back()
        ->Send(FormatCommand(Command::Kind::kCreate, {absl::StrCat("room", i)}))
        .IgnoreError();
    owners.back()->ReadLine(absl::Now() + kDeadline).IgnoreError();
  }
  std::vector<std::unique_ptr<LineConnection>> bursters;
  for (int i = 0; i < FLAGS_bursters; ++i) bursters.push_back(Connect());
  std::atomic<int> running{FLAGS_bursters};
  std::atomic<int> cut{0};
  absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (auto& burster : bursters) {
    threads.emplace_back([&, connection = burster.get()] {
      if (!Burst(*connection)) cut.fetch_add(1);
      running.fetch_sub(1);
    });
  }
  std::vector<double> waits_ms;
  while (running.load() > 0 && absl::Now() - start < kDeadline) {
    absl::Time begin = absl::Now();
    std::unique_ptr<LineConnection> newcomer = Connect();
    waits_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - begin));
    absl::SleepFor(absl::Milliseconds(FLAGS_probe_interval_ms));
  }
  for (std::thread& thread : threads) thread.join();
  std::printf(
      "rooms %d, bursters %d x %d /rooms x %d rounds in %.2f s, %d cut; WELCOME wait over %zu "
      "newcomers: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      FLAGS_rooms, FLAGS_bursters, FLAGS_commands, FLAGS_rounds,
      absl::ToDoubleSeconds(absl::Now() - start), cut.load(), waits_ms.size(),
      Percentile(waits_ms, 0.5), Percentile(waits_ms, 0.99), Percentile(waits_ms, 1.0));
  return cut.load() == 0 ? 0 : 3;
}

}  // namespace
}  // namespace roomchat

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return roomchat::Run();
}
