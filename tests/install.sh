#!/bin/bash
# make install (DESTDIR) for the Debian and the Fedora/RHEL layouts: every file in its place,
# the systemd units (the agent, the CRL timer and its service) accepted by systemd-analyze, the tmpfiles snippet creating the state
# directories with their modes in a scratch root. Nothing is installed on the host.
set -u
TOP=${1:?usage: install.sh SRCDIR WORKDIR}
WORK=${2:?usage: install.sh SRCDIR WORKDIR}
. "$(dirname "$0")/check.sh"

# The policy module is built (and installed) where the policy development files are.
selinux=
[ -f /usr/share/selinux/devel/Makefile ] && selinux=/usr/share/selinux/packages/ctrcert.pp

# installed_completion ROOT WORD…: what the bash completion installed under ROOT offers after WORD….
installed_completion() {
        (
                . "$1/usr/share/bash-completion/completions/ctrcertctl"
                COMP_WORDS=("$1/usr/bin/ctrcertctl" "${@:2}")
                COMP_CWORD=$(($# - 1))
                _ctrcertctl
                printf '%s\n' "${COMPREPLY[@]}" | sort | xargs
        )
}

# layout NAME HELPER_DIR: configure, build and install into $WORK/NAME/root.
layout() {
        local name=$1 helper=$2 dir=$WORK/$1 root=$WORK/$1/root expect got
        rm -rf "$dir" && mkdir -p "$dir"
        (cd "$dir" && "$TOP/configure" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
                --with-certmonger-helper-dir="$helper" --with-systemdsystemunitdir=/usr/lib/systemd/system \
                --with-tmpfilesdir=/usr/lib/tmpfiles.d >/dev/null &&
                make -j"$(nproc)" >/dev/null 2>&1 && make install DESTDIR="$root" >/dev/null 2>&1)
        check_eq "$name: make install DESTDIR" 0 "$?"
        expect=$(printf '%s\n' /usr/bin/ctrcertctl "$helper/ctrcert-submit" /usr/lib/systemd/system/ctrcert-agent.service \
                /usr/lib/systemd/system/ctrcert-crl.service /usr/lib/systemd/system/ctrcert-crl.timer \
                /usr/lib/tmpfiles.d/ctrcert.conf /usr/sbin/ctrcert-agent /usr/share/dbus-1/system.d/org.ctrcert.Agent1.conf \
                /usr/share/doc/ctrcert/README.md /usr/share/doc/ctrcert/dbus-api.txt /usr/share/doc/ctrcert/examples/ctrcert.yaml \
                /usr/share/doc/ctrcert/examples/manifest.yaml /usr/share/doc/ctrcert/examples/podman-cli-fallback.conf \
                /usr/share/man/man5/ctrcert-manifest.5 \
                /usr/share/man/man5/ctrcert.yaml.5 /usr/share/man/man8/ctrcert-agent.8 /usr/share/man/man8/ctrcert-submit.8 \
                /usr/share/man/man8/ctrcertctl.8 /usr/share/bash-completion/completions/ctrcertctl $selinux | sort)
        got=$(cd "$root" && find . -type f | sed 's|^\.||' | sort)
        check_eq "$name: every file in its place" "$expect" "$got"
        check_eq "$name: the installed bash completion offers the ca commands" "init install issue-node rollover show" \
                "$(installed_completion "$root" ca "")"
        check_eq "$name: the unit starts the installed agent with /etc's config" \
                "ExecStart=/usr/sbin/ctrcert-agent --config /etc/ctrcert/ctrcert.yaml" \
                "$(grep '^ExecStart=' "$root/usr/lib/systemd/system/ctrcert-agent.service")"
        check_eq "$name: the CRL service runs the installed ctrcertctl with /etc's config" \
                "ExecStart=/usr/bin/ctrcertctl --config /etc/ctrcert/ctrcert.yaml crl" \
                "$(grep '^ExecStart=' "$root/usr/lib/systemd/system/ctrcert-crl.service")"
}

layout debian /usr/lib/certmonger
layout fedora /usr/libexec/certmonger

# systemd-analyze wants ExecStart to exist: a copy pointing into the DESTDIR tree.
unit=$WORK/debian/root/usr/lib/systemd/system/ctrcert-agent.service
mkdir -p "$WORK/verify"
sed "s|/usr/sbin/ctrcert-agent|$WORK/debian/root/usr/sbin/ctrcert-agent|" "$unit" >"$WORK/verify/ctrcert-agent.service"
if command -v systemd-analyze >/dev/null; then
        out=$(systemd-analyze verify --man=no "$WORK/verify/ctrcert-agent.service" 2>&1)
        check_eq "systemd-analyze verify accepts the unit, every directive known" "" "$out"
fi
# The CRL timer and its service, verified together (the timer names the service).
crl=$WORK/debian/root/usr/lib/systemd/system
sed "s|/usr/bin/ctrcertctl|$WORK/debian/root/usr/bin/ctrcertctl|" "$crl/ctrcert-crl.service" >"$WORK/verify/ctrcert-crl.service"
cp "$crl/ctrcert-crl.timer" "$WORK/verify/"
if command -v systemd-analyze >/dev/null; then
        out=$(cd "$WORK/verify" && systemd-analyze verify --man=no ctrcert-crl.timer ctrcert-crl.service 2>&1)
        check_eq "systemd-analyze verify accepts ctrcert-crl.timer and .service" "" "$out"
fi
# Daily against a 7-day nextUpdate, caught up after downtime, spread over the fleet.
for d in OnCalendar=daily Persistent=true RandomizedDelaySec= WantedBy=timers.target; do
        grep -q "^$d" "$crl/ctrcert-crl.timer" && ok "the CRL timer has $d" || not_ok "the CRL timer has $d"
done
grep -q '^Type=oneshot' "$crl/ctrcert-crl.service" && ok "the CRL service is a oneshot" || not_ok "the CRL service is a oneshot"

for d in Type=notify WatchdogSec= Restart=on-failure StateDirectory=ctrcert/agent StateDirectoryMode=0700 \
        KillMode=process "Wants=certmonger.service podman.socket" ProtectSystem=strict NoNewPrivileges=yes \
        SystemCallFilter=@system-service RestrictNamespaces=yes "CapabilityBoundingSet=CAP_CHOWN "; do
        grep -q "^$d" "$unit" && ok "the unit has $d" || not_ok "the unit has $d"
done

if command -v systemd-tmpfiles >/dev/null; then
        mkdir -p "$WORK/troot"
        systemd-tmpfiles --root="$WORK/troot" --create "$WORK/debian/root/usr/lib/tmpfiles.d/ctrcert.conf" 2>/dev/null
        check_eq "tmpfiles: the state directories and their modes" "755 700 700" \
                "$(stat -c %a "$WORK/troot/var/lib/ctrcert" "$WORK/troot/var/lib/ctrcert/ca" "$WORK/troot/var/lib/ctrcert/agent" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
fi
finish install
