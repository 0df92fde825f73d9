#!/bin/bash
# make bench (downtime part): what a renewal costs the clients of real servers (Debian 12's
# haproxy -W, nginx, Apache httpd, memcached with TLS in containers; tests/servers.sh). A bounded
# client loop (bench/tls-loop.c: sequential full handshakes on loopback, stopped by a file, at most
# 200000) runs against each renewed server while certmonger renews its certificate, and counts
# failed handshakes and the no-service window, for:
#   reload    ctrcert-agent, each server's reload (USR2, HUP, USR1, refresh_certs exec) + verify
#   restart   ctrcert-agent, action restart + verify, agent.max_parallel 4 (the default) and 1
#   baseline  no agent: certmonger's post-save command `podman restart NAME`, as deployments do today
# one renewal at a time and all four at once; also the container starts per renewal (a burst must
# restart each container once) and whether certmonger got stuck in POST_SAVED_CERT.
# Results are recorded by hand in bench/RESULTS.md.   ROUNDS=N (default 2) rounds of each.
set -u
BUILD=${1:?usage: bench-downtime.sh BUILDDIR}
export BUILD
SRC=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-2}
. "$SRC/tests/integration/lib.sh"
. "$SRC/tests/servers.sh"

${CC:-cc} -O2 -o "$T/tls-loop" "$SRC/bench/tls-loop.c" $(pkg-config --cflags --libs libssl libcrypto) || exit 1
make_ca_and_config || exit 1
cp "$CONF" "$T/base.yaml"
P=$T/pki
ids=(hap ngx apa mem)
declare -A port=([hap]=16201 [ngx]=16202 [apa]=16203 [mem]=16204)
declare -A kind=([hap]=haproxy [ngx]=nginx [apa]=httpd [mem]=memcached)
declare -A sig=([hap]=USR2 [ngx]=HUP [apa]=USR1)

# manifest MODE: every server bound with its reload (or an exec for memcached), or with restart.
manifest() {
        local id action
        {
                echo "version: 1"
                echo "certificates:"
                for id in "${ids[@]}"; do
                        entry "$id" "$P/$id"
                        if [ "$1" = restart ]; then
                                action="action: restart"
                        elif [ "$id" = mem ]; then
                                action="action: exec, exec: $(memcached_refresh "${port[mem]}")"
                        else
                                action="action: reload, signal: ${sig[$id]}"
                        fi
                        echo "    containers: [{name: $id, $action, verify: {tls: \"127.0.0.1:${port[$id]}\", timeout: 90s}}]"
                done
        } >"$T/etc/manifest.yaml"
}
manifest reload
start_world >/dev/null || exit 1
podman system service --time=0 "unix://$T/podman/api.sock" >"$T/api.log" 2>&1 &
PIDS+=("$!")
import_servers || exit 1
for id in "${ids[@]}"; do
        mkdir -p "$P/$id"
        issue_cert "$id" "$P/$id/$id.crt" "$P/$id/$id.key" || exit 1
        # The servers read certmonger's files as they are (haproxy loads NAME.pem.key beside NAME.pem).
        ln -s "$id.crt" "$P/$id/$id.pem" && ln -s "$id.key" "$P/$id/$id.pem.key" && ln -s "$id.crt" "$P/$id/$id-chain.pem"
        run_server "${kind[$id]}" "$id" "${port[$id]}" "$id" "$P/$id"
done
for id in "${ids[@]}"; do
        wait_until 60 test -n "$(served_serial "${port[$id]}")" || { echo "# $id does not serve" >&2; exit 1; }
done
watch_jobs

# agent MAX_PARALLEL: (re)starts the agent on the current manifest, restarts through podman's API;
# 0 stops it.
agent() {
        [ -n "${AGENT_PID:-}" ] && kill -TERM "$AGENT_PID" && wait_until 30 agent_gone
        cp "$T/base.yaml" "$CONF.new"
        [ "$1" = 0 ] || printf 'agent:\n  debounce: 300ms\n  podman_socket: %s\n  max_parallel: %s\n  step_timeout: 60s\n  restart_budget: 0\n' \
                "$T/podman/api.sock" "$1" >>"$CONF.new"
        mv "$CONF.new" "$CONF"
        if [ "$1" = 0 ]; then AGENT_PID=; else start_agent; fi
}

starts() { tail -n +"$((MARK + 1))" "$T/podman/events.log" | grep '"Status":"start"' | grep -c "\"Name\":\"$1\""; }
renewed() {
        local id now
        for id in "$@"; do
                now=$(serial "$P/$id/$id.crt")
                [ "$now" != "${old[$id]}" ] && [ "$(served_serial "${port[$id]}")" = "$now" ] || return 1
        done
}
settled() { [ "$(gc list | grep -c 'status: MONITORING')" -eq 4 ]; }
jobs_done() { local id; for id in "$@"; do [ "$(jobs_for "$id")" -ge "${want[$id]}" ] || return 1; done; }

# round MODE SCOPE ID…: renews the IDs together with clients on each; prints a row per ID.
round() {
        local mode=$1 scope=$2 id stuck
        shift 2
        declare -gA want old
        local loops=()
        rm -f "$T"/stop "$T"/ready-*
        for id in "$@"; do
                "$T/tls-loop" "${port[$id]}" 200000 "$T/stop" "$T/ready-$id" >"$T/loop-$id.out" &
                loops+=("$!")
        done
        for id in "$@"; do wait_until 30 test -e "$T/ready-$id"; done
        MARK=$(wc -l <"$T/podman/events.log")
        for id in "$@"; do want[$id]=$(($(jobs_for "$id") + 1)) old[$id]=$(serial "$P/$id/$id.crt"); done
        for id in "$@"; do gc resubmit -i "$id" >/dev/null; done
        if [ "${mode#baseline}" != "$mode" ]; then
                wait_until 180 renewed "$@"
        else
                wait_until 180 jobs_done "$@"
        fi
        stuck=0
        wait_until 30 settled || stuck=1 # certmonger back to MONITORING for every request
        sleep 0.5 # the loops see the servers settled
        touch "$T/stop"
        wait "${loops[@]}" # each ends within a handshake's bound (5 s)
        for id in "$@"; do
                local res=-
                [ "${mode#baseline}" = "$mode" ] && res=$(last_result "$id")
                printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$mode" "$scope" "${kind[$id]}" \
                        "$(sed 's/ serials=.*//; s/attempts=//; s/ failed=/ | /; s/ window_ms=/ | /; s/ slowest_ms=/ | /' "$T/loop-$id.out")" \
                        "$(starts "$id")" "$res" "$([ "$stuck" = 1 ] && echo stuck || echo -)"
        done
        rm -f "$T"/loop-*.out
}

# runs MODE: each server alone, then all four together, ROUNDS times.
runs() {
        local r id
        for r in $(seq "$ROUNDS"); do
                for id in "${ids[@]}"; do round "$1" "one" "$id"; done
                round "$1" "all" "${ids[@]}"
        done
}

echo "| mode | scope | server | handshakes | failed | window ms | slowest ms | starts | job | certmonger |"
echo "|---|---|---|---|---|---|---|---|---|---|"
agent 4
runs reload
manifest restart
agent 4
runs restart
agent 1
for r in $(seq "$ROUNDS"); do round restart-mp1 all "${ids[@]}"; done
agent 0
# The baseline as deployments write it: certmonger's post-save `podman restart NAME`. conmon
# inherits certmonger's pipe to the command (not stdin/stdout/stderr: another fd, so a
# redirection does not help), and certmonger waits in POST_SAVED_CERT until that container stops
# again, saving nothing else meanwhile. Seen once, undone by a restart from here (that conmon
# exits), then measured with every inherited fd above 2 closed before podman runs.
env="/usr/bin/env CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF"
gc start-tracking -i hap -C "$env podman restart hap" >/dev/null
round baseline-plain one hap
podman restart hap >/dev/null
wait_until 60 settled || echo "# certmonger still not settled after restarting hap from outside" >&2
for id in "${ids[@]}"; do
        gc start-tracking -i "$id" -C "/bin/bash -c 'for fd in /proc/\$\$/fd/*; do fd=\${fd##*/}; [ \$fd -gt 2 ] && exec {fd}>&-; done; exec $env podman restart $id >/dev/null 2>&1'" >/dev/null
done
runs baseline
