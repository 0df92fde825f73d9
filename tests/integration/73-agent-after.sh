#!/bin/bash
# after: orders jobs across containers: d1's job (with a verify command run inside d1) finishes
# before p1's starts, although p1 was notified first. Real certmonger, bus and podman.
. "$(dirname "$0")/lib.sh"

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
        entry db "$P"
        echo "    containers: [{name: d1, action: exec, exec: [sh, -c, 'sleep 2; date +%s > /tmp/done'],"
        echo "                  verify: {exec: [sh, -c, 'test -s /tmp/done && touch /tmp/verified'], timeout: 5s}}]"
        entry proxy "$P"
        echo "    containers: [{name: p1, action: exec, exec: [sh, -c, 'date +%s > /tmp/start'], after: [d1]}]"
} >"$T/etc/manifest.yaml"
start_world || exit 1
for id in db proxy; do issue_cert "$id" "$P/$id.crt" "$P/$id.key"; done
check_eq "two certificates issued through certmonger" 2 "$(gc list | grep -c 'status: MONITORING')"
for c in d1 p1; do sleeper "$c"; done
watch_jobs
check "the agent starts" start_agent

ctl notify "$P/proxy.crt" >/dev/null
ctl notify "$P/db.crt" >/dev/null
wait_jobs p1 1 && wait_jobs d1 1
d_done=$(podman exec d1 cat /tmp/done) p_start=$(podman exec p1 cat /tmp/start)
check_eq "d1's job passed its verify command" ok "$(last_result d1)"
check "… which ran inside d1" podman exec d1 sh -c "test -f /tmp/verified"
check "p1's job started after d1's finished ($p_start >= $d_done)" test "$p_start" -ge "$d_done"

kill -TERM "$AGENT_PID"
finish
