#!/usr/bin/env bash
# Bazel entry point of the browser tests: runs tests/web/browser_test.mjs (or the script named by
# $2, e.g. browser_https_test.mjs) with Node against the chat_server binary passed as $1 (a
# runfiles path, from $(rootpath //chat:chat_server)).
#
# Where node_modules comes from: npm installs it in the source tree (tests/web/node_modules, by
# tools/setup.sh) and Bazel does not copy it into runfiles (a glob over it would be thousands of
# inputs and stale whenever npm runs). The runfiles hold browser_test.mjs as a symlink to the source
# file, so we resolve that link back into the source tree and run the script from there; Node then
# finds tests/web/node_modules beside it. Bazel's sandbox leaves the source tree readable.
set -euo pipefail

server=$(readlink -f "$1")
script=$(readlink -f "${TEST_SRCDIR:?run it with bazel test}/${TEST_WORKSPACE}/tests/web/${2:-browser_test.mjs}")
web_dir=$(dirname "$script")

fail() { echo "browser_test: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is missing: run tools/setup.sh"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || fail "${CHROMIUM:-/usr/bin/chromium} is missing: run tools/setup.sh"
[ -d "$web_dir/node_modules/playwright-core" ] ||
  fail "$web_dir/node_modules/playwright-core is missing: run tools/setup.sh (npm ci --prefix tests/web)"

# Chromium wants a writable home for its caches; the test's own temp dir is one.
export HOME="${TEST_TMPDIR:-$(mktemp -d)}"
exec node "$script" "$server"
