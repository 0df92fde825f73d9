#!/bin/bash
# Build (once) the root filesystem of the real-server containers (Debian 12's haproxy, nginx,
# Apache httpd with mod_ssl, memcached with TLS) and print its path. It starts FROM the test
# bed's cached Debian base (tests/host/rootfs.sh): one debootstrap serves both. The packages are
# installed into an overlay over that base, and the merged tree, without what a container never
# uses (kernel, modules, docs, apt lists), is copied to $CTRCERT_TEST_CACHE/servers-HASH, HASH
# being a digest of this recipe and of the base's own key. Built in a temporary directory and
# renamed into place: a killed build never leaves a half tree behind.
#   tests/server-image.sh                 the directory (for `tar -C DIR -c . | podman import - NAME`)
set -euo pipefail
CACHE=${CTRCERT_TEST_CACHE:-/var/cache/ctrcert-test}
here=$(cd "$(dirname "$0")" && pwd)
PACKAGES=(haproxy nginx-light apache2 memcached openssl)

BASE=$("$here/host/rootfs.sh")
. "$(dirname "$0")/host/chroot.sh"
KEY=$( (grep -hv '^[[:space:]]*#' "$0" "$(dirname "$0")/host/chroot.sh"; basename "$BASE") | sha256sum | cut -c1-16)
OUT=$CACHE/servers-$KEY
if [ -x "$OUT/usr/sbin/haproxy" ] && [ -x "$OUT/usr/bin/memcached" ]; then
        echo "$OUT"
        exit 0
fi

TMP=$(mktemp -d "$CACHE/.servers-XXXXXX")
mounted=()
cleanup() {
        local i
        for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}"; done
        rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
started=$(date +%s)
log=$TMP/build.log
echo "server-image: building $OUT from $BASE" >&2
mkdir -p "$TMP/upper" "$TMP/work" "$TMP/root" "$TMP/tree"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$TMP/upper,workdir=$TMP/work" "$TMP/root"
mounted+=("$TMP/root")
R=$TMP/root
chroot_prepare "$R"
[ -n "$(ls "$R/var/lib/apt/lists" 2>/dev/null | grep -v -e lock -e partial)" ] || apt_get update
apt_get install "${PACKAGES[@]}"
chroot "$R" a2enmod -q ssl >>"$log" 2>&1
chroot "$R" apt-get clean
rm -f "$R/usr/sbin/policy-rc.d"
for ((i = ${#mounted[@]} - 1; i >= 1; i--)); do umount "${mounted[$i]}"; done
mounted=("$TMP/root")
# What a container never uses stays out: the kernel and its modules, docs, apt's lists.
tar -C "$R" -c --one-file-system \
        --exclude=./boot --exclude=./usr/lib/modules --exclude=./usr/lib/firmware \
        --exclude=./usr/share/doc --exclude=./usr/share/man --exclude=./usr/share/locale \
        --exclude=./var/lib/apt/lists --exclude=./var/cache/apt --exclude=./etc/selinux \
        --exclude=./var/lib/selinux --exclude=./usr/share/selinux . | tar -C "$TMP/tree" -x
umount "$TMP/root"
mounted=()
mv "$TMP/tree" "$OUT"
echo "server-image: built in $(($(date +%s) - started)) s, $(du -sh "$OUT" | cut -f1)" >&2
echo "$OUT"
