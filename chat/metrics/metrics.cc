#include "chat/metrics/metrics.h"

#include <algorithm>
#include <limits>
#include <sstream>
#include <utility>

#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace roomchat {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Label values of roomchat_disconnections_total, in DepartureReason's order.
constexpr const char* kReasons[kDepartureReasonCount] = {"quit",     "end_of_input", "peer_reset",
                                                         "io_error", "idle_timeout", "output_limit",
                                                         "flood",    "shutdown"};

uint64_t Load(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

ClientMetric Value(double value, MetricType type, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (type == MetricType::Counter) metric.counter.value = value;
  if (type == MetricType::Gauge) metric.gauge.value = value;
  return metric;
}

using Buckets = std::array<uint64_t, ThreadHistogram::kBounds.size() + 1>;

ClientMetric HistogramMetric(const Buckets& counts, uint64_t sum_ns,
                             std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric metric;
  metric.label = std::move(labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    double bound = i < ThreadHistogram::kBounds.size() ? ThreadHistogram::kBounds[i]
                                                       : std::numeric_limits<double>::infinity();
    metric.histogram.bucket.push_back({cumulative, bound});
  }
  metric.histogram.sample_count = cumulative;
  metric.histogram.sample_sum = static_cast<double>(sum_ns) / 1e9;
  return metric;
}

// Every place's counts added up.
struct Totals {
  uint64_t lines_received = 0, deliveries = 0, bytes_in = 0, bytes_out = 0, flood_drops = 0;
  std::array<uint64_t, kDepartureReasonCount> departures{};
  int64_t members[2] = {0, 0};  // by PlaceMetrics::Kind
  Buckets fanout{};
  uint64_t fanout_ns = 0;
  Buckets lag[2] = {};
  uint64_t lag_ns[2] = {0, 0};

  void Add(const PlaceMetrics& place) {
    lines_received += Load(place.lines_received);
    deliveries += Load(place.deliveries);
    bytes_in += Load(place.bytes_in);
    bytes_out += Load(place.bytes_out);
    flood_drops += Load(place.flood_drops);
    for (size_t i = 0; i < kDepartureReasonCount; ++i) departures[i] += Load(place.departures[i]);
    int kind = static_cast<int>(place.kind);
    members[kind] += place.members.load(std::memory_order_relaxed);
    place.fanout.AddTo(&fanout, &fanout_ns);
    place.loop_lag.AddTo(&lag[kind], &lag_ns[kind]);
  }
};

}  // namespace

void ThreadHistogram::Observe(std::chrono::nanoseconds value) {
  double seconds = static_cast<double>(value.count()) / 1e9;
  size_t bucket = std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin();
  PlaceMetrics::Add(counts_[bucket]);
  PlaceMetrics::Add(sum_ns_, static_cast<uint64_t>(std::max<int64_t>(0, value.count())));
}

void ThreadHistogram::AddTo(Buckets* counts, uint64_t* sum_ns) const {
  for (size_t i = 0; i < counts_.size(); ++i) (*counts)[i] += Load(counts_[i]);
  *sum_ns += Load(sum_ns_);
}

void ThreadHistogram::Merge(const ThreadHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) PlaceMetrics::Add(counts_[i], Load(other.counts_[i]));
  PlaceMetrics::Add(sum_ns_, Load(other.sum_ns_));
}

std::shared_ptr<PlaceMetrics> ServerMetrics::AddPlace(PlaceMetrics::Kind kind) {
  auto place = std::make_shared<PlaceMetrics>(kind);
  absl::MutexLock lock(&mu_);
  live_.push_back(place);
  return place;
}

void ServerMetrics::RetirePlace(const std::shared_ptr<PlaceMetrics>& place) {
  absl::MutexLock lock(&mu_);
  live_.erase(std::remove(live_.begin(), live_.end(), place), live_.end());
  PlaceMetrics::Add(retired_.lines_received, Load(place->lines_received));
  PlaceMetrics::Add(retired_.deliveries, Load(place->deliveries));
  PlaceMetrics::Add(retired_.bytes_in, Load(place->bytes_in));
  PlaceMetrics::Add(retired_.bytes_out, Load(place->bytes_out));
  PlaceMetrics::Add(retired_.flood_drops, Load(place->flood_drops));
  for (size_t i = 0; i < kDepartureReasonCount; ++i) {
    PlaceMetrics::Add(retired_.departures[i], Load(place->departures[i]));
  }
  retired_.fanout.Merge(place->fanout);
  retired_.loop_lag.Merge(place->loop_lag);
}

void ServerMetrics::Accepted(Transport transport) {
  TransportCounts& counts = transports_[static_cast<size_t>(transport)];
  counts.accepted.fetch_add(1, std::memory_order_relaxed);
  counts.open.fetch_add(1, std::memory_order_relaxed);
}

void ServerMetrics::Closed(Transport transport) {
  transports_[static_cast<size_t>(transport)].open.fetch_sub(1, std::memory_order_relaxed);
}

std::string ServerMetrics::Render(size_t rooms) const {
  Totals totals;
  {
    absl::MutexLock lock(&mu_);
    for (const std::shared_ptr<PlaceMetrics>& place : live_) totals.Add(*place);
    totals.Add(retired_);
  }
  using T = MetricType;
  std::vector<MetricFamily> families;
  auto add = [&](const char* name, const char* help, T type, double value) {
    families.push_back(Family(name, help, type));
    families.back().metric.push_back(Value(value, type));
  };
  MetricFamily accepted = Family("roomchat_connections_accepted_total",
                                 "Client connections accepted, by transport.", T::Counter);
  MetricFamily open =
      Family("roomchat_connections_open", "Client connections open, by transport.", T::Gauge);
  const char* transports[kTransportCount] = {"tcp", "tls", "websocket", "wss"};
  for (size_t i = 0; i < kTransportCount; ++i) {
    accepted.metric.push_back(Value(static_cast<double>(Load(transports_[i].accepted)), T::Counter,
                                    {{"transport", transports[i]}}));
    open.metric.push_back(Value(static_cast<double>(transports_[i].open.load()), T::Gauge,
                                {{"transport", transports[i]}}));
  }
  families.push_back(std::move(accepted));
  families.push_back(std::move(open));
  add("roomchat_rooms", "Rooms open.", T::Gauge, static_cast<double>(rooms));
  MetricFamily members = Family("roomchat_members", "Clients in the lobby and in rooms.", T::Gauge);
  members.metric.push_back(Value(totals.members[0], T::Gauge, {{"place", "lobby"}}));
  members.metric.push_back(Value(totals.members[1], T::Gauge, {{"place", "rooms"}}));
  families.push_back(std::move(members));
  add("roomchat_lines_received_total", "Complete lines (or WebSocket messages) received.",
      T::Counter, totals.lines_received);
  add("roomchat_deliveries_total", "Chat and event lines queued to room members.", T::Counter,
      totals.deliveries);
  add("roomchat_received_bytes_total", "Bytes read from clients.", T::Counter, totals.bytes_in);
  add("roomchat_sent_bytes_total", "Bytes written to clients.", T::Counter, totals.bytes_out);
  add("roomchat_flood_dropped_lines_total", "Lines dropped by flood control.", T::Counter,
      totals.flood_drops);
  add("roomchat_output_cap_cuts_total", "Clients cut off by the output caps.", T::Counter,
      totals.departures[5]);
  MetricFamily gone =
      Family("roomchat_disconnections_total", "Clients gone, by reason.", T::Counter);
  for (size_t i = 0; i < kDepartureReasonCount; ++i) {
    gone.metric.push_back(Value(totals.departures[i], T::Counter, {{"reason", kReasons[i]}}));
  }
  families.push_back(std::move(gone));
  families.push_back(Family("roomchat_fanout_seconds",
                            "Time to queue one room line to every member.", T::Histogram));
  families.back().metric.push_back(HistogramMetric(totals.fanout, totals.fanout_ns));
  families.push_back(Family("roomchat_event_loop_lag_seconds",
                            "How late a place's loop ran its once-a-second timer.", T::Histogram));
  families.back().metric.push_back(
      HistogramMetric(totals.lag[0], totals.lag_ns[0], {{"place", "lobby"}}));
  families.back().metric.push_back(
      HistogramMetric(totals.lag[1], totals.lag_ns[1], {{"place", "rooms"}}));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace roomchat
