#!/bin/bash
# make bench (agent part). In a sandbox (private bus, certmonger, podman store):
#   1. mass renewal: 20 containers, 30 certificates (containers 1-5 hold 3 each,
#      certificate 20 is shared by containers 19 and 20), all resubmitted at
#      once; first with certmonger post-save commands `podman restart NAME`
#      per request (what deployments do today), then with ctrcert-agent.
#      Measured: restarts, time from the first resubmit until every container
#      serves its new certificate, the agent's CPU time and peak RSS.
#   2. dispatch overhead: Notify → JobFinished for an action-none binding,
#      minus the debounce window, over many events (dbus-monitor timestamps).
#   3. idle RSS of the agent with 1,000 bindings; load time of 10,000.
# Results are recorded by hand in bench/RESULTS.md.
set -u
BUILD=${1:?usage: bench-agent.sh BUILDDIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
SUBMIT=$BUILD/ctrcert-submit
CTL=$BUILD/ctrcertctl
AGENT=$BUILD/ctrcert-agent
DEBOUNCE=${DEBOUNCE:-1s}
API_SOCKET=${API_SOCKET:-} # "" = the CLI (the sandbox runs no API service here)
. "$SRC/tests/sandbox.sh"

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

start_bus && start_certmonger && start_podman || exit 1
"$CTL" ca init "$T/ca" >/dev/null
CONF=$T/ctrcert.yaml
cat >"$CONF" <<EOF
ca: {dir: $T/ca, validity_days: 30}
state_dir: $T/state
manifest: $T/manifest.yaml
agent: {debounce: $DEBOUNCE, max_parallel: 4, ca_bundle: $T/ca/chain.pem, podman_socket: "$API_SOCKET"}
EOF
P=$T/pki
mkdir -p "$P"
ctr() { printf 'ctr-%02d' "$1"; }
# Certificate i (1..30) → its containers: i<=20 → container i; 21..30 → containers 1..5, two each;
# certificate 20 is shared by containers 19 and 20.
owners() {
        local i=$1
        if [ "$i" -le 20 ]; then
                [ "$i" -eq 20 ] && echo "$(ctr 19) $(ctr 20)" || ctr "$i"
        else
                ctr $(((i - 21) / 2 + 1))
        fi
}
{
        echo "version: 1"
        echo "certificates:"
        for i in $(seq 30); do
                mkdir -p "$P/$i"
                printf '  - {id: c%d, cert: %s/%d/c.crt, key: %s/%d/c.key, names: {dns: [c%d.example]}, containers: [' \
                        "$i" "$P" "$i" "$P" "$i" "$i"
                sep=""
                for o in $(owners "$i"); do printf '%s{name: %s}' "$sep" "$o"; sep=", "; done
                echo "]}"
        done
} >"$T/manifest.yaml"
"$CTL" manifest check "$T/manifest.yaml" | tail -n 1
gc add-ca -c ctrcert -e "$SUBMIT --config $CONF" >/dev/null
for i in $(seq 30); do
        gc request -c ctrcert -T "c$i" -I "c$i" -G EC -g 256 -N "CN=c$i.example" -D "c$i.example" \
                -f "$P/$i/c.crt" -k "$P/$i/c.key" >/dev/null
done
for _ in $(seq 300); do [ "$(gc list | grep -c 'status: MONITORING')" -eq 30 ] && break; sleep 0.1; done
for i in $(seq 20); do run_tls_container "$(ctr "$i")" $((16000 + i)) "$P/$i/c.crt" "$P/$i/c.key"; done
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
for i in $(seq 20); do wait_serial $((16000 + i)) "$(serial "$P/$i/c.crt")"; done

restarts() { podman events --stream=false --filter event=restart 2>/dev/null | wc -l; }

# mass_renewal LABEL [saved]: resubmits all 30, waits until all 20 containers serve their new
# serials (with "saved": only until certmonger has saved all 30).
mass_renewal() {
        local label=$1 only_saved=${2:-} r0 t0 old=() i
        for i in $(seq 30); do old[i]=$(serial "$P/$i/c.crt"); done
        r0=$(restarts)
        t0=$(now)
        local subs=()
        for i in $(seq 30); do
                gc resubmit -i "c$i" >/dev/null &
                subs+=("$!")
        done
        wait "${subs[@]}" # (a bare wait would wait for the sandbox's certmonger too)
        # Until every container serves its renewed certificate (at most 180 s).
        i=1
        [ -n "$only_saved" ] && i=21
        while [ "$i" -le 20 ] && [ "$(echo "$(since "$t0") < 180" | bc)" = 1 ]; do
                s=$(serial "$P/$i/c.crt")
                if [ "$s" != "${old[i]}" ] && [ "$(served_serial $((16000 + i)))" = "$s" ]; then
                        i=$((i + 1))
                else
                        sleep 0.05
                fi
        done
        [ "$i" -le 20 ] && echo "  (gave up: $(ctr "$i") does not serve its renewed certificate)"
        # Certificates 21-30 are not served; wait until certmonger has saved them too.
        local first=21
        [ -n "$only_saved" ] && first=1
        for i in $(seq "$first" 30); do
                for _ in $(seq 300); do [ "$(serial "$P/$i/c.crt")" != "${old[i]}" ] && break; sleep 0.1; done
        done
        ELAPSED=$(since "$t0")
        # certmonger's last save (the newest certificate file): nothing can act before it.
        LAST_SAVE=$(echo "$(stat -c '%.3Y' "$P"/*/c.crt | sort -n | tail -n 1) - $t0" | bc)
        sleep 3 # late restarts still count
        RESTARTS=$(($(restarts) - r0))
        printf '%-22s %8.2f s %4d restarts, last save at %.2f s\n' "$label" "$ELAPSED" "$RESTARTS" "$LAST_SAVE"
}

echo "## $(date -u +%Y-%m-%d) on $(nproc) cores, podman $(podman --version | cut -d' ' -f3), debounce $DEBOUNCE"
echo "### 1. mass renewal: 30 certificates, 20 containers"
mass_renewal "certmonger alone" saved # the floor: no hook, no agent, just certmonger saving
# Baseline: one post-save restart per request, as deployments do today. certmonger waits until
# every descriptor it gave the hook is closed, and on this cgroupfs host a restarted container's
# conmon inherits them all (on a systemd host it starts in a scope of its own), so a bare
# `podman restart` hook stalls every later save (seen here). The hook closes them first (bash:
# dash cannot name descriptors above 9).
for i in $(seq 30); do
        cmd="/bin/bash -c 'for f in /proc/\$\$/fd/*; do n=\${f##*/}; [ \$n -gt 2 ] && eval \"exec \$n>&-\"; done; CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF exec /usr/bin/podman restart $(owners "$i") </dev/null >/dev/null 2>&1'"
        gc start-tracking -i "c$i" -C "$cmd" >/dev/null
done
mass_renewal "post-save baseline"
BASE=$ELAPSED
for i in $(seq 30); do gc start-tracking -i "c$i" -C "" >/dev/null; done

"$AGENT" --config "$CONF" >"$T/agent.log" 2>&1 &
APID=$!
PIDS+=("$APID")
for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 && break; sleep 0.05; done
ticks() { awk '{print $14 + $15}' "/proc/$APID/stat"; }
c0=$(ticks)
mass_renewal "ctrcert-agent"
AG=$ELAPSED
cpu=$(echo "scale=3; ($(ticks) - $c0) / $(getconf CLK_TCK)" | bc)
printf 'agent/baseline time: %.2f×; agent CPU %s s; agent peak RSS %s\n' "$(echo "$AG / $BASE" | bc -l)" "$cpu" \
        "$(grep VmHWM "/proc/$APID/status" | awk '{print $2, $3}')"
kill "$APID"
wait "$APID" 2>/dev/null

echo "### 2. dispatch overhead (Notify → JobFinished − debounce), action none"
cat >"$T/none.yaml" <<EOF
version: 1
certificates:
  - {id: c1, cert: $P/1/c.crt, key: $P/1/c.key, names: {dns: [c1.example]}, containers: [{name: nothing, action: none}]}
EOF
cat >"$T/none.conf" <<EOF
state_dir: $T/state
manifest: $T/none.yaml
agent: {debounce: 10ms, podman_socket: ""}
EOF
"$AGENT" --config "$T/none.conf" >"$T/agent2.log" 2>&1 &
APID=$!
PIDS+=("$APID")
for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 && break; sleep 0.05; done
dbus-monitor --system "interface='org.ctrcert.Agent1'" >"$T/mon.log" 2>&1 &
MPID=$!
sleep 0.3
N=200
for _ in $(seq $N); do
        "$CTL" notify "$P/1/c.crt" >/dev/null
        sleep 0.05 # each event alone in its window
done
sleep 0.5
kill "$MPID" "$APID"
awk -v d=0.010 'function ts() { match($0, /time=[0-9.]+/); return substr($0, RSTART + 5, RLENGTH - 5) }
        /member=Notify/ { t = ts() }
        /member=JobFinished/ { if (t) { print (ts() - t - d) * 1000; t = 0 } }' "$T/mon.log" |
        sort -n | awk '{v[NR] = $1} END { printf "%d events: median %.2f ms, p90 %.2f ms, max %.2f ms beyond the window\n", NR, v[int(NR / 2) + 1], v[int(NR * 0.9)], v[NR] }'

echo "### 3. memory and load time"
big() { # big N: a manifest of N certificates, each bound to its own container
        echo "version: 1"
        echo "certificates:"
        for i in $(seq "$1"); do
                printf '  - {id: c%d, cert: /srv/pki/%d.crt, key: /srv/pki/%d.key, names: {dns: [c%d.example]}, containers: [{name: ctr-%d}]}\n' \
                        "$i" "$i" "$i" "$i" "$i"
        done
}
big 1000 >"$T/m1000.yaml"
big 10000 >"$T/m10000.yaml"
sed "s|manifest: .*|manifest: $T/m1000.yaml|" "$T/none.conf" >"$T/m1000.conf"
"$AGENT" --config "$T/m1000.conf" >/dev/null 2>&1 &
APID=$!
PIDS+=("$APID")
for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 && break; sleep 0.05; done
sleep 0.5
printf 'idle agent with 1,000 bindings: VmRSS %s, of which private (RssAnon) %s\n' \
        "$(grep VmRSS "/proc/$APID/status" | awk '{print $2, $3}')" "$(grep RssAnon "/proc/$APID/status" | awk '{print $2, $3}')"
kill "$APID"
times=()
for _ in 1 2 3 4 5; do
        t0=$(now)
        "$CTL" manifest check "$T/m10000.yaml" >/dev/null
        times+=("$(since "$t0")")
done
printf '10,000-binding manifest: parse + validate (ctrcertctl manifest check, whole process) median %.0f ms\n' \
        "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{print $1 * 1000}')"
