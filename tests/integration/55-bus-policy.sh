#!/bin/bash
# data/org.ctrcert.Agent1.conf on a real dbus-daemon: only root may own the
# agent's name and call it; the bus itself refuses others, before the agent's
# own uid check.
. "$(dirname "$0")/lib.sh"
AGENT="$BUILD/ctrcert-agent"
PY=/usr/bin/python3
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

make_ca_and_config || exit 1
write_manifest
chmod 0755 "$T"
start_bus "$SRC/data/org.ctrcert.Agent1.conf" || exit 1

out=$("${NOBODY[@]}" $PY -c 'import dbus; dbus.SystemBus().request_name("org.ctrcert.Agent1")' 2>&1)
check_contains "the policy lets no one but root own org.ctrcert.Agent1" "AccessDenied" "$out"

"$AGENT" --config "$CONF" >"$T/agent.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 && break; sleep 0.05; done
check "root owns it" bus_has_owner org.ctrcert.Agent1

out=$("${NOBODY[@]}" dbus-send --system --print-reply --dest=org.ctrcert.Agent1 /org/ctrcert/Agent1 \
        org.ctrcert.Agent1.GetStatus 2>&1)
check_contains "the bus refuses a non-root call" "AccessDenied" "$out"
check_contains "(refused by the bus policy, not only by the agent)" "Rejected send message" "$out"
check_contains "root may call it (the manifest binds no container)" "0 bindings" "$("$CTL" status)"

# ---- JobFinished carries the runtimes' error texts: root's alone ----
# Each listener prints the JobFinished signals it gets and stops at a marker signal sent after
# root's listener got one: the bus had handed that JobFinished to everyone it meant to by then.
cat >"$T/listen.py" <<'EOP'
import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib
DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
loop = GLib.MainLoop()
bus.add_signal_receiver(lambda *a: print("JobFinished", a[0], a[4], flush=True), "JobFinished", "org.ctrcert.Agent1")
bus.add_signal_receiver(lambda *a: loop.quit(), "Marker", "org.ctrcert.Test")
bus.get_unique_name()
print("listening", flush=True)
GLib.timeout_add_seconds(60, loop.quit)
loop.run()
EOP
$PY "$T/listen.py" >"$T/root.out" 2>&1 &
ROOT_LISTENER=$!
"${NOBODY[@]}" $PY "$T/listen.py" >"$T/nobody.out" 2>&1 &
NOBODY_LISTENER=$!
PIDS+=("$ROOT_LISTENER" "$NOBODY_LISTENER")
for _ in $(seq 200); do grep -q listening "$T/root.out" && grep -q listening "$T/nobody.out" && break; sleep 0.05; done
write_manifest "    containers: [{name: ctr, action: none}]"
"$CTL" --config "$CONF" reload >/dev/null
"$CTL" --config "$CONF" notify "$T/web.crt" >/dev/null # no such file: the job fails, with the reason
for _ in $(seq 300); do grep -q JobFinished "$T/root.out" && break; sleep 0.1; done
dbus-send --system --type=signal /org/ctrcert/Test org.ctrcert.Test.Marker
wait "$ROOT_LISTENER" "$NOBODY_LISTENER"
check_contains "root receives JobFinished" "JobFinished ctr" "$(cat "$T/root.out")"
check "a non-root connection does not" lacks JobFinished "$(cat "$T/nobody.out")"
check_contains "(it was listening until after the signal)" "listening" "$(cat "$T/nobody.out")"

finish
