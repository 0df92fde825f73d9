#!/bin/bash
# make bench-fleet: NODES simulated nodes on this machine (default 50), each an isolated
# certmonger + private bus + ctrcert-agent, one fleet root, one name-constrained CA per node
# (ctrcertctl ca issue-node), CERTS certificates per node (default 20), each bound to its own
# container. The agent's runtime is a recorder (agent.podman = a script that logs its
# arguments): containers are not needed to count restarts, and podman's own cost is measured
# by bench-runtime.sh.
#   1. issuance: every node requests its CERTS certificates at once (getcert request, EC P-256
#      keys made by certmonger); time until every certificate file exists.
#   2. fleet-wide renewal: every request of every node is resubmitted at once (D-Bus resubmit);
#      time until every certificate has a new serial and every restart is recorded; restarts
#      performed vs expected (one per container).
#   3. per node: CPU time and peak RSS of the agent, certmonger and the bus.
# Results are recorded by hand in bench/RESULTS.md (fleet section).
set -u
BUILD=${1:?usage: bench-fleet.sh BUILDDIR}
NODES=${NODES:-50}
CERTS=${CERTS:-20}
JITTER=${JITTER:-10%} # ca.validity_jitter: how renewals a year on spread (0% for none)
SRC=$(cd "$(dirname "$0")/.." && pwd)
CTL=$BUILD/ctrcertctl
AGENT=$BUILD/ctrcert-agent
PY=/usr/bin/python3
. "$SRC/tests/sandbox.sh"

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
TICKS=$(getconf CLK_TCK)
# cpu_ms PID: user+system CPU time of PID so far.
cpu_ms() { awk -v t="$TICKS" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$1/stat"; }
# hwm_kib PID: peak resident set.
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

"$CTL" ca init "$T/root" >/dev/null || exit 1
cat >"$T/recorder" <<EOF
#!/bin/sh
# podman as the bench sees it: record the call, succeed.
echo "\$*" >>"\$(dirname "\$0")/runtime.log"
EOF
chmod +x "$T/recorder"

# node_setup I: the node's constrained CA, config, manifest; bus, certmonger, agent. Runs with T
# shadowed so that the sandbox's helpers put everything under the node's directory.
node_setup() {
        local i=$1 base=$T
        local T=$base/n$i
        mkdir -p "$T/pki"
        "$CTL" ca issue-node --root "$base/root" --node "n$i" --permit-dns ".n$i.example" --out "$T/ca" >/dev/null || return 1
        cp "$base/recorder" "$T/podman"
        cat >"$T/ctrcert.yaml" <<EOC
ca: {dir: $T/ca, validity_days: 30, validity_jitter: "$JITTER"}
state_dir: $T/state
manifest: $T/manifest.yaml
agent: {debounce: 2s, max_parallel: 4, ca_bundle: $T/ca/ca-bundle.pem, podman: $T/podman, podman_socket: ""}
EOC
        {
                echo "version: 1"
                echo "certificates:"
                for j in $(seq "$CERTS"); do
                        printf '  - {id: c%d, cert: %s/pki/c%d.crt, key: %s/pki/c%d.key, names: {dns: [c%d.n%d.example]}, ' \
                                "$j" "$T" "$j" "$T" "$j" "$j" "$i"
                        printf 'containers: [{name: ctr-%d, action: restart}]}\n' "$j"
                done
        } >"$T/manifest.yaml"
        start_bus && start_certmonger || return 1
        "$AGENT" --config "$T/ctrcert.yaml" --bus system >"$T/agent.log" 2>&1 &
        PIDS+=("$!")
        echo "${PIDS[-3]} ${PIDS[-2]} ${PIDS[-1]}" >"$T/pids" # bus, certmonger, agent
        gc add-ca -c ctrcert -e "$BUILD/ctrcert-submit --config $T/ctrcert.yaml" >/dev/null
}

# on_node I CMD…: CMD with the node's bus.
on_node() {
        local i=$1
        shift
        DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/n$i/bus.sock "$@"
}

count_files() { find "$T" -path '*/pki/c*.crt' | wc -l; }

echo "# fleet: $NODES nodes x $CERTS certificates; setting up"
t0=$(now)
for i in $(seq "$NODES"); do node_setup "$i" || { echo "# node $i failed to start"; exit 1; }; done
echo "setup of $NODES nodes (bus, certmonger, agent, node CA each): $(since "$t0") s"

# 1. Issuance.
TOTAL=$((NODES * CERTS))
t0=$(now)
for i in $(seq "$NODES"); do
        reqs=() # wait for these only: the nodes' daemons are children too
        for j in $(seq "$CERTS"); do
                on_node "$i" getcert request -S -c ctrcert -T "c$j" -I "c$j" -G EC -g 256 -N "CN=c$j.n$i.example" \
                        -D "c$j.n$i.example" -f "$T/n$i/pki/c$j.crt" -k "$T/n$i/pki/c$j.key" >/dev/null 2>&1 &
                reqs+=("$!")
        done
        wait "${reqs[@]}"
done
submitted=$(since "$t0")
for _ in $(seq 6000); do [ "$(count_files)" -ge "$TOTAL" ] && break; sleep 0.1; done
issued=$(since "$t0")
echo "issuance: $(count_files) of $TOTAL certificates in $issued s (requests submitted in $submitted s)"
bad=0
for i in $(seq "$NODES"); do
        for j in $(seq "$CERTS"); do
                openssl verify -CAfile "$T/root/root.crt" -untrusted "$T/n$i/ca/ca.crt" "$T/n$i/pki/c$j.crt" >/dev/null 2>&1 || bad=$((bad + 1))
        done
done
echo "certificates that do not chain to the fleet root through their node's CA: $bad"
# When they will renew: notAfter of every certificate, by hour. Without jitter one fleet deployed
# in a minute expires (and restarts its containers) in the same minute a validity later.
for f in "$T"/n*/pki/c*.crt; do date -d "$(openssl x509 -in "$f" -noout -enddate | cut -d= -f2)" +%s; done |
        sort -n >"$T/not-after"
echo "notAfter spread (ca.validity_jitter $JITTER): $(awk 'NR == 1 { lo = $1 } { hi = $1 }
        END { printf "%.1f h from first to last", (hi - lo) / 3600 }' "$T/not-after"); busiest hour: $(awk '{ print int($1 / 3600) }' \
        "$T/not-after" | uniq -c | sort -rn | head -n 1 | awk '{ print $1 }') of $(wc -l <"$T/not-after") certificates; hours with any: $(awk \
        '{ print int($1 / 3600) }' "$T/not-after" | uniq | wc -l)"
cross=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/n1/bus.sock timeout 20 getcert request -S -w -c ctrcert -T c1 -I cross -G EC -g 256 \
        -N CN=c1.n2.example -D c1.n2.example -f "$T/n1/cross.crt" -k "$T/n1/cross.key" 2>&1; on_node 1 getcert list -i cross | grep -E 'status|ca-error')
echo "node 1 asking for node 2's name: $(tr '\n' ' ' <<<"$cross")"
on_node 1 getcert stop-tracking -i cross >/dev/null 2>&1

# Let the agents finish the jobs of the first issuance, then start counting from zero.
sleep 4
for i in $(seq "$NODES"); do : >"$T/n$i/runtime.log"; done
for i in $(seq "$NODES"); do
        for j in $(seq "$CERTS"); do openssl x509 -in "$T/n$i/pki/c$j.crt" -noout -serial; done | sort >"$T/n$i/serials.before"
done

# 2. Fleet-wide renewal.
cat >"$T/resubmit.py" <<'EOP'
import dbus, sys
bus = dbus.SystemBus()
cm = bus.get_object("org.fedorahosted.certmonger", "/org/fedorahosted/certmonger")
for path in cm.get_requests(dbus_interface="org.fedorahosted.certmonger"):
    bus.get_object("org.fedorahosted.certmonger", path).resubmit(dbus_interface="org.fedorahosted.certmonger.request")
EOP
renewed() { # every serial of every node differs from before
        local i
        for i in $(seq "$NODES"); do
                for j in $(seq "$CERTS"); do openssl x509 -in "$T/n$i/pki/c$j.crt" -noout -serial; done | sort |
                        comm -12 - "$T/n$i/serials.before" | grep -q . && return 1
        done
        return 0
}
restarts() { cat "$T"/n*/runtime.log | grep -c '^restart '; }
cpu_before=()
for i in $(seq "$NODES"); do read -r _ _ a <"$T/n$i/pids"; cpu_before[i]=$(cpu_ms "$a"); done
t0=$(now)
reqs=()
for i in $(seq "$NODES"); do
        on_node "$i" "$PY" "$T/resubmit.py" &
        reqs+=("$!")
done
wait "${reqs[@]}"
submitted=$(since "$t0")
for _ in $(seq 6000); do [ "$(restarts)" -ge "$TOTAL" ] && break; sleep 0.1; done
done_at=$(since "$t0")
renewed && all_new=yes || all_new=no
sleep 3 # anything extra would show up now
echo "renewal: resubmitted in $submitted s; $(restarts) restarts of $TOTAL expected after $done_at s; every serial new: $all_new"
echo "restarts per container: $(grep -H '^restart ' "$T"/n*/runtime.log | sort | uniq -c | awk '{print $1}' | sort | uniq -c |
        awk '{printf "%s container(s) restarted %s time(s)  ", $1, $2}')"

# 3. Per node.
{
        for i in $(seq "$NODES"); do
                read -r bus cm agent <"$T/n$i/pids"
                echo "$(cpu_ms "$agent") $(($(cpu_ms "$agent") - cpu_before[i])) $(hwm_kib "$agent") $(cpu_ms "$cm") $(hwm_kib "$cm") $(cpu_ms "$bus") $(hwm_kib "$bus")"
        done
} >"$T/pernode"
awk '{ for (k = 1; k <= 7; k++) { s[k] += $k; if ($k > m[k]) m[k] = $k } } END {
        n = NR
        printf "per node (mean / max over %d): agent CPU %.0f / %d ms (renewal %.0f / %d ms), agent peak RSS %.1f / %.1f MiB\n", n, s[1]/n, m[1], s[2]/n, m[2], s[3]/n/1024, m[3]/1024
        printf "  certmonger CPU %.0f / %d ms, peak RSS %.1f / %.1f MiB; dbus-daemon CPU %.0f / %d ms, peak RSS %.1f / %.1f MiB\n", s[4]/n, m[4], s[5]/n/1024, m[5]/1024, s[6]/n, m[6], s[7]/n/1024, m[7]/1024
}' "$T/pernode"
