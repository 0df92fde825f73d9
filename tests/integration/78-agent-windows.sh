#!/bin/bash
# Operators decide when containers restart: a job outside agent.windows waits for the next
# window (listed with its opening, kept across an agent restart) and runs when it opens; a
# binding's own windows: [] runs at any time; windows_for: restart lets reload/exec/none jobs
# through; a certificate in use that expires within agent.expiry_margin runs at once. A pause
# holds every job (kept across a restart, shown by status) until resume or its --until time.
# Real certmonger, bus and podman; the window opens a minute or two after the test starts.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
P=$T/pki
mkdir -p "$P"
# The next window opens at the next full minute (or the one after, so it cannot open while the
# test is still looking at the waiting job) and lasts 10 minutes.
[ "$(date +%S)" -lt 40 ] && ahead=1 || ahead=2
win_start=$(date -d "+$ahead minute" +%H:%M) win_end=$(date -d "+$((ahead + 10)) minute" +%H:%M)
cat >>"$CONF" <<EOC
agent:
  debounce: 300ms
  podman_socket: "" # the CLI here; 75-podman-api tests the API
  windows: ["daily $win_start-$win_end"]
  windows_for: all
  expiry_margin: 1d
  metrics: $T/metrics.prom
EOC
{
        echo "version: 1"
        echo "certificates:"
        entry wa "$P"
        echo "    containers: [{name: w1, action: restart}]"
        entry any "$P"
        echo "    containers: [{name: a1, action: restart, windows: []}]"
        entry ex "$P"
        echo "    containers: [{name: x1, action: exec, exec: [sh, -c, 'echo ran >> /tmp/ran']}]"
} >"$T/etc/manifest.yaml"
start_world || exit 1
for id in wa any ex; do issue_cert "$id" "$P/$id.crt" "$P/$id.key"; done
check_eq "three certificates issued through certmonger" 3 "$(gc list | grep -c 'status: MONITORING')"
for c in w1 a1 x1; do sleeper "$c"; done
watch_jobs
check "the agent starts" start_agent
jobs_say() { ctl jobs 2>/dev/null | grep "^$1 " | grep -q "$2"; }

# ---- windows ----
w0=$(started_at w1)
gc resubmit -i wa >/dev/null
gc resubmit -i any >/dev/null
check "a binding with windows: [] runs at any time" wait_jobs a1 1
check "w1's job waits for the window, saying when it opens" wait_until 30 jobs_say w1 "maintenance window, opening .*$win_start"
check_eq "… and w1 was not restarted" "$w0" "$(started_at w1)"
metrics_say() { grep -qF "$1" "$T/metrics.prom" 2>/dev/null; }
check "metrics: one job waiting for its window" wait_until 30 metrics_say 'ctrcert_jobs{state="window"} 1'
check "the agent stops" bash -c "kill -TERM $AGENT_PID; while kill -0 $AGENT_PID 2>/dev/null; do sleep 0.1; done"
check "… and starts again" start_agent
check "the waiting job is still there after a restart, still waiting" wait_until 30 jobs_say w1 "maintenance window"
check_eq "no job for w1 yet" 0 "$(jobs_for w1)"
check "it runs when the window opens (at $win_start)" wait_until 200 has_jobs w1 1
check_eq "… and succeeds" ok "$(last_result w1)"
check "w1 was restarted then" test "$(started_at w1)" != "$w0"

# windows_for: restart — an exec job is not held back; a restart would be (checked above).
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
sed -i "s/windows: \[\"daily .*\"\]/windows: [\"daily $(date -d '+3 hour' +%H:%M)-$(date -d '+4 hour' +%H:%M)\"]/; s/windows_for: all/windows_for: restart/" "$CONF"
check "the agent starts with a window hours away, for restarts only" start_agent
gc resubmit -i ex >/dev/null
check "an exec job runs outside the window (windows_for: restart)" wait_jobs x1 1
w1_jobs=$(jobs_for w1)
gc resubmit -i wa >/dev/null
check "a restart waits again" wait_until 30 jobs_say w1 "maintenance window"

# expiry: with a margin longer than the certificate's life the old certificate "expires soon".
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
sed -i 's/expiry_margin: 1d/expiry_margin: 3650d/' "$CONF"
check "the agent starts with a long expiry margin" start_agent
check "the waiting job runs at once: its certificate in use expires within the margin" wait_jobs w1 $((w1_jobs + 1))
check_contains "the agent says why it ran outside the window" "runs now, outside its maintenance window" \
        "$(cat "$T/agent.log")"

# ---- pause ----
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
sed -i 's/expiry_margin: 3650d/expiry_margin: 1d/; s/windows_for: restart/windows_for: all/; s/windows: \[.*\]/windows: []/' "$CONF"
check "the agent starts without windows" start_agent
out=$(ctl pause --reason "deploy in progress")
check_contains "ctrcertctl pause" "paused" "$out"
a_jobs=$(jobs_for a1)
gc resubmit -i any >/dev/null
check "a job waits while paused, saying why" wait_until 30 jobs_say a1 "agent paused: deploy in progress"
check_contains "status shows the pause and its reason" "PAUSED: deploy in progress" "$(ctl status)"
check "metrics: one job held by the pause" wait_until 30 metrics_say 'ctrcert_jobs{state="paused"} 1'
check "the agent stops while paused" bash -c "kill -TERM $AGENT_PID; while kill -0 $AGENT_PID 2>/dev/null; do sleep 0.1; done"
check "… and starts again" start_agent
check "still paused after the restart, the job still waiting" wait_until 30 jobs_say a1 "agent paused"
check_eq "no job ran during the pause" "$a_jobs" "$(jobs_for a1)"
check_contains "ctrcertctl resume" "resumed" "$(ctl resume)"
check "the gathered job runs on resume" wait_jobs a1 $((a_jobs + 1))
check "status no longer shows a pause" lacks "PAUSED" "$(ctl status)"

ctl pause --reason "short" --until 3s >/dev/null
gc resubmit -i any >/dev/null
check "a pause with --until 3s holds the job" wait_until 30 jobs_say a1 "agent paused: short"
check "… and ends by itself" wait_jobs a1 $((a_jobs + 2))
check "usage: an --until in the past is refused" bash -c "! '$CTL' --config '$CONF' pause --until '2001-01-01 00:00'"

kill -TERM "$AGENT_PID"
finish
