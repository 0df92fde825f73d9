/* SPDX-License-Identifier: MIT */
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <time.h>

#include "crypto.h"
#include "fileio.h"
#include "manifest.h"
#include "strv.h"
#include "unit.h"

/* The tests inspect issued certificates with OpenSSL directly, independent of the module under test. */

static struct csr *load_csr(const char *name) {
        _cleanup_free_ char *path = path_join(TEST_DATA_DIR, name), *buf = NULL;
        struct csr *csr = NULL;
        size_t len;

        ck_assert_int_eq(read_file_full(path, FILEIO_MAX_SIZE, &buf, &len), 0);
        ck_assert_int_eq(csr_parse(buf, len, &csr), 0);
        return csr;
}

static struct csr_info info_of(const char *name) {
        _cleanup_(csr_freep) struct csr *csr = load_csr(name);
        struct csr_info ci;

        ck_assert_int_eq(csr_get_info(csr, &ci), 0);
        return ci;
}

START_TEST(test_csr_facts) {
        struct csr_info ci = info_of("csr-ec.pem");

        ck_assert_int_eq(ci.key_kind, KEY_EC);
        ck_assert_str_eq(ci.curve, "P-256");
        ck_assert_str_eq(ci.digest, "SHA256");
        ck_assert(ci.signature_ok);
        ck_assert(!ci.requests_ca);
        ck_assert_str_eq(ci.cn[0], "web.example");
        ck_assert_uint_eq(strv_length(ci.dns), 2);
        ck_assert_str_eq(ci.ip[0], "192.0.2.10");
        ck_assert_str_eq(ci.email[0], "ops@web.example");
        ck_assert_ptr_null(ci.unsupported_sans);
        csr_info_done(&ci);

        ci = info_of("csr-rsa1024.pem");
        ck_assert_int_eq(ci.key_kind, KEY_RSA);
        ck_assert_uint_eq(ci.key_bits, 1024);
        csr_info_done(&ci);

        ci = info_of("csr-sha1.pem");
        ck_assert_str_eq(ci.digest, "SHA1");
        csr_info_done(&ci);

        ci = info_of("csr-secp256k1.pem");
        ck_assert_str_eq(ci.curve, "secp256k1");
        csr_info_done(&ci);

        ci = info_of("csr-ed25519.pem");
        ck_assert_int_eq(ci.key_kind, KEY_OTHER);
        csr_info_done(&ci);

        ci = info_of("csr-ca.pem");
        ck_assert(ci.requests_ca);
        csr_info_done(&ci);

        ci = info_of("csr-uri.pem");
        ck_assert_str_eq(ci.unsupported_sans[0], "URI");
        ck_assert_str_eq(ci.curve, "P-384");
        csr_info_done(&ci);

        ci = info_of("csr-badsig.pem");
        ck_assert(!ci.signature_ok);
        csr_info_done(&ci);

        ci = info_of("csr-nonames.pem");
        ck_assert_ptr_null(ci.cn);
        ck_assert_ptr_null(ci.dns);
        csr_info_done(&ci);
}
END_TEST

/* What OpenSSL's public-key checks find wrong with keys no ordinary tool makes (make-hostile-csrs.py). */
START_TEST(test_csr_weak_keys) {
        static const struct {
                const char *file, *problem;
        } cases[] = {
                { "csr-rsa-e1.pem", "RSA public exponent 1 is not an odd number of at least 3" },
                { "csr-rsa-e4.pem", "RSA public exponent 4 is not an odd number of at least 3" },
                { "csr-rsa-prime.pem", "RSA modulus fails OpenSSL's check" },
                { "csr-rsa-9216.pem", "RSA key of 9215 bits (at most 8192)" }, /* refused before the costly check */
                { "csr-ec-explicit.pem", "EC key with explicit curve parameters" },
                { "csr-rsa2048.pem", "" },
                { "csr-ec.pem", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct csr_info ci = info_of(cases[i].file);

                if (!strstr(ci.key_problem, cases[i].problem) || (!cases[i].problem[0] && ci.key_problem[0]))
                        ck_abort_msg("%s: key problem '%s', expected '%s'", cases[i].file, ci.key_problem, cases[i].problem);
                csr_info_done(&ci);
        }
}
END_TEST

/* RSASSA-PSS names its digests in parameters: both the hash and MGF1's are reported. */
START_TEST(test_csr_pss_digest) {
        struct csr_info ci = info_of("csr-rsa-pss.pem");

        ck_assert_str_eq(ci.digest, "SHA256");
        ck_assert(ci.signature_ok);
        ck_assert_int_eq(ci.key_kind, KEY_RSA);
        csr_info_done(&ci);
        ci = info_of("csr-rsa-pss-mgf1sha1.pem");
        ck_assert_str_eq(ci.digest, "RSA-PSS SHA256 with MGF1 SHA1");
        csr_info_done(&ci);
}
END_TEST

/* The facts upstream mode judges: the subject's other attributes, KU, EKU, other extensions. */
START_TEST(test_csr_requested_extensions) {
        struct csr_info ci = info_of("csr-ec.pem");

        ck_assert_ptr_null(ci.subject_other);
        ck_assert_ptr_null(ci.other_extensions);
        csr_info_done(&ci);
        ci = info_of("csr-laundering.pem");
        ck_assert_uint_eq(strv_length(ci.subject_other), 2);
        ck_assert_str_eq(ci.subject_other[0], "O");
        ck_assert_str_eq(ci.subject_other[1], "emailAddress");
        ck_assert_uint_eq(ci.key_usage, 1U << KU_BIT_DIGITAL_SIGNATURE | 1U << KU_BIT_KEY_CERT_SIGN);
        ck_assert_uint_eq(strv_length(ci.eku), 2);
        ck_assert_str_eq(ci.eku[1], "codeSigning");
        ck_assert_uint_eq(strv_length(ci.other_extensions), 3);
        ck_assert_str_eq(ci.other_extensions[0], "nameConstraints (critical)");
        ck_assert_str_eq(ci.other_extensions[1], "authorityInfoAccess");
        ck_assert_str_eq(ci.other_extensions[2], "1.2.3.4 (critical)");
        csr_info_done(&ci);
}
END_TEST

START_TEST(test_csr_garbage) {
        struct csr *csr = NULL;

        ck_assert_int_eq(csr_parse("hello", 5, &csr), -EBADMSG);
        ck_assert_int_eq(csr_parse("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", 72, &csr),
                         -EBADMSG);
        ck_assert_ptr_null(csr);
}
END_TEST

/* A CA whose issuing certificate lives issuing_days, in memory: where it is stored is cadir's (test-cadir). */
static struct ca *make_ca(int type, unsigned issuing_days) {
        _cleanup_(key_freep) struct key *rk = NULL, *ik = NULL;
        _cleanup_(cert_freep) struct cert *root = NULL, *issuing = NULL;
        _cleanup_free_ char *root_pem = NULL, *ca_pem = NULL, *chain = NULL;
        struct ca *ca = NULL;

        ck_assert_int_eq(key_generate(type, &rk), 0);
        ck_assert_int_eq(key_generate(type, &ik), 0);
        ck_assert_int_eq(ca_cert_make(rk, "O=Test,CN=Test Root", NULL, NULL, 3650, 1, &root), 0);
        ck_assert_int_eq(ca_cert_make(ik, "O=Test,CN=Test Issuing", root, rk, issuing_days, 0, &issuing), 0);
        ck_assert_int_eq(cert_to_pem(root, &root_pem), 0);
        ck_assert_int_eq(cert_to_pem(issuing, &ca_pem), 0);
        ck_assert_int_ge(asprintf(&chain, "%s%s", ca_pem, root_pem), 0);
        ck_assert_int_eq(pem_certificates_only(chain, strlen(chain)), 0);
        ck_assert_int_eq(ca_new(&issuing, &ik, &chain, &ca), 0);
        ck_assert_ptr_null(issuing);
        ck_assert_ptr_null(chain);
        return ca;
}

static X509 *to_x509(const struct cert *c) {
        _cleanup_free_ char *pem = NULL;
        BIO *b;
        X509 *x;

        ck_assert_int_eq(cert_to_pem(c, &pem), 0);
        b = BIO_new_mem_buf(pem, -1);
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        ck_assert_ptr_nonnull(x);
        return x;
}

START_TEST(test_issue) {
        _cleanup_free_ char *serial = NULL;
        _cleanup_(ca_freep) struct ca *ca = make_ca(_i == 0 ? KEYTYPE_EC_P256 : KEYTYPE_EC_P384, 3650);
        _cleanup_(csr_freep) struct csr *csr = load_csr("csr-rsa2048.pem");
        _cleanup_(cert_freep) struct cert *leaf = NULL;
        char *dns[] = { "web.example", NULL }, *ip[] = { "192.0.2.10", NULL };
        struct issue_params p = { .dns = dns, .ip = ip, .usage = USAGE_SERVER, .validity_days = 30, .now = time(NULL),
                                  .crl_url = "http://ca.example/crl.pem" };
        const ASN1_INTEGER *sn;
        X509 *x;
        BASIC_CONSTRAINTS *bc;
        GENERAL_NAMES *gens;
        time_t nb, na;
        int crit;

        ck_assert_int_eq((int) (strstr(ca_chain_pem(ca), "BEGIN CERTIFICATE") != NULL), 1);
        ck_assert_int_eq(cert_issue(ca, csr, &p, &leaf), 0);
        x = to_x509(leaf);

        /* 20-byte positive serial. */
        sn = X509_get0_serialNumber(x);
        ck_assert_int_eq(ASN1_STRING_length(sn), 20);
        ck_assert_int_eq(sn->type, V_ASN1_INTEGER);
        ck_assert_int_eq(cert_serial_hex(leaf, &serial), 0);
        ck_assert_uint_eq(strlen(serial), 40);

        /* Backdated a few minutes, valid for the configured days. */
        ck_assert_int_eq(cert_validity(leaf, &nb, &na), 0);
        ck_assert_int_le(nb, p.now - 60);
        ck_assert_int_ge(nb, p.now - 600);
        ck_assert_int_eq(na, p.now + 30 * 86400);

        bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
        ck_assert_ptr_nonnull(bc);
        ck_assert(!bc->ca);
        ck_assert_int_eq(crit, 1);
        BASIC_CONSTRAINTS_free(bc);
        /* RSA key: keyEncipherment too; serverAuth only. */
        ck_assert(X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT);
        ck_assert(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
        ck_assert(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
        ck_assert(!(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT));
        ck_assert_ptr_nonnull(X509_get0_subject_key_id(x));
        ck_assert_ptr_nonnull(X509_get0_authority_key_id(x));
        ck_assert_int_ge(X509_get_ext_by_NID(x, NID_crl_distribution_points, -1), 0);
        gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
        ck_assert_int_eq(sk_GENERAL_NAME_num(gens), 2);
        GENERAL_NAMES_free(gens);
        /* Signed by the issuing CA. */
        {
                X509 *issuer = to_x509(ca_cert(ca));
                ck_assert_int_eq(X509_check_issued(issuer, x), X509_V_OK);
                X509_free(issuer);
        }
        X509_free(x);
}
END_TEST

START_TEST(test_validity_capped_by_ca) {
        _cleanup_(ca_freep) struct ca *ca = make_ca(KEYTYPE_EC_P256, 10);
        _cleanup_(csr_freep) struct csr *csr = load_csr("csr-ec.pem");
        _cleanup_(cert_freep) struct cert *leaf = NULL;
        char *dns[] = { "web.example", NULL };
        struct issue_params p = { .dns = dns, .usage = USAGE_SERVER | USAGE_CLIENT, .validity_days = 365, .now = time(NULL) };
        time_t na, ca_na;

        ck_assert_int_eq(cert_issue(ca, csr, &p, &leaf), 0);
        ck_assert_int_eq(cert_validity(leaf, NULL, &na), 0);
        ck_assert_int_eq(cert_validity(ca_cert(ca), NULL, &ca_na), 0);
        ck_assert_int_eq(na, ca_na);
        cert_free(TAKE_PTR(leaf));

        /* A CA that is no longer valid signs nothing. */
        p.now += 11 * 86400;
        ck_assert_int_eq(cert_issue(ca, csr, &p, &leaf), -EKEYEXPIRED);
}
END_TEST

/* ca.validity_jitter: notAfter spread over the last share of the validity, decided per certificate. */
START_TEST(test_validity_jitter) {
        _cleanup_(ca_freep) struct ca *ca = make_ca(KEYTYPE_EC_P256, 3650);
        _cleanup_(csr_freep) struct csr *csr = load_csr("csr-ec.pem");
        char *dns[] = { "web.example", NULL };
        struct issue_params p = { .dns = dns, .usage = USAGE_SERVER, .validity_days = 365, .id = "web", .now = time(NULL) };
        time_t full = p.now + 365 * 86400, lo = full, hi = 0;
        unsigned distinct = 0;
        time_t seen[64];

        for (unsigned i = 0; i < ELEMENTSOF(seen); i++) {
                _cleanup_(cert_freep) struct cert *leaf = NULL;
                time_t na;
                bool again = false;

                p.jitter_percent = i == 0 ? 0 : 10;
                ck_assert_int_eq(cert_issue(ca, csr, &p, &leaf), 0);
                ck_assert_int_eq(cert_validity(leaf, NULL, &na), 0);
                if (i == 0) {
                        ck_assert_int_eq(na, full); /* no jitter: the whole validity */
                        continue;
                }
                ck_assert_int_le(na, full);
                ck_assert_int_ge(na, full - 365 * 86400 / 10); /* never earlier than 10% of it */
                lo = na < lo ? na : lo;
                hi = na > hi ? na : hi;
                for (unsigned k = 1; k < i; k++)
                        again = again || seen[k] == na;
                distinct += !again;
                seen[i] = na;
        }
        /* 63 random serials: spread over most of the 36.5 days, hardly two alike */
        ck_assert_int_ge(hi - lo, 20 * 86400);
        ck_assert_uint_ge(distinct, 60);
}
END_TEST

/* A key is parsed for its certificate; a chain passed on as text holds certificates and nothing else. */
START_TEST(test_ca_parts) {
        _cleanup_(key_freep) struct key *k = NULL, *other = NULL, *parsed = NULL;
        _cleanup_(cert_freep) struct cert *c = NULL, *c2 = NULL;
        _cleanup_free_ char *key_pem = NULL, *other_pem = NULL, *cert_pem = NULL;
        static const char nul[] = "-----BEGIN CERTIFICATE-----\nMI\0";

        ck_assert_int_eq(key_generate(KEYTYPE_EC_P256, &k), 0);
        ck_assert_int_eq(key_generate(KEYTYPE_EC_P256, &other), 0);
        ck_assert_int_eq(ca_cert_make(k, "CN=Parts", NULL, NULL, 1, -1, &c), 0);
        ck_assert_int_eq(key_to_pem(k, &key_pem), 0);
        ck_assert_int_eq(key_to_pem(other, &other_pem), 0);
        ck_assert_int_eq(cert_to_pem(c, &cert_pem), 0);
        ck_assert_int_eq(key_parse_pem_for(c, key_pem, strlen(key_pem), &parsed), 0);
        ck_assert_int_eq(cert_matches_key(c, parsed), 1);
        ck_assert_int_eq(key_parse_pem_for(c, other_pem, strlen(other_pem), &parsed), -EKEYREJECTED);
        ck_assert_int_eq(key_parse_pem_for(c, "not a key\n", 10, &parsed), -EBADMSG);
        ck_assert_int_eq(cert_parse_pem(cert_pem, strlen(cert_pem), &c2), 0);
        ck_assert_int_eq(cert_parse_pem(key_pem, strlen(key_pem), &c2), -EBADMSG);

        ck_assert_int_eq(pem_certificates_only(cert_pem, strlen(cert_pem)), 0);
        ck_assert_int_eq(pem_certificates_only(key_pem, strlen(key_pem)), -EBADMSG);
        ck_assert_int_eq(pem_certificates_only("no certificates here\n", 21), -EBADMSG);
        ck_assert_int_eq(pem_certificates_only("", 0), -EBADMSG);
        ck_assert_int_eq(pem_certificates_only(nul, sizeof(nul)), -EBADMSG);
}
END_TEST

START_TEST(test_key_types_and_match) {
        static const char *const want[] = { "EC P-256", "EC P-384", "RSA 3072" };
        _cleanup_(key_freep) struct key *k = NULL, *other = NULL;
        _cleanup_(cert_freep) struct cert *c = NULL;
        _cleanup_free_ char *desc = NULL, *nick = NULL;

        ck_assert_int_eq(key_generate(_i, &k), 0);
        ck_assert_int_eq(key_generate(KEYTYPE_EC_P256, &other), 0);
        ck_assert_int_eq(ca_cert_make(k, "CN=Key Test,O=Test", NULL, NULL, 1, -1, &c), 0);
        ck_assert_int_eq(cert_key_description(c, &desc), 0);
        ck_assert_str_eq(desc, want[_i]);
        ck_assert_int_eq(cert_matches_key(c, k), 1);
        ck_assert_int_eq(cert_matches_key(c, other), 0);
        ck_assert_int_eq(cert_nickname(c, &nick), 0);
        ck_assert_str_eq(nick, "Key Test");
        ck_assert_int_eq(ca_cert_make(k, "no-equals-sign", NULL, NULL, 1, -1, &c), -EINVAL);
}
END_TEST

static Suite *crypto_suite(void) {
        Suite *s = suite_create("crypto");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_csr_facts);
        tcase_add_test(tc, test_csr_garbage);
        tcase_add_test(tc, test_csr_weak_keys);
        tcase_add_test(tc, test_csr_pss_digest);
        tcase_add_test(tc, test_csr_requested_extensions);
        tcase_add_loop_test(tc, test_issue, 0, 2);
        tcase_add_test(tc, test_validity_capped_by_ca);
        tcase_add_test(tc, test_validity_jitter);
        tcase_add_test(tc, test_ca_parts);
        tcase_add_loop_test(tc, test_key_types_and_match, 0, 3);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr;
        int failed;

        if (crypto_init() < 0)
                return EXIT_FAILURE;
        sr = srunner_create(crypto_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
