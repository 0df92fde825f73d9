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

check_eq "the issued subject is node-a's OU and the declared CN, nothing of the CSR's" \
        "subject=O = ctrcert, OU = node-a, CN = web.a.example" "$(openssl x509 -in "$T/a-leaf.crt" -noout -subject)"

# In a verifier: a node's key used directly (bypassing ctrcert), for every name kind.
# rogue NODE SUBJECT [EXT]: signs a leaf with NODE's CA key alone (openssl x509 -req) and prints
# what `openssl verify` says of it under the one root.
rogue() {
        local ca=$T/$1/ca
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "$2" \
                -out "$T/rogue.csr" 2>/dev/null
        printf '%s\n' "${3:-}" >"$T/rogue.ext"
        openssl x509 -req -in "$T/rogue.csr" -CA "$ca/ca.crt" -CAkey "$ca/private/ca.key" -days 1 \
                -extfile "$T/rogue.ext" -out "$T/rogue.crt" 2>/dev/null || echo "cannot sign"
        openssl verify -CAfile "$T/root/root.crt" -untrusted "$ca/ca.crt" "$T/rogue.crt" 2>&1
}
OWN=/O=ctrcert/OU=node-a/CN=x
check_contains "node-a's key: a foreign DNS name is refused" "permitted subtree violation" \
        "$(rogue node-a "$OWN" subjectAltName=DNS:web.b.example)"
check_contains "… an IPv4 address outside its range is refused" "permitted subtree violation" \
        "$(rogue node-a "$OWN" subjectAltName=IP:198.51.100.1)"
check_contains "… an IPv6 address is refused" "subtree violation" "$(rogue node-a "$OWN" subjectAltName=IP:2001:db8::1)"
check_contains "… an email address is refused" "subtree violation" "$(rogue node-a "$OWN" subjectAltName=email:root@a.example)"
check_contains "… an email in the subject is refused" "subtree violation" "$(rogue node-a "$OWN/emailAddress=root@a.example")"
check_contains "… a URI is refused" "subtree violation" "$(rogue node-a "$OWN" subjectAltName=URI:https://web.a.example/)"
check_contains "… a URN is refused" "unsupported or invalid name syntax" "$(rogue node-a "$OWN" subjectAltName=URI:urn:x:y)"
check_contains "… a Microsoft UPN (otherName) is refused" "unsupported name constraint type" \
        "$(rogue node-a "$OWN" "subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@B.EXAMPLE")"
check_contains "… a Kerberos principal (otherName) is refused" "unsupported name constraint type" \
        "$(rogue node-a "$OWN" "subjectAltName=otherName:1.3.6.1.5.2.2;UTF8:admin@B.EXAMPLE")"
check_contains "… a registeredID is refused" "unsupported name constraint type" \
        "$(rogue node-a "$OWN" "subjectAltName=RID:1.2.3.4")"
check_contains "… a SAN-less subject with any O and CN is refused" "permitted subtree violation" \
        "$(rogue node-a "/O=system:masters/CN=admin")"
check_contains "… so is one in another node's OU" "permitted subtree violation" "$(rogue node-a "/O=ctrcert/OU=node-b/CN=admin")"
check_contains "… and a host-name CN outside its DNS subtree" "permitted subtree violation" \
        "$(rogue node-a "/O=ctrcert/OU=node-a/CN=web.b.example")"
check_contains "… while its own names under its own OU verify" "rogue.crt: OK" \
        "$(rogue node-a "/O=ctrcert/OU=node-a/CN=web.a.example" "subjectAltName=DNS:web.a.example,IP:192.0.2.5")"

# Fleet mode's default: DNS only (no --permit-ip). No IP address at all, and the helper says why.
"$CTL" ca issue-node --root "$T/root" --node node-c --permit-dns c.example --out "$T/node-c/ca" >/dev/null
check_contains "a DNS-only node's key: an IPv4 address is refused" "excluded subtree violation" \
        "$(rogue node-c /O=ctrcert/OU=node-c/CN=x subjectAltName=IP:10.0.0.1)"
check_contains "… an IPv6 address too" "excluded subtree violation" "$(rogue node-c /O=ctrcert/OU=node-c/CN=x subjectAltName=IP:::1)"
check_contains "… its own DNS name verifies" "rogue.crt: OK" \
        "$(rogue node-c /O=ctrcert/OU=node-c/CN=web.c.example subjectAltName=DNS:web.c.example)"
mkdir -p "$T/node-c/state"
printf 'ca: {dir: %s, validity_days: 30}\nstate_dir: %s\nmanifest: %s\n' "$T/node-c/ca" "$T/node-c/state" \
        "$T/manifest-c.yaml" >"$T/node-c/ctrcert.yaml"
printf '%s\n' "version: 1" "certificates:" \
        "  - {id: web-c, cert: /srv/c.crt, key: /srv/c.key, names: {dns: [web.c.example], ip: [10.0.0.1], email: [ops@c.example]}}" \
        >"$T/manifest-c.yaml"
c_submit() { # c_submit SAN…: node-c's helper, CN web.c.example
        OUT=$(cd / && env -i CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web-c CERTMONGER_CSR="$(openssl req -new \
                -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=web.c.example \
                -addext "subjectAltName=$1" 2>/dev/null)" "$SUBMIT" --config "$T/node-c/ctrcert.yaml" 2>/dev/null)
        RC=$?
}
c_submit DNS:web.c.example,IP:10.0.0.1
check_eq "node-c's helper refuses a declared IP its CA may not sign (2)" 2 "$RC"
check_contains "… naming the excluded subtree" "10.0.0.1 is outside the issuing CA's name constraints (excluded IP address: 0.0.0.0/0" "$OUT"
c_submit DNS:web.c.example,email:ops@c.example
check_contains "… and an email address" "ops@c.example is outside the issuing CA's name constraints (excluded email address: all)" "$OUT"
c_submit DNS:web.c.example
check_eq "… and issues its DNS name" 0 "$RC"

# An IP-only node: OpenSSL reads a host-name-like CN as a DNS name, which it may not sign.
"$CTL" ca issue-node --root "$T/root" --node node-d --permit-ip 10.1.0.0/16 --out "$T/node-d/ca" >/dev/null
check_contains "an IP-only node's key: a host-name CN is refused" "excluded subtree violation" \
        "$(rogue node-d /O=ctrcert/OU=node-d/CN=web.d.example)"
check_contains "… its own address verifies" "rogue.crt: OK" "$(rogue node-d /O=ctrcert/OU=node-d/CN=d subjectAltName=IP:10.1.2.3)"
mkdir -p "$T/node-d/state"
sed "s|node-c|node-d|g; s|manifest-c|manifest-d|" "$T/node-c/ctrcert.yaml" >"$T/node-d/ctrcert.yaml"
printf '%s\n' "version: 1" "certificates:" "  - {id: ip-d, cert: /srv/d.crt, key: /srv/d.key, names: {ip: [10.1.2.3]}}" \
        >"$T/manifest-d.yaml"
d_submit() { # d_submit SUBJECT: node-d's helper, SAN IP:10.1.2.3
        OUT=$(cd / && env -i CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=ip-d CERTMONGER_CSR="$(openssl req -new \
                -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj "$1" \
                -addext "subjectAltName=IP:10.1.2.3" 2>/dev/null)" "$SUBMIT" --config "$T/node-d/ctrcert.yaml" 2>/dev/null)
        RC=$?
}
d_submit /CN=10.1.2.3
check_contains "its helper refuses an address as CN, which OpenSSL would read as a host name" \
        "subject CN (read as a DNS name by OpenSSL) 10.1.2.3 is outside the issuing CA's name constraints" "$OUT"
d_submit /
check_eq "… and issues the address without a CN" 0 "$RC"
awk '/BEGIN/{n++} n==1' <<<"$OUT" >"$T/d-leaf.crt"
check "… a leaf that verifies" openssl verify -CAfile "$T/root/root.crt" -untrusted "$T/node-d/ca/ca.crt" "$T/d-leaf.crt"

out=$("$CTL" ca issue-node --root "$T/root" --node node-e --permit-dns e.example --no-subject-constraint --out "$T/node-e/ca")
check_contains "--no-subject-constraint says what it gives up" "any subject" "$out"
check "… and has no directoryName subtree" lacks DirName \
        "$(openssl x509 -in "$T/node-e/ca/ca.crt" -noout -ext nameConstraints)"
check_contains "… but still excludes every IP address" "IP:0.0.0.0/0.0.0.0" \
        "$(openssl x509 -in "$T/node-e/ca/ca.crt" -noout -ext nameConstraints)"
finish
