// chat_bench: a load generator for roomchat (over TCP, or over WebSockets on its HTTP port), and
// for Redis pub/sub and IRC servers doing the same work, so their figures compare
// (bench/compare.sh). See docs/PERFORMANCE.md.
//
//   bazel run -c opt //bench:chat_bench -- --rooms=1 --members=100 --rate=0 --window=64
//   bazel run -c opt //bench:chat_bench -- --proto=ws --port=8080 --rooms=1 --members=100
//   bazel run -c opt //bench:chat_bench -- --servers=127.0.0.1:7070,127.0.0.1:7071 --rooms=1
//       (a roomchat cluster: each room's members spread over the nodes; bench/cluster.sh)
//
// Exit codes: 0 ok; 2 bad flags, cannot connect, setup timed out, or the server refused something;
// 3 loss above --max_loss_pct.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "bench/load_generator.h"
#include "gflags/gflags.h"

DEFINE_string(proto, "line",
              "line (roomchat), ws (roomchat over a WebSocket: --port is its --http_port), resp "
              "(Redis pub/sub) or irc.");
DEFINE_string(host, "127.0.0.1", "Server address; loopback only unless --allow_remote.");
DEFINE_int32(port, 7070, "Server port (for ws, roomchat's HTTP port).");
DEFINE_string(servers, "",
              "HOST:PORT,HOST:PORT,...: the nodes of a roomchat cluster (--proto=line; instead of "
              "--host and --port). Member i of each room connects to server i mod n, the senders "
              "to the first, where each room is created before the others join it.");
DEFINE_bool(allow_remote, false, "Allow a --host that is not a loopback address.");
DEFINE_int32(rooms, 10, "Rooms (Redis channels, IRC channels).");
DEFINE_int32(members, 10, "Connections per room.");
DEFINE_int32(senders, 1, "Senders per room, among its members.");
DEFINE_double(rate, 50, "Messages per second per sender; 0 = closed loop (see --window).");
DEFINE_int32(window, 64, "Closed loop: messages per sender not yet received by every member.");
DEFINE_int32(bytes, 64, "Payload bytes per message (at least 40).");
DEFINE_double(duration, 10, "Seconds measured.");
DEFINE_double(warmup, 2, "Seconds of sending before measuring.");
DEFINE_int32(threads, 1, "Generator threads (epoll loops); rooms are spread over them.");
DEFINE_double(setup_timeout, 60, "Seconds for every connection to join its room.");
DEFINE_int32(server_pid, 0, "The server's pid, to report its CPU use over the window.");
DEFINE_double(max_loss_pct, -1, "Exit 3 if more than this percent of deliveries are lost.");
DEFINE_bool(json, false, "Print one JSON object instead of the summary.");
DEFINE_string(csv, "", "Write the per-second series (sent, delivered, p50, p99) to this file.");
DEFINE_string(irc_oper, "",
              "IRC: 'name:password' to OPER and set user mode +F (no flood penalty).");
DEFINE_string(label, "", "A name for this run, echoed in the output.");
DEFINE_bool(tls, false,
            "Every connection over TLS (roomchat's --tls_port, or Redis's tls-port with "
            "--proto=resp); certificates are not checked.");
DEFINE_string(room_prefix, "bench", "Rooms are named <prefix>0, <prefix>1, ...");

namespace roomchat {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// utime + stime of `pid`, in seconds.
double CpuSeconds(int pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  long long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stoll(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string Millis(int64_t nanos) { return absl::StrFormat("%.3f", nanos / 1e6); }

// The histograms a result reports, by name: with several servers also the deliveries to members
// on the senders' server and on the others (the difference is what a cross-node delivery adds).
std::vector<std::pair<const char*, const LatencyHistogram*>> Histograms(const BenchResult& r) {
  std::vector<std::pair<const char*, const LatencyHistogram*>> histograms = {
      {"latency", &r.latency}, {"spread", &r.spread}};
  if (r.latency_sender_node.count() > 0) {
    histograms.push_back({"latency_sender_node", &r.latency_sender_node});
  }
  if (r.latency_other_nodes.count() > 0) {
    histograms.push_back({"latency_other_nodes", &r.latency_other_nodes});
  }
  return histograms;
}

std::string RateName() {
  return FLAGS_rate > 0 ? absl::StrCat(FLAGS_rate, "/s")
                        : absl::StrCat("closed(window ", FLAGS_window, ")");
}

void PrintSummary(const BenchResult& r, double server_cpu_s) {
  double seconds = r.window_s;
  std::printf(
      "chat_bench %s proto=%s rooms=%d members=%d senders=%d rate=%s bytes=%d "
      "duration=%gs warmup=%gs threads=%d\n",
      FLAGS_label.c_str(), FLAGS_proto.c_str(), FLAGS_rooms, FLAGS_members, FLAGS_senders,
      RateName().c_str(), FLAGS_bytes, FLAGS_duration, FLAGS_warmup, FLAGS_threads);
  std::printf("  sent          %llu messages (%.0f/s)\n", (unsigned long long)r.sent,
              r.sent / seconds);
  std::printf(
      "  deliveries    %llu (%.0f/s); expected %llu; lost %llu (%.4f%%); duplicates %llu; "
      "reorders %llu\n",
      (unsigned long long)r.delivered, r.delivered / seconds, (unsigned long long)r.expected,
      (unsigned long long)r.lost(), r.loss_pct(), (unsigned long long)r.duplicates,
      (unsigned long long)r.reorders);
  for (const auto& [name, h] : Histograms(r)) {
    std::printf("  %-13s p50 %s ms  p90 %s ms  p99 %s ms  p99.9 %s ms  max %s ms\n", name,
                Millis(h->Percentile(50)).c_str(), Millis(h->Percentile(90)).c_str(),
                Millis(h->Percentile(99)).c_str(), Millis(h->Percentile(99.9)).c_str(),
                Millis(h->max()).c_str());
  }
  if (server_cpu_s > 0) {
    std::printf("  server CPU    %.0f%% of one core; %.0f deliveries per server CPU-second\n",
                100 * server_cpu_s / seconds, r.delivered / server_cpu_s);
  }
}

void PrintJson(const BenchResult& r, double server_cpu_s) {
  double seconds = r.window_s;
  std::string json = absl::StrFormat(
      "{\"label\":\"%s\",\"proto\":\"%s\",\"rooms\":%d,\"members\":%d,\"senders\":%d,"
      "\"rate\":%g,\"window\":%d,\"bytes\":%d,\"duration_s\":%g,\"sent\":%d,\"sent_per_s\":%.1f,"
      "\"delivered\":%d,\"deliveries_per_s\":%.1f,\"expected\":%d,\"lost\":%d,\"loss_pct\":%.6f,"
      "\"duplicates\":%d,\"reorders\":%d",
      FLAGS_label, FLAGS_proto, FLAGS_rooms, FLAGS_members, FLAGS_senders, FLAGS_rate, FLAGS_window,
      FLAGS_bytes, FLAGS_duration, r.sent, r.sent / seconds, r.delivered, r.delivered / seconds,
      r.expected, r.lost(), r.loss_pct(), r.duplicates, r.reorders);
  for (const auto& [name, h] : Histograms(r)) {
    absl::StrAppendFormat(&json,
                          ",\"%s_ms\":{\"p50\":%s,\"p90\":%s,\"p99\":%s,\"p99_9\":%s,\"max\":%s}",
                          name, Millis(h->Percentile(50)), Millis(h->Percentile(90)),
                          Millis(h->Percentile(99)), Millis(h->Percentile(99.9)), Millis(h->max()));
  }
  if (server_cpu_s > 0) {
    absl::StrAppendFormat(&json, ",\"server_cpu_pct\":%.1f,\"deliveries_per_server_cpu_s\":%.1f",
                          100 * server_cpu_s / seconds, r.delivered / server_cpu_s);
  }
  std::printf("%s}\n", json.c_str());
}

bool WriteCsv(const BenchResult& r, const std::string& path) {
  std::ofstream out(path);
  out << "second,sent,delivered,p50_ms,p99_ms\n";
  for (size_t i = 0; i < r.seconds.size(); ++i) {
    const SecondStats& s = r.seconds[i];
    out << i << "," << s.sent << "," << s.delivered << "," << Millis(s.latency.Percentile(50))
        << "," << Millis(s.latency.Percentile(99)) << "\n";
  }
  return out.good();
}

// A line a second on stderr: rewritten in place on a terminal.
void ReportProgress(const LoadGenerator& generator, const absl::Notification& done) {
  bool terminal = isatty(STDERR_FILENO);
  uint64_t last_sent = 0, last_delivered = 0;
  for (int second = 1; !done.WaitForNotificationWithTimeout(absl::Seconds(1)); ++second) {
    uint64_t sent = generator.sent_so_far();
    uint64_t delivered = generator.delivered_so_far();
    std::fprintf(stderr, "%s[%3ds] sent %llu/s, delivered %llu/s%s", terminal ? "\r" : "", second,
                 (unsigned long long)(sent - last_sent),
                 (unsigned long long)(delivered - last_delivered), terminal ? "   " : "\n");
    last_sent = sent;
    last_delivered = delivered;
  }
  if (terminal) std::fprintf(stderr, "\n");
}

// --host and --port, or --servers; every host a loopback address unless --allow_remote.
absl::StatusOr<std::vector<ServerAddress>> Servers(Proto proto) {
  std::vector<ServerAddress> servers = {{FLAGS_host, FLAGS_port}};
  if (!FLAGS_servers.empty()) {
    if (proto != Proto::kLine) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--servers works with --proto=line only (a roomchat cluster), not --proto=", FLAGS_proto));
    }
    for (const char* alone : {"host", "port"}) {
      if (!gflags::GetCommandLineFlagInfoOrDie(alone).is_default) {
        return absl::InvalidArgumentError(
            absl::StrCat("--servers and --", alone, " exclude each other (--servers names each "
                         "server's host and port)"));
      }
    }
    absl::StatusOr<std::vector<ServerAddress>> parsed = ParseServerList(FLAGS_servers);
    if (!parsed.ok()) return parsed.status();
    servers = *std::move(parsed);
  }
  for (const ServerAddress& server : servers) {
    if (!FLAGS_allow_remote && !IsLoopback(server.host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--host ", server.host, " is not a loopback address (see --allow_remote)"));
    }
  }
  return servers;
}

// The workload the flags describe.
absl::StatusOr<Workload> WorkloadFromFlags() {
  Workload workload;
  absl::StatusOr<Proto> proto = ParseProto(FLAGS_proto);
  if (!proto.ok()) return proto.status();
  absl::StatusOr<std::vector<ServerAddress>> servers = Servers(*proto);
  if (!servers.ok()) return servers.status();
  workload.proto = *proto;
  workload.servers = *std::move(servers);
  workload.rooms = FLAGS_rooms;
  workload.members = FLAGS_members;
  workload.senders = FLAGS_senders;
  workload.rate = FLAGS_rate;
  workload.window = FLAGS_window;
  workload.bytes = FLAGS_bytes;
  workload.duration_s = FLAGS_duration;
  workload.warmup_s = FLAGS_warmup;
  workload.threads = FLAGS_threads;
  workload.setup_timeout_s = FLAGS_setup_timeout;
  workload.irc_oper = FLAGS_irc_oper;
  workload.tls = FLAGS_tls;
  workload.room_prefix = FLAGS_room_prefix;
  if (absl::Status valid = ValidateWorkload(workload); !valid.ok()) return valid;
  return workload;
}

int Main() {
  absl::StatusOr<Workload> workload = WorkloadFromFlags();
  if (!workload.ok()) {
    std::fprintf(stderr, "chat_bench: %s\n", std::string(workload.status().message()).c_str());
    return 2;
  }

  LoadGenerator generator(*workload);
  absl::Notification done;
  std::thread progress([&] { ReportProgress(generator, done); });
  double cpu_begin = 0, cpu_end = 0;
  absl::StatusOr<BenchResult> result = generator.Run([&](bool begin) {
    if (FLAGS_server_pid > 0) (begin ? cpu_begin : cpu_end) = CpuSeconds(FLAGS_server_pid);
  });
  done.Notify();
  progress.join();
  if (!result.ok()) {
    std::fprintf(stderr, "chat_bench: %s\n", std::string(result.status().message()).c_str());
    return 2;
  }
  double server_cpu = cpu_end - cpu_begin;
  if (FLAGS_json) {
    PrintJson(*result, server_cpu);
  } else {
    PrintSummary(*result, server_cpu);
  }
  if (!FLAGS_csv.empty() && !WriteCsv(*result, FLAGS_csv)) {
    std::fprintf(stderr, "chat_bench: cannot write %s\n", FLAGS_csv.c_str());
  }
  if (FLAGS_max_loss_pct >= 0 && result->expected > 0 && result->loss_pct() > FLAGS_max_loss_pct) {
    std::fprintf(stderr, "chat_bench: lost %.4f%% of deliveries, over --max_loss_pct=%g\n",
                 result->loss_pct(), FLAGS_max_loss_pct);
    return 3;
  }
  return 0;
}

}  // namespace
}  // namespace roomchat

int main(int argc, char** argv) {
  gflags::SetUsageMessage("roomchat load generator; see docs/PERFORMANCE.md");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return roomchat::Main();
}
