#!/bin/bash
# One burst, one job per container, whatever the gaps between certmonger's saves: a container
# whose window ends while certmonger is still renewing another of its certificates (a request
# between resubmit and save, seen in its status signals) waits for it, up to
# agent.debounce_max. Real certmonger, real bus, real podman; a second CA entry whose helper
# waits for the test to release it makes one save come late on purpose, as certmonger's own
# save gaps (~5 s, bench/RESULTS.md) do in a mass renewal. The gate is a file, not a timed
# sleep, so a loaded machine cannot let the late save through before the test has looked.
. "$(dirname "$0")/lib.sh"

make_ca_and_config || exit 1
cat >>"$CONF" <<EOC
agent:
  debounce: 1s
  debounce_max: 20s
  podman_socket: "" # the CLI here; 75-podman-api tests the API
  max_parallel: 4
  step_timeout: 30s
EOC
P=$T/pki
mkdir -p "$P" "$T/bin"
{
        echo "version: 1"
        echo "certificates:"
        for id in x1 x2 x3; do
                entry "$id" "$P"
                echo "    containers: [{name: ctr-x, action: restart}]"
        done
        entry y1 "$P"
        echo "    containers: [{name: ctr-y, action: restart}]"
} >"$T/etc/manifest.yaml"
# The same helper, whose SUBMIT waits until $T/release exists (at most 5 minutes, so a broken
# test cannot hang certmonger): its request stays SUBMITTING until the test releases it.
cat >"$T/bin/slow-submit" <<EOS
#!/bin/sh
i=0
while [ "\$CERTMONGER_OPERATION" = SUBMIT ] && [ ! -e $T/release ] && [ \$i -lt 6000 ]; do sleep 0.05; i=\$((i + 1)); done
exec "$SUBMIT" --config "$CONF"
EOS
chmod +x "$T/bin/slow-submit"
hold() { rm -f "$T/release"; }
release() { touch "$T/release"; }
release
start_world || exit 1
gc add-ca -c ctrcert-slow -e "$T/bin/slow-submit" >/dev/null
for id in x1 x2 x3 y1; do issue_cert "$id" "$P/$id.crt" "$P/$id.key"; done
check_eq "four certificates issued through certmonger" 4 "$(gc list | grep -c 'status: MONITORING')"
for c in ctr-x ctr-y; do podman run -d --init --name "$c" localhost/ctrcert-tls sleep 100000 >/dev/null; done

watch_jobs
# stop_agent: SIGTERM, then its exit status (non-zero under ASan when it leaked).
stop_agent() {
        kill -TERM "$AGENT_PID"
        wait "$AGENT_PID"
}
restarts() { podman events --stream=false --filter container="$1" --filter event=restart 2>/dev/null | wc -l; }
# job_of CONTAINER K: the dbus-monitor lines of CONTAINER's K-th JobFinished (ids, action, result, message).
job_of() { awk -v ctr="string \"$1\"" -v k="$2" '/member=JobFinished/ { first = 1; on = 0; next }
        first { first = 0; if (index($0, ctr)) on = (++n == k) } on' "$T/jobs.log"; }
ids_of_job() { job_of "$1" "$2" | sed -n 's/^      string "\(.*\)"$/\1/p' | tr '\n' ' '; }
result_of_job() { job_of "$1" "$2" | sed -n '/^   \]/{n;n;p;}' | cut -d'"' -f2; }
check "the agent starts" start_agent
sleep 1.5
check_eq "its first start acts on nothing" 0 "$(($(jobs_for ctr-x) + $(jobs_for ctr-y)))"
check "… it records the certificates as it found them" grep -q "$P/y1.crt" "$T/state/agent/seen"

# ---- one burst: x1 and x2 saved at once, x3 seconds later (slow CA), y1 at once ----
x0=$(restarts ctr-x) y0=$(restarts ctr-y)
hold
gc resubmit -i x3 -c ctrcert-slow >/dev/null
for id in x1 x2 y1; do gc resubmit -i "$id" >/dev/null; done
# While x3 is still submitting, ctr-x waits with a reason; ctr-y (nothing of it pending) is done.
check "ctr-y's job finishes while x3 is still being renewed" wait_jobs ctr-y 1
check_eq "x3 is still being renewed then" SUBMITTING "$(request_field x3 status)"
check_eq "ctr-x has no job yet" 0 "$(jobs_for ctr-x)"
check_contains "ctrcertctl jobs says what ctr-x waits for" "certmonger is renewing" \
        "$(ctl jobs)"
release
check "x3 is saved" wait_status x3 MONITORING
check "ctr-x's job finishes" wait_jobs ctr-x 1
sleep 3 # a window and a restart more: a second job would have finished by now
check_eq "three certificates saved seconds apart make one job for ctr-x" 1 "$(jobs_for ctr-x)"
check_eq "the job succeeded" ok "$(result_of_job ctr-x 1)"
ids=$(ids_of_job ctr-x 1)
for id in x1 x2 x3; do check_contains "the one job names $id" "$id" "$ids"; done
check_eq "podman restarted ctr-x once" $((x0 + 1)) "$(restarts ctr-x)"
check_eq "podman restarted ctr-y once" $((y0 + 1)) "$(restarts ctr-y)"
check_eq "x3 now comes from the slow CA entry" ctrcert-slow "$(request_field x3 CA)"

# ---- agent.debounce_max caps the wait: x3 far too slow, ctr-x acts on what was saved ----
check "the agent stops cleanly" stop_agent
sed -i 's/debounce_max: 20s/debounce_max: 3s/' "$CONF"
hold
check "the agent starts with debounce_max 3s" start_agent
gc resubmit -i x3 -c ctrcert-slow >/dev/null
gc resubmit -i x1 >/dev/null
check "a job runs before x3 is saved" wait_jobs ctr-x 2
check_eq "x3 is still being renewed then" SUBMITTING "$(request_field x3 status)"
ids=$(ids_of_job ctr-x 2)
check_contains "that job names x1" x1 "$ids"
check_eq "and not x3" "" "$(grep -o x3 <<<"$ids")"
check_contains "the agent says why it did not wait longer" "still being renewed after agent.debounce_max" \
        "$(cat "$T/agent.log")"
release
check "x3, saved later, gets its own job" wait_jobs ctr-x 3
check_contains "which names x3" x3 "$(ids_of_job ctr-x 3)"

# ---- a renewal that ends without a save (CA_REJECTED) does not hold the container ----
before=$(jobs_for ctr-x)
gc resubmit -i x2 -D not-declared.example >/dev/null 2>&1
wait_status x2 CA_REJECTED >/dev/null
gc resubmit -i x1 >/dev/null
check "ctr-x's job runs although x2's renewal failed" wait_jobs ctr-x $((before + 1))
check_contains "x2's refusal is in ca-error" "not-declared.example" "$(request_field x2 ca-error)"
check_eq "ctr-x was not left waiting" 0 "$(ctl jobs | grep -c ctr-x)"
check "the agent stops cleanly" stop_agent

# ---- saved while no agent ran: the next agent catches up ----
y_jobs=$(jobs_for ctr-y) y_restarts=$(restarts ctr-y) y_serial=$(serial "$P/y1.crt")
gc resubmit -i y1 >/dev/null
serial_changed() { [ "$(serial "$1")" != "$2" ]; }
check "y1 is renewed while no agent runs" wait_until 30 serial_changed "$P/y1.crt" "$y_serial"
check "the agent starts again" start_agent
check "ctr-y gets the job it missed" wait_jobs ctr-y $((y_jobs + 1))
check_eq "… and podman restarted it" $((y_restarts + 1)) "$(restarts ctr-y)"
check_contains "the agent says why" "y1) changed while no agent was running" "$(cat "$T/agent.log")"
check "the agent stops cleanly again" stop_agent
check "… and starts once more" start_agent
sleep 2.5
check_eq "nothing changed since: no job at that start" $((y_jobs + 1)) "$(jobs_for ctr-y)"

# ---- an agent started mid-burst: x1 saved before it ran, x3 still being renewed ----
check "the agent stops cleanly before the next burst" stop_agent
sed -i 's/debounce_max: 3s/debounce_max: 20s/' "$CONF"
hold
x_jobs=$(jobs_for ctr-x) x_restarts=$(restarts ctr-x) x1_serial=$(serial "$P/x1.crt")
gc resubmit -i x3 -c ctrcert-slow >/dev/null
gc resubmit -i x1 >/dev/null
check "x1 is saved while no agent runs" wait_until 30 serial_changed "$P/x1.crt" "$x1_serial"
check "the agent starts in the middle of the burst" start_agent
jobs_say_renewing() { ctl jobs | grep -q "certmonger is renewing"; }
check "ctr-x waits for x3 past its window (certmonger's requests are read at start)" wait_until 60 jobs_say_renewing
check_eq "x3 is still being renewed" SUBMITTING "$(request_field x3 status)"
release
check "x3 is saved" wait_status x3 MONITORING
check "ctr-x's job finishes" wait_jobs ctr-x $((x_jobs + 1))
sleep 3 # a window and a restart more: a second job would have finished by now
check_eq "one job for both" $((x_jobs + 1)) "$(jobs_for ctr-x)"
ids=$(ids_of_job ctr-x $((x_jobs + 1)))
check_contains "… naming x1, caught up" x1 "$ids"
check_contains "… and x3" x3 "$ids"
check_eq "podman restarted ctr-x once" $((x_restarts + 1)) "$(restarts ctr-x)"
check "the agent stops cleanly" stop_agent
finish
