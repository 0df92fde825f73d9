/* SPDX-License-Identifier: MIT */
/* Private keys: generating, loading (the decoder told what to expect) and matching one to its certificate. */
#include <openssl/decoder.h>

#include "crypto-internal.h"
#include "fileio.h"

const char *const key_type_names[] = { "ec-p256", "ec-p384", "rsa3072", "rsa4096" };

void key_free(struct key *k) {
        if (!k)
                return;
        EVP_PKEY_free(k->pkey);
        free(k);
}

static int key_wrap(EVP_PKEY *pkey, struct key **ret) {
        struct key *k = calloc(1, sizeof(*k));

        if (!k) {
                EVP_PKEY_free(pkey);
                return -ENOMEM;
        }
        k->pkey = pkey;
        *ret = k;
        return 0;
}

int key_generate(int type, struct key **ret) {
        EVP_PKEY *pkey;

        switch (type) {
        case KEYTYPE_EC_P256:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
                break;
        case KEYTYPE_EC_P384:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
                break;
        case KEYTYPE_RSA3072:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 3072);
                break;
        case KEYTYPE_RSA4096:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 4096);
                break;
        default:
                return -EINVAL;
        }
        if (!pkey)
                return openssl_error(-EIO, "key generation");
        return key_wrap(pkey, ret);
}

/*
 * A decoder told what to expect (PEM, PKCS#8 or the key type's own structure)
 * instead of PEM_read_bio_PrivateKey(), which tries every decoder there is.
 */
static EVP_PKEY *decode_private_key(const unsigned char *data, size_t len, const char *key_type) {
        static const char *const structures[] = { "PrivateKeyInfo", "type-specific" };
        EVP_PKEY *pkey = NULL;

        for (size_t i = 0; i < ELEMENTSOF(structures) && !pkey; i++) {
                OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", structures[i], key_type,
                                                                       OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL);
                const unsigned char *p = data;
                size_t left = len;

                if (dctx && OSSL_DECODER_CTX_get_num_decoders(dctx) > 0)
                        OSSL_DECODER_from_data(dctx, &p, &left);
                OSSL_DECODER_CTX_free(dctx);
        }
        return pkey;
}

/* key_type ("EC", "RSA", or NULL for any) narrows the decoders OpenSSL has to set up. */
static int key_parse_pem_typed(const char *data, size_t len, const char *key_type, struct key **ret) {
        EVP_PKEY *pkey = decode_private_key((const unsigned char *) data, len, key_type);

        if (!pkey)
                return openssl_error(-EBADMSG, "private key");
        return key_wrap(pkey, ret);
}

int key_load_file(const char *path, struct key **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = read_file_full(path, FILEIO_MAX_SIZE, &buf, &len);
        if (r < 0)
                return r;
        r = key_parse_pem_typed(buf, len, NULL, ret);
        OPENSSL_cleanse(buf, len);
        return r;
}

int key_parse_pem_for(const struct cert *c, const char *data, size_t len, struct key **ret) {
        _cleanup_(key_freep) struct key *k = NULL;
        int r;

        /* The certificate says what kind of key to expect. */
        r = key_parse_pem_typed(data, len, EVP_PKEY_get0_type_name(X509_get0_pubkey(c->x509)), &k);
        if (r < 0)
                return r;
        if (!cert_matches_key(c, k))
                return -EKEYREJECTED;
        *ret = TAKE_PTR(k);
        return 0;
}

int key_to_pem(const struct key *k, char **ret) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());

        if (!b)
                return -ENOMEM;
        if (PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL) != 1)
                return openssl_error(-EIO, "PEM_write_bio_PrivateKey");
        return bio_to_string(b, ret);
}
