# shellcheck shell=bash
# Named assertions printed as "ok - …" / "not ok - …", counted in PASS and FAIL; every
# test script sources this and ends with finish.
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# check NAME COMMAND…: one assertion, named.
check() {
        local name=$1
        shift
        if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

# check_contains NAME NEEDLE HAYSTACK
check_contains() {
        case "$3" in
        *"$2"*) ok "$1" ;;
        *) not_ok "$1 ('$2' not in: $3)" ;;
        esac
}

# lacks PATTERN TEXT: for check; a function, since gc and friends are too and bash -c sees none of them.
lacks() { ! grep -q "$1" <<<"$2"; }

# wait_until SECONDS COMMAND…: until COMMAND succeeds, at most SECONDS of wall-clock time (not a
# count of tries: on a loaded machine each try takes longer). Deadlines are generous on purpose.
wait_until() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@"; do
                [ "$SECONDS" -ge "$deadline" ] && return 1
                sleep 0.05
        done
}

# tally_log FILE: a log of ok/not ok lines written elsewhere (a booted guest's): shown, and counted here.
tally_log() {
        [ -f "$1" ] || return 0
        grep -E '^(ok|not ok) - |^#' "$1"
        PASS=$((PASS + $(grep -c '^ok - ' "$1")))
        FAIL=$((FAIL + $(grep -c '^not ok - ' "$1")))
}

# finish [LABEL]: the script's summary line; its exit status says whether all passed.
finish() {
        echo "# ${1:-$(basename "$0")}: $PASS passed, $FAIL failed"
        [ "$FAIL" -eq 0 ]
}

# scratch NAME: a fresh directory $W for a suite's files, removed when the script exits.
scratch() {
        W=$(mktemp -d "/tmp/ctrcert-$1.XXXXXX") || exit 1
        trap 'rm -rf "$W"' EXIT
}
