#!/bin/bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each for a
# bounded time over its seed corpus (tests/fuzz/corpus/NAME). New inputs go to a
# scratch corpus, never into the repository. FUZZ_SECONDS sets the budget.
set -u
SRC=${1:?usage: run.sh SRCDIR WORKDIR}
WORK=${2:?usage: run.sh SRCDIR WORKDIR}
SECONDS_EACH=${FUZZ_SECONDS:-30}
CC=${FUZZ_CC:-clang}
mkdir -p "$WORK"
pass=0
fail=0

common=$(ls "$SRC"/common/*.c)
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE -I$SRC/common"
libs=$(pkg-config --libs libcrypto yaml-0.1 dbus-1)
flags="$flags $(pkg-config --cflags dbus-1)"

for name in manifest submit; do
        bin="$WORK/fuzz-$name"
        # shellcheck disable=SC2086
        if ! $CC $flags -o "$bin" "$SRC/tests/fuzz/fuzz-$name.c" $common $libs 2>"$WORK/build-$name.log"; then
                echo "not ok - fuzz-$name builds (see $WORK/build-$name.log)"
                fail=$((fail + 1))
                continue
        fi
        scratch="$WORK/corpus-$name"
        rm -rf "$scratch" && mkdir -p "$scratch"
        if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
                "$scratch" "$SRC/tests/fuzz/corpus/$name" >"$WORK/run-$name.log" 2>&1; then
                runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/run-$name.log")
                echo "ok - fuzz-$name: ${runs:-?} inputs in ${SECONDS_EACH}s, no crash, leak or UB"
                pass=$((pass + 1))
        else
                echo "not ok - fuzz-$name found a failure:"
                grep -E 'ERROR|SUMMARY|Test unit written' "$WORK/run-$name.log" | head -5 | sed 's/^/#   /'
                fail=$((fail + 1))
        fi
done
echo "# fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
