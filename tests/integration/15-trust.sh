#!/bin/bash
# What the helper trusts is checked like sshd's StrictModes: config, manifest, manifest.d and its
# fragments (and a link's target), the CA directory, private/, the CA key and state_dir must be
# root's and not writable by group or others, nor may any directory above them (a sticky one such
# as /tmp excepted); else exit 4 naming the file and the fix. The attacker is nobody (uid 65534).
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
write_manifest
mkdir -p "$T/etc/manifest.d"
chmod 0711 "$T" # nobody may pass through (as through /etc), not write
# The helper under a timeout: a FIFO used to hang it for good.
printf '#!/bin/sh\nexec timeout 20 %s "$@"\n' "$SUBMIT" >"$T/submit"
chmod 0755 "$T/submit"
SUBMIT=$T/submit
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
submit() { run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")"; }
lines() { wc -l <"$T/state/ca/index" 2>/dev/null || echo 0; }
# refused LABEL TEXT: the last SUBMIT ended with exit 4 and TEXT in its one line, issuing nothing.
refused() {
        check_eq "$1: exit 4" 4 "$RC"
        check_contains "… naming the file and the fix" "$2" "$OUT"
        check_eq "… one line" 1 "$(printf '%s\n' "$OUT" | wc -l)"
        check_eq "… nothing issued" "$issued" "$(lines)"
}

submit
check_eq "the sandbox (mktemp -d under the sticky /tmp) is trusted" 0 "$RC"
issued=$(lines)

# ---- config ----
chmod g+w "$CONF"
submit
refused "a group-writable config" "config $CONF is not safe to trust: $CONF is writable by group or others (mode 0664; fix: chmod go-w $CONF)"
chmod g-w "$CONF"
chmod o+w "$T/etc"
submit
refused "a directory above the config that others can write" "$T/etc is writable by group or others"
chmod o-w "$T/etc"
chown 65534 "$CONF"
submit
refused "a config owned by nobody" "$CONF is owned by uid 65534, not root (fix: chown root $CONF)"
chown 0 "$CONF"

# ---- manifest and manifest.d ----
chmod 0777 "$T/etc/manifest.d"
check "nobody can plant a fragment in a manifest.d open to all" \
        as_nobody sh -c "printf 'version: 1\ncertificates: []\n' >'$T/etc/manifest.d/evil.yaml'"
submit
refused "a manifest.d writable by others" "manifest directory $T/etc/manifest.d is not safe to trust"
chmod 0755 "$T/etc/manifest.d"
submit
refused "a fragment owned by nobody (left behind)" "$T/etc/manifest.d/evil.yaml is owned by uid 65534"
rm -f "$T/etc/manifest.d/evil.yaml"
mkdir -m 0777 "$T/pub"
chmod 0777 "$T/pub"
printf 'version: 1\ncertificates: []\n' >"$T/pub/x.yaml"
ln -s "$T/pub/x.yaml" "$T/etc/manifest.d/x.yaml"
submit
refused "a fragment linked into a directory others can write" "$T/pub is writable by group or others"
rm -f "$T/etc/manifest.d/x.yaml"
chown 65534 "$T/etc/manifest.yaml"
submit
refused "a manifest owned by nobody" "$T/etc/manifest.yaml is owned by uid 65534"
chown 0 "$T/etc/manifest.yaml"

# ---- the CA ----
chmod g+w "$T/etc/ca"
submit
refused "a group-writable CA directory" "CA file $T/etc/ca is not safe to trust"
chmod g-w "$T/etc/ca"
chmod o+w "$T/etc/ca/private"
submit
refused "a private/ others can write" "$T/etc/ca/private is writable by group or others"
chmod o-w "$T/etc/ca/private"
chown 65534 "$T/etc/ca/private/ca.key"
submit
refused "a CA key owned by nobody (mode 0600)" "$T/etc/ca/private/ca.key is owned by uid 65534"
chown 0 "$T/etc/ca/private/ca.key"

# ---- the state directory ----
chmod o+w "$T/state/ca"
submit
refused "a state_dir/ca others can write" "state directory $T/state/ca is not safe to trust"
chmod o-w "$T/state/ca"
# state_dir in a sticky directory all may write (as under /tmp): nobody plants it as a link to theirs.
mkdir -m 1777 "$T/sticky"
chmod 1777 "$T/sticky"
sed -i "s|^state_dir: .*|state_dir: $T/sticky/state|" "$CONF"
as_nobody mkdir "$T/sticky/mine"
as_nobody ln -s "$T/sticky/mine" "$T/sticky/state"
submit
refused "a state_dir planted as nobody's link" "$T/sticky/state is owned by uid 65534"
check "… and nothing was written through it" test ! -e "$T/sticky/mine/ca"
sed -i "s|^state_dir: .*|state_dir: $T/state|" "$CONF"

submit
check_eq "every file safe again: issued" 0 "$RC"
issued=$(lines)

# ---- ctrcertctl ca init and ca show ----
mkdir -m 0777 "$T/ca2"
chmod 0777 "$T/ca2"
out=$("$CTL" ca init "$T/ca2" 2>&1)
check_eq "ca init into a root directory others can write: succeeds" 0 "$?"
check_contains "… saying it fixed the mode" "$T/ca2 was mode 0777, now 0755" "$out"
check_eq "… which is now 0755" 755 "$(stat -c %a "$T/ca2")"
as_nobody mkdir "$T/pub/ca3"
out=$("$CTL" ca init "$T/pub/ca3" 2>&1)
check_eq "ca init into a directory nobody owns: refused" 1 "$?"
check_contains "… naming the owner and the fix" "$T/pub/ca3 is owned by uid 65534" "$out"
check "… writing nothing" test ! -e "$T/pub/ca3/ca.crt"
out=$("$CTL" ca show "$T/ca2" 2>&1)
check_eq "ca show of a safe CA: exit 0" 0 "$?"
check_contains "… saying so" "ownership: $T/ca2, private/ and the key are root's" "$out"
chmod g+w "$T/ca2/private"
out=$("$CTL" ca show "$T/ca2" 2>&1)
check_eq "ca show of a CA whose private/ the group can write: exit 1" 1 "$?"
check_contains "… reporting it as unsafe" "UNSAFE: $T/ca2/private is writable by group or others" "$out"

# ---- FIFOs where a file is expected: refused at once, never waited on ----
mkfifo "$T/etc/manifest.d/fifo.yaml"
out=$(timeout 10 "$CTL" --config "$CONF" manifest check 2>&1)
check_eq "manifest check with a FIFO fragment: exit 1, not a hang" 1 "$?"
check_contains "… naming it" "$T/etc/manifest.d/fifo.yaml: error: cannot read: not a regular file" "$out"
submit
refused "the helper with a FIFO fragment" "$T/etc/manifest.d/fifo.yaml is not a regular file"
rm -f "$T/etc/manifest.d/fifo.yaml"
mv "$T/etc/ca/root.crt" "$T/root.crt.away"
mkfifo "$T/etc/ca/root.crt"
run_helper FETCH-ROOTS
check_eq "FETCH-ROOTS with a FIFO as root.crt: exit 4, not a hang" 4 "$RC"
rm -f "$T/etc/ca/root.crt"
mv "$T/root.crt.away" "$T/etc/ca/root.crt"
mv "$CONF" "$T/conf.away"
mkfifo "$CONF"
submit
check_eq "a FIFO as the config: exit 4, not a hang" 4 "$RC"
check_contains "… naming it" "$CONF is not a regular file" "$OUT"
rm -f "$CONF"
mv "$T/conf.away" "$CONF"

finish
