# shellcheck shell=bash
# A Debian tree made ready for apt-get in a chroot, for tests/host/rootfs.sh and
# tests/server-image.sh (both key their caches on this file too): proc, sys, dev and dev/pts
# mounted (appended to the caller's `mounted` array, which it unmounts in reverse), a policy-rc.d
# so that no service starts, and apt_get running in it with its output in $log.

# chroot_prepare ROOT
chroot_prepare() {
        CHROOT=$1
        for m in proc sys dev dev/pts; do
                mkdir -p "$CHROOT/$m"
                case $m in
                proc) mount -t proc proc "$CHROOT/proc" ;;
                sys) mount -t sysfs sys "$CHROOT/sys" ;;
                *) mount --bind "/$m" "$CHROOT/$m" ;;
                esac
                mounted+=("$CHROOT/$m")
        done
        printf '#!/bin/sh\nexit 101\n' >"$CHROOT/usr/sbin/policy-rc.d"
        chmod 755 "$CHROOT/usr/sbin/policy-rc.d"
}

# apt_get ARGS…: apt-get in the prepared tree; on failure the log's end, and the script stops.
apt_get() {
        chroot "$CHROOT" env DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends "$@" >>"$log" 2>&1 ||
                { tail -n 30 "$log" >&2; exit 1; }
}
