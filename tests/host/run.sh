#!/bin/bash
# run.sh SRCDIR [OUTDIR]: the real-host layer. Builds (or reuses) the cached Debian 12 root
# filesystem (rootfs.sh), builds the project's .deb from SRCDIR (build-deb.sh), boots the tree
# with systemd-nspawn — real systemd as PID 1, a real system bus, nested podman — through an
# overlayfs so the cache stays untouched, and runs scenario.sh inside as a oneshot unit that
# powers the guest off. Prints the guest's ok / not ok lines; the journal and logs stay in
# OUTDIR (default: a temp dir, removed) when one is given.
# It never starts systemd on this machine: systemd runs only as the container's PID 1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${1:?usage: run.sh SRCDIR [OUTDIR]}
KEEP=${2:-}
BOOT_DEADLINE=${CTRCERT_HOST_TIMEOUT:-900} # seconds from boot to power-off
. "$HERE/../check.sh"

for tool in systemd-nspawn debootstrap dpkg-buildpackage; do
        if ! command -v "$tool" >/dev/null; then
                not_ok "$tool is installed (./quickstart.sh test installs systemd-container, debootstrap, debhelper)"
                finish host
                exit 1
        fi
done

W=$(mktemp -d /var/tmp/ctrcert-host.XXXXXX) || exit 1
NSPAWN_PID=
MERGED=$W/merged
cleanup() {
        if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
                kill -TERM "$NSPAWN_PID" # nspawn powers the guest off on SIGTERM
                for _ in $(seq 300); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
                kill -0 "$NSPAWN_PID" 2>/dev/null && kill -KILL "$NSPAWN_PID"
                wait "$NSPAWN_PID" 2>/dev/null
        fi
        mountpoint -q "$MERGED" && umount "$MERGED"
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
mkdir -p "$W/in/debs" "$W/out" "$W/upper" "$W/work" "$W/containers" "$MERGED"
debs=$("$HERE/build-deb.sh" "$TOP" "$W/in/debs") || { not_ok "the .deb is built"; finish host; exit 1; }
echo "# .deb built in $(($(date +%s) - t)) s: $(basename -a $debs | tr '\n' ' ')"
cp "$HERE/scenario.sh" "$HERE/guest-lib.sh" "$HERE/../check.sh" "$W/in/"

# The guest: the cached tree under a throw-away upper layer.
mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$W/upper,workdir=$W/work" "$MERGED" ||
        { not_ok "the overlay over the cached tree mounts"; finish host; exit 1; }
mkdir -p "$MERGED/ctrcert-test" "$MERGED/ctrcert-out" "$MERGED/var/lib/containers"
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
mkdir -p "$MERGED/etc/systemd/system/multi-user.target.wants"
ln -sf ../ctrcert-host-test.service "$MERGED/etc/systemd/system/multi-user.target.wants/ctrcert-host-test.service"
# Not in a container: auditd would configure the build machine's kernel audit; apt's timers
# would take the dpkg lock the scenario needs.
for u in auditd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
        ln -sf /dev/null "$MERGED/etc/systemd/system/$u"
done

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
t=$(date +%s.%N)
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet -b -D "$MERGED" --register=no --keep-unit \
        --console=pipe --capability=all --system-call-filter='@keyring bpf' \
        --bind-ro="$W/in:/ctrcert-test" --bind="$W/out:/ctrcert-out" --bind="$W/containers:/var/lib/containers" \
        </dev/null >"$W/out/console.log" 2>&1 &
NSPAWN_PID=$!
end=$(($(date +%s) + BOOT_DEADLINE))
booted=
while kill -0 "$NSPAWN_PID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
        [ -z "$booted" ] && [ -e "$W/out/started" ] && booted=$(since "$t")
        sleep 0.2
done
if kill -0 "$NSPAWN_PID" 2>/dev/null; then
        not_ok "the guest powers off within ${BOOT_DEADLINE} s"
else
        wait "$NSPAWN_PID"
        echo "# nspawn exited with $?"
fi
[ -n "$booted" ] && echo "# booted to the scenario in ${booted} s; guest up $(since "$t") s in all"
check "the guest boots and runs the scenario to its end" test -e "$W/out/done"
[ -e "$W/out/done" ] || tail -n 30 "$W/out/console.log" | sed 's/^/# console: /'
tally_log "$W/out/scenario.log"
finish host
