#!/bin/bash
# ctrcert-submit --upstream HELPER: the manifest's policy in front of another certmonger CA
# helper. A recorder shows exactly what the upstream receives (certmonger's variables
# unchanged, its own arguments) and that a refused request never reaches it; then real
# certmonger with its local-submit as the upstream CA.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
write_manifest
mkdir -p "$T/bin" "$T/pki"
REC=$T/bin/recorder
printf '%s\n' '#!/bin/sh' \
        "env | grep '^CERTMONGER_' | sort >'$T/rec.env'" \
        "printf '%s\n' \"\$@\" >'$T/rec.args'" \
        'echo "upstream answered $CERTMONGER_OPERATION"' \
        'exit "${REC_EXIT:-0}"' >"$REC"
chmod +x "$REC"
csr() { cat "$DATA/$1"; }

# up OPERATION [VAR=value…]: ctrcert-submit in front of the recorder, in certmonger's scrubbed
# environment plus the given variables; stdout in $OUT, status in $RC.
up() {
        local op=$1
        shift
        rm -f "$T/rec.env" "$T/rec.args"
        OUT=$(cd / && env -i PATH=/usr/bin:/bin HOME=/run/certmonger CERTMONGER_OPERATION="$op" "$@" \
                "$SUBMIT" --config "$CONF" --upstream "$REC" -k one --two 2>"$T/helper.err")
        RC=$?
}

up SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)" CERTMONGER_CA_NICKNAME=up CERTMONGER_REQ_SUBJECT=CN=web.example
check_eq "an allowed request goes to the upstream helper" 0 "$RC"
check_eq "… whose answer is certmonger's" "upstream answered SUBMIT" "$OUT"
expect=$(env -i CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)" \
        CERTMONGER_CA_NICKNAME=up CERTMONGER_REQ_SUBJECT=CN=web.example env | grep '^CERTMONGER_' | sort)
check_eq "the upstream sees exactly certmonger's variables" "$expect" "$(cat "$T/rec.env" 2>/dev/null)"
check_eq "… and its own arguments" "-k one --two" "$(tr '\n' ' ' <"$T/rec.args" 2>/dev/null | sed 's/ $//')"

up SUBMIT CERTMONGER_CA_PROFILE=other CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "a request for an id not in the manifest is refused (2)" 2 "$RC"
check_contains "… with ctrcert's reason" "other" "$OUT"
check "… and never reaches the upstream" test ! -e "$T/rec.env"
up SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-rsa1024.pem)"
check_eq "a weak key is refused before the upstream" "2 absent" "$RC $([ -e "$T/rec.env" ] && echo present || echo absent)"

# The upstream CA signs the CSR as it is (local-submit copies every extension): nothing in it may
# go beyond what ctrcert itself would issue. Each is refused and never reaches the recorder.
# launder SUBJECT [ADDEXT]: a CSR for web.example with those extras, through the policy.
launder() {
        local args=()
        [ -n "${2:-}" ] && args=(-addext "$2")
        up SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(openssl req -new -newkey ec \
                -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "$1" \
                -addext subjectAltName=DNS:web.example "${args[@]}" 2>/dev/null)"
        LAUNDER="$RC $([ -e "$T/rec.env" ] && echo reached || echo unseen)"
}
# what | subject | extension | the reason names
while IFS='|' read -r what subj ext reason; do
        launder "$subj" "$ext"
        check_eq "$what is refused before the upstream" "2 unseen" "$LAUNDER"
        check_contains "… naming it" "$reason" "$OUT"
done < <(printf '%s\n' \
        "keyUsage keyCertSign|/CN=web.example|keyUsage=critical,digitalSignature,keyCertSign|key usage keyCertSign" \
        "keyUsage cRLSign|/CN=web.example|keyUsage=cRLSign|key usage cRLSign" \
        "an EKU outside the id's usage|/CN=web.example|extendedKeyUsage=serverAuth,codeSigning|extended key usage codeSigning, outside the usage of id 'web'" \
        "nameConstraints|/CN=web.example|nameConstraints=critical,permitted;DNS:example|extension nameConstraints (critical)" \
        "authorityInfoAccess|/CN=web.example|authorityInfoAccess=OCSP;URI:http://evil.example/|extension authorityInfoAccess" \
        "an unknown critical extension|/CN=web.example|1.2.3.4=critical,ASN1:NULL|extension 1.2.3.4 (critical)" \
        "a subject with more than the CN (the upstream would copy it)|/O=system:masters/CN=web.example||CSR subject carries O beyond the CN")
# Extension requests OpenSSL reads only in part (the first attribute, its first value): an upstream
# with its own parser could read the CA:TRUE behind them. Refused as malformed, never passed on.
for f in csr-two-extreq csr-extreq-two-values csr-msextreq; do
        up SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr $f.pem)"
        check_eq "$f: refused before the upstream" "2 unseen" "$RC $([ -e "$T/rec.env" ] && echo reached || echo unseen)"
done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=web.example \
        -addext subjectAltName=DNS:web.example -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
        -addext extendedKeyUsage=serverAuth -addext "basicConstraints=critical,CA:FALSE" -addext subjectKeyIdentifier=hash \
        -out "$T/plain.csr" 2>/dev/null
up SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$T/plain.csr")"
check_eq "SAN, CA:FALSE, an end-entity KU, EKUs of the id's usage and an SKI reach the upstream" "0 present" \
        "$RC $([ -e "$T/rec.env" ] && echo present || echo absent)"

up POLL CERTMONGER_CA_COOKIE=abc
check_eq "a POLL without a CSR is the upstream's (its cookie)" "0 upstream answered POLL" "$RC $OUT"
up IDENTIFY
check_eq "IDENTIFY is the upstream's" "upstream answered IDENTIFY" "$OUT"
up FETCH-ROOTS
check_eq "FETCH-ROOTS is the upstream's" "upstream answered FETCH-ROOTS" "$OUT"
up SUBMIT REC_EXIT=3 CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "the upstream's exit code is certmonger's" 3 "$RC"

OUT=$(cd / && env -i CERTMONGER_OPERATION=IDENTIFY "$SUBMIT" --config "$CONF" --upstream /nonexistent/helper 2>/dev/null)
RC=$?
check_eq "a missing upstream helper: try again later (3)" 3 "$RC"
check_contains "… naming it" "/nonexistent/helper" "$OUT"
OUT=$("$SUBMIT" --config "$CONF" --upstream relative-helper 2>&1)
check_contains "--upstream wants an absolute path" "absolute path" "$OUT"

# ---- real certmonger, its local CA behind ctrcert's policy ----
LOCAL=""
for d in /usr/lib/certmonger /usr/libexec/certmonger; do [ -x "$d/local-submit" ] && LOCAL=$d/local-submit; done
start_bus && start_certmonger || exit 1
gc add-ca -c up -e "$SUBMIT --config $CONF --upstream $LOCAL" >/dev/null
check_contains "ctrcert registered in front of local-submit" "CA 'up'" "$(gc list-cas -c up)"
gc request -w -c up -T web -I ok -G EC -g 256 -N CN=web.example -D web.example -f "$T/pki/ok.crt" -k "$T/pki/ok.key" >/dev/null 2>&1
check_contains "a declared request is issued by the upstream (local) CA" "status: MONITORING" "$(gc list -i ok)"
check_contains "… signed by certmonger's local CA, not ctrcert's" "Local Signing Authority" \
        "$(openssl x509 -in "$T/pki/ok.crt" -noout -issuer 2>/dev/null)"
gc request -w -c up -T web -I bad -G EC -g 256 -N CN=evil.example -D evil.example -f "$T/pki/bad.crt" -k "$T/pki/bad.key" >/dev/null 2>&1
bad=$(gc list -i bad)
check_contains "an undeclared name is refused before local-submit sees it" "status: CA_REJECTED" "$bad"
check_contains "… with ctrcert's reason in ca-error" "evil.example" "$bad"
check "… and nothing was signed" test ! -s "$T/pki/bad.crt"
finish
