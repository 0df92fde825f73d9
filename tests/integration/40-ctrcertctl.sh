#!/bin/bash
# ctrcertctl: ca init / ca show and manifest check, as an operator runs them.
. "$(dirname "$0")/lib.sh"


# ---- ca init ----
out=$("$CTL" ca init "$T/ca" 2>&1)
check_eq "ca init exits 0" 0 "$?"
check_contains "ca init says what it made" "created root and issuing CA (ec-p256) in $T/ca" "$out"
for f in ca.crt chain.pem root.crt private/ca.key private/root.key; do
        check "ca init wrote $f" test -s "$T/ca/$f"
done
check_eq "the issuing key is 0600" 600 "$(stat -c %a "$T/ca/private/ca.key")"
check_eq "the root key is 0600" 600 "$(stat -c %a "$T/ca/private/root.key")"
check_eq "private/ is 0700" 700 "$(stat -c %a "$T/ca/private")"
check "the issuing CA chains to the root" openssl verify -CAfile "$T/ca/root.crt" "$T/ca/ca.crt"
check_eq "chain.pem is issuing CA then root" "$(fp "$T/ca/ca.crt") $(fp "$T/ca/root.crt")" \
        "$(openssl crl2pkcs7 -nocrl -certfile "$T/ca/chain.pem" | openssl pkcs7 -print_certs | \
           awk '/BEGIN/{f=1;c++} f{print > "'"$T"'/chain." c ".pem"} /END/{f=0}'; echo "$(fp "$T/chain.1.pem") $(fp "$T/chain.2.pem")")"
check_contains "the issuing CA has pathlen 0" "CA:TRUE, pathlen:0" "$(openssl x509 -in "$T/ca/ca.crt" -noout -ext basicConstraints)"
check_contains "the issuing CA's key signs certificates and CRLs" "Certificate Sign, CRL Sign" "$(openssl x509 -in "$T/ca/ca.crt" -noout -ext keyUsage)"
check "the key files hold the keys of the certificates" bash -c \
        "[ \"\$(openssl pkey -in '$T/ca/private/ca.key' -pubout)\" = \"\$(openssl x509 -in '$T/ca/ca.crt' -noout -pubkey)\" ]"

before=$(fp "$T/ca/ca.crt")
out=$("$CTL" ca init "$T/ca" 2>&1)
check_eq "ca init refuses to overwrite a CA" 1 "$?"
check_contains "the refusal names the file and --force" "exists: a CA is already there" "$out"
check_eq "the refused run changed nothing" "$before" "$(fp "$T/ca/ca.crt")"
"$CTL" ca init "$T/ca" --force >/dev/null 2>&1
check "ca init --force replaces it" test "$before" != "$(fp "$T/ca/ca.crt")"

for kt in ec-p384:"EC P-384" rsa3072:"RSA 3072" rsa4096:"RSA 4096"; do
        "$CTL" ca init "$T/ca-${kt%%:*}" --key-type "${kt%%:*}" >/dev/null 2>&1
        check_contains "ca init --key-type ${kt%%:*}" "key:        ${kt#*:}" "$("$CTL" ca show "$T/ca-${kt%%:*}")"
done
out=$("$CTL" ca init "$T/x" --key-type dsa 2>&1)
check_eq "an unknown key type is a usage error" 2 "$?"
check_contains "it names the choices" "expected ec-p256, ec-p384, rsa3072 or rsa4096" "$out"

"$CTL" ca init "$T/ca-subj" --subject "O=Example Cloud,OU=overcloud" >/dev/null
check_contains "--subject sets the root's DN" "CN=ctrcert Root CA,OU=overcloud,O=Example Cloud" "$("$CTL" ca show "$T/ca-subj")"
out=$("$CTL" ca init "$T/ca-bad" --subject "CN=mine" 2>&1)
check_eq "--subject with a CN is refused" 2 "$?"

# ---- ca show ----
out=$("$CTL" ca show "$T/ca")
check_eq "ca show exits 0 for a sound CA" 0 "$?"
check_contains "ca show prints the issuing CA's fingerprint" "sha256:     $(fp "$T/ca/ca.crt")" "$out"
check_contains "ca show prints the root's fingerprint" "sha256:     $(fp "$T/ca/root.crt")" "$out"
check_contains "ca show prints the subject" "subject:    CN=ctrcert Issuing CA,O=ctrcert" "$out"
check_contains "ca show prints the validity" "not after:  " "$out"
check_contains "ca show prints the key type" "key:        EC P-256" "$out"
# json_of FILE EXPRESSION: a python expression over the JSON document d in FILE.
json_of() { /usr/bin/python3 -c "import json, sys; d = json.load(open('$1')); sys.exit(0 if ($2) else 1)"; }
"$CTL" ca show "$T/ca" --json >"$T/show.json"
check_eq "ca show --json exits 0 for a sound CA" 0 "$?"
check "… one document: dir, root, issuing, key, trust, previous" \
        json_of "$T/show.json" "set(d) == {'dir', 'root', 'issuing', 'key', 'trust', 'previous'} and d['previous'] is None"
check "… the issuing CA's fingerprint and subject" \
        json_of "$T/show.json" "d['issuing']['sha256'] == '$(fp "$T/ca/ca.crt")' and d['issuing']['subject'] == 'CN=ctrcert Issuing CA,O=ctrcert'"
check "… validity in seconds, not expired" json_of "$T/show.json" "d['root']['not_after'] > d['root']['not_before'] > 0 and not d['root']['expired']"
check "… a private key and a safe directory" json_of "$T/show.json" "d['key']['private'] and d['trust']['safe']"
chmod 0644 "$T/ca/private/ca.key"
out=$("$CTL" ca show "$T/ca")
check_eq "ca show fails on an unsafe key" 1 "$?"
check_contains "ca show says why" "UNSAFE: readable by group or others" "$out"
"$CTL" ca show "$T/ca" --json >"$T/show.json"
check "ca show --json says so too (exit 1)" json_of "$T/show.json" \
        "not d['key']['private'] and d['key']['problem'] == 'readable by group or others' and not d['trust']['safe']"
chmod 0600 "$T/ca/private/ca.key"
mkdir -p "$T/etc"
printf 'ca:\n  dir: %s\n' "$T/ca" >"$T/etc/ctrcert.yaml"
check_contains "ca show without DIR uses the config's ca.dir" "$T/ca/ca.crt" "$("$CTL" --config "$T/etc/ctrcert.yaml" ca show)"

# ---- manifest check ----
cat >"$T/good.yaml" <<EOM
version: 1
certificates:
  - id: web
    cert: /etc/pki/tls/certs/web.crt
    key: /etc/pki/tls/private/web.key
    names: {dns: [web.example]}
    containers:
      - {name: web-1}
      - {name: web-2, action: reload}
EOM
out=$("$CTL" manifest check "$T/good.yaml")
check_eq "a valid manifest with a warning exits 0" 0 "$?"
check_contains "the shared certificate is reported with file:line:col" "$T/good.yaml:3:5: warning: web: certificate shared by 2 containers (web-1, web-2)" "$out"
check_contains "a reload that nothing verifies is reported" "$T/good.yaml:9:9: warning: verify: web (container web-2): no verify" "$out"
check_contains "the summary counts" "1 certificate, 0 errors, 2 warnings" "$out"
"$CTL" manifest check "$T/good.yaml" --json >"$T/check.json"
check_eq "manifest check --json exits 0 for a valid manifest" 0 "$?"
check "… valid, one certificate, two warnings with file, line, column, field and message" json_of "$T/check.json" \
        "d['valid'] and d['certificates'] == 1 and d['errors'] == [] and len(d['warnings']) == 2 and d['warnings'][0]['line'] == 3 and d['warnings'][0]['column'] == 5 and d['warnings'][0]['field'] == 'web' and 'shared by 2' in d['warnings'][0]['message']"

cat >"$T/bad.yaml" <<EOM
version: 1
certificates:
  - id: web
    cert: web.crt
    key: /k
    names: {dns: [web.example]}
    containers:
      - {name: web-1, action: bounce}
EOM
out=$("$CTL" manifest check "$T/bad.yaml" "$T/good.yaml")
check_eq "a manifest with errors exits 1" 1 "$?"
check_contains "relative path: file:line:col and field" "$T/bad.yaml:4:11: error: certificates[0].cert: 'web.crt' is not an absolute path" "$out"
check_contains "bad action: file:line:col and field" "$T/bad.yaml:8:31: error: certificates[0].containers[0].action" "$out"
"$CTL" manifest check "$T/bad.yaml" "$T/good.yaml" --json >"$T/check.json"
check_eq "manifest check --json exits 1 on errors too" 1 "$?"
check "… not valid, each error with its position" json_of "$T/check.json" \
        "not d['valid'] and any(e['file'] == '$T/bad.yaml' and e['line'] == 4 and e['column'] == 11 and e['field'] == 'certificates[0].cert' for e in d['errors'])"
check_contains "the summary of a failed check" "invalid: 2 errors, 1 warning" "$out"

# Modes that expose a key or carry special bits, owners this host does not know.
cat >"$T/modes.yaml" <<EOM
version: 1
certificates:
  - id: web
    cert: /etc/pki/tls/certs/web.crt
    key: /etc/pki/tls/private/web.key
    names: {dns: [web.example]}
    bundle: {path: /etc/pki/tls/private/web.pem, parts: [cert, key], mode: "0644"}
    containers:
      - name: web-1
        copy: [{from: cert, to: /c.crt, mode: "4755"}]
  - id: api
    cert: /etc/pki/tls/certs/api.crt
    key: /etc/pki/tls/private/api.key
    names: {dns: [api.example]}
    bundle: {path: /etc/pki/tls/private/api.pem, parts: [cert], mode: "2644"}
EOM
out=$("$CTL" manifest check "$T/modes.yaml")
check_eq "a bundle mode beyond 0640 with the key, a setuid copy: exit 1" 1 "$?"
check_contains "the bundle that exposes its key" \
        "$T/modes.yaml:7:13: error: certificates[0].bundle: mode 0644: the bundle holds the key, so at most 0640" "$out"
check_contains "the setuid copy" \
        "error: certificates[0].containers[0].copy[0]: mode 4755: no setuid, setgid or sticky bit on a copied file" "$out"
check_contains "the setgid bundle" "error: certificates[1].bundle: mode 2644: no setuid, setgid or sticky bit on a bundle" "$out"
cat >"$T/owners.yaml" <<EOM
version: 1
certificates:
  - id: web
    cert: /etc/pki/tls/certs/web.crt
    key: /etc/pki/tls/private/web.key
    names: {dns: [web.example]}
    bundle: {path: /etc/pki/tls/private/web.pem, parts: [cert, key], owner: "root:nosuchgroup-ctrcert", mode: "0640"}
    containers:
      - name: web-1
        copy: [{from: cert, to: /c.crt, owner: nosuchuser-ctrcert}, {from: cert, to: /d.crt, owner: "4242:4343"}]
EOM
out=$("$CTL" manifest check "$T/owners.yaml")
check_eq "a bundle owner this host does not know: exit 1 at manifest check" 1 "$?"
check_contains "… naming it" \
        "$T/owners.yaml:3:5: error: web: bundle owner 'root:nosuchgroup-ctrcert': no user or group 'nosuchgroup-ctrcert' on this host" "$out"
check_contains "a copy owner by an unknown name: a warning (the container's tar resolves it)" \
        "$T/owners.yaml:9:9: warning: web: copy owner 'nosuchuser-ctrcert': 'nosuchuser-ctrcert' is not known on this host" "$out"
check_contains "… and numeric owners pass" "1 certificate, 1 error, 1 warning" "$out"

# Without files: the configured manifest and manifest.d/ beside it.
mkdir -p "$T/etc/manifest.d"
cp "$T/good.yaml" "$T/etc/manifest.d/10-web.yaml"
sed 's/id: web/id: web/' "$T/good.yaml" >"$T/etc/manifest.d/20-again.yaml"
printf 'manifest: %s\n' "$T/etc/manifest.yaml" >"$T/etc/ctrcert.yaml"
out=$("$CTL" --config "$T/etc/ctrcert.yaml" manifest check)
check_eq "the configured manifest.d is checked (duplicate id)" 1 "$?"
check_contains "the duplicate names both places" "20-again.yaml:3:5: error: web: duplicate id 'web' (first at $T/etc/manifest.d/10-web.yaml:3:5)" "$out"

# ---- the shipped samples and man pages ----
check "data/manifest.yaml is a valid manifest" "$CTL" manifest check "$SRC/data/manifest.yaml"
# (a copy: the helper trusts only a config root alone controls, and a checkout may be anyone's)
cp "$SRC/data/ctrcert.yaml" "$T/sample.yaml"
check "data/ctrcert.yaml is a valid config" \
        env CERTMONGER_OPERATION=GET-DEFAULT-TEMPLATE "$SUBMIT" --config "$T/sample.yaml"
for page in "$SRC"/man/*.[58]; do
        check_eq "$(basename "$page") renders without warnings" "" "$(LC_ALL=C.UTF-8 groff -man -ww -z "$page" 2>&1)"
done

# ---- help, version, usage ----
check_contains "ctrcertctl --help" "manifest check" "$("$CTL" --help)"
check_contains "ctrcertctl --version" "ctrcertctl " "$("$CTL" --version)"
check_contains "ctrcert-submit --help shows the getcert line" "getcert add-ca -c ctrcert -e" "$("$SUBMIT" --help)"
check_contains "ctrcert-submit --version" "ctrcert-submit " "$("$SUBMIT" --version)"
"$CTL" frobnicate >/dev/null 2>&1
check_eq "an unknown command is a usage error" 2 "$?"

finish
