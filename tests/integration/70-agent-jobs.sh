#!/bin/bash
# The agent an operator can trust at 3 a.m., against real certmonger, a real bus and real
# podman containers: jobs survive SIGKILL at random points, failing runtime calls are
# retried then reported, a restart budget holds jobs until released, bundles and copies
# land with their owner and mode, verification proves the new certificate is served (or
# says what still is), after: orders jobs, audit finds what the manifest misses, and the
# metrics file counts it all.
. "$(dirname "$0")/lib.sh"
KILL_ROUNDS=5 # × 6 containers = 30 jobs

make_ca_and_config || exit 1
P=$T/pki
mkdir -p "$P/stale" "$T/bin" "$T/out" "$T/metrics"
# podman, except that the next N action calls (restart, kill, exec) fail like a runtime error.
cat >"$T/bin/podman-flaky" <<EOS
#!/bin/bash
n=\$(cat "$T/fail-next" 2>/dev/null || echo 0)
case "\$1" in restart|kill|exec)
        if [ "\$n" -gt 0 ]; then
                echo \$((n - 1)) >"$T/fail-next"
                echo "Error: injected failure \$n" >&2
                exit 125
        fi ;;
esac
exec podman "\$@"
EOS
chmod +x "$T/bin/podman-flaky"
cat >>"$CONF" <<EOC
agent:
  debounce: 500ms
  podman_socket: "" # every call through the flaky CLI wrapper
  max_parallel: 4
  ca_bundle: $T/etc/ca/chain.pem
  step_timeout: 20s
  retry_attempts: 3
  retry_initial: 200ms
  retry_max: 1s
  restart_budget: 2
  restart_window: 10m
  metrics: $T/metrics/ctrcert.prom
  podman: $T/bin/podman-flaky
EOC
# entry ID: certificate ID in $P, or in its own directory for those a container mounts.
dir_of() { case $1 in stale) echo "$P/stale" ;; *) echo "$P" ;; esac; }
entry() { printf '  - id: %s\n    cert: %s/%s.crt\n    key: %s/%s.key\n    names: {dns: [%s.example]}\n' "$1" "$(dir_of "$1")" "$1" "$(dir_of "$1")" "$1" "$1"; }
{
        echo "version: 1"
        echo "certificates:"
        entry fleet
        echo "    containers:"
        for i in 1 2 3 4 5 6; do
                echo "      - {name: k$i, action: exec, exec: [sh, -c, 'echo done >> /tmp/effects']}"
        done
        entry flaky
        echo "    containers: [{name: f1, action: exec, exec: [sh, -c, 'echo ran >> /tmp/flaky']}]"
        entry budget
        echo "    containers: [{name: b1, action: restart}]"
        entry web
        echo "    bundle: {path: $T/out/web.pem, parts: [cert, chain, key], owner: \"4242:4343\", mode: \"0640\"}"
        echo "    containers:"
        echo "      - name: c1"
        echo "        copy: [{from: cert, to: /certs/web.crt, owner: \"1234:1234\", mode: \"0644\"},"
        echo "               {from: key, to: /certs/web.key, mode: \"0600\"}, {from: bundle, to: /certs/web.pem}]"
        echo "        action: reload"
        echo "        verify: {tls: \"127.0.0.1:15011\", sni: web.example, timeout: 10s}"
        entry stale
        echo "    containers: [{name: s1, action: none, verify: {tls: \"127.0.0.1:15012\", timeout: 2s}}]"
        entry db
        echo "    containers: [{name: d1, action: exec, exec: [sh, -c, 'sleep 2; date +%s > /tmp/done'],"
        echo "                  verify: {exec: [sh, -c, 'test -s /tmp/done && touch /tmp/verified'], timeout: 5s}}]"
        entry proxy
        echo "    containers: [{name: p1, action: exec, exec: [sh, -c, 'date +%s > /tmp/start'], after: [d1]}]"
} >"$T/etc/manifest.yaml"
start_world || exit 1
for id in fleet flaky budget web stale db proxy; do
        issue_cert "$id" "$(dir_of "$id")/$id.crt" "$(dir_of "$id")/$id.key"
done
check_eq "seven certificates issued through certmonger" 7 "$(gc list | grep -c 'status: MONITORING')"

sleeper() { podman run -d --init --name "$1" "${@:2}" localhost/ctrcert-tls sleep 100000 >/dev/null; }
for c in k1 k2 k3 k4 k5 k6 f1 b1 d1 p1; do sleeper "$c"; done
sleeper u1 -v "$P:/pki:ro" # mounts managed certificates, bound to none of them
run_tls_container s1 15012 "$P/stale/stale.crt" "$P/stale/stale.key"
# c1 gets its files only by copy: created, given the first ones, then started.
podman create --init --name c1 --network host localhost/ctrcert-tls tls-serve 15011 /certs/web.crt /certs/web.key >/dev/null
podman cp "$P/web.crt" c1:/certs/web.crt && podman cp "$P/web.key" c1:/certs/web.key && podman start c1 >/dev/null
check "c1 serves the first web certificate" wait_serial 15011 "$(serial "$P/web.crt")"

watch_jobs
AGENT_PID=
kill_agent() {
        kill -KILL "$AGENT_PID"
        for _ in $(seq 100); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.05; done
        for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 || return 0; sleep 0.05; done
}
records() { find "$T/state/agent" -name '*.job' 2>/dev/null | wc -l; }
# idle: no job record left and the agent lists no job (60 s).
wait_idle() {
        for _ in $(seq 600); do
                [ "$(records)" = 0 ] && ctl jobs 2>/dev/null | grep -q '^0 jobs$' && return 0
                sleep 0.1
        done
        return 1
}
start_agent
check "the agent owns org.ctrcert.Agent1" bus_has_owner org.ctrcert.Agent1

# ---- durable jobs: SIGKILL at random points of 30 jobs ----
kills=0
for round in $(seq "$KILL_ROUNDS"); do
        ctl notify "$P/fleet.crt" >/dev/null
        # Before the 0.5 s window closes, while the exec steps run, or after they finished: each
        # round kills at another point, a little randomised.
        sleep "$(cut -d' ' -f"$round" <<<"0.1 0.5 0.8 1.2 2.4")$((RANDOM % 10))"
        kill_agent
        kills=$((kills + 1))
        start_agent || break
        wait_idle || break
done
check "the agent came back after $kills SIGKILLs and finished every job" wait_idle
lost=0 over=0
for i in 1 2 3 4 5 6; do
        n=$(podman exec "k$i" cat /tmp/effects 2>/dev/null | wc -l)
        [ "$n" -ge "$KILL_ROUNDS" ] || lost=$((lost + 1))
        [ "$n" -le $((KILL_ROUNDS + kills)) ] || over=$((over + 1))
        echo "# k$i: $n effects for $KILL_ROUNDS notifications"
done
check_eq "no container lost a job ($KILL_ROUNDS × 6 jobs, a SIGKILL in each round)" 0 "$lost"
check_eq "a killed job is redone at most once per kill" 0 "$over"

# A record on disk at start is resumed: the agent stopped, a record left as a crash would.
kill_agent
printf 'ctrcert-job 1\nkey podman/k1\nheld 0\ncert fleet\n' >"$T/state/agent/resume-test.job"
before=$(podman exec k1 cat /tmp/effects | wc -l)
start_agent
check "a job found on disk at start runs" wait_idle
check_eq "… once, on k1" $((before + 1)) "$(podman exec k1 cat /tmp/effects | wc -l)"

# ---- retries with backoff ----
echo 2 >"$T/fail-next"
ctl notify "$P/flaky.crt" >/dev/null
wait_jobs f1 1
check_eq "two failing runtime calls, then success on the third attempt" ok "$(last_result f1)"
check_contains "the retries are in the agent's log" "f1: attempt 2 of 3 failed: exec on f1 failed" "$(cat "$T/agent.log")"
echo 5 >"$T/fail-next"
ctl notify "$P/flaky.crt" >/dev/null
wait_jobs f1 2
check_eq "past the last retry the job fails" failed "$(last_result f1)"
check_contains "… with the runtime's error text" "injected failure" "$(last_message f1)"
check_contains "… and the number of attempts" "after 3 attempts" "$(last_message f1)"
check_contains "ctrcertctl status shows the failure" "injected failure" "$(ctl status)"
rm -f "$T/fail-next"

# ---- the restart budget (2 per 10 minutes here) ----
b0=$(started_at b1)
ctl notify "$P/budget.crt" >/dev/null && wait_jobs b1 1
ctl notify "$P/budget.crt" >/dev/null && wait_jobs b1 2
b2=$(started_at b1)
check "two restarts within the budget ran" test "$b2" != "$b0"
ctl notify "$P/budget.crt" >/dev/null && wait_jobs b1 3
check_eq "the third restart is held" held "$(last_result b1)"
check_eq "… and b1 was not restarted" "$b2" "$(started_at b1)"
check_contains "ctrcertctl jobs shows it held" "held" "$(ctl jobs | grep '^b1 ')"
sleep 1.5 # the metrics file is written at most once a second
check_contains "metrics: held jobs" 'ctrcert_jobs_total{container="b1",result="held"} 1' "$(cat "$T/metrics/ctrcert.prom")"
check_contains "metrics: restarts per container" 'ctrcert_restarts_total{container="b1"} 2' "$(cat "$T/metrics/ctrcert.prom")"
kill_agent && start_agent
check_contains "a held job stays held across an agent restart" "held" "$(ctl jobs | grep '^b1 ')"
check "releasing an unknown container is refused" bash -c "! '$CTL' --config '$CONF' release no-such"
check_contains "ctrcertctl release runs it" "released" "$(ctl release b1)"
wait_jobs b1 4
check_eq "the released job succeeds" ok "$(last_result b1)"
check "b1 was restarted" test "$(started_at b1)" != "$b2"

# ---- bundle, copy, reload, verify ----
gc resubmit -i web >/dev/null
wait_jobs c1 1
check_eq "web renewed: bundle, copy, reload and TLS verify succeed" ok "$(last_result c1)"
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

# ---- after: d1 before p1, though p1 was notified first ----
ctl notify "$P/proxy.crt" >/dev/null
ctl notify "$P/db.crt" >/dev/null
wait_jobs p1 1 && wait_jobs d1 1
d_done=$(podman exec d1 cat /tmp/done) p_start=$(podman exec p1 cat /tmp/start)
check_eq "d1's job passed its verify command" ok "$(last_result d1)"
check "… which ran inside d1" podman exec d1 sh -c "test -f /tmp/verified"
check "p1's job started after d1's finished ($p_start >= $d_done)" test "$p_start" -ge "$d_done"

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
sleep 1.5
m=$(cat "$T/metrics/ctrcert.prom")
check_contains "metrics: jobs by result" 'ctrcert_jobs_total{container="s1",result="failed"} 1' "$m"
check_contains "metrics: a verification failure per attempt" 'ctrcert_verify_failures_total{container="s1"} 3' "$m"
check_contains "metrics: seconds to expiry" 'ctrcert_certificate_expiry_seconds{id="web"} ' "$m"

kill -TERM "$AGENT_PID"
finish
