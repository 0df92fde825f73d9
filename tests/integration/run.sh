#!/bin/bash
# Runs every tests/integration/NN-*.sh against a build directory and sums
# their "ok"/"not ok" lines. Each script isolates itself (tests/sandbox.sh).
set -u
BUILD=${1:?usage: run.sh BUILDDIR}
export BUILD
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
for t in "$here"/[0-9][0-9]-*.sh; do
        echo "# $(basename "$t")"
        out=$(timeout 600 bash "$t" 2>&1)
        rc=$?
        echo "$out"
        p=$(grep -c '^ok - ' <<<"$out")
        f=$(grep -c '^not ok - ' <<<"$out")
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
                echo "not ok - $(basename "$t") exited $rc without a failed assertion"
                f=1
        fi
        pass=$((pass + p))
        fail=$((fail + f))
done
echo "# integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
