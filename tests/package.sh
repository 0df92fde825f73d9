#!/bin/bash
# Packages: the Debian package built with dpkg-buildpackage from a clean export of the
# source, its file list, lintian, and the unpacked binaries run; the RPM spec parsed and a
# source RPM built from `make dist` (binary RPMs need a Fedora/RHEL build root).
set -u
TOP=${1:?usage: package.sh SRCDIR BUILDDIR}
BUILD=${2:?usage: package.sh SRCDIR BUILDDIR}
. "$(dirname "$0")/check.sh"
scratch package

if command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null; then
        # A clean export: what is committed, nothing the build left in the tree.
        mkdir -p "$W/src/ctrcert-0.1.0"
        if [ -d "$TOP/.git" ]; then # tracked and new files as they are, nothing git ignores
                (cd "$TOP" && git ls-files -z -co --exclude-standard | tar --null -T - -c) | tar -x -C "$W/src/ctrcert-0.1.0"
        else
                (cd "$TOP" && tar -c --exclude=./build --exclude='./build-*' --exclude=./autom4te.cache .) | tar -x -C "$W/src/ctrcert-0.1.0"
        fi
        (cd "$W/src/ctrcert-0.1.0" && dpkg-buildpackage -us -uc -b >"$W/dpkg.log" 2>&1)
        rc=$?
        check_eq "dpkg-buildpackage -us -uc -b builds (unit tests included)" 0 "$rc"
        [ "$rc" = 0 ] || tail -n 30 "$W/dpkg.log"
        deb=$(ls "$W"/src/ctrcert_0.1.0_*.deb 2>/dev/null | head -n 1)
        if [ -z "$deb" ]; then
                not_ok "a .deb was built"
                finish package
                exit 1
        fi
        files=$(dpkg-deb -c "$deb" 2>/dev/null | awk '{print $6}' | sed 's|^\.||')
        for f in /usr/bin/ctrcertctl /usr/sbin/ctrcert-agent /usr/lib/certmonger/ctrcert-submit \
                /lib/systemd/system/ctrcert-agent.service /lib/systemd/system/ctrcert-crl.timer \
                /lib/systemd/system/ctrcert-crl.service /usr/lib/tmpfiles.d/ctrcert.conf \
                /usr/share/dbus-1/system.d/org.ctrcert.Agent1.conf /usr/share/man/man8/ctrcert-agent.8.gz \
                /usr/share/man/man5/ctrcert-manifest.5.gz /usr/share/bash-completion/completions/ctrcertctl \
                /usr/share/doc/ctrcert/examples/podman-cli-fallback.conf; do
                grep -qx "$f" <<<"$files" && ok "the .deb holds $f" || not_ok "the .deb holds $f"
        done
        check_eq "the .deb depends on certmonger" 1 "$(dpkg-deb -f "$deb" Depends 2>/dev/null | grep -c certmonger)"
        sel=$(ls "$W"/src/ctrcert-selinux_0.1.0_all.deb 2>/dev/null | head -n 1)
        check "ctrcert-selinux is built" test -n "$sel"
        check "… and holds the policy module" bash -c "dpkg-deb -c '$sel' | grep -q ' ./usr/share/selinux/packages/ctrcert.pp$'"
        dpkg-deb -e "$sel" "$W/selctl" 2>/dev/null
        check "… which its postinst loads with semodule -i" grep -q 'semodule -i /usr/share/selinux/packages/ctrcert.pp' "$W/selctl/postinst"
        # The unit is installed but not enabled: the agent needs a manifest first. An upgrade
        # restarts a running agent instead of stopping it for good (tests/host checks both live).
        dpkg-deb -e "$deb" "$W/ctl"
        check "its postinst restarts the agent after an upgrade" grep -q '_dh_action=restart' "$W/ctl/postinst"
        check "… and enables it never by itself" bash -c "! grep -q 'deb-systemd-helper enable' '$W/ctl/postinst' || grep -q 'was-enabled' '$W/ctl/postinst'"
        check "its prerm stops the agent on removal only" bash -c "grep -q '\"\$1\" = remove' '$W/ctl/prerm' && ! grep -q upgrade '$W/ctl/prerm'"
        mkdir -p "$W/root"
        dpkg-deb -x "$deb" "$W/root"
        check_eq "the packaged ctrcertctl runs" "ctrcertctl 0.1.0" "$("$W/root/usr/bin/ctrcertctl" --version 2>&1 | head -n 1)"
        if command -v lintian >/dev/null; then
                lint=$(lintian --suppress-tags initial-upload-closes-no-bugs,no-manual-page "$deb" ${sel:+"$sel"} 2>&1 | grep -E '^E:')
                check_eq "lintian finds no errors" "" "$lint"
                lintian "$deb" 2>&1 | grep -E '^W:' | sed 's/^/# /' | head -n 10
        fi
else
        not_ok "dpkg-buildpackage and debhelper are installed (./quickstart.sh test installs them)"
fi

if command -v rpmbuild >/dev/null && command -v rpmspec >/dev/null; then
        check "ctrcert.spec parses" rpmspec -P "$TOP/ctrcert.spec"
        mkdir -p "$W/rpm/SOURCES"
        (cd "$BUILD" && make dist-gzip >/dev/null 2>&1) && cp "$BUILD/ctrcert-0.1.0.tar.gz" "$W/rpm/SOURCES/"
        check "rpmbuild -bs makes the source RPM" rpmbuild -bs --nodeps --define "_topdir $W/rpm" "$TOP/ctrcert.spec"
        check "… ctrcert-0.1.0-1.src.rpm" test -f "$(ls "$W"/rpm/SRPMS/ctrcert-0.1.0-1*.src.rpm 2>/dev/null | head -n 1)"
        subs=$(rpmspec -q --qf '%{name}\n' "$TOP/ctrcert.spec" 2>/dev/null | sort | tr '\n' ' ')
        check_eq "the spec's packages" "ctrcert ctrcert-selinux " "$subs"
fi
finish package
