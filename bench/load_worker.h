// LoadGenerator::Worker, the inside of //bench:load_generator (not its API): one generator thread
// with its own epoll loop and the rooms given to it, each room with all its connections. Its setup
// (connecting, joining rooms: bench/load_worker_setup.cc) and its run (sending, receiving,
// counting: bench/load_generator.cc) live in two files; this header is what they share.
//
// Thread contract: each Worker is used by one thread at a time (set up and run on its own thread,
// its result read after that thread is joined).
#ifndef ROOMCHAT_BENCH_LOAD_WORKER_H_
#define ROOMCHAT_BENCH_LOAD_WORKER_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bench/load_generator.h"
#include "bench/protocol.h"
#include "bench/tls_stream.h"
#include "openssl/ssl.h"

namespace roomchat {
namespace load_internal {

constexpr int64_t kNanosPerSecond = 1000000000;
constexpr int kRingBits = 16;  // messages tracked per sender; the window may not exceed it

// CLOCK_MONOTONIC, in nanoseconds.
int64_t NowNs();

// When each phase begins, in CLOCK_MONOTONIC nanoseconds; fixed before the workers are released.
struct Timeline {
  int64_t start = 0;         // sending begins (warmup)
  int64_t window_begin = 0;  // measuring begins
  int64_t window_end = 0;    // sending stops
  int64_t drain_end = 0;     // late deliveries are no longer waited for
};

}  // namespace load_internal

class LoadGenerator::Worker {
 public:
  Worker(const Workload& workload, LoadGenerator* owner, std::vector<int> rooms)
      : workload_(workload), owner_(owner), room_indices_(std::move(rooms)) {}
  ~Worker();

  // Connects every member of this worker's rooms and waits until each has joined its room. With
  // several servers, each room's first member (on the first server) creates the room before the
  // others connect, so they all join the room it made.
  absl::Status Setup(int64_t deadline);
  absl::Status Run(const load_internal::Timeline& timeline, const std::atomic<bool>& abort);
  BenchResult& result() { return result_; }

 private:
  struct Room;
  struct Connection;
  struct Track {
    uint64_t seq = ~uint64_t{0};
    uint32_t received = 0;
    int64_t intended = 0;
    bool in_window = false;
  };
  struct Sender {
    uint32_t id = 0;
    Connection* connection = nullptr;
    uint64_t next_seq = 0;
    int64_t next_send = 0;
    int in_flight = 0;
    std::vector<Track> ring = std::vector<Track>(1 << load_internal::kRingBits);
  };
  struct Connection : ProtocolConnection::Sink {
    Worker* worker = nullptr;
    Room* room = nullptr;
    int fd = -1;
    std::unique_ptr<TlsStream> tls;  // with --tls
    uint32_t member = 0;
    bool on_senders_server = true;  // connected to the first server, where the senders are
    bool ready = false;
    bool wants_out = false;
    std::unique_ptr<ProtocolConnection> protocol;
    std::string in;
    std::string out;
    size_t out_pos = 0;
    std::vector<uint64_t> next_seq;  // per sender of the room: order checking
    std::vector<absl::flat_hash_set<uint64_t>> missing;

    void OnMessage(absl::string_view payload) override { worker->Receive(*this, payload); }
    void OnReady() override {
      if (!ready) ++worker->ready_;
      ready = true;
    }
    void OnRefused(absl::string_view text) override {
      if (worker->error_.ok()) {
        worker->error_ = absl::FailedPreconditionError(absl::StrCat("server refused: ", text));
      }
    }
    void Send(absl::string_view bytes) override {
      out.append(bytes.data(), bytes.size());
      worker->Flush(*this);
    }
  };
  struct Room {
    int index = 0;  // the room's number in the workload: its name, its members' ids
    std::string name;
    std::vector<Connection*> members;
    std::vector<Sender> senders;
  };

  // Setup (bench/load_worker_setup.cc).
  const ServerAddress& ServerOf(int member_in_room) const;
  absl::Status Connect(Room& room, uint32_t member, const ServerAddress& server, bool publisher,
                       Connection** made);
  absl::Status ConnectMembers(Room& room, int from, int to);
  absl::Status WaitUntilReady(int64_t deadline);

  // The run (bench/load_generator.cc).
  void Receive(Connection& receiver, absl::string_view payload);
  void CountOrder(Connection& receiver, size_t sender_index, uint64_t seq, bool* duplicate);
  void SendDue(int64_t now);
  void SendOne(Sender& sender, int64_t intended);
  void Flush(Connection& connection);
  ssize_t WriteSome(Connection& connection);
  ssize_t ReadSome(Connection& connection, char* buffer, size_t size);
  absl::Status ReadFrom(Connection& connection);
  absl::Status Poll(int64_t timeout_ns);
  int64_t NextWake(int64_t now) const;
  SecondStats& SecondAt(int64_t now);
  void Publish();

  const Workload workload_;
  LoadGenerator* const owner_;
  const std::vector<int> room_indices_;

  int epoll_fd_ = -1;
  SSL_CTX* tls_context_ = nullptr;  // with --tls: shared by this worker's streams
  std::vector<std::unique_ptr<Room>> rooms_;
  std::vector<std::unique_ptr<Connection>> connections_;
  size_t ready_ = 0;
  absl::Status error_;
  load_internal::Timeline timeline_;
  int64_t now_ = 0;
  BenchResult result_;
  uint64_t published_sent_ = 0;
  uint64_t published_delivered_ = 0;
  uint64_t sent_total_ = 0;
  uint64_t delivered_total_ = 0;
  std::string scratch_payload_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_BENCH_LOAD_WORKER_H_
