#!/bin/bash
# Revocation: ctrcertctl revoke marks issued certificates (by serial or by id) and writes a CRL
# signed by the issuing CA; OpenSSL's own verifier then rejects exactly the revoked ones; the agent
# (agent.crl_publish) copies each new CRL to where services read it.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
sed -i 's/^  permitted_ip: \(.*\)$/  permitted_ip: \1\n  crl_days: 3/' "$CONF" # into the ca: section
write_manifest
mkdir -p "$T/pki" "$T/pub"
printf 'agent:\n  podman_socket: ""\n  crl_publish: [%s, %s]\n' "$T/pub/ctrcert.crl" "$T/nodir/ctrcert.crl" >>"$CONF"
start_bus || exit 1
"$BUILD/ctrcert-agent" --config "$CONF" --bus system >"$T/agent.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do grep -q 'watching' "$T/agent.log" && break; sleep 0.05; done
# published SERIAL: waits until the agent's copy lists SERIAL.
published() {
        for _ in $(seq 100); do
                openssl crl -in "$T/pub/ctrcert.crl" -noout -text 2>/dev/null | grep -q "Serial Number: $1" && return 0
                sleep 0.05
        done
        return 1
}
# issue N: one certificate for "web" through the helper, saved as $T/pki/N.crt.
issue() {
        run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")"
        awk '/BEGIN/{n++} n==1' <<<"$OUT" >"$T/pki/$1.crt"
}
verify() { openssl verify -crl_check -CAfile "$T/etc/ca/chain.pem" -CRLfile "$T/state/ca/crl.pem" "$1" 2>&1; }

issue one && issue two && issue three
s1=$(serial "$T/pki/one.crt") s2=$(serial "$T/pki/two.crt")

out=$(ctl revoke "$s1" --reason keyCompromise 2>&1)
check_eq "revoke by serial succeeds" 0 "$?"
check_contains "… naming what it revoked" "$s1" "$out"
check_contains "… and writing the CRL" "CRL 1 with 1 revoked certificate" "$out"
crl=$(openssl crl -in "$T/state/ca/crl.pem" -noout -text 2>&1)
check_contains "the CRL lists the serial" "Serial Number: $s1" "$crl"
check_contains "… with its reason" "Key Compromise" "$crl"
check_contains "… signed by the issuing CA" "Issuer: O = ctrcert, CN = ctrcert Issuing CA" "$crl"
check "the CRL's signature verifies with the issuing CA" \
        openssl crl -in "$T/state/ca/crl.pem" -noout -CAfile "$T/etc/ca/ca.crt"
nu=$(openssl crl -in "$T/state/ca/crl.pem" -noout -nextupdate | cut -d= -f2)
check_eq "nextUpdate is ca.crl_days (3) away" 3 $((($(date -d "$nu" +%s) - $(date +%s) + 3600) / 86400))
check_contains "openssl verify -crl_check rejects the revoked certificate" "certificate revoked" "$(verify "$T/pki/one.crt")"
check "the agent published the new CRL to agent.crl_publish" published "$s1"
check "… identical to the one ctrcertctl wrote" cmp -s "$T/pub/ctrcert.crl" "$T/state/ca/crl.pem"
check_contains "… saying so in its log" "published the CRL (1 CRL) to $T/pub/ctrcert.crl" "$(cat "$T/agent.log")"
check_contains "… and naming a path it cannot write" "cannot publish the CRL to $T/nodir/ctrcert.crl" "$(cat "$T/agent.log")"
check_contains "… and accepts another" ": OK" "$(verify "$T/pki/two.crt")"

out=$(ctl revoke "$(tr 'A-F' 'a-f' <<<"$s1")" 2>&1)
check_eq "revoking again (lower case) succeeds" 0 "$?"
check_eq "… and lists it once" 1 "$(openssl crl -in "$T/state/ca/crl.pem" -noout -text | grep -c "Serial Number: $s1")"
check_contains "… in a CRL with a new number" "CRL 2 " "$out"

out=$(ctl revoke ABCDEF0123 2>&1)
check_eq "an unknown serial fails" 1 "$?"
check_contains "… naming it and the index" "ABCDEF0123: no certificate with this serial in $T/state/ca/index" "$out"

out=$(ctl revoke --id web --reason superseded 2>&1)
check_eq "revoke --id revokes every unexpired certificate of the id" 0 "$?"
check_contains "… three listed in the CRL" "CRL 4 with 3 revoked certificates" "$out$(ctl crl 2>&1)"
check_contains "the second certificate is now rejected too" "certificate revoked" "$(verify "$T/pki/two.crt")"
check "every later revocation is published too" published "$s2"
good=$(cat "$T/pub/ctrcert.crl")
echo "not a CRL" >"$T/state/ca/crl.pem"
for _ in $(seq 100); do grep -q 'not a PEM CRL' "$T/agent.log" && break; sleep 0.05; done
check_contains "a crl.pem that is not a CRL is refused, naming it" "CRL $T/state/ca/crl.pem: not a PEM CRL" "$(cat "$T/agent.log")"
check_eq "… and the published copy keeps the last good one" "$good" "$(cat "$T/pub/ctrcert.crl")"
ctl crl >/dev/null
check_eq "revocations are one fsync'd line each" 3 "$(wc -l <"$T/state/ca/revoked")"

out=$(ctl crl --out "$T/pub.crl" 2>&1)
check "crl --out writes elsewhere" cmp -s <(openssl crl -in "$T/pub.crl" -noout -text | grep Serial) \
        <(openssl crl -in "$T/state/ca/crl.pem" -noout -text | grep Serial)
check_contains "a bad reason is refused, naming it" "--reason 'oops'" "$(ctl revoke "$s2" --reason oops 2>&1)"
check_contains "revoke without a serial or id is a usage error" "usage" "$(ctl revoke 2>&1)"
finish
