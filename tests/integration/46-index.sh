#!/bin/bash
# The issuance index never loses a record silently: an append that fails half-way (a full file
# system) is cut off again, readers skip a damaged line with its number and read on, and
# `ctrcertctl index check` reports damage by line.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
write_manifest
mkdir -p "$T/pki"
# issue NAME: one certificate for "web" through the helper, saved as $T/pki/NAME.crt.
issue() {
        run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")"
        awk '/BEGIN/{n++} n==1' <<<"$OUT" >"$T/pki/$1.crt"
}
INDEX=$T/state/ca/index

# ---- a full file system ----
# The state directory on a tmpfs of 16 pages, unmounted (by path) at exit.
mkdir -p "$T/state"
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$T/state" || { echo "not ok - cannot mount a tmpfs"; exit 1; }
trap 'umount "$T/state" 2>/dev/null; cleanup' EXIT
issue first
check_eq "a first certificate is issued" 0 "$RC"
# Records copied from the first, each with a serial of its own, then one whose subject pads the
# index to 100 bytes short of a page: the next record (~300 bytes) must cross into a page the full
# tmpfs cannot give, and the write stops half-way.
line=$(head -1 "$INDEX")
i=0
while [ $(($(stat -c %s "$INDEX") + 2 * ${#line} + 2)) -le 3996 ]; do
        i=$((i + 1))
        awk -F'\t' -v OFS='\t' -v s="$(printf 'AB%038X' "$i")" '{ $2 = s; print }' <<<"$line" >>"$INDEX"
done
awk -F'\t' -v OFS='\t' -v n=$((3996 - $(stat -c %s "$INDEX") - 1)) \
        '{ $2 = "ABFFFF"; p = ""; while (length(p) < n - (length($0) - length($5))) p = p "x"; $5 = p; print }' <<<"$line" >>"$INDEX"
check_eq "the index is padded to 100 bytes short of a page" 3996 "$(stat -c %s "$INDEX")"
before=$(stat -c %s "$INDEX")
dd if=/dev/zero of="$T/state/filler" bs=4k 2>/dev/null
issue lost
check_eq "an issuance on a full file system fails (exit 4)" 4 "$RC"
check_contains "… saying it cannot record it" "cannot record the issuance" "$OUT"
check_eq "… and leaves the index as it was, no partial line" "$before" "$(stat -c %s "$INDEX")"
rm -f "$T/state/filler"
issue after
check_eq "with space again a certificate is issued" 0 "$RC"
s_after=$(serial "$T/pki/after.crt")
check_eq "… its record is a line of its own" 1 "$(grep -c "	$s_after	" "$INDEX")"
out=$(ctl revoke "$s_after" 2>&1)
check_eq "… that revoke finds (it used to say no such certificate)" 0 "$?"
out=$(ctl index check 2>&1)
check_eq "index check finds no damage" 0 "$?"
check_contains "… and says so" "no damage" "$out"
# A line a crash left unfinished (no newline): the next record starts on a line of its own.
printf '2026-01-01T00:00:00Z\tDEAD' >>"$INDEX"
n=$(wc -l <"$INDEX")
issue crashed
check_eq "after a line left unfinished by a crash a certificate is issued" 0 "$RC"
s_crashed=$(serial "$T/pki/crashed.crt")
check_eq "… its record is a whole line" "$s_crashed" "$(tail -1 "$INDEX" | cut -f2)"
out=$(ctl index check 2>&1)
check_contains "… and index check names the unfinished line" "$INDEX:$((n + 1)): has the wrong number of fields" "$out"
umount "$T/state"
trap cleanup EXIT
check "the tmpfs is gone" test ! -e "$INDEX"

# ---- damaged lines: readers report them and read on ----
for n in $(seq 1 8); do issue "c$n"; done
check_eq "eight more certificates are issued" 8 "$(wc -l <"$INDEX")"
# A NUL byte on line 3, two fields missing on line 5.
perl -i -pe 's/\t/\t\0/ if $. == 3; s/\t[^\t\n]*\t[^\t\n]*$// if $. == 5' "$INDEX"
check "… line 3 now holds a NUL byte" grep -qaP '\x00' "$INDEX"
out=$(ctl revoke --id web 2>&1)
check_eq "revoke --id goes on past the damaged lines" 0 "$?"
check_contains "… warning about line 3 by number" "$INDEX:3: contains a NUL byte" "$out"
check_contains "… and line 5" "$INDEX:5: " "$out"
check_eq "… revoking the 6 good ones (it used to stop at the NUL: 2)" 6 "$(wc -l <"$T/state/ca/revoked")"
out=$(ctl crl 2>&1)
check_eq "crl reads past them too" 0 "$?"
check_contains "… and lists the 6" "CRL 2 with 6 revoked" "$out"

# ---- index check ----
out=$(ctl index check 2>&1)
check_eq "index check fails on a damaged index (exit 1)" 1 "$?"
check_contains "… naming line 3" "$INDEX:3: contains a NUL byte" "$out"
check_contains "… and line 5" "$INDEX:5: has the wrong number of fields" "$out"
check_contains "… and counting" "2 problems" "$out"
perl -i -ne 'print unless $. == 3 || $. == 5' "$INDEX"
check_eq "index check passes once the lines are gone" 0 "$(ctl index check >/dev/null 2>&1; echo $?)"
head -1 "$INDEX" >>"$INDEX"
out=$(ctl index check 2>&1)
check_contains "index check reports a serial recorded twice, with both lines" \
        "$INDEX:$(wc -l <"$INDEX"): serial $(head -1 "$INDEX" | cut -f2) was recorded before, at line 1" "$out"
sed -i '$d' "$INDEX"
awk -F'\t' -v OFS='\t' 'NR == 1 { $7 = "0000000000000000000000000000000000000000000000000000000000000000" } { print }' \
        "$INDEX" >"$T/index.new" && cat "$T/index.new" >"$INDEX"
out=$(ctl index check 2>&1)
check_contains "index check reports an issuer that is no CA generation" \
        "$INDEX:1: serial $(head -1 "$INDEX" | cut -f2) (still valid) names an issuer that is not a CA generation" "$out"
sed -i 1d "$INDEX"
out=$(ctl index check 2>&1)
check_contains "index check reports a revoked serial without a record" "has no record in $INDEX" "$out"
check_eq "… exit 1" 1 "$(ctl index check >/dev/null 2>&1; echo $?)"

finish
