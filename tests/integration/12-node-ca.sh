#!/bin/bash
# One root, a name-constrained issuing CA per node: `ctrcertctl ca issue-node` makes it
# (critical nameConstraints, pathlen 0, no root key on the node); the helper refuses names
# outside its CA's constraints with a reason; OpenSSL's verifier refuses them too; two nodes
# cannot issue for each other's names.
. "$(dirname "$0")/lib.sh"

"$CTL" ca init "$T/root" >/dev/null || exit 1
node() { # node NAME DNS-SUFFIX CIDR
        "$CTL" ca issue-node --root "$T/root" --node "$1" --permit-dns "$2" --permit-ip "$3" --out "$T/$1/ca" 2>&1
}
out=$(node node-a a.example 192.0.2.0/28)
check_contains "ca issue-node makes node-a's CA" "created node CA for node-a" "$out"
node node-b b.example 192.0.2.16/28 >/dev/null
ext=$(openssl x509 -in "$T/node-a/ca/ca.crt" -noout -ext nameConstraints,basicConstraints 2>&1)
check_contains "its nameConstraints are critical" "X509v3 Name Constraints: critical" "$ext"
check_contains "… permit its DNS subtree" "DNS:a.example" "$ext"
check_contains "… and its address range" "IP:192.0.2.0/255.255.255.240" "$ext"
check_contains "… and it may not make CAs below it" "pathlen:0" "$ext"
check "node-a's CA chains to the one root" openssl verify -CAfile "$T/root/root.crt" "$T/node-a/ca/ca.crt"
check "the root key never reaches the node" test ! -e "$T/node-a/ca/private/root.key"
check_eq "the node's key is private" 600 "$(stat -c %a "$T/node-a/ca/private/ca.key")"
check_contains "no constraint, no node CA" "at least one --permit" \
        "$("$CTL" ca issue-node --root "$T/root" --node x --out "$T/x" 2>&1)"
check_contains "a bad range is named" "--permit-ip '10.0.0.0/40'" \
        "$("$CTL" ca issue-node --root "$T/root" --node x --permit-ip 10.0.0.0/40 --out "$T/x" 2>&1)"

# Each node's helper, with a manifest declaring names of both nodes (the policy allows them;
# the CA's constraints must still refuse the other node's).
for n in a b; do
        mkdir -p "$T/node-$n/state"
        printf 'ca: {dir: %s, validity_days: 30}\nstate_dir: %s\nmanifest: %s\n' \
                "$T/node-$n/ca" "$T/node-$n/state" "$T/manifest.yaml" >"$T/node-$n/ctrcert.yaml"
done
printf '%s\n' "version: 1" "certificates:" \
        "  - {id: web-a, cert: /srv/a.crt, key: /srv/a.key, names: {dns: [web.a.example], ip: [192.0.2.5]}}" \
        "  - {id: web-b, cert: /srv/b.crt, key: /srv/b.key, names: {dns: [web.b.example]}}" >"$T/manifest.yaml"
# csr NAME: a CSR for NAME (and 192.0.2.5 for web.a.example), made by openssl.
csr() {
        local extra=""
        [ "$1" = web.a.example ] && extra=",IP:192.0.2.5"
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "/CN=$1" \
                -addext "subjectAltName=DNS:$1$extra" 2>/dev/null
}
submit() { # submit NODE ID CN: ctrcert-submit of node NODE; stdout in $OUT, status in $RC
        OUT=$(cd / && env -i CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE="$2" CERTMONGER_CSR="$(csr "$3")" \
                "$SUBMIT" --config "$T/node-$1/ctrcert.yaml" 2>/dev/null)
        RC=$?
}
submit a web-a web.a.example
check_eq "node-a issues inside its constraints" 0 "$RC"
awk '/BEGIN/{n++} n==1' <<<"$OUT" >"$T/a-leaf.crt"
check "… and the leaf verifies up to the one root" \
        openssl verify -CAfile "$T/root/root.crt" -untrusted "$T/node-a/ca/ca.crt" "$T/a-leaf.crt"
submit a web-b web.b.example
check_eq "node-a refuses node-b's name (2)" 2 "$RC"
check_contains "… saying it is outside its constraints" "web.b.example is outside the issuing CA's name constraints" "$OUT"
submit b web-a web.a.example
check_eq "node-b refuses node-a's name" 2 "$RC"
submit b web-b web.b.example
check_eq "node-b issues its own" 0 "$RC"

# In a verifier: node-a's key used directly (bypassing ctrcert) for a name outside its subtree.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=web.b.example \
        -addext subjectAltName=DNS:web.b.example -out "$T/rogue.csr" 2>/dev/null
printf 'subjectAltName=DNS:web.b.example\n' >"$T/rogue.ext"
openssl x509 -req -in "$T/rogue.csr" -CA "$T/node-a/ca/ca.crt" -CAkey "$T/node-a/ca/private/ca.key" -days 1 \
        -extfile "$T/rogue.ext" -out "$T/rogue.crt" 2>/dev/null
check_contains "OpenSSL's verifier rejects what node-a's key signs outside its subtree" "permitted subtree violation" \
        "$(openssl verify -CAfile "$T/root/root.crt" -untrusted "$T/node-a/ca/ca.crt" "$T/rogue.crt" 2>&1)"
finish
