#!/usr/bin/env bash
# roomchat vs Redis pub/sub vs ngIRCd: the same workloads against each, one after the other, on
# loopback, with the same generator (//bench:chat_bench). roomchat runs twice: its clients on TCP
# lines (row "roomchat"), then on WebSockets through its HTTP port (row "roomchat-ws", same binary
# and flags), then over TLS on its --tls_port (row "roomchat-tls", W1 and W3 only), against Redis
# in plain text and over TLS (its tls-port; row "redis-tls", W1 and W3). Writes docs/compare.md
# (the table) and docs/compare.png (latency percentiles), and prints the table.
#
#   bench/compare.sh            # every scenario, 10 s each
#   DURATION=3 bench/compare.sh # shorter, for a quick look
#   SERVERS="roomchat-tls redis-tls" OUT=/tmp/tls bench/compare.sh   # some servers, elsewhere
#   SCENARIOS="W1" SERVERS="roomchat roomchat-tls redis redis-tls" OUT=/tmp/w1 bench/compare.sh  # W1 only
#   ROOMCHAT_FLAGS="--history=false" bench/compare.sh   # roomchat without its store, like for like
#                                 # with Redis, which runs without persistence here
#
# How each server is configured, so the comparison is of the servers and not of their limits:
#   roomchat  -c opt; --flood_lines_per_s=0 (flood control off: W1 and W3 send far past 200 lines/s),
#             --idle_timeout_s=0 (receivers never send), --max_clients 20000; the HTTP port on 17080
#             for both rows (chat_bench --proto=ws --port=17080 for roomchat-ws).
#   Redis     no persistence (--save '' --appendonly no), default output buffer limits, maxclients 20000.
#   TLS rows  one self-signed P-256 certificate (tools/make_cert.sh) for both servers; Redis with
#             --tls-auth-clients no; chat_bench --tls (TLS 1.3 as negotiated, no certificate check).
#   ngIRCd    MaxPenaltyTime = 0 (no flood penalties), MaxConnectionsIP = 0, MaxJoins = 0, the bench
#             OPERs and sets user mode +F (relaxed flood protection), DNS/ident/PAM off. ngIRCd does
#             not set TCP_NODELAY on its sockets; it is measured as it ships. It registers new
#             connections slowly (about 17 a second here), so setup may take 600 s (W4: 5000
#             connections); setup time is not part of any figure.
# Every server gets the same 2 cores as the generator; the generator runs one thread (--threads=1)
# so that one core is left for the server.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10}
warmup=${WARMUP:-2}
work=$(mktemp -d /tmp/roomchat-compare.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

tools/setup.sh
source tools/packages.sh
source bench/scenarios.sh
ensure_packages compare redis-server ngircd gnuplot-nox jq
bazel build -c opt //chat:chat_server //bench:chat_bench 2>&1 | grep -E "^ERROR" && exit 1
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
ulimit -n "$(ulimit -Hn)"
# Extra flags for every roomchat row (split on spaces).
read -r -a roomchat_extra_flags <<<"${ROOMCHAT_FLAGS:-}"
roomchat_bench_flags+=("${roomchat_extra_flags[@]}")

start_roomchat() {
  "$bin/chat/chat_server" --port=17070 --http_port=17080 "${roomchat_bench_flags[@]}" \
    2>"$work/roomchat.log" &
  pids+=($!); server_pid=$!; port=17070; proto=line; extra=()
  wait_for_port 17070
}

# The same server; every client is a WebSocket on the HTTP port (GET /ws), one line per frame.
start_roomchat_ws() {
  start_roomchat
  port=17080; proto=ws
  wait_for_port 17080
}

# The same server; every client on the TLS port.
start_roomchat_tls() {
  "$bin/chat/chat_server" --port=17070 --http_port=17080 --tls_port=17443 --https_port=-1 \
    --tls_cert="$work/tls/cert.pem" --tls_key="$work/tls/key.pem" "${roomchat_bench_flags[@]}" \
    2>"$work/roomchat.log" &
  pids+=($!); server_pid=$!; port=17443; proto=line; extra=(--tls)
  wait_for_port 17443
}

start_redis_tls() {
  redis-server --port 0 --tls-port 16380 --tls-cert-file "$work/tls/cert.pem" \
    --tls-key-file "$work/tls/key.pem" --tls-auth-clients no --bind 127.0.0.1 --save '' \
    --appendonly no --protected-mode no --maxclients 20000 --daemonize no >"$work/redis.log" 2>&1 &
  pids+=($!); server_pid=$!; port=16380; proto=resp; extra=(--tls)
  wait_for_port 16380
}

start_redis() {
  redis-server --port 16379 --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
    --maxclients 20000 --daemonize no >"$work/redis.log" 2>&1 &
  pids+=($!); server_pid=$!; port=16379; proto=resp; extra=()
  wait_for_port 16379
}

start_ngircd() {
  cat >"$work/ngircd.conf" <<CONF
[Global]
Name = bench.roomchat.local
Info = roomchat benchmark peer
Listen = 127.0.0.1
Ports = 16667
PidFile = $work/ngircd.pid
ServerUID = 65534
ServerGID = 65534
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 16
MaxPenaltyTime = 0
PingTimeout = 600
PongTimeout = 600
[Options]
DNS = no
Ident = no
PAM = no
[Operator]
Name = bench
Password = bench
CONF
  ngircd -n -f "$work/ngircd.conf" >"$work/ngircd.log" 2>&1 &
  pids+=($!); server_pid=$!; port=16667; proto=irc; extra=(--irc_oper=bench:bench)
  wait_for_port 16667
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}

# The raw results stay beside the table, one JSON object per run.
tools/make_cert.sh "$work/tls" localhost >/dev/null
out=${OUT:-docs/compare}  # out.jsonl, out.md, out.png
results=$out.jsonl
: >"$results"
for server in ${SERVERS:-roomchat roomchat-ws roomchat-tls redis redis-tls ngircd}; do
  for scenario in "${scenarios[@]}"; do
    name=${scenario%% *}
    [[ -n ${SCENARIOS:-} && " $SCENARIOS " != *" $name "* ]] && continue
    # Over TLS: the fan-out (W1) and the big room (W3), as the TLS targets ask.
    [[ $server == *-tls && $name != W1 && $name != W3 ]] && continue
    read -r -a args <<<"${scenario#* }"
    "start_${server//-/_}"
    echo "compare: $server $name" >&2
    if ! "$bin/bench/chat_bench" --proto="$proto" --port="$port" --server_pid="$server_pid" \
        --duration="$duration" --warmup="$warmup" --setup_timeout=600 --json --label="$server $name" \
        --room_prefix="$name" "${extra[@]}" "${args[@]}" >>"$results" 2>"$work/bench.err"; then
      echo "compare: $server $name failed: $(tail -1 "$work/bench.err")" >&2
      echo "{\"label\":\"$server $name\",\"failed\":true}" >>"$results"
    fi
    stop_server
  done
done

table=$out.md
{
  echo "| scenario | server | deliveries/s | loss | p50 ms | p99 ms | p99.9 ms | max ms | spread p99 ms | server CPU | deliveries per server CPU-s |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  jq -r 'if .failed then "| \(.label | split(" ")[1]) | \(.label | split(" ")[0]) | failed | | | | | | | | |"
         else "| \(.label | split(" ")[1]) | \(.label | split(" ")[0]) | \(.deliveries_per_s | floor) | \(.loss_pct)% | \(.latency_ms.p50) | \(.latency_ms.p99) | \(.latency_ms.p99_9) | \(.latency_ms.max) | \(.spread_ms.p99) | \(.server_cpu_pct // "-")% | \(.deliveries_per_server_cpu_s // "-" | if type == "number" then floor else . end) |" end' \
    "$results" | sort -t'|' -k2,2 -s
} >"$table.new"
{
  echo "# roomchat vs Redis pub/sub vs ngIRCd"
  echo
  echo "Made by \`bench/compare.sh\` (DURATION=$duration s measured after $warmup s of warmup) on $(date -u +%Y-%m-%d),"
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), shared by generator and server."
  echo "W1: 1 room x 100 members, 1 sender, closed loop, window 64, 64 B. W2: 100 rooms x 10, 1 sender"
  echo "each at 100 msg/s. W3: 1 room x 1000, 1 sender at 1000 msg/s. W4: 1000 rooms x 5, 1 sender each at 10 msg/s."
  echo "roomchat-ws: the roomchat server again, every client a WebSocket on its HTTP port (one line per frame)."
  echo "roomchat-tls, redis-tls: every client over TLS (roomchat's --tls_port, Redis's tls-port), W1 and W3."
  echo
  cat "$table.new"
  echo
  echo "![latency percentiles]($(basename "$out").png)"
} >"$table"
rm -f "$table.new"

# The plot: p50, p99 and p99.9 latency per scenario and server, log scale; grouped by scenario, the
# servers in the order they ran.
jq -r 'select(.failed | not) | "\(.label | split(" ")[1]) \(.label | gsub(" "; "-")) \(.latency_ms.p50) \(.latency_ms.p99) \(.latency_ms.p99_9)"' \
  "$results" | sort -s -k1,1 >"$work/plot.dat"
gnuplot <<PLOT
set terminal pngcairo size 1200,560 font "sans,10"
set output "$out.png"
set title "Delivery latency by scenario and server (bench/compare.sh, $(nproc) cores, loopback)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set ylabel "milliseconds (log scale)"
set xtics rotate by -35
set key top left
set grid ytics
plot "$work/plot.dat" using 3:xtic(2) title "p50", '' using 4 title "p99", '' using 5 title "p99.9"
PLOT
cat "$table"
