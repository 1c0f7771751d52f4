#!/usr/bin/env bash
# Makes a self-signed certificate for trying TLS locally (not for the internet: nobody trusts it
# but the clients told to).
#
#   tools/make_cert.sh [DIR] [NAME]     # default: ./roomchat-tls, localhost
#
# Writes DIR/cert.pem and DIR/key.pem (an ECDSA P-256 key, readable only by you), valid for NAME,
# localhost, 127.0.0.1 and ::1, for 825 days. Then:
#   chat_server --tls_cert=DIR/cert.pem --tls_key=DIR/key.pem
#   chat_client --tls --tls_ca=DIR/cert.pem --port=7443
#   openssl s_client -connect 127.0.0.1:7443 -CAfile DIR/cert.pem
set -euo pipefail
dir=${1:-roomchat-tls}
name=${2:-localhost}
command -v openssl >/dev/null || { echo "make_cert: openssl is missing (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj "/CN=$name" \
  -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1,IP:::1" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,digitalSignature,keyCertSign" \
  -addext "extendedKeyUsage=serverAuth" 2>/dev/null
chmod 644 "$dir/cert.pem"
echo "make_cert: wrote $dir/cert.pem and $dir/key.pem for $name"
