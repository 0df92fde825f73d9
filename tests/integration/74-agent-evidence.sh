#!/bin/bash
# No silent false success: a binding without verify gets the agent's own evidence — the
# certificate at the path the container reads (its copy: destination, its mount, or the copy
# kolla's start script makes from config.json) must be the saved one, read through the runtime.
# A kolla-shaped container reloaded without copy: keeps its start-time copy: the job fails at
# once, naming the path, instead of reporting ok (or repeating the reload).
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
P=$T/pki
mkdir -p "$P/kol" "$P/kolc" "$P/mnt" "$P/one" "$P/kolx" "$P/kolr" "$P/bun" "$T/bundles"
cat >>"$CONF" <<EOC
agent:
  debounce: 300ms
  podman_socket: ""
  ca_bundle: $T/etc/ca/chain.pem
  step_timeout: 30s
  retry_attempts: 3
  retry_initial: 200ms
  retry_max: 1s
EOC
{
        echo "version: 1"
        echo "certificates:"
        entry kol "$P/kol"
        echo "    containers: [{name: kol, action: reload}]"
        entry kolc "$P/kolc"
        echo "    containers:"
        echo "      - name: kolc"
        echo "        copy: [{from: cert, to: /etc/pki/tls/kolc/kolc.crt}, {from: key, to: /etc/pki/tls/kolc/kolc.key}]"
        echo "        action: reload"
        entry mnt "$P/mnt"
        echo "    containers: [{name: mnt, action: reload}]"
        entry one "$P/one"
        echo "    containers: [{name: one, action: none}]"
        entry kolr "$P/kolr" # restarted: kolla's start script copies the new files itself
        echo "    containers: [{name: kolr, action: restart}]"
        entry bun "$P/bun" # its container mounts only the bundle's directory
        echo "    bundle: {path: $T/bundles/bun.pem, parts: [cert, chain, key]}"
        echo "    containers: [{name: bun, action: none}]"
        entry kolx "$P/kolx" # audited only: its copy misses the path kolla puts the file at
        echo "    containers: [{name: kolx, action: reload, copy: [{from: cert, to: /etc/pki/tls/wrong.crt}]}]"
} >"$T/etc/manifest.yaml"
start_world || exit 1
for id in kol kolc mnt one kolr bun kolx; do issue_cert "$id" "$P/$id/$id.crt" "$P/$id/$id.key"; done
check_eq "seven certificates issued through certmonger" 7 "$(gc list | grep -c 'status: MONITORING')"

# kolla_container NAME PORT: TripleO's shape — the host directory mounted under src-tls, copied to
# the live path by the start script (rules in config.json) before the server starts.
kolla_container() {
        local name=$1 port=$2 src=/var/lib/kolla/config_files/src-tls
        mkdir -p "$T/kolla/$name"
        printf '{"command": "tls-serve", "config_files": [{"source": "%s/*", "dest": "/", "merge": true}]}\n' \
                "$src" >"$T/kolla/$name/config.json"
        podman run -d --init --name "$name" --network host \
                -v "$P/$name:$src/etc/pki/tls/$name:ro" \
                -v "$T/kolla/$name/config.json:/var/lib/kolla/config_files/config.json:ro" \
                localhost/ctrcert-tls sh -c "tar -C $src -cf - . | tar -C / -xf - && exec tls-serve $port \
                        /etc/pki/tls/$name/$name.crt /etc/pki/tls/$name/$name.key" >/dev/null
}
kolla_container kol 15041
kolla_container kolc 15042
kolla_container kolx 15044
kolla_container kolr 15045
sleeper bun -v "$T/bundles:/b:ro"
run_tls_container mnt 15043 "$P/mnt/mnt.crt" "$P/mnt/mnt.key"
sleeper one -v "$P/one/one.crt:/one.crt:ro" # one file bind-mounted: it keeps the inode it had
check "kol serves its first certificate" wait_serial 15041 "$(serial "$P/kol/kol.crt")"
check "kolc serves its first certificate" wait_serial 15042 "$(serial "$P/kolc/kolc.crt")"
reloads() { podman exec "$1" cat /tmp/reloads 2>/dev/null | wc -l; }
watch_jobs
check "the agent starts" start_agent

# ---- kolla without copy: the old certificate is what the server reads ----
old=$(serial "$P/kol/kol.crt")
gc resubmit -i kol >/dev/null
wait_jobs kol 1
check_eq "kolla, reload, no copy: the job fails instead of a false ok" failed "$(last_result kol)"
check_contains "… naming the live path and the serial still there" \
        "verify kol: still reads the old certificate at /etc/pki/tls/kol/kol.crt (serial $old" "$(last_message kol)"
check_contains "… and what to do" "copy: [{from: cert, to: /etc/pki/tls/kol/kol.crt}] or action: restart" "$(last_message kol)"
check_contains "… at once, without repeating the reload" "not retried" "$(last_message kol)"
check_eq "… so the container was signalled once" 1 "$(reloads kol)"
check_eq "… and it indeed still serves the old serial" "$old" "$(served_serial 15041)"

# ---- kolla with copy to the live path: the reload picks the new one up ----
gc resubmit -i kolc >/dev/null
wait_jobs kolc 1
new=$(serial "$P/kolc/kolc.crt")
check_eq "kolla with copy: ok" ok "$(last_result kolc)"
check_contains "… proven by the file the container reads, and says TLS was not checked" \
        "kolc: files in place: reads serial $new at /etc/pki/tls/kolc/kolc.crt (SHA-256 matches), not verified by TLS" \
        "$(last_message kolc)"
check "… and it serves the new serial" wait_serial 15042 "$new"

# ---- kolla restarted: its start script copies the new file, the evidence waits for it ----
gc resubmit -i kolr >/dev/null
wait_jobs kolr 1
check_eq "kolla, restart, no copy: ok" ok "$(last_result kolr)"
check_contains "… proven at the live path the start script copied to" \
        "kolr: files in place: reads serial $(serial "$P/kolr/kolr.crt") at /etc/pki/tls/kolr/kolr.crt" "$(last_message kolr)"

# ---- a directory mount: the container sees the host's new file ----
gc resubmit -i mnt >/dev/null
wait_jobs mnt 1
check_eq "a mounted directory: ok" ok "$(last_result mnt)"
check "… proven at the mount's path (/c or /k: the same directory twice)" \
        grep -qE "mnt: files in place: reads serial $(serial "$P/mnt/mnt.crt") at /[ck]/mnt.crt" <<<"$(last_message mnt)"

# ---- only the bundle mounted: the bundle is what the container reads ----
gc resubmit -i bun >/dev/null
wait_jobs bun 1
check_eq "a mounted bundle: ok" ok "$(last_result bun)"
check_contains "… proven in the bundle" "bun: files in place: reads serial $(serial "$P/bun/bun.crt") at /b/bun.pem" "$(last_message bun)"

# ---- one file bind-mounted: certmonger's new file is not the one the container holds open ----
gc resubmit -i one >/dev/null
wait_jobs one 1
if [ "$(podman exec one cat /one.crt)" = "$(cat "$P/one/one.crt")" ]; then
        check_eq "a single-file mount that sees the new file: ok" ok "$(last_result one)"
else
        check_eq "a single-file mount left on the old inode: failed" failed "$(last_result one)"
        check_contains "… saying so" "verify one: still reads the old certificate at /one.crt" "$(last_message one)"
fi

# ---- audit reads kolla's config.json through the runtime ----
out=$(ctl audit)
check_contains "audit: a kolla container bound without copy to the live path" \
        "kolla: podman kol copies $P/kol/kol.crt (certificate kol) to /etc/pki/tls/kol/kol.crt at start, but its binding has no copy to /etc/pki/tls/kol/kol.crt" "$out"
check_contains "… the key too (a rekey would leave a mismatched pair)" "podman kol copies $P/kol/kol.key (certificate kol) to /etc/pki/tls/kol/kol.key" "$out"
check_contains "audit: the reverse, a copy that misses the path the server reads" \
        "kolla: podman kolx: the binding of kolx copies cert to /etc/pki/tls/wrong.crt, but the server reads it at /etc/pki/tls/kolx/kolx.crt" "$out"
check "audit: nothing about the kolla container whose copies match" lacks "podman kolc" "$out"
check "audit: nothing about a kolla container that restarts" lacks "podman kolr" "$out"
check "audit: nothing about containers that are not kolla's" lacks "kolla: podman mnt" "$out"

# ---- manifest check: bindings that nothing verifies ----
out=$(ctl manifest check "$T/etc/manifest.yaml")
check_contains "manifest check warns about a reload that nothing verifies" \
        "kol (container kol): no verify: nothing proves the service loaded the new certificate" "$out"
{ echo "version: 1"; echo "certificates:"; entry r "$P"; echo "    containers: [{name: r1, action: restart}]"; } >"$T/restart.yaml"
check_contains "… not about a restart (the files are then what it loads)" "0 warnings" "$(ctl manifest check "$T/restart.yaml")"
kill -TERM "$AGENT_PID"
finish
