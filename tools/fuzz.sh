#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 and runs each for a bounded time.
#
#   tools/fuzz.sh [SECONDS_PER_TARGET]     (default 20)
#
# New inputs go to a scratch corpus (~/.cache/roomchat/fuzz-corpus/<target>) that grows across runs;
# the seeds in the repo are read, never written. A crash stops with a non-zero exit, and the input
# that caused it is left in fuzz-crashes/ to be added to the seed corpus once fixed. Prints, per
# target, the executions and the corpus size (docs/RELIABILITY.md quotes them).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}

source tools/packages.sh
ensure_packages fuzz clang-14 libclang-rt-14-dev libfuzzer-14-dev

output_base="${XDG_CACHE_HOME:-$HOME/.cache}/roomchat/bazel-fuzz"
targets=(
  "//chat/protocol:line_framer_fuzzer chat/protocol/fuzz_corpus/line_framer"
  "//chat/protocol:command_fuzzer chat/protocol/fuzz_corpus/command"
  "//chat/protocol:server_event_fuzzer chat/protocol/fuzz_corpus/server_event"
  "//chat/web:http_request_fuzzer chat/web/fuzz_corpus/http_request"
  "//chat/web:websocket_codec_fuzzer chat/web/fuzz_corpus/websocket_codec"
  "//chat/cluster:room_entry_fuzzer chat/cluster/fuzz_corpus/room_entry"
)
labels=()
for t in "${targets[@]}"; do labels+=("${t%% *}"); done
if ! build_log=$(bazel --output_base="$output_base" build --config=fuzz "${labels[@]}" 2>&1); then
  echo "$build_log" | grep -E "^ERROR|error:" | head -20
  echo "fuzz: the fuzz targets did not build"
  exit 1
fi
bin=$(bazel --output_base="$output_base" info --config=fuzz bazel-bin 2>/dev/null)
mkdir -p fuzz-crashes

status=0
for t in "${targets[@]}"; do
  label=${t%% *}
  seeds=${t#* }
  name=${label##*:}
  binary="$bin/$(echo "${label#//}" | tr ':' '/')"
  scratch="${XDG_CACHE_HOME:-$HOME/.cache}/roomchat/fuzz-corpus/$name"
  mkdir -p "$scratch"
  log=$(mktemp)
  if "$binary" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix=fuzz-crashes/ \
      "$scratch" "$seeds" >"$log" 2>&1; then
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    corpus=$(ls "$scratch" | wc -l)
    echo "fuzz: $name: $execs executions in ${seconds} s, corpus $corpus inputs (+$(ls "$seeds" | wc -l) seeds), no crash"
  else
    echo "fuzz: $name: CRASH; input saved in fuzz-crashes/"
    tail -40 "$log"
    status=1
  fi
  rm -f "$log"
done
rmdir fuzz-crashes 2>/dev/null || true
bazel --output_base="$output_base" shutdown >/dev/null 2>&1 || true
exit "$status"
