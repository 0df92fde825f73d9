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

finish
