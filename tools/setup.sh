#!/usr/bin/env bash
# Installs what roomchat needs to build and test on Debian 12, offline from then on.
#
#   tools/setup.sh        # idempotent; prints nothing but errors when all is in place
#
# What it does, each step only when needed:
#   1. apt-get installs Bazel (Debian's bazel-bootstrap 4.2.3), the Bazel rule sets Debian ships
#      (skylib, platforms), the binary libraries (gflags, glog, GoogleTest, Benchmark, libedit,
#      SQLite, hiredis), Redis, and tmux for the terminal client's interactive test.
#   2. Fetches Debian's *source* package of Abseil (20220623.1) and unpacks it into
#      third_party/abseil-cpp (git-ignored), which WORKSPACE names as @com_google_absl. Abseil is built
#      from source with our own flags so ThreadSanitizer sees inside absl::Mutex; the prebuilt
#      libabsl-dev is deliberately not used (and must not be installed: two Abseils on one include path).
#      The source archive is kept under ~/.cache/roomchat so a fresh clone unpacks it without the network.
#   3. For the browser test (//tests:browser_test): Debian's chromium, Node and npm from apt, and
#      `npm ci` in tests/web (playwright-core, pinned in its package-lock.json) whenever
#      tests/web/node_modules is missing or older than the lock file. Playwright never downloads a
#      browser here: the test drives /usr/bin/chromium.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/tools/packages.sh"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/roomchat"
absl_version="20220623.1"
absl_dir="$root/third_party/abseil-cpp"

packages=(
  bazel-bootstrap bazel-skylib bazel-platforms
  g++ libgflags-dev libgoogle-glog-dev libgtest-dev libbenchmark-dev libedit-dev
  dpkg-dev
  tmux  # the terminal the client's interactive test types into
  libwslay-dev  # WebSocket framing (RFC 6455) for the HTTP port's /ws
  node-llhttp   # llhttp's C sources: the HTTP/1.1 request parser of the HTTP port
  libssl-dev    # OpenSSL 3: TLS for the line port; libcrypto's SHA-1 for the WebSocket handshake
  openssl       # the openssl command: tools/make_cert.sh and the TLS tests' third-party client
  python3-websockets  # an independent WebSocket client for the protocol tests
  prometheus-cpp-dev  # /metrics: prometheus-cpp core's metric families and text serializer
  prometheus          # promtool, which checks /metrics in a test
  libsqlite3-dev  # the embedded history store
  sqlite3         # the CLI, so operators and a test can read the documented schema
  libsodium-dev   # Argon2id password hashes for accounts (crypto_pwhash_str)
  libhiredis-dev  # hiredis 0.14's async API: the cluster's Redis link, on our own EventLoop
  redis-server    # the cluster's backbone; the Redis link's tests start their own on loopback
  chromium nodejs  # the browser test of the web client (npm: see below)
)

sudo_if_needed() { _packages_as_root "$@"; }

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" -eq 0 ]; then
    sudo_if_needed apt-get update -qq
    apt_updated=1
  fi
}

refuse_prebuilt_abseil() {
  if dpkg-query -W -f='${Status}' libabsl-dev 2>/dev/null | grep -q "ok installed"; then
    echo "setup: libabsl-dev is installed; its headers in /usr/include would shadow the Abseil we build." >&2
    echo "setup: remove it with: apt-get remove libabsl-dev" >&2
    exit 1
  fi
}

# Adds deb-src lines mirroring the machine's own Debian 'deb' sources, so apt-get source works.
enable_source_packages() {
  local list=/etc/apt/sources.list.d/roomchat-deb-src.sources
  [ -f "$list" ] && return 0
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  local tmp
  tmp=$(mktemp)
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$tmp"
  else
    # One-line format: turn each 'deb URI SUITE COMPONENTS' into a deb822 deb-src stanza.
    grep -E '^deb ' /etc/apt/sources.list | sed -E 's/\[[^]]*\] //' |
      awk '{ printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:", $2, $3;
             for (i = 4; i <= NF; i++) printf " %s", $i; printf "\n\n" }' > "$tmp"
  fi
  sudo_if_needed install -m 0644 "$tmp" "$list"
  rm -f "$tmp"
  apt_updated=0
}

fetch_abseil_source() {
  [ -f "$absl_dir/absl/base/config.h" ] && [ -f "$absl_dir/.roomchat-version" ] &&
    [ "$(cat "$absl_dir/.roomchat-version")" = "$absl_version" ] && return 0
  mkdir -p "$cache/abseil-src"
  if ! ls "$cache"/abseil-src/abseil_"$absl_version"*.dsc >/dev/null 2>&1; then
    echo "setup: fetching Debian's abseil $absl_version source package"
    enable_source_packages
    apt_update_once
    (cd "$cache/abseil-src" && apt-get source --download-only -qq "abseil=$absl_version-1+deb12u2" >/dev/null 2>&1 ||
      apt-get source --download-only -qq abseil >/dev/null)
  fi
  local dsc
  dsc=$(ls "$cache"/abseil-src/abseil_"$absl_version"*.dsc | sort | tail -n 1)
  # dpkg-source leaves a copy of the original tarball beside its target: unpack inside the cache.
  local unpack="$cache/abseil-src/unpack"
  rm -rf "$unpack" "$absl_dir"
  mkdir -p "$unpack" "$(dirname "$absl_dir")"
  dpkg-source --no-check -x "$dsc" "$unpack/abseil-cpp" >/dev/null
  # Bazel must not see Debian's packaging folder as part of the repository.
  rm -rf "$unpack/abseil-cpp/debian"
  echo "$absl_version" > "$unpack/abseil-cpp/.roomchat-version"
  mv "$unpack/abseil-cpp" "$absl_dir"
  rm -rf "$unpack"
}

# npm ci rewrites node_modules from the lock file; its own marker (.package-lock.json) is newer than
# the lock after a successful run.
install_browser_test_modules() {
  local web="$root/tests/web"
  local marker="$web/node_modules/.package-lock.json"
  [ -f "$marker" ] && [ ! "$web/package-lock.json" -nt "$marker" ] && return 0
  echo "setup: npm ci in tests/web (playwright-core for the browser test)"
  npm ci --prefix "$web" --no-audit --no-fund --loglevel=error >/dev/null
}

ensure_packages setup "${packages[@]}"
# Debian's nodejs needs its npm package; NodeSource's nodejs carries npm itself and conflicts with it.
command -v npm >/dev/null || ensure_packages setup npm
refuse_prebuilt_abseil
fetch_abseil_source
install_browser_test_modules
