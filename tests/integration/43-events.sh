#!/bin/bash
# Security-relevant events reach the journal as one entry each with CTRCERT_* fields: the helper's
# issuances and refusals, ctrcertctl's CA changes, revocations and CRLs. The journal here is a
# datagram socket the test listens on (CTRCERT_JOURNAL_SOCKET), read as journald would.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
write_manifest
export CTRCERT_JOURNAL_SOCKET=$T/journal.sock
J=$T/journal.log
listen_notify "$CTRCERT_JOURNAL_SOCKET" "$J" || exit 1
# entry EVENT: the fields of the latest journal entry of that event, one per line.
entry() { awk -v e="CTRCERT_EVENT=$1" 'BEGIN { RS = "\n\n" } index($0, e) { last = $0 } END { print last }' "$J"; }
logged() { grep -q "CTRCERT_EVENT=$1" "$J"; }

"$CTL" ca init "$T/ca2" >/dev/null
check "ca init is an event" wait_until 30 logged ca-init
check_contains "… naming the directory" "CTRCERT_CA_DIR=$T/ca2" "$(entry ca-init)"
check_contains "… from ctrcertctl, at notice" "SYSLOG_IDENTIFIER=ctrcertctl" "$(entry ca-init)"

run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")" CTRCERT_JOURNAL_SOCKET="$J.none"
check_eq "(an issuance with no journal to take it still succeeds)" 0 "$RC"
run_helper SUBMIT CERTMONGER_CA_PROFILE=web CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")" CTRCERT_JOURNAL_SOCKET="$CTRCERT_JOURNAL_SOCKET"
check_eq "an issuance" 0 "$RC"
check "… is an event" wait_until 30 logged issued
serial=$(openssl x509 -noout -serial <<<"$OUT" | cut -d= -f2)
check_contains "… with the serial" "CTRCERT_SERIAL=$serial" "$(entry issued)"
check_contains "… the id" "CTRCERT_ID=web" "$(entry issued)"
run_helper SUBMIT CERTMONGER_CA_PROFILE=db CERTMONGER_CSR="$(cat "$DATA/csr-ec.pem")" CTRCERT_JOURNAL_SOCKET="$CTRCERT_JOURNAL_SOCKET"
check_eq "a refusal" 2 "$RC"
check "… is an event" wait_until 30 logged rejected
check_contains "… with the reason" "CTRCERT_REASON=unknown certificate id 'db'" "$(entry rejected)"
check_contains "… at warning" "PRIORITY=4" "$(entry rejected)"

"$CTL" --config "$CONF" revoke "$serial" --reason keyCompromise >/dev/null
check "a revocation is an event" wait_until 30 logged revoked
check_contains "… with serial and reason" "CTRCERT_REASON=keyCompromise" "$(entry revoked)"
check "… and so is the CRL it writes" logged crl
check_contains "… with its number" "CTRCERT_CRL_NUMBER=" "$(entry crl)"

"$CTL" --config "$CONF" ca rollover "$T/ca2" >/dev/null
check "a rollover is an event" wait_until 30 logged ca-rollover
check_contains "… with the new generation" "CTRCERT_GENERATION=2" "$(entry ca-rollover)"
"$CTL" --config "$CONF" ca rollover --finish "$T/ca2" >/dev/null
check "its end too" wait_until 30 logged ca-rollover-finish
check_eq "every entry has a message and a priority" "$(grep -c '^CTRCERT_EVENT=' "$J")" "$(grep -c '^PRIORITY=' "$J")"

finish
