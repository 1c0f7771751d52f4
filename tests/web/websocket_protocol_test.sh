#!/usr/bin/env bash
# Runs the WebSocket protocol cases with Debian's python (python3-websockets is a Debian package,
# which a separately built python3 first on PATH may not see).
set -euo pipefail
exec /usr/bin/python3 tests/web/websocket_protocol_test.py "$1"
