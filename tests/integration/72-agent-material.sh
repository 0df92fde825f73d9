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
        entry rej "$P"
        echo "    containers: [{name: r1, action: none}]"
} >"$T/etc/manifest.yaml"
start_world || exit 1
issue_cert web "$P/web.crt" "$P/web.key"
issue_cert stale "$P/stale/stale.crt" "$P/stale/stale.key"
issue_cert fleet "$P/fleet.crt" "$P/fleet.key"
check_eq "three certificates issued through certmonger" 3 "$(gc list | grep -c 'status: MONITORING')"
# A request certmonger gave up on (a name the manifest does not declare): the usual cause of an expiry.
gc request -w -c ctrcert -T rej -I rej -G EC -g 256 -N CN=rej.example -D rej.example -D undeclared.example \
        -f "$P/rej.crt" -k "$P/rej.key" >/dev/null 2>&1
check "the rejected request is CA_REJECTED" wait_status rej CA_REJECTED
sleeper k1                  # bound to fleet, mounts nothing of it, copies nothing in
sleeper u1 -v "$P:/pki:ro" # mounts managed certificates, bound to none of them
run_tls_container s1 15012 "$P/stale/stale.crt" "$P/stale/stale.key"
# c1 gets its files only by copy: created, given the first ones, then started.
podman create --init --name c1 --network host localhost/ctrcert-tls tls-serve 15011 /certs/web.crt /certs/web.key >/dev/null
podman cp "$P/web.crt" c1:/certs/web.crt && podman cp "$P/web.key" c1:/certs/web.key && podman start c1 >/dev/null
check "c1 serves the first web certificate" wait_serial 15011 "$(serial "$P/web.crt")"
watch_jobs
check "the agent starts" start_agent

ctl crl >/dev/null # a CRL for the metrics to watch go stale
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
# A request whose file no binding names (a typo in getcert -f): issued, but renewals reach nothing.
gc request -w -c ctrcert -T web -I typo -G EC -g 256 -N CN=web.example -D web.example \
        -f "$P/typo.crt" -k "$P/typo.key" >/dev/null 2>&1
check "the request with a typo is issued" wait_status typo MONITORING
agent_warned() { grep -q "certmonger saved $P/typo.crt (request typo), which no binding of the manifest names" "$T/agent.log"; }
check "the agent warns of its save" wait_until 30 agent_warned
out=$(ctl audit)
rc=$?
check_eq "audit exits 1 on findings" 1 "$rc"
check_contains "audit finds the unbound container mounting managed certificates" "unbound: podman u1 mounts $P/" "$out"
check_contains "audit finds bindings whose container mounts nothing" "unmounted: podman k1 is bound to fleet" "$out"
check "audit does not flag a container fed by copy" lacks 'podman c1' "$out"
check "audit does not flag a bound container that mounts its certificate" lacks 'podman s1' "$out"
check_contains "audit finds certmonger's request whose file no binding names" \
        "untracked: certmonger request typo saves $P/typo.crt" "$out"
check "… and none for the bound ones" lacks "request web saves" "$out"
ctl audit --json >"$T/audit.json" 2>/dev/null
check_eq "audit --json exits 1 on findings too" 1 "$?"
audit_json() { /usr/bin/python3 -c "import json, sys; d = json.load(open('$T/audit.json')); sys.exit(0 if ($1) else 1)"; }
check "audit --json: the same findings by kind" \
        audit_json "sorted({f['kind'] for f in d['findings']}) == ['unbound', 'unmounted', 'untracked'] and set(d) == {'findings', 'checked'}"
check "… each with its message" audit_json "any(f['kind'] == 'untracked' and 'typo' in f['message'] for f in d['findings'])"
check "… and the containers checked" audit_json "d['checked']['podman'] == 4 and d['checked']['docker'] == 0"

# ---- status and metrics ----
st=$(ctl status)
check_contains "status lists certificate expiry" "fleet" "$(grep -A20 '^ID .*EXPIRES' <<<"$st")"
check "status has a JOB section" grep -q '^CONTAINER .*JOB' <<<"$st"
# For a monitoring check: 2 when a certificate is missing (rej's, never issued) or expires within
# --warn-days (these live 30 days); 1 when only a job failed (s1's verify; checked further down).
ctl status >/dev/null 2>&1
check_eq "status exits 2: a bound certificate is missing (rej)" 2 "$?"
ctl status --warn-days 60 >/dev/null 2>&1
check_eq "status --warn-days 60 exits 2: certificates expire within 60 days" 2 "$?"
ctl status --warn-days soon >/dev/null 2>&1
check_eq "status --warn-days soon is a usage error" 2 "$?"
# --json: one document, the schema of ctrcertctl(8), the same facts as the text.
json_has() { # json_has COMMAND… -- PYTHON-EXPRESSION over the parsed document d
        local args=() expr
        while [ "$1" != -- ]; do args+=("$1"); shift; done
        expr=$2
        ctl "${args[@]}" 2>/dev/null | /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); sys.exit(0 if ($expr) else 1)"
}
check "status --json: bindings, jobs, containers, certificates, paused" json_has status --json -- \
        "set(d) == {'paused', 'bindings', 'jobs', 'containers', 'certificates'} and d['paused'] is None"
check "… each binding with certificate, id, container, runtime and action" json_has status --json -- \
        "{'certificate': '$P/web.crt', 'id': 'web', 'container': 'c1', 'runtime': 'podman', 'action': 'reload(SIGHUP)'} in d['bindings']"
check "… the failed container with its result, message and time" json_has status --json -- \
        "any(c['container'] == 's1' and c['last_result'] == 'failed' and 'still serving serial' in c['last_message'] and c['last_time'] > 0 for c in d['containers'])"
check "… each certificate's notAfter in seconds since the epoch" json_has status --json -- \
        "any(c['id'] == 'web' and c['path'] == '$P/web.crt' and c['not_after'] > 0 for c in d['certificates'])"
check "jobs --json" json_has jobs --json -- "d == {'jobs': []}"
check "plan --json" json_has plan "$P/web.crt" --json -- "d['bindings'][0]['container'] == 'c1'"
metrics_say() { grep -qF "$1" "$T/metrics/ctrcert.prom" 2>/dev/null; } # written at most once a second
check "metrics: jobs by result" wait_until 30 metrics_say 'ctrcert_jobs_total{container="s1",result="failed"} 1'
check "metrics: one verification failure, no retry of a stale one" wait_until 30 metrics_say 'ctrcert_verify_failures_total{container="s1"} 1'
check "metrics: each certificate's notAfter as a timestamp" \
        metrics_say "ctrcert_certificate_not_after_timestamp_seconds{id=\"web\"} $(date -d "$(openssl x509 -in "$P/web.crt" -noout -enddate | cut -d= -f2)" +%s)"
check "metrics: when a container's last job succeeded" metrics_say 'ctrcert_last_success_timestamp_seconds{container="c1"} '
check "metrics: the agent's version" metrics_say 'ctrcert_build_info{version="'
check "metrics: certmonger's request status" metrics_say 'ctrcert_certmonger_request_info{id="web",status="MONITORING"} 1'
check "metrics: a rejected request, as certmonger has it" \
        metrics_say 'ctrcert_certmonger_request_info{id="rej",status="CA_REJECTED"} 1'
check "metrics: … and stuck" metrics_say 'ctrcert_certmonger_request_stuck{id="rej"} 1'
check "metrics: a request that is well is not stuck" metrics_say 'ctrcert_certmonger_request_stuck{id="web"} 0'
check "metrics: when the CRL goes stale (its nextUpdate)" metrics_say \
        "ctrcert_crl_next_update_timestamp_seconds $(date -d "$(openssl crl -in "$T/state/ca/crl.pem" -noout -nextupdate | cut -d= -f2)" +%s)"
check "promtool finds the metrics file well formed" promtool check metrics <"$T/metrics/ctrcert.prom"
# A container the manifest no longer binds leaves the file at the next write.
ctl notify "$P/fleet.crt" >/dev/null
check "k1 gets a job" wait_jobs k1 1
check "… and its series" wait_until 30 metrics_say 'ctrcert_jobs_total{container="k1",result="ok"} 1'
sed -i '/name: k1, action: exec/d; /^  - id: fleet$/,/names:/d; /name: r1, action: none/d; /^  - id: rej$/,/names:/d' \
        "$T/etc/manifest.yaml"
check "the manifest without k1 reloads" ctl reload
gc resubmit -i web >/dev/null
wait_jobs c1 2
metrics_lack() { ! grep -qF "$1" "$T/metrics/ctrcert.prom"; }
check "k1's series are gone after the reload" wait_until 30 metrics_lack 'container="k1"'
ctl status >/dev/null 2>&1
check_eq "status exits 1: every certificate is there, a container's last job failed (s1)" 1 "$?"

kill -TERM "$AGENT_PID"
finish
