/* SPDX-License-Identifier: MIT */
/*
 * The crypto module's core: initialisation, OpenSSL's error queue, memory
 * BIOs, and the steps every certificate we make shares (serial, validity,
 * digest, extensions). crypto.h says how the module is cut.
 */
#include <openssl/bn.h>
#include <openssl/rand.h>

#include "crypto-internal.h"

#define SERIAL_BYTES 20

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

int asn1_time_to_time_t(const ASN1_TIME *t, time_t *ret) {
        struct tm tm;

        if (ASN1_TIME_to_tm(t, &tm) != 1)
                return -EBADMSG;
        *ret = timegm(&tm);
        return 0;
}
