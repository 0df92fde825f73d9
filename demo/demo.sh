#!/bin/bash
# The quickstart demo: a real certmonger, in a sandbox of its own (private bus,
# private state under /tmp, nothing of the host's certmonger touched), issuing
# per-container certificates through ctrcert-submit and refusing a request for
# names the manifest does not declare.
set -u
BUILD=${1:?usage: demo.sh BUILDDIR}
SUBMIT="$BUILD/ctrcert-submit"
CTL="$BUILD/ctrcertctl"
. "$(dirname "$0")/../tests/sandbox.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }
fail() { echo "demo failed: $*" >&2; exit 1; }

say "Sandbox in $T: a private D-Bus and certmonger"
start_bus || fail "no bus"
start_certmonger || fail "certmonger did not start"
mkdir -p "$T/etc" "$T/pki/certs" "$T/pki/private"

say "One CA, made once, on purpose"
run "$CTL" ca init "$T/etc/ca" || fail "ca init"

cat >"$T/etc/ctrcert.yaml" <<EOF
ca:
  dir: $T/etc/ca
  validity_days: 90
state_dir: $T/state
manifest: $T/etc/manifest.yaml
EOF
cat >"$T/etc/manifest.yaml" <<EOF
version: 1
certificates:
  - id: rabbitmq
    cert: $T/pki/certs/rabbitmq.crt
    key: $T/pki/private/rabbitmq.key
    names: {dns: [ctrl-0.internalapi.example], ip: [172.17.1.10]}
    usage: [server, client]
    containers:
      - name: rabbitmq-bundle-podman-0
        action: exec
        exec: [rabbitmqctl, eval, "ssl:clear_pem_cache()."]
  - id: haproxy
    cert: $T/pki/certs/haproxy.crt
    key: $T/pki/private/haproxy.key
    names: {dns: [overcloud.example, ctrl-0.example]}
    containers:
      - name: haproxy-bundle-podman-0
        action: reload
EOF
say "The manifest: which names each certificate may carry, which container uses it"
sed 's/^/    /' "$T/etc/manifest.yaml"
run "$CTL" manifest check "$T/etc/manifest.yaml" || fail "manifest check"

say "Register ctrcert with certmonger"
run getcert add-ca -S -c ctrcert -e "$SUBMIT --config $T/etc/ctrcert.yaml" || fail "add-ca"

say "certmonger makes the keys on the host; ctrcert signs only what the manifest declares"
run getcert request -S -w -c ctrcert -T rabbitmq -I rabbitmq -G EC -g 256 \
        -N CN=ctrl-0.internalapi.example -D ctrl-0.internalapi.example -A 172.17.1.10 \
        -f "$T/pki/certs/rabbitmq.crt" -k "$T/pki/private/rabbitmq.key" >/dev/null
run getcert request -S -w -c ctrcert -T haproxy -I haproxy -G EC -g 256 \
        -N CN=overcloud.example -D overcloud.example -D ctrl-0.example \
        -f "$T/pki/certs/haproxy.crt" -k "$T/pki/private/haproxy.key" >/dev/null
for id in rabbitmq haproxy; do
        [ "$(request_field "$id" status)" = MONITORING ] || fail "$id was not issued: $(request_field "$id" ca-error)"
        printf '  %-9s %s  %s\n' "$id" "$(request_field "$id" status)" \
                "$(openssl x509 -in "$T/pki/certs/$id.crt" -noout -ext subjectAltName | tail -n 1 | sed 's/^ *//')"
done

say "A request for names not declared for its id is refused, with the reason"
run getcert request -S -w -c ctrcert -T haproxy -I sneaky -G EC -g 256 \
        -N CN=overcloud.example -D overcloud.example -D ctrl-0.internalapi.example \
        -f "$T/pki/certs/sneaky.crt" -k "$T/pki/private/sneaky.key" >/dev/null
status=$(request_field sneaky status)
printf '  sneaky    %s: %s\n' "$status" "$(request_field sneaky ca-error)"
[ "$status" = CA_REJECTED ] || fail "the undeclared request was not rejected"

say "Every issuance is in the index"
cut -f2-4 "$T/state/ca/index" | sed 's/^/  /'

say "Done: 2 certificates issued, 1 refused. The sandbox is removed on exit."
