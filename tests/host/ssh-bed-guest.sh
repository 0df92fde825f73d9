#!/bin/bash
# The SSH test bed, INSIDE the guest (ctrcert-host-bed.service, after sshd): what the bed gives
# the playbook besides the host itself — podman's configuration for nesting and the TLS image
# web-1 runs, built offline as scenario.sh builds it — then OUT/bed-ready (or OUT/bed-failed with
# the reason). The guest stays up: run.sh drives it over SSH and powers it off.
set -u
IN=/ctrcert-test
OUT=${1:-/ctrcert-out}
. "$IN/guest-lib.sh"

fail() {
        echo "$*" >"$OUT/bed-failed"
        exit 1
}
containers_conf "# nested in systemd-nspawn: no pids controller for the container (TESTENV)" "pids_limit = 0"
build_image || fail "the TLS image (busybox + openssl) could not be imported: $(tail -n 3 "$OUT/podman.log")"
wait_for 60 systemctl is-active -q ssh || fail "sshd is $(systemctl is-active ssh)"
touch "$OUT/bed-ready"
