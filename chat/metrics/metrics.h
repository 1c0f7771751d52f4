// ServerMetrics: what /metrics reports (Prometheus text format, docs/WEB.md lists every metric).
//
// Counts are kept where they happen without a shared lock on the fan-out path: each place owns a
// PlaceMetrics that only its thread writes (relaxed atomics, so the scraping thread may read them),
// and the transports' connection counts are single atomics touched once per connection. The page
// is assembled only when scraped: Render() sums every live place's counts with those of the places
// that have ended (folded in by RetirePlace(), so counters never go down) and serializes with
// prometheus-cpp's TextSerializer (its core library; no exposer, the HTTP port serves the page).
//
// Thread contract: ServerMetrics's methods are safe from any thread. A PlaceMetrics is written by
// its place's thread only (Add* methods) and read by any.
#ifndef ROOMCHAT_CHAT_METRICS_METRICS_H_
#define ROOMCHAT_CHAT_METRICS_METRICS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace roomchat {

// A latency histogram written by one thread: fixed buckets from 1 us to 1 s, and +Inf.
class ThreadHistogram {
 public:
  static constexpr std::array<double, 13> kBounds = {
      1e-6, 4e-6, 16e-6, 64e-6, 256e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 0.1, 0.25, 1.0};
  // Owner thread only.
  void Observe(std::chrono::nanoseconds value);
  // Any thread: adds this histogram's counts into `counts` (one per bound, then +Inf) and `sum`.
  void AddTo(std::array<uint64_t, kBounds.size() + 1>* counts, uint64_t* sum_ns) const;
  // Adds `other`'s counts to this one; the caller is this histogram's only writer.
  void Merge(const ThreadHistogram& other);

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<uint64_t> sum_ns_{0};
};

// Why connections ended, in the order of metrics.cc's reason labels.
inline constexpr size_t kDepartureReasonCount = 8;

struct PlaceMetrics {
  enum class Kind { kLobby, kRoom };
  explicit PlaceMetrics(Kind kind) : kind(kind) {}

  // Owner thread only: relaxed increments, read by the scraper.
  static void Add(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  const Kind kind;
  std::atomic<uint64_t> lines_received{0};
  std::atomic<uint64_t> deliveries{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> flood_drops{0};
  std::array<std::atomic<uint64_t>, kDepartureReasonCount> departures{};
  std::atomic<int64_t> members{0};
  ThreadHistogram fanout;    // time to queue one line to every member
  ThreadHistogram loop_lag;  // how late the loop ran its once-a-second timer
};

class ServerMetrics {
 public:
  // How a client connected: the line protocol or WebSocket, each plain or inside TLS (the
  // labels "tcp", "tls", "websocket", "wss").
  enum class Transport { kTcp, kTls, kWebSocket, kWebSocketTls };
  static constexpr size_t kTransportCount = 4;
  static Transport TransportOf(bool websocket, bool tls) {
    if (websocket) return tls ? Transport::kWebSocketTls : Transport::kWebSocket;
    return tls ? Transport::kTls : Transport::kTcp;
  }

  ServerMetrics() = default;
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // A place starts counting; its counts are reported until and after RetirePlace().
  std::shared_ptr<PlaceMetrics> AddPlace(PlaceMetrics::Kind kind);
  // The place has ended: its counts join the totals of ended places.
  void RetirePlace(const std::shared_ptr<PlaceMetrics>& place);

  void Accepted(Transport transport);
  void Closed(Transport transport);

  // The page, with `rooms` open now.
  std::string Render(size_t rooms) const;

 private:
  struct TransportCounts {
    std::atomic<uint64_t> accepted{0};
    std::atomic<int64_t> open{0};
  };

  std::array<TransportCounts, kTransportCount> transports_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<PlaceMetrics>> live_ ABSL_GUARDED_BY(mu_);
  // The ended places' counts, kept in a PlaceMetrics of their own.
  PlaceMetrics retired_ ABSL_GUARDED_BY(mu_){PlaceMetrics::Kind::kRoom};
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_METRICS_METRICS_H_
