#!/usr/bin/env bash
# Runs the HTTPS cases with Debian's python3 (its ssl module is OpenSSL 3 from Debian, and
# python3-websockets is a Debian package; a separately built python3 first on PATH may carry
# neither) and the openssl command.
set -euo pipefail
command -v openssl >/dev/null || { echo "https_test: openssl is missing: run tools/setup.sh" >&2; exit 1; }
# No __pycache__ in the source tree (the runfiles link back to it).
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 tests/tls/https_test.py "$1"
