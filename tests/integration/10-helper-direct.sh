#!/bin/bash
# ctrcert-submit run directly, as certmonger runs it (scrubbed environment,
# cwd /), for every operation of the protocol and every rejection class.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
write_manifest \
        "    usage: [server, client]" \
        "  - id: db" \
        "    cert: $T/db.crt" \
        "    key: $T/db.key" \
        "    names: {dns: [db.example]}"
csr() { cat "$DATA/$1"; }

# ---- the catalogue operations ----
run_helper IDENTIFY
check_eq "IDENTIFY exits 0" 0 "$RC"
check_contains "IDENTIFY names ctrcert-submit" "ctrcert-submit " "$OUT"

run_helper GET-SUPPORTED-TEMPLATES
check_eq "GET-SUPPORTED-TEMPLATES lists the manifest ids" "web
db" "$OUT"

run_helper GET-DEFAULT-TEMPLATE
check_eq "GET-DEFAULT-TEMPLATE is empty without ca.default_template" "0:" "$RC:$OUT"

run_helper GET-NEW-REQUEST-REQUIREMENTS
check_eq "strict policy requires a profile on new requests" "CERTMONGER_CA_PROFILE" "$OUT"
run_helper GET-RENEW-REQUEST-REQUIREMENTS
check_eq "strict policy requires a profile on renewals" "CERTMONGER_CA_PROFILE" "$OUT"

run_helper FETCH-ROOTS
check_eq "FETCH-ROOTS exits 0" 0 "$RC"
check_eq "FETCH-ROOTS starts with the root's nickname" "ctrcert Root CA" "$(echo "$OUT" | head -n 1)"
echo "$OUT" | sed 1d >"$T/fetched-root.pem"
check_eq "FETCH-ROOTS returns the root certificate" \
        "$(openssl x509 -in "$T/etc/ca/root.crt" -noout -fingerprint -sha256)" \
        "$(openssl x509 -in "$T/fetched-root.pem" -noout -fingerprint -sha256)"

run_helper FETCH-SCEP-CA-CAPS
check_eq "unsupported operations exit 6" 6 "$RC"

# ---- SUBMIT that issues ----
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "SUBMIT of a declared request exits 0" 0 "$RC"
echo "$OUT" >"$T/out.pem"
check_eq "SUBMIT prints leaf then chain (3 certificates)" 3 "$(grep -c 'BEGIN CERTIFICATE' "$T/out.pem")"
openssl x509 -in "$T/out.pem" -out "$T/leaf.pem"
check "the leaf chains to the root through the issuing CA" \
        openssl verify -CAfile "$T/etc/ca/root.crt" -untrusted "$T/etc/ca/ca.crt" "$T/leaf.pem"
text=$(openssl x509 -in "$T/leaf.pem" -noout -text)
check_contains "the leaf carries the requested SANs" "DNS:web.example, DNS:www.example, IP Address:192.0.2.10, email:ops@web.example" "$text"
check_contains "the leaf's EKU follows the id's usage" "TLS Web Server Authentication, TLS Web Client Authentication" "$text"
check_contains "the leaf is not a CA" "CA:FALSE" "$text"
serial=$(openssl x509 -in "$T/leaf.pem" -noout -serial | cut -d= -f2)
check_eq "the serial is 20 bytes" 40 "${#serial}"
check "the issuance is in the index" grep -q "	$serial	.*	web	" "$T/state/ca/index"

run_helper POLL CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)" CERTMONGER_CA_COOKIE=x
check_eq "POLL issues like SUBMIT" 0 "$RC"

(cd / && env -i PATH=/usr/bin:/bin CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-rsa2048.pem)" \
        "$SUBMIT" --config "$CONF" >"$T/byhand.pem" 2>/dev/null)
check "without CERTMONGER_OPERATION it submits (an operator by hand)" openssl x509 -in "$T/byhand.pem" -noout

# ---- every rejection class: exit 2 and a one-line reason ----
reject() {
        local name=$1 file=$2 profile=$3 want=$4
        run_helper SUBMIT CERTMONGER_CA_PROFILE="$profile" CERTMONGER_CSR="$(csr "$file")"
        check_eq "$name: exit 2" 2 "$RC"
        check_contains "$name: reason" "$want" "$OUT"
        check_eq "$name: one line" 1 "$(echo "$OUT" | wc -l)"
}
reject "bad CSR signature" csr-badsig.pem web "CSR signature does not verify"
reject "SHA-1 signature" csr-sha1.pem web "signed with SHA1"
reject "RSA 1024" csr-rsa1024.pem web "RSA key of 1024 bits"
reject "secp256k1" csr-secp256k1.pem web "EC curve secp256k1 is not allowed"
reject "Ed25519" csr-ed25519.pem web "key type ED25519 is not supported"
reject "CA:TRUE request" csr-ca.pem web "CA:TRUE"
reject "URI SAN" csr-uri.pem web "URI subjectAltName"
reject "no names" csr-nonames.pem web "carries no names"
reject "undeclared names" csr-ec.pem db "subject CN 'web.example' is not declared for id 'db'"
reject "unknown id" csr-ec.pem nope "unknown certificate id 'nope'"
reject "no id" csr-ec.pem "" "no certificate id given"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="not a csr"
check_eq "garbage CSR: exit 2" 2 "$RC"
check_contains "garbage CSR: reason" "not a valid PKCS#10" "$OUT"
reject "RSA exponent 1" csr-rsa-e1.pem web "weak key: RSA public exponent 1 is not an odd number of at least 3"
reject "RSA even exponent" csr-rsa-e4.pem web "weak key: RSA public exponent 4"
reject "RSA prime modulus" csr-rsa-prime.pem web "weak key: RSA modulus fails OpenSSL's check"
reject "an RSA key past 8192 bits" csr-rsa-9216.pem web "RSA key of 9215 bits (at most 8192)"
reject "EC explicit parameters" csr-ec-explicit.pem web "weak key: EC key with explicit curve parameters"
reject "RSA-PSS with MGF1-SHA1" csr-rsa-pss-mgf1sha1.pem web "signed with RSA-PSS SHA256 with MGF1 SHA1"
check_eq "rejections leave no index record" 3 "$(wc -l <"$T/state/ca/index")"

run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-rsa-pss.pem)"
check_eq "an RSA key signing its CSR with RSA-PSS SHA-256 is issued" 0 "$RC"

# The subject is the declared CN alone: O, emailAddress and the requested extensions stay out.
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-laundering.pem)"
check_eq "a CSR whose subject says more than the CN is issued" 0 "$RC"
openssl x509 -in <(echo "$OUT") -out "$T/subject-leaf.pem"
check_eq "… with the CN alone as subject" "subject=CN = web.example" "$(openssl x509 -in "$T/subject-leaf.pem" -noout -subject)"
check_contains "… so the subject's undeclared emailAddress verifies as nothing" "email address mismatch" \
        "$(openssl verify -CAfile "$T/etc/ca/root.crt" -untrusted "$T/etc/ca/ca.crt" -verify_email root@evil.example \
                "$T/subject-leaf.pem" 2>&1)"
text=$(openssl x509 -in "$T/subject-leaf.pem" -noout -text)
check "… and none of its requested extensions is copied" lacks "Certificate Sign\|Code Signing\|Name Constraints\|evil.example\|1.2.3.4" "$text"

# ---- control characters from outside never reach ca-error, logs or a terminal raw ----
run_helper SUBMIT CERTMONGER_CA_PROFILE=$'nope\e[2J\r\nforged: ok\x7f' CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "a profile with control characters: exit 2" 2 "$RC"
check_contains "… its reason escapes them" "unknown certificate id 'nope\x1b[2J\x0d\x0aforged: ok\x7f'" "$OUT"
check_eq "… on one line" 1 "$(echo "$OUT" | wc -l)"
check "… and the log line has none raw" lacks $'[\e\r\x7f]' "$(cat "$T/helper.err")"
check_eq "… nor a second line" 1 "$(wc -l <"$T/helper.err")"
start_bus || exit 1
/usr/bin/python3 "$SRC/tests/fake-agent.py" 2>"$T/fake-agent.err" &
PIDS+=("$!")
wait_until 30 bus_has_owner org.ctrcert.Agent1
out=$("$CTL" status 2>&1)
check_contains "ctrcertctl status prints a runtime's error text escaped" \
        'runtime said \x1b[2J\x1b[31mOK\x0d\x0aforged: line\x07' "$out"
check_contains "… and a container name too" 'ctr\x1b]0;title\x07' "$out"
check_contains "… and a pause's reason" 'PAUSED: deploy \x1b[2Jnow' "$out"
check "… with no control character left" lacks $'[\e\r\a]' "$out"
out=$("$CTL" release ctr-x 2>&1)
check_contains "an agent's error message is escaped too" 'Release: runtime said \x1b[2J' "$out"
check_eq "… on one line" 1 "$(echo "$out" | wc -l)"

# ---- an unusable CA or config: exit 4 naming the file and the fix ----
chmod 0640 "$T/etc/ca/private/ca.key"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "group-readable CA key: exit 4" 4 "$RC"
check_contains "group-readable CA key: names the file" "CA key $T/etc/ca/private/ca.key is readable by group or others" "$OUT"
chmod 0600 "$T/etc/ca/private/ca.key"

mv "$T/etc/ca/ca.crt" "$T/ca.crt.away"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "missing CA: exit 4" 4 "$RC"
check_contains "missing CA: names the file and the command" \
        "CA file $T/etc/ca/ca.crt does not exist; create the CA once with: ctrcertctl ca init $T/etc/ca" "$OUT"
check "missing CA: the helper creates no CA" test ! -e "$T/etc/ca/ca.crt"
mv "$T/ca.crt.away" "$T/etc/ca/ca.crt"

# chain.pem goes to certmonger as it is: nothing but PEM certificates in it.
cp -p "$T/etc/ca/chain.pem" "$T/chain.pem.good"
printf 'trailing text\n' >>"$T/etc/ca/chain.pem"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "chain.pem with trailing text: exit 4" 4 "$RC"
check_contains "… naming it" "CA file $T/etc/ca/chain.pem is not valid PEM" "$OUT"
sed '2i this is not base64!' "$T/chain.pem.good" >"$T/etc/ca/chain.pem"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "chain.pem with garbage inside the armor: exit 4" 4 "$RC"
{ printf 'leading words\n'; cat "$T/chain.pem.good"; } >"$T/etc/ca/chain.pem"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "chain.pem with text before the first certificate: exit 4" 4 "$RC"
cp -p "$T/chain.pem.good" "$T/etc/ca/chain.pem"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "chain.pem as ca init wrote it: issued" 0 "$RC"

echo "version: 1" >"$T/etc/manifest.yaml"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "broken manifest: exit 4" 4 "$RC"
check_contains "broken manifest: file:line:col" "manifest: $T/etc/manifest.yaml:1:1: error" "$OUT"

CONF_SAVED=$CONF
CONF=$T/nonexistent.yaml
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(csr csr-ec.pem)"
check_eq "missing config: exit 4" 4 "$RC"
check_contains "missing config: names it" "config $T/nonexistent.yaml does not exist" "$OUT"
CONF=$CONF_SAVED

finish
