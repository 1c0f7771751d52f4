#!/usr/bin/env bash
# Compares two roomchat server binaries on W1-W3 in one sitting, alternating which runs first, with
# the same chat_bench: the before/after figures docs/PERFORMANCE.md asks of every server change.
#
#   bench/before_after.sh BEFORE_SERVER AFTER_SERVER [REPS] [DURATION_S]
#   ONLY=W2 bench/before_after.sh ...      (one scenario, for more runs of a noisy figure)
#
# Build each side with `bazel build -c opt //chat:chat_server` and copy the binary out of bazel-bin
# first. Prints every run, then per scenario the median deliveries/s and p99 of each side and their
# ratio (after / before).
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1 after=$2 reps=${3:-3} duration=${4:-10}
source bench/scenarios.sh
bazel build -c opt //bench:chat_bench 2>&1 | grep -E "^ERROR" && exit 1
bench="$(bazel info -c opt bazel-bin 2>/dev/null)/bench/chat_bench"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)"
port=17071

run() {  # side binary scenario
  local side=$1 binary=$2 name=${3%% *} args
  read -r -a args <<<"${3#* }"
  "$binary" --port=$port "${roomchat_bench_flags[@]}" 2>"$work/server.log" &
  local pid=$!
  wait_for_port $port
  "$bench" --port=$port --server_pid=$pid --duration="$duration" --warmup=2 --json \
    --label="$side $name" --room_prefix="$name" "${args[@]}" >>"$work/results.jsonl"
  kill $pid && wait $pid 2>/dev/null || true
  tail -1 "$work/results.jsonl" | jq -r '"\(.label): \(.deliveries_per_s | floor) deliveries/s, p99 \(.latency_ms.p99) ms, loss \(.loss_pct)%"'
}

for rep in $(seq "$reps"); do
  for scenario in "${scenarios[@]:0:3}"; do
    [ -n "${ONLY:-}" ] && [ "${scenario%% *}" != "$ONLY" ] && continue
    if (( rep % 2 )); then order=(before after); else order=(after before); fi
    for side in "${order[@]}"; do
      if [ "$side" = before ]; then run before "$before" "$scenario"; else run after "$after" "$scenario"; fi
    done
  done
done

echo "medians over $reps runs of ${duration} s each:"
jq -s -r '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  group_by(.label | split(" ")[1])[] as $runs
  | ($runs | map(select(.label | startswith("before")))) as $b
  | ($runs | map(select(.label | startswith("after")))) as $a
  | ($b | map(.deliveries_per_s) | median) as $bd | ($a | map(.deliveries_per_s) | median) as $ad
  | ($b | map(.latency_ms.p99) | median) as $bp | ($a | map(.latency_ms.p99) | median) as $ap
  | "\($runs[0].label | split(" ")[1]): deliveries/s \($bd | floor) -> \($ad | floor) (x\($ad / $bd * 1000 | round / 1000)), p99 \($bp) -> \($ap) ms (x\($ap / $bp * 1000 | round / 1000))"
' "$work/results.jsonl"
