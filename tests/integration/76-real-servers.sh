#!/bin/bash
# The recipes of docs/migration.md against the real servers (Debian 12's packages in a container
# image the test builds from the cached base, tests/server-image.sh): haproxy 2.6 in master-worker
# mode with a PEM bundle and SIGUSR2, nginx (SIGHUP), Apache httpd with mod_ssl (graceful:
# SIGUSR1), memcached with TLS (refresh_certs on its text protocol, an exec action) and a
# kolla-shaped httpd (the host's files mounted under src-tls, copied to the live path at start).
# Each renewal: the server presents the new serial with its chain, only its container acted, the
# job result says what was proven. And haproxy without -W: its job fails at once, honestly.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/servers.sh"

make_ca_and_config || exit 1
P=$T/pki
cat >>"$CONF" <<EOC
agent:
  debounce: 300ms
  podman_socket: ""
  ca_bundle: $T/etc/ca/chain.pem
  step_timeout: 60s
  retry_attempts: 3
  retry_initial: 500ms
  retry_max: 2s
EOC
ids=(hap hapold ngx apa mem kol)
declare -A port=([hap]=16101 [hapold]=16102 [ngx]=16103 [apa]=16104 [mem]=16105 [kol]=16106)
for id in "${ids[@]}"; do mkdir -p "$P/$id"; done
verify() { echo "verify: {tls: \"127.0.0.1:${port[$1]}\", timeout: ${2:-90s}}"; }
kolla_live=/etc/pki/tls/kol
{
        echo "version: 1"
        echo "certificates:"
        entry hap "$P/hap"
        echo "    bundle: {path: $P/hap/hap.pem, parts: [cert, chain, key]}"
        echo "    containers: [{name: hap, action: reload, signal: USR2, $(verify hap)}]"
        entry hapold "$P/hapold" # the same recipe on a haproxy started without -W
        echo "    bundle: {path: $P/hapold/hapold.pem, parts: [cert, chain, key]}"
        echo "    containers: [{name: hapold, action: reload, signal: USR2, $(verify hapold 8s)}]"
        entry ngx "$P/ngx"
        echo "    bundle: {path: $P/ngx/ngx-chain.pem, parts: [cert, chain], mode: \"0644\"}"
        echo "    containers: [{name: ngx, action: reload, signal: HUP, $(verify ngx)}]"
        entry apa "$P/apa"
        echo "    bundle: {path: $P/apa/apa-chain.pem, parts: [cert, chain], mode: \"0644\"}"
        echo "    containers: [{name: apa, action: reload, signal: USR1, $(verify apa)}]"
        entry mem "$P/mem"
        echo "    bundle: {path: $P/mem/mem-chain.pem, parts: [cert, chain], mode: \"0644\"}"
        echo "    containers: [{name: mem, action: exec, exec: $(memcached_refresh "${port[mem]}"), $(verify mem)}]"
        entry kol "$P/kol"
        echo "    bundle: {path: $P/kol/kol-chain.pem, parts: [cert, chain], mode: \"0644\"}"
        echo "    containers:"
        echo "      - name: kol"
        echo "        copy: [{from: bundle, to: $kolla_live/kol-chain.pem}, {from: key, to: $kolla_live/kol.key}]"
        echo "        action: reload"
        echo "        signal: USR1"
        echo "        $(verify kol)"
} >"$T/etc/manifest.yaml"
start_world || exit 1
check "the server image is built (cached) and imported" import_servers || { finish; exit 1; }
for id in "${ids[@]}"; do issue_cert "$id" "$P/$id/$id.crt" "$P/$id/$id.key"; done
check_eq "six certificates issued through certmonger" 6 "$(gc list | grep -c 'status: MONITORING')"

# The first bundles, as the agent would write them (it writes them on each renewal).
for id in hap hapold; do cat "$P/$id/$id.crt" "$T/etc/ca/ca.crt" "$P/$id/$id.key" >"$P/$id/$id.pem"; done
for id in ngx apa mem kol; do cat "$P/$id/$id.crt" "$T/etc/ca/ca.crt" >"$P/$id/$id-chain.pem"; done

run_server haproxy hap "${port[hap]}" hap "$P/hap"
run_server haproxy-no-W hapold "${port[hapold]}" hapold "$P/hapold"
run_server nginx ngx "${port[ngx]}" ngx "$P/ngx"
run_server httpd apa "${port[apa]}" apa "$P/apa"
run_server memcached mem "${port[mem]}" mem "$P/mem"
# kolla's shape: the host's directory under src-tls, config.json's rule, a start script copying it.
src=/var/lib/kolla/config_files/src-tls
mkdir -p "$T/kolla"
printf '{"command": "apache2 -DFOREGROUND", "config_files": [{"source": "%s/*", "dest": "/", "merge": true}]}\n' \
        "$src" >"$T/kolla/config.json"
server_conf httpd "${port[kol]}" kol "$T/servers" "$kolla_live"
podman run -d --init --name kol --network host -v "$P/kol:$src$kolla_live:ro" -v "$T/servers:/conf:ro" \
        -v "$T/kolla/config.json:/var/lib/kolla/config_files/config.json:ro" "$SERVERS_IMAGE" \
        sh -c "cp -a $src/. / && exec apache2 -DFOREGROUND -f /conf/httpd-${port[kol]}.conf" >/dev/null

serves() { [ "$(served_serial "$1")" = "$2" ]; }
for id in "${ids[@]}"; do
        check "$id serves its first certificate" wait_until 60 serves "${port[$id]}" "$(serial "$P/$id/$id.crt")"
done 2>/dev/null
declare -A started
for id in "${ids[@]}"; do started[$id]=$(started_at "$id"); done
watch_jobs
check "the agent starts" start_agent

# acted NAME: the containers podman signalled, restarted or exec'd into since mark (events log).
mark() { MARK=$(wc -l <"$T/podman/events.log"); }
acted() {
        tail -n +"$((MARK + 1))" "$T/podman/events.log" |
                grep -E '"Status":"(kill|restart|exec|start|died)"' | grep -o '"Name":"[^"]*"' | cut -d'"' -f4 | sort -u | tr '\n' ' '
}

# renew ID: resubmit and wait for its job (generous: a loaded machine).
renew() {
        mark
        local n
        n=$(jobs_for "$1")
        gc resubmit -i "$1" >/dev/null
        wait_until 240 has_jobs "$1" "$((n + 1))"
}

for id in hap ngx apa mem kol; do
        renew "$id"
        new=$(serial "$P/$id/$id.crt")
        check_eq "$id renewed: ok" ok "$(last_result "$id")"
        check_contains "… the result says what was proven" "$id: serving serial $new on 127.0.0.1:${port[$id]}" \
                "$(last_message "$id")"
        check_eq "… it serves the new serial" "$new" "$(served_serial "${port[$id]}")"
        check "… with its chain (a client trusting only the root accepts it)" chain_verifies "${port[$id]}" "$T/etc/ca/root.crt"
        check_eq "… only $id acted" "$id " "$(acted)"
done

# haproxy without master-worker mode ignores SIGUSR2 (and SIGHUP): the old certificate stays.
old=$(served_serial "${port[hapold]}")
renew hapold
check_eq "haproxy without -W: the job fails, no false ok" failed "$(last_result hapold)"
check_contains "… saying the old serial is still served" "still serving serial $old" "$(last_message hapold)"
check_contains "… at once, not after retries of the signal" "not retried" "$(last_message hapold)"
check_eq "… it was signalled once" 1 "$(tail -n +"$((MARK + 1))" "$T/podman/events.log" | grep -c '"Status":"kill"')"

for id in "${ids[@]}"; do
        check_eq "$id was never restarted" "${started[$id]}" "$(started_at "$id")"
done
kill -TERM "$AGENT_PID"
finish
