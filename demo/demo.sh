#!/bin/bash
# The quickstart demo, in a sandbox of its own (private bus, private certmonger
# state and private podman store under /tmp: nothing of the host's certmonger,
# bus or podman is touched): per-container certificates issued through
# ctrcert-submit, a request for undeclared names refused, and a renewal that
# restarts only the container that uses the renewed certificate.
set -u
BUILD=${1:?usage: demo.sh BUILDDIR}
SUBMIT="$BUILD/ctrcert-submit"
CTL="$BUILD/ctrcertctl"
AGENT="$BUILD/ctrcert-agent"
. "$(dirname "$0")/../tests/sandbox.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }
fail() { echo "demo failed: $*" >&2; exit 1; }

say "Sandbox in $T: a private D-Bus, certmonger and podman store"
start_bus || fail "no bus"
start_certmonger || fail "certmonger did not start"
start_podman || fail "podman cannot build the demo image"
mkdir -p "$T/etc" "$T/pki/rabbitmq/certs" "$T/pki/rabbitmq/private" "$T/pki/haproxy/certs" "$T/pki/haproxy/private"

say "One CA, made once, on purpose"
run "$CTL" ca init "$T/etc/ca" || fail "ca init"

cat >"$T/etc/ctrcert.yaml" <<EOF
ca:
  dir: $T/etc/ca
  validity_days: 90
state_dir: $T/state
manifest: $T/etc/manifest.yaml
agent:
  debounce: 1s
  podman_socket: ""   # the sandbox's podman through its CLI; never the host's API socket
  ca_bundle: $T/etc/ca/chain.pem
EOF
cat >"$T/etc/manifest.yaml" <<EOF
version: 1
certificates:
  - id: rabbitmq
    cert: $T/pki/rabbitmq/certs/rabbitmq.crt
    key: $T/pki/rabbitmq/private/rabbitmq.key
    names: {dns: [ctrl-0.internalapi.example], ip: [172.17.1.10]}
    usage: [server, client]
    containers:
      - name: rabbitmq
        action: restart
  - id: haproxy
    cert: $T/pki/haproxy/certs/haproxy.crt
    key: $T/pki/haproxy/private/haproxy.key
    names: {dns: [overcloud.example, ctrl-0.example]}
    containers:
      - name: haproxy
        action: restart
EOF
say "The manifest: which names each certificate may carry, which container uses it"
sed 's/^/    /' "$T/etc/manifest.yaml"
run "$CTL" manifest check "$T/etc/manifest.yaml" || fail "manifest check"

say "Register ctrcert with certmonger"
run getcert add-ca -S -c ctrcert -e "$SUBMIT --config $T/etc/ctrcert.yaml" || fail "add-ca"

say "certmonger makes the keys on the host; ctrcert signs only what the manifest declares"
run getcert request -S -w -c ctrcert -T rabbitmq -I rabbitmq -G EC -g 256 \
        -N CN=ctrl-0.internalapi.example -D ctrl-0.internalapi.example -A 172.17.1.10 \
        -f "$T/pki/rabbitmq/certs/rabbitmq.crt" -k "$T/pki/rabbitmq/private/rabbitmq.key" >/dev/null
run getcert request -S -w -c ctrcert -T haproxy -I haproxy -G EC -g 256 \
        -N CN=overcloud.example -D overcloud.example -D ctrl-0.example \
        -f "$T/pki/haproxy/certs/haproxy.crt" -k "$T/pki/haproxy/private/haproxy.key" >/dev/null
for id in rabbitmq haproxy; do
        [ "$(request_field "$id" status)" = MONITORING ] || fail "$id was not issued: $(request_field "$id" ca-error)"
        printf '  %-9s %s  %s\n' "$id" "$(request_field "$id" status)" \
                "$(openssl x509 -in "$T/pki/$id/certs/$id.crt" -noout -ext subjectAltName | tail -n 1 | sed 's/^ *//')"
done

say "A request for names not declared for its id is refused, with the reason"
run getcert request -S -w -c ctrcert -T haproxy -I sneaky -G EC -g 256 \
        -N CN=overcloud.example -D overcloud.example -D ctrl-0.internalapi.example \
        -f "$T/pki/haproxy/certs/sneaky.crt" -k "$T/pki/haproxy/private/sneaky.key" >/dev/null
status=$(request_field sneaky status)
printf '  sneaky    %s: %s\n' "$status" "$(request_field sneaky ca-error)"
[ "$status" = CA_REJECTED ] || fail "the undeclared request was not rejected"

say "Every issuance is in the index"
cut -f2-4 "$T/state/ca/index" | sed 's/^/  /'

say "Two containers serve TLS from their own certificates; the agent watches certmonger"
run_tls_container rabbitmq 15671 "$T/pki/rabbitmq/certs/rabbitmq.crt" "$T/pki/rabbitmq/private/rabbitmq.key"
run_tls_container haproxy 15443 "$T/pki/haproxy/certs/haproxy.crt" "$T/pki/haproxy/private/haproxy.key"
"$AGENT" --config "$T/etc/ctrcert.yaml" --bus system >"$T/agent.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 && break; sleep 0.05; done
bus_has_owner org.ctrcert.Agent1 || fail "the agent did not start: $(cat "$T/agent.log")"
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
wait_serial 15671 "$(serial "$T/pki/rabbitmq/certs/rabbitmq.crt")" || fail "rabbitmq does not serve its certificate"
wait_serial 15443 "$(serial "$T/pki/haproxy/certs/haproxy.crt")" || fail "haproxy does not serve its certificate"
run "$CTL" status

say "certmonger renews rabbitmq's certificate: only the rabbitmq container restarts"
r0=$(started_at rabbitmq) h0=$(started_at haproxy) old=$(served_serial 15671)
run getcert resubmit -S -i rabbitmq >/dev/null
new=""
for _ in $(seq 100); do
        new=$(serial "$T/pki/rabbitmq/certs/rabbitmq.crt")
        [ "$new" != "$old" ] && wait_serial 15671 "$new" && break
        sleep 0.1
done
printf '  rabbitmq  started %s -> %s, serves serial %s -> %s\n' "${r0:11:12}" "$(started_at rabbitmq | cut -c12-23)" "$old" "$(served_serial 15671)"
printf '  haproxy   started %s -> %s (untouched)\n' "${h0:11:12}" "$(started_at haproxy | cut -c12-23)"
[ "$(served_serial 15671)" = "$new" ] && [ "$new" != "$old" ] || fail "rabbitmq does not serve the renewed certificate"
[ "$(started_at haproxy)" = "$h0" ] || fail "haproxy was restarted"
run "$CTL" status | tail -n 3

say "Done: 2 certificates issued, 1 refused, 1 renewal that restarted 1 of 2 containers. The sandbox is removed on exit."
