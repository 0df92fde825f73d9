/* SPDX-License-Identifier: MIT */
/* What a CSR asks for: parsing it, its names, extensions, key and signature, as plain data for the policy. */
#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <stdio.h>

#include "crypto-internal.h"
#include "strv.h"

#define RSA_MAX_BITS 8192u

static void exts_free(STACK_OF(X509_EXTENSION) *e) {
        sk_X509_EXTENSION_pop_free(e, X509_EXTENSION_free);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(STACK_OF(X509_EXTENSION) *, exts_free);

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
int push_asn1_string(char ***v, const ASN1_STRING *s) {
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

/* An object's short name ("serverAuth", "O"), or its dotted OID when OpenSSL has none. */
static const char *obj_name(const ASN1_OBJECT *obj, char *buf, size_t size) {
        int nid = OBJ_obj2nid(obj);

        if (nid != NID_undef && OBJ_nid2sn(nid))
                return OBJ_nid2sn(nid);
        return OBJ_obj2txt(buf, (int) size, obj, 1) > 0 ? buf : "?";
}

/* The subject's CNs, and the short names of its other attributes (which are never issued). */
static int csr_info_subject(X509_REQ *req, struct csr_info *info) {
        const X509_NAME *name = X509_REQ_get_subject_name(req);
        int r = 0;

        for (int i = 0; i < X509_NAME_entry_count(name) && r >= 0; i++) {
                const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
                const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
                char oid[80];

                if (OBJ_obj2nid(obj) == NID_commonName)
                        r = push_asn1_string(&info->cn, X509_NAME_ENTRY_get_data(e));
                else
                        r = strv_push(&info->subject_other, obj_name(obj, oid, sizeof(oid)));
        }
        return r;
}

static int push_ip(char ***v, const ASN1_OCTET_STRING *s) {
        char buf[INET6_ADDRSTRLEN];
        int len = ASN1_STRING_length(s);
        int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;

        if (family < 0 || !inet_ntop(family, ASN1_STRING_get0_data(s), buf, sizeof(buf)))
                return -EBADMSG;
        return strv_push(v, buf);
}

int csr_info_san(const GENERAL_NAME *gn, struct csr_info *info) {
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

const char *const key_usage_names[_KU_BIT_MAX] = {
        "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
        "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly",
};

static int csr_info_key_usage(X509_EXTENSION *ext, struct csr_info *info) {
        ASN1_BIT_STRING *bits = X509V3_EXT_d2i(ext);

        if (!bits)
                return -EBADMSG;
        for (int n = 0; n < _KU_BIT_MAX; n++)
                if (ASN1_BIT_STRING_get_bit(bits, n))
                        info->key_usage |= 1U << n;
        ASN1_BIT_STRING_free(bits);
        return 0;
}

static int csr_info_eku(X509_EXTENSION *ext, struct csr_info *info) {
        EXTENDED_KEY_USAGE *eku = X509V3_EXT_d2i(ext);
        int r = eku ? 0 : -EBADMSG;

        for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku) && r >= 0; i++) {
                char oid[80];

                r = strv_push(&info->eku, obj_name(sk_ASN1_OBJECT_value(eku, i), oid, sizeof(oid)));
        }
        EXTENDED_KEY_USAGE_free(eku);
        return r;
}

/*
 * Every requested extension: SAN and basicConstraints are read as before; KU
 * and EKU as what they ask for; certmonger's own (subjectKeyIdentifier, the
 * certificate template name 1.3.6.1.4.1.311.20.2) pass when not critical;
 * anything else is listed, for an upstream CA that would copy it.
 */
static int csr_info_other_extension(X509_EXTENSION *ext, struct csr_info *info) {
        const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
        bool critical = X509_EXTENSION_get_critical(ext);
        char buf[80], name[96];
        const char *oid;

        switch (OBJ_obj2nid(obj)) {
        case NID_subject_alt_name:
        case NID_basic_constraints:
                return 0;
        case NID_key_usage:
                return csr_info_key_usage(ext, info);
        case NID_ext_key_usage:
                return csr_info_eku(ext, info);
        default:
                break;
        }
        oid = obj_name(obj, buf, sizeof(buf));
        if (!critical && (streq(oid, "subjectKeyIdentifier") || streq(oid, "1.3.6.1.4.1.311.20.2")))
                return 0;
        snprintf(name, sizeof(name), "%s%s", oid, critical ? " (critical)" : "");
        return strv_push(&info->other_extensions, name);
}

/*
 * A CSR carries its requested extensions in one extensionRequest (or
 * Microsoft's msExtReq) attribute with one value. OpenSSL reads only the
 * first of either and of its values, and says "none" when that one does not
 * decode; another CA that reads the rest would see extensions we never
 * checked. 1 when there is one, 0 when none, -EBADMSG for anything else.
 */
static int ext_request_count(X509_REQ *req) {
        int n = 0;

        for (int i = 0; i < X509_REQ_get_attr_count(req); i++) {
                X509_ATTRIBUTE *a = X509_REQ_get_attr(req, i);
                int nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(a));

                if (nid != NID_ext_req && nid != NID_ms_ext_req)
                        continue;
                if (++n > 1 || X509_ATTRIBUTE_count(a) != 1)
                        return -EBADMSG;
        }
        return n;
}

static int csr_info_extensions(X509_REQ *req, struct csr_info *info) {
        _cleanup_(exts_freep) STACK_OF(X509_EXTENSION) *exts = NULL;
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *sans = NULL;
        _cleanup_(BASIC_CONSTRAINTS_freep) BASIC_CONSTRAINTS *bc = NULL;
        int crit, r = ext_request_count(req);

        if (r <= 0)
                return r;
        exts = X509_REQ_get_extensions(req);
        if (!exts)
                return -EBADMSG; /* the attribute is there but does not decode */
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
        for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
                r = csr_info_other_extension(sk_X509_EXTENSION_value(exts, i), info);
                if (r < 0)
                        return r;
        }
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

void csr_info_key(EVP_PKEY *pkey, struct csr_info *info) {
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

/* The digest of a hash AlgorithmIdentifier; RSASSA-PSS leaves SHA-1 implicit when absent. */
static int algor_md_nid(const X509_ALGOR *alg) {
        return alg ? OBJ_obj2nid(alg->algorithm) : NID_sha1;
}

/*
 * RSASSA-PSS names its digests in parameters, not in the algorithm's OID:
 * the message hash and MGF1's. Both must be strong, so "digest" is the hash
 * when they agree and says which differs when not.
 */
static void pss_digest(const X509_ALGOR *sig, char *buf, size_t size) {
        RSA_PSS_PARAMS *pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), sig->parameter);
        X509_ALGOR *mgf_md = NULL;
        int md, mgf = NID_sha1;

        if (!pss)
                return;
        md = algor_md_nid(pss->hashAlgorithm);
        if (pss->maskGenAlgorithm) {
                mgf = NID_undef;
                if (OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) == NID_mgf1 &&
                    (mgf_md = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), pss->maskGenAlgorithm->parameter)))
                        mgf = algor_md_nid(mgf_md);
        }
        if (md == mgf)
                snprintf(buf, size, "%s", OBJ_nid2sn(md));
        else
                snprintf(buf, size, "RSA-PSS %s with MGF1 %s", OBJ_nid2sn(md), mgf != NID_undef ? OBJ_nid2sn(mgf) : "?");
        X509_ALGOR_free(mgf_md);
        RSA_PSS_PARAMS_free(pss);
}

static void csr_info_signature(X509_REQ *req, EVP_PKEY *pkey, struct csr_info *info) {
        const X509_ALGOR *sig;
        int md_nid, pk_nid;

        X509_REQ_get0_signature(req, NULL, &sig);
        if (X509_REQ_get_signature_nid(req) == NID_rsassaPss)
                pss_digest(sig, info->digest, sizeof(info->digest));
        else if (OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &md_nid, &pk_nid) == 1 && md_nid != NID_undef)
                snprintf(info->digest, sizeof(info->digest), "%s", OBJ_nid2sn(md_nid));
        info->signature_ok = X509_REQ_verify(req, pkey) == 1;
        ERR_clear_error();
}

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free);

/* An RSA exponent verifiers and OpenSSL accept: odd, at least 3. */
static void rsa_exponent_check(EVP_PKEY *pkey, struct csr_info *info) {
        _cleanup_(BN_freep) BIGNUM *e = NULL;
        char *dec;

        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
                snprintf(info->key_problem, sizeof(info->key_problem), "RSA key without a public exponent");
                return;
        }
        if (BN_is_odd(e) && BN_num_bits(e) > 1)
                return;
        dec = BN_bn2dec(e);
        snprintf(info->key_problem, sizeof(info->key_problem), "RSA public exponent %.24s is not an odd number of at least 3",
                 dec ? dec : "?");
        OPENSSL_free(dec);
}

/*
 * Keys the policy calls weak, whatever their size: RSA with a bad exponent or a
 * modulus OpenSSL's SP 800-56B check refuses (prime, even, small factors), EC
 * with explicit curve parameters (X509_V_FLAG_X509_STRICT and Go refuse them
 * even when they spell a named curve) or a point off the curve.
 */
static void csr_info_key_check(EVP_PKEY *pkey, struct csr_info *info) {
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
        char encoding[32] = "";

        if (info->key_kind == KEY_RSA)
                rsa_exponent_check(pkey, info);
        if (info->key_kind == KEY_EC &&
            EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, encoding, sizeof(encoding), NULL) == 1 &&
            streq(encoding, OSSL_PKEY_EC_ENCODING_EXPLICIT))
                snprintf(info->key_problem, sizeof(info->key_problem), "EC key with explicit curve parameters (only named curves)");
        /* Larger keys buy nothing here and make the check below cost a second or more of CPU. */
        if (info->key_kind == KEY_RSA && info->key_bits > RSA_MAX_BITS)
                snprintf(info->key_problem, sizeof(info->key_problem), "RSA key of %u bits (at most %u)", info->key_bits,
                         RSA_MAX_BITS);
        if (info->key_problem[0] || info->key_kind == KEY_OTHER)
                return;
        ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!ctx || EVP_PKEY_public_check_quick(ctx) != 1)
                snprintf(info->key_problem, sizeof(info->key_problem), "%s",
                         info->key_kind == KEY_RSA ? "RSA modulus fails OpenSSL's check (prime, even or with small factors)"
                                                   : "EC public key is not a valid point of its curve");
        ERR_clear_error();
}

int csr_get_info(const struct csr *csr, struct csr_info *ret) {
        struct csr_info info = {};
        EVP_PKEY *pkey = X509_REQ_get0_pubkey(csr->req);
        int r;

        if (!pkey)
                return openssl_error(-EBADMSG, "CSR public key");
        csr_info_key(pkey, &info);
        csr_info_key_check(pkey, &info);
        csr_info_signature(csr->req, pkey, &info);
        r = csr_info_subject(csr->req, &info);
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
        strv_free(info->subject_other);
        strv_free(info->eku);
        strv_free(info->other_extensions);
        strv_free(info->cn);
        strv_free(info->dns);
        strv_free(info->ip);
        strv_free(info->email);
        strv_free(info->unsupported_sans);
        *info = (struct csr_info) {};
}
