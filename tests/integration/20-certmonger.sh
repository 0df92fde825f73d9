#!/bin/bash
# A real, isolated certmonger (private bus, private state) issuing through
# ctrcert-submit: per-id certificates with the declared names, rejection of
# undeclared names with the reason in ca-error, renewal with a new serial,
# and CA_UNCONFIGURED when the CA is gone.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
mkdir -p "$T/certs" "$T/keys"
cat >"$T/etc/manifest.yaml" <<EOM
version: 1
certificates:
  - id: web
    cert: $T/certs/web.crt
    key: $T/keys/web.key
    names: {dns: [web.example, www.example]}
  - id: db
    cert: $T/certs/db.crt
    key: $T/keys/db.key
    names: {dns: [db.example], ip: [192.0.2.20]}
    usage: [server, client]
EOM
start_bus || exit 1
start_certmonger || exit 1

out=$(gc add-ca -c ctrcert -e "$SUBMIT --config $CONF")
check_contains "getcert add-ca registers the helper" 'New CA "ctrcert" added' "$out"
for _ in $(seq 100); do gc list-cas -c ctrcert | grep -q 'ctrcert Root CA' && break; sleep 0.05; done
cas=$(cat "$T"/cm/cas/*)
check_contains "certmonger recorded the root from FETCH-ROOTS" "ca_root_certs=ctrcert Root CA" "$cas"
check_contains "certmonger learned the ids as profiles" "ca_profiles=web,db" "$cas"

# request ID PROFILE CN NAME… : an EC P-256 request through ctrcert for profile NAME.
request() {
        local id=$1 profile=$2 cn=$3 args=() d
        shift 3
        for d in "$@"; do
                case $d in
                [0-9]*.[0-9]*) args+=(-A "$d") ;; # an address goes in an IP SAN (-A), not a DNS one
                *) args+=(-D "$d") ;;
                esac
        done
        gc request -w -c ctrcert -T "$profile" -I "$id" -G EC -g 256 -N "CN=$cn" "${args[@]}" \
                -f "$T/certs/$id.crt" -k "$T/keys/$id.key" -F "$T/roots-$id.pem" >/dev/null 2>&1
}

request web web web.example web.example www.example
check_eq "request -T web ends MONITORING" MONITORING "$(request_field web status)"
check "the saved certificate chains to the root via the issuing CA" \
        openssl verify -CAfile "$T/etc/ca/root.crt" -untrusted "$T/etc/ca/ca.crt" "$T/certs/web.crt"
check_contains "the saved certificate carries the requested SANs" "DNS:web.example, DNS:www.example" \
        "$(openssl x509 -in "$T/certs/web.crt" -noout -ext subjectAltName)"
check_eq "getcert -F received the root" \
        "$(openssl x509 -in "$T/etc/ca/root.crt" -noout -fingerprint -sha256)" \
        "$(openssl x509 -in "$T/roots-web.pem" -noout -fingerprint -sha256)"
check "the key never left the host (certmonger wrote it, the index holds no key)" \
        bash -c "test -s '$T/keys/web.key' && ! grep -q 'PRIVATE' '$T/state/ca/index'"
path=$(dbus-send --system --print-reply --dest=org.fedorahosted.certmonger /org/fedorahosted/certmonger \
        org.fedorahosted.certmonger.find_request_by_nickname string:web | sed -n 's/.*object path "\(.*\)"/\1/p')
chain=$(dbus-send --system --print-reply --dest=org.fedorahosted.certmonger "$path" \
        org.freedesktop.DBus.Properties.Get string:org.fedorahosted.certmonger.request string:cert-chain)
check_eq "the request's cert-chain holds the issuing CA and the root" 2 "$(echo "$chain" | grep -c 'BEGIN CERTIFICATE')"

request db db db.example db.example 192.0.2.20
check_eq "a second id is issued independently" MONITORING "$(request_field db status)"
check_contains "the db certificate has serverAuth and clientAuth" "TLS Web Server Authentication, TLS Web Client Authentication" \
        "$(openssl x509 -in "$T/certs/db.crt" -noout -ext extendedKeyUsage)"

# Undeclared names: CA_REJECTED, with our reason as ca-error.
request evil web web.example web.example db.example
check_eq "a request for undeclared names ends CA_REJECTED" CA_REJECTED "$(request_field evil status)"
check_contains "ca-error carries the helper's reason" "DNS name 'db.example' is not declared for id 'web'" \
        "$(request_field evil ca-error)"
check "no certificate was written for the rejected request" test ! -e "$T/certs/evil.crt"

# Renewal: resubmit gives a new serial for the same names.
old=$(openssl x509 -in "$T/certs/web.crt" -noout -serial)
gc resubmit -i web >/dev/null
for _ in $(seq 200); do
        new=$(openssl x509 -in "$T/certs/web.crt" -noout -serial 2>/dev/null)
        [ "$new" != "$old" ] && break
        sleep 0.05
done
check "getcert resubmit renews with a new serial" test "$new" != "$old"
wait_status web MONITORING >/dev/null
check_eq "after renewal the request is MONITORING" MONITORING "$(request_field web status)"

# No CA: a new request ends CA_UNCONFIGURED, naming what to do.
mv "$T/etc/ca" "$T/ca.away"
request noca web web.example web.example
check_eq "with the CA removed a new request ends CA_UNCONFIGURED" CA_UNCONFIGURED "$(request_field noca status)"
check_contains "ca-error says how to make the CA" "ctrcertctl ca init $T/etc/ca" "$(request_field noca ca-error)"
check "the helper did not create a CA" test ! -e "$T/etc/ca"

finish
