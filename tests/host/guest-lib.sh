# shellcheck shell=bash
# Shared by the guest scenarios (scenario.sh under nspawn, scenario-selinux.sh in the SELinux
# VM): paths, waits with deadlines, and the renewal flow's pieces. Sourced inside the guest.
CONF=/etc/ctrcert/ctrcert.yaml
PKI=/etc/pki/ctrcert-test
HELPER=/usr/lib/certmonger/ctrcert-submit

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# wait_for SECONDS COMMAND…: until COMMAND succeeds, polling every 0.1 s.
wait_for() {
        local end=$(($(date +%s) + $1))
        shift
        while ! "$@" >/dev/null 2>&1; do
                [ "$(date +%s)" -ge "$end" ] && return 1
                sleep 0.1
        done
}
mode() { stat -c %a "$1" 2>/dev/null; }
serial() { openssl x509 -in "$1" -noout -serial 2>/dev/null | cut -d= -f2; }
served_serial() { echo | timeout 5 openssl s_client -connect "127.0.0.1:$1" 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2; }
serves() { [ "$(served_serial "$1")" = "$2" ]; }
started_at() { podman inspect -f '{{.State.StartedAt}}' "$1" 2>/dev/null; }
conmon_pid() { podman inspect -f '{{.State.ConmonPid}}' "$1" 2>/dev/null; }
running() { [ "$(podman inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
differs() { [ "$("${@:2}")" != "$1" ]; }
status_of() { getcert list -i "$1" 2>/dev/null | sed -n 's/^[[:space:]]*status: //p'; }
has_owner() {
        dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.NameHasOwner string:org.ctrcert.Agent1 2>/dev/null | grep -q 'boolean true'
}
bindings() {
        dbus-send --system --print-reply --dest=org.ctrcert.Agent1 /org/ctrcert/Agent1 \
                org.ctrcert.Agent1.ListBindings 2>/dev/null | grep -c '^ *struct {'
}
prop() { systemctl show -p "$2" --value "$1"; }
# check_status_answers WHO LIMIT_MS: ctrcertctl status from this shell answers within LIMIT_MS.
# 0, 1 or 2 are its answers (all well, a job failed or held, a certificate missing or expiring: a
# monitoring check's codes); anything else, or no report, is no answer.
check_status_answers() {
        local t rc ms
        t=$(date +%s%N)
        ctrcertctl --config "$CONF" status >"$OUT/status.txt" 2>&1
        rc=$?
        ms=$(ms_since "$t")
        check "ctrcertctl status answers $1 (exit $rc, a report)" test "$rc" -le 2 -a -s "$OUT/status.txt"
        check "… with its bindings" grep -q "binding" "$OUT/status.txt"
        check "… within $2 ms (${ms} ms)" test "$ms" -lt "$2"
}
# no_jobs: the agent has finished every job (a job interrupted by a restart of the agent is redone).
no_jobs() { ctrcertctl --config /etc/ctrcert/ctrcert.yaml jobs 2>/dev/null | grep -q '^0 jobs$'; }
journal() { journalctl -b --no-pager -o short-monotonic "$@" 2>/dev/null; }
# exposure: systemd-analyze security's overall score of the agent's unit as it is now (drop-ins
# included); the table goes to $OUT/security.txt.
exposure() {
        systemd-analyze security --no-pager ctrcert-agent.service >"$OUT/security.txt" 2>&1
        sed -n 's/.*Overall exposure level for ctrcert-agent.service: \([0-9.]*\).*/\1/p' "$OUT/security.txt"
}
score_at_most() { awk -v max="$1" -v s="$2" 'BEGIN { exit !(s != "" && s + 0 <= max + 0) }'; }

# write_config: ctrcert.yaml for the flow (agent through podman's API socket).
write_config() {
        cat >"$CONF" <<EOC
ca:
  dir: /etc/ctrcert/ca
  validity_days: 30
state_dir: /var/lib/ctrcert
manifest: /etc/ctrcert/manifest.yaml
agent:
  debounce: 500ms
  ca_bundle: /etc/ctrcert/ca/ca-bundle.pem
  podman_socket: /run/podman/podman.sock
EOC
}
# entry ID CONTAINER [PORT]: a manifest entry for ID.example, restarting CONTAINER; with PORT the
# job proves it by TLS (verify), else by the agent's own evidence (through podman's API).
entry() {
        printf '  - id: %s\n    cert: %s/%s/%s.crt\n    key: %s/%s/%s.key\n    names: {dns: [%s.example]}\n' \
                "$1" "$PKI" "$1" "$1" "$PKI" "$1" "$1" "$1"
        if [ -n "${3:-}" ]; then
                printf '    containers: [{name: %s, action: restart, verify: {tls: "127.0.0.1:%s", timeout: 120s}}]\n' "$2" "$3"
        else
                printf '    containers: [{name: %s, action: restart}]\n' "$2"
        fi
}
# files_entry: the id "files", bound to every container named files<N> (match:), whose cert and
# key are copied in, then an exec action, and no verify (the agent's evidence); a bundle on the
# host; and a command on the host (runtime systemd: verify exec runs there, in the agent's sandbox).
files_entry() {
        cat <<EOM
  - id: files
    cert: $PKI/files/files.crt
    key: $PKI/files/files.key
    names: {dns: [files.example]}
    bundle: {path: $PKI/files/bundle.pem, parts: [cert, key]}
    containers:
      - match: "^files[0-9]+\$"
        copy: [{from: cert, to: /tmp/files.crt}, {from: key, to: /tmp/files.key}]
        action: exec
        exec: [cp, /tmp/files.crt, /tmp/exec-ran.crt]
      - name: files-host.service
        runtime: systemd
        action: none
        verify: {exec: [/usr/bin/logger, -t, ctrcert-host-exec, files renewed]}
EOM
}
write_manifest() {
        mkdir -p "$PKI/web" "$PKI/other" "$PKI/evil" "$PKI/extra" "$PKI/files"
        {
                echo "version: 1"
                echo "certificates:"
                entry web web1 15443
                entry other other1 15444
        } >/etc/ctrcert/manifest.yaml
}
# req TEMPLATE NAME: getcert request -w for NAME.example under the manifest id TEMPLATE.
req() {
        getcert request -w -c ctrcert -T "$1" -I "$2" -G EC -g 256 -N "CN=$2.example" -D "$2.example" \
                -f "$PKI/$2/$2.crt" -k "$PKI/$2/$2.key" >>"$OUT/requests.log" 2>&1
}
# containers_conf [LINE…]: the guest's containers.conf, with extra [containers] lines.
containers_conf() {
        mkdir -p /etc/containers
        {
                echo "[containers]"
                printf '%s\n' "$@"
                echo "[engine]"
                echo 'runtime = "runc"'
        } >/etc/containers/containers.conf
}
# build_image: localhost/ctrcert-tls from busybox-static, openssl and its libraries.
build_image() {
        local img=/root/tls-image lib c
        mkdir -p "$img/bin" "$img/etc" "$img/tmp"
        cp /bin/busybox "$img/bin/"
        for c in sh sleep cat kill ls echo true cp tar; do ln -sf busybox "$img/bin/$c"; done
        cp /usr/bin/openssl "$img/bin/"
        for lib in $(ldd /usr/bin/openssl | grep -o '/[^ ]*'); do
                mkdir -p "$img$(dirname "$lib")"
                cp -L "$lib" "$img$lib"
        done
        echo 'root:x:0:0:root:/:/bin/sh' >"$img/etc/passwd"
        tar -C "$img" -cf /root/tls-image.tar . && podman import -q /root/tls-image.tar localhost/ctrcert-tls >"$OUT/podman.log" 2>&1
}
# serve NAME ID PORT: container NAME serving ID's certificate with --init.
serve() {
        podman run -d --init --name "$1" --network host -v "$PKI/$2:/c:ro" localhost/ctrcert-tls \
                openssl s_server -quiet -accept "127.0.0.1:$3" -cert "/c/$2.crt" -key "/c/$2.key" -www >>"$OUT/podman.log" 2>&1
}
# check_web_renewal SECONDS RESTART_SECONDS [NOTE]: getcert resubmit renews web, the agent
# restarts web1 (NOTE ends that check's name) and only web1, which serves the renewed serial.
# Sets w0, o0 and s0 (web1's and other1's start, web's serial before) for later checks.
check_web_renewal() {
        w0=$(started_at web1)
        o0=$(started_at other1)
        s0=$(serial "$PKI/web/web.crt")
        getcert resubmit -i web >/dev/null 2>&1
        check "getcert resubmit renews web" wait_for "$1" differs "$s0" serial "$PKI/web/web.crt"
        check "the agent restarts web1${3:-}" wait_for "$2" differs "$w0" started_at web1
        check "web1 serves the renewed serial" wait_for "$1" serves 15443 "$(serial "$PKI/web/web.crt")"
        check_eq "other1 was not restarted" "$o0" "$(started_at other1)"
}
