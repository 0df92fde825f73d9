#!/bin/bash
# make bench (runtime part): restart, signal and copy+exec latency per container through
# podman's REST API (a `podman system service` on the sandbox's own socket) against the
# podman CLI. The agent runs a restart binding, a reload (SIGHUP) binding and an exec
# binding that copies the certificate in first, with a 10 ms window; each Notify → JobFinished interval (dbus-monitor timestamps) minus the window
# is one sample. Results are recorded by hand in bench/RESULTS.md.
set -u
BUILD=${1:?usage: bench-runtime.sh BUILDDIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
CTL=$BUILD/ctrcertctl
AGENT=$BUILD/ctrcert-agent
N=${N:-40}
. "$SRC/tests/sandbox.sh"

start_bus && start_podman || exit 1
podman system service --time=0 "unix://$T/podman/api.sock" >"$T/api.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do [ -S "$T/podman/api.sock" ] && break; sleep 0.05; done
mkdir -p "$T/pki"
# Any well-formed pair will do: no CA bundle is configured; pre-flight checks parse, key and names.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=r.example \
        -addext subjectAltName=DNS:r.example -keyout "$T/pki/r.key" -out "$T/pki/r.crt" 2>/dev/null
for id in s x; do cp "$T/pki/r.crt" "$T/pki/$id.crt" && cp "$T/pki/r.key" "$T/pki/$id.key"; done
{
        echo "version: 1"
        echo "certificates:"
        echo "  - {id: r, cert: $T/pki/r.crt, key: $T/pki/r.key, names: {dns: [r.example]}, containers: [{name: bench-r, action: restart}]}"
        echo "  - {id: s, cert: $T/pki/s.crt, key: $T/pki/s.key, names: {dns: [r.example]}, containers: [{name: bench-s, action: reload}]}"
        echo "  - {id: x, cert: $T/pki/x.crt, key: $T/pki/x.key, names: {dns: [r.example]}, containers: [{name: bench-x, action: exec, exec: [true], copy: [{from: cert, to: /tmp/x.crt}], verify: {exec: [cat, /tmp/x.crt]}}]}"
} >"$T/manifest.yaml"
podman run -d --init --name bench-r localhost/ctrcert-tls sleep 100000 >/dev/null
podman run -d --init --name bench-x localhost/ctrcert-tls sleep 100000 >/dev/null
# The reload target must survive SIGHUP: tls-serve traps it (and restarts its s_server).
podman run -d --init --name bench-s --network host -v "$T/pki:/p:ro" localhost/ctrcert-tls \
        tls-serve 15999 /p/r.crt /p/r.key >/dev/null

# latency FILE: the Notify → JobFinished intervals of a dbus-monitor log, minus the 10 ms window.
latency() {
        awk -v d=0.010 'function ts() { match($0, /time=[0-9.]+/); return substr($0, RSTART + 5, RLENGTH - 5) }
                /member=Notify/ { t = ts() }
                /member=JobFinished/ { if (t) { print (ts() - t - d) * 1000; t = 0 } }' "$1" |
                sort -n | awk '{v[NR] = $1} END { printf "%d jobs: median %.1f ms, p90 %.1f ms\n", NR, v[int(NR / 2) + 1], v[int(NR * 0.9)] }'
}

# measure LABEL SOCKET: restart and signal latency with agent.podman_socket SOCKET.
measure() {
        local label=$1 sock=$2 apid mpid id log
        printf 'state_dir: %s\nmanifest: %s\nagent: {debounce: 10ms, podman_socket: "%s", restart_budget: 0}\n' \
                "$T/state-$label" "$T/manifest.yaml" "$sock" >"$T/$label.conf"
        "$AGENT" --config "$T/$label.conf" >"$T/agent-$label.log" 2>&1 &
        apid=$!
        PIDS+=("$apid")
        for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 && break; sleep 0.05; done
        for id in r s x; do
                log=$T/mon-$label-$id.log
                dbus-monitor --system "interface='org.ctrcert.Agent1'" >"$log" 2>&1 &
                mpid=$!
                sleep 0.3
                for _ in $(seq "$N"); do
                        "$CTL" notify "$T/pki/$id.crt" >/dev/null
                        for _ in $(seq 500); do # until this job finished
                                [ "$(grep -c member=JobFinished "$log")" -ge "$(grep -c member=Notify "$log")" ] && break
                                sleep 0.02
                        done
                done
                kill "$mpid"
                printf '%-4s %-18s %s\n' "$label" "$(case $id in r) echo restart ;; s) echo SIGHUP ;; *) echo copy+exec+verify ;; esac)" "$(latency "$log")"
        done
        kill "$apid"
        if grep -q "using podman\|failed" "$T/agent-$label.log"; then
                echo "# $label: some calls failed or fell back to the CLI:"
                grep "using podman\|failed" "$T/agent-$label.log" | head -3
        fi
}

echo "### restart, signal and copy+exec+verify latency per container (Notify → JobFinished − window), $N jobs each"
measure cli ""
measure api "$T/podman/api.sock"
