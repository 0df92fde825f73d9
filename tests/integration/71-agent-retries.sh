#!/bin/bash
# Failing runtime calls are retried with backoff, then reported with the runtime's own text and
# the number of attempts; the restart budget holds a job past it, across an agent restart, until
# `ctrcertctl release`; the metrics file counts held jobs and restarts. Real certmonger, bus and
# podman; the runtime CLI is a wrapper that fails the next N action calls.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
P=$T/pki
mkdir -p "$P" "$T/bin" "$T/metrics"
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
  step_timeout: 20s
  retry_attempts: 3
  retry_initial: 200ms
  retry_max: 1s
  restart_budget: 2
  restart_window: 10m
  metrics: $T/metrics/ctrcert.prom
  podman: $T/bin/podman-flaky
EOC
{
        echo "version: 1"
        echo "certificates:"
        entry flaky "$P"
        echo "    containers: [{name: f1, action: exec, exec: [sh, -c, 'echo ran >> /tmp/flaky']}]"
        entry budget "$P"
        echo "    containers: [{name: b1, action: restart}]"
} >"$T/etc/manifest.yaml"
start_world || exit 1
for id in flaky budget; do issue_cert "$id" "$P/$id.crt" "$P/$id.key"; done
check_eq "two certificates issued through certmonger" 2 "$(gc list | grep -c 'status: MONITORING')"
for c in f1 b1; do sleeper "$c"; done
watch_jobs
check "the agent starts" start_agent

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
metrics_say() { grep -qF "$1" "$T/metrics/ctrcert.prom" 2>/dev/null; } # written at most once a second
check "metrics: held jobs" wait_until 30 metrics_say 'ctrcert_jobs_total{container="b1",result="held"} 1'
check "metrics: restarts per container" wait_until 30 metrics_say 'ctrcert_restarts_total{container="b1"} 2'
check "metrics: restarts attempted (the held one was not)" metrics_say 'ctrcert_restart_attempts_total{container="b1"} 2'
check "metrics: the held job in the state gauge" metrics_say 'ctrcert_jobs{state="held"} 1'
kill_agent && start_agent
check_contains "a held job stays held across an agent restart" "held" "$(ctl jobs | grep '^b1 ')"
check "releasing an unknown container is refused" bash -c "! '$CTL' --config '$CONF' release no-such"
check_contains "ctrcertctl release runs it" "released" "$(ctl release b1)"
wait_jobs b1 4
check_eq "the released job succeeds" ok "$(last_result b1)"
check "b1 was restarted" test "$(started_at b1)" != "$b2"

kill -TERM "$AGENT_PID"
finish
