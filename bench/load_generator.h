// LoadGenerator: the engine of //bench:chat_bench. It opens every connection of a workload, has
// each join its room, then sends on a schedule (open loop: --rate messages/s per sender, latency
// measured from the intended send time, so a stalled server cannot hide its stall) or as fast as a
// window allows (closed loop: at most --window messages per sender not yet received by every
// member), and counts what every receiver gets: deliveries, loss, duplicates, reorders, latency,
// and the broadcast spread (when the *last* member of the room has a message).
//
// With several servers (a roomchat cluster, docs/CLUSTER.md), member i of each room connects to
// server i mod n, so every room spans every node, and the senders to the first server; the first
// member creates each room there before the others join it.
//
// Each room lives on one generator thread with all its connections, so a sender and its receivers
// share a thread and the in-flight bookkeeping needs no locks.
//
// Thread contract: Run() is called once, from one thread; it starts and joins the worker threads.
// Progress() is safe from any thread while Run() runs.
#ifndef ROOMCHAT_BENCH_LOAD_GENERATOR_H_
#define ROOMCHAT_BENCH_LOAD_GENERATOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bench/histogram.h"
#include "bench/protocol.h"

namespace roomchat {

struct ServerAddress {
  std::string host;
  int port = 0;
};

// "HOST:PORT,HOST:PORT,..." (--servers); an IPv6 host in brackets, "[::1]:7070".
absl::StatusOr<std::vector<ServerAddress>> ParseServerList(absl::string_view list);

struct Workload {
  Proto proto = Proto::kLine;
  // Where to connect: one server, or the nodes of a cluster (line protocol only; see above).
  std::vector<ServerAddress> servers;
  int rooms = 10;
  int members = 10;  // connections per room
  int senders = 1;   // per room, among the members
  double rate = 50;  // messages/s per sender; 0 = closed loop
  int window = 64;   // closed loop: messages in flight per sender
  int bytes = 64;    // payload size
  double duration_s = 10;
  double warmup_s = 2;
  int threads = 1;
  double setup_timeout_s = 60;
  double drain_s = 2;  // after the window, how long to wait for late deliveries
  std::string room_prefix = "bench";
  std::string irc_oper;  // irc: "name:password" to lift flood penalties (+F)
  bool tls = false;      // every connection over TLS (roomchat's --tls_port, Redis's tls-port)
};

// One second of the run, for --csv.
struct SecondStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  LatencyHistogram latency;
};

struct BenchResult {
  uint64_t sent = 0;       // messages whose intended send time fell in the window
  uint64_t expected = 0;   // sent x (members - 1)
  uint64_t delivered = 0;  // of those, received by a member (other than the sender)
  uint64_t duplicates = 0;
  uint64_t reorders = 0;
  LatencyHistogram latency;          // per delivery
  // With several servers, per delivery to a member on the senders' server (the first) and to one
  // on another: what a cross-node delivery adds.
  LatencyHistogram latency_sender_node;
  LatencyHistogram latency_other_nodes;
  LatencyHistogram spread;           // per message: until the last member had it
  std::vector<SecondStats> seconds;  // from the start of the warmup
  double window_s = 0;

  uint64_t lost() const { return expected > delivered ? expected - delivered : 0; }
  double loss_pct() const { return expected ? 100.0 * lost() / expected : 0; }
};

class LoadGenerator {
 public:
  explicit LoadGenerator(const Workload& workload);
  ~LoadGenerator();

  // Connects, sets up, runs the workload and drains. `on_window` is called (from the calling
  // thread) when the measured window begins and when it ends, so the caller can sample the server.
  // Fails, with a message saying why, when a connection fails, setup times out, or the server
  // refuses something.
  absl::StatusOr<BenchResult> Run(std::function<void(bool begin)> on_window);

  // Totals so far, for a progress line.
  uint64_t sent_so_far() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t delivered_so_far() const { return delivered_.load(std::memory_order_relaxed); }

 private:
  class Worker;

  const Workload workload_;
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> delivered_{0};
};

// Validates a workload's numbers, naming the first bad flag.
absl::Status ValidateWorkload(const Workload& workload);

}  // namespace roomchat

#endif  // ROOMCHAT_BENCH_LOAD_GENERATOR_H_
