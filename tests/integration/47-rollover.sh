#!/bin/bash
# CA rollover with a real certmonger: `ctrcertctl ca rollover` makes the next generation while the
# previous one stays trusted (FETCH-ROOTS returns both roots; old and new leaves both verify;
# revocations of either are in the CRL file), `--finish` refuses while the previous CA's
# certificates are still valid, an interrupted rollover completes, the helper never loads half of
# each generation, and a node's constrained CA rolls over under the new root.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
CA=$T/etc/ca
mkdir -p "$T/certs" "$T/keys"
write_manifest "  - id: db
    cert: $T/certs/db.crt
    key: $T/keys/db.key
    names: {dns: [db.example]}"
start_bus || exit 1
start_certmonger || exit 1
gc add-ca -c ctrcert -e "$SUBMIT --config $CONF" >/dev/null
ncerts() { grep -c 'BEGIN CERTIFICATE' "$1"; }
cas_field() { grep -h "^$1=" "$(grep -l '^id=ctrcert$' "$T"/cm/cas/*)" | cut -d= -f2-; }
# request ID NAME: an EC key and certificate for NAME through ctrcert, the CA's roots in $T/roots-ID.pem.
request() {
        gc request -w -c ctrcert -T "$1" -I "$1" -G EC -g 256 -N "CN=$2" -D "$2" -f "$T/certs/$1.crt" \
                -k "$T/keys/$1.key" -F "$T/roots-$1.pem" >/dev/null 2>&1
}

request web web.example
old_root=$(fp "$CA/root.crt") old_ca=$(fp "$CA/ca.crt")
cp "$T/certs/web.crt" "$T/web-gen1.crt"
check "a first-generation leaf is issued" openssl verify -CAfile "$CA/chain.pem" "$T/web-gen1.crt"

out=$(ctl ca rollover "$CA" 2>&1)
check_eq "ca rollover succeeds" 0 "$?"
check_contains "… naming the generation and the next steps" "generation 2 (ctrcert Root CA G2)" "$out"
check_contains "… and the end of the overlap" "ctrcertctl ca rollover --finish $CA" "$out"
check_eq "the previous root is kept in previous/" "$old_root" "$(fp "$CA/previous/root.crt")"
check_eq "… and the previous issuing CA" "$old_ca" "$(fp "$CA/previous/ca.crt")"
check "… with its key private (0600), for its CRL" test "$(stat -c %a "$CA/previous/private/ca.key")" = 600
check "… but not the previous root key (nothing is signed by that root again)" test ! -e "$CA/previous/private/root.key"
check_contains "the new root is the second generation" "CN=ctrcert Root CA G2" \
        "$(openssl x509 -in "$CA/root.crt" -noout -subject -nameopt compat)"
check "the new issuing CA chains to the new root" openssl verify -CAfile "$CA/root.crt" "$CA/ca.crt"
check "the new issuing key matches its certificate" test \
        "$(openssl pkey -in "$CA/private/ca.key" -pubout)" = "$(openssl x509 -in "$CA/ca.crt" -noout -pubkey)"
check_eq "ca-bundle.pem holds both generations (2 roots + 2 issuing CAs)" 4 "$(ncerts "$CA/ca-bundle.pem")"
check_contains "ca show reports the rollover in progress" "rollover in progress" "$(ctl ca show "$CA")"
out=$(ctl ca rollover "$CA" 2>&1)
check_eq "a second rollover during the overlap is refused" 1 "$?"
check_contains "… saying how to end the first" "is in progress ($CA/previous exists): end it first" "$out"

run_helper FETCH-ROOTS
check_contains "FETCH-ROOTS returns the new root" "ctrcert Root CA G2" "$(head -n 1 <<<"$OUT")"
check_eq "… and the previous root as another trusted root" 2 "$(grep -c 'BEGIN CERTIFICATE' <<<"$OUT")"
printf '%s\n' "$OUT" >"$T/fetched.pem" # the trust certmonger is given
gc refresh-ca -c ctrcert >/dev/null 2>&1
for _ in $(seq 100); do [ "$(cas_field ca_other_root_certs)" = "ctrcert Root CA" ] && break; sleep 0.05; done
check_eq "certmonger records the new root as the CA's root" "ctrcert Root CA G2" "$(cas_field ca_root_certs)"
check_eq "… and the previous one as another trusted root" "ctrcert Root CA" "$(cas_field ca_other_root_certs)"

request db db.example
check_eq "the next request is issued by the new CA" "$(openssl x509 -in "$CA/ca.crt" -noout -subject)" \
        "$(openssl x509 -in "$T/certs/db.crt" -noout -issuer | sed 's/^issuer/subject/')"
check_eq "getcert -F wrote the new root" "$(fp "$CA/root.crt")" "$(fp "$T/roots-db.pem")"
check "during the overlap the old leaf verifies against the roots FETCH-ROOTS gave" \
        openssl verify -CAfile "$T/fetched.pem" -untrusted "$CA/previous/ca.crt" "$T/web-gen1.crt"
check "… and so does the new one" openssl verify -CAfile "$T/fetched.pem" -untrusted "$CA/ca.crt" "$T/certs/db.crt"
check "… and both against ca-bundle.pem (agent.ca_bundle)" \
        openssl verify -CAfile "$CA/ca-bundle.pem" "$T/web-gen1.crt" "$T/certs/db.crt"
check_eq "the index records which CA signed each (old)" "$old_ca" \
        "$(grep -i "$(serial "$T/web-gen1.crt")" "$T/state/ca/index" | cut -f7 | tr -d : | tr A-F a-f)"
check_eq "… (new)" "$(fp "$CA/ca.crt")" \
        "$(grep -i "$(serial "$T/certs/db.crt")" "$T/state/ca/index" | cut -f7 | tr -d : | tr A-F a-f)"

out=$(ctl ca rollover --finish "$CA" 2>&1)
check_eq "--finish is refused while a leaf of the previous CA is valid" 1 "$?"
check_contains "… listing it" "serial $(serial "$T/web-gen1.crt")" "$out"
check_contains "… and what to do" "renew them (getcert resubmit) or revoke them" "$out"

out=$(ctl revoke "$(serial "$T/web-gen1.crt")" 2>&1)
check_contains "revoking the old leaf during the overlap" "with the previous CA's CRL (1 revoked) after it" "$out"
check_eq "crl.pem holds both CAs' CRLs" 2 "$(grep -c 'BEGIN X509 CRL' "$T/state/ca/crl.pem")"
verify() { openssl verify -crl_check -CAfile "$T/fetched.pem" -untrusted "$CA/ca-bundle.pem" -CRLfile "$T/state/ca/crl.pem" "$1" 2>&1; }
check_contains "openssl verify -crl_check rejects the revoked old leaf" "certificate revoked" "$(verify "$T/web-gen1.crt")"
check_contains "… and accepts the new one (its CA's CRL is there too)" ": OK" "$(verify "$T/certs/db.crt")"

gc resubmit -i web >/dev/null
for _ in $(seq 200); do [ "$(serial "$T/certs/web.crt")" != "$(serial "$T/web-gen1.crt")" ] && break; sleep 0.05; done
check "getcert resubmit renews the old leaf under the new CA" \
        openssl verify -CAfile "$CA/root.crt" -untrusted "$CA/ca.crt" "$T/certs/web.crt"
out=$(ctl ca rollover --finish "$CA" 2>&1)
check_eq "--finish succeeds once nothing valid depends on the previous CA" 0 "$?"
check "… removing previous/" test ! -e "$CA/previous"
check_eq "… and its certificates from ca-bundle.pem" 2 "$(ncerts "$CA/ca-bundle.pem")"
run_helper FETCH-ROOTS
check_eq "FETCH-ROOTS is back to one root" 1 "$(grep -c 'BEGIN CERTIFICATE' <<<"$OUT")"
check_contains "--finish without a rollover is an error" "no rollover of $CA is in progress" \
        "$(ctl ca rollover --finish "$CA" 2>&1)"

printf '2020-01-01T00:00:00Z\t0A1B2C\t2099-01-01T00:00:00Z\tlegacy\tCN=old\tabababababababababababababababababababababababababababababababab\n' >>"$T/state/ca/index"
ctl ca rollover "$CA" >/dev/null
out=$(ctl ca rollover --finish "$CA" 2>&1)
check_contains "a record older than the issuer field counts as the previous CA's" "serial 0A1B2C" "$out"
out=$(ctl ca rollover --finish --force "$CA" 2>&1)
check_contains "--finish --force retires it anyway, saying so" "forced: certificates it signed remain valid" "$out"

# The helper loads the CA under a shared lock; the swap holds it exclusively.
flock -x "$CA" -c 'sleep 3' &
holder=$!
sleep 0.3
timeout 1 env CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")" \
        "$SUBMIT" --config "$CONF" >/dev/null 2>&1
check_eq "the helper waits while the CA directory is locked for a swap" 124 "$?"
wait "$holder"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")"
check_eq "… and issues once it is released" 0 "$RC"

# A crash after previous/ was linked and before the staged files were renamed.
cp -a "$CA" "$T/ca2"
"$CTL" ca rollover "$T/ca2" >/dev/null
mkdir -p "$T/crash/private"
cp -a "$CA/." "$T/crash/" && mkdir -p "$T/crash/previous/private"
for f in ca.crt chain.pem root.crt private/ca.key; do cp -a "$CA/$f" "$T/crash/previous/$f"; done
for f in ca.crt chain.pem root.crt private/ca.key private/root.key; do cp -a "$T/ca2/$f" "$T/crash/$f.next"; done
out=$("$CTL" ca rollover "$T/crash" 2>&1)
check_contains "a rollover interrupted mid-swap is completed by the next run" "completed the rollover" "$out"
check_eq "… with the staged generation in place" "$(fp "$T/ca2/ca.crt")" "$(fp "$T/crash/ca.crt")"
check "… and nothing left staged" bash -c "! ls '$T/crash' '$T/crash/private' | grep -q '\.next'"

# A fleet: the root rolls over, then each node's constrained CA under the new root.
"$CTL" ca init "$T/fleet" >/dev/null
"$CTL" ca issue-node --root "$T/fleet" --node n1 --permit-dns .n1.example --out "$T/n1" >/dev/null
node_old=$(fp "$T/n1/ca.crt")
"$CTL" ca rollover "$T/fleet" >/dev/null
out=$("$CTL" ca issue-node --root "$T/fleet" --node n1 --permit-dns .n1.example --out "$T/n1" 2>&1)
check_contains "issue-node onto an existing CA suggests --rollover" "use --rollover to make the next one" "$out"
out=$("$CTL" ca issue-node --rollover --root "$T/fleet" --node n1 --permit-dns .n1.example --out "$T/n1" 2>&1)
check_eq "issue-node --rollover makes the node's next CA" 0 "$?"
check_eq "… keeping the previous node CA" "$node_old" "$(fp "$T/n1/previous/ca.crt")"
check "… the new node CA chains to the new root" openssl verify -CAfile "$T/fleet/root.crt" "$T/n1/ca.crt"
check_contains "… with its name constraints" "Permitted" "$(openssl x509 -in "$T/n1/ca.crt" -noout -ext nameConstraints)"
check "… and no root key on the node" test ! -e "$T/n1/private/root.key"
check_contains "a root directory is not rolled as a node" "holds a root key" \
        "$("$CTL" ca issue-node --rollover --root "$T/fleet" --node n1 --permit-dns .n1.example --out "$T/fleet" 2>&1)"
check_contains "a node directory is not rolled as a root" "has no private/root.key" "$("$CTL" ca rollover "$T/n1" 2>&1)"

# ca install: a CA made elsewhere (what the Ansible role stages) put in place as one change.
stage() { # stage DIR: DIR's generations without a root key, as the role copies them
        rm -rf "$T/stage" && mkdir -p "$T/stage/private"
        for f in ca.crt chain.pem root.crt private/ca.key; do cp -a "$1/$f" "$T/stage/$f"; done
        if [ -d "$1/previous" ]; then
                mkdir -p "$T/stage/previous/private"
                for f in ca.crt chain.pem root.crt private/ca.key; do cp -a "$1/previous/$f" "$T/stage/previous/$f"; done
        fi
}
stage "$T/n1"
out=$("$CTL" ca install "$T/stage" "$T/inst" 2>&1)
check_contains "ca install places a node's CA in the middle of a rollover" "installed" "$out"
for f in ca.crt private/ca.key previous/ca.crt previous/private/ca.key; do
        check "… $f as made" cmp -s "$T/n1/$f" "$T/inst/$f"
done
check_eq "… the keys private" "600 600" "$(stat -c %a "$T/inst/private/ca.key" "$T/inst/previous/private/ca.key" | tr '\n' ' ' | sed 's/ $//')"
check_eq "… ca-bundle.pem with both generations' CAs" 4 "$(grep -c 'BEGIN CERTIFICATE' "$T/inst/ca-bundle.pem")"
check_contains "installing the same again changes nothing" "unchanged" "$("$CTL" ca install "$T/stage" "$T/inst" 2>&1)"
sed "s|dir: $CA|dir: $T/inst|" "$CONF" >"$T/inst.yaml"
check "FETCH-ROOTS gives both roots from the installed CA" bash -c "cd / && env -i CERTMONGER_OPERATION=FETCH-ROOTS '$SUBMIT' --config '$T/inst.yaml' | grep -c 'BEGIN CERTIFICATE' | grep -qx 2"
"$CTL" ca rollover --finish --force "$T/fleet" >/dev/null
rm -rf "$T/n1/previous"
stage "$T/n1"
"$CTL" ca install "$T/stage" "$T/inst" >/dev/null
check "a finished rollover installed removes previous/" test ! -e "$T/inst/previous"
cp "$T/ca2/private/ca.key" "$T/stage/private/ca.key"
out=$("$CTL" ca install "$T/stage" "$T/inst" 2>&1)
check_contains "a key that is not the certificate's is refused, naming it" "stage/private/ca.key: not the key of ca.crt" "$out"
check "… and the installed CA is untouched" cmp -s "$T/n1/private/ca.key" "$T/inst/private/ca.key"
stage "$T/n1"
cp "$T/fleet/private/root.key" "$T/stage/private/root.key"
check_contains "a root key is never installed" "a root key is not installed" "$("$CTL" ca install "$T/stage" "$T/inst" 2>&1)"
rm "$T/stage/private/root.key"
check_contains "nor installed over" "holds the root key" "$("$CTL" ca install "$T/stage" "$T/fleet" 2>&1)"

# SELinux labels of the directories ctrcertctl makes, as selinux/ctrcert.fc lays them out. This
# kernel runs without SELinux, but stores security.selinux like any attribute: enough to see
# which label each directory is given (the policy's enforcement is tests/selinux.sh's).
selabel() { python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "security.selinux").rstrip(b"\0").decode())' "$1" 2>&1; }
mkdir -p "$T/etc-ctrcert"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "security.selinux", b"system_u:object_r:ctrcert_conf_t:s0\0")' "$T/etc-ctrcert"
"$CTL" ca init "$T/etc-ctrcert/ca" >/dev/null
check_eq "ca init labels the CA directory for CA certificates" system_u:object_r:ctrcert_ca_cert_t:s0 "$(selabel "$T/etc-ctrcert/ca")"
check_eq "… and private/ for the CA key, not the configuration's type" system_u:object_r:ctrcert_ca_key_t:s0 \
        "$(selabel "$T/etc-ctrcert/ca/private")"
"$CTL" ca rollover "$T/etc-ctrcert/ca" >/dev/null
check_eq "ca rollover: previous/private gets the CA key's label" system_u:object_r:ctrcert_ca_key_t:s0 \
        "$(selabel "$T/etc-ctrcert/ca/previous/private")"
stage "$T/n1"
"$CTL" ca rollover --finish --force "$T/etc-ctrcert/ca" >/dev/null
"$CTL" ca install "$T/stage" "$T/etc-ctrcert/node" >/dev/null
check_eq "ca install: a new CA directory's private/ too" system_u:object_r:ctrcert_ca_key_t:s0 \
        "$(selabel "$T/etc-ctrcert/node/private")"
finish
