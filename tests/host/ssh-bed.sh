# shellcheck shell=bash
# Sourced by run.sh: the SSH test bed. The cached tree booted once more, with a private network
# namespace (nothing but lo), sshd enabled with a host key and an authorized key made for this
# run, and ssh-bed-guest.sh preparing podman; the guest stays up while ansible-playbook runs here,
# as a controller would, over SSH through a ProxyCommand that enters the guest's namespaces
# (tests/ansible/testbed.inventory.example). Three runs of tests/ansible/testbed.yml: the install
# (--skip-tags renewal), the renewal (--tags renewal), the same install again (changed=0). Every
# result is checked from here over SSH, not taken from the playbook's word.
BED_DEADLINE=${CTRCERT_BED_TIMEOUT:-300} # seconds from boot to the bed ready, and for sshd to answer
BED_PLAY_TIMEOUT=${CTRCERT_BED_PLAY_TIMEOUT:-900} # seconds for one ansible-playbook run
BED_PORT=15443

# leader NSPAWN_PID: the container's init (PID 1 in its PID namespace), nspawn's child.
leader() {
        local c
        for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
                [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$c/status" 2>/dev/null)" = 1 ] && echo "$c" && return 0
        done
        return 1
}
# gssh COMMAND…: a command on the bed over SSH, as the playbook reaches it; its errors in ssh.log.
gssh() {
        ssh -q -i "$BED/id" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=30 -o StrictHostKeyChecking=yes \
                -o UserKnownHostsFile="$BED/known_hosts" -o HostKeyAlias=ctrcert-testbed -o ControlMaster=no \
                -o ProxyCommand="nsenter --target $BED_LEADER --mount --net socat - TCP:127.0.0.1:22" root@127.0.0.1 "$@" 2>>"$BED/ssh.log"
}
bed_serial() { gssh openssl x509 -in /etc/pki/ctrcert-test/web.crt -noout -serial 2>/dev/null | cut -d= -f2; }
bed_served() {
        gssh "echo | timeout 5 openssl s_client -connect 127.0.0.1:$BED_PORT 2>/dev/null | openssl x509 -noout -serial" 2>/dev/null | cut -d= -f2
}
bed_serves() { local s; s=$(bed_served) && [ -n "$s" ] && [ "$s" = "$1" ]; }
bed_started() { gssh podman inspect -f '{{.State.StartedAt}}' web-1 2>/dev/null; }
no_bed_jobs() { gssh "ctrcertctl jobs | grep -qx '0 jobs'"; }

# play NAME ARGS…: testbed.yml against the bed, its output in $BED/NAME.log, its time in PLAY_S.
play() {
        local log=$BED/$1.log t rc
        shift
        t=$(date +%s.%N)
        (cd "$BED" && ANSIBLE_HOME=$BED/ansible ANSIBLE_LOCAL_TEMP=$BED/ansible/tmp ANSIBLE_COLLECTIONS_PATH=$TOP/ansible \
                ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PIPELINING=1 ANSIBLE_SSH_CONTROL_PATH_DIR=$BED/cp \
                timeout "$BED_PLAY_TIMEOUT" ansible-playbook -i "$BED/inventory" -e "ctrcert_testbed_deb=$BED_DEB" \
                "$@" "$TOP/tests/ansible/testbed.yml") >"$log" 2>&1
        rc=$?
        PLAY_S=$(since "$t")
        RECAP=$(grep -E '^bed +:' "$log" | tr -s ' ')
        echo "# ansible-playbook $* took ${PLAY_S} s: ${RECAP:-no recap}"
        [ "$rc" = 0 ] || grep -E 'fatal|FAILED|ERROR|msg' "$log" | tail -n 15 | sed 's/^/# play: /'
        return "$rc"
}
recap() { grep -o "$1=[0-9]*" <<<"$RECAP" | cut -d= -f2; }

# ssh_bed_cleanup: the guest's journal and the logs kept, whatever failed; ansible's SSH control
# masters (they outlive a run by ControlPersist) closed.
ssh_bed_cleanup() {
        local s
        [ -n "${BED_UP:-}" ] && gssh journalctl -b --no-pager -o short-monotonic >"$W/out/ssh/journal.txt"
        [ -n "${BED:-}" ] && cp "$BED"/*.log "$W/out/ssh/" 2>/dev/null
        for s in "${BED:-/nonexistent}"/cp/*; do
                [ -S "$s" ] && ssh -o ControlPath="$s" -O exit bed >/dev/null 2>&1
        done
}

ssh_bed() {
        local t end booted s0 w0 s1 w1 rc
        BED=$W/bed
        mkdir -p "$BED/cp" "$BED/ansible/tmp" "$W/out/ssh"
        # shellcheck disable=SC2154 # debs: run.sh's .deb paths
        BED_DEB=$(grep -v -e hosttest -e selinux <<<"$debs" | head -n 1)
        guest_tree ssh || { not_ok "the SSH bed's overlay mounts"; return 1; }

        # A key pair and a host key made for this run, nothing fixed in the repository.
        if ! ssh-keygen -q -t ed25519 -N '' -C ctrcert-host-test -f "$BED/id" ||
                ! ssh-keygen -q -t ed25519 -N '' -C ctrcert-testbed -f "$BED/host_key"; then
                not_ok "the bed's keys are made"
                return 1
        fi
        echo "ctrcert-testbed $(cut -d' ' -f1,2 "$BED/host_key.pub")" >"$BED/known_hosts"
        install -d -m 0700 "$MERGED/root/.ssh"
        install -m 0600 "$BED/id.pub" "$MERGED/root/.ssh/authorized_keys"
        install -m 0600 "$BED/host_key" "$MERGED/etc/ssh/ssh_host_ed25519_key"
        install -m 0644 "$BED/host_key.pub" "$MERGED/etc/ssh/ssh_host_ed25519_key.pub"
        printf '%s\n' "HostKey /etc/ssh/ssh_host_ed25519_key" "ListenAddress 127.0.0.1" "PasswordAuthentication no" \
                "KbdInteractiveAuthentication no" "PermitRootLogin prohibit-password" >"$MERGED/etc/ssh/sshd_config.d/ctrcert-test.conf"
        ln -sf /lib/systemd/system/ssh.service "$MERGED/etc/systemd/system/multi-user.target.wants/ssh.service"
        cat >"$MERGED/etc/systemd/system/ctrcert-host-bed.service" <<'EOU'
[Unit]
Description=ctrcert SSH test bed (tests/host/ssh-bed-guest.sh); the guest stays up
After=multi-user.target ssh.service

[Service]
Type=oneshot
ExecStart=/bin/bash /ctrcert-test/ssh-bed-guest.sh /ctrcert-out
StandardOutput=append:/ctrcert-out/bed.log
StandardError=inherit
EOU
        ln -sf ../ctrcert-host-bed.service "$MERGED/etc/systemd/system/multi-user.target.wants/ctrcert-host-bed.service"

        t=$(date +%s.%N)
        boot ssh "$W/out/ssh" --private-network
        end=$(($(date +%s) + BED_DEADLINE))
        while kill -0 "$NSPAWN_PID" 2>/dev/null && [ ! -e "$W/out/ssh/bed-ready" ] && [ ! -e "$W/out/ssh/bed-failed" ] &&
                [ "$(date +%s)" -lt "$end" ]; do
                sleep 0.2
        done
        check "the SSH bed boots, sshd up, podman's image ready" test -e "$W/out/ssh/bed-ready"
        if [ ! -e "$W/out/ssh/bed-ready" ]; then
                sed 's/^/# bed: /' "$W/out/ssh/bed-failed" 2>/dev/null
                tail -n 30 "$W/out/ssh/console.log" | sed 's/^/# console: /'
                return 1
        fi
        booted=$(since "$t")
        BED_LEADER=$(leader "$NSPAWN_PID") || { not_ok "the bed's init is found (a child of nspawn $NSPAWN_PID)"; return 1; }
        sed -e "s|BED_PID|$BED_LEADER|" -e "s|BED_KEY|$BED/id|" -e "s|BED_KNOWN_HOSTS|$BED/known_hosts|" \
                "$TOP/tests/ansible/testbed.inventory.example" >"$BED/inventory"
        check "sshd in the guest accepts the run's key (host key checked)" wait_until "$BED_DEADLINE" gssh true
        gssh true || { tail -n 5 "$BED/ssh.log" | sed 's/^/# ssh: /'; return 1; }
        BED_UP=1
        echo "# bed ready ${booted} s after boot, sshd answered $(since "$t") s after boot"
        check_eq "the bed's network is its own loopback only" lo "$(gssh ls /sys/class/net)"
        check_eq "… where sshd listens on 127.0.0.1:22 alone" 127.0.0.1:22 "$(gssh ss -Hltn | awk '$4 ~ /:22$/ { print $4 }')"

        # 1. The install, as an operator's first run.
        play install --skip-tags renewal
        rc=$?
        check_eq "ansible-playbook over SSH: the install run succeeds (${PLAY_S} s)" 0 "$rc"
        [ "$rc" = 0 ] || return 1 # the rest builds on it: no cascade of failures
        check_eq "… the package built from this tree is installed" \
                "install ok installed $(dpkg-deb -f "$BED_DEB" Version)" "$(gssh "dpkg-query -W -f='\${Status} \${Version}' ctrcert")"
        check "… the CA was made on the host" gssh test -s /etc/ctrcert/ca/private/ca.key -a -s /etc/ctrcert/ca/root.crt
        check_eq "… certmonger holds the request, MONITORING" MONITORING \
                "$(gssh getcert list -i web | sed -n 's/^[[:space:]]*status: //p')"
        check_eq "… ctrcert-agent enabled and running" "enabled active" \
                "$(gssh systemctl is-enabled ctrcert-agent | tr -d '\n') $(gssh systemctl is-active ctrcert-agent)"
        check_eq "… ctrcert-crl.timer enabled and running" "enabled active" \
                "$(gssh systemctl is-enabled ctrcert-crl.timer | tr -d '\n') $(gssh systemctl is-active ctrcert-crl.timer)"
        check "… the root is in the host's trust store" gssh test -e /etc/ssl/certs/ctrcert-root.pem
        s0=$(bed_serial)
        check "… web-1 serves the issued certificate (serial ${s0:-none})" wait_until 60 bed_serves "${s0:-none}"
        # The agent ran (the role's reload handler starts it) when the first certificate was saved:
        # its job restarts web-1, which was waiting for it. Settled before web-1's start is noted.
        check "… the agent's jobs are done" wait_until 120 no_bed_jobs
        w0=$(bed_started)

        # 2. A renewal reaches the container.
        play renewal --tags renewal
        check_eq "ansible-playbook over SSH: the renewal run succeeds (${PLAY_S} s)" 0 "$?"
        s1=$(bed_serial)
        check "… the certificate was renewed (serial $s0 -> ${s1:-none})" test -n "$s1" -a "$s1" != "$s0"
        w1=$(bed_started)
        check "… the agent restarted web-1 (StartedAt $w0 -> $w1)" test -n "$w1" -a "$w1" != "$w0"
        check "… web-1 serves the renewed serial" wait_until 60 bed_serves "${s1:-none}"
        check "… the agent's job is done" wait_until 120 no_bed_jobs
        check_eq "… the sandboxed agent wrote the bundle (the role's ReadWritePaths drop-in)" "${s1:-none}" \
                "$(gssh openssl x509 -in /etc/pki/ctrcert-test/bundle/web.pem -noout -serial 2>/dev/null | cut -d= -f2)"

        # 3. The same run again: nothing to change.
        play again --skip-tags renewal
        rc=$?
        check_eq "ansible-playbook over SSH: the second run succeeds (${PLAY_S} s)" 0 "$rc"
        check_eq "… and changes nothing (PLAY RECAP)" "changed=0 unreachable=0 failed=0" \
                "changed=$(recap changed) unreachable=$(recap unreachable) failed=$(recap failed)"
        [ "$(recap changed)" = 0 ] || grep -E '^changed:' "$BED/again.log" | sed 's/^/# changed: /'
        check "… web-1 left alone (StartedAt ${w1:-none})" test -n "$w1" -a "$w1" = "$(bed_started)"
        check "… the certificate too (serial ${s1:-none})" test -n "$s1" -a "$s1" = "$(bed_serial)"

        echo "# SSH bed: up $(since "$t") s in all"
}
