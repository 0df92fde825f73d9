#!/bin/bash
# Durable jobs, against real certmonger, a real bus and real podman containers: every job is
# on disk before it runs, so an agent SIGKILLed at any point redoes it on start and none is
# lost (at most one extra effect per kill); a record found on disk at start runs once.
. "$(dirname "$0")/lib.sh"
KILL_ROUNDS=5 # × 6 containers = 30 jobs

make_ca_and_config || exit 1
P=$T/pki
mkdir -p "$P"
cat >>"$CONF" <<EOC
agent:
  debounce: 500ms
  podman_socket: "" # the CLI here; 75-podman-api tests the API
  max_parallel: 4
  step_timeout: 20s
EOC
{
        echo "version: 1"
        echo "certificates:"
        entry fleet "$P"
        echo "    containers:"
        for i in 1 2 3 4 5 6; do
                echo "      - {name: k$i, action: exec, exec: [sh, -c, 'echo done >> /tmp/effects']}"
        done
} >"$T/etc/manifest.yaml"
start_world || exit 1
issue_cert fleet "$P/fleet.crt" "$P/fleet.key"
check_eq "the certificate is issued through certmonger" 1 "$(gc list | grep -c 'status: MONITORING')"
for c in k1 k2 k3 k4 k5 k6; do sleeper "$c"; done

watch_jobs
start_agent
check "the agent owns org.ctrcert.Agent1" bus_has_owner org.ctrcert.Agent1

# ---- SIGKILL at random points of 30 jobs ----
kills=0
for round in $(seq "$KILL_ROUNDS"); do
        ctl notify "$P/fleet.crt" >/dev/null
        # Before the 0.5 s window closes, while the exec steps run, or after they finished: each
        # round kills at another point, a little randomised. (A timed kill is the point here.)
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

# ---- a record on disk at start is resumed: the agent stopped, a record left as a crash would ----
kill_agent
printf 'ctrcert-job 1\nkey podman/k1\nheld 0\ncert fleet\n' >"$T/state/agent/resume-test.job"
before=$(podman exec k1 cat /tmp/effects | wc -l)
start_agent
check "a job found on disk at start runs" wait_idle
check_eq "… once, on k1" $((before + 1)) "$(podman exec k1 cat /tmp/effects | wc -l)"

kill -TERM "$AGENT_PID"
finish
