#!/bin/sh
# check-neverallow.sh MODULE.pp SCRATCHDIR: links MODULE.pp with the installed base policy and
# certmonger's module and expands the result, which is where neverallow rules are enforced
# (the policy Makefile alone does not). Skipped, with a note, where base.pp is not shipped
# (Fedora/RHEL keep their policy as CIL in the store; tests/selinux.sh checks there).
set -e
pp=$1
dir=$2
policy=${SELINUX_POLICY_DIR:-/usr/share/selinux/default}
if [ ! -f "$policy/base.pp.bz2" ] || ! command -v semodule_expand >/dev/null; then
        echo "check-neverallow: no $policy/base.pp.bz2 or semodule_expand: neverallow not checked at build time" >&2
        exit 0
fi
mkdir -p "$dir"
bzcat "$policy/base.pp.bz2" >"$dir/base.pp"
bzcat "$policy/certmonger.pp.bz2" >"$dir/certmonger.pp"
semodule_link -o "$dir/linked.pp" "$dir/base.pp" "$dir/certmonger.pp" "$pp" >/dev/null
semodule_expand "$dir/linked.pp" "$dir/policy.bin"
