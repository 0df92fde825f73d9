#!/bin/bash
# Runs the tests/integration/NN-*.sh scenarios against a build directory and
# sums their "ok"/"not ok" lines. Each script isolates itself (tests/sandbox.sh).
#   run.sh BUILDDIR            every scenario
#   run.sh BUILDDIR 50 70      only 50-*.sh and 70-*.sh (make integration T="50 70")
set -u
BUILD=${1:?usage: run.sh BUILDDIR [NN…]}
shift
export BUILD
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
scenarios=()
if [ $# -eq 0 ]; then
        scenarios=("$here"/[0-9][0-9]-*.sh)
else
        for n in "$@"; do
                match=("$here/$n"-*.sh)
                if [ ! -e "${match[0]}" ]; then
                        echo "run.sh: no scenario $n-*.sh in $here" >&2
                        exit 2
                fi
                scenarios+=("${match[@]}")
        done
fi
for t in "${scenarios[@]}"; do
        echo "# $(basename "$t")"
        out=$(timeout 1200 bash "$t" 2>&1) # generous: 80-ansible passed 600 s on a machine at 3x its cores
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
