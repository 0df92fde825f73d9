#!/bin/bash
# ctrcertctl's command line: the table of commands behind --help, each command's own options and
# --help, usage errors (exit 2) that name the option and the command, the exit statuses, notify of
# a file the manifest does not name, and the bash completion made from the same table.
. "$(dirname "$0")/lib.sh"

# The commands, as the completion sees them: "ca init", "status"…
commands() {
        local w s subs
        for w in $("$CTL" __complete | grep -v '^-'); do
                subs=$("$CTL" __complete "$w" | grep -v '^[-@]')
                if [ -n "$subs" ]; then
                        for s in $subs; do echo "$w $s"; done
                else
                        echo "$w"
                fi
        done
}
mapfile -t CMDS < <(commands)
check_eq "the table holds the commands of ctrcertctl(8)" 18 "${#CMDS[@]}"

# ---- --help: every command, and each command's own ----
help=$("$CTL" --help)
for c in "${CMDS[@]}"; do
        # shellcheck disable=SC2086 # the command's words
        out=$("$CTL" $c --help 2>&1)
        rc=$?
        check_eq "$c --help exits 0" 0 "$rc"
        check_contains "$c --help prints its usage line" "Usage: ctrcertctl [--config PATH] [--bus BUS] $c" "$out"
        check_contains "ctrcertctl --help lists $c" "
  $c" "$help"
        # every option of its --help is one of its usage line, and the other way round
        opts=$(grep -o -- '--[a-z-]*' <<<"$out" | grep -vx -- '--help\|--config\|--bus' | sort -u | tr '\n' ' ')
        usage_opts=$(head -n 1 <<<"$out" | cut -d' ' -f7- | grep -o -- '--[a-z-]*' | sort -u | tr '\n' ' ')
        check_eq "$c: the options of its usage line are those of its --help" "$opts" "$usage_opts"
done
check_contains "ca init --help lists --key-type" "-k, --key-type TYPE" "$("$CTL" ca init --help)"
check_contains "ca --help lists the ca commands" "ca issue-node" "$("$CTL" ca --help)"
"$CTL" ca >/dev/null 2>&1
check_eq "ca alone is a usage error" 2 "$?"

# ---- usage errors: exit 2, naming the option and the command, then the usage line ----
make_ca_and_config || exit 1
usage_error() { # NAME NEEDLE ARG…: exit 2 and NEEDLE on stderr, nothing on stdout
        local name=$1 needle=$2 out err rc
        shift 2
        out=$("$CTL" "$@" 2>"$T/err")
        rc=$?
        err=$(cat "$T/err")
        check_eq "$name: exit 2" 2 "$rc"
        check_contains "$name: says why" "$needle" "$err"
        check_eq "$name: prints nothing on stdout" "" "$out"
}
usage_error "ca show --node (an option of issue-node)" "ca show: '--node' is not one of its options" ca show --node x "$T/etc/ca"
check_contains "… and prints its usage line" "usage: ctrcertctl ca show [DIR]" "$(cat "$T/err")"
usage_error "ca init --finish" "ca init: '--finish' is not one of its options" ca init "$T/ca2" --finish
check "… and makes no CA" test ! -e "$T/ca2"
usage_error "crl --id (an option of revoke)" "crl: '--id' is not one of its options" --config "$CONF" crl --id web
usage_error "revoke --out (an option of crl)" "revoke: '--out' is not one of its options" --config "$CONF" revoke --out x 01
usage_error "ca rollover --force without --finish" "--force goes with --finish" ca rollover --force "$T/etc/ca"
usage_error "ca rollover --finish --key-type" "no --key-type or --subject" ca rollover --finish --key-type rsa3072 "$T/etc/ca"
usage_error "ca issue-node --rollover --force" "one of them" ca issue-node --root "$T/etc/ca" --node n --permit-dns n.example \
        --out "$T/n" --rollover --force
usage_error "an option without its argument" "ca init: option '--key-type' needs an argument" ca init --key-type
usage_error "a flag given an argument" "option '--force=yes' takes no argument" ca init "$T/ca3" --force=yes
usage_error "an unknown short option" "ca init: '-x' is not one of its options" ca init -x "$T/ca3"
usage_error "a global option after the command" "status: '--bus' is not one of its options" status --bus session
usage_error "an argument too many" "status: unexpected argument 'now'" status now
usage_error "an argument missing" "release: an argument is missing" release
usage_error "a bad --reason" "--reason 'sorry'" --config "$CONF" revoke 01 --reason sorry
usage_error "a bad --until" "--until 'yesterday'" pause --until yesterday
usage_error "an unknown global option" "'--frob' is not an option" --frob status
usage_error "an unknown command" "unknown command 'frobnicate'" frobnicate
usage_error "an unknown ca command" "unknown command 'ca frob'" ca frob

# ---- global options before the command, options after it in any order ----
check_contains "--config before the command is read" "$T/etc/ca/ca.crt" "$("$CTL" --config "$CONF" ca show 2>&1)"
check_contains "-c before the command is read" "$T/etc/ca/ca.crt" "$("$CTL" -c "$CONF" ca show 2>&1)"
"$CTL" ca init --force -k ec-p384 "$T/etc/ca" >/dev/null 2>&1
check_eq "options before the argument, short ones too" 0 "$?"
check_contains "… and they took effect" "EC P-384" "$("$CTL" ca show "$T/etc/ca")"

# ---- exit statuses: 1 for a failure, and for what a checking command finds ----
"$CTL" ca show "$T/nothing" >/dev/null 2>&1
check_eq "ca show of a missing CA exits 1" 1 "$?"
printf 'version: 1\ncertificates: [{id: x}]\n' >"$T/bad.yaml"
"$CTL" manifest check "$T/bad.yaml" >/dev/null 2>&1
check_eq "manifest check of a manifest with errors exits 1" 1 "$?"
"$CTL" --config "$T/none.yaml" ca show >/dev/null 2>"$T/err"
check_eq "a --config that does not exist is a failure (1)" 1 "$?"
check_eq "… said once" 1 "$(grep -c . "$T/err")"

# ---- notify of a file the manifest does not name ----
write_manifest
start_bus || exit 1
"$BUILD/ctrcert-agent" --config "$CONF" --bus system >"$T/agent.log" 2>&1 &
PIDS+=("$!")
wait_until 30 bus_has_owner org.ctrcert.Agent1
out=$("$CTL" --config "$CONF" notify "$T/not-managed.crt" 2>&1)
check_eq "notify of a file not in the manifest exits 1" 1 "$?"
check_contains "… and says so" "$T/not-managed.crt is not a certificate of the manifest" "$out"
check "… schedules nothing" lacks "container binding" "$out"
out=$("$CTL" --config "$CONF" notify "$T/web.crt" 2>&1)
check_eq "notify of a certificate of the manifest exits 0" 0 "$?"
check_contains "… and says what it scheduled" "0 container bindings scheduled" "$out"

# ---- bash completion, from the same table ----
. "$SRC/data/bash-completion/ctrcertctl"
complete_words() { # WORD…: COMPREPLY for the last word
        COMP_WORDS=("$CTL" "$@")
        COMP_CWORD=$#
        COMPREPLY=()
        _ctrcertctl
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}
check_eq "completion: the commands beginning with c" "ca crl " "$(complete_words c)"
check_eq "completion: the ca commands" "init install issue-node rollover show " "$(complete_words ca "")"
check_eq "completion: the options of ca init" "--force --help --key-type --subject " "$(complete_words ca init --)"
check_eq "completion: the key types" "ec-p256 ec-p384 " "$(complete_words ca init --key-type ec)"
check_eq "completion: after a global option" "--help --out " "$(complete_words --config "$CONF" crl --)"
check_eq "completion: --bus's values" "session system " "$(complete_words --bus "")"
check_contains "completion: file names for manifest check" "$T/bad.yaml" "$(complete_words manifest check "$T/ba")"
# The commands as --help shows them (the lower-case words that begin a line) and as ctrcertctl(8)
# describes them: the completion knows the same ones.
help_commands=$("$CTL" --help | awk '/^  [a-z]/ { sub(/^  /, ""); sub(/  .*/, ""); n = "";
        for (i = 1; i <= NF && $i ~ /^[a-z][a-z-]*$/; i++) n = n (n ? " " : "") $i; print n }')
check_eq "the completion's commands are those of --help" "$help_commands" "$(printf '%s\n' "${CMDS[@]}")"
check_eq "completion: every command's first word" "$(printf '%s\n' "${CMDS[@]%% *}" | sort -u | xargs) " \
        "$(complete_words "" | tr ' ' '\n' | grep -v '^-' | xargs) "
for c in "${CMDS[@]}"; do
        check "ctrcertctl(8) describes $c" grep -qE "^\.(B|BI|TP) \"?$c( |\"|\$)" "$SRC/man/ctrcertctl.8"
done

finish
