/* SPDX-License-Identifier: MIT */
/* The issuing CA in memory and the leaf certificates it signs (cert_issue). */
#include <arpa/inet.h>

#include "crypto-internal.h"
#include "manifest.h"
#include "strv.h"

void ca_free(struct ca *ca) {
        if (!ca)
                return;
        key_free(ca->key);
        cert_free(ca->cert);
        free(ca->chain_pem);
        free(ca);
}

const char *ca_chain_pem(const struct ca *ca) {
        return ca->chain_pem;
}

const struct cert *ca_cert(const struct ca *ca) {
        return ca->cert;
}

int ca_new(struct cert **cert, struct key **key, char **chain_pem, struct ca **ret) {
        struct ca *ca = calloc(1, sizeof(*ca));

        if (!ca)
                return -ENOMEM;
        ca->cert = TAKE_PTR(*cert);
        ca->key = TAKE_PTR(*key);
        ca->chain_pem = TAKE_PTR(*chain_pem);
        *ret = ca;
        return 0;
}

/*
 * Copies the CSR's SubjectPublicKeyInfo into x as it is. X509_set_pubkey()
 * would re-encode the key through an OSSL_ENCODER context: 4.7 M of a SUBMIT's
 * 27 M instructions (callgrind, bench/RESULTS.md), for the same bytes.
 */
static int copy_public_key(X509 *x, X509_REQ *req) {
        X509_PUBKEY *from = X509_REQ_get_X509_PUBKEY(req), *to = X509_get_X509_PUBKEY(x);
        ASN1_OBJECT *alg = NULL, *key_alg;
        const ASN1_OBJECT *palg;
        const unsigned char *pk;
        const void *pval;
        X509_ALGOR *algor;
        int pklen, ptype;
        void *param = NULL;
        unsigned char *key = NULL;

        if (!from || !to || X509_PUBKEY_get0_param(&key_alg, &pk, &pklen, &algor, from) != 1)
                return -EBADMSG;
        X509_ALGOR_get0(&palg, &ptype, &pval, algor);
        alg = OBJ_dup(palg);
        if (ptype == V_ASN1_OBJECT)
                param = OBJ_dup(pval);
        else if (ptype == V_ASN1_SEQUENCE || ptype == V_ASN1_OCTET_STRING)
                param = ASN1_STRING_dup(pval);
        key = OPENSSL_memdup(pk, (size_t) pklen);
        if (!alg || (!param && pval && ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) || (!key && pklen > 0) ||
            X509_PUBKEY_set0_param(to, alg, ptype, param, key, pklen) != 1) {
                ASN1_OBJECT_free(alg);
                OPENSSL_free(key);
                if (ptype == V_ASN1_OBJECT)
                        ASN1_OBJECT_free(param);
                else
                        ASN1_STRING_free(param);
                return -ENOMEM;
        }
        return 0;
}

static int push_general_name(GENERAL_NAMES *gens, int type, const char *value) {
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_STRING *s;
        unsigned char ip[16];
        int len;

        if (!gn)
                return -ENOMEM;
        if (type == GEN_IPADD) {
                len = inet_pton(AF_INET, value, ip) == 1 ? 4 : inet_pton(AF_INET6, value, ip) == 1 ? 16 : 0;
                s = len ? ASN1_OCTET_STRING_new() : NULL;
                if (s && ASN1_OCTET_STRING_set(s, ip, len) != 1) {
                        ASN1_OCTET_STRING_free(s);
                        s = NULL;
                }
        } else {
                s = ASN1_IA5STRING_new();
                if (s && ASN1_STRING_set(s, value, (int) strlen(value)) != 1) {
                        ASN1_IA5STRING_free(s);
                        s = NULL;
                }
        }
        if (!s) {
                GENERAL_NAME_free(gn);
                return -EINVAL;
        }
        GENERAL_NAME_set0_value(gn, type, s);
        if (!sk_GENERAL_NAME_push(gens, gn)) {
                GENERAL_NAME_free(gn);
                return -ENOMEM;
        }
        return 0;
}

static int add_san(X509 *x, const struct issue_params *p) {
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *gens = GENERAL_NAMES_new();
        int r = 0;

        if (!gens)
                return -ENOMEM;
        STRV_FOREACH(s, p->dns)
                if (r >= 0)
                        r = push_general_name(gens, GEN_DNS, *s);
        STRV_FOREACH(s, p->ip)
                if (r >= 0)
                        r = push_general_name(gens, GEN_IPADD, *s);
        STRV_FOREACH(s, p->email)
                if (r >= 0)
                        r = push_general_name(gens, GEN_EMAIL, *s);
        if (r < 0)
                return r;
        if (sk_GENERAL_NAME_num(gens) == 0)
                return 0;
        /* RFC 5280 4.2.1.6: with an empty subject, the names are all in the SAN, which must then be critical. */
        if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, X509_NAME_entry_count(X509_get_subject_name(x)) == 0,
                              X509V3_ADD_DEFAULT) != 1)
                return openssl_error(-EIO, "subjectAltName");
        return 0;
}

static int add_leaf_extensions(X509 *x, const struct ca *ca, EVP_PKEY *pub, const struct issue_params *p) {
        X509V3_CTX ctx;
        char eku[64] = "", cdp[2100];
        int r;

        X509V3_set_ctx(&ctx, ca->cert->x509, x, NULL, NULL, 0);
        snprintf(eku, sizeof(eku), "%s%s%s", p->usage & USAGE_SERVER ? "serverAuth" : "",
                 (p->usage & USAGE_SERVER) && (p->usage & USAGE_CLIENT) ? "," : "",
                 p->usage & USAGE_CLIENT ? "clientAuth" : "");
        r = add_ext_conf(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
        if (r >= 0)
                r = add_ext_conf(x, &ctx, NID_key_usage,
                                 EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA ? "critical,digitalSignature,keyEncipherment"
                                                                           : "critical,digitalSignature");
        if (r >= 0 && eku[0])
                r = add_ext_conf(x, &ctx, NID_ext_key_usage, eku);
        if (r >= 0)
                r = add_ext_conf(x, &ctx, NID_subject_key_identifier, "hash");
        if (r >= 0)
                r = add_ext_conf(x, &ctx, NID_authority_key_identifier, "keyid:always");
        if (r >= 0)
                r = add_san(x, p);
        if (r >= 0 && p->crl_url && p->crl_url[0]) {
                snprintf(cdp, sizeof(cdp), "URI:%s", p->crl_url);
                r = add_ext_conf(x, &ctx, NID_crl_distribution_points, cdp);
        }
        return r;
}

/* notAfter: the configured days, never past the issuing CA's own notAfter. */
static int ca_valid_now(const struct ca *ca, time_t now) {
        time_t ca_nb, ca_na;
        int r = cert_validity(ca->cert, &ca_nb, &ca_na);

        if (r < 0)
                return r;
        return ca_na <= now || ca_nb > now ? -EKEYEXPIRED : 0;
}

/*
 * How much earlier than validity_days this certificate's notAfter falls:
 * up to jitter_percent of the validity, spread by a hash of the id and the
 * (random) serial. Certificates issued in the same hour then renew, and
 * restart their containers, across days instead of in the same hour a year
 * later; the same certificate always gets the same notAfter.
 */
static time_t leaf_jitter(const struct issue_params *p, X509 *x) {
        const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
        uint64_t h = 1469598103934665603ULL; /* FNV-1a over id, NUL, serial bytes */
        time_t span = (time_t) p->validity_days * 86400 * p->jitter_percent / 100;

        if (span <= 0)
                return 0;
        for (const char *c = p->id ? p->id : ""; *c; c++)
                h = (h ^ (unsigned char) *c) * 1099511628211ULL;
        h *= 1099511628211ULL;
        for (int i = 0; i < ASN1_STRING_length(serial); i++)
                h = (h ^ ASN1_STRING_get0_data(serial)[i]) * 1099511628211ULL;
        return (time_t) (h % ((uint64_t) span + 1));
}

/* notBefore backdated for clock skew; notAfter after validity_days less the jitter, never past the CA's. */
static int leaf_validity(const struct ca *ca, const struct issue_params *p, X509 *x, time_t *ret_nb, time_t *ret_na) {
        time_t ca_nb, ca_na, na;
        int r;

        r = cert_validity(ca->cert, &ca_nb, &ca_na);
        if (r < 0)
                return r;
        na = p->now + (time_t) p->validity_days * 86400 - leaf_jitter(p, x);
        *ret_nb = p->now - BACKDATE_SECONDS;
        *ret_na = na < ca_na ? na : ca_na;
        return 0;
}

/* A CA's first permitted directoryName: the subtree every subject it signs must lie in. NULL when none. */
static X509_NAME *ca_permitted_dirname(const struct ca *ca) {
        _cleanup_(NAME_CONSTRAINTS_freep) NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca->cert->x509, NID_name_constraints, NULL, NULL);

        ERR_clear_error();
        for (int i = 0; nc && i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
                const GENERAL_NAME *g = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base;

                if (g->type == GEN_DIRNAME)
                        return X509_NAME_dup(g->d.directoryName);
        }
        return NULL;
}

/*
 * The subject is ours, never the CSR's: the CA's permitted directoryName (a
 * node CA's "O=…,OU=node") or nothing, then the CNs the policy allowed.
 */
static int leaf_subject(const struct ca *ca, char *const *cn, X509_NAME **ret) {
        X509_NAME *name = ca_permitted_dirname(ca);

        if (!name)
                name = X509_NAME_new();
        if (!name)
                return -ENOMEM;
        STRV_FOREACH(c, cn)
                if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) *c, -1, -1, 0) != 1) {
                        X509_NAME_free(name);
                        return openssl_error(-EINVAL, "subject CN");
                }
        *ret = name;
        return 0;
}

int cert_issue(const struct ca *ca, const struct csr *csr, const struct issue_params *p, struct cert **ret) {
        _cleanup_(X509_freep) X509 *x = X509_new();
        _cleanup_(X509_NAME_freep) X509_NAME *subject = NULL;
        EVP_PKEY *pub = X509_REQ_get0_pubkey(csr->req);
        time_t nb, na;
        int r;

        if (!x)
                return -ENOMEM;
        if (!pub)
                return -EBADMSG;
        r = ca_valid_now(ca, p->now);
        if (r < 0)
                return r;
        r = leaf_subject(ca, p->cn, &subject);
        if (r < 0)
                return r;
        if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_subject_name(x, subject) != 1 ||
            X509_set_issuer_name(x, X509_get_subject_name(ca->cert->x509)) != 1)
                return openssl_error(-EIO, "certificate fields");
        r = copy_public_key(x, csr->req);
        if (r >= 0)
                r = set_random_serial(x);
        if (r >= 0)
                r = leaf_validity(ca, p, x, &nb, &na);
        if (r >= 0)
                r = set_validity(x, nb, na);
        if (r >= 0)
                r = add_leaf_extensions(x, ca, pub, p);
        if (r < 0)
                return r;
        if (X509_sign(x, ca->key->pkey, digest_for_key(ca->key->pkey)) <= 0)
                return openssl_error(-EIO, "X509_sign");
        return cert_wrap(TAKE_PTR(x), ret);
}
