#!/usr/bin/env bash
# Measures what idle connections cost the server: starts chat_server (-c opt), reads its RSS, holds N
# connections open with //bench:hold_connections, reads the RSS again, and prints the cost per
# connection. Loopback only.
#
#   bench/idle_connections.sh [N]      (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
port=${PORT:-7179}

bazel build -c opt //chat:chat_server //bench:hold_connections >/dev/null 2>&1
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
threads() { ls "/proc/$1/task" | wc -l; }

"$bin/chat/chat_server" --port="$port" --max_clients=$((n + 100)) --idle_timeout_s=0 \
  2>/tmp/roomchat-idle-server.log &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "listening on" /tmp/roomchat-idle-server.log && break; sleep 0.05; done
before=$(rss_kib "$server")

out=$(mktemp)
"$bin/bench/hold_connections" --port="$port" --connections="$n" --hold_s=5 >"$out" 2>&1 &
holder=$!
for _ in $(seq 1200); do grep -q "holding" "$out" && break; sleep 0.05; done
sleep 1  # let the lobby finish writing the WELCOME lines
during=$(rss_kib "$server")
held_fds=$(fds "$server")
held_threads=$(threads "$server")
wait "$holder"
cat "$out"
rm -f "$out"

echo "server RSS before: ${before} KiB; holding $n idle connections: ${during} KiB"
echo "per connection: $(( (during - before) * 1024 / n )) bytes; server fds $held_fds, threads $held_threads"
