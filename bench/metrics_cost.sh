#!/usr/bin/env bash
# What scraping /metrics costs the server: W1 (bench/scenarios.sh) with and without a scraper that
# fetches /metrics every second, alternating, in one sitting; prints the medians and their ratio.
#
#   bench/metrics_cost.sh [REPS] [DURATION_S]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3} duration=${2:-10}
source bench/scenarios.sh
bazel build -c opt //chat:chat_server //bench:chat_bench 2>&1 | grep -E "^ERROR" && exit 1
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=17072 http_port=17082
read -r -a w1 <<<"${scenarios[0]#* }"

run() {  # label scrape(0|1)
  "$bin/chat/chat_server" --port=$port --http_port=$http_port "${roomchat_bench_flags[@]}" \
    2>"$work/server.log" &
  local pid=$! scraper=""
  wait_for_port $port
  if [ "$2" = 1 ]; then
    (while sleep 1; do curl -s "http://127.0.0.1:$http_port/metrics" >/dev/null; done) &
    scraper=$!
  fi
  "$bin/bench/chat_bench" --port=$port --server_pid=$pid --duration="$duration" --warmup=2 --json \
    --label="$1" --room_prefix=W1 "${w1[@]}" >>"$work/results.jsonl"
  [ -n "$scraper" ] && kill "$scraper" 2>/dev/null
  kill $pid && wait $pid 2>/dev/null || true
  tail -1 "$work/results.jsonl" | jq -r '"\(.label): \(.deliveries_per_s | floor) deliveries/s"'
}

for rep in $(seq "$reps"); do
  if (( rep % 2 )); then run plain 0; run scraped 1; else run scraped 1; run plain 0; fi
done
jq -s -r '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  (map(select(.label == "plain") | .deliveries_per_s) | median) as $p
  | (map(select(.label == "scraped") | .deliveries_per_s) | median) as $s
  | "W1 deliveries/s, medians over \(length / 2) runs: \($p | floor) unscraped, \($s | floor) scraped every second (x\($s / $p * 1000 | round / 1000))"
' "$work/results.jsonl"
