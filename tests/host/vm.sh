#!/bin/bash
# vm.sh SRCDIR [OUTDIR]: the SELinux layer. The cached Debian 12 tree (rootfs.sh) copied, the
# project's .deb installed and its policy module (selinux/) loaded offline in a chroot, the tree
# labelled offline with setfiles, made into an ext4 image with mkfs.ext4 -d (labels kept), and
# booted under qemu (software emulation, no KVM) with SELinux enforcing. root logs in on the
# serial console (pam_selinux: unconfined_t, an administrator's shell) and runs
# scenario-selinux.sh, which powers the VM off. Results are read back from the image with
# debugfs. Prints the guest's ok / not ok lines; OUTDIR keeps the logs, the journal and the
# audit log.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${1:?usage: vm.sh SRCDIR [OUTDIR]}
KEEP=${2:-}
VM_DEADLINE=${CTRCERT_VM_TIMEOUT:-1500} # seconds from qemu's start to its exit
. "$HERE/../check.sh"

for tool in qemu-system-x86_64 mkfs.ext4 debugfs setfiles debootstrap dpkg-buildpackage; do
        if ! command -v "$tool" >/dev/null; then
                not_ok "$tool is installed (./quickstart.sh test installs qemu-system-x86, e2fsprogs, policycoreutils …)"
                finish selinux-vm
                exit 1
        fi
done
if [ ! -f /usr/share/selinux/devel/Makefile ]; then
        not_ok "selinux-policy-dev is installed"
        finish selinux-vm
        exit 1
fi

W=$(mktemp -d /var/tmp/ctrcert-vm.XXXXXX) || exit 1
QEMU_PID=
T=$W/tree
mounted=()
cleanup() {
        local i
        if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
                kill -TERM "$QEMU_PID"
                for _ in $(seq 100); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
                kill -0 "$QEMU_PID" 2>/dev/null && kill -KILL "$QEMU_PID"
                wait "$QEMU_PID" 2>/dev/null
        fi
        for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}"; done
        if [ -n "$KEEP" ]; then
                mkdir -p "$KEEP" && cp -r "$W/out/." "$KEEP/" 2>/dev/null
        fi
        rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
fail() { not_ok "$1"; finish selinux-vm; exit 1; }

t=$(date +%s.%N)
ROOT=$("$HERE/rootfs.sh") || fail "the Debian 12 root filesystem is built"
mkdir -p "$W/debs" "$W/out" "$W/testpol"
debs=$("$HERE/build-deb.sh" "$TOP" "$W/debs") || fail "the .deb is built"
deb=$(sed -n 1p <<<"$debs")
seldeb=$(sed -n 3p <<<"$debs")
cp "$HERE/ctrcerttest.te" "$W/testpol/"
(cd "$W/testpol" && make -s -f /usr/share/selinux/devel/Makefile ctrcerttest.pp >>"$W/out/policy-build.log" 2>&1) ||
        fail "tests/host/ctrcerttest.pp builds"
echo "# root filesystem, .debs and the test's policy module ready in $(since "$t") s"

# ---- the image ----
t=$(date +%s.%N)
cp -a "$ROOT" "$T"
for m in proc sys dev; do
        case $m in
        proc) mount -t proc proc "$T/proc" ;;
        sys) mount -t sysfs sys "$T/sys" ;;
        dev) mount --bind /dev "$T/dev" ;;
        esac
        mounted+=("$T/$m")
done
printf '#!/bin/sh\nexit 101\n' >"$T/usr/sbin/policy-rc.d"
chmod 755 "$T/usr/sbin/policy-rc.d"
mkdir -p "$T/ctrcert-test/debs"
cp "$deb" "$seldeb" "$T/ctrcert-test/debs/"
cp "$HERE/scenario-selinux.sh" "$HERE/guest-lib.sh" "$HERE/../check.sh" "$W/testpol/ctrcerttest.pp" "$T/ctrcert-test/"
# Both packages as an operator installs them (ctrcert-selinux's postinst loads the module with
# semodule -i; offline here, where it takes seconds instead of a minute under emulation).
chroot "$T" dpkg -i "/ctrcert-test/debs/$(basename "$deb")" "/ctrcert-test/debs/$(basename "$seldeb")" \
        >"$W/out/dpkg-install.log" 2>&1 || fail "dpkg -i ctrcert and ctrcert-selinux in the image"
chroot "$T" semodule -i /ctrcert-test/ctrcerttest.pp >"$W/out/semodule.log" 2>&1 ||
        fail "semodule -i ctrcerttest.pp (the test's own module, offline, in a chroot)"
rm -f "$T/usr/sbin/policy-rc.d"
for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}"; done
mounted=()
# The state directories are systemd-tmpfiles' to create at boot, under the policy.
rm -rf "$T/var/lib/ctrcert"
sed -i 's/^SELINUX=.*/SELINUX=enforcing/' "$T/etc/selinux/config"
echo '/dev/vda / ext4 defaults 0 1' >"$T/etc/fstab"
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer podman-auto-update.service; do
        ln -sf /dev/null "$T/etc/systemd/system/$u"
done
# root logs in on the serial console and runs the scenario once (an administrator's shell).
mkdir -p "$T/etc/systemd/system/serial-getty@ttyS0.service.d"
cat >"$T/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOC'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200 %I linux
EOC
cat >>"$T/root/.bash_profile" <<'EOC'
if [ "$(tty)" = /dev/ttyS0 ] && [ ! -e /root/ctrcert-out/started ]; then
        mkdir -p /root/ctrcert-out
        echo ctrcert-test-started
        bash /ctrcert-test/scenario-selinux.sh /root/ctrcert-out >/root/ctrcert-out/scenario.log 2>&1
        echo "=== ctrcert scenario done"
        sync
        systemctl poweroff
fi
EOC
POLICY=$(ls "$T"/etc/selinux/default/policy/policy.* | sort -V | tail -n 1)
setfiles -m -F -r "$T" -c "$POLICY" "$T/etc/selinux/default/contexts/files/file_contexts" "$T" >"$W/out/setfiles.log" 2>&1 ||
        fail "setfiles labels the tree"
cp "$T"/boot/vmlinuz-* "$W/vmlinuz"
cp "$T"/boot/initrd.img-* "$W/initrd.img"
mkfs.ext4 -q -F -L root -d "$T" "$W/root.img" 6G >"$W/out/mkfs.log" 2>&1 || fail "mkfs.ext4 -d makes the image"
rm -rf --one-file-system "$T"
echo "# image (install, semodule, setfiles, mkfs.ext4 -d) made in $(since "$t") s"

# ---- boot it ----
t=$(date +%s.%N)
qemu-system-x86_64 -machine q35 -accel tcg,thread=multi,tb-size=512 -cpu max -smp 2 -m 3072 \
        -kernel "$W/vmlinuz" -initrd "$W/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0,115200 security=selinux selinux=1 enforcing=1 audit=1" \
        -drive "file=$W/root.img,if=virtio,format=raw" -nic none -display none \
        -serial "file:$W/out/console.log" -monitor none -no-reboot </dev/null >"$W/out/qemu.log" 2>&1 &
QEMU_PID=$!
end=$(($(date +%s) + VM_DEADLINE))
booted=
while kill -0 "$QEMU_PID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
        [ -z "$booted" ] && grep -q 'ctrcert-test-started' "$W/out/console.log" 2>/dev/null && booted=$(since "$t")
        sleep 1
done
if kill -0 "$QEMU_PID" 2>/dev/null; then
        not_ok "the VM powers off within ${VM_DEADLINE} s"
        kill -TERM "$QEMU_PID"
fi
wait "$QEMU_PID" 2>/dev/null
QEMU_PID=
echo "# VM up $(since "$t") s${booted:+, the scenario started after $booted s}"

debugfs -R "rdump /root/ctrcert-out $W/out" "$W/root.img" >/dev/null 2>&1
[ -d "$W/out/ctrcert-out" ] && mv "$W/out/ctrcert-out"/* "$W/out/" && rmdir "$W/out/ctrcert-out"
check "the VM boots enforcing and runs the scenario to its end" test -e "$W/out/done"
[ -e "$W/out/done" ] || tail -n 40 "$W/out/console.log" | sed 's/^/# console: /'
tally_log "$W/out/scenario.log"
finish selinux-vm
