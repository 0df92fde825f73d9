#!/bin/bash
# Build (once) the Debian 12 root filesystem the real-host tests boot, from Debian's packages,
# and print its path. Cached under $CTRCERT_TEST_CACHE (/var/cache/ctrcert-test) as
# rootfs-HASH, HASH being a digest of this script (the recipe and package list): the tree is
# rebuilt only when the recipe changes. It is built in a temporary directory beside the cache
# and renamed into place, so a killed build never leaves a half tree behind.
#
# One base serves every layer: systemd-nspawn boots it as is (tests/host/run.sh), and the
# SELinux VM (qemu) boots the same tree with its kernel, initrd and policy.
set -euo pipefail
CACHE=${CTRCERT_TEST_CACHE:-/var/cache/ctrcert-test}
SUITE=bookworm

# What the host needs: certmonger and podman as an operator installs them, the ctrcert .deb's
# runtime libraries (so `apt install ./ctrcert_*.deb` resolves offline), the scenario's tools,
# what an Ansible controller needs on a managed host (sshd, python3 with apt and dbus bindings;
# socat for the SSH ProxyCommand that enters the guest's network namespace), and for the
# SELinux VM a kernel and Debian's reference policy.
PACKAGES=(
        certmonger podman runc conmon catatonit golang-github-containers-common
        openssl busybox-static ca-certificates
        libssl3 libdbus-1-3 libsystemd0 libyaml-0-2
        procps iproute2 util-linux
        openssh-server socat python3 python3-apt python3-dbus
        linux-image-amd64 initramfs-tools
        selinux-basics selinux-policy-default policycoreutils auditd
)

mirror() { # the first Debian URI the build machine's apt uses
        local m
        m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)
        [ -n "$m" ] || m=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
        echo "${m:-http://deb.debian.org/debian}"
}

# The key: this recipe without its comments (the package list and every command).
. "$(dirname "$0")/chroot.sh"
KEY=$(grep -hv '^[[:space:]]*#' "$0" "$(dirname "$0")/chroot.sh" | sha256sum | cut -c1-16)
ROOT=$CACHE/rootfs-$KEY
if [ -x "$ROOT/usr/bin/certmonger" ] || [ -x "$ROOT/usr/sbin/certmonger" ]; then
        echo "$ROOT"
        exit 0
fi

mkdir -p "$CACHE"
TMP=$(mktemp -d "$CACHE/.build-XXXXXX")
mounted=()
cleanup() {
        local i
        for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}"; done
        [ -n "${TMP:-}" ] && rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT

T=$TMP/root
log=$TMP/build.log
started=$(date +%s)
echo "rootfs: building $ROOT (debootstrap from $(mirror), several minutes)" >&2
debootstrap --variant=minbase --include=systemd-sysv,dbus "$SUITE" "$T" "$(mirror)" >"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; exit 1; }

chroot_prepare "$T"
printf 'deb %s %s main\ndeb %s %s-updates main\n' "$(mirror)" "$SUITE" "$(mirror)" "$SUITE" >"$T/etc/apt/sources.list"
apt_get update
# A small initrd for the VM (7 MB instead of 37, built once): initramfs-tools first, its
# configuration next, the kernel last.
apt_get install initramfs-tools
echo MODULES=list >"$T/etc/initramfs-tools/conf.d/ctrcert-modules"
printf 'virtio_pci\nvirtio_blk\next4\n' >>"$T/etc/initramfs-tools/modules"
apt_get install "${PACKAGES[@]}"
chroot "$T" apt-get clean
echo ctrcert-host >"$T/etc/hostname"
# sshd only where a test enables it (run.sh's SSH bed, with a host key of its own): the scenario
# boots share the build machine's network, and no key pair is kept in the cache.
rm -f "$T"/etc/ssh/ssh_host_* "$T/etc/systemd/system/multi-user.target.wants/ssh.service"
rm -f "$T/usr/sbin/policy-rc.d"
for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}"; done
mounted=()
cp "$log" "$T/var/log/ctrcert-rootfs-build.log"
mv "$T" "$ROOT"
echo "rootfs: built in $(($(date +%s) - started)) s, $(du -sh "$ROOT" | cut -f1)" >&2
echo "$ROOT"
