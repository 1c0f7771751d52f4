#include "chat/metrics/metrics.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

bool Has(const std::string& page, const std::string& line) {
  return absl::StrContains(page, line + "\n");
}

TEST(ServerMetricsTest, SumsLivePlacesAndKeepsEndedOnesSoCountersNeverGoDown) {
  ServerMetrics metrics;
  auto lobby = metrics.AddPlace(PlaceMetrics::Kind::kLobby);
  auto room = metrics.AddPlace(PlaceMetrics::Kind::kRoom);
  PlaceMetrics::Add(lobby->lines_received, 2);
  PlaceMetrics::Add(room->lines_received, 3);
  PlaceMetrics::Add(room->deliveries, 30);
  PlaceMetrics::Add(room->departures[5]);  // output_limit
  room->members = 4;
  room->fanout.Observe(std::chrono::microseconds(3));
  metrics.Accepted(ServerMetrics::Transport::kTcp);
  metrics.Accepted(ServerMetrics::Transport::kWebSocket);
  metrics.Closed(ServerMetrics::Transport::kTcp);
  metrics.Accepted(ServerMetrics::TransportOf(/*websocket=*/true, /*tls=*/true));
  metrics.Accepted(ServerMetrics::TransportOf(/*websocket=*/false, /*tls=*/true));
  std::string page = metrics.Render(1);
  EXPECT_TRUE(Has(page, "roomchat_lines_received_total 5")) << page;
  EXPECT_TRUE(Has(page, "roomchat_deliveries_total 30"));
  EXPECT_TRUE(Has(page, "roomchat_rooms 1"));
  EXPECT_TRUE(Has(page, "roomchat_members{place=\"rooms\"} 4"));
  EXPECT_TRUE(Has(page, "roomchat_output_cap_cuts_total 1"));
  EXPECT_TRUE(Has(page, "roomchat_disconnections_total{reason=\"output_limit\"} 1"));
  EXPECT_TRUE(Has(page, "roomchat_connections_accepted_total{transport=\"websocket\"} 1"));
  EXPECT_TRUE(Has(page, "roomchat_connections_open{transport=\"tcp\"} 0"));
  EXPECT_TRUE(Has(page, "roomchat_connections_open{transport=\"wss\"} 1"));
  EXPECT_TRUE(Has(page, "roomchat_connections_accepted_total{transport=\"tls\"} 1"));
  EXPECT_TRUE(Has(page, "roomchat_fanout_seconds_bucket{le=\"4e-06\"} 1")) << page;
  EXPECT_TRUE(Has(page, "roomchat_fanout_seconds_bucket{le=\"+Inf\"} 1"));
  EXPECT_TRUE(Has(page, "# TYPE roomchat_event_loop_lag_seconds histogram"));

  metrics.RetirePlace(room);
  room.reset();
  page = metrics.Render(0);
  EXPECT_TRUE(Has(page, "roomchat_lines_received_total 5")) << "an ended room's count stays";
  EXPECT_TRUE(Has(page, "roomchat_deliveries_total 30"));
  EXPECT_TRUE(Has(page, "roomchat_members{place=\"rooms\"} 0")) << "but not its members";
  EXPECT_TRUE(Has(page, "roomchat_fanout_seconds_count 1"));
}

TEST(ThreadHistogramTest, PutsEachValueInTheFirstBucketAtOrAboveIt) {
  ThreadHistogram histogram;
  histogram.Observe(std::chrono::nanoseconds(1000));  // exactly 1 us
  histogram.Observe(std::chrono::milliseconds(2));    // 2.5 ms bucket
  histogram.Observe(std::chrono::seconds(5));         // +Inf
  std::array<uint64_t, ThreadHistogram::kBounds.size() + 1> counts{};
  uint64_t sum_ns = 0;
  histogram.AddTo(&counts, &sum_ns);
  EXPECT_EQ(counts[0], 1u);
  EXPECT_EQ(counts[6], 1u);
  EXPECT_EQ(counts.back(), 1u);
  EXPECT_EQ(sum_ns, 1000u + 2000000u + 5000000000u);
}

}  // namespace
}  // namespace roomchat
