# shellcheck shell=bash
# An isolated sandbox for ctrcert: a temp dir ($T), a private D-Bus and a
# certmonger whose state lives entirely inside $T (see ../shared/TESTENV.md).
# Nothing of the host's certmonger, bus or podman is touched; everything
# started here is stopped by PID at exit. Used by the tests and the demo.

T=$(mktemp -d /tmp/ctrcert-sandbox.XXXXXX)
PIDS=()

cleanup() {
        local pid
        for pid in "${PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null
        done
        for pid in "${PIDS[@]}"; do
                for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
                kill -KILL "$pid" 2>/dev/null
        done
        if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# ---- a private bus and certmonger ----

start_bus() {
        cat >"$T/bus.conf" <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$T/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOC
        dbus-daemon --config-file="$T/bus.conf" --fork --print-pid=3 3>"$T/bus.pid" || return 1
        PIDS+=("$(cat "$T/bus.pid")")
        export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus.sock"
        export DBUS_SESSION_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS"
}

bus_has_owner() {
        dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.NameHasOwner string:"$1" 2>/dev/null | grep -q 'boolean true'
}

start_certmonger() {
        local d="$T/cm"
        mkdir -p "$d/requests" "$d/cas" "$d/local" "$d/config" "$d/tmp"
        export CERTMONGER_REQUESTS_DIR="$d/requests" CERTMONGER_CAS_DIR="$d/cas" \
                CERTMONGER_LOCAL_CA_DIR="$d/local" CERTMONGER_CONFIG_DIR="$d/config" \
                CERTMONGER_TMPDIR="$d/tmp" CERTMONGER_SYSTEM_LOCK_FILE="$d/lock"
        certmonger -S -n -d 2 -p "$d/pid" >"$T/certmonger.log" 2>&1 &
        PIDS+=("$!")
        for _ in $(seq 100); do
                bus_has_owner org.fedorahosted.certmonger && return 0
                sleep 0.05
        done
        echo "# certmonger did not start:" && tail -5 "$T/certmonger.log"
        return 1
}

# getcert against the private bus only. Without a reachable bus getcert would
# start a certmonger on the host's /var/lib/certmonger: refuse instead.
gc() {
        if [ ! -S "$T/bus.sock" ] || [ "${DBUS_SYSTEM_BUS_ADDRESS:-}" != "unix:path=$T/bus.sock" ]; then
                echo "gc: the sandbox bus is not running" >&2
                return 1
        fi
        getcert "$1" -S "${@:2}"
}

# request_field ID FIELD: one field of `getcert list -i ID`.
request_field() {
        gc list -i "$1" | sed -n "s/^[[:space:]]*$2: //p" | head -n 1
}

# wait_status ID STATUS…: until the request reaches one of them (10 s).
wait_status() {
        local id=$1 s
        shift
        for _ in $(seq 200); do
                s=$(request_field "$id" status)
                for want in "$@"; do [ "$s" = "$want" ] && return 0; done
                sleep 0.05
        done
        echo "# request $id stuck in '$s'"
        return 1
}
