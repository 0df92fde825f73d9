#!/bin/bash
# ctrcert-agent beyond the happy path: systemd units (against python3-dbusmock,
# since no systemd manager runs here), match: bindings, the docker runtime's
# command line, READY=1 only once the name is owned, and surviving a restart
# of certmonger and of the bus itself.
. "$(dirname "$0")/lib.sh"
AGENT="$BUILD/ctrcert-agent"
PY=/usr/bin/python3 # the system python has the dbus module (TESTENV)

make_ca_and_config || exit 1
cat >>"$CONF" <<EOC
agent:
  debounce: 300ms
  podman_socket: ""
  docker: podman
EOC
P=$T/pki
mkdir -p "$P/certs" "$P/keys"
entry() { printf '  - id: %s\n    cert: %s/certs/%s.crt\n    key: %s/keys/%s.key\n    names: {dns: [%s.example]}\n' "$1" "$P" "$1" "$P" "$1" "$1"; }
{
        echo "version: 1"
        echo "certificates:"
        entry httpd
        echo "    containers: [{name: httpd.service, runtime: systemd, action: restart}]"
        entry nova
        echo "    containers: [{name: nova-api.service, runtime: systemd, action: reload}, {name: nova-meta.service, runtime: systemd, action: reload, signal: USR1}]"
        entry haproxy
        echo "    containers: [{match: '^haproxy-[0-9]+\$', action: reload}]"
        entry viadocker
        echo "    containers: [{name: dockerish, runtime: docker, action: exec, exec: [/bin/sh, -c, 'echo ran >> /tmp/ran']}]"
} >"$T/etc/manifest.yaml"
start_world || exit 1
for id in httpd nova haproxy viadocker; do issue_cert "$id" "$P/certs/$id.crt" "$P/keys/$id.key"; done
check_eq "four certificates issued" 4 "$(gc list | grep -c 'status: MONITORING')"

# systemd's Manager, mocked on the sandbox bus.
$PY -m dbusmock --template "$SRC/tests/systemd_mock.py" -l "$T/systemd.log" >"$T/dbusmock.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do bus_has_owner org.freedesktop.systemd1 && break; sleep 0.05; done

# Containers: two that match ^haproxy-[0-9]+$, one that does not, one for the docker runtime.
for n in haproxy-1 haproxy-2 haproxy-x dockerish; do
        podman run -d --init --name "$n" localhost/ctrcert-tls sh -c 'trap "echo hup >> /tmp/hups" HUP; while :; do sleep 0.1; done' >/dev/null
done

watch_jobs

# READY=1 must come only once the name is ours: the listener checks the bus the moment it arrives.
cat >"$T/notify.py" <<'EOP'
import os, socket, sys, dbus
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(20)
while True:
    msg = s.recv(4096).decode()
    if "READY=1" in msg.split("\n"):
        owned = dbus.SystemBus().name_has_owner("org.ctrcert.Agent1")
        print("owned" if owned else "not-owned", flush=True)
        break
EOP
$PY "$T/notify.py" "$T/notify.sock" >"$T/notify.out" 2>&1 &
NOTIFY_PID=$!
for _ in $(seq 100); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$T/notify.sock "$AGENT" --config "$CONF" >"$T/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
wait "$NOTIFY_PID"
check_eq "READY=1 is sent once org.ctrcert.Agent1 is owned" owned "$(cat "$T/notify.out")"

renew() { gc resubmit -i "$1" >/dev/null; }

# ---- systemd units ----
renew httpd
wait_jobs httpd.service 1
check_contains "restart of a unit calls RestartUnit" 'RestartUnit "httpd.service" "replace"' "$(cat "$T/systemd.log")"
renew nova
wait_jobs nova-meta.service 1
wait_jobs nova-api.service 1
check_contains "reload without a signal calls ReloadUnit" 'ReloadUnit "nova-api.service" "replace"' "$(cat "$T/systemd.log")"
check_contains "reload with a signal calls KillUnit on the main process" 'KillUnit "nova-meta.service" "main" 10' "$(cat "$T/systemd.log")"
check_eq "no other unit was touched" 3 "$(grep -cE 'RestartUnit|ReloadUnit|KillUnit' "$T/systemd.log")"

# ---- match: among the running containers ----
renew haproxy
wait_jobs '~^haproxy-[0-9]+$' 1
hups() { podman exec "$1" cat /tmp/hups 2>/dev/null | wc -l; }
check_eq "haproxy-1 matched and got SIGHUP" 1 "$(hups haproxy-1)"
check_eq "haproxy-2 matched and got SIGHUP" 1 "$(hups haproxy-2)"
check_eq "haproxy-x does not match and got nothing" 0 "$(hups haproxy-x)"
check_contains "the job names the containers it acted on" "haproxy-1: " "$(grep -A8 'string "~^haproxy' "$T/jobs.log")"
check_contains "… each of them, with what was proven" "; haproxy-2: " "$(grep -A8 'string "~^haproxy' "$T/jobs.log")"

# ---- runtime docker: docker's command line (here served by podman, agent.docker: podman) ----
renew viadocker
wait_jobs dockerish 1
check_eq "the docker runtime ran exec in its container" 1 "$(podman exec dockerish cat /tmp/ran | wc -l)"

# ---- certmonger restarts: the new owner's signals count ----
cm_pid=$(cat "$T/cm/pid")
kill -TERM "$cm_pid"
for _ in $(seq 100); do bus_has_owner org.fedorahosted.certmonger || break; sleep 0.05; done
start_certmonger || exit 1
renew httpd
check "after a certmonger restart renewals still reach the agent" wait_jobs httpd.service 2
check_contains "the agent followed the new owner" "certmonger is at" "$(tail -n 20 "$T/agent.log")"

# ---- the bus itself restarts: the agent reconnects ----
bus_pid=$(cat "$T/bus.pid")
kill -TERM "$bus_pid"
for _ in $(seq 100); do kill -0 "$bus_pid" 2>/dev/null || break; sleep 0.05; done
kill -TERM "$(cat "$T/cm/pid")" 2>/dev/null
rm -f "$T/bus.sock"
start_bus || exit 1
start_certmonger || exit 1
$PY -m dbusmock --template "$SRC/tests/systemd_mock.py" -l "$T/systemd2.log" >/dev/null 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 && break; sleep 0.1; done
check "the agent owns its name again on the new bus" bus_has_owner org.ctrcert.Agent1
check "the agent kept running" kill -0 "$AGENT_PID"
watch_jobs
sleep 0.3
for _ in $(seq 50); do bus_has_owner org.freedesktop.systemd1 && break; sleep 0.1; done
renew httpd
check "renewals reach it over the new bus" wait_jobs httpd.service 1
check_contains "and act through the new connection" 'RestartUnit "httpd.service"' "$(cat "$T/systemd2.log" 2>/dev/null)"

finish
