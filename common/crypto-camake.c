/* SPDX-License-Identifier: MIT */
/* Making CA certificates: roots, issuing CAs, and the name constraints a node CA is given. */
#include <arpa/inet.h>

#include "crypto-internal.h"
#include "names.h"
#include "strv.h"

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

/* An otherName of type oid (an empty UTF8String as its value): a subtree no verifier can match. */
static GENERAL_NAME *general_name_other(const char *oid) {
        _cleanup_(GENERAL_NAME_freep) GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_OBJECT *type = OBJ_txt2obj(oid, 1);
        ASN1_TYPE *value = ASN1_TYPE_new();
        ASN1_UTF8STRING *empty = ASN1_UTF8STRING_new();

        if (!gn || !type || !value || !empty) {
                ASN1_OBJECT_free(type);
                ASN1_TYPE_free(value);
                ASN1_UTF8STRING_free(empty);
                return NULL;
        }
        ASN1_TYPE_set(value, V_ASN1_UTF8STRING, empty);
        if (GENERAL_NAME_set0_othername(gn, type, value) != 1) {
                ASN1_OBJECT_free(type);
                ASN1_TYPE_free(value);
                return NULL;
        }
        return TAKE_PTR(gn);
}

/* A registeredID subtree (the OID 0.0, which names nothing). */
static GENERAL_NAME *general_name_rid(void) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_OBJECT *oid = OBJ_txt2obj("0.0", 1);

        if (!gn || !oid) {
                GENERAL_NAME_free(gn);
                ASN1_OBJECT_free(oid);
                return NULL;
        }
        GENERAL_NAME_set0_value(gn, GEN_RID, oid);
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
        /*
         * Names a verifier cannot compare with a subtree (a Microsoft UPN or a
         * Kerberos principal as otherName, a registeredID): a permitted subtree
         * of their kind makes OpenSSL refuse any leaf carrying one
         * ("unsupported name constraint type") rather than let it pass
         * unconstrained, as it does when no subtree of the kind exists.
         */
        if (r >= 0)
                r = subtree_add(&v->permittedSubtrees, general_name_other("1.3.6.1.4.1.311.20.2.3")); /* UPN */
        if (r >= 0)
                r = subtree_add(&v->permittedSubtrees, general_name_other("1.3.6.1.5.2.2")); /* KRB5PrincipalName */
        if (r >= 0)
                r = subtree_add(&v->permittedSubtrees, general_name_rid());
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
