/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared by the crypto-*.c files only: nothing outside common/crypto*.c
 * includes this or OpenSSL. The domain API is crypto.h.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"

#define BACKDATE_SECONDS 300 /* tolerate clock skew between hosts */

struct csr {
        X509_REQ *req;
};

struct cert {
        X509 *x509;
};

struct key {
        EVP_PKEY *pkey;
};

struct ca {
        struct key *key;
        struct cert *cert;
        char *chain_pem; /* as written by `ca init`: issuing CA, intermediates, root */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_REQ *, X509_REQ_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_NAME *, X509_NAME_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_EXTENSION *, X509_EXTENSION_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(GENERAL_NAMES *, GENERAL_NAMES_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BASIC_CONSTRAINTS *, BASIC_CONSTRAINTS_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(NAME_CONSTRAINTS *, NAME_CONSTRAINTS_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(GENERAL_NAME *, GENERAL_NAME_free);

/* crypto.c: drains OpenSSL's error queue into one debug line and returns err. */
int openssl_error(int err, const char *what);
/* A memory BIO's contents as a new string. */
int bio_to_string(BIO *b, char **ret);
/* The issuer's signing digest for a key: SHA-384/512 for the larger curves, else SHA-256. */
const EVP_MD *digest_for_key(EVP_PKEY *pkey);
/* A random positive serial, 20 bytes (RFC 5280's maximum). */
int set_random_serial(X509 *x);
int set_validity(X509 *x, time_t not_before, time_t not_after);
/* An extension from OpenSSL's config syntax ("critical,CA:TRUE"). */
int add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value);

/* crypto-csr.c: a string's UTF-8 text appended to *v; the SAN and key facts, shared with certificates. */
int push_asn1_string(char ***v, const ASN1_STRING *s);
int csr_info_san(const GENERAL_NAME *gn, struct csr_info *info);
void csr_info_key(EVP_PKEY *pkey, struct csr_info *info);

/* crypto-cert.c: wraps x (taken, freed on failure). */
int cert_wrap(X509 *x, struct cert **ret);

/* An ASN.1 time as seconds since the epoch. */
int asn1_time_to_time_t(const ASN1_TIME *t, time_t *ret);
