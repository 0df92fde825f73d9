#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: MIT
"""One certmonger request, managed idempotently."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: certificate
short_description: Manage one certmonger certificate request
description:
  - Creates, updates or removes the certmonger request named I(id), idempotently.
  - Reads certmonger's requests over D-Bus (python3-dbus), or with C(getcert list) when the
    D-Bus bindings are absent; changes go through C(getcert).
  - A change of names, CA, template or subject re-issues the certificate (C(getcert resubmit));
    a change of key type, key size or file locations makes a new request; a change of owners or
    modes only updates the request.
  - Never sets pre- or post-save commands; ctrcert-agent acts on the containers.
  - The options follow linux-system-roles/certificate's C(certificate_requests) where they mean the
    same (see the collection's C(docs/certificate-requests.md)).
version_added: "0.1.0"
author: ctrcert developers (@ctrcert)
options:
  id:
    description: The request's nickname (C(getcert -I)); for ctrcert, the manifest id as well.
    type: str
    required: true
  ca:
    description: certmonger's nickname of the CA (C(getcert add-ca -c)).
    type: str
    default: ctrcert
  template:
    description: The profile passed to the CA (C(getcert -T)); ctrcert reads it as the manifest id. Defaults to I(id).
    type: str
  cert_file:
    description: Where certmonger saves the certificate. Required with I(state=present).
    type: path
  key_file:
    description: Where certmonger keeps the key. Required with I(state=present).
    type: path
  subject:
    description:
      - The whole subject (C(getcert -N)), such as C(CN=api.example,O=Example).
      - Defaults to one made of I(common_name), I(organizational_unit), I(organization), I(locality),
        I(state) and I(country); its CN defaults to the first DNS name, address or email.
      - ctrcert issues the subject's CN alone, and it must be one of the declared names; the other
        attributes reach only a CA that copies them (with ctrcert's upstream mode a CSR carrying them is
        refused). Without python3-dbus a change of subject alone is not detected (getcert list shows
        the issued subject, not the requested one).
    type: str
  common_name:
    description: The subject's CN (default the first DNS name, address or email). Not with I(subject).
    type: str
  country:
    description: The subject's C (two letters). Not with I(subject).
    type: str
  state:
    description:
      - Whether the request exists (C(present) or C(absent)); for the subject's ST see I(province).
    type: str
    choices: [present, absent]
    default: present
  province:
    description: The subject's ST (state or province). Not with I(subject).
    type: str
  locality:
    description: The subject's L. Not with I(subject).
    type: str
  organization:
    description: The subject's O. Not with I(subject).
    type: str
  organizational_unit:
    description: The subject's OU. Not with I(subject).
    type: str
  principal:
    description:
      - Kerberos principal names (C(getcert -K)), for a CA that issues them, such as FreeIPA's
        C(IPA). ctrcert's helper refuses them (a principal is an otherName subjectAltName, which
        ctrcert never issues), in upstream mode too.
    type: list
    elements: str
    default: []
  auto_renew:
    description: Whether certmonger renews the certificate before it expires (C(getcert -r)/C(-R)).
    type: bool
    default: true
  dns:
    description: DNS names (C(getcert -D)).
    type: list
    elements: str
    default: []
  ip:
    description: IP addresses (C(getcert -A)).
    type: list
    elements: str
    default: []
  email:
    description: Email addresses (C(getcert -E)).
    type: list
    elements: str
    default: []
  key_type:
    description: The key's type.
    type: str
    choices: [EC, RSA]
    default: EC
  key_size:
    description: Bits (RSA) or curve size (EC 256, 384, 521). Defaults to 256 for EC, 3072 for RSA.
    type: int
  key_owner:
    description: Owner of the key file (C(user) or C(user:group)).
    type: str
  key_mode:
    description: Mode of the key file (octal string).
    type: str
  cert_owner:
    description: Owner of the certificate file.
    type: str
  cert_mode:
    description: Mode of the certificate file (octal string).
    type: str
  wait:
    description: Wait until the certificate is issued or the CA refuses it.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for issuance.
    type: int
    default: 120
  bus:
    description: Where certmonger is, C(system), C(session) or a D-Bus address (tests).
    type: str
    default: system
"""

EXAMPLES = r"""
- name: The rabbitmq certificate, issued by ctrcert
  ctrcert.certmonger.certificate:
    id: rabbitmq
    cert_file: /etc/pki/tls/certs/rabbitmq.crt
    key_file: /etc/pki/tls/private/rabbitmq.key
    dns: [ctrl-0.internalapi.example]
    ip: [172.17.1.10]
    key_owner: "42439"
    key_mode: "0640"

- name: A TripleO-style request, with the subject's organization and no automatic renewal
  ctrcert.certmonger.certificate:
    id: haproxy-external
    cert_file: /etc/pki/tls/certs/haproxy-external.crt
    key_file: /etc/pki/tls/private/haproxy-external.key
    dns: [overcloud.example.com]
    organization: Example
    key_type: RSA
    key_size: 3072
    auto_renew: false

- name: Gone
  ctrcert.certmonger.certificate:
    id: rabbitmq
    state: absent
"""

RETURN = r"""
request:
  description: certmonger's D-Bus object path of the request ("" when absent or read with getcert).
  type: str
  returned: always
status:
  description: certmonger's status (MONITORING once issued; CA_REJECTED, CA_UNREACHABLE, …).
  type: str
  returned: when present
serial:
  description: The certificate's serial number in hex.
  type: str
  returned: when issued
not_after:
  description: The certificate's notAfter, seconds since the epoch.
  type: int
  returned: when issued
ca_error:
  description: What the CA said when it refused.
  type: str
  returned: when the CA refused
"""

import os
import re
import time

from ansible.module_utils.basic import AnsibleModule

try:
    import dbus

    HAS_DBUS = True
except ImportError:
    HAS_DBUS = False

CM_NAME = "org.fedorahosted.certmonger"
CM_PATH = "/org/fedorahosted/certmonger"
REQ_IFACE = "org.fedorahosted.certmonger.request"
CA_IFACE = "org.fedorahosted.certmonger.ca"
PROPS = "org.freedesktop.DBus.Properties"
DONE = ("MONITORING", "CA_REJECTED", "CA_UNREACHABLE", "CA_UNCONFIGURED", "NEED_GUIDANCE", "NEED_CA")


class Certmonger(object):
    """certmonger's requests as plain dicts: over D-Bus, or parsed from getcert list."""

    def __init__(self, module):
        self.module = module
        self.bus_arg = module.params["bus"]
        self.bus = None
        if HAS_DBUS and os.environ.get("CTRCERT_MODULE_NO_DBUS") != "1":
            self.bus = self._connect()

    def _connect(self):
        if self.bus_arg == "system":
            return dbus.SystemBus()
        if self.bus_arg == "session":
            return dbus.SessionBus()
        return dbus.bus.BusConnection(self.bus_arg)

    def getcert(self, args, check=True):
        cmd = [self.module.get_bin_path("getcert", required=True)] + args
        env = None
        if self.bus_arg == "session":
            cmd.insert(2, "-s")
        elif self.bus_arg != "system":
            env = {"DBUS_SYSTEM_BUS_ADDRESS": self.bus_arg}
        rc, out, err = self.module.run_command(cmd, environ_update=env)
        if check and rc != 0:
            self.module.fail_json(msg="getcert %s failed: %s" % (args[0], (err or out).strip()), rc=rc)
        return rc, out, err

    def find(self, nickname):
        if self.bus is None:
            return self._find_getcert(nickname)
        cm = self.bus.get_object(CM_NAME, CM_PATH)
        for path in cm.get_requests(dbus_interface="org.fedorahosted.certmonger"):
            obj = self.bus.get_object(CM_NAME, path)
            props = obj.GetAll(REQ_IFACE, dbus_interface=PROPS)
            if str(props.get("nickname", "")) == nickname:
                return self._from_dbus(path, props)
        return None

    def _from_dbus(self, path, p):
        ca = ""
        if p.get("ca"):
            ca = self._ca_nickname(str(p["ca"]))
        return {
            "request": str(path),
            "status": str(p.get("status", "")),
            "ca_error": str(p.get("ca-error", "")),
            "serial": str(p.get("serial", "")),
            "not_after": int(p.get("not-valid-after", 0)),
            "ca": ca,
            "template": str(p.get("template-profile", "")),
            "subject": str(p.get("template-subject", "")),
            "cert_file": str(p.get("cert-file", "")),
            "key_file": str(p.get("key-file", "")),
            "dns": sorted(str(x) for x in p.get("template-hostname", [])),
            "ip": sorted(str(x) for x in p.get("template-ip-address", [])),
            "email": sorted(str(x) for x in p.get("template-email", [])),
            "key_type": str(p.get("key-type", "")),
            "key_size": int(p.get("key-size", 0)),
            "key_owner": str(p.get("key-owner", "")),
            "cert_owner": str(p.get("cert-owner", "")),
            "key_mode": "%04o" % int(p["key-perms"]) if "key-perms" in p else "",
            "cert_mode": "%04o" % int(p["cert-perms"]) if "cert-perms" in p else "",
            "principal": sorted(str(x) for x in p.get("principal", p.get("template-principal", []))),
            "auto_renew": bool(p["autorenew"]) if "autorenew" in p else None,
        }

    def _ca_nickname(self, ref):
        # certmonger 0.79 names the CA as .../requests/CAn while the object lives at .../cas/CAn.
        cm = self.bus.get_object(CM_NAME, CM_PATH)
        for path in cm.get_known_cas(dbus_interface="org.fedorahosted.certmonger"):
            if str(path).rsplit("/", 1)[-1] == ref.rsplit("/", 1)[-1]:
                props = self.bus.get_object(CM_NAME, path).GetAll(CA_IFACE, dbus_interface=PROPS)
                return str(props.get("nickname", ""))
        return ""

    def _find_getcert(self, nickname):
        rc, out, dummy = self.getcert(["list", "-i", nickname], check=False)
        if rc != 0 or "Request ID '%s'" % nickname not in out:
            return None
        return parse_getcert_list(out)


def parse_getcert_list(text):
    """The fields of one `getcert list -i ID` entry that the module compares."""
    def field(name):
        m = re.search(r"^\s+%s: ?(.*)$" % re.escape(name), text, re.M)
        return m.group(1).strip() if m else ""

    def location(name):
        m = re.search(r"location='([^']*)'", field(name))
        return m.group(1) if m else ""

    def names(name):
        value = field(name)
        return sorted(x.strip() for x in value.split(",") if x.strip())

    expires = field("expires")
    not_after = 0
    if expires and expires != "unknown":
        not_after = int(time.mktime(time.strptime(expires, "%Y-%m-%d %H:%M:%S UTC")) - time.timezone)
    err = re.search(r"^\s+ca-error: (.*)$", text, re.M)
    return {
        "request": "",
        "status": field("status"),
        "ca_error": err.group(1).strip() if err else "",
        "serial": "",
        "not_after": not_after,
        "ca": field("CA"),
        "template": field("profile"),
        # getcert list shows the issued certificate's subject, which the CA may rewrite (ctrcert keeps the
        # CN alone), not the one requested: unknown here, so a change of subject alone is not seen.
        "subject": None,
        "cert_file": location("certificate"),
        "key_file": location("key pair storage"),
        "dns": names("dns"),
        "ip": names("ip"),
        "email": names("email"),
        "key_type": "",
        "key_size": 0,
        "key_owner": "",
        "cert_owner": "",
        "key_mode": "",
        "cert_mode": "",
        # Not every certmonger lists it: unknown (None) is not compared.
        "principal": names("principal name") if re.search(r"^\s+principal name:", text, re.M) else None,
        "auto_renew": {"yes": True, "no": False}.get(field("auto-renew")),
    }


def dn_value(value):
    """An RDN value as certmonger's -N reads it: DN specials escaped."""
    return re.sub(r'([,+="\\<>;])', r"\\\1", value)


def subject_of(params):
    if params["subject"]:
        return params["subject"]
    cn = params["common_name"] or (params["dns"] or params["ip"] or params["email"] or [params["id"]])[0]
    # certmonger's -N keeps the order given as the certificate's order: the most general first.
    rdns = [("C", params["country"]), ("ST", params["province"]), ("L", params["locality"]),
            ("O", params["organization"]), ("OU", params["organizational_unit"]), ("CN", cn)]
    return ",".join("%s=%s" % (k, dn_value(v)) for k, v in rdns if v)


def subject_rdns(subject):
    """A subject's RDNs, in no order: getcert list prints them the other way round."""
    return sorted(x.strip() for x in re.split(r"(?<!\\),", subject) if x.strip())


def desired_state(params):
    dns, ip, email = sorted(params["dns"]), sorted(params["ip"]), sorted(params["email"])
    subject = subject_of(params)
    key_size = params["key_size"] or (256 if params["key_type"] == "EC" else 3072)
    return {
        "ca": params["ca"],
        "template": params["template"] or params["id"],
        "subject": subject,
        "cert_file": params["cert_file"],
        "key_file": params["key_file"],
        "dns": dns,
        "ip": ip,
        "email": email,
        "key_type": params["key_type"],
        "key_size": key_size,
        "key_owner": params["key_owner"] or "",
        "cert_owner": params["cert_owner"] or "",
        "key_mode": "%04o" % int(params["key_mode"], 8) if params["key_mode"] else "",
        "cert_mode": "%04o" % int(params["cert_mode"], 8) if params["cert_mode"] else "",
        "principal": sorted(params["principal"]),
        "auto_renew": params["auto_renew"],
    }


# What each kind of difference costs: a new request, a re-issue, or an update in place.
RECREATE = ("cert_file", "key_file", "key_type", "key_size")
REISSUE = ("ca", "template", "subject", "dns", "ip", "email", "principal")
UPDATE = ("key_owner", "cert_owner", "key_mode", "cert_mode", "auto_renew")


def differences(current, want):
    """Fields that differ; fields getcert list cannot show (empty in current) are not compared."""
    out = []
    for k in RECREATE + REISSUE + UPDATE:
        # Unknown (None) is never compared; False is a value, not an unknown 0.
        if current[k] is None or want[k] is None:
            continue
        if k in UPDATE + ("key_type", "key_size") and not isinstance(want[k], bool) and (current[k] in ("", 0) or want[k] in ("", 0)):
            continue
        if k == "subject" and subject_rdns(current[k]) == subject_rdns(want[k]):
            continue
        if current[k] != want[k]:
            out.append(k)
    return out


def name_args(want):
    args = ["-c", want["ca"], "-T", want["template"], "-N", want["subject"]]
    for flag, key in (("-D", "dns"), ("-A", "ip"), ("-E", "email"), ("-K", "principal")):
        for value in want[key]:
            args += [flag, value]
    return args


def owner_args(want):
    args = []
    for flag, key in (("-o", "key_owner"), ("-O", "cert_owner"), ("-m", "key_mode"), ("-M", "cert_mode")):
        if want[key]:
            args += [flag, want[key]]
    return args + ["-r" if want["auto_renew"] else "-R"]


def request(cm, params, want):
    args = ["request", "-I", params["id"], "-f", want["cert_file"], "-k", want["key_file"],
            "-G", want["key_type"], "-g", str(want["key_size"])] + name_args(want) + owner_args(want)
    cm.getcert(args)


def wait_issued(cm, module, nickname):
    deadline = time.time() + module.params["wait_timeout"]
    cur = cm.find(nickname)
    while cur and cur["status"] not in DONE and time.time() < deadline:
        time.sleep(0.2)
        cur = cm.find(nickname)
    return cur


def result_of(cur):
    keys = ("request", "status", "serial", "not_after", "ca_error")
    return dict((k, cur[k]) for k in keys) if cur else {"request": ""}


def ensure_present(module, cm, cur, want):
    diffs = differences(cur, want) if cur else ["missing"]
    if not diffs:
        return False, cur
    if module.check_mode:
        return True, cur
    nickname = module.params["id"]
    if cur is None or any(d in RECREATE for d in diffs):
        if cur is not None:
            cm.getcert(["stop-tracking", "-i", nickname])
        request(cm, module.params, want)
    else:
        if any(d in REISSUE for d in diffs):
            cm.getcert(["resubmit", "-i", nickname] + name_args(want))
        if any(d in UPDATE for d in diffs):
            cm.getcert(["start-tracking", "-i", nickname] + owner_args(want))
    return True, cm.find(nickname)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            id=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            ca=dict(type="str", default="ctrcert"),
            template=dict(type="str"),
            cert_file=dict(type="path"),
            key_file=dict(type="path"),
            subject=dict(type="str"),
            common_name=dict(type="str"),
            country=dict(type="str"),
            province=dict(type="str"),
            locality=dict(type="str"),
            organization=dict(type="str"),
            organizational_unit=dict(type="str"),
            principal=dict(type="list", elements="str", default=[]),
            auto_renew=dict(type="bool", default=True),
            dns=dict(type="list", elements="str", default=[]),
            ip=dict(type="list", elements="str", default=[]),
            email=dict(type="list", elements="str", default=[]),
            key_type=dict(type="str", choices=["EC", "RSA"], default="EC"),
            key_size=dict(type="int"),
            key_owner=dict(type="str", no_log=False),
            key_mode=dict(type="str", no_log=False),
            cert_owner=dict(type="str"),
            cert_mode=dict(type="str"),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=120),
            bus=dict(type="str", default="system"),
        ),
        required_if=[("state", "present", ("cert_file", "key_file"))],
        mutually_exclusive=[("subject", "common_name"), ("subject", "country"), ("subject", "province"),
                            ("subject", "locality"), ("subject", "organization"), ("subject", "organizational_unit")],
        supports_check_mode=True,
    )
    params = module.params
    for key in ("key_mode", "cert_mode"):
        if params[key] and not re.match(r"^0?[0-7]{3}$", params[key]):
            module.fail_json(msg="%s: '%s' is not an octal mode such as \"0640\"" % (key, params[key]))
    if params["state"] == "present" and not (params["dns"] or params["ip"] or params["email"]):
        module.fail_json(msg="%s: at least one of dns, ip and email is needed" % params["id"])
    try:
        cm = Certmonger(module)
        cur = cm.find(params["id"])
    except Exception as e:  # dbus raises its own exception types
        module.fail_json(msg="cannot reach certmonger on the %s bus: %s" % (params["bus"], e))

    if params["state"] == "absent":
        if cur and not module.check_mode:
            cm.getcert(["stop-tracking", "-i", params["id"]])
        module.exit_json(changed=cur is not None, request="", diff=dict(before={"state": "present" if cur else "absent"},
                                                                        after={"state": "absent"}))

    want = desired_state(params)
    before = dict((k, cur[k]) for k in want) if cur else {}
    changed, cur = ensure_present(module, cm, cur, want)
    if changed and params["wait"] and not module.check_mode:
        cur = wait_issued(cm, module, params["id"])
    res = result_of(cur)
    res.update(changed=changed, diff=dict(before=before, after=want))
    if cur and cur["status"] == "CA_REJECTED":
        module.fail_json(msg="the CA refused %s: %s" % (params["id"], cur["ca_error"]), **res)
    if changed and params["wait"] and not module.check_mode and (not cur or cur["status"] != "MONITORING"):
        module.fail_json(msg="%s not issued: status %s %s" % (params["id"], cur and cur["status"],
                                                             cur and cur["ca_error"] or ""), **res)
    module.exit_json(**res)


if __name__ == "__main__":
    main()
