#!/bin/bash
# valgrind memcheck over the helper's paths (issue, reject, roots, bad CA) and
# the CLI's manifest check: no invalid access, no definite or indirect leak.
TOP=${1:?usage: valgrind.sh SRCDIR BUILDDIR}
BUILD=${2:?usage: valgrind.sh SRCDIR BUILDDIR}
export BUILD
. "$TOP/tests/integration/lib.sh"

VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
        --show-leak-kinds=definite,indirect)

make_ca_and_config || exit 1
write_manifest

# vg NAME EXPECTED_EXIT VAR=value… : the helper under memcheck in certmonger's environment.
vg() {
        local name=$1 want=$2 rc
        shift 2
        (cd / && env -i PATH=/usr/bin:/bin "$@" "${VG[@]}" "$SUBMIT" --config "$CONF" >/dev/null 2>"$T/vg.err")
        rc=$?
        if [ "$rc" -eq "$want" ]; then ok "valgrind: $name"; else not_ok "valgrind: $name (exit $rc)"; sed 's/^/#   /' "$T/vg.err" | head -20; fi
}
vg "SUBMIT issues" 0 CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")"
vg "SUBMIT rejects" 2 CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-uri.pem")"
vg "SUBMIT garbage" 2 CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR=garbage
vg "FETCH-ROOTS" 0 CERTMONGER_OPERATION=FETCH-ROOTS
vg "GET-SUPPORTED-TEMPLATES" 0 CERTMONGER_OPERATION=GET-SUPPORTED-TEMPLATES
chmod 0644 "$T/etc/ca/private/ca.key"
vg "unsafe CA key" 4 CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")"
chmod 0600 "$T/etc/ca/private/ca.key"
chmod g+w "$CONF"
vg "a config the group can write" 4 CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")"
chmod g-w "$CONF"
printf 'x\0y\n' >>"$T/state/ca/index"
"${VG[@]}" "$CTL" --config "$CONF" index check >/dev/null 2>"$T/vg.err"
rc=$?
if [ "$rc" -eq 1 ]; then ok "valgrind: index check with a damaged line"; else not_ok "valgrind: index check (exit $rc)"; head -20 "$T/vg.err"; fi

printf 'version: 1\ncertificates:\n  - {id: a, cert: rel, key: /k, names: {dns: [..]}, bogus: 1}\n' >"$T/bad.yaml"
"${VG[@]}" "$CTL" manifest check "$T/bad.yaml" >/dev/null 2>"$T/vg.err"
rc=$?
if [ "$rc" -eq 1 ]; then ok "valgrind: manifest check with errors"; else not_ok "valgrind: manifest check (exit $rc)"; head -20 "$T/vg.err"; fi

finish
