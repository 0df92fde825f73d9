#!/bin/bash
# The Ansible collection against the sandbox (private bus, certmonger, ctrcert from the build):
# the role makes the CA, registers the helper (found without facts), writes fragments checked
# together and requests certificates through the module; a second run changes nothing; a
# changed name list re-issues exactly that certificate; state: absent removes the request; a
# bad variable fails on the argument spec before anything changes. Several hosts (faked by
# local connections with their own directories): one CA whatever the --limit, in shared and
# fleet mode; a given CA; the CRL timer, the trust store and the services through a stand-in
# systemctl. Then ansible-lint --profile production, validate-modules and ansible-test sanity.
. "$(dirname "$0")/lib.sh"
AGENT="$BUILD/ctrcert-agent"
COLL=$SRC/ansible

if ! command -v ansible-playbook >/dev/null; then
        not_ok "ansible-playbook is installed (./quickstart.sh test installs ansible-core)"
        finish
        exit 1
fi
start_bus && start_certmonger || exit 1
mkdir -p "$T/ansible-home" "$T/pki"
export ANSIBLE_HOME=$T/ansible-home ANSIBLE_LOCAL_TEMP=$T/ansible-home/tmp ANSIBLE_REMOTE_TMP=$T/ansible-home/tmp \
        ANSIBLE_COLLECTIONS_PATH=$COLL ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0

# The helper where a package would put it, found by the role without facts.
mkdir -p "$T/helpers" && ln -s "$BUILD/ctrcert-submit" "$T/helpers/ctrcert-submit"

# vars [DNS_OF_WEB] [DB_STATE]: the role's variables for this sandbox. web's proxy waits for
# db's container (after: across fragments) while db is there.
vars() {
        local after=
        [ "${2:-present}" = present ] && after=", after: [db-1]"
        cat >"$T/vars.yml" <<EOV
ctrcert_install: false
ctrcert_manage_service: false
ctrcert_config_dir: $T/etc
ctrcert_state_dir: $T/state
ctrcert_ctl: $BUILD/ctrcertctl
ctrcert_helper_dirs: [$T/no-such-dir, $T/helpers]
ctrcert_agent_settings: {debounce: 300ms, podman_socket: ""}
ctrcert_certificates:
  - id: web
    cert: $T/pki/web/web.crt
    key: $T/pki/web/private/web.key
    names: {dns: [${1:-web.example}]}
    key_mode: "0600"
    organization: Example
    bundle: {path: $T/pki/web/web.pem, parts: [cert, chain, key]}
    containers: [{name: web-1, action: reload$after}]
  - id: db
    state: ${2:-present}
    cert: $T/pki/db/db.crt
    key: $T/pki/db/db.key
    names: {dns: [db.example], ip: [192.0.2.5]}
    containers: [{name: db-1, action: restart}]
EOV
}
play() {
        ansible-playbook -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 \
                -e "@$T/vars.yml" "$@" "$SRC/tests/ansible/site.yml" >"$T/play.log" 2>&1
}
recap_changed() { grep -o 'changed=[0-9]*' "$T/play.log" | tail -n 1 | cut -d= -f2; }

vars
play
rc=$?
check_eq "the first run succeeds" 0 "$rc"
[ "$rc" = 0 ] || tail -n 30 "$T/play.log"
check "the CA was made (the inventory's only host, no ctrcert_ca_host needed)" test -f "$T/etc/ca/private/ca.key"
check_eq "… its key is private" 600 "$(stat -c %a "$T/etc/ca/private/ca.key")"
check_contains "without facts, the helper found where it is and registered with certmonger" \
        "$T/helpers/ctrcert-submit --config $T/etc/ctrcert.yaml" "$(gc list-cas -c ctrcert)"
check_contains "the configuration names the CA bundle the bundle's chain part needs" \
        "ca_bundle: $T/etc/ca/ca-bundle.pem" "$(cat "$T/etc/ctrcert.yaml")"
check "an after: naming another certificate's container passes the whole-manifest check" \
        grep -q 'after:' "$T/etc/manifest.d/50-web.yaml"
# request_subject NICKNAME: the subject certmonger's request asks for (template-subject, over D-Bus).
request_subject() {
        /usr/bin/python3 -c '
import dbus, sys
bus = dbus.SystemBus()
cm = bus.get_object("org.fedorahosted.certmonger", "/org/fedorahosted/certmonger")
for path in cm.get_requests(dbus_interface="org.fedorahosted.certmonger"):
    props = bus.get_object("org.fedorahosted.certmonger", path).GetAll(
        "org.fedorahosted.certmonger.request", dbus_interface="org.freedesktop.DBus.Properties")
    if props.get("nickname") == sys.argv[1]:
        print(props.get("template-subject", ""))
' "$1"
}
check_contains "the subject's organization reached certmonger's request" "O=Example" "$(request_subject web 2>&1)"
check_eq "… and ctrcert issued the CN alone (its policy: nothing of the CSR's subject but the CN)" \
        "subject=CN = web.example" "$(openssl x509 -in "$T/pki/web/web.crt" -noout -subject 2>&1)"
check "a fragment per certificate" test -f "$T/etc/manifest.d/50-web.yaml" -a -f "$T/etc/manifest.d/50-db.yaml"
check "the manifest the role wrote is valid" "$CTL" --config "$T/etc/ctrcert.yaml" manifest check
check_eq "both certificates issued through ctrcert" 2 "$(gc list | grep -c 'status: MONITORING')"
check_eq "the key directory is private" 700 "$(stat -c %a "$T/pki/web/private")"
check_eq "the key file has the asked mode" 600 "$(stat -c %a "$T/pki/web/private/web.key")"
listing=$(gc list)
check_eq "both requests are listed" 2 "$(grep -c "^Request ID" <<<"$listing")"
check "no post-save command anywhere" lacks 'post-save command: [^ ]' "$listing"

"$AGENT" --config "$T/etc/ctrcert.yaml" --bus system >"$T/agent.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do bus_has_owner org.ctrcert.Agent1 && break; sleep 0.05; done
check_contains "the agent runs with the role's bindings" "web-1" "$("$CTL" status)"

play
check_eq "a second run succeeds" 0 "$?"
check_eq "… and changes nothing" 0 "$(recap_changed)"

web0=$(serial "$T/pki/web/web.crt") db0=$(serial "$T/pki/db/db.crt")
vars www.example
play --check --diff
check_eq "check mode reports the change" 1 "$([ "$(recap_changed)" -gt 0 ] && echo 1)"
check_eq "… and re-issues nothing" "$web0" "$(serial "$T/pki/web/web.crt")"
play -e ctrcert_pause_during_run=true -e "ctrcert_pause_reason='ansible test run'" -e ctrcert_bus=system
check_eq "a changed name list runs (with the agent paused for the run)" 0 "$?"
check_contains "the role paused the agent" "paused: ansible test run" "$(cat "$T/agent.log")"
check_contains "… and resumed it" "resumed: queued jobs run" "$(cat "$T/agent.log")"
check "… so it is not paused now" lacks "PAUSED" "$("$CTL" --config "$T/etc/ctrcert.yaml" status 2>&1)"
check "web was re-issued" test "$(serial "$T/pki/web/web.crt")" != "$web0"
check_contains "… with the new name" "DNS:www.example" "$(openssl x509 -in "$T/pki/web/web.crt" -noout -ext subjectAltName)"
check_eq "db was not" "$db0" "$(serial "$T/pki/db/db.crt")"
check_contains "the agent was told to reload" "manifest reloaded" "$(cat "$T/agent.log")"
wait_until 30 test -s "$T/pki/web/web.pem"
check_eq "the agent assembled web's bundle with its chain (agent.ca_bundle)" 2 "$(grep -c 'BEGIN CERTIFICATE' "$T/pki/web/web.pem" 2>/dev/null)"

# A fragment the whole manifest refuses: the error names the staged file (no Ansible temporary
# file), and nothing live is replaced.
before=$(cat "$T/etc/manifest.d/"*.yaml "$T/etc/ctrcert.yaml" | md5sum)
sed -i 's/after: \[db-1\]/after: [no-such-container]/' "$T/vars.yml"
play
check "an after: naming no container fails the run" test "$(grep -c 'failed=1' "$T/play.log")" = 1
check_contains "… naming the staged fragment" "$T/etc/staged/manifest.d/50-web.yaml:" "$(cat "$T/play.log")"
check "… and no temporary file" lacks "ansible-tmp\|\.source" "$(grep -i 'error' "$T/play.log")"
check_eq "… before anything live was replaced" "$before" "$(cat "$T/etc/manifest.d/"*.yaml "$T/etc/ctrcert.yaml" | md5sum)"
vars www.example
printf '    run_after: systemctl reload httpd\n' >>"$T/vars.yml"
play
check_contains "a post-save command (run_after) is refused with the reason" "ctrcert never writes" "$(cat "$T/play.log")"

vars www.example absent
play
check_eq "state: absent runs" 0 "$?"
listing=$(gc list)
check "the db request is gone" lacks "Request ID 'db'" "$listing"
check_eq "… and web's is still there" 1 "$(grep -c "Request ID 'web'" <<<"$listing")"
check "… and its fragment" test ! -e "$T/etc/manifest.d/50-db.yaml"

# A certificate without its cert path: the argument spec stops the play before any change.
vars www.example
sed -i '/cert: .*db.crt/d' "$T/vars.yml"
before=$(ls -l --time-style=+%s.%N "$T/etc/manifest.d" "$T/etc/ctrcert.yaml" | md5sum)
play
check "a bad variable fails" test "$(grep -c 'failed=1' "$T/play.log")" = 1
check_contains "… naming what is wrong" "missing required arguments: cert" "$(cat "$T/play.log")"
check_eq "… before anything changed" "$before" "$(ls -l --time-style=+%s.%N "$T/etc/manifest.d" "$T/etc/ctrcert.yaml" | md5sum)"

# The module alone: the CA's refusal is the error.
out=$(ANSIBLE_LIBRARY= ansible -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 localhost \
        -m ctrcert.certmonger.certificate \
        -a "id=web2 template=web cert_file=$T/pki/web/web2.crt key_file=$T/pki/web/web2.key dns=evil.example" 2>&1)
check_contains "a CA refusal fails the module with certmonger's ca-error" "not declared" "$out"
out=$(ANSIBLE_LIBRARY= ansible -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 localhost \
        -m ctrcert.certmonger.certificate \
        -a "id=web3 template=web cert_file=$T/pki/web/web3.crt key_file=$T/pki/web/web3.key dns=www.example principal=host/www.example@EXAMPLE" 2>&1)
check_contains "a principal reaches the CA (getcert -K), which ctrcert refuses" "otherName" "$out"

# Two hosts (both local, each with its own directories). No host holds a CA and none is named:
# the role refuses to make a root on whichever comes first.
inventory() {
        printf '%s\n' "[nodes]" \
                "node-a ansible_connection=local ctrcert_config_dir=$T/node-a ctrcert_state_dir=$T/node-a/state" \
                "node-b ansible_connection=local ctrcert_config_dir=$T/node-b ctrcert_state_dir=$T/node-b/state" \
                "node-c ansible_connection=local ctrcert_config_dir=$T/node-c ctrcert_state_dir=$T/node-c/state" \
                "[nodes:vars]" "$@" >"$T/inventory"
}
fleet() {
        ansible-playbook -i "$T/inventory" -e ansible_python_interpreter=/usr/bin/python3 -e "ctrcert_ctl=$BUILD/ctrcertctl" \
                "$SRC/tests/ansible/ca-only.yml" "$@" >"$T/fleet.log" 2>&1
}
inventory
fleet --limit node-a,node-b
check "no CA host named or found: the run fails" test "$?" != 0
check_contains "… saying to set ctrcert_ca_host" "set ctrcert_ca_host to the host that is to hold it" "$(tr -s ' \n' ' ' <"$T/fleet.log")"
check "… and no root was made anywhere" test ! -e "$T/node-a/ca" -a ! -e "$T/node-b/ca"

# Named in the inventory: the CA is made once, there, and its issuing CA reaches the other; the
# root key stays where it was made.
inventory ctrcert_ca_host=node-a
fleet --limit node-a,node-b
check_eq "the CA step runs on two hosts" 0 "$?"
for f in ca.crt chain.pem private/ca.key; do
        check "node-b has node-a's $f" cmp -s "$T/node-a/ca/$f" "$T/node-b/ca/$f"
done
check_eq "… the key private" 600 "$(stat -c %a "$T/node-b/ca/private/ca.key" 2>/dev/null)"
check "the root key never leaves node-a" test -f "$T/node-a/ca/private/root.key" -a ! -e "$T/node-b/ca/private/root.key"
check "node-b has the root certmonger's FETCH-ROOTS reads" cmp -s "$T/node-a/ca/root.crt" "$T/node-b/ca/root.crt"
fleet --limit node-a,node-b
changed() { grep -o 'changed=[0-9]*' "$T/fleet.log" | cut -d= -f2 | sort -u | tr '\n' ' ' | sed 's/ $//'; }
check_eq "a second run changes nothing" 0 "$(changed)"

# A new node alone (--limit): it gets node-a's CA, delegated from node-a, and no root of its own.
fleet --limit node-c
check_eq "--limit newnode runs" 0 "$?"
check "… newnode has the CA host's issuing CA" cmp -s "$T/node-a/ca/ca.crt" "$T/node-c/ca/ca.crt"
check "… and its root" cmp -s "$T/node-a/ca/root.crt" "$T/node-c/ca/root.crt"
check "… and no root key" test ! -e "$T/node-c/ca/private/root.key"
# Without ctrcert_ca_host a --limit run finds no CA host: it fails rather than make a root.
rm -rf "$T/node-d"
inventory
printf '%s\n' "[new]" "node-d ansible_connection=local ctrcert_config_dir=$T/node-d ctrcert_state_dir=$T/node-d/state" >>"$T/inventory"
fleet --limit node-d
check "--limit newnode without ctrcert_ca_host fails" test "$?" != 0
check_contains "… saying how to proceed" "On a --limit run (a new node, say), set ctrcert_ca_host to the host that already holds the CA" \
        "$(tr -s ' \n' ' ' <"$T/fleet.log")"
check "… before making a root there" test ! -e "$T/node-d/ca/private/root.key"
# Another host named while node-a holds the root: a second root is refused.
inventory ctrcert_ca_host=node-b
fleet --limit node-a,node-b
check "naming another CA host while node-a holds a root fails" test "$?" != 0
check_contains "… saying a second root would be made" "would make a second, unrelated root" "$(tr -s ' \n' ' ' <"$T/fleet.log")"
check "… and node-b made none" test ! -e "$T/node-b/ca/private/root.key"
# Found without being named: node-a is the one host of the run with a root.
inventory
fleet --limit node-a,node-b
check_eq "the CA host found (it holds the root): the run succeeds" 0 "$?"
check_eq "… and changes nothing" 0 "$(changed)"
inventory ctrcert_ca_host=node-a

# An existing CA given as files: installed whole, with root.crt (the last of the chain) and ca-bundle.pem.
printf '%s\n' "[given]" "given-1 ansible_connection=local ctrcert_config_dir=$T/given-1 ctrcert_state_dir=$T/given-1/state" >"$T/given-inventory"
ansible-playbook -i "$T/given-inventory" -e ansible_python_interpreter=/usr/bin/python3 -e "ctrcert_ctl=$BUILD/ctrcertctl" \
        -e "{\"ctrcert_ca_files\": {\"crt\": \"$T/node-a/ca/ca.crt\", \"chain\": \"$T/node-a/ca/chain.pem\", \"key\": \"$T/node-a/ca/private/ca.key\"}}" \
        "$SRC/tests/ansible/ca-only.yml" >"$T/given.log" 2>&1
check_eq "a given CA is placed" 0 "$?"
check "… with the root FETCH-ROOTS reads" cmp -s "$T/node-a/ca/root.crt" "$T/given-1/ca/root.crt"
check "… and the bundle agent.ca_bundle names" test -s "$T/given-1/ca/ca-bundle.pem"
check "… a CA the helper can sign with" "$BUILD/ctrcertctl" ca show "$T/given-1/ca"

# A CA rollover on node-a reaches node-b whole: the new generation and the previous one, swapped
# in by `ctrcertctl ca install`; certmonger is told to fetch the roots again. --finish ends it there too.
"$BUILD/ctrcertctl" ca rollover "$T/node-a/ca" >/dev/null
fleet
check_eq "the play after a rollover succeeds" 0 "$?"
for f in ca.crt chain.pem root.crt private/ca.key previous/ca.crt previous/root.crt previous/private/ca.key; do
        check "node-b has node-a's $f" cmp -s "$T/node-a/ca/$f" "$T/node-b/ca/$f"
done
check_eq "… the previous key private" 600 "$(stat -c %a "$T/node-b/ca/previous/private/ca.key" 2>/dev/null)"
check_contains "node-b's CA is in the rollover" "rollover in progress" "$("$BUILD/ctrcertctl" ca show "$T/node-b/ca")"
check_eq "node-b's ca-bundle.pem holds both generations" 4 "$(grep -c 'BEGIN CERTIFICATE' "$T/node-b/ca/ca-bundle.pem")"
check_contains "certmonger is asked to fetch the roots again" "Refresh the CA in certmonger" "$(cat "$T/fleet.log")"
check "the root key still never leaves node-a" test ! -e "$T/node-b/ca/private/root.key"
fleet
check_eq "a second run after the rollover changes nothing" 0 "$(changed)"
"$BUILD/ctrcertctl" ca rollover --finish --force "$T/node-a/ca" >/dev/null
fleet
check "a finished rollover leaves node-b no previous generation" test ! -e "$T/node-b/ca/previous"
check "… and nothing of it staged" test ! -e "$T/node-b/ca/incoming/previous"
check "node-b keeps the new generation" cmp -s "$T/node-a/ca/ca.crt" "$T/node-b/ca/ca.crt"
fleet
check_eq "and the next run changes nothing" 0 "$(changed)"

# Fleet mode: one root on node-a, each node its own CA constrained to its names.
printf '%s\n' "[nodes]" \
        "fleet-a ansible_connection=local ctrcert_config_dir=$T/fleet-a ctrcert_root_dir=$T/fleet-root ctrcert_node_permit_dns='[\"a.example\"]' ctrcert_node_permit_ip='[\"192.0.2.0/28\"]'" \
        "fleet-b ansible_connection=local ctrcert_config_dir=$T/fleet-b ctrcert_node_permit_dns='[\"b.example\"]'" \
        "fleet-c ansible_connection=local ctrcert_config_dir=$T/fleet-c ctrcert_node_permit_dns='[\"c.example\"]'" \
        "[nodes:vars]" "ctrcert_ca_host=fleet-a" >"$T/fleet-inventory"
fleet_play() {
        ansible-playbook -i "$T/fleet-inventory" -e ansible_python_interpreter=/usr/bin/python3 -e "ctrcert_ctl=$BUILD/ctrcertctl" \
                -e ctrcert_ca_mode=fleet -e "ctrcert_state_dir=$T/fleet-state" \
                "$SRC/tests/ansible/ca-only.yml" "$@" >"$T/fleet.log" 2>&1
}
fleet_play --limit fleet-a,fleet-b
rc=$?
check_eq "fleet mode runs on two hosts" 0 "$rc"
[ "$rc" = 0 ] || tail -n 20 "$T/fleet.log"
check "each host has its own issuing CA" bash -c "! cmp -s '$T/fleet-a/ca/ca.crt' '$T/fleet-b/ca/ca.crt'"
nc_a=$(openssl x509 -in "$T/fleet-a/ca/ca.crt" -noout -ext nameConstraints 2>&1)
check_contains "fleet-a's CA may sign a.example" "DNS:a.example" "$nc_a"
check_contains "… and its address range" "IP:192.0.2.0/255.255.255.240" "$nc_a"
check "… nothing of b.example" lacks "b.example" "$nc_a"
nc_b=$(openssl x509 -in "$T/fleet-b/ca/ca.crt" -noout -ext nameConstraints 2>&1)
check_contains "fleet-b's only b.example" "DNS:b.example" "$nc_b"
check_contains "… no IP address at all (ctrcert_node_permit_ip defaults to [])" \
        "$(printf 'Excluded:\n      IP:0.0.0.0/0.0.0.0\n      IP:0:0:0:0:0:0:0:0/0:0:0:0:0:0:0:0\n      email:\n      URI:')" "$nc_b"
check_contains "… and subjects only under its own OU" "DirName:O = ctrcert, OU = fleet-b" "$nc_b"
for n in a b; do
        check "fleet-$n's CA chains to the one root" openssl verify -CAfile "$T/fleet-root/root.crt" "$T/fleet-$n/ca/ca.crt"
        check "… and fleet-$n holds no root key" test ! -e "$T/fleet-$n/ca/private/root.key"
done
fleet_play --limit fleet-a,fleet-b
check_eq "a second fleet run changes nothing" 0 "$(grep -o 'changed=[0-9]*' "$T/fleet.log" | cut -d= -f2 | sort -u | tr '\n' ' ' | sed 's/ $//')"
fleet_play --limit fleet-c
check_eq "fleet mode, --limit newnode runs" 0 "$?"
check_contains "… newnode gets its own CA, constrained to its names" "DNS:c.example" \
        "$(openssl x509 -in "$T/fleet-c/ca/ca.crt" -noout -ext nameConstraints 2>&1)"
check "… under the one root" openssl verify -CAfile "$T/fleet-root/root.crt" "$T/fleet-c/ca/ca.crt"
check "… and no root of its own" test ! -e "$T/fleet-c/root" -a ! -e "$T/fleet-c/ca/private/root.key"

# Without python3-dbus the module reads `getcert list`: the same request reads as unchanged.
out=$(CTRCERT_MODULE_NO_DBUS=1 ansible -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 localhost \
        -m ctrcert.certmonger.certificate --check \
        -a "id=web cert_file=$T/pki/web/web.crt key_file=$T/pki/web/private/web.key dns=www.example organization=Example" 2>&1)
check_contains "read through getcert list, an unchanged request is unchanged" '"changed": false' "$out"
out=$(CTRCERT_MODULE_NO_DBUS=1 ansible -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 localhost \
        -m ctrcert.certmonger.certificate --check \
        -a "id=web cert_file=$T/pki/web/web.crt key_file=$T/pki/web/private/web.key dns=other.example organization=Example" 2>&1)
check_contains "… and a changed one is changed" '"changed": true' "$out"
out=$(ansible -i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 localhost -m ctrcert.certmonger.certificate \
        -a "id=web cert_file=$T/pki/web/web.crt key_file=$T/pki/web/private/web.key dns=www.example organization=Example auto_renew=false" 2>&1)
check_contains "auto_renew: false changes the request" '"changed": true' "$out"
check_contains "… certmonger no longer renews it" "auto-renew: no" "$(gc list -i web)"

# ca.crl_url, the host's trust store and the services, through a stand-in systemctl (no systemd
# manager runs here): the first CRL is written, ctrcert-crl.timer and the agent enabled and started,
# the root becomes a trust anchor and the store is updated once.
mkdir -p "$T/systemctl" "$T/anchors"
vars www.example absent
cat >>"$T/vars.yml" <<EOV
ctrcert_manage_service: true
ctrcert_agent_dropin_dir: $T/dropin
ctrcert_crl_url: http://crl.example/ctrcert.crl
ctrcert_trust_host: true
ctrcert_trust_anchor_dir: $T/anchors
ctrcert_trust_update_command: [/bin/sh, -c, "echo updated >>$T/trust-updates"]
EOV
services_play() { PATH=$SRC/tests/ansible/fakebin:$PATH FAKE_SYSTEMCTL_DIR=$T/systemctl play; }
services_play
rc=$?
check_eq "the run with crl_url, trust and services succeeds" 0 "$rc"
[ "$rc" = 0 ] || tail -n 30 "$T/play.log"
check_contains "ca.crl_url is configured" "crl_url: \"http://crl.example/ctrcert.crl\"" "$(cat "$T/etc/ctrcert.yaml")"
check "the first CRL is written" openssl crl -in "$T/state/ca/crl.pem" -noout
systemctl_log=$(cat "$T/systemctl/log" 2>/dev/null)
check_contains "ctrcert-crl.timer is enabled" "enable ctrcert-crl.timer" "$systemctl_log"
check_contains "… and started" "start ctrcert-crl.timer" "$systemctl_log"
check_contains "ctrcert-agent is enabled" "enable ctrcert-agent" "$systemctl_log"
check_contains "the sandboxed agent may write the bundle's directory (ReadWritePaths drop-in)" \
        "ReadWritePaths=-$T/pki/web" "$(cat "$T/dropin/ctrcert-role-writable.conf" 2>/dev/null)"
check "… and the drop-in (re)started it after a daemon-reload" \
        grep -qE '^(re)?start ctrcert-agent' <(grep -A3 '^daemon-reload' "$T/systemctl/log")
check "the root is a trust anchor of the host" cmp -s "$T/etc/ca/root.crt" "$T/anchors/ctrcert-root.crt"
check_eq "… and the trust store was updated once" 1 "$(grep -c updated "$T/trust-updates" 2>/dev/null)"
services_play
check_eq "a second run changes nothing" 0 "$(recap_changed)"
check_eq "… and updates the trust store no more" 1 "$(grep -c updated "$T/trust-updates" 2>/dev/null)"
# Left to find them, the role picks this host's trust store and tool (check mode: nothing is
# written outside the sandbox).
anchors=/usr/local/share/ca-certificates
[ -x /usr/bin/update-ca-trust ] && anchors=/etc/pki/ca-trust/source/anchors
play --check -v -e ctrcert_trust_anchor_dir= -e '{"ctrcert_trust_update_command": []}' -e ctrcert_trust_anchor_name=ctrcert-test-$$
check_contains "without settings, the distribution's anchors directory is found" "$anchors/ctrcert-test-$$.crt" "$(cat "$T/play.log")"
check "… and nothing written there in check mode" test ! -e "$anchors/ctrcert-test-$$.crt"

# ansible-test sanity writes tests/output into the collection: a copy in the sandbox. The
# tests that install requirements with pip need the network and are skipped.
cp -r "$COLL/ansible_collections" "$T/"
(cd "$T/ansible_collections/ctrcert/certmonger" &&
        HOME=$T/ansible-home timeout 300 ansible-test sanity --python "$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
                --skip-test ansible-doc --skip-test import --skip-test pep8 --skip-test pylint \
                --skip-test runtime-metadata --skip-test validate-modules --skip-test yamllint --skip-test changelog) >"$T/sanity.log" 2>&1
rc=$?
check_eq "ansible-test sanity: the $(grep -c 'Running sanity' "$T/sanity.log") offline tests pass" 0 "$rc"
[ "$rc" = 0 ] || grep -v '^WARNING' "$T/sanity.log" | tail -n 20

# validate-modules without ansible-test's virtual environment (which it fetches pip for): the
# same checker, run by the system's Python with python3-voluptuous, the collection's ignore file applied.
VM=$(/usr/bin/python3 -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_util/controller/sanity/validate-modules/validate.py
if [ -f "$VM" ] && /usr/bin/python3 -c 'import voluptuous' 2>/dev/null; then
        vm=$(cd "$T/ansible_collections/ctrcert/certmonger" && ANSIBLE_COLLECTIONS_PATH=$T /usr/bin/python3 "$VM" --arg-spec \
                --collection ansible_collections/ctrcert/certmonger --collection-version 1.1.0 plugins/modules 2>&1 |
                grep -v -F -f <(sed -n 's/^\([^ ]*\) validate-modules:\([^ ]*\).*/\1:0:0: E\2 /p' tests/sanity/ignore-2.14.txt))
        check_eq "validate-modules is clean (ignore-2.14.txt: the MIT licence header)" "" "$vm"
else
        not_ok "validate-modules runs (python3-voluptuous is installed)"
fi

if command -v ansible-lint >/dev/null; then
        lint=$(cd "$COLL/ansible_collections/ctrcert/certmonger" && ansible-lint --offline --nocolor -q roles/ctrcert plugins 2>&1)
        check_eq "ansible-lint --offline is clean" "" "$lint"
        lint=$(cd "$COLL/ansible_collections/ctrcert/certmonger" && ansible-lint --offline --nocolor --profile production 2>&1)
        check_contains "ansible-lint --profile production passes (Galaxy metadata, changelog, tags, version)" \
                "Passed with production profile: 0 failure(s), 0 warning(s)" "$lint"
fi
finish
