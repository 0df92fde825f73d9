#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the RSA CSRs no ordinary tool makes (OpenSSL and pyca refuse such keys):
csr-rsa-e1.pem (public exponent 1: its "signature" is the padded digest itself, so it
verifies), csr-rsa-e4.pem (an even exponent, which can sign nothing) and
csr-rsa-prime.pem (the modulus is a prime, so anyone computes the private exponent);
and CSRs whose extension requests OpenSSL's X509_REQ_get_extensions reads only in part
(another CA may read them all): csr-two-extreq.pem (a second extensionRequest asking for
CA:TRUE), csr-extreq-two-values.pem (a second value in the attribute's SET) and
csr-msextreq.pem (Microsoft's msExtReq beside the standard one); and csr-rsa-9216.pem, a key
larger than the policy's 8192 bits (nine 1024-bit primes: cheap to make, costly to check).
Run in tests/unit/data; needs the openssl command for a prime. Standard library only."""
import hashlib
import subprocess


def der(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + body


def integer(v):
    raw = v.to_bytes(v.bit_length() // 8 + 1, "big")  # a leading 0 keeps it positive
    return der(0x02, raw)


def oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        while p > 0x7F:
            p >>= 7
            chunk.insert(0, 0x80 | (p & 0x7F))
        body += bytes(chunk)
    return der(0x06, body)


def seq(*items):
    return der(0x30, b"".join(items))


NULL = b"\x05\x00"


EXT_REQ, MS_EXT_REQ = "1.2.840.113549.1.9.14", "1.3.6.1.4.1.311.2.1.14"


def san_ext(cn):
    return seq(oid("2.5.29.17"), der(0x04, seq(der(0x82, cn.encode()))))


# basicConstraints critical CA:TRUE: what a laundering CSR asks for
CA_TRUE = seq(oid("2.5.29.19"), der(0x01, b"\xff"), der(0x04, seq(der(0x01, b"\xff"))))


def csr(n, e, sign, cn="web.example", attrs=None):
    name = seq(der(0x31, seq(oid("2.5.4.3"), der(0x0C, cn.encode()))))
    spki = seq(seq(oid("1.2.840.113549.1.1.1"), NULL), der(0x03, b"\x00" + seq(integer(n), integer(e))))
    if attrs is None:
        attrs = seq(oid(EXT_REQ), der(0x31, seq(san_ext(cn))))
    attrs = der(0xA0, attrs)
    info = seq(integer(0), name, spki, attrs)
    k = (n.bit_length() + 7) // 8
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(info).digest()
    em = int.from_bytes(b"\x00\x01" + b"\xff" * (k - len(digest_info) - 3) + b"\x00" + digest_info, "big")
    sig = sign(em).to_bytes(k, "big")
    return seq(info, seq(oid("1.2.840.113549.1.1.11"), NULL), der(0x03, b"\x00" + sig))


def pem(path, data):
    import base64

    b64 = base64.b64encode(data).decode()
    with open(path, "w") as f:
        f.write("-----BEGIN CERTIFICATE REQUEST-----\n")
        for i in range(0, len(b64), 64):
            f.write(b64[i:i + 64] + "\n")
        f.write("-----END CERTIFICATE REQUEST-----\n")


def prime(bits):
    out = subprocess.run(["openssl", "prime", "-generate", "-bits", str(bits), "-hex"], check=True,
                         capture_output=True, text=True).stdout
    return int(out.strip(), 16)


p, q = prime(1024), prime(1024)
pem("csr-rsa-e1.pem", csr(p * q, 1, lambda em: em))
pem("csr-rsa-e4.pem", csr(p * q, 4, lambda em: em))
big = prime(2048)
while (big - 1) % 65537 == 0:
    big = prime(2048)
pem("csr-rsa-prime.pem", csr(big, 65537, lambda em: pow(em, pow(65537, -1, big - 1), big)))
d = pow(65537, -1, (p - 1) * (q - 1))
rsa = lambda em: pow(em, d, p * q)  # noqa: E731
first = seq(oid(EXT_REQ), der(0x31, seq(san_ext("web.example"))))
pem("csr-two-extreq.pem", csr(p * q, 65537, rsa, attrs=first + seq(oid(EXT_REQ), der(0x31, seq(CA_TRUE)))))
pem("csr-extreq-two-values.pem",
    csr(p * q, 65537, rsa, attrs=seq(oid(EXT_REQ), der(0x31, seq(san_ext("web.example")) + seq(CA_TRUE)))))
pem("csr-msextreq.pem", csr(p * q, 65537, rsa, attrs=first + seq(oid(MS_EXT_REQ), der(0x31, seq(CA_TRUE)))))
primes = [prime(1024) for _ in range(9)]
n9, phi9 = 1, 1
for f in primes:
    n9, phi9 = n9 * f, phi9 * (f - 1)
d9 = pow(65537, -1, phi9)
pem("csr-rsa-9216.pem", csr(n9, 65537, lambda em: pow(em, d9, n9)))
