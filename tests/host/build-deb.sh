#!/bin/bash
# build-deb.sh SRCDIR OUTDIR: the project's .deb from a clean export of SRCDIR (what git tracks
# plus new files it does not ignore), as tests/package.sh builds it, and a copy repacked with a
# higher version (VERSION+hosttest1) for the upgrade check. Unit tests are skipped here
# (DEB_BUILD_OPTIONS=nocheck): tests/package.sh runs them in the package build.
# Prints the .deb paths: ctrcert, its upgrade, ctrcert-selinux.
set -euo pipefail
TOP=${1:?usage: build-deb.sh SRCDIR OUTDIR}
OUT=${2:?usage: build-deb.sh SRCDIR OUTDIR}
version=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
src=$OUT/src/ctrcert-$version
rm -rf "$OUT/src"
mkdir -p "$src"
if [ -d "$TOP/.git" ] || [ -f "$TOP/.git" ]; then
        (cd "$TOP" && git ls-files -z -co --exclude-standard | tar --null -T - -c) | tar -x -C "$src"
else
        (cd "$TOP" && tar -c --exclude=./build --exclude='./build-*' --exclude=./autom4te.cache .) | tar -x -C "$src"
fi
(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b >"$OUT/dpkg.log" 2>&1) ||
        { tail -n 30 "$OUT/dpkg.log" >&2; exit 1; }
deb=$(ls "$OUT"/src/ctrcert_"${version}"_*.deb | head -n 1)
arch=$(dpkg-deb -f "$deb" Architecture)
cp "$deb" "$OUT/"
sel=$(ls "$OUT"/src/ctrcert-selinux_"${version}"_all.deb 2>/dev/null || true)
if [ -n "$sel" ]; then cp "$sel" "$OUT/"; fi
# The upgrade: the same files under a higher version, as the next release would ship them.
up=${version}+hosttest1
rm -rf "$OUT/repack"
dpkg-deb -R "$deb" "$OUT/repack"
sed -i "s/^Version: .*/Version: $up/" "$OUT/repack/DEBIAN/control"
dpkg-deb -b "$OUT/repack" "$OUT/ctrcert_${up}_${arch}.deb" >/dev/null
rm -rf "$OUT/repack" "$OUT/src"
echo "$OUT/$(basename "$deb")"
echo "$OUT/ctrcert_${up}_${arch}.deb"
if [ -n "$sel" ]; then echo "$OUT/$(basename "$sel")"; fi
