# shellcheck shell=bash
# Shared helpers for the integration tests. Each test sources this file, gets
# its own temp dir ($T), and may start a private D-Bus and a certmonger that
# keep every byte of state inside $T (see ../shared/TESTENV.md). Everything
# started here is stopped by PID at exit.
set -u

BUILD=${BUILD:?BUILD must name the build directory}
SUBMIT="$BUILD/ctrcert-submit"
CTL="$BUILD/ctrcertctl"
T=$(mktemp -d /tmp/ctrcert-test.XXXXXX)
PIDS=()
PASS=0
FAIL=0

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

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# check NAME COMMAND…: one assertion, named.
check() {
        local name=$1
        shift
        if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

# check_contains NAME NEEDLE HAYSTACK
check_contains() {
        case "$3" in
        *"$2"*) ok "$1" ;;
        *) not_ok "$1 ('$2' not in: $3)" ;;
        esac
}

finish() {
        echo "# $(basename "$0"): $PASS passed, $FAIL failed"
        [ "$FAIL" -eq 0 ]
}

# A CA, a config and a manifest under $T/etc. Sets CONF.
make_ca_and_config() {
        local policy=${1:-strict}
        mkdir -p "$T/etc" "$T/state"
        "$CTL" ca init "$T/etc/ca" >/dev/null || return 1
        CONF="$T/etc/ctrcert.yaml"
        cat >"$CONF" <<EOC
ca:
  dir: $T/etc/ca
  validity_days: 30
  policy: $policy
  permitted_dns: [.open.example]
  permitted_ip: [192.0.2.0/24]
state_dir: $T/state
manifest: $T/etc/manifest.yaml
EOC
}

# make_csr OUT [openssl req options…]: a key and a CSR in $T (EC P-256 unless told otherwise).
make_csr() {
        local out=$1
        shift
        openssl req -new -nodes -keyout "$out.key" -out "$out" "$@" 2>/dev/null
}

# run_helper OPERATION [VAR=value…]: runs ctrcert-submit in certmonger's scrubbed
# environment; stdout in $OUT, exit status in $RC.
run_helper() {
        local op=$1
        shift
        OUT=$(cd / && env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/run/certmonger CERTMONGER_OPERATION="$op" "$@" \
                "$SUBMIT" --config "$CONF" 2>"$T/helper.err")
        RC=$?
}

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

# getcert against the private bus only (never the host's certmonger).
gc() { getcert "$1" -S "${@:2}"; }

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
