#!/bin/bash
# ctrcert-agent runs as root among neighbours that are not: a service account that owns the
# bundle and CRL directories swaps a directory for a symlink and plants a FIFO; a manifest names
# a container "--all"; a second agent starts on the same state; a non-root process takes
# certmonger's name; and the agent's children must not see its notify socket.
. "$(dirname "$0")/lib.sh"
AGENT="$BUILD/ctrcert-agent"
PY=/usr/bin/python3
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

make_ca_and_config || exit 1
chmod 0755 "$T" # the service account reaches its directory
WWW=$T/www      # the service account's: the bundle and the published CRL live here
P=$T/pki
mkdir -p "$WWW/pub" "$T/rootonly" "$T/bin" "$P"
chown -R 65534:65534 "$WWW"
echo "root's file" >"$T/rootonly/web.pem"
RT=$T/bin/runtime # the podman CLI the agent runs, recording its argv and environment
make_recorder "$RT"
cat >>"$CONF" <<EOC
agent:
  debounce: 200ms
  podman_socket: ""
  podman: $RT
  retry_attempts: 1
  crl_publish: [$WWW/ctrcert.crl]
EOC
# manifest NAME: the one certificate, bound to container NAME, bundled into the account's directory.
manifest() {
        printf 'version: 1\ncertificates:\n  - id: web\n    cert: %s/web.crt\n    key: %s/web.key\n' "$P" "$P"
        printf '    names: {dns: [web.example]}\n'
        printf '    bundle: {path: %s/pub/web.pem, parts: [cert, key], owner: "65534:65534", mode: "0640"}\n' "$WWW"
        printf '    containers:\n      - name: %s\n' "$1"
}
manifest web-ctr >"$T/etc/manifest.yaml"
start_world || exit 1
issue_cert web "$P/web.crt" "$P/web.key"
ctl crl >/dev/null
for n in web-ctr bystander; do
        podman run -d --init --name "$n" localhost/ctrcert-tls sh -c 'while :; do sleep 0.1; done' >/dev/null
done
by0=$(started_at bystander)
watch_jobs

# ---- names are never options ----
for bad in '"--all"' '"-l"' '""' '"a\tb"'; do
        manifest "$bad" >"$T/bad.yaml"
        out=$("$CTL" manifest check "$T/bad.yaml" 2>&1)
        check_eq "manifest check refuses name: $bad" 1 "$?"
        check_contains "… at the name's file:line:col" "bad.yaml:9:15: error: certificates[0].containers[0].name" "$out"
done
# An agent given name "--all" anyway (its own state, so nothing else is in its way) must not start.
mkdir -p "$T/all"
manifest '"--all"' >"$T/all/manifest.yaml"
sed -e "s|^state_dir: .*|state_dir: $T/all/state|" -e "s|^manifest: .*|manifest: $T/all/manifest.yaml|" "$CONF" >"$T/all/c.yaml"
"$AGENT" --config "$T/all/c.yaml" >"$T/all/agent.log" 2>&1 &
all_pid=$!
PIDS+=("$all_pid")
for _ in $(seq 100); do kill -0 "$all_pid" 2>/dev/null && ! bus_has_owner org.ctrcert.Agent1 || break; sleep 0.05; done
if kill -0 "$all_pid" 2>/dev/null; then # it started: give it the renewal it would act on
        "$CTL" --config "$T/all/c.yaml" notify "$P/web.crt" >/dev/null 2>&1
        wait_jobs --all 1
        kill -TERM "$all_pid"
fi
wait "$all_pid"
check_eq "an agent whose manifest names --all does not start" 1 "$?"
check_eq "the bystander container was not restarted" "$by0" "$(started_at bystander)"
check_eq "no runtime command was given --all" "" "$(grep -F -e --all "$RT.argv" 2>/dev/null)"

# ---- the agent, with a notify socket and watchdog that are its own ----
listen_notify "$T/notify.sock" "$T/notify.log" || exit 1
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=600000000 LISTEN_FDS=0 LISTEN_FDNAMES=none \
        "$AGENT" --config "$CONF" >>"$T/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
for _ in $(seq 200); do grep -q '^READY=1' "$T/notify.log" && break; sleep 0.05; done
check "the agent is ready (READY=1 on its notify socket)" grep -q '^READY=1' "$T/notify.log"

# ---- a bundle in the account's directory ----
"$CTL" notify "$P/web.crt" >/dev/null
wait_jobs web-ctr 1
check_eq "a job with a bundle in the account's directory succeeds" ok "$(last_result web-ctr)"
check_eq "… the bundle has its declared owner" "65534:65534" "$(stat -c %u:%g "$WWW/pub/web.pem")"
check "the restart command line ends the options before the name" grep -qx 'restart -- web-ctr' "$RT.argv"
check "the runtime did not inherit NOTIFY_SOCKET" lacks '^NOTIFY_SOCKET=' "$(cat "$RT.env")"
check_eq "… nor WATCHDOG_* nor LISTEN_*" "" "$(grep -E '^(WATCHDOG_|LISTEN_)' "$RT.env")"
check "… though the agent has them" grep -qz '^NOTIFY_SOCKET=' "/proc/$AGENT_PID/environ"

# The account swaps its subdirectory for a link to a directory of root's.
"${NOBODY[@]}" sh -c "mv '$WWW/pub' '$WWW/pub.old' && ln -s '$T/rootonly' '$WWW/pub'"
check "(the account made the swap)" test -L "$WWW/pub"
"$CTL" notify "$P/web.crt" >/dev/null
wait_jobs web-ctr 2
check_eq "after the swap the bundle job fails" failed "$(last_result web-ctr)"
check_contains "… saying why" "Too many levels of symbolic links" "$(last_message web-ctr)"
check_eq "root's file behind the link keeps its content" "root's file" "$(cat "$T/rootonly/web.pem")"
check_eq "… and its owner" "0:0" "$(stat -c %u:%g "$T/rootonly/web.pem")"
check_eq "… and nothing else was written there" "web.pem" "$(ls "$T/rootonly")"

# ---- a second agent on the same state ----
state_now() { (cd "$T/state" && find . -printf '%p %s %T@\n' | sort && find . -type f -exec md5sum {} + | sort); }
# A job record the running agent has not read (it reads them at start): one that resumed the queue
# would take it up and store it under its own name.
printf 'ctrcert-job 1\nkey web-ctr\nheld 0\ncert web\n' >"$T/state/agent/by-hand.job"
before=$(state_now)
out=$(timeout 30 "$AGENT" --config "$CONF" 2>&1)
check_eq "a second agent on the same state exits 1" 1 "$?"
check_contains "… naming the lock and its holder" "another ctrcert-agent holds $T/state/agent/lock (pid $AGENT_PID)" "$out"
check_eq "… and changes nothing in the state (the job queue is not resumed)" "$before" "$(state_now)"
rm -f "$T/state/agent/by-hand.job"
check "the first agent runs on" kill -0 "$AGENT_PID"
# Another state, the same bus: the name is taken (this crashed in api_detach, rc 139).
sed "s|^state_dir: .*|state_dir: $T/state2|" "$CONF" >"$T/c2.yaml"
out=$(timeout 30 "$AGENT" --config "$T/c2.yaml" 2>&1)
check_eq "an agent whose bus name is taken exits 1, without crashing" 1 "$?"
check_contains "… saying so" "org.ctrcert.Agent1 is owned by another process" "$out"
check "… and resumed nothing: it never looked at its state" test ! -e "$T/state2/agent/seen"

# ---- certmonger's name, owned by a process that is not root's ----
cat >"$T/fakecm.py" <<'EOP'
import signal, sys, dbus, dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib
DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
name = dbus.service.BusName("org.fedorahosted.certmonger", bus)
REQ = "/org/fedorahosted/certmonger/requests/Request1"
class Request(dbus.service.Object):
    @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return {"cert-file": sys.argv[1], "key-file": sys.argv[2], "nickname": "fake", "status": "MONITORING"}
    @dbus.service.signal("org.fedorahosted.certmonger.request")
    def SavedCertificate(self):
        pass
class Manager(dbus.service.Object):
    @dbus.service.method("org.fedorahosted.certmonger", out_signature="ao")
    def get_requests(self):
        return [dbus.ObjectPath(REQ)]
req = Request(bus, REQ)
Manager(bus, "/org/fedorahosted/certmonger")
def fire():
    req.SavedCertificate()
    print("fired", flush=True)
    return True
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, fire)
print("ready", flush=True)
GLib.MainLoop().run()
EOP
kill -TERM "$(cat "$T/cm/pid")"
for _ in $(seq 100); do bus_has_owner org.fedorahosted.certmonger || break; sleep 0.05; done
owners=$(grep -c 'certmonger is at' "$T/agent.log")
"${NOBODY[@]}" $PY "$T/fakecm.py" "$P/web.crt" "$P/web.key" >"$T/fakecm.log" 2>&1 &
FAKE_PID=$!
PIDS+=("$FAKE_PID")
for _ in $(seq 200); do [ "$(grep -c 'certmonger is at' "$T/agent.log")" -gt "$owners" ] && break; sleep 0.05; done
check "(the agent saw the new owner of certmonger's name)" test "$(grep -c 'certmonger is at' "$T/agent.log")" -gt "$owners"
n=$(jobs_for web-ctr)
kill -USR1 "$FAKE_PID"
for _ in $(seq 100); do
        grep -q 'ignored SavedCertificate' "$T/agent.log" && break
        [ "$(jobs_for web-ctr)" -gt "$n" ] && break
        sleep 0.1
done
check_eq "a SavedCertificate from a non-root owner of certmonger's name starts no job" "$n" "$(jobs_for web-ctr)"
check_contains "… and is logged" "is owned by" "$(grep 'org.fedorahosted.certmonger' "$T/agent.log")"
kill -TERM "$FAKE_PID"
for _ in $(seq 100); do bus_has_owner org.fedorahosted.certmonger || break; sleep 0.05; done
"${NOBODY[@]}" sh -c "rm '$WWW/pub' && mv '$WWW/pub.old' '$WWW/pub'"
start_certmonger || exit 1
for _ in $(seq 200); do [ "$(grep -c 'certmonger is at' "$T/agent.log")" -gt "$((owners + 1))" ] && break; sleep 0.05; done
gc resubmit -i web >/dev/null
check "the real certmonger (root's) is listened to again" wait_jobs web-ctr $((n + 1))
check_eq "… and its job succeeds" ok "$(last_result web-ctr)"

# ---- a FIFO at the CRL publish path ----
check "the CRL was published at start" test -f "$WWW/ctrcert.crl"
"${NOBODY[@]}" sh -c "rm -f '$WWW/ctrcert.crl' && mkfifo '$WWW/ctrcert.crl'"
ctl crl >/dev/null # a new CRL: the agent publishes it
for _ in $(seq 100); do [ -f "$WWW/ctrcert.crl" ] && [ ! -p "$WWW/ctrcert.crl" ] && break; sleep 0.1; done
# (cmp only once it is no FIFO: reading one would wait for a writer for good.)
check "the FIFO the account planted is replaced by the CRL" \
        bash -c "test ! -p '$WWW/ctrcert.crl' && cmp -s '$WWW/ctrcert.crl' '$T/state/ca/crl.pem'"
check_contains "… with a warning" "was not a regular file" "$(cat "$T/agent.log")"
check "the agent still answers" timeout 10 "$CTL" --config "$CONF" status
# And an agent started with a FIFO in place gets ready (it used to hang in open() for good).
check "the agent stops on SIGTERM" stop_agent
"${NOBODY[@]}" sh -c "rm -f '$WWW/ctrcert.crl' && mkfifo '$WWW/ctrcert.crl'"
: >"$T/notify.log"
NOTIFY_SOCKET=$T/notify.sock "$AGENT" --config "$CONF" >>"$T/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
for _ in $(seq 200); do grep -q '^READY=1' "$T/notify.log" && break; sleep 0.05; done
check "an agent started with a FIFO at the publish path gets ready" grep -q '^READY=1' "$T/notify.log"
check "… having replaced the FIFO" test -f "$WWW/ctrcert.crl" -a ! -p "$WWW/ctrcert.crl"

# ---- a container whose output is not UTF-8 (libdbus aborts on such a string) ----
manifest web-ctr >"$T/etc/manifest.yaml"
cat >>"$T/etc/manifest.yaml" <<'EOM'
        action: exec
        exec: [sh, -c, 'printf "bad \377\376 bytes, a C1 CSI \302\233 too\n" >&2; exit 3']
EOM
check "the manifest with a noisy exec reloads" ctl reload
jobs0=$(jobs_for web-ctr)
ctl notify "$P/web.crt" >/dev/null
check "the job ends" wait_jobs web-ctr $((jobs0 + 1))
check_eq "… failed" failed "$(last_result web-ctr)"
check_contains "… its message carries the bytes escaped" 'bad \xff\xfe bytes, a C1 CSI \xc2\x9b too' "$(last_message web-ctr)"
check "the agent is still running" kill -0 "$AGENT_PID"
check_contains "… and answers, the message escaped in status too" '\xff\xfe' "$(ctl status)"

# ---- a manifest fragment or a config someone else could write (StrictModes, as the helper) ----
mkdir -p "$T/etc/manifest.d"
printf 'version: 1\ncertificates:\n  - id: evil\n    cert: %s/evil.crt\n    key: %s/evil.key\n    names: {dns: [evil.example]}\n    containers: [{name: bystander, action: restart}]\n' \
        "$P" "$P" >"$T/etc/manifest.d/evil.yaml"
chown 65534:65534 "$T/etc/manifest.d/evil.yaml"
out=$(ctl reload 2>&1)
check_contains "a reload with a fragment uid 65534 owns is refused, naming it" \
        "$T/etc/manifest.d/evil.yaml is not safe to trust" "$out"
check "… the previous bindings stay (no evil binding)" lacks "evil" "$(ctl status)"
check "the agent stops" stop_agent
out=$("$AGENT" --config "$CONF" 2>&1)
check_eq "an agent does not start with that fragment" 1 "$?"
check_contains "… and says which file and why" "evil.yaml is not safe to trust" "$out"
rm -f "$T/etc/manifest.d/evil.yaml"
chmod g+w "$CONF"
out=$("$AGENT" --config "$CONF" 2>&1)
check_eq "nor with a group-writable config (it names the programs the agent runs)" 1 "$?"
check_contains "… naming the config and the fix" "config $CONF is not safe to trust" "$out"
chmod g-w "$CONF"
check_eq "bystander was never restarted" "$by0" "$(started_at bystander)"

finish
