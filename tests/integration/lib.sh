# shellcheck shell=bash
# Shared helpers for the integration tests: the sandbox (../sandbox.sh), named
# assertions printed as "ok - …"/"not ok - …", and a CA + config + manifest.
set -u

BUILD=${BUILD:?BUILD must name the build directory}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA=$SRC/tests/unit/data # the CSR fixtures
SUBMIT="$BUILD/ctrcert-submit"
CTL="$BUILD/ctrcertctl"
. "$(dirname "${BASH_SOURCE[0]}")/../sandbox.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

# A CA, a config and a manifest under $T/etc. Sets CONF.
make_ca_and_config() {
        local policy=${1:-strict}
        mkdir -p "$T/etc" "$T/state"
        "$CTL" ca init "$T/etc/ca" >/dev/null || return 1
        CONF="$T/etc/ctrcert.yaml"
        cat >"$CONF" <<EOC
ca:
  dir: $T/etc/ca
  validity_days: 30
  policy: $policy
  permitted_dns: [.open.example]
  permitted_ip: [192.0.2.0/24]
state_dir: $T/state
manifest: $T/etc/manifest.yaml
EOC
}

# run_helper OPERATION [VAR=value…]: runs ctrcert-submit in certmonger's scrubbed
# environment; stdout in $OUT, exit status in $RC.
run_helper() {
        local op=$1
        shift
        OUT=$(cd / && env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/run/certmonger CERTMONGER_OPERATION="$op" "$@" \
                "$SUBMIT" --config "$CONF" 2>"$T/helper.err")
        RC=$?
}

# write_manifest [YAML…]: the manifest of make_ca_and_config with certificate
# "web" (the names of the csr-ec.pem fixture), then any further entries given.
write_manifest() {
        {
                printf 'version: 1\ncertificates:\n'
                printf '  - id: web\n    cert: %s/web.crt\n    key: %s/web.key\n' "$T" "$T"
                printf '    names: {dns: [web.example, www.example], ip: [192.0.2.10], email: [ops@web.example]}\n'
                printf '%s\n' "$@"
        } >"$T/etc/manifest.yaml"
}

# ---- the agent's world ----

# start_world: checks $T/etc/manifest.yaml, then a private bus, certmonger with ctrcert
# registered, and a podman store with the TLS image.
start_world() {
        check "the test manifest is valid" "$CTL" manifest check "$T/etc/manifest.yaml"
        start_bus && start_certmonger && start_podman || return 1
        gc add-ca -c ctrcert -e "$SUBMIT --config $CONF" >/dev/null
}

# issue_cert ID CERT KEY: a certificate for ID.example through certmonger and ctrcert.
issue_cert() {
        gc request -w -c ctrcert -T "$1" -I "$1" -G EC -g 256 -N "CN=$1.example" -D "$1.example" \
                -f "$2" -k "$3" >/dev/null 2>&1
}

# start_agent: ctrcert-agent with $CONF on the sandbox bus, its output appended to $T/agent.log,
# until it owns its name (30 s); its PID in AGENT_PID.
start_agent() {
        "$BUILD/ctrcert-agent" --config "$CONF" --bus system >>"$T/agent.log" 2>&1 &
        AGENT_PID=$!
        PIDS+=("$AGENT_PID")
        wait_until 30 bus_has_owner org.ctrcert.Agent1
}

# kill_agent: SIGKILL, as a crash would; returns once the process and its bus name are gone (30 s).
agent_gone() { ! kill -0 "$AGENT_PID" 2>/dev/null && ! bus_has_owner org.ctrcert.Agent1; }
kill_agent() {
        kill -KILL "$AGENT_PID"
        wait_until 30 agent_gone
}

# records: how many job records the agent has on disk.
records() { find "$T/state/agent" -name '*.job' 2>/dev/null | wc -l; }
# wait_idle: until no job record is left and the agent lists no job (120 s).
agent_idle() { [ "$(records)" = 0 ] && ctl jobs 2>/dev/null | grep -q '^0 jobs$'; }
wait_idle() { wait_until 120 agent_idle; }

# entry ID DIR: a manifest entry for certificate ID (names ID.example), its files in DIR.
entry() { printf '  - id: %s\n    cert: %s/%s.crt\n    key: %s/%s.key\n    names: {dns: [%s.example]}\n' "$1" "$2" "$1" "$2" "$1" "$1"; }

# sleeper NAME [PODMAN-RUN-OPTIONS…]: a container that only sleeps, started with --init.
sleeper() { podman run -d --init --name "$1" "${@:2}" localhost/ctrcert-tls sleep 100000 >/dev/null; }

# stop_agent: SIGTERM to AGENT_PID and its exit within 10 s; an agent that does not stop is killed
# and the function fails.
stop_agent() {
        kill -TERM "$AGENT_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$AGENT_PID" 2>/dev/null; then
                kill -KILL "$AGENT_PID"
                wait "$AGENT_PID" 2>/dev/null
                return 1
        fi
        wait "$AGENT_PID" 2>/dev/null
        return 0
}

# ---- watching the agent ----

# watch_jobs: records the agent's JobFinished signals in $T/jobs.log (dbus-monitor).
watch_jobs() {
        dbus-monitor --system "type='signal',interface='org.ctrcert.Agent1',member='JobFinished'" >"$T/jobs.log" 2>&1 &
        PIDS+=("$!")
}

# jobs_for CONTAINER: how many finished jobs named it.
jobs_for() { grep -A1 'member=JobFinished' "$T/jobs.log" | grep -cF "string \"$1\""; }

# last_result / last_message CONTAINER: of its latest finished job ("ok", "failed", "held").
last_result() { grep -F -A6 "string \"$1\"" "$T/jobs.log" | grep -E 'string "(ok|failed|held)"' | tail -n 1 | cut -d'"' -f2; }
last_message() { grep -F -A7 "string \"$1\"" "$T/jobs.log" | grep -A1 -E 'string "(ok|failed|held)"' | tail -n 1 | cut -d'"' -f2-; }

# serial FILE: a certificate's serial as openssl prints it.
serial() { openssl x509 -in "$1" -noout -serial 2>/dev/null | cut -d= -f2; }
# fp CERT: its SHA-256 fingerprint, lower-case hex without colons (as the issuance index writes it).
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f; }

# ctl ARGS…: ctrcertctl with the test's configuration.
ctl() { "$CTL" --config "$CONF" "$@"; }

# wait_jobs CONTAINER N: until N finished jobs name CONTAINER (60 s).
has_jobs() { [ "$(jobs_for "$1")" -ge "$2" ]; }
wait_jobs() { wait_until 60 has_jobs "$@"; }

# ---- what the agent's surroundings see of it ----

# listen_notify SOCKET LOG: a datagram socket like systemd's NOTIFY_SOCKET; each message it
# receives is appended to LOG.
listen_notify() {
        /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        log.write(s.recv(4096).decode() + "\n")
        log.flush()
' "$1" "$2" &
        PIDS+=("$!")
        for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
        return 1
}

# make_recorder PATH: a runtime CLI for agent.podman/agent.docker that appends its argv (one
# line) to PATH.argv and its environment to PATH.env, then runs podman with the same arguments.
make_recorder() {
        printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s.argv"\nenv >>"%s.env"\nexec podman "$@"\n' "$1" "$1" >"$1"
        chmod +x "$1"
}
