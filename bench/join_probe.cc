// join_probe: what a replay on join costs the person joining (docs/PERFORMANCE.md, "History").
//
// A host opens room "joinprobe" and says --lines lines, so it has history. Two clients then take
// turns, --joins times each: /join (timed from the send until the join is complete: OK JOIN, and
// for the client with the replay capability also the --history_on_join lines after it), then
// /leave. Prints the join latency percentiles of both and the p99 difference. Loopback only; the
// loops are bounded in count and time.
//
//   bazel run -c opt //bench:join_probe -- --port=7070
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/client/line_connection.h"
#include "gflags/gflags.h"

DEFINE_string(host, "127.0.0.1", "Server address (loopback).");
DEFINE_int32(port, 7070, "Server port.");
DEFINE_int32(lines, 50, "Lines the room holds before the joins.");
DEFINE_int32(joins, 1000, "Joins timed per client.");
DEFINE_int32(history_on_join, 20, "The server's --history_on_join: lines a replay brings.");

namespace roomchat {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(30);

void Fail(absl::string_view what) {
  std::fprintf(stderr, "join_probe: %s\n", std::string(what).c_str());
  std::exit(2);
}

std::unique_ptr<LineConnection> Connect() {
  absl::StatusOr<std::unique_ptr<LineConnection>> connection =
      LineConnection::Connect(FLAGS_host, FLAGS_port);
  if (!connection.ok()) Fail(connection.status().message());
  if (!(*connection)->ReadLine(absl::Now() + kDeadline).ok()) Fail("no WELCOME");
  return *std::move(connection);
}

// Sends `line` and reads until a line starting with `until`; fails on anything starting ERR.
void Ask(LineConnection& connection, absl::string_view line, absl::string_view until) {
  if (!connection.Send(absl::StrCat(line, "\n")).ok()) Fail("send failed");
  while (true) {
    absl::StatusOr<std::string> got = connection.ReadLine(absl::Now() + kDeadline);
    if (!got.ok()) Fail(absl::StrCat("no answer to ", line));
    if (absl::StartsWith(*got, "ERR")) Fail(absl::StrCat(line, ": ", *got));
    if (absl::StartsWith(*got, until)) return;
  }
}

// One timed join: until OK JOIN and `replayed` lines after it.
absl::Duration TimeJoin(LineConnection& connection, int replayed) {
  absl::Time start = absl::Now();
  Ask(connection, "/join joinprobe", "OK JOIN");
  for (int i = 0; i < replayed; ++i) {
    if (!connection.ReadLine(absl::Now() + kDeadline).ok()) Fail("replay cut short");
  }
  absl::Duration took = absl::Now() - start;
  Ask(connection, "/leave", "OK LEAVE");
  return took;
}

double Percentile(std::vector<absl::Duration> samples, double p) {
  std::sort(samples.begin(), samples.end());
  size_t at = std::min(samples.size() - 1, static_cast<size_t>(p / 100 * samples.size()));
  return absl::ToDoubleMicroseconds(samples[at]);
}

int Run() {
  std::unique_ptr<LineConnection> host = Connect();
  Ask(*host, "/create joinprobe", "OK CREATE");
  for (int i = 0; i < FLAGS_lines; ++i) {
    if (!host->Send(absl::StrCat("history line ", i, " of the join probe\n")).ok()) Fail("send");
  }
  Ask(*host, "/ping done", "PONG");
  std::unique_ptr<LineConnection> plain = Connect();
  std::unique_ptr<LineConnection> replaying = Connect();
  Ask(*replaying, "/cap req tags replay", "OK CAP");
  std::vector<absl::Duration> without, with;
  for (int i = 0; i < FLAGS_joins; ++i) {  // alternating, so both see the same machine
    without.push_back(TimeJoin(*plain, 0));
    with.push_back(TimeJoin(*replaying, std::min(FLAGS_lines, FLAGS_history_on_join)));
  }
  std::printf("joins: %d each; room history: %d lines; replay: %d lines\n", FLAGS_joins,
              FLAGS_lines, std::min(FLAGS_lines, FLAGS_history_on_join));
  std::printf("%-16s %10s %10s %10s\n", "join", "p50 us", "p99 us", "max us");
  for (const auto& [name, samples] : {std::pair{"plain", &without}, std::pair{"with replay", &with}}) {
    std::printf("%-16s %10.1f %10.1f %10.1f\n", name, Percentile(*samples, 50),
                Percentile(*samples, 99), Percentile(*samples, 100));
  }
  std::printf("p99 difference: %.1f us\n", Percentile(with, 99) - Percentile(without, 99));
  return 0;
}

}  // namespace
}  // namespace roomchat

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return roomchat::Run();
}
