#!/bin/bash
# The real-host scenario: runs INSIDE the booted Debian guest (systemd as PID 1, the system bus,
# nested podman), as root, from ctrcert-host-test.service, which powers the guest off after it.
# /ctrcert-test holds this script, check.sh and the .debs; results go to OUT (bound from the
# build machine). Every wait has a deadline.
set -u
IN=/ctrcert-test
OUT=${1:-/ctrcert-out}
. "$IN/check.sh"
export DEBIAN_FRONTEND=noninteractive
started=$(date +%s%N)
touch "$OUT/started"

. "$IN/guest-lib.sh"

echo "# guest: $(uname -r), systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), podman $(podman --version | cut -d' ' -f3)"

# ---- 1. the package, as an operator installs it ----
deb=$(ls "$IN"/debs/ctrcert_*.deb | grep -v hosttest | head -n 1)
updeb=$(ls "$IN"/debs/ctrcert_*hosttest*.deb | head -n 1)
cp "$deb" "$updeb" /root/
cd /root || exit 1
apt-get install -y "./$(basename "$deb")" >"$OUT/apt-install.log" 2>&1
check_eq "apt install ./ctrcert_*.deb on the booted host" 0 "$?"
check_eq "… the package is installed" "install ok installed" "$(dpkg-query -W -f='${Status}' ctrcert 2>/dev/null)"
check_eq "a fresh install leaves the agent stopped (it needs a manifest first)" inactive "$(systemctl is-active ctrcert-agent)"
check_eq "… and not enabled" disabled "$(systemctl is-enabled ctrcert-agent 2>/dev/null)"
check_eq "tmpfiles made /var/lib/ctrcert 0755" 755 "$(mode /var/lib/ctrcert)"
check_eq "tmpfiles made /var/lib/ctrcert/ca 0700" 700 "$(mode /var/lib/ctrcert/ca)"
check_eq "tmpfiles made /var/lib/ctrcert/agent 0700" 700 "$(mode /var/lib/ctrcert/agent)"
systemd-analyze verify --man=no /lib/systemd/system/ctrcert-agent.service >"$OUT/verify.log" 2>&1
check_eq "systemd-analyze verify accepts the unit" 0 "$?"
sed 's/^/# verify: /' "$OUT/verify.log"
# ---- 3. hardening: the unit as shipped (no drop-in) ----
score=$(exposure)
score0=$score
echo "# systemd-analyze security ctrcert-agent: $score (9.6 UNSAFE before the unit was hardened)"
check "systemd-analyze security scores the unit at most 4.5 ($score)" score_at_most 4.5 "$score"
grep -E '^✗' "$OUT/security.txt" | sed 's/^/# security: /'

# ---- 5. the renewal flow: CA, config, manifest, certmonger ----
ctrcertctl ca init /etc/ctrcert/ca --subject "O=ctrcert host test" >"$OUT/ca-init.log" 2>&1
check_eq "ctrcertctl ca init" 0 "$?"
ca_key_sum=$(sha256sum /etc/ctrcert/ca/private/ca.key 2>/dev/null | cut -d' ' -f1)
write_config
write_manifest
files_entry >>/etc/ctrcert/manifest.yaml
check "ctrcertctl manifest check" ctrcertctl --config "$CONF" manifest check

systemctl is-active -q certmonger || systemctl start certmonger
check_eq "certmonger runs" active "$(systemctl is-active certmonger)"
getcert add-ca -c ctrcert -e "$HELPER --config $CONF" >"$OUT/add-ca.log" 2>&1
check_eq "getcert add-ca with the installed helper" 0 "$?"
req web web
req other other
req files files
check_eq "certmonger issues web through ctrcert-submit" MONITORING "$(status_of web)"
check_eq "… and other" MONITORING "$(status_of other)"
check_eq "… and files" MONITORING "$(status_of files)"
req web evil
check_eq "a name the manifest does not declare is CA_REJECTED" CA_REJECTED "$(status_of evil)"
getcert list -i evil | grep ca-error | sed 's/^/# /'

# ---- containers serving TLS ----
containers_conf "# nested in systemd-nspawn: no pids controller for the container (TESTENV)" "pids_limit = 0"
build_image
check_eq "an image imported from a busybox + openssl root filesystem" 0 "$?"
serve web1 web 15443
serve other1 other 15444
check "web1 serves its certificate over TLS" wait_for 30 serves 15443 "$(serial "$PKI/web/web.crt")"
check "other1 serves its certificate over TLS" wait_for 30 serves 15444 "$(serial "$PKI/other/other.crt")"
podman run -d --init --name files1 --network host localhost/ctrcert-tls sleep 1000000 >>"$OUT/podman.log" 2>&1
check "files1 runs (no certificate until the agent copies one in)" running files1

# ---- 2. the unit ----
# ProtectSystem=strict: a bundle outside the state directory needs the operator's drop-in.
mkdir -p /etc/systemd/system/ctrcert-agent.service.d
printf '[Service]\nReadWritePaths=%s\n' "$PKI/files" >/etc/systemd/system/ctrcert-agent.service.d/bundles.conf
systemctl daemon-reload
systemctl enable ctrcert-agent >/dev/null 2>&1
t=$(date +%s%N)
systemctl start ctrcert-agent
check_eq "systemctl start ctrcert-agent" 0 "$?"
echo "# the agent was ready $(ms_since "$t") ms after systemctl start"
# start returns when READY=1 arrived: the name must already be owned then.
check "READY=1 only once org.ctrcert.Agent1 is owned" has_owner
check_eq "the unit is Type=notify" notify "$(prop ctrcert-agent Type)"
check_eq "the unit sets a watchdog (WatchdogSec=30s)" 30s "$(prop ctrcert-agent WatchdogUSec)"
check_eq "starting the agent leaves /var/lib/ctrcert as tmpfiles made it (0755)" 755 "$(mode /var/lib/ctrcert)"
check_eq "… and /var/lib/ctrcert/agent (0700)" 700 "$(mode /var/lib/ctrcert/agent)"
check_eq "podman.socket is started with the agent" active "$(systemctl is-active podman.socket)"

# Renewal: only the bound container restarts and serves the new serial.
check_web_renewal 30 60
check_eq "the restart went through podman's API (podman.service was activated)" active "$(systemctl is-active podman.service)"
cgroup_of() { grep '^0::' "/proc/$1/cgroup" 2>/dev/null; }
cg=$(cgroup_of "$(conmon_pid web1)")
echo "# web1's conmon after the agent's restart: $cg"
check "web1's conmon is not in the agent's cgroup" lacks ctrcert-agent.service "$cg"

# Stopping or restarting the agent leaves the container it restarted alone (once its job is done:
# a job an agent restart interrupts is redone, restart included).
check "web1's job finishes (verified by TLS)" wait_for 120 no_jobs
w1=$(started_at web1)
c1=$(conmon_pid web1)
systemctl restart ctrcert-agent
check "systemctl restart ctrcert-agent: web1 still runs" running web1
check_eq "… not restarted" "$w1" "$(started_at web1)"
check "… its conmon lives" kill -0 "$c1"
systemctl stop ctrcert-agent
check "systemctl stop ctrcert-agent: web1 still runs" running web1
check_eq "… not restarted" "$w1" "$(started_at web1)"
systemctl start ctrcert-agent

# Watchdog: with a short period the agent keeps answering it.
mkdir -p /run/systemd/system/ctrcert-agent.service.d
printf '[Service]\nWatchdogSec=2s\n' >/run/systemd/system/ctrcert-agent.service.d/watchdog.conf
systemctl daemon-reload
systemctl restart ctrcert-agent
pid=$(prop ctrcert-agent MainPID)
wd0=$(prop ctrcert-agent WatchdogTimestampMonotonic)
check "the agent answers the watchdog (WatchdogTimestamp advances)" wait_for 15 differs "$wd0" prop ctrcert-agent WatchdogTimestampMonotonic
t=$(date +%s)
wait_for 8 false # past 2x the period: a missed ping would have killed it by now
check_eq "… and stays up past twice the watchdog period" "active $pid" "$(systemctl is-active ctrcert-agent) $(prop ctrcert-agent MainPID)"
rm -rf /run/systemd/system/ctrcert-agent.service.d
systemctl daemon-reload
systemctl restart ctrcert-agent

# Reload re-reads the manifest.
n0=$(bindings)
entry extra extra1 >>/etc/ctrcert/manifest.yaml
systemctl reload ctrcert-agent
check_eq "systemctl reload: the agent reads the new manifest" $((n0 + 1)) "$(wait_for 10 test "$(bindings)" -gt "$n0"; bindings)"

# The bus policy: root may call, others may not.
check "root calls org.ctrcert.Agent1" dbus-send --system --print-reply --dest=org.ctrcert.Agent1 /org/ctrcert/Agent1 org.ctrcert.Agent1.ListBindings
denied=$(setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --system --print-reply \
        --dest=org.ctrcert.Agent1 /org/ctrcert/Agent1 org.ctrcert.Agent1.ListBindings 2>&1)
check_contains "a non-root caller is refused" AccessDenied "$denied"

check_status_answers "root's shell" 1000

# The CLI fallback (a host without podman's socket): the agent runs `podman restart` itself,
# under the documented drop-in that relaxes what podman, conmon and runc need.
cp /usr/share/doc/ctrcert/examples/podman-cli-fallback.conf /etc/systemd/system/ctrcert-agent.service.d/
systemctl daemon-reload
score=$(exposure)
echo "# systemd-analyze security ctrcert-agent with podman-cli-fallback.conf: $score"
check "CLI fallback: the drop-in is installed as documented (score $score)" test -n "$score"
sed -i 's|^  podman_socket: .*|  podman_socket: ""|' "$CONF"
systemctl restart ctrcert-agent
o0=$(started_at other1)
s0=$(serial "$PKI/other/other.crt")
getcert resubmit -i other >/dev/null 2>&1
check "CLI fallback: getcert resubmit renews other" wait_for 30 differs "$s0" serial "$PKI/other/other.crt"
check "CLI fallback: the agent restarts other1" wait_for 60 differs "$o0" started_at other1
check "… and finishes the job (verified by TLS)" wait_for 120 no_jobs
o1=$(started_at other1)
c1=$(conmon_pid other1)
echo "# other1's conmon after a CLI restart: $(cgroup_of "$c1")"
systemctl restart ctrcert-agent
check "CLI fallback: systemctl restart ctrcert-agent leaves other1 running" running other1
check_eq "… not restarted" "$o1" "$(started_at other1)"
check "… its conmon lives" kill -0 "$c1"
# What a CLI restart from the agent's mount namespace leaves the host: podman outside sees it.
check "… and podman outside the agent can exec in other1" podman exec other1 true
sed -i 's|^  podman_socket: .*|  podman_socket: /run/podman/podman.sock|' "$CONF"
rm -f /etc/systemd/system/ctrcert-agent.service.d/podman-cli-fallback.conf
systemctl daemon-reload
systemctl restart ctrcert-agent
check_eq "the drop-in removed, the agent runs hardened again" "$(echo "$score0")" "$(exposure)"

# ---- every other runtime action under the hardened unit (through podman's API once agent/
# moves exec, copy, list and inspect there; through the CLI, which the sandbox breaks, before):
# a match: binding that copies cert and key into files1, runs an exec action there and, without
# verify, proves the files by the agent's own evidence; the bundle on the host (ReadWritePaths
# drop-in); a command on the host (runtime systemd's verify exec). ----
wait_for 120 no_jobs
host_runs() { journalctl -b -t ctrcert-host-exec --no-pager 2>/dev/null | grep -c 'files renewed'; }
status_line() { ctrcertctl --config "$CONF" status 2>/dev/null | grep "^$1 "; }
in_files1() { podman exec files1 cat "$1" 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2; }
# Without its ReadWritePaths drop-in a bundle is refused, as ctrcert-agent(8) says.
rm -f /etc/systemd/system/ctrcert-agent.service.d/bundles.conf
systemctl daemon-reload
systemctl restart ctrcert-agent
s0=$(serial "$PKI/files/files.crt")
getcert resubmit -i files >/dev/null 2>&1
check "getcert resubmit renews files" wait_for 30 differs "$s0" serial "$PKI/files/files.crt"
check "without ReadWritePaths a bundle is refused: Read-only file system" wait_for 60 sh -c "ctrcertctl --config $CONF status 2>/dev/null | grep '^files-host.service ' | grep -q 'Read-only file system'"
check "… said when the agent starts, not only at the renewal (the bundle, its drop-in)" sh -c "journalctl -b -u ctrcert-agent --no-pager | grep -q 'bundle $PKI/files/.*read-only to the agent'"
check "… and the job's message names the fix" sh -c "ctrcertctl --config $CONF status 2>/dev/null | grep '^files-host.service ' | grep -q 'ReadWritePaths'"
status_line files-host.service | sed 's/^/# /'
wait_for 120 no_jobs
printf '[Service]\nReadWritePaths=%s\n' "$PKI/files" >/etc/systemd/system/ctrcert-agent.service.d/bundles.conf
systemctl daemon-reload
systemctl restart ctrcert-agent
f0=$(started_at files1)
n0=$(host_runs)
s0=$(serial "$PKI/files/files.crt")
getcert resubmit -i files >/dev/null 2>&1
check "getcert resubmit renews files again" wait_for 30 differs "$s0" serial "$PKI/files/files.crt"
s1=$(serial "$PKI/files/files.crt")
check "a host command (runtime systemd verify exec) ran under the hardened unit" wait_for 60 sh -c "[ \$(journalctl -b -t ctrcert-host-exec --no-pager | grep -c 'files renewed') -gt $n0 ]"
check "… the jobs of files finish" wait_for 120 no_jobs
check_eq "bundle: written on the host under ProtectSystem=strict (ReadWritePaths drop-in)" "$s1" "$(serial "$PKI/files/bundle.pem")"
check_eq "copy: files1 holds the renewed certificate" "$s1" "$(in_files1 /tmp/files.crt)"
check_eq "exec: the action ran in files1 after the copy" "$s1" "$(in_files1 /tmp/exec-ran.crt)"
# The match: binding's row is named by its pattern; its message names the container.
check "evidence without verify: the job is ok on the files read back (files in place)" sh -c "ctrcertctl --config $CONF status 2>/dev/null | grep ' ok ' | grep -q 'files1: files in place'"
check_eq "files1 was not restarted" "$f0" "$(started_at files1)"
ctrcertctl --config "$CONF" status 2>/dev/null | grep -E '^(files1|files-host|~)' | sed 's/^/# /'
journal -u ctrcert-agent | grep -E 'files1|files-host|\^files' | grep -v 'shared by' | tail -n 8 | sed 's/^/# agent: /'

# ---- 1. upgrade and removal ----
wait_for 120 no_jobs
pid=$(prop ctrcert-agent MainPID)
w1=$(started_at web1)
o1=$(started_at other1)
apt-get install -y "./$(basename "$updeb")" >"$OUT/apt-upgrade.log" 2>&1
check_eq "the upgrade installs" 0 "$?"
check_eq "… to the new version" "$(dpkg-deb -f "$updeb" Version)" "$(dpkg-query -W -f='${Version}' ctrcert)"
check_eq "an upgrade leaves the running agent running" active "$(systemctl is-active ctrcert-agent)"
echo "# MainPID before/after the upgrade: $pid $(prop ctrcert-agent MainPID)"
check_eq "… and web1 untouched" "$w1" "$(started_at web1)"
check "… other1 too (restarted through the CLI, its conmon in the agent's cgroup)" running other1
check_eq "… not restarted" "$o1" "$(started_at other1)"
check "… the upgraded agent owns its name" wait_for 10 has_owner

apt-get remove -y ctrcert >"$OUT/apt-remove.log" 2>&1
check_eq "apt remove ctrcert" 0 "$?"
check_eq "removal stops the agent" inactive "$(systemctl is-active ctrcert-agent)"
check_eq "removal leaves the CA key alone" "$ca_key_sum" "$(sha256sum /etc/ctrcert/ca/private/ca.key 2>/dev/null | cut -d' ' -f1)"
check "… and the issuance index" test -s /var/lib/ctrcert/ca/index
check "web1 still runs" running web1
apt-get purge -y ctrcert >>"$OUT/apt-remove.log" 2>&1
check_eq "apt purge ctrcert" 0 "$?"
check_eq "purging leaves the CA key alone" "$ca_key_sum" "$(sha256sum /etc/ctrcert/ca/private/ca.key 2>/dev/null | cut -d' ' -f1)"

# ---- what the journal says ----
journal >"$OUT/journal.txt"
check "no 'reception only permitted for main PID' in the journal" lacks "reception only permitted for main PID" "$(cat "$OUT/journal.txt")"
check "no StateDirectory mode complaint in the journal" lacks "already exists but the mode is different" "$(cat "$OUT/journal.txt")"
check "the agent never hit its watchdog" lacks "ctrcert-agent.service: Watchdog timeout" "$(cat "$OUT/journal.txt")"
grep -E 'ctrcert|podman' "$OUT/journal.txt" | grep -iE 'warn|error|fail|denied' | grep -v 'certificate shared by' | head -n 20 | sed 's/^/# journal: /'
[ -f /var/log/audit/audit.log ] && cp /var/log/audit/audit.log "$OUT/"

echo "# scenario took $(ms_since "$started") ms"
finish host-scenario >"$OUT/summary"
cat "$OUT/summary"
touch "$OUT/done"
