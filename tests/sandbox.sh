# shellcheck shell=bash
# An isolated sandbox for ctrcert: a temp dir ($T), a private D-Bus and a
# certmonger whose state lives entirely inside $T (see ../shared/TESTENV.md).
# Nothing of the host's certmonger, bus or podman is touched; everything
# started here is stopped by PID at exit. Used by the tests and the demo.

T=$(mktemp -d /tmp/ctrcert-sandbox.XXXXXX)
PIDS=()

cleanup() {
        local pid
        # Our containers live in our private store only: removing them all touches nothing else.
        if [ -n "${CONTAINERS_STORAGE_CONF:-}" ] && [ "${CONTAINERS_STORAGE_CONF#"$T"}" != "$CONTAINERS_STORAGE_CONF" ]; then
                podman rm -af -t 0 >/dev/null 2>&1
        fi
        for pid in "${PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null
        done
        for pid in "${PIDS[@]}"; do
                for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
                kill -KILL "$pid" 2>/dev/null
        done
        # podman's overlay driver bind-mounts its own directory: ours only, by path, once all is stopped.
        mountpoint -q "$T/podman/graph/overlay" 2>/dev/null && umount "$T/podman/graph/overlay"
        if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# ---- a private bus and certmonger ----

# start_bus [POLICY_FILE]: a private bus; POLICY_FILE (a bus policy such as data/org.ctrcert.Agent1.conf)
# is included after the sandbox's allow-all default, as the system bus includes system.d/.
start_bus() {
        local include=${1:+<include>$1</include>}
        cat >"$T/bus.conf" <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$T/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  $include
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

# wait_status ID STATUS…: until the request reaches one of them (30 s of wall-clock time).
wait_status() {
        local id=$1 s deadline=$((SECONDS + 30))
        shift
        while :; do
                s=$(request_field "$id" status)
                for want in "$@"; do [ "$s" = "$want" ] && return 0; done
                [ "$SECONDS" -ge "$deadline" ] && break
                sleep 0.05
        done
        echo "# request $id stuck in '$s'"
        return 1
}

# ---- a private podman store and a TLS test image ----

# start_podman: every podman call from here on (the agent's too) uses a store in $T.
start_podman() {
        mkdir -p "$T/podman"
        cat >"$T/podman/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/podman/events.log"
[engine.runtimes]
runc = ["/usr/sbin/runc"]
EOC
        cat >"$T/podman/storage.conf" <<EOC
[storage]
driver = "overlay"
graphroot = "$T/podman/graph"
runroot = "$T/podman/run"
EOC
        export CONTAINERS_CONF="$T/podman/containers.conf" CONTAINERS_STORAGE_CONF="$T/podman/storage.conf"
        build_tls_image
}

# localhost/ctrcert-tls: busybox, the host's openssl and its libraries, and tls-serve, which
# serves TLS from files and restarts its s_server on SIGHUP (a "reload" without a restart).
build_tls_image() {
        local root="$T/podman/rootfs" lib
        mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/certs"
        cp /bin/busybox "$root/bin/"
        for c in sh sleep cat kill ls date echo tar stat mkdir true; do ln -sf busybox "$root/bin/$c"; done
        cp /usr/bin/openssl "$root/bin/"
        for lib in $(ldd /usr/bin/openssl | grep -o '/[^ ]*'); do
                mkdir -p "$root$(dirname "$lib")"
                cp -L "$lib" "$root$lib"
        done
        echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
        cat >"$root/bin/tls-serve" <<'EOS'
#!/bin/sh
# tls-serve PORT CERT KEY: serve TLS; on SIGHUP start a new s_server on the same files.
port=$1 cert=$2 key=$3
run() { openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$cert" -key "$key" -www </dev/null & pid=$!; }
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; run; echo reloaded >>/tmp/reloads' HUP
trap 'kill $pid 2>/dev/null; exit 0' TERM INT
run
while :; do wait; sleep 0.05; done
EOS
        chmod +x "$root/bin/tls-serve"
        tar -C "$root" -cf "$T/podman/rootfs.tar" . && podman import -q "$T/podman/rootfs.tar" localhost/ctrcert-tls >/dev/null
}

# run_tls_container NAME PORT CERT KEY: a container serving CERT/KEY (host paths, mounted read-only).
run_tls_container() {
        local name=$1 port=$2 cert=$3 key=$4
        podman run -d --init --name "$name" --network host \
                -v "$(dirname "$cert"):/c:ro" -v "$(dirname "$key"):/k:ro" \
                localhost/ctrcert-tls tls-serve "$port" "/c/$(basename "$cert")" "/k/$(basename "$key")" >/dev/null
}

started_at() { podman inspect -f '{{.State.StartedAt}}' "$1"; }

# served_serial PORT: the serial of the certificate served on 127.0.0.1:PORT ("" when none).
served_serial() {
        echo | timeout 5 openssl s_client -connect "127.0.0.1:$1" 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}

# wait_serial PORT SERIAL: until PORT serves SERIAL (30 s of wall-clock time).
wait_serial() {
        local deadline=$((SECONDS + 30))
        until [ "$(served_serial "$1")" = "$2" ]; do
                [ "$SECONDS" -ge "$deadline" ] && return 1
                sleep 0.1
        done
}
