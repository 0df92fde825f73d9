#!/bin/bash
# ctrcert quickstart, as root on a fresh Debian 12 (or Fedora/RHEL) machine:
#   ./quickstart.sh        install what is missing, build, run the demo
#   ./quickstart.sh test   install what is missing, build, run the whole test suite
#   ./quickstart.sh test host   … only the real-host layer (a booted Debian 12, tests/host/)
#   ./quickstart.sh test rest   … everything but the real-host layer
# The demo and the tests run in sandboxes under /tmp: they never touch the
# host's certmonger, D-Bus or podman.
set -euo pipefail
cd "$(dirname "$0")"
TOP=$PWD
BUILD=$TOP/build

DEBIAN_PACKAGES=(
        gcc make autoconf automake pkg-config
        libssl-dev libdbus-1-dev libsystemd-dev libyaml-dev check
        certmonger dbus-daemon dbus-bin openssl util-linux
        podman runc conmon catatonit busybox-static
)
DEBIAN_TEST_PACKAGES=(clang libclang-rt-14-dev valgrind groff-base python3-dbusmock python3-dbus ansible-core ansible-lint
        selinux-policy-dev selinux-policy-default checkpolicy semodule-utils policycoreutils setools selinux-utils
        debhelper lintian rpm prometheus python3-voluptuous
        debootstrap systemd-container qemu-system-x86 e2fsprogs)
FEDORA_PACKAGES=(
        gcc make autoconf automake pkgconf-pkg-config
        openssl-devel dbus-devel systemd-devel libyaml-devel check-devel
        certmonger dbus-daemon dbus-tools openssl util-linux
        podman runc conmon catatonit busybox
)
FEDORA_TEST_PACKAGES=(clang compiler-rt valgrind groff-base python3-dbusmock python3-dbus ansible-core ansible-lint
        selinux-policy-devel selinux-policy-targeted checkpolicy policycoreutils setools-console libselinux-utils
        rpm-build systemd-rpm-macros golang-github-prometheus python3-voluptuous)

install_missing() {
        local missing=() p
        if command -v apt-get >/dev/null; then
                for p in "$@"; do
                        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
                done
                [ ${#missing[@]} -eq 0 ] && return 0
                echo "== installing: ${missing[*]}"
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -q >/dev/null
                apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
        elif command -v dnf >/dev/null; then
                for p in "$@"; do rpm -q "$p" >/dev/null 2>&1 || missing+=("$p"); done
                [ ${#missing[@]} -eq 0 ] && return 0
                echo "== installing: ${missing[*]}"
                dnf install -y -q "${missing[@]}"
        else
                echo "neither apt-get nor dnf found: install ${*} by hand" >&2
                return 1
        fi
}

setup() {
        local with_tests=$1
        if command -v apt-get >/dev/null; then
                install_missing "${DEBIAN_PACKAGES[@]}"
                [ "$with_tests" = yes ] && install_missing "${DEBIAN_TEST_PACKAGES[@]}"
        else
                install_missing "${FEDORA_PACKAGES[@]}"
                [ "$with_tests" = yes ] && install_missing "${FEDORA_TEST_PACKAGES[@]}"
        fi
        return 0
}

build() {
        echo "== building in $BUILD"
        autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
        mkdir -p "$BUILD"
        (cd "$BUILD" && "$TOP/configure" --sysconfdir=/etc --localstatedir=/var --enable-werror >/dev/null &&
                make -j"$(nproc)" >/dev/null)
}

case "${1:-demo}" in
demo)
        setup no
        build
        exec "$TOP/demo/demo.sh" "$BUILD"
        ;;
test)
        setup yes
        build
        CTRCERT_TEST_LAYERS=${2:-${CTRCERT_TEST_LAYERS:-all}} exec "$TOP/tests/run-all.sh" "$TOP" "$BUILD"
        ;;
*)
        echo "usage: $0 [test [all|host|rest]]" >&2
        exit 2
        ;;
esac
