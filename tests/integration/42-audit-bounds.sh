#!/bin/bash
# ctrcertctl audit against a runtime that misbehaves: its output is bounded
# (16 MiB), the child is stopped, and the error says why. A runtime CLI here is
# a script named by agent.podman, so no container engine is needed.
. "$(dirname "$0")/lib.sh"

make_ca_and_config
printf 'version: 1\ncertificates: []\n' >"$T/etc/manifest.yaml"
printf 'agent:\n  podman: %s/fake-podman\n' "$T" >>"$CONF"

# fake_runtime BYTES: a runtime whose ps lists one container and whose inspect prints BYTES bytes.
fake_runtime() {
        printf '#!/bin/bash\ncase "$1" in\nps) echo big ;;\ninspect) printf "big"; head -c %s /dev/zero | tr "\\\\0" x; echo ;;\nesac\n' "$1" \
                >"$T/fake-podman"
        chmod +x "$T/fake-podman"
}

fake_runtime 1000
# No bus here (certmonger's requests cannot be compared): a warning, the containers' side still runs.
NOBUS=(--bus "unix:path=$T/no-bus.sock")
out=$("$CTL" --config "$CONF" "${NOBUS[@]}" audit 2>&1)
check_eq "audit of a small inspect output succeeds" 0 "$?"
check_contains "… saying certmonger's side was not compared" "certmonger's requests not compared" "$out"
check_contains "it counts the container" "podman: 1 running container checked" "$out"

fake_runtime 20000000 # past 16 MiB; the old reader freed its buffer twice here
out=$("$CTL" --config "$CONF" "${NOBUS[@]}" audit 2>&1)
check_eq "audit of an inspect output past 16 MiB fails" 1 "$?"
check_contains "the error names the bound" "its output passed 16 MiB" "$out"
check "no memory error" lacks "AddressSanitizer\|double free" "$out"

finish
