#!/usr/bin/env bash
# Runs the TLS cases with Debian's python3 (its ssl module is OpenSSL 3 from Debian; a separately
# built python3 first on PATH may carry another) and the openssl command.
set -euo pipefail
command -v openssl >/dev/null || { echo "tls_test: openssl is missing: run tools/setup.sh" >&2; exit 1; }
# No __pycache__ in the source tree (the runfiles link back to it).
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 tests/tls/tls_test.py "$1" "$2"
