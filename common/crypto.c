/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "crypto.h"
#include "names.h"
#include "fileio.h"
#include "log.h"
#include "manifest.h"
#include "strv.h"

#define SERIAL_BYTES 20
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
        char *chain_pem; /* chain.pem as written by `ca init`: issuing CA, intermediates, root */
};

const char *const key_type_names[] = { "ec-p256", "ec-p384", "rsa3072", "rsa4096" };

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_REQ *, X509_REQ_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_NAME *, X509_NAME_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_EXTENSION *, X509_EXTENSION_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(GENERAL_NAMES *, GENERAL_NAMES_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BASIC_CONSTRAINTS *, BASIC_CONSTRAINTS_free);

static void exts_free(STACK_OF(X509_EXTENSION) *e) {
        sk_X509_EXTENSION_pop_free(e, X509_EXTENSION_free);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(STACK_OF(X509_EXTENSION) *, exts_free);

/* Drains OpenSSL's error queue into one debug line and returns err. */
static int openssl_error(int err, const char *what) {
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

static int bio_to_string(BIO *b, char **ret) {
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

/* ---- CSR ---- */

void csr_free(struct csr *csr) {
        if (!csr)
                return;
        X509_REQ_free(csr->req);
        free(csr);
}

int csr_parse(const char *data, size_t len, struct csr **ret) {
        _cleanup_(BIO_freep) BIO *b = NULL;
        _cleanup_(X509_REQ_freep) X509_REQ *req = NULL;
        struct csr *csr;

        if (len > INT32_MAX)
                return -EFBIG;
        b = BIO_new_mem_buf(data, (int) len);
        if (!b)
                return -ENOMEM;
        req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
        if (!req) {
                const unsigned char *p = (const unsigned char *) data;

                /* Not PEM: perhaps DER, as some tools write it. */
                ERR_clear_error();
                req = d2i_X509_REQ(NULL, &p, (long) len);
        }
        if (!req)
                return openssl_error(-EBADMSG, "CSR");
        csr = calloc(1, sizeof(*csr));
        if (!csr)
                return -ENOMEM;
        csr->req = TAKE_PTR(req);
        *ret = csr;
        return 0;
}

/* Appends an ASN.1 string as UTF-8; strings with an embedded NUL are refused as malformed. */
static int push_asn1_string(char ***v, const ASN1_STRING *s) {
        unsigned char *utf8 = NULL;
        int n, r;

        n = ASN1_STRING_to_UTF8(&utf8, s);
        if (n < 0)
                return -EBADMSG;
        if (memchr(utf8, '\0', (size_t) n)) {
                OPENSSL_free(utf8);
                return -EBADMSG;
        }
        r = strv_push(v, (char *) utf8);
        OPENSSL_free(utf8);
        return r;
}

static int csr_info_cn(X509_REQ *req, struct csr_info *info) {
        const X509_NAME *name = X509_REQ_get_subject_name(req);
        int i = -1, r;

        while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0) {
                r = push_asn1_string(&info->cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int push_ip(char ***v, const ASN1_OCTET_STRING *s) {
        char buf[INET6_ADDRSTRLEN];
        int len = ASN1_STRING_length(s);
        int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;

        if (family < 0 || !inet_ntop(family, ASN1_STRING_get0_data(s), buf, sizeof(buf)))
                return -EBADMSG;
        return strv_push(v, buf);
}

static int csr_info_san(const GENERAL_NAME *gn, struct csr_info *info) {
        switch (gn->type) {
        case GEN_DNS:
                return push_asn1_string(&info->dns, gn->d.dNSName);
        case GEN_EMAIL:
                return push_asn1_string(&info->email, gn->d.rfc822Name);
        case GEN_IPADD:
                return push_ip(&info->ip, gn->d.iPAddress);
        case GEN_URI:
                return strv_push(&info->unsupported_sans, "URI");
        case GEN_OTHERNAME:
                return strv_push(&info->unsupported_sans, "otherName");
        case GEN_DIRNAME:
                return strv_push(&info->unsupported_sans, "directoryName");
        default:
                return strv_push(&info->unsupported_sans, "other");
        }
}

static int csr_info_extensions(X509_REQ *req, struct csr_info *info) {
        _cleanup_(exts_freep) STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *sans = NULL;
        _cleanup_(BASIC_CONSTRAINTS_freep) BASIC_CONSTRAINTS *bc = NULL;
        int crit, r;

        if (!exts)
                return 0;
        sans = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
        if (!sans && crit != -1)
                return -EBADMSG; /* present but malformed, or present twice */
        for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
                r = csr_info_san(sk_GENERAL_NAME_value(sans, i), info);
                if (r < 0)
                        return r;
        }
        bc = X509V3_get_d2i(exts, NID_basic_constraints, &crit, NULL);
        if (!bc && crit != -1)
                return -EBADMSG;
        info->requests_ca = bc && bc->ca;
        return 0;
}

static void curve_name_normalize(const char *group, char *buf, size_t size) {
        static const struct { const char *openssl, *nist; } map[] = {
                { "prime256v1", "P-256" }, { "secp384r1", "P-384" }, { "secp521r1", "P-521" },
        };

        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(group, map[i].openssl)) {
                        snprintf(buf, size, "%s", map[i].nist);
                        return;
                }
        snprintf(buf, size, "%s", group);
}

static void csr_info_key(EVP_PKEY *pkey, struct csr_info *info) {
        char group[64] = "";
        size_t len;

        switch (EVP_PKEY_get_base_id(pkey)) {
        case EVP_PKEY_RSA:
                info->key_kind = KEY_RSA;
                break;
        case EVP_PKEY_EC:
                info->key_kind = KEY_EC;
                if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) == 1)
                        curve_name_normalize(group, info->curve, sizeof(info->curve));
                else
                        snprintf(info->curve, sizeof(info->curve), "explicit parameters");
                break;
        default:
                info->key_kind = KEY_OTHER;
        }
        snprintf(info->key_algorithm, sizeof(info->key_algorithm), "%s",
                 EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown");
        info->key_bits = (unsigned) EVP_PKEY_get_bits(pkey);
}

static void csr_info_signature(X509_REQ *req, EVP_PKEY *pkey, struct csr_info *info) {
        int md_nid, pk_nid;

        if (OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &md_nid, &pk_nid) == 1 && md_nid != NID_undef)
                snprintf(info->digest, sizeof(info->digest), "%s", OBJ_nid2sn(md_nid));
        info->signature_ok = X509_REQ_verify(req, pkey) == 1;
        ERR_clear_error();
}

int csr_get_info(const struct csr *csr, struct csr_info *ret) {
        struct csr_info info = {};
        EVP_PKEY *pkey = X509_REQ_get0_pubkey(csr->req);
        int r;

        if (!pkey)
                return openssl_error(-EBADMSG, "CSR public key");
        csr_info_key(pkey, &info);
        csr_info_signature(csr->req, pkey, &info);
        r = csr_info_cn(csr->req, &info);
        if (r >= 0)
                r = csr_info_extensions(csr->req, &info);
        if (r < 0) {
                csr_info_done(&info);
                return openssl_error(r, "CSR contents");
        }
        *ret = info;
        return 0;
}

void csr_info_done(struct csr_info *info) {
        strv_free(info->cn);
        strv_free(info->dns);
        strv_free(info->ip);
        strv_free(info->email);
        strv_free(info->unsupported_sans);
        *info = (struct csr_info) {};
}

/* ---- certificates ---- */

void cert_free(struct cert *c) {
        if (!c)
                return;
        X509_free(c->x509);
        free(c);
}

static int cert_wrap(X509 *x, struct cert **ret) {
        struct cert *c = calloc(1, sizeof(*c));

        if (!c) {
                X509_free(x);
                return -ENOMEM;
        }
        c->x509 = x;
        *ret = c;
        return 0;
}

static void cert_array_free(struct cert **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                cert_free(v[i]);
        free(v);
}

int cert_load_file_all(const char *path, struct cert ***ret, size_t *ret_n) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_(BIO_freep) BIO *b = NULL;
        struct cert **v = NULL;
        size_t n = 0, len;
        X509 *x;
        int r;

        r = read_file_full(path, FILEIO_MAX_SIZE, &buf, &len);
        if (r < 0)
                return r;
        b = BIO_new_mem_buf(buf, (int) len);
        if (!b)
                return -ENOMEM;
        while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
                struct cert **p = realloc(v, (n + 1) * sizeof(*p));

                if (!p || cert_wrap(x, &p[n]) < 0) {
                        if (!p)
                                X509_free(x);
                        cert_array_free(p ? p : v, n);
                        return -ENOMEM;
                }
                v = p;
                n++;
        }
        ERR_clear_error(); /* the end of the PEM stream is reported as an error */
        if (n == 0)
                return -EBADMSG;
        *ret = v;
        *ret_n = n;
        return 0;
}

int cert_load_pem(const char *text, size_t len, struct cert **ret) {
        _cleanup_(BIO_freep) BIO *b = NULL;
        const char *begin = memmem(text, len, "-----BEGIN CERTIFICATE-----", 27);
        X509 *x;

        /* Whatever precedes the first certificate (a key, a tool's warning) is skipped. */
        if (!begin)
                return -EBADMSG;
        b = BIO_new_mem_buf(begin, (int) (len - (size_t) (begin - text)));
        if (!b)
                return -ENOMEM;
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        ERR_clear_error();
        return x ? cert_wrap(x, ret) : -EBADMSG;
}

int cert_load_file(const char *path, struct cert **ret) {
        struct cert **v;
        size_t n;
        int r;

        r = cert_load_file_all(path, &v, &n);
        if (r < 0)
                return r;
        *ret = v[0];
        for (size_t i = 1; i < n; i++)
                cert_free(v[i]);
        free(v);
        return 0;
}

int cert_to_pem(const struct cert *c, char **ret) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());

        if (!b)
                return -ENOMEM;
        if (PEM_write_bio_X509(b, c->x509) != 1)
                return openssl_error(-EIO, "PEM_write_bio_X509");
        return bio_to_string(b, ret);
}

int cert_serial_hex(const struct cert *c, char **ret) {
        _cleanup_(BN_freep) BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c->x509), NULL);
        char *hex, *s;

        if (!bn)
                return -EIO;
        hex = BN_bn2hex(bn);
        if (!hex)
                return -ENOMEM;
        s = strdup(hex);
        OPENSSL_free(hex);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int cert_fingerprint_sha256(const struct cert *c, char **ret) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len;
        char *s;

        if (X509_digest(c->x509, EVP_sha256(), md, &len) != 1)
                return openssl_error(-EIO, "X509_digest");
        s = malloc(len * 2 + 1);
        if (!s)
                return -ENOMEM;
        for (unsigned i = 0; i < len; i++)
                sprintf(s + i * 2, "%02x", md[i]);
        *ret = s;
        return 0;
}

static int name_to_string(const X509_NAME *name, char **ret) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());

        if (!b)
                return -ENOMEM;
        if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0)
                return openssl_error(-EIO, "X509_NAME_print_ex");
        return bio_to_string(b, ret);
}

int cert_subject(const struct cert *c, char **ret) {
        return name_to_string(X509_get_subject_name(c->x509), ret);
}

int cert_issuer(const struct cert *c, char **ret) {
        return name_to_string(X509_get_issuer_name(c->x509), ret);
}

int cert_nickname(const struct cert *c, char **ret) {
        const X509_NAME *name = X509_get_subject_name(c->x509);
        _cleanup_(strv_freep) char **cn = NULL;
        int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
        char *s;

        if (i < 0 || push_asn1_string(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))) < 0)
                return cert_subject(c, ret);
        s = strdup(cn[0]);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *ret) {
        struct tm tm;

        if (ASN1_TIME_to_tm(t, &tm) != 1)
                return -EBADMSG;
        *ret = timegm(&tm);
        return 0;
}

int cert_validity(const struct cert *c, time_t *ret_not_before, time_t *ret_not_after) {
        time_t nb, na;

        if (asn1_time_to_time_t(X509_get0_notBefore(c->x509), &nb) < 0 ||
            asn1_time_to_time_t(X509_get0_notAfter(c->x509), &na) < 0)
                return -EBADMSG;
        if (ret_not_before)
                *ret_not_before = nb;
        if (ret_not_after)
                *ret_not_after = na;
        return 0;
}

int cert_key_description(const struct cert *c, char **ret) {
        EVP_PKEY *pkey = X509_get0_pubkey(c->x509);
        struct csr_info info = {};

        if (!pkey)
                return -EBADMSG;
        csr_info_key(pkey, &info);
        if (info.key_kind == KEY_EC)
                return asprintf(ret, "EC %s", info.curve) < 0 ? -ENOMEM : 0;
        return asprintf(ret, "%s %u", info.key_kind == KEY_RSA ? "RSA" : info.key_algorithm, info.key_bits) < 0
                       ? -ENOMEM
                       : 0;
}

int cert_get_names(const struct cert *c, char ***ret_dns, char ***ret_ip, char ***ret_email) {
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *sans = NULL;
        struct csr_info info = {};
        int crit, r = 0;

        sans = X509_get_ext_d2i(c->x509, NID_subject_alt_name, &crit, NULL);
        if (!sans && crit != -1)
                return -EBADMSG;
        for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && r >= 0; i++)
                r = csr_info_san(sk_GENERAL_NAME_value(sans, i), &info);
        if (r < 0) {
                csr_info_done(&info);
                return r;
        }
        *ret_dns = TAKE_PTR(info.dns);
        *ret_ip = TAKE_PTR(info.ip);
        *ret_email = TAKE_PTR(info.email);
        csr_info_done(&info);
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE *, X509_STORE_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE_CTX *, X509_STORE_CTX_free);

int cert_verify_bundle(const struct cert *c, const char *bundle_path, time_t now, char *errbuf, size_t errlen) {
        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        struct cert **v = NULL;
        size_t n = 0;
        int r;

        if (!store || !ctx)
                return -ENOMEM;
        r = cert_load_file_all(bundle_path, &v, &n);
        if (r < 0) {
                snprintf(errbuf, errlen, "CA bundle %s: %s", bundle_path, r == -EBADMSG ? "no PEM certificate" : strerror(-r));
                return r;
        }
        for (size_t i = 0; i < n; i++)
                if (X509_STORE_add_cert(store, v[i]->x509) != 1)
                        r = -ENOMEM;
        cert_array_free(v, n);
        if (r < 0)
                return r;
        /* The bundle's certificates are all anchors: a deployment may trust only its issuing CA. */
        X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
        if (X509_STORE_CTX_init(ctx, store, c->x509, NULL) != 1)
                return openssl_error(-ENOMEM, "X509_STORE_CTX_init");
        X509_STORE_CTX_set_time(ctx, 0, now);
        if (X509_verify_cert(ctx) == 1)
                return 0;
        snprintf(errbuf, errlen, "does not chain to %s: %s", bundle_path,
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        ERR_clear_error();
        return -EBADMSG;
}

/* Appends c's PEM to *text. */
static int pem_append(char **text, const struct cert *c) {
        _cleanup_free_ char *pem = NULL, *joined = NULL;
        int r = cert_to_pem(c, &pem);

        if (r < 0)
                return r;
        if (asprintf(&joined, "%s%s", *text ? *text : "", pem) < 0)
                return -ENOMEM;
        free(*text);
        *text = TAKE_PTR(joined);
        return 0;
}

/* The certificate of v[] that issued c (not c itself), or NULL. */
static const struct cert *find_issuer(struct cert **v, size_t n, const struct cert *c) {
        for (size_t i = 0; i < n; i++)
                if (X509_cmp(v[i]->x509, c->x509) != 0 && X509_check_issued(v[i]->x509, c->x509) == X509_V_OK)
                        return v[i];
        return NULL;
}

int cert_chain_from_bundle(const struct cert *leaf, const char *bundle_path, char **ret_chain, char **ret_root) {
        _cleanup_free_ char *chain = NULL, *root = NULL;
        const struct cert *at = leaf, *top = NULL;
        struct cert **v = NULL;
        size_t n = 0;
        int r = cert_load_file_all(bundle_path, &v, &n);

        if (r < 0)
                return r;
        /* Bounded by the bundle's size: a loop of cross-signed certificates ends too. */
        for (size_t depth = 0; depth < n && r >= 0; depth++) {
                const struct cert *up = find_issuer(v, n, at);

                if (!up)
                        break;
                if (X509_check_issued(up->x509, up->x509) == X509_V_OK) {
                        r = pem_append(&root, top = up);
                        break;
                }
                r = pem_append(&chain, up);
                at = up;
        }
        /* The bundle's other roots follow: during a CA rollover peers may still chain to the previous one. */
        for (size_t i = 0; i < n && r >= 0 && top; i++)
                if (v[i] != top && X509_check_issued(v[i]->x509, v[i]->x509) == X509_V_OK)
                        r = pem_append(&root, v[i]);
        cert_array_free(v, n);
        ERR_clear_error();
        if (r < 0)
                return r;
        if (at == leaf && !root)
                return -ENOENT;
        *ret_chain = chain ? TAKE_PTR(chain) : strdup("");
        *ret_root = root ? TAKE_PTR(root) : strdup("");
        return *ret_chain && *ret_root ? 0 : -ENOMEM;
}

int cert_matches_key(const struct cert *c, const struct key *k) {
        EVP_PKEY *pub = X509_get0_pubkey(c->x509);

        return pub && EVP_PKEY_eq(pub, k->pkey) == 1;
}

/* ---- keys ---- */

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
static int key_load_file_typed(const char *path, const char *key_type, struct key **ret) {
        _cleanup_free_ char *buf = NULL;
        EVP_PKEY *pkey;
        size_t len;
        int r;

        r = read_file_full(path, FILEIO_MAX_SIZE, &buf, &len);
        if (r < 0)
                return r;
        pkey = decode_private_key((const unsigned char *) buf, len, key_type);
        OPENSSL_cleanse(buf, len);
        if (!pkey)
                return openssl_error(-EBADMSG, path);
        return key_wrap(pkey, ret);
}

int key_load_file(const char *path, struct key **ret) {
        return key_load_file_typed(path, NULL, ret);
}

int key_to_pem(const struct key *k, char **ret) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());

        if (!b)
                return -ENOMEM;
        if (PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL) != 1)
                return openssl_error(-EIO, "PEM_write_bio_PrivateKey");
        return bio_to_string(b, ret);
}

/* ---- the issuing CA ---- */

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

static int ca_load_key(const char *path, const struct cert *cert, struct key **ret) {
        int r;

        /* Refuse before reading: a key others can read is already compromised. */
        r = check_private_file(path);
        if (r < 0)
                return r;
        /* The certificate says what kind of key to expect. */
        r = key_load_file_typed(path, EVP_PKEY_get0_type_name(X509_get0_pubkey(cert->x509)), ret);
        if (r < 0)
                return r;
        if (!cert_matches_key(cert, *ret)) {
                key_free(*ret);
                *ret = NULL;
                return -EKEYREJECTED;
        }
        return 0;
}

/*
 * chain.pem is handed to certmonger as it is, not parsed: every certificate
 * parse costs a pass through OpenSSL 3's decoder framework, the larger part
 * of a SUBMIT (measured with callgrind, see bench/RESULTS.md). It must at
 * least hold PEM certificates and nothing else.
 */
static int chain_load(const char *path, char **ret) {
        static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
        _cleanup_free_ char *buf = NULL;
        const char *p;
        size_t len;
        int r, n = 0;

        r = read_file_full(path, FILEIO_MAX_SIZE, &buf, &len);
        if (r < 0)
                return r;
        if (strlen(buf) != len)
                return -EBADMSG;
        for (p = buf; (p = strstr(p, begin)); n++) {
                p = strstr(p, end);
                if (!p)
                        return -EBADMSG;
        }
        if (n == 0 || strstr(buf, "PRIVATE KEY"))
                return -EBADMSG;
        *ret = TAKE_PTR(buf);
        return 0;
}

int ca_load(const char *dir, struct ca **ret, char **ret_failed_path) {
        _cleanup_(ca_freep) struct ca *ca = calloc(1, sizeof(*ca));
        _cleanup_free_ char *p_cert = path_join(dir, "ca.crt"), *p_chain = path_join(dir, "chain.pem"),
                            *p_key = path_join(dir, "private/ca.key");
        const char *failed;
        _cleanup_close_ int lock = -1;
        int r;

        if (!ca || !p_cert || !p_chain || !p_key)
                return -ENOMEM;
        /* `ca rollover` swaps the files under an exclusive lock: never load half of each generation. */
        failed = p_cert; /* no directory, no ca.crt */
        r = lock = lock_dir(dir, LOCK_SH);
        if (r >= 0)
                r = cert_load_file(p_cert, &ca->cert);
        if (r >= 0) {
                failed = p_chain;
                r = chain_load(p_chain, &ca->chain_pem);
        }
        if (r >= 0) {
                failed = p_key;
                r = ca_load_key(p_key, ca->cert, &ca->key);
        }
        if (r < 0) {
                *ret_failed_path = strdup(failed);
                return r;
        }
        *ret = TAKE_PTR(ca);
        return 0;
}

/* ---- making certificates ---- */

static const EVP_MD *digest_for_key(EVP_PKEY *pkey) {
        int bits = EVP_PKEY_get_bits(pkey);

        if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC)
                return bits > 384 ? EVP_sha512() : bits > 256 ? EVP_sha384() : EVP_sha256();
        return EVP_sha256();
}

static int set_random_serial(X509 *x) {
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

static int set_validity(X509 *x, time_t not_before, time_t not_after) {
        if (!ASN1_TIME_set(X509_getm_notBefore(x), not_before) || !ASN1_TIME_set(X509_getm_notAfter(x), not_after))
                return openssl_error(-EIO, "ASN1_TIME_set");
        return 0;
}

static int add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

        if (!ext || X509_add_ext(x, ext, -1) != 1)
                return openssl_error(-EIO, OBJ_nid2sn(nid));
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
        if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
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
static int leaf_validity(const struct ca *ca, const struct issue_params *p, time_t *ret_nb, time_t *ret_na) {
        time_t ca_nb, ca_na, na;
        int r;

        r = cert_validity(ca->cert, &ca_nb, &ca_na);
        if (r < 0)
                return r;
        if (ca_na <= p->now || ca_nb > p->now)
                return -EKEYEXPIRED;
        na = p->now + (time_t) p->validity_days * 86400;
        *ret_nb = p->now - BACKDATE_SECONDS;
        *ret_na = na < ca_na ? na : ca_na;
        return 0;
}

int cert_issue(const struct ca *ca, const struct csr *csr, const struct issue_params *p, struct cert **ret) {
        _cleanup_(X509_freep) X509 *x = X509_new();
        EVP_PKEY *pub = X509_REQ_get0_pubkey(csr->req);
        time_t nb, na;
        int r;

        if (!x)
                return -ENOMEM;
        if (!pub)
                return -EBADMSG;
        r = leaf_validity(ca, p, &nb, &na);
        if (r < 0)
                return r;
        if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_subject_name(x, X509_REQ_get_subject_name(csr->req)) != 1 ||
            X509_set_issuer_name(x, X509_get_subject_name(ca->cert->x509)) != 1)
                return openssl_error(-EIO, "certificate fields");
        r = copy_public_key(x, csr->req);
        if (r >= 0)
                r = set_random_serial(x);
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
        *nc = (struct name_constraints) {};
}

/* "192.0.2.0/24" → "192.0.2.0/255.255.255.0": OpenSSL's configuration syntax for an IP subtree. */
static int cidr_to_mask(const char *s, char *buf, size_t len) {
        struct ip_cidr c;
        struct ip_addr mask = {};
        char a[INET6_ADDRSTRLEN], m[INET6_ADDRSTRLEN];

        if (ip_cidr_parse(s, &c) < 0)
                return -EINVAL;
        for (unsigned i = 0; i < c.prefix; i++)
                mask.bytes[i / 8] |= (uint8_t) (0x80 >> (i % 8));
        if (!inet_ntop(c.addr.family, c.addr.bytes, a, sizeof(a)) || !inet_ntop(c.addr.family, mask.bytes, m, sizeof(m)))
                return -EINVAL;
        snprintf(buf, len, "%s/%s", a, m);
        return 0;
}

static int name_constraints_conf(const struct name_constraints *nc, char **ret) {
        _cleanup_free_ char *conf = strdup("critical");
        int r = conf ? 0 : -ENOMEM;

        STRV_FOREACH(d, nc->dns) {
                char *next = NULL;

                if (r >= 0 && asprintf(&next, "%s,permitted;DNS:%s", conf, (*d)[0] == '.' ? *d + 1 : *d) < 0)
                        r = -ENOMEM;
                if (next) {
                        free(conf);
                        conf = next;
                }
        }
        STRV_FOREACH(ip, nc->ip) {
                char mask[2 * INET6_ADDRSTRLEN + 2], *next = NULL;

                if (r >= 0)
                        r = cidr_to_mask(*ip, mask, sizeof(mask));
                if (r >= 0 && asprintf(&next, "%s,permitted;IP:%s", conf, mask) < 0)
                        r = -ENOMEM;
                if (next) {
                        free(conf);
                        conf = next;
                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(conf);
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
        if (r >= 0 && nc && (nc->dns || nc->ip)) {
                _cleanup_free_ char *conf = NULL;
                X509V3_CTX ctx;

                X509V3_set_ctx(&ctx, issuer ? issuer->x509 : x, x, NULL, NULL, 0);
                r = name_constraints_conf(nc, &conf);
                if (r >= 0)
                        r = add_ext_conf(x, &ctx, NID_name_constraints, conf);
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

int ca_get_name_constraints(const struct ca *ca, struct name_constraints *ret) {
        NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca->cert->x509, NID_name_constraints, NULL, NULL);
        struct name_constraints out = {};
        int r = 0;

        for (int i = 0; nc && i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) && r >= 0; i++) {
                const GENERAL_NAME *g = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base;
                _cleanup_free_ char *s = NULL;

                if (g->type == GEN_DNS) {
                        s = strndup((const char *) ASN1_STRING_get0_data(g->d.dNSName), (size_t) ASN1_STRING_length(g->d.dNSName));
                        r = s ? strv_push(&out.dns, s) : -ENOMEM;
                } else if (g->type == GEN_IPADD) {
                        r = subtree_ip(g->d.iPAddress, &s);
                        if (r >= 0)
                                r = strv_push(&out.ip, s);
                }
        }
        NAME_CONSTRAINTS_free(nc);
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
