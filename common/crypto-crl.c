/* SPDX-License-Identifier: MIT */
/* Revocation lists: making the CA's CRL, counting the CRLs of a PEM file. */
#include <limits.h>
#include <openssl/bn.h>

#include "crypto-internal.h"

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

/* Calls each for every PEM CRL of data; how many, or -EBADMSG when none, or one does not parse. */
static int crl_each(const char *data, size_t len, void (*each)(const X509_CRL *crl, void *userdata), void *userdata) {
        _cleanup_(BIO_freep) BIO *b = NULL;
        int n = 0;

        if (len > INT_MAX || !(b = BIO_new_mem_buf(data, (int) len)))
                return -ENOMEM;
        for (;;) {
                X509_CRL *crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);

                if (!crl)
                        break;
                if (each)
                        each(crl, userdata);
                X509_CRL_free(crl);
                n++;
        }
        /* The loop ends at the end of the data, or at a block that is not a CRL: only the first is fine. */
        if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
                n = 0;
        ERR_clear_error();
        return n > 0 ? n : -EBADMSG;
}

int crl_count_pem(const char *data, size_t len) {
        return crl_each(data, len, NULL, NULL);
}

static void earliest_next_update(const X509_CRL *crl, void *userdata) {
        time_t *t = userdata, next;
        const ASN1_TIME *at = X509_CRL_get0_nextUpdate(crl);

        if (at && asn1_time_to_time_t(at, &next) >= 0 && (*t == 0 || next < *t))
                *t = next;
}

int crl_next_update_pem(const char *data, size_t len, time_t *ret) {
        time_t t = 0;
        int r = crl_each(data, len, earliest_next_update, &t);

        if (r < 0)
                return r;
        if (t == 0)
                return -ENOENT;
        *ret = t;
        return 0;
}
