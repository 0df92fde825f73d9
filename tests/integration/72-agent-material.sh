#!/bin/bash
# What a job puts in place and proves, against real certmonger, bus and podman: the bundle with
# its parts, owner and mode; files copied into a running container with theirs; a reload; TLS
# verification that the container serves the new certificate, or a failure saying what it still
# serves; then audit, status and the metrics file about it all.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
P=$T/pki
mkdir -p "$P/stale" "$T/out" "$T/metrics"
cat >>"$CONF" <<EOC
agent:
  debounce: 500ms
  podman_socket: "" # the CLI here; 75-podman-api tests the API
  ca_bundle: $T/etc/ca/chain.pem
  step_timeout: 20s
  retry_attempts: 3
  retry_initial: 200ms
  retry_max: 1s
  metrics: $T/metrics/ctrcert.prom
EOC
{
        echo "version: 1"
        echo "certificates:"
        entry web "$P"
        echo "    bundle: {path: $T/out/web.pem, parts: [cert, chain, key], owner: \"4242:4343\", mode: \"0640\"}"
        echo "    containers:"
        echo "      - name: c1"
        echo "        copy: [{from: cert, to: /certs/web.crt, owner: \"1234:1234\", mode: \"0644\"},"
        echo "               {from: key, to: /certs/web.key, mode: \"0600\"}, {from: bundle, to: /certs/web.pem}]"
        echo "        action: reload"
        echo "        verify: {tls: \"127.0.0.1:15011\", sni: web.example, timeout: 10s}"
        entry stale "$P/stale"
        echo "    containers: [{name: s1, action: none, verify: {tls: \"127.0.0.1:15012\", timeout: 2s}}]"
        entry fleet "$P"
        echo "    containers: [{name: k1, action: exec, exec: [sh, -c, 'true']}]"
} >"$T/etc/manifest.yaml"
start_world || exit 1
issue_cert web "$P/web.crt" "$P/web.key"
issue_cert stale "$P/stale/stale.crt" "$P/stale/stale.key"
issue_cert fleet "$P/fleet.crt" "$P/fleet.key"
check_eq "three certificates issued through certmonger" 3 "$(gc list | grep -c 'status: MONITORING')"
sleeper k1                  # bound to fleet, mounts nothing of it, copies nothing in
sleeper u1 -v "$P:/pki:ro" # mounts managed certificates, bound to none of them
run_tls_container s1 15012 "$P/stale/stale.crt" "$P/stale/stale.key"
# c1 gets its files only by copy: created, given the first ones, then started.
podman create --init --name c1 --network host localhost/ctrcert-tls tls-serve 15011 /certs/web.crt /certs/web.key >/dev/null
podman cp "$P/web.crt" c1:/certs/web.crt && podman cp "$P/web.key" c1:/certs/web.key && podman start c1 >/dev/null
check "c1 serves the first web certificate" wait_serial 15011 "$(serial "$P/web.crt")"
watch_jobs
check "the agent starts" start_agent

# ---- bundle, copy, reload, verify ----
gc resubmit -i web >/dev/null
wait_jobs c1 1
check_eq "web renewed: bundle, copy, reload and TLS verify succeed" ok "$(last_result c1)"
check_contains "… and the result says what was proven" "c1: serving serial $(serial "$P/web.crt") on 127.0.0.1:15011" \
        "$(last_message c1)"
expect=$(cat "$P/web.crt"; openssl x509 -in "$T/etc/ca/ca.crt"; cat "$P/web.key")
check_eq "the bundle is cert + chain + key" "$expect" "$(cat "$T/out/web.pem")"
check_eq "the bundle's owner and mode" "640 4242:4343" "$(stat -c '%a %u:%g' "$T/out/web.pem")"
check_eq "the copied certificate in c1 is the new one" "$(cat "$P/web.crt")" "$(podman exec c1 cat /certs/web.crt)"
check_eq "… with its owner and mode" "644 1234:1234" "$(podman exec c1 stat -c '%a %u:%g' /certs/web.crt)"
check_eq "the copied key is private" "600" "$(podman exec c1 stat -c '%a' /certs/web.key)"
check_eq "the copied bundle is the host's" "$(cat "$T/out/web.pem")" "$(podman exec c1 cat /certs/web.pem)"
check_eq "c1 serves the new serial" "$(serial "$P/web.crt")" "$(served_serial 15011)"

old=$(served_serial 15012)
gc resubmit -i stale >/dev/null
wait_jobs s1 1
check_eq "a container that keeps the old certificate fails verification" failed "$(last_result s1)"
check_contains "… saying what it still serves" "still serving serial $old" "$(last_message s1)"
check_contains "… at once: the same old serial after the action, a retry cannot fix it" "not retried" "$(last_message s1)"

# fleet's binding has no verify and k1 mounts nothing of it: ok, but the result says nothing was proven.
gc resubmit -i fleet >/dev/null
wait_jobs k1 1
check_eq "an unverifiable binding's job is ok" ok "$(last_result k1)"
check_contains "… and says it is not verified" "k1: not verified: mounts nothing holding $P/fleet.crt" "$(last_message k1)"

# ---- audit ----
out=$(ctl audit)
rc=$?
check_eq "audit exits 1 on findings" 1 "$rc"
check_contains "audit finds the unbound container mounting managed certificates" "unbound: podman u1 mounts $P/" "$out"
check_contains "audit finds bindings whose container mounts nothing" "unmounted: podman k1 is bound to fleet" "$out"
check "audit does not flag a container fed by copy" lacks 'podman c1' "$out"
check "audit does not flag a bound container that mounts its certificate" lacks 'podman s1' "$out"

# ---- status and metrics ----
st=$(ctl status)
check_contains "status lists certificate expiry" "fleet" "$(grep -A20 '^ID .*EXPIRES' <<<"$st")"
check "status has a JOB section" grep -q '^CONTAINER .*JOB' <<<"$st"
metrics_say() { grep -qF "$1" "$T/metrics/ctrcert.prom" 2>/dev/null; } # written at most once a second
check "metrics: jobs by result" wait_until 30 metrics_say 'ctrcert_jobs_total{container="s1",result="failed"} 1'
check "metrics: one verification failure, no retry of a stale one" wait_until 30 metrics_say 'ctrcert_verify_failures_total{container="s1"} 1'
check "metrics: seconds to expiry" metrics_say 'ctrcert_certificate_expiry_seconds{id="web"} '

kill -TERM "$AGENT_PID"
finish
