# The chat_bench scenarios every comparison runs (sourced by bench/compare.sh and
# bench/before_after.sh), and how a roomchat server is started for them.
#   W1 one room of 100, one sender, closed loop (throughput)
#   W2 100 rooms of 10, one sender each at 100 msg/s (latency under spread load)
#   W3 one room of 1000, one sender at 1000 msg/s (a big room's latency)
#   W4 1000 rooms of 5, one sender each at 10 msg/s (many quiet rooms)
scenarios=(
  "W1 --rooms=1 --members=100 --senders=1 --rate=0 --window=64 --bytes=64"
  "W2 --rooms=100 --members=10 --senders=1 --rate=100 --bytes=64"
  "W3 --rooms=1 --members=1000 --senders=1 --rate=1000 --bytes=64"
  "W4 --rooms=1000 --members=5 --senders=1 --rate=10 --bytes=64"
)

# Flood control and the idle timeout off: W1 and W3 send far past 200 lines/s.
roomchat_bench_flags=(--flood_lines_per_s=0 --idle_timeout_s=0 --max_clients=20000 --max_rooms=5000)

wait_for_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listening on port $1" >&2
  return 1
}
