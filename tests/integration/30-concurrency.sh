#!/bin/bash
# Many issuers at once: 32 concurrent SUBMITs give 32 distinct serials and 32
# intact index records; an index lock held too long gives certmonger's
# "poll later" (exit 5) instead of a hang or a lost record.
. "$(dirname "$0")/lib.sh"
N=32

make_ca_and_config || exit 1
write_manifest
CSR=$(cat "$DATA/csr-ec.pem")
export CONF SUBMIT CSR T

# N at once, each in certmonger's environment.
for i in $(seq "$N"); do
        (cd / && env -i PATH=/usr/bin:/bin CERTMONGER_OPERATION=SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$CSR" \
                "$SUBMIT" --config "$CONF" >"$T/out.$i" 2>/dev/null; echo $? >"$T/rc.$i") &
done
wait

codes=$(cat "$T"/rc.* | sort | uniq -c | awk '{print $1 "x" $2}')
check_eq "all $N concurrent SUBMITs exit 0" "${N}x0" "$codes"
for i in $(seq "$N"); do openssl x509 -in "$T/out.$i" -noout -serial; done | sort -u >"$T/serials"
check_eq "$N distinct serials" "$N" "$(wc -l <"$T/serials")"
check_eq "$N index records" "$N" "$(wc -l <"$T/state/ca/index")"
check_eq "every record has its 7 fields" "$N" "$(awk -F'\t' 'NF == 7' "$T/state/ca/index" | wc -l)"
check_eq "… the last one the issuing CA's SHA-256" "$(fp "$T/etc/ca/ca.crt")" \
        "$(cut -f7 "$T/state/ca/index" | sort -u | tr -d : | tr A-F a-f)"
cut -f2 "$T/state/ca/index" | sed 's/^/serial=/' | sort -u >"$T/index-serials"
check "the index holds exactly the printed serials" cmp -s "$T/serials" "$T/index-serials"
check_eq "the index is private (0600)" 600 "$(stat -c %a "$T/state/ca/index")"

# Someone holds the index lock: SUBMIT answers 5 with a delay and a cookie, records nothing.
# (A short lock_timeout only here: 32 SUBMITs at once on 2 cores, under ASan, may wait longer.)
sed -i 's/^  validity_days: 30$/  validity_days: 30\n  lock_timeout: 300ms/' "$CONF"
flock "$T/state/ca/index" sleep 1.5 &
holder=$!
sleep 0.3
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$CSR"
check_eq "a held index lock gives exit 5 (poll later)" 5 "$RC"
check_eq "exit 5 prints the delay, then a cookie" "30
ctrcert-retry" "$OUT"
check_eq "nothing was recorded while locked" "$N" "$(wc -l <"$T/state/ca/index")"
wait "$holder" # the lock holder ends by itself; nothing is left running

finish
