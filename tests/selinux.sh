#!/bin/bash
# The SELinux policy module without an SELinux kernel: installed into a private copy of the
# installed policy store (expand-check=1, so neverallow rules are enforced), then the built
# policy is queried with setools and the file contexts with selabel_lookup. Nothing touches
# the host's store.
set -u
TOP=${1:?usage: selinux.sh SRCDIR BUILDDIR}
BUILD=${2:?usage: selinux.sh SRCDIR BUILDDIR}
. "$(dirname "$0")/check.sh"
scratch selinux

if [ ! -f /usr/share/selinux/devel/Makefile ] || ! command -v semodule >/dev/null || ! command -v sesearch >/dev/null; then
        not_ok "SELinux policy tools are installed (./quickstart.sh test installs them)"
        finish selinux
        exit 1
fi
PP=$BUILD/selinux/ctrcert.pp
# The installed policy's name: Debian's "default", Fedora/RHEL's "targeted".
NAME=$(sed -n 's/^SELINUXTYPE=//p' /etc/selinux/config 2>/dev/null)
[ -d "/var/lib/selinux/${NAME:-none}" ] || NAME=$(ls /var/lib/selinux | grep -v '^final$' | head -n 1)
check "make built selinux/ctrcert.pp" test -s "$PP"

# store ROOT: a private copy of the installed store and policy under ROOT.
store() {
        mkdir -p "$1/var/lib/selinux" "$1/etc/selinux"
        cp -a "/var/lib/selinux/$NAME" "$1/var/lib/selinux/" && cp -a "/etc/selinux/$NAME" "$1/etc/selinux/" &&
                { cat /etc/selinux/semanage.conf; echo "expand-check=1"; } >"$1/etc/selinux/semanage.conf"
}
install_into() { semodule -p "$1" -s "$NAME" -n -i "$2" 2>&1 | grep -v 'not in password file'; return "${PIPESTATUS[0]}"; }

store "$W/root"
out=$(install_into "$W/root" "$PP")
check_eq "the module links and expands into the installed policy (neverallow checked)" "" "$out"
POL=$(ls "$W/root/etc/selinux/$NAME/policy/policy."* | head -n 1)
FC=$W/root/etc/selinux/$NAME/contexts/files/file_contexts

# What must be allowed.
check_eq "certmonger_t runs ctrcert-submit in ctrcert_helper_t" \
        "type_transition certmonger_t ctrcert_helper_exec_t:process ctrcert_helper_t;" \
        "$(sesearch -T -s certmonger_t -t ctrcert_helper_exec_t -c process "$POL" | sed 's/^ *//')"
check "the helper reads the CA key" test -n "$(sesearch -A -s ctrcert_helper_t -t ctrcert_ca_key_t -c file -p read "$POL")"
check "the helper writes its issuance index" test -n "$(sesearch -A -s ctrcert_helper_t -t ctrcert_helper_var_lib_t -c file -p write "$POL")"
check "the agent is an init daemon (init_t → ctrcert_agent_t)" \
        test -n "$(sesearch -T -s init_t -t ctrcert_agent_exec_t -c process "$POL")"
check "the agent talks to certmonger on D-Bus" test -n "$(sesearch -A -s ctrcert_agent_t -t certmonger_t -c dbus -p send_msg "$POL")"
check "the agent writes its job queue" test -n "$(sesearch -A -s ctrcert_agent_t -t ctrcert_agent_var_lib_t -c file -p write "$POL")"
check "the agent reads the CRL to publish" test -n "$(sesearch -A -s ctrcert_agent_t -t ctrcert_helper_var_lib_t -c file -p read "$POL")"
check "… and watches its directory" test -n "$(sesearch -A -s ctrcert_agent_t -t ctrcert_helper_var_lib_t -c dir -p watch "$POL")"
check_eq "… but cannot write the issuance index" "" "$(sesearch -A -s ctrcert_agent_t -t ctrcert_helper_var_lib_t -c file -p write "$POL")"
check "the agent reads managed certificates" test -n "$(sesearch -A -s ctrcert_agent_t -t cert_t -c file -p read "$POL")"
check "the agent writes bundles" test -n "$(sesearch -A -s ctrcert_agent_t -t cert_t -c file -p write "$POL")"
# What a booted Debian 12 under enforcing needed (tests/host/vm.sh found each one denied).
# Rules under a boolean (systemd_tmpfiles_manage_all, off by default) do not count.
always() { sesearch -A "$@" "$POL" | grep -v '\]:True$'; }
check "systemd-tmpfiles creates /var/lib/ctrcert" test -n "$(always -s systemd_tmpfiles_t -t ctrcert_var_lib_t -c dir -p create)"
check "… its ca/" test -n "$(always -s systemd_tmpfiles_t -t ctrcert_helper_var_lib_t -c dir -p create)"
check "… and its agent/" test -n "$(always -s systemd_tmpfiles_t -t ctrcert_agent_var_lib_t -c dir -p create)"
check "the helper makes its index directory, typed by name" test -n "$(sesearch -T -s ctrcert_helper_t -t ctrcert_var_lib_t -c dir "$POL" | grep ctrcert_helper_var_lib_t)"
check "the helper inherits certmonger's journal stream from init" test -n "$(sesearch -A -s ctrcert_helper_t -t init_t -c fd -p use "$POL")"
check "the agent answers an administrator's shell on D-Bus" test -n "$(sesearch -A -s ctrcert_agent_t -t unconfined_t -c dbus -p send_msg "$POL")"
check "the agent connects to podman.socket (podman.service in initrc_t)" test -n "$(sesearch -A -s ctrcert_agent_t -t initrc_t -c unix_stream_socket -p connectto "$POL")"
check "the agent reads /proc/sys/kernel (boot_id)" test -n "$(sesearch -A -s ctrcert_agent_t -t sysctl_kernel_t -c file -p read "$POL")"
check_eq "the agent gets no net_admin (sd_notify falls back without it)" "" "$(sesearch -A -s ctrcert_agent_t -t ctrcert_agent_t -c capability -p net_admin "$POL")"
check "… and its attempt is not logged" test -n "$(sesearch --dontaudit -s ctrcert_agent_t -t ctrcert_agent_t -c capability -p net_admin "$POL")"
if seinfo -t podman_exec_t "$POL" 2>/dev/null | grep -q podman_exec_t; then
        check "the agent runs podman in podman_t" test -n "$(sesearch -T -s ctrcert_agent_t -t podman_exec_t -c process "$POL")"
else
        echo "# the installed policy has no podman module: the agent's transition to podman_t is not built here"
fi

# What must not be: only the helper's domain reads the CA key.
check_eq "the agent cannot read the CA key" "" "$(sesearch -A -s ctrcert_agent_t -t ctrcert_ca_key_t -c file -p read "$POL")"
check_eq "certmonger_t cannot read the CA key" "" "$(sesearch -A -s certmonger_t -t ctrcert_ca_key_t -c file -p read "$POL")"
# … and the neverallow stops a module that tries: the same sources plus one such rule.
mkdir -p "$W/bad"
cp "$TOP"/selinux/ctrcert.{te,fc,if} "$W/bad/"
echo 'allow ctrcert_agent_t ctrcert_ca_key_t:file { open read };' >>"$W/bad/ctrcert.te"
(cd "$W/bad" && make -s -f /usr/share/selinux/devel/Makefile ctrcert.pp >/dev/null 2>&1)
store "$W/bad-root"
out=$(install_into "$W/bad-root" "$W/bad/ctrcert.pp")
check "a module letting the agent read the CA key is refused" test "$?" -ne 0
check "… by the neverallow rule" grep -q neverallow <<<"$out"

# Labels of every installed path, both layouts.
label() { selabel_lookup -b file -k "$1" -f "$FC" 2>/dev/null | sed -n 's/.*object_r:\([a-z_]*\):.*/\1/p'; }
while read -r path type; do
        check_eq "label of $path" "$type" "$(label "$path")"
done <<'EOL'
/usr/lib/certmonger/ctrcert-submit ctrcert_helper_exec_t
/usr/libexec/certmonger/ctrcert-submit ctrcert_helper_exec_t
/usr/sbin/ctrcert-agent ctrcert_agent_exec_t
/usr/lib/systemd/system/ctrcert-agent.service ctrcert_unit_t
/etc/ctrcert/ctrcert.yaml ctrcert_conf_t
/etc/ctrcert/manifest.d/50-web.yaml ctrcert_conf_t
/etc/ctrcert/ca/chain.pem ctrcert_ca_cert_t
/etc/ctrcert/ca/private/ca.key ctrcert_ca_key_t
/etc/ctrcert/ca/ca-bundle.pem ctrcert_ca_cert_t
/etc/ctrcert/ca/previous/ca.crt ctrcert_ca_cert_t
/etc/ctrcert/ca/previous/private/ca.key ctrcert_ca_key_t
/etc/ctrcert/ca/private/ca.key.next ctrcert_ca_key_t
/etc/ctrcert/ca/previous.next/private/ca.key ctrcert_ca_key_t
/etc/ctrcert/ca/incoming/ca.crt ctrcert_ca_cert_t
/etc/ctrcert/ca/incoming/private/ca.key ctrcert_ca_key_t
/etc/ctrcert/ca/incoming/previous/private/ca.key ctrcert_ca_key_t
/var/lib/ctrcert ctrcert_var_lib_t
/var/lib/ctrcert/ca/index ctrcert_helper_var_lib_t
/var/lib/ctrcert/agent/0123456789abcdef.job ctrcert_agent_var_lib_t
EOL
finish selinux
