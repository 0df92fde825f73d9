#!/bin/bash
# The whole test suite, as `./quickstart.sh test` and CI run it:
#   1. unit tests (Check) on the normal build
#   2. the integration scenarios (real certmonger, private bus) on the normal build
#   3. unit tests, the helper and the agent scenarios again on an ASan+UBSan build
#   4. valgrind memcheck of the helper's SUBMIT and rejection paths
#   5. the libFuzzer harnesses for a bounded time
#   6. make install for the Debian and Fedora/RHEL layouts (DESTDIR), unit and tmpfiles checked
#   7. the SELinux policy module in a private copy of the policy store (setools queries)
#   8. the Debian package (dpkg-buildpackage, lintian) and the RPM spec (source RPM)
#   9. make distcheck
#  10. the real host: the .deb installed on a booted Debian 12 (systemd-nspawn), and the
#      renewal flow under SELinux enforcing in a qemu VM (tests/host/)
# Every check prints "ok - …" or "not ok - …"; the last line sums them.
# CTRCERT_TEST_LAYERS=host runs only step 10, =rest everything but it (default: all).
set -u
TOP=${1:?usage: run-all.sh SRCDIR BUILDDIR}
BUILD=${2:?usage: run-all.sh SRCDIR BUILDDIR}
ASAN_BUILD=$BUILD-asan
PASS=0
FAIL=0
started=$(date +%s)
LAYERS=${CTRCERT_TEST_LAYERS:-all}
case $LAYERS in
all | host | rest) ;;
*)
        echo "CTRCERT_TEST_LAYERS must be all, host or rest (not '$LAYERS')" >&2
        exit 2
        ;;
esac

# tally OUTPUT: count its ok / not ok lines.
tally() {
        local p f
        p=$(grep -c '^ok - ' <<<"$1")
        f=$(grep -c '^not ok - ' <<<"$1")
        PASS=$((PASS + p))
        FAIL=$((FAIL + f))
}
step() { printf '\n### %s\n' "$*"; }
verdict() { # verdict NAME RC
        if [ "$2" -eq 0 ]; then echo "ok - $1"; else echo "not ok - $1 (exit $2)"; fi
}

# Check's per-binary lines ("100%: Checks: 15, Failures: 0, Errors: 0") as ok/not ok.
unit_tests() {
        local dir=$1 label=$2 log name n bad
        (cd "$dir" && make -j"$(nproc)" check >"$dir/check.out" 2>&1)
        for log in "$dir"/tests/unit/test-*.log; do
                name=$(basename "$log" .log)
                n=$(sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$log" | tail -n 1)
                if [ -z "$n" ]; then
                        echo "not ok - $label $name did not run (see $log)"
                        continue
                fi
                set -- $n
                bad=$(($2 + $3))
                for _ in $(seq $(($1 - bad))); do echo "ok - $label $name"; done
                grep -E ':[FE]:' "$log" | sed "s/^/not ok - $label /"
        done
}

# suite NAME SCRIPT ARGS…: one step whose script prints ok / not ok lines.
suite() {
        local name=$1 out
        shift
        step "$name"
        out=$("$@" 2>&1)
        tally "$out"
        echo "$out"
}
summary() {
        echo
        echo "suite took $(($(date +%s) - started)) s"
        echo "$PASS passed, $FAIL failed"
        [ "$FAIL" -eq 0 ]
}
host_layer() {
        suite "real host (nspawn)" "$TOP/tests/host/run.sh" "$TOP" "$BUILD/host"
        suite "real host (SELinux enforcing, qemu)" "$TOP/tests/host/vm.sh" "$TOP" "$BUILD/host-selinux"
}

if [ "$LAYERS" = host ]; then
        host_layer
        summary
        exit
fi

step "unit tests"
out=$(unit_tests "$BUILD" unit)
tally "$out"
echo "$out" | sort | uniq -c | sed 's/^ *//'

step "integration tests"
out=$("$TOP/tests/integration/run.sh" "$BUILD" 2>&1)
tally "$out"
echo "$out" | grep -E '^#|^not ok'

step "ASan + UBSan build"
mkdir -p "$ASAN_BUILD"
(cd "$ASAN_BUILD" && "$TOP/configure" --sysconfdir=/etc --enable-asan --enable-werror >/dev/null &&
        make -j"$(nproc)" >/dev/null 2>"$ASAN_BUILD/build.err")
out=$(verdict "sanitizer build" $?)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
out+=$'\n'$(unit_tests "$ASAN_BUILD" asan-unit)
for t in 10-helper-direct 30-concurrency 40-ctrcertctl 42-audit-bounds 50-agent 52-agent-burst 57-agent-hostile 70-agent-durable 71-agent-retries 72-agent-material 73-agent-after 75-podman-api; do
        out+=$'\n'$(BUILD=$ASAN_BUILD bash "$TOP/tests/integration/$t.sh" 2>&1 | sed 's/^\(not \)\{0,1\}ok - /&asan: /')
done
tally "$out"
echo "$out" | grep -E '^#|^not ok|sanitizer build'

suite "valgrind" "$TOP/tests/valgrind.sh" "$TOP" "$BUILD"
suite "fuzzing" "$TOP/tests/fuzz/run.sh" "$TOP" "$BUILD/fuzz"
suite "install layouts" "$TOP/tests/install.sh" "$TOP" "$BUILD/install"
suite "SELinux policy" "$TOP/tests/selinux.sh" "$TOP" "$BUILD"
suite "packages" "$TOP/tests/package.sh" "$TOP" "$BUILD"

step "make distcheck"
(cd "$BUILD" && make distcheck >"$BUILD/distcheck.out" 2>&1)
rc=$?
out=$(verdict "make distcheck" $rc)
[ $rc -ne 0 ] && tail -20 "$BUILD/distcheck.out"
tally "$out"
echo "$out"

[ "$LAYERS" = all ] && host_layer
summary
