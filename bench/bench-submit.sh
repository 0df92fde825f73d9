#!/bin/bash
# make bench: the wall time and peak RSS of one SUBMIT of ctrcert-submit,
# certmonger's own local-submit and `openssl x509 -req`, on the same CSR,
# alternating in one run, with csr-floor (a process that only verifies the
# CSR: the least any per-request helper does) beside them; then the instruction count of each part of a
# ctrcert SUBMIT under callgrind (repeatable where wall time is not).
# Results are recorded by hand in bench/RESULTS.md.
set -eu
BUILD=${1:?usage: bench-submit.sh BUILDDIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-500}
LOCAL_SUBMIT=$(ls /usr/libexec/certmonger/local-submit /usr/lib/certmonger/local-submit 2>/dev/null | head -n 1)
W=$(mktemp -d /tmp/ctrcert-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

${CC:-cc} -O2 -o "$W/spawn-bench" "$SRC/bench/spawn-bench.c"
# The floor of any per-request OpenSSL 3 process: read and verify the CSR, nothing else.
${CC:-cc} -O2 -o "$W/csr-floor" "$SRC/bench/csr-floor.c" $(pkg-config --cflags --libs libcrypto)

# The same CA for ctrcert and openssl; state on the same disk as the build.
"$BUILD/ctrcertctl" ca init "$W/ca" >/dev/null
mkdir -p "$W/state"
cat >"$W/ctrcert.yaml" <<EOF
ca: {dir: $W/ca, validity_days: 365}
state_dir: $W/state
manifest: $W/manifest.yaml
EOF
cat >"$W/manifest.yaml" <<EOF
version: 1
certificates:
  - {id: web, cert: /etc/pki/tls/certs/web.crt, key: /etc/pki/tls/private/web.key, names: {dns: [web.example]}}
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/leaf.key" -subj /CN=web.example \
        -addext subjectAltName=DNS:web.example -out "$W/req.pem" 2>/dev/null

export CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$W/req.pem")"
export CERTMONGER_LOCAL_CA_DIR="$W/local-ca"
mkdir -p "$CERTMONGER_LOCAL_CA_DIR"
"$LOCAL_SUBMIT" >/dev/null # local-submit makes its own CA on first use: not part of the measurement
cd "$W"

echo "## $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -r), $(openssl version | cut -d' ' -f1-2), $ROUNDS rounds"
"$W/spawn-bench" "$ROUNDS" \
        "ctrcert-submit=$BUILD/ctrcert-submit --config $W/ctrcert.yaml" \
        "local-submit=$LOCAL_SUBMIT" \
        "csr-floor=$W/csr-floor $W/req.pem" \
        "openssl-x509=$(command -v openssl) x509 -req -in $W/req.pem -CA $W/ca/ca.crt -CAkey $W/ca/private/ca.key -days 365 -out /dev/null"

if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
        echo
        echo "instructions of one ctrcert SUBMIT (callgrind, inclusive):"
        valgrind -q --tool=callgrind --callgrind-out-file="$W/cg.out" "$BUILD/ctrcert-submit" --config "$W/ctrcert.yaml" >/dev/null 2>&1
        callgrind_annotate --inclusive=yes "$W/cg.out" 2>/dev/null |
                grep -E 'PROGRAM TOTALS|_dl_start |helper/main.c:main|cadir_load_ca |cert_issue |csr_parse |csr_get_info |helper_load_manifest |helper_load_config |index_append |X509_sign ' |
                grep -v '=>' | sed -E 's/ *\(.*%\)//; s/\[.*//; s/^ +//' | head -n 12
fi
