# Sourced by tools/setup.sh, tools/fuzz.sh and bench/compare.sh: installs the Debian packages named
# that are not installed yet, refreshing the package lists first (once) when anything is missing.
#
#   source tools/packages.sh
#   ensure_packages LABEL PACKAGE...      # LABEL prefixes the one line printed when installing

_packages_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
  local label=$1
  shift
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "$label: installing ${missing[*]}"
  _packages_as_root apt-get update -qq
  _packages_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
