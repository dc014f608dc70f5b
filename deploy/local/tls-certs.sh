#!/usr/bin/env bash
# Throwaway TLS material for local runs and tests: a CA and certificates it
# signs, with openssl's command line, in DIR (created; existing files are
# overwritten).  Never for production: the keys sit unencrypted beside the
# certificates.  Usage: tls-certs.sh DIR [NAME...]
#
#   DIR/ca.pem, ca.key           the CA (ECDSA P-256, 30 days)
#   DIR/server.pem, server.key   a server certificate for localhost and
#                                127.0.0.1 (and the suite's service names)
#   DIR/NAME.pem, NAME.key       per NAME: a client certificate whose
#                                identity is the SAN URI spiffe://shelfline/NAME
#                                (and SAN DNS NAME) -- what mTLS maps to roles
# With CA_NAME=other the CA files are other.pem/other.key and the server's
# other-server.pem/.key, for a second, untrusted CA.
set -euo pipefail
dir=${1:?usage: tls-certs.sh DIR [NAME...]}
shift
ca=${CA_NAME:-ca}
srv=server
[ "$ca" = ca ] || srv="$ca-server"
mkdir -p "$dir"
cd "$dir"
umask 077
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
# sign NAME SUBJECT SAN EKU: NAME.pem signed by the CA for NAME.key
sign() {
    newkey "$1.key.tmp"
    openssl req -new -key "$1.key.tmp" -subj "$2" -out "$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$3" "$4" \
        >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -days 30 \
        -extfile "$1.ext" -out "$1.pem.tmp" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
    mv "$1.key.tmp" "$1.key"
    mv "$1.pem.tmp" "$1.pem"
}
if [ ! -s "$ca.pem" ] || [ ! -s "$ca.key" ]; then
    newkey "$ca.key"
    openssl req -x509 -new -key "$ca.key" -subj "/CN=shelfline throwaway $ca" -days 30 \
        -out "$ca.pem" 2>/dev/null
fi
sign "$srv" "/CN=localhost" \
    "DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1,DNS:inventory,DNS:forecasting,DNS:customer-value,DNS:service-desk" \
    "serverAuth,clientAuth"
for name in "$@"; do
    sign "$name" "/CN=$name" "URI:spiffe://shelfline/$name,DNS:$name" "clientAuth"
done
chmod 644 ./*.pem
