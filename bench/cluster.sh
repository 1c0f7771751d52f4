#!/usr/bin/env bash
# roomchat alone vs a roomchat cluster (docs/CLUSTER.md): W1, W2 and W3 (bench/scenarios.sh), L
# (a light load), W2h and W3h (W2 and W3 at half their rate), W3m (a room of 300), with
# the same generator (//bench:chat_bench, -c opt) against
#   1-node-no-redis  one plain node (no --cluster_redis): today's server
#   1-node           one node joined to a Redis (--cluster_redis): what Redis costs by itself
#   3-nodes          three nodes on that Redis, each room's members spread over them
#                    (chat_bench --servers: member i on node i mod 3, the sender on node 0)
#   redis-relay      no node: the clients publish and subscribe on that Redis themselves
#                    (chat_bench --proto=resp), the floor any relay through Redis pub/sub starts
#                    from (not in the default SETUPS)
# one after the other, on loopback, same duration. Writes one JSON object per run (chat_bench
# --json, plus the CPU seconds the nodes and Redis used over the whole run) to $OUT.jsonl and a
# table to $OUT.md, and prints the table.
#
#   bench/cluster.sh                                   # W1-W3, 10 s each, into docs/cluster.*
#   DURATION=3 OUT=/tmp/cluster bench/cluster.sh       # a quick look, elsewhere
#   SCENARIOS="W2" SETUPS="1-node 3-nodes" bench/cluster.sh
#   SERVER_BIN=/tmp/before/chat_server bench/cluster.sh   # another build of the server (before/after)
#   IDLE=10000 SCENARIOS=W2 bench/cluster.sh           # beside 10,000 idle clients on the first node
#
# Redis logs every command that ran 1 ms or more (SLOWLOG); the table counts those of each run
# and gives the longest: a long script holds every line of the cluster back that long.
# Every node gets bench/scenarios.sh's roomchat flags (flood control and the idle timeout off) and
# --history=false --accounts=false, so the rows differ only in Redis and the node count (with
# history on, a plain node keeps it in SQLite and a clustered one in Redis streams). Redis runs without persistence
# (--save "" --appendonly no) on a free loopback port and is emptied (FLUSHALL) before each run,
# so no run meets what an earlier one left (a stopped node's members stay in Redis until reaped).
# Redis, the nodes and the generator all share this machine's cores: on 2 cores the 3-node figures
# are a floor, not what three machines would do.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10}
warmup=${WARMUP:-2}
out=${OUT:-docs/cluster}  # out.jsonl, out.md
work=$(mktemp -d /tmp/roomchat-cluster.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source tools/packages.sh
source bench/scenarios.sh
# L: a load these 2 cores carry without queueing, where what a cross-node delivery adds shows.
scenarios+=("L --rooms=10 --members=10 --senders=1 --rate=100 --bytes=64")
# W2h: W2's rooms at half its rate, to show where three nodes on these 2 cores stop queueing.
scenarios+=("W2h --rooms=100 --members=10 --senders=1 --rate=50 --bytes=64")
# W3h: W3's room at half its rate (500,000 deliveries/s), the same question for one big room.
scenarios+=("W3h --rooms=1 --members=1000 --senders=1 --rate=500 --bytes=64")
# W3m: a mid-size room whose pass takes most of the time between two lines (300 x 1000 msg/s).
scenarios+=("W3m --rooms=1 --members=300 --senders=1 --rate=1000 --bytes=64")
ensure_packages cluster redis-server redis-tools jq
if bazel build -c opt //chat:chat_server //bench:chat_bench //bench:hold_connections 2>&1 |
    grep -E "^ERROR"; then exit 1; fi
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
ulimit -n "$(ulimit -Hn)"

# A loopback port nothing listens on (Redis has no "--port 0"; start_redis retries if it is taken).
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "cluster: no free port found" >&2
  return 1
}

start_redis() {
  local pid
  for _ in 1 2 3 4 5; do
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
      --protected-mode no --maxclients 20000 --daemonize no >"$work/redis.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
      if [[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]] && kill -0 "$pid" 2>/dev/null
      then
        pids+=("$pid")
        redis_pid=$pid
        redis-cli -p "$redis_port" config set slowlog-log-slower-than 1000 >/dev/null
        redis-cli -p "$redis_port" config set slowlog-max-len 10000 >/dev/null
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "cluster: redis-server did not start: $(tail -1 "$work/redis.log")" >&2
  return 1
}

# Starts a node on a free port (--port=0; its port read from its log); `node_pid` and `node_port`
# are the node's. Extra arguments are passed to chat_server.
start_node() {
  local name=$1 log
  shift
  log="$work/$name.log"
  : >"$log"  # there before the node opens it: the loop below reads it at once
  "${SERVER_BIN:-$bin/chat/chat_server}" --port=0 --http_port=-1 --history=false --accounts=false \
    "${roomchat_bench_flags[@]}" "$@" 2>"$log" &
  node_pid=$!
  pids+=("$node_pid")
  node_port=
  for _ in $(seq 200); do
    node_port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\) .*/\1/p' "$log" | head -1)
    [[ -n $node_port ]] && break
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z $node_port ]]; then
    echo "cluster: node $name did not start: $(tail -3 "$log")" >&2
    return 1
  fi
}

# Starts the nodes of `setup`; sets `servers` (chat_bench's address flags) and `node_pids`.
start_setup() {
  local count=$1 i
  node_pids=()
  local addresses=()
  if [[ $count == -1 ]]; then  # no node: Redis pub/sub alone
    redis-cli -p "$redis_port" flushall >/dev/null
    servers=(--proto=resp --port="$redis_port" --server_pid="$redis_pid")
    return 0
  fi
  if [[ $count == 0 ]]; then  # the plain node
    start_node plain
    node_pids=("$node_pid")
    servers=(--port="$node_port")
    hold_idle "$node_port"
    return 0
  fi
  redis-cli -p "$redis_port" flushall >/dev/null
  for ((i = 0; i < count; i++)); do
    start_node "n$i" --cluster_redis="127.0.0.1:$redis_port" --node_id="n$i"
    node_pids+=("$node_pid")
    addresses+=("127.0.0.1:$node_port")
    [[ $i == 0 ]] && hold_idle "$node_port"
  done
  redis-cli -p "$redis_port" slowlog reset >/dev/null
  local IFS=,
  if [[ $count == 1 ]]; then
    servers=(--port="$node_port")
  else
    servers=(--servers="${addresses[*]}")
  fi
}

# With IDLE=N, holds N idle connections to the node on `port` for the run (killed by stop_nodes).
hold_idle() {
  holder_pid=
  [[ ${IDLE:-0} -gt 0 ]] || return 0
  "$bin/bench/hold_connections" --port="$1" --connections="$IDLE" \
    --hold_s=$((duration + warmup + 600)) >"$work/hold.log" 2>&1 &
  holder_pid=$!
  pids+=("$holder_pid")
  for _ in $(seq 1200); do
    grep -q holding "$work/hold.log" && return 0
    kill -0 "$holder_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "cluster: could not hold $IDLE idle connections: $(tail -1 "$work/hold.log")" >&2
  return 1
}

stop_nodes() {
  local pid
  if [[ -n ${holder_pid:-} ]]; then
    kill "$holder_pid" 2>/dev/null || true
    wait "$holder_pid" 2>/dev/null || true
  fi
  for pid in "${node_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}

# utime + stime of `pid` in seconds, from /proc (0 if it is gone).
cpu_s() {
  local fields
  read -r -a fields <<<"$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null || echo)"
  if [[ ${#fields[@]} -lt 13 ]]; then echo 0; return; fi
  awk -v u="${fields[11]}" -v s="${fields[12]}" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f\n", (u + s) / hz }'
}

sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a + b }'; }

# The node logs' warnings and errors (glog W/E lines) of one run, kept beside the results.
keep_log_warnings() {
  local label=$1 log
  for log in "$work"/plain.log "$work"/n*.log; do
    [[ -f $log ]] || continue
    grep -E '^[WEF][0-9]{8} ' "$log" | sed "s|^|$label $(basename "$log" .log): |" \
      >>"$out.warnings" || true
    rm -f "$log"
  done
}

start_redis
results=$out.jsonl
: >"$results"
: >"$out.warnings"
declare -A node_counts=([redis-relay]=-1 [1-node-no-redis]=0 [1-node]=1 [3-nodes]=3)
for scenario in "${scenarios[@]}"; do
  name=${scenario%% *}
  [[ $name == W4 ]] && continue
  [[ -n ${SCENARIOS:-} && " $SCENARIOS " != *" $name "* ]] && continue
  read -r -a args <<<"${scenario#* }"
  for setup in ${SETUPS:-1-node-no-redis 1-node 3-nodes}; do
    label="$name $setup"
    echo "cluster: $label" >&2
    start_setup "${node_counts[$setup]}"
    redis_cpu_before=$(cpu_s "$redis_pid")
    if "$bin/bench/chat_bench" "${servers[@]}" --duration="$duration" --warmup="$warmup" \
        --setup_timeout=600 --json --label="$label" --room_prefix="$name" "${args[@]}" \
        >"$work/run.json" 2>"$work/bench.err"; then
      nodes_cpu=0
      for pid in "${node_pids[@]}"; do nodes_cpu=$(sum "$nodes_cpu" "$(cpu_s "$pid")"); done
      redis_cpu=0 redis_slow='{"count":0,"max_us":0}'
      if [[ $setup != 1-node-no-redis ]]; then
        redis_cpu=$(sum "$(cpu_s "$redis_pid")" "-$redis_cpu_before")
        redis-cli -p "$redis_port" --json slowlog get 10000 >"$work/slowlog.json"
        [[ -n ${KEEP_SLOWLOG:-} ]] && cp "$work/slowlog.json" "$out.$name.$setup.slowlog.json"
        redis_slow=$(jq -c '[.[] | .[2]] | {count: length, max_us: (max // 0)}' "$work/slowlog.json")
      fi
      jq -c --argjson nodes "$nodes_cpu" --argjson redis "$redis_cpu" --argjson slow "$redis_slow" \
        '. + {nodes_cpu_s: $nodes, redis_cpu_s: $redis, redis_slow: $slow}' "$work/run.json" \
        >>"$results"
    else
      echo "cluster: $label failed: $(tail -1 "$work/bench.err")" >&2
      echo "{\"label\":\"$label\",\"failed\":true}" >>"$results"
    fi
    stop_nodes
    keep_log_warnings "$label"
  done
done

{
  echo "# roomchat alone vs a roomchat cluster"
  echo
  echo "Made by \`bench/cluster.sh\` (DURATION=$duration s measured after $warmup s of warmup) on $(date -u +%Y-%m-%d),"
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), shared by the generator,"
  echo "the nodes and Redis. W1: 1 room x 100 members, 1 sender, closed loop, window 64, 64 B."
  echo "W2: 100 rooms x 10, 1 sender each at 100 msg/s. W3: 1 room x 1000, 1 sender at 1000 msg/s."
  echo "L: 10 rooms x 10, 1 sender each at 100 msg/s (a light load: the cost of a cross-node hop)."
  echo "3-nodes: member i of each room on node i mod 3, the sender on node 0. CPU: seconds over the"
  echo "whole run (setup included), every node together, and Redis. Sender's node / other nodes:"
  echo "p50 and p99 of the deliveries to members on node 0 and on the others (3-nodes only)."
  echo "Redis >= 1 ms: the commands Redis took 1 ms or more to run (SLOWLOG), and the longest."
  [[ ${IDLE:-0} -gt 0 ]] && echo "Beside $IDLE idle clients held on the first node."
  echo
  echo "| scenario | setup | deliveries/s | loss | p50 ms | p99 ms | p99.9 ms | max ms | nodes CPU s | Redis CPU s | Redis >= 1 ms: count, longest us | sender's node p50 / p99 | other nodes p50 / p99 |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  jq -r 'def split_ms(h): if h then "\(h.p50) / \(h.p99)" else "" end;
         if .failed then "| \(.label | split(" ")[0]) | \(.label | split(" ")[1]) | failed | | | | | | | | | | |"
         else "| \(.label | split(" ")[0]) | \(.label | split(" ")[1]) | \(.deliveries_per_s | floor) | \(.loss_pct)% | \(.latency_ms.p50) | \(.latency_ms.p99) | \(.latency_ms.p99_9) | \(.latency_ms.max) | \(.nodes_cpu_s) | \(.redis_cpu_s) | \(.redis_slow.count), \(.redis_slow.max_us) | \(split_ms(.latency_sender_node_ms)) | \(split_ms(.latency_other_nodes_ms)) |" end' \
    "$results"
} >"$out.md"
cat "$out.md"
if [[ -s $out.warnings ]]; then
  echo
  echo "cluster: the nodes logged $(wc -l <"$out.warnings") warnings or errors; see $out.warnings" >&2
fi
