#!/bin/bash
# The agent talks to podman through its REST API (a `podman system service` on the
# sandbox's own socket, never the host's) for every runtime action — restart, signal, exec,
# copy (owners by number and by the container's own names), verify, match: lists and the
# evidence (inspect, cat) — reports podman's own error text, and falls back to the CLI
# when the socket does not answer.
. "$(dirname "$0")/lib.sh"
AGENT="$BUILD/ctrcert-agent"

make_ca_and_config || exit 1
P=$T/pki
mkdir -p "$P/a" "$P/b" "$P/c" "$P/d" "$P/e" "$P/m" "$P/f" "$T/bin"
# podman's CLI, with every call written down: what must not go through it is visible.
printf '#!/bin/bash\necho "$*" >>"%s"\nexec podman "$@"\n' "$T/cli.log" >"$T/bin/podman-logged"
chmod +x "$T/bin/podman-logged"
cat >>"$CONF" <<EOC
agent:
  debounce: 300ms
  ca_bundle: $T/etc/ca/chain.pem
  retry_attempts: 1
  podman: $T/bin/podman-logged
  podman_socket: $T/podman/api.sock
EOC
{
        echo "version: 1"
        echo "certificates:"
        entry a "$P/a"
        echo "    containers: [{name: a1, action: restart}]"
        entry b "$P/b"
        echo "    containers: [{name: b1, action: reload}]"
        entry ghost "$P/a"
        echo "    containers: [{name: no-such-container, action: restart}]"
        entry c "$P/c"
        echo "    containers:"
        echo "      - {name: c1, action: exec, exec: [sh, -c, 'echo \$\$ > /tmp/reloaded; echo exec-output'],"
        echo "         copy: [{from: cert, to: /certs/c.crt, owner: 'svc:svcg', mode: '0640'},"
        echo "                {from: key, to: /certs/c.key, owner: '1234:1235'}],"
        echo "         verify: {exec: [sh, -c, 'test -s /tmp/reloaded'], timeout: 10s}}"
        entry d "$P/d"
        echo "    containers: [{match: '^d-[0-9]+\$', action: none}]"
        entry e "$P/e"
        echo "    containers: [{name: e1, action: none, copy: [{from: cert, to: /data}]}]"
        entry f "$P/f"
        echo "    containers: [{name: f1, action: none, verify: {exec: [sh, -c, 'yes | head -c 40000000'], timeout: 30s}}]"
        entry m "$P/m"
        echo "    containers: [{name: m1, action: exec, exec: [sh, -c, \"echo one > /tmp/multi\\necho two >> /tmp/multi\"]}]"
} >"$T/etc/manifest.yaml"
start_world || exit 1
podman system service --time=0 "unix://$T/podman/api.sock" >"$T/api.log" 2>&1 &
API_PID=$!
PIDS+=("$API_PID")
for _ in $(seq 100); do [ -S "$T/podman/api.sock" ] && break; sleep 0.05; done
check "podman's API service answers on the sandbox's socket" test -S "$T/podman/api.sock"
for id in a b ghost c d e f m; do
        d=$P/a
        [ "$id" = ghost ] || d=$P/$id
        issue_cert "$id" "$d/$id.crt" "$d/$id.key"
done
check_eq "eight certificates issued" 8 "$(gc list | grep -c 'status: MONITORING')"
podman run -d --init --name a1 localhost/ctrcert-tls sleep 100000 >/dev/null
run_tls_container b1 15021 "$P/b/b.crt" "$P/b/b.key"
wait_serial 15021 "$(serial "$P/b/b.crt")"
sleeper c1
# names only the container knows: the copy maps them through its own passwd and group
podman exec c1 sh -c 'mkdir -p /certs && echo svc:x:4321:4321::/:/bin/sh >>/etc/passwd && echo svcg:x:4322: >>/etc/group'
for n in d-1 d-2 d-x; do sleeper "$n" -v "$P/d:/d:ro"; done
sleeper e1
podman exec e1 sh -c 'mkdir -p /data && echo keep > /data/keep'
sleeper m1
sleeper f1

watch_jobs
"$AGENT" --config "$CONF" --bus system >"$T/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 && break; sleep 0.05; done
cli_calls() { grep -c "^$1 " "$T/cli.log" 2>/dev/null; }
: >"$T/cli.log"

a0=$(started_at a1)
"$CTL" --config "$CONF" notify "$P/a/a.crt" >/dev/null
wait_jobs a1 1
check_eq "restart through the API succeeds" ok "$(last_result a1)"
check "a1 was restarted" test "$(started_at a1)" != "$a0"
check_eq "… without the podman CLI" 0 "$(cli_calls restart)"

gc resubmit -i b >/dev/null
wait_jobs b1 1
check_eq "reload (SIGHUP) through the API succeeds" ok "$(last_result b1)"
check "b1 serves the renewed certificate" wait_serial 15021 "$(serial "$P/b/b.crt")"
check_eq "… without the podman CLI" 0 "$(cli_calls kill)"

"$CTL" --config "$CONF" notify "$P/a/ghost.crt" >/dev/null
wait_jobs no-such-container 1
check_eq "a container podman does not know fails" failed "$(last_result no-such-container)"
check_contains "… with podman's own message" "no container with name or ID" "$(last_message no-such-container)"

"$CTL" --config "$CONF" notify "$P/c/c.crt" >/dev/null
wait_jobs c1 1
check_eq "copy, exec and verify through the API succeed" ok "$(last_result c1)"
check_contains "… the verify command's success is the proof" "verify command succeeded" "$(last_message c1)"
check_eq "the certificate was copied in, owned by the container's svc:svcg" "4321 4322 640" \
        "$(podman exec c1 stat -c '%u %g %a' /certs/c.crt)"
check_eq "… the key by number" "1234 1235 600" "$(podman exec c1 stat -c '%u %g %a' /certs/c.key)"
check_eq "… with the saved content" "$(sha256sum <"$P/c/c.crt")" "$(podman exec c1 cat /certs/c.crt | sha256sum)"
check "the exec action ran in c1" podman exec c1 sh -c 'test -s /tmp/reloaded'
check_eq "… copy, exec and verify without the podman CLI" 0 "$(cli_calls exec)"

"$CTL" --config "$CONF" notify "$P/d/d.crt" >/dev/null
wait_jobs '~^d-[0-9]+$' 1
check_eq "match: lists the running containers through the API" ok "$(last_result '~^d-[0-9]+$')"
d_message=$(last_message '~^d-[0-9]+$')
check_contains "… acts on d-1" "d-1: " "$d_message"
check_contains "… and d-2" "; d-2: " "$d_message"
check "… and not on d-x, which it does not name" lacks "d-x" "$d_message"
check_contains "the evidence (inspect, then cat) through the API proves the files" "SHA-256 matches" "$d_message"
check_eq "… without the podman CLI (no ps, inspect or exec)" "0 0 0" "$(cli_calls ps) $(cli_calls inspect) $(cli_calls exec)"

"$CTL" --config "$CONF" notify "$P/e/e.crt" >/dev/null
wait_jobs e1 1
check_eq "a copy onto an existing directory fails (as tar refuses it)" failed "$(last_result e1)"
check_eq "… and the directory and its files are left as they were" keep "$(podman exec e1 cat /data/keep)"

"$CTL" --config "$CONF" notify "$P/m/m.crt" >/dev/null
wait_jobs m1 1
check_eq "an exec argument with a newline reaches the container unchanged" "one two" \
        "$(podman exec m1 cat /tmp/multi | tr '\n' ' ' | sed 's/ $//')"

# A container that floods its exec output costs its own job, bounded, not the agent.
"$CTL" --config "$CONF" notify "$P/f/f.crt" >/dev/null
wait_jobs f1 1
check_eq "a verify whose output floods (40 MB) fails" failed "$(last_result f1)"
check_contains "… at the agent's bound on podman's answers" "passed 32 MiB" "$(last_message f1)"
"$CTL" --config "$CONF" status >"$T/status.txt" 2>&1
check "… and the agent still answers (status exits 1: a job failed)" test "$?" = 1 -a -s "$T/status.txt"

# The API goes away: the CLI takes over.
kill "$API_PID"
for _ in $(seq 100); do kill -0 "$API_PID" 2>/dev/null || break; sleep 0.05; done
rm -f "$T/podman/api.sock"
a1_before=$(started_at a1)
"$CTL" --config "$CONF" notify "$P/a/a.crt" >/dev/null
wait_jobs a1 2
check_eq "with no API answering, the restart still succeeds" ok "$(last_result a1)"
check_eq "… through the podman CLI" 1 "$(cli_calls restart)"
check "a1 was restarted again" test "$(started_at a1)" != "$a1_before"

kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
check_eq "the agent stops cleanly (under ASan: nothing leaked)" 0 "$?"
[ -n "${KEEP_LOG:-}" ] && cp "$T/agent.log" "$T/jobs.log" "$KEEP_LOG/"
finish
