/* SPDX-License-Identifier: MIT */
/*
 * The crypto module's core: initialisation, OpenSSL's error queue, memory
 * BIOs, and the steps every certificate we make shares (serial, validity,
 * digest, extensions). The domain API is crypto.h; the parts are
 * crypto-{csr,cert,key,issue,camake,crl,nc}.c, sharing crypto-internal.h.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdio.h>

#include "crypto-internal.h"
#include "fileio.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "strv.h"

/* Drains OpenSSL's error queue into one debug line and returns err. */
int openssl_error(int err, const char *what) {
        unsigned long e;
        char buf[256];

        while ((e = ERR_get_error()) != 0) {
                ERR_error_string_n(e, buf, sizeof(buf));
                log_debug("%s: %s", what, buf);
        }
        return err;
}

int crypto_init(void) {
        /* No openssl.cnf: the helper's behaviour must not depend on the host's OpenSSL config. */
        if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
                return openssl_error(-EIO, "OPENSSL_init_crypto");
        return 0;
}

/* ---- memory BIO helpers ---- */

int bio_to_string(BIO *b, char **ret) {
        char *data, *s;
        long len = BIO_get_mem_data(b, &data);

        if (len < 0)
                return -EIO;
        s = strndup(data, (size_t) len);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* ---- making certificates ---- */

const EVP_MD *digest_for_key(EVP_PKEY *pkey) {
        int bits = EVP_PKEY_get_bits(pkey);

        if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC)
                return bits > 384 ? EVP_sha512() : bits > 256 ? EVP_sha384() : EVP_sha256();
        return EVP_sha256();
}

int set_random_serial(X509 *x) {
        unsigned char b[SERIAL_BYTES];
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        ASN1_INTEGER *serial;

        if (RAND_bytes(b, sizeof(b)) != 1)
                return openssl_error(-EIO, "RAND_bytes");
        /* Positive (top bit clear) and a full 20 bytes long (first byte not zero). */
        b[0] &= 0x7f;
        if (b[0] == 0)
                b[0] = 0x01;
        bn = BN_bin2bn(b, sizeof(b), NULL);
        if (!bn)
                return -ENOMEM;
        serial = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
        return serial ? 0 : openssl_error(-EIO, "BN_to_ASN1_INTEGER");
}

int set_validity(X509 *x, time_t not_before, time_t not_after) {
        if (!ASN1_TIME_set(X509_getm_notBefore(x), not_before) || !ASN1_TIME_set(X509_getm_notAfter(x), not_after))
                return openssl_error(-EIO, "ASN1_TIME_set");
        return 0;
}

int add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

        if (!ext || X509_add_ext(x, ext, -1) != 1)
                return openssl_error(-EIO, OBJ_nid2sn(nid));
        return 0;
}

/* Parses "CN=x,O=y" (or "/O=y/CN=x") into a name; '\' escapes the separator. */
static int dn_parse(const char *s, X509_NAME **ret) {
        _cleanup_(X509_NAME_freep) X509_NAME *name = X509_NAME_new();
        _cleanup_free_ char *buf = malloc(strlen(s) + 1);
        char sep = s[0] == '/' ? '/' : ',';
        const char *p = s[0] == '/' ? s + 1 : s;

        if (!name || !buf)
                return -ENOMEM;
        while (*p) {
                size_t n = 0;
                char *eq;

                for (; *p && *p != sep; p++) {
                        if (*p == '\\' && p[1])
                                p++;
                        buf[n++] = *p;
                }
                buf[n] = '\0';
                if (*p)
                        p++;
                while (buf[0] == ' ')
                        memmove(buf, buf + 1, n--);
                eq = strchr(buf, '=');
                if (!eq || eq == buf || !eq[1])
                        return -EINVAL;
                *eq = '\0';
                if (X509_NAME_add_entry_by_txt(name, buf, MBSTRING_UTF8, (unsigned char *) eq + 1, -1, -1, 0) != 1)
                        return openssl_error(-EINVAL, "subject");
        }
        if (X509_NAME_entry_count(name) == 0)
                return -EINVAL;
        *ret = TAKE_PTR(name);
        return 0;
}

static int add_ca_extensions(X509 *x, X509 *issuer, int pathlen) {
        X509V3_CTX ctx;
        char bc[64];
        int r;

        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        if (pathlen >= 0)
                snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", pathlen);
        else
                snprintf(bc, sizeof(bc), "critical,CA:TRUE");
        r = add_ext_conf(x, &ctx, NID_basic_constraints, bc);
        if (r >= 0)
                r = add_ext_conf(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        if (r >= 0)
                r = add_ext_conf(x, &ctx, NID_subject_key_identifier, "hash");
        if (r >= 0 && issuer != x)
                r = add_ext_conf(x, &ctx, NID_authority_key_identifier, "keyid:always");
        return r;
}

void name_constraints_done(struct name_constraints *nc) {
        strv_free(nc->dns);
        strv_free(nc->ip);
        strv_free(nc->email);
        strv_free(nc->excluded_dns);
        strv_free(nc->excluded_ip);
        strv_free(nc->excluded_email);
        free(nc->dirname);
        *nc = (struct name_constraints) {};
}

/* A DNS, email or URI name: an IA5String, "" allowed (in a subtree it means every name of the kind). */
static GENERAL_NAME *general_name_ia5(int type, const char *value) {
        _cleanup_(GENERAL_NAME_freep) GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();

        if (!gn || !s || ASN1_STRING_set(s, value, (int) strlen(value)) != 1) {
                ASN1_IA5STRING_free(s);
                return NULL;
        }
        GENERAL_NAME_set0_value(gn, type, s);
        return TAKE_PTR(gn);
}

/* "192.0.2.0/24" → iPAddress subtree: the address, then the mask (RFC 5280 4.2.1.10). */
static GENERAL_NAME *general_name_cidr(const char *cidr) {
        _cleanup_(GENERAL_NAME_freep) GENERAL_NAME *gn = GENERAL_NAME_new();
        unsigned char buf[32] = {};
        struct ip_cidr c;
        ASN1_OCTET_STRING *s;
        size_t len;

        if (!gn || ip_cidr_parse(cidr, &c) < 0)
                return NULL;
        len = c.addr.family == AF_INET ? 4 : 16;
        for (size_t i = 0; i < len; i++)
                buf[i] = c.addr.bytes[i];
        for (unsigned i = 0; i < c.prefix; i++)
                buf[len + i / 8] |= (uint8_t) (0x80 >> (i % 8));
        for (size_t i = 0; i < len; i++)
                buf[i] &= buf[len + i]; /* 192.0.2.1/24 is the subtree 192.0.2.0/24 */
        s = ASN1_OCTET_STRING_new();
        if (!s || ASN1_OCTET_STRING_set(s, buf, (int) (2 * len)) != 1) {
                ASN1_OCTET_STRING_free(s);
                return NULL;
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
        return TAKE_PTR(gn);
}

static GENERAL_NAME *general_name_dir(const char *dn) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        X509_NAME *name = NULL;

        if (!gn || dn_parse(dn, &name) < 0) {
                GENERAL_NAME_free(gn);
                return NULL;
        }
        GENERAL_NAME_set0_value(gn, GEN_DIRNAME, name);
        return gn;
}

/* Adds gn (taken, even on failure) as a subtree to *sk, made on first use. */
static int subtree_add(STACK_OF(GENERAL_SUBTREE) **sk, GENERAL_NAME *gn) {
        GENERAL_SUBTREE *sub;

        if (!gn)
                return -EINVAL;
        if (!*sk)
                *sk = sk_GENERAL_SUBTREE_new_null();
        sub = GENERAL_SUBTREE_new();
        if (!*sk || !sub) {
                GENERAL_NAME_free(gn);
                GENERAL_SUBTREE_free(sub);
                return -ENOMEM;
        }
        GENERAL_NAME_free(sub->base);
        sub->base = gn;
        if (!sk_GENERAL_SUBTREE_push(*sk, sub)) {
                GENERAL_SUBTREE_free(sub);
                return -ENOMEM;
        }
        return 0;
}

static bool has_family(char *const *cidrs, int family) {
        struct ip_cidr c;

        STRV_FOREACH(i, cidrs)
                if (ip_cidr_parse(*i, &c) >= 0 && c.addr.family == family)
                        return true;
        return false;
}

/*
 * What nc permits, and every kind it does not as an excluded subtree that
 * covers it all. An empty email or URI base excludes everything in Go's
 * verifier but matches nothing in OpenSSL's, so those kinds are also given an
 * empty permitted subtree: OpenSSL then finds no permitted match. Both refuse.
 */
static int name_constraints_build(const struct name_constraints *nc, NAME_CONSTRAINTS **ret) {
        _cleanup_(NAME_CONSTRAINTS_freep) NAME_CONSTRAINTS *v = NAME_CONSTRAINTS_new();
        int r = v ? 0 : -ENOMEM;

        STRV_FOREACH(d, nc->dns)
                if (r >= 0)
                        r = subtree_add(&v->permittedSubtrees, general_name_ia5(GEN_DNS, (*d)[0] == '.' ? *d + 1 : *d));
        STRV_FOREACH(ip, nc->ip)
                if (r >= 0)
                        r = subtree_add(&v->permittedSubtrees, general_name_cidr(*ip));
        if (r >= 0 && nc->dirname)
                r = subtree_add(&v->permittedSubtrees, general_name_dir(nc->dirname));
        if (r >= 0 && !nc->dns)
                r = subtree_add(&v->excludedSubtrees, general_name_ia5(GEN_DNS, ""));
        if (r >= 0 && !has_family(nc->ip, AF_INET))
                r = subtree_add(&v->excludedSubtrees, general_name_cidr("0.0.0.0/0"));
        if (r >= 0 && !has_family(nc->ip, AF_INET6))
                r = subtree_add(&v->excludedSubtrees, general_name_cidr("::/0"));
        for (int i = 0, kinds[] = { GEN_EMAIL, GEN_URI }; i < 2 && r >= 0; i++) {
                r = subtree_add(&v->permittedSubtrees, general_name_ia5(kinds[i], ""));
                if (r >= 0)
                        r = subtree_add(&v->excludedSubtrees, general_name_ia5(kinds[i], ""));
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int ca_cert_make(const struct key *key, const char *subject, const struct cert *issuer, const struct key *issuer_key,
                 unsigned days, int pathlen, struct cert **ret) {
        return ca_cert_make_constrained(key, subject, issuer, issuer_key, days, pathlen, NULL, ret);
}

int ca_cert_make_constrained(const struct key *key, const char *subject, const struct cert *issuer,
                             const struct key *issuer_key, unsigned days, int pathlen, const struct name_constraints *nc,
                             struct cert **ret) {
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(X509_NAME_freep) X509_NAME *name = NULL;
        const struct key *signer = issuer_key ? issuer_key : key;
        time_t now = time(NULL);
        int r;

        if (!x)
                return -ENOMEM;
        r = dn_parse(subject, &name);
        if (r < 0)
                return r;
        if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_subject_name(x, name) != 1 ||
            X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->x509) : name) != 1 ||
            X509_set_pubkey(x, key->pkey) != 1)
                return openssl_error(-EIO, "CA certificate fields");
        r = set_random_serial(x);
        if (r >= 0)
                r = set_validity(x, now - BACKDATE_SECONDS, now + (time_t) days * 86400);
        if (r >= 0)
                r = add_ca_extensions(x, issuer ? issuer->x509 : x, pathlen);
        if (r >= 0 && nc) {
                _cleanup_(NAME_CONSTRAINTS_freep) NAME_CONSTRAINTS *v = NULL;

                r = name_constraints_build(nc, &v);
                if (r >= 0 && X509_add1_ext_i2d(x, NID_name_constraints, v, 1, X509V3_ADD_DEFAULT) != 1)
                        r = openssl_error(-EIO, "nameConstraints");
        }
        if (r < 0)
                return r;
        if (X509_sign(x, signer->pkey, digest_for_key(signer->pkey)) <= 0)
                return openssl_error(-EIO, "X509_sign");
        return cert_wrap(TAKE_PTR(x), ret);
}

/* ---- revocation ---- */

DEFINE_TRIVIAL_CLEANUP_FUNC(X509_CRL *, X509_CRL_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_TIME *, ASN1_TIME_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_INTEGER *, ASN1_INTEGER_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_ENUMERATED *, ASN1_ENUMERATED_free);

static int crl_add_entry(X509_CRL *crl, const struct crl_entry *e) {
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *sn = NULL;
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *when = ASN1_TIME_set(NULL, e->when);
        _cleanup_(ASN1_ENUMERATED_freep) ASN1_ENUMERATED *reason = NULL;
        X509_REVOKED *r;

        if (BN_hex2bn(&bn, e->serial) <= 0 || (size_t) BN_num_bytes(bn) > 20 || !(sn = BN_to_ASN1_INTEGER(bn, NULL)))
                return -EBADMSG;
        r = X509_REVOKED_new();
        if (!r || !when || X509_REVOKED_set_serialNumber(r, sn) != 1 || X509_REVOKED_set_revocationDate(r, when) != 1)
                goto fail;
        /* RFC 5280 5.3.1: unspecified (0) is left out rather than written. */
        if (e->reason > 0 && (!(reason = ASN1_ENUMERATED_new()) || ASN1_ENUMERATED_set(reason, e->reason) != 1 ||
                              X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0) != 1))
                goto fail;
        if (X509_CRL_add0_revoked(crl, r) != 1)
                goto fail;
        return 0;
fail:
        X509_REVOKED_free(r);
        return openssl_error(-ENOMEM, "X509_REVOKED");
}

/* authorityKeyIdentifier and cRLNumber, which RFC 5280 requires of a CA's CRL. */
static int crl_add_extensions(X509_CRL *crl, const struct ca *ca, uint64_t number) {
        _cleanup_(ASN1_INTEGER_freep) ASN1_INTEGER *num = ASN1_INTEGER_new();
        X509_EXTENSION *akid;
        X509V3_CTX v3;
        int ok;

        X509V3_set_ctx(&v3, ca->cert->x509, NULL, NULL, crl, 0);
        akid = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always");
        ok = akid && X509_CRL_add_ext(crl, akid, -1) == 1 && num && ASN1_INTEGER_set_uint64(num, number) == 1 &&
             X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
        X509_EXTENSION_free(akid);
        return ok ? 0 : openssl_error(-EIO, "CRL extensions");
}

int crl_make(const struct ca *ca, const struct crl_entry *v, size_t n, time_t now, unsigned days, uint64_t number,
             char **ret_pem) {
        _cleanup_(X509_CRL_freep) X509_CRL *crl = X509_CRL_new();
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *last = ASN1_TIME_set(NULL, now);
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *next = ASN1_TIME_adj(NULL, now, (int) days, 0);
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        int r = 0;

        if (!crl || !last || !next || !b)
                return -ENOMEM;
        if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
            X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert->x509)) != 1 ||
            X509_CRL_set1_lastUpdate(crl, last) != 1 || X509_CRL_set1_nextUpdate(crl, next) != 1)
                return openssl_error(-EIO, "X509_CRL fields");
        for (size_t i = 0; i < n && r >= 0; i++)
                r = crl_add_entry(crl, &v[i]);
        if (r < 0)
                return r;
        X509_CRL_sort(crl);
        r = crl_add_extensions(crl, ca, number);
        if (r < 0)
                return r;
        if (X509_CRL_sign(crl, ca->key->pkey, digest_for_key(ca->key->pkey)) <= 0)
                return openssl_error(-EIO, "X509_CRL_sign");
        if (PEM_write_bio_X509_CRL(b, crl) != 1)
                return openssl_error(-EIO, "PEM_write_bio_X509_CRL");
        return bio_to_string(b, ret_pem);
}

/* ---- name constraints of the issuing CA ---- */

static int subtree_ip(const ASN1_OCTET_STRING *o, char **ret) {
        const unsigned char *b = ASN1_STRING_get0_data(o);
        int len = ASN1_STRING_length(o), half = len / 2, family = half == 4 ? AF_INET : AF_INET6;
        char a[INET6_ADDRSTRLEN];
        unsigned prefix = 0;

        if ((half != 4 && half != 16) || !inet_ntop(family, b, a, sizeof(a)))
                return -EBADMSG;
        for (int i = 0; i < half; i++)
                prefix += (unsigned) __builtin_popcount(b[half + i]);
        return asprintf(ret, "%s/%u", a, prefix) < 0 ? -ENOMEM : 0;
}

/* name in the syntax dn_parse() reads: entries in order, ',' and '\' escaped; CNs left out when skip_cn. */
static int name_to_dn_string(const X509_NAME *name, bool skip_cn, char **ret) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        bool first = true;

        if (!b)
                return -ENOMEM;
        for (int i = 0; i < X509_NAME_entry_count(name); i++) {
                const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
                int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
                _cleanup_(strv_freep) char **value = NULL;

                if (skip_cn && nid == NID_commonName)
                        continue;
                if (nid == NID_undef || push_asn1_string(&value, X509_NAME_ENTRY_get_data(e)) < 0)
                        return -EBADMSG;
                BIO_printf(b, "%s%s=", first ? "" : ",", OBJ_nid2sn(nid));
                for (const char *p = value[0]; *p; p++)
                        BIO_printf(b, "%s%c", *p == ',' || *p == '\\' ? "\\" : "", *p);
                first = false;
        }
        return bio_to_string(b, ret);
}

int cert_subject_base(const struct cert *c, char **ret) {
        return name_to_dn_string(X509_get_subject_name(c->x509), true, ret);
}

static int subtree_string(const GENERAL_NAME *g, char **ret) {
        switch (g->type) {
        case GEN_DNS:
        case GEN_EMAIL:
                *ret = strndup((const char *) ASN1_STRING_get0_data(g->d.ia5), (size_t) ASN1_STRING_length(g->d.ia5));
                return *ret ? 0 : -ENOMEM;
        case GEN_IPADD:
                return subtree_ip(g->d.iPAddress, ret);
        case GEN_DIRNAME:
                return name_to_dn_string(g->d.directoryName, false, ret);
        default:
                *ret = NULL;
                return 0;
        }
}

/* Sorts one subtree into nc: permitted or excluded, by kind; kinds ctrcert never issues are skipped. */
static int subtree_read(const GENERAL_NAME *g, bool excluded, struct name_constraints *nc) {
        _cleanup_free_ char *s = NULL;
        char ***v = NULL;
        int r;

        r = subtree_string(g, &s);
        if (r < 0 || !s)
                return r;
        if (g->type == GEN_DIRNAME) {
                if (!excluded && !nc->dirname)
                        nc->dirname = TAKE_PTR(s);
                return 0;
        }
        v = g->type == GEN_DNS     ? (excluded ? &nc->excluded_dns : &nc->dns)
            : g->type == GEN_IPADD ? (excluded ? &nc->excluded_ip : &nc->ip)
                                   : (excluded ? &nc->excluded_email : &nc->email);
        return strv_push(v, s);
}

int ca_get_name_constraints(const struct ca *ca, struct name_constraints *ret) {
        _cleanup_(NAME_CONSTRAINTS_freep) NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca->cert->x509, NID_name_constraints, NULL, NULL);
        struct name_constraints out = {};
        int r = 0;

        for (int i = 0; nc && i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) && r >= 0; i++)
                r = subtree_read(sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base, false, &out);
        for (int i = 0; nc && i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) && r >= 0; i++)
                r = subtree_read(sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, i)->base, true, &out);
        ERR_clear_error();
        if (r < 0) {
                name_constraints_done(&out);
                return r;
        }
        *ret = out;
        return 0;
}

int crl_count_pem(const char *data, size_t len) {
        _cleanup_(BIO_freep) BIO *b = BIO_new_mem_buf(data, (int) len);
        int n = 0;

        if (!b || len > INT_MAX)
                return -ENOMEM;
        for (;;) {
                X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);

                if (!crl)
                        break;
                X509_CRL_free(crl);
                n++;
        }
        /* The loop ends at the end of the data, or at a block that is not a CRL: only the first is fine. */
        if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
                n = 0;
        ERR_clear_error();
        return n > 0 ? n : -EBADMSG;
}
