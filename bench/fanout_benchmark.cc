// Microbenchmarks of what a room does per chat line (docs/PERFORMANCE.md):
//   - fan-out of one line to N members, into memory: a copy appended to each member's buffer (what
//     roomchat does) vs one shared, reference-counted message queued per member;
//   - fan-out into real sockets (socketpairs drained by a reader thread): one write per line per
//     member vs one coalesced write per member per round of 16 lines, and writev of shared lines;
//   - fan-out to a room of TCP and WebSocket clients, half and half: Broadcast (each line encoded
//     once per kind of codec) vs Codec::Encode for every member;
//   - line framing and command parsing throughput;
//   - the inbox handoff (EventLoop::Post: mutex-guarded queue + eventfd), alone and contended;
//   - the floor: one 64-byte write() + read() over a socketpair.
// Run: bazel run -c opt //bench:fanout_benchmark
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "benchmark/benchmark.h"
#include "chat/loop/event_loop.h"
#include "chat/net/codec.h"
#include "chat/protocol/command.h"
#include "chat/protocol/line_framer.h"
#include "chat/web/websocket_codec.h"

namespace roomchat {
namespace {

std::string Line(size_t bytes) { return "MSG room nick " + std::string(bytes, 'x') + "\n"; }

// ---- Fan-out into memory.

void BM_FanoutCopyPerMember(benchmark::State& state) {
  const size_t members = state.range(0);
  const std::string line = Line(state.range(1));
  std::vector<std::string> buffers(members);
  for (auto _ : state) {
    for (std::string& buffer : buffers) buffer.append(line);
    // A flush empties the buffers, keeping their capacity, as OutputBuffer::WriteTo does.
    for (std::string& buffer : buffers) buffer.clear();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * members);
}

void BM_FanoutSharedMessage(benchmark::State& state) {
  const size_t members = state.range(0);
  const size_t bytes = state.range(1);
  std::vector<std::deque<std::shared_ptr<const std::string>>> queues(members);
  for (auto _ : state) {
    auto message = std::make_shared<const std::string>(Line(bytes));
    for (auto& queue : queues) queue.push_back(message);
    for (auto& queue : queues) queue.clear();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * members);
}

// ---- Fan-out into sockets.

// N socketpairs whose far ends a thread drains as fast as it can.
class DrainedSockets {
 public:
  explicit DrainedSockets(size_t count) : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    for (size_t i = 0; i < count; ++i) {
      int pair[2];
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
      int size = 1 << 20;
      setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
      writers_.push_back(pair[0]);
      readers_.push_back(pair[1]);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = pair[1];
      epoll_ctl(epoll_, EPOLL_CTL_ADD, pair[1], &event);
    }
    drainer_ = std::thread([this] { Drain(); });
  }
  ~DrainedSockets() {
    stop_ = true;
    for (int fd : writers_) close(fd);  // wakes the drainer with EOF
    drainer_.join();
    for (int fd : readers_) close(fd);
    close(epoll_);
  }
  const std::vector<int>& writers() const { return writers_; }

 private:
  void Drain() {
    std::vector<epoll_event> events(256);
    char sink[65536];
    while (!stop_) {
      int ready = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < ready; ++i) {
        while (read(events[i].data.fd, sink, sizeof(sink)) == sizeof(sink)) {
        }
      }
    }
  }

  const int epoll_;
  std::vector<int> writers_;
  std::vector<int> readers_;
  std::atomic<bool> stop_{false};
  std::thread drainer_;
};

constexpr int kLinesPerRound = 16;

void BM_SocketsWritePerLine(benchmark::State& state) {
  DrainedSockets sockets(state.range(0));
  const std::string line = Line(state.range(1));
  for (auto _ : state) {
    for (int i = 0; i < kLinesPerRound; ++i) {
      for (int fd : sockets.writers())
        benchmark::DoNotOptimize(write(fd, line.data(), line.size()));
    }
  }
  state.SetItemsProcessed(state.iterations() * kLinesPerRound * sockets.writers().size());
}

void BM_SocketsCoalescedPerMember(benchmark::State& state) {
  DrainedSockets sockets(state.range(0));
  const std::string line = Line(state.range(1));
  std::vector<std::string> buffers(sockets.writers().size());
  for (auto _ : state) {
    for (int i = 0; i < kLinesPerRound; ++i) {
      for (std::string& buffer : buffers) buffer.append(line);
    }
    for (size_t m = 0; m < buffers.size(); ++m) {
      benchmark::DoNotOptimize(write(sockets.writers()[m], buffers[m].data(), buffers[m].size()));
      buffers[m].clear();
    }
  }
  state.SetItemsProcessed(state.iterations() * kLinesPerRound * sockets.writers().size());
}

void BM_SocketsWritevSharedLines(benchmark::State& state) {
  DrainedSockets sockets(state.range(0));
  const size_t bytes = state.range(1);
  std::vector<std::shared_ptr<const std::string>> round(kLinesPerRound);
  std::vector<iovec> iov(kLinesPerRound);
  for (auto _ : state) {
    for (auto& line : round) line = std::make_shared<const std::string>(Line(bytes));
    for (int i = 0; i < kLinesPerRound; ++i) {
      iov[i] = {const_cast<char*>(round[i]->data()), round[i]->size()};
    }
    for (int fd : sockets.writers()) benchmark::DoNotOptimize(writev(fd, iov.data(), iov.size()));
  }
  state.SetItemsProcessed(state.iterations() * kLinesPerRound * sockets.writers().size());
}

void FanoutArgs(benchmark::internal::Benchmark* benchmark) {
  for (int members : {1, 8, 64, 512, 4096}) {
    for (int bytes : {32, 256, 4096}) benchmark->Args({members, bytes});
  }
}

void SocketArgs(benchmark::internal::Benchmark* benchmark) {
  for (int members : {1, 8, 64, 512, 4096}) {
    for (int bytes : {32, 256}) benchmark->Args({members, bytes});
  }
  benchmark->UseRealTime();
}

BENCHMARK(BM_FanoutCopyPerMember)->Apply(FanoutArgs);
BENCHMARK(BM_FanoutSharedMessage)->Apply(FanoutArgs);
BENCHMARK(BM_SocketsWritePerLine)->Apply(SocketArgs);
BENCHMARK(BM_SocketsCoalescedPerMember)->Apply(SocketArgs);
BENCHMARK(BM_SocketsWritevSharedLines)->Apply(SocketArgs);

// ---- Fan-out to a mixed room: line and WebSocket members.

// A codec that counts the encodes it does, for every member of its kind that shares the count.
class CountingCodec final : public Codec {
 public:
  CountingCodec(std::unique_ptr<Codec> inner, int64_t* encodes)
      : inner_(std::move(inner)), encodes_(encodes) {}
  Kind kind() const override { return inner_->kind(); }
  void Append(absl::string_view bytes) override { inner_->Append(bytes); }
  std::optional<Frame> Next() override { return inner_->Next(); }
  std::optional<Frame> Finish() override { return inner_->Finish(); }
  size_t buffered_bytes() const override { return inner_->buffered_bytes(); }
  void Encode(absl::string_view lines, std::string* out) const override {
    ++*encodes_;
    inner_->Encode(lines, out);
  }

 private:
  const std::unique_ptr<Codec> inner_;
  int64_t* const encodes_;
};

// N members, every other one on a WebSocket, each with its own output buffer.
struct MixedRoom {
  explicit MixedRoom(size_t members) : buffers(members) {
    for (size_t m = 0; m < members; ++m) {
      std::unique_ptr<Codec> codec;
      if (m % 2 == 0) {
        codec = std::make_unique<LineCodec>(4096);
      } else {
        codec = *WebSocketCodec::Create(4096);
      }
      codecs.push_back(std::make_unique<CountingCodec>(std::move(codec), &encodes));
    }
  }
  void Report(benchmark::State& state) const {
    state.SetItemsProcessed(state.iterations() * buffers.size());
    state.counters["encodes_per_line"] =
        benchmark::Counter(static_cast<double>(encodes) / state.iterations());
    // Seconds per member, printed with its unit (e.g. "5.5ns").
    state.counters["per_member"] = benchmark::Counter(
        static_cast<double>(buffers.size()),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  }

  std::vector<std::unique_ptr<Codec>> codecs;
  std::vector<std::string> buffers;
  int64_t encodes = 0;
};

void BM_MixedRoomBroadcast(benchmark::State& state) {
  MixedRoom room(state.range(0));
  const std::string line = Line(state.range(1));
  for (auto _ : state) {
    Broadcast broadcast(line);
    for (size_t m = 0; m < room.codecs.size(); ++m) {
      absl::string_view wire = broadcast.For(*room.codecs[m]);
      room.buffers[m].append(wire.data(), wire.size());
    }
    for (std::string& buffer : room.buffers) buffer.clear();
    benchmark::ClobberMemory();
  }
  room.Report(state);
}

void BM_MixedRoomEncodePerMember(benchmark::State& state) {
  MixedRoom room(state.range(0));
  const std::string line = Line(state.range(1));
  for (auto _ : state) {
    for (size_t m = 0; m < room.codecs.size(); ++m) room.codecs[m]->Encode(line, &room.buffers[m]);
    for (std::string& buffer : room.buffers) buffer.clear();
    benchmark::ClobberMemory();
  }
  room.Report(state);
}

void MixedRoomArgs(benchmark::internal::Benchmark* benchmark) {
  for (int members : {8, 512}) benchmark->Args({members, 64});
}

BENCHMARK(BM_MixedRoomBroadcast)->Apply(MixedRoomArgs);
BENCHMARK(BM_MixedRoomEncodePerMember)->Apply(MixedRoomArgs);

// ---- Parsing.

void BM_LineFraming(benchmark::State& state) {
  std::string input;
  while (input.size() < (1 << 20))
    input += "hello there, this is a chat line of ordinary length\r\n";
  for (auto _ : state) {
    LineFramer framer(4096);
    framer.Append(input);
    size_t lines = 0;
    while (std::optional<Frame> frame = framer.Next()) lines += frame->kind == Frame::Kind::kLine;
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(state.iterations() * input.size());
}
BENCHMARK(BM_LineFraming);

void BM_CommandParsing(benchmark::State& state) {
  const std::vector<std::string> lines = {"hello there, an ordinary line", "/join lounge",
                                          "/msg bob see you at noon", "/who", "//slash text"};
  size_t bytes = 0;
  for (const auto& line : lines) bytes += line.size();
  for (auto _ : state) {
    for (const auto& line : lines) benchmark::DoNotOptimize(ParseCommand(line));
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_CommandParsing);

// ---- Inbox handoff: EventLoop::Post from other threads to a running loop.

void BM_InboxHandoff(benchmark::State& state) {
  const int producers = state.range(0);
  constexpr int kTasks = 1000;
  auto loop = EventLoop::Create("bench");
  std::thread runner([&] { (*loop)->Run(); });
  std::atomic<int> done{0};
  for (auto _ : state) {
    done = 0;
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&] {
        for (int i = 0; i < kTasks; ++i) (*loop)->Post([&done] { done.fetch_add(1); });
      });
    }
    for (auto& thread : threads) thread.join();
    while (done.load() < producers * kTasks) std::this_thread::yield();
  }
  (*loop)->Quit();
  runner.join();
  state.SetItemsProcessed(state.iterations() * producers * kTasks);
  state.SetLabel(producers == 1 ? "one producer" : "contended");
}
BENCHMARK(BM_InboxHandoff)->Arg(1)->Arg(2)->Arg(4)->UseRealTime();

// ---- The floor.

void BM_Floor64ByteWriteRead(benchmark::State& state) {
  int pair[2];
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
  char buffer[64] = {};
  for (auto _ : state) {
    benchmark::DoNotOptimize(write(pair[0], buffer, sizeof(buffer)));
    benchmark::DoNotOptimize(read(pair[1], buffer, sizeof(buffer)));
  }
  close(pair[0]);
  close(pair[1]);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Floor64ByteWriteRead);

}  // namespace
}  // namespace roomchat

BENCHMARK_MAIN();
