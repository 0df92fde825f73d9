/* SPDX-License-Identifier: MIT */
/* Certificates: loading, PEM, serials, fingerprints, names, validity, and checking one against a bundle. */
#include <stdio.h>

#include "crypto-internal.h"
#include "fileio.h"
#include "strv.h"

void cert_free(struct cert *c) {
        if (!c)
                return;
        X509_free(c->x509);
        free(c);
}

int cert_wrap(X509 *x, struct cert **ret) {
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

/* Every PEM certificate of data, in order; -EBADMSG when there is none. */
static int cert_parse_pem_all(const char *data, size_t len, struct cert ***ret, size_t *ret_n) {
        _cleanup_(BIO_freep) BIO *b = NULL;
        struct cert **v = NULL;
        size_t n = 0;
        X509 *x;

        if (len > INT_MAX)
                return -EFBIG;
        b = BIO_new_mem_buf(data, (int) len);
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

int cert_load_file_all(const char *path, struct cert ***ret, size_t *ret_n) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = read_file_full(path, FILEIO_MAX_SIZE, &buf, &len);
        return r < 0 ? r : cert_parse_pem_all(buf, len, ret, ret_n);
}

/* The first of v[n], the others freed. */
static struct cert *cert_array_first(struct cert **v, size_t n) {
        struct cert *c = v[0];

        for (size_t i = 1; i < n; i++)
                cert_free(v[i]);
        free(v);
        return c;
}

int cert_parse_pem(const char *data, size_t len, struct cert **ret) {
        struct cert **v;
        size_t n;
        int r;

        r = cert_parse_pem_all(data, len, &v, &n);
        if (r >= 0)
                *ret = cert_array_first(v, n);
        return r;
}

int cert_load_file(const char *path, struct cert **ret) {
        struct cert **v;
        size_t n;
        int r;

        r = cert_load_file_all(path, &v, &n);
        if (r >= 0)
                *ret = cert_array_first(v, n);
        return r;
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

/*
 * A CA's chain is handed to certmonger as it is, not parsed: every certificate
 * parse costs a pass through OpenSSL 3's decoder framework, the larger part
 * of a SUBMIT (measured with callgrind, see bench/RESULTS.md). It must at
 * least hold PEM certificates and nothing else: no text around or between
 * them, nothing but base64 inside their armor.
 */
static bool only_pem_certificates(const char *p) {
        static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
        int n = 0;

        /* armored blocks and blank space between them, nothing else */
        for (;; n++) {
                const char *e;

                p += strspn(p, " \t\r\n");
                if (!*p)
                        return n > 0;
                if (strncmp(p, begin, sizeof(begin) - 1) != 0)
                        return false;
                p += sizeof(begin) - 1;
                e = strstr(p, end);
                /* inside: base64 of a DER SEQUENCE ("MI…"), in lines */
                if (!e || strncmp(p + strspn(p, "\r\n"), "MI", 2) != 0)
                        return false;
                if (p + strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n") != e)
                        return false;
                p = e + sizeof(end) - 1;
        }
}

int pem_certificates_only(const char *data, size_t len) {
        return strlen(data) == len && only_pem_certificates(data) ? 0 : -EBADMSG;
}
