#!/bin/bash
# run.sh SRCDIR [OUTDIR]: the real-host layer. Builds (or reuses) the cached Debian 12 root
# filesystem (rootfs.sh), builds the project's .deb from SRCDIR (build-deb.sh), boots the tree
# with systemd-nspawn — real systemd as PID 1, a real system bus, nested podman — through an
# overlayfs so the cache stays untouched, and runs scenario.sh inside as a oneshot unit that
# powers the guest off. Then boots it again as the SSH test bed (ssh-bed.sh): the guest stays up
# with sshd on its own loopback while the Ansible role is run against it from here, over SSH, as
# a controller would. Prints the ok / not ok lines; the journal and logs stay in OUTDIR (default:
# a temp dir, removed) when one is given. CTRCERT_HOST_ONLY=scenario or =ssh runs one of the two.
# It never starts systemd on this machine: systemd runs only as the containers' PID 1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${1:?usage: run.sh SRCDIR [OUTDIR]}
KEEP=${2:-}
BOOT_DEADLINE=${CTRCERT_HOST_TIMEOUT:-900} # seconds from boot to power-off
ONLY=${CTRCERT_HOST_ONLY:-}
. "$HERE/../check.sh"

case $ONLY in
"" | scenario | ssh) ;;
*)
        echo "CTRCERT_HOST_ONLY must be scenario or ssh (not '$ONLY')" >&2
        exit 2
        ;;
esac
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }
tools=(systemd-nspawn debootstrap dpkg-buildpackage)
want ssh && tools+=(ansible-playbook ssh ssh-keygen nsenter)
for tool in "${tools[@]}"; do
        if ! command -v "$tool" >/dev/null; then
                not_ok "$tool is installed (./quickstart.sh test installs systemd-container, debootstrap, debhelper, ansible-core, openssh-client)"
                finish host
                exit 1
        fi
done

W=$(mktemp -d /var/tmp/ctrcert-host.XXXXXX) || exit 1
NSPAWN_PID=
GUESTS=() # nspawn PIDs still to stop
MOUNTS=() # overlays still to unmount
# stop_guest PID: nspawn powers its guest off on SIGTERM; KILL after 30 s.
stop_guest() {
        kill -0 "$1" 2>/dev/null || return 0
        kill -TERM "$1"
        for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$1" 2>/dev/null && kill -KILL "$1"
        wait "$1" 2>/dev/null
}
cleanup() {
        local p m
        declare -F ssh_bed_cleanup >/dev/null && ssh_bed_cleanup
        for p in "${GUESTS[@]}"; do stop_guest "$p"; done
        for m in "${MOUNTS[@]}"; do mountpoint -q "$m" && umount "$m"; done
        if [ -n "$KEEP" ]; then
                mkdir -p "$KEEP" && cp -r "$W/out/." "$KEEP/" 2>/dev/null
        fi
        rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t=$(date +%s)
ROOT=$("$HERE/rootfs.sh") || { not_ok "the Debian 12 root filesystem is built"; finish host; exit 1; }
echo "# root filesystem $ROOT ready in $(($(date +%s) - t)) s"
t=$(date +%s)
mkdir -p "$W/in/debs" "$W/out"
debs=$("$HERE/build-deb.sh" "$TOP" "$W/in/debs") || { not_ok "the .deb is built"; finish host; exit 1; }
echo "# .deb built in $(($(date +%s) - t)) s: $(basename -a $debs | tr '\n' ' ')"
cp "$HERE/scenario.sh" "$HERE/ssh-bed-guest.sh" "$HERE/guest-lib.sh" "$HERE/../check.sh" "$W/in/"

# guest_tree NAME: the cached tree under a throw-away upper layer at $W/NAME/merged ($MERGED),
# with the mount points of the inputs and outputs, and what must not run in a container masked.
guest_tree() {
        MERGED=$W/$1/merged
        mkdir -p "$W/$1/upper" "$W/$1/work" "$W/$1/containers" "$MERGED"
        mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$W/$1/upper,workdir=$W/$1/work" "$MERGED" || return 1
        MOUNTS+=("$MERGED")
        mkdir -p "$MERGED/ctrcert-test" "$MERGED/ctrcert-out" "$MERGED/var/lib/containers" \
                "$MERGED/etc/systemd/system/multi-user.target.wants"
        # Not in a container: auditd would configure the build machine's kernel audit; apt's timers
        # would take the dpkg lock the scenario needs.
        for u in auditd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
                ln -sf /dev/null "$MERGED/etc/systemd/system/$u"
        done
}
# boot NAME OUTDIR [NSPAWN_OPTION…]: boots $W/NAME/merged in the background ($NSPAWN_PID), the
# inputs read-only at /ctrcert-test, OUTDIR at /ctrcert-out, the console in OUTDIR/console.log.
boot() {
        SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet -b -D "$W/$1/merged" --register=no --keep-unit \
                --console=pipe --capability=all --system-call-filter='@keyring bpf' \
                --bind-ro="$W/in:/ctrcert-test" --bind="$2:/ctrcert-out" --bind="$W/$1/containers:/var/lib/containers" \
                "${@:3}" </dev/null >"$2/console.log" 2>&1 &
        NSPAWN_PID=$!
        GUESTS+=("$NSPAWN_PID")
}

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# scenario: scenario.sh in a guest that powers itself off at its end.
scenario() {
        local t end booted
        guest_tree scenario || { not_ok "the overlay over the cached tree mounts"; return 1; }
        cat >"$MERGED/etc/systemd/system/ctrcert-host-test.service" <<'EOU'
[Unit]
Description=ctrcert real-host scenario (tests/host/scenario.sh), then power off
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/bash /ctrcert-test/scenario.sh /ctrcert-out
StandardOutput=append:/ctrcert-out/scenario.log
StandardError=inherit
ExecStopPost=/bin/systemctl --no-block poweroff
EOU
        ln -sf ../ctrcert-host-test.service "$MERGED/etc/systemd/system/multi-user.target.wants/ctrcert-host-test.service"

        t=$(date +%s.%N)
        boot scenario "$W/out"
        end=$(($(date +%s) + BOOT_DEADLINE))
        booted=
        while kill -0 "$NSPAWN_PID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
                [ -z "$booted" ] && [ -e "$W/out/started" ] && booted=$(since "$t")
                sleep 0.2
        done
        if kill -0 "$NSPAWN_PID" 2>/dev/null; then
                not_ok "the guest powers off within ${BOOT_DEADLINE} s"
                stop_guest "$NSPAWN_PID"
        else
                wait "$NSPAWN_PID"
                echo "# nspawn exited with $?"
        fi
        [ -n "$booted" ] && echo "# booted to the scenario in ${booted} s; guest up $(since "$t") s in all"
        check "the guest boots and runs the scenario to its end" test -e "$W/out/done"
        [ -e "$W/out/done" ] || tail -n 30 "$W/out/console.log" | sed 's/^/# console: /'
        tally_log "$W/out/scenario.log"
}

want scenario && scenario
if want ssh; then
        . "$HERE/ssh-bed.sh"
        ssh_bed
fi
finish host
