#!/bin/bash
# Every YAML snippet of the migration guide is a valid manifest: each ```yaml block is a
# ctrcert_certificates list (as the Ansible role takes it); the keys the role puts into a manifest
# fragment (roles/ctrcert/templates/fragment.yaml.j2) make a manifest, and ctrcertctl manifest
# check must find no error in it.
. "$(dirname "$0")/lib.sh"

GUIDE=$SRC/ansible/ansible_collections/ctrcert/certmonger/docs/migration.md
mkdir -p "$T/snippets"
n=$(/usr/bin/python3 - "$GUIDE" "$T/snippets" <<'EOP'
import re, sys, yaml
guide, out = sys.argv[1], sys.argv[2]
keep = ["id", "cert", "key", "names", "usage", "bundle", "containers"]
blocks = re.findall(r"^```yaml\n(.*?)^```", open(guide).read(), re.S | re.M)
for i, text in enumerate(blocks):
    doc = yaml.safe_load(text)
    entries = doc["ctrcert_certificates"] if isinstance(doc, dict) else doc
    certs = [{k: e[k] for k in keep if k in e} for e in entries]
    with open("%s/%02d.yaml" % (out, i), "w") as f:
        yaml.safe_dump({"version": 1, "certificates": certs}, f, sort_keys=False)
print(len(blocks))
EOP
)
check "the guide's YAML snippets are extracted" test "${n:-0}" -ge 8
for f in "$T"/snippets/*.yaml; do
        ids=$(grep -E '^- id:|^  id:|^  - id:' "$f" | awk '{print $NF}' | tr '\n' ' ')
        out=$("$CTL" manifest check "$f" 2>&1)
        check_contains "migration.md snippet $(basename "$f" .yaml) ($ids) passes manifest check" ", 0 errors," "$out" ||
                echo "$out" | sed 's/^/# /'
done
finish
