// history_benchmark: what the history store sustains (docs/PERFORMANCE.md, "History").
//
//   bazel run -c opt //bench:history_benchmark -- --benchmark_repetitions=5
//
// BM_StoreThroughput: lines handed to a running HistoryStore (its thread, its group commits) from
// one producer as fast as it can, timed until the last one is acknowledged (committed): lines per
// second of the whole path a room uses, for each --history_sync setting and a number of rooms the
// lines are spread over. BM_DbAppend: one HistoryDb::Append of a 500-line group, the commit alone.
// The database lives in a fresh folder under $TMPDIR, on the disk the server would use.
#include <stdlib.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "benchmark/benchmark.h"
#include "chat/history/history_db.h"
#include "chat/history/history_store.h"

namespace roomchat {
namespace {

std::string FreshDir() {
  const char* base = getenv("TMPDIR");
  std::string dir = absl::StrCat(base != nullptr ? base : "/tmp", "/history-bench-XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) std::abort();
  return dir;
}

StoredLine Line(int room, uint64_t id) {
  std::string key = absl::StrCat("room", room);
  return StoredLine{key, key, id, 1764600000000 + static_cast<int64_t>(id / 1000), "somenick",
                    std::string(64, 'x')};
}

void BM_StoreThroughput(benchmark::State& state) {
  const auto sync = static_cast<HistorySync>(state.range(0));
  const int rooms = static_cast<int>(state.range(1));
  constexpr int kLines = 200000;
  HistoryStoreOptions options;
  options.data_dir = FreshDir();
  options.sync = sync;
  options.max_lines_per_room = 10000;
  options.max_days = 30;
  options.queue_max_lines = 1 << 30;  // measure the disk, not the bound
  uint64_t next_id = 1;
  for (auto _ : state) {
    state.PauseTiming();
    std::atomic<int> acked{0};
    absl::Notification all_acked;
    auto store = HistoryStore::Open(options, [&](uint64_t, const StoredLine&) {
      if (acked.fetch_add(1) + 1 == kLines) all_acked.Notify();
    });
    if (!store.ok() || !(*store)->Start().ok()) std::abort();
    state.ResumeTiming();
    for (int i = 0; i < kLines; ++i, ++next_id) (*store)->Append(Line(i % rooms, next_id), 1);
    all_acked.WaitForNotification();
    state.PauseTiming();
    store->reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kLines);
}
BENCHMARK(BM_StoreThroughput)
    ->ArgNames({"sync", "rooms"})
    ->Args({static_cast<int>(HistorySync::kNormal), 1})
    ->Args({static_cast<int>(HistorySync::kNormal), 100})
    ->Args({static_cast<int>(HistorySync::kFull), 100})
    ->Args({static_cast<int>(HistorySync::kOff), 100})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_DbAppend(benchmark::State& state) {
  const int rooms = static_cast<int>(state.range(0));
  auto db = HistoryDb::Open(FreshDir(), HistorySync::kNormal);
  if (!db.ok()) std::abort();
  uint64_t next_id = 1;
  std::vector<StoredLine> group;
  for (auto _ : state) {
    state.PauseTiming();
    group.clear();
    for (int i = 0; i < 500; ++i, ++next_id) group.push_back(Line(i % rooms, next_id));
    state.ResumeTiming();
    if (!(*db)->Append(group).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * 500);
}
BENCHMARK(BM_DbAppend)->ArgName("rooms")->Arg(1)->Arg(100)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace roomchat

BENCHMARK_MAIN();
