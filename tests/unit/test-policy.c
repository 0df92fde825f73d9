/* SPDX-License-Identifier: MIT */
#include "policy.h"
#include "strv.h"
#include "unit.h"

/* Plain structs in, decision out: no keys, files or buses. */

static const char manifest_text[] =
        "version: 1\n"
        "certificates:\n"
        "  - id: web\n"
        "    cert: /c/web.crt\n"
        "    key: /k/web.key\n"
        "    names: {dns: [web.example, www.example], ip: ['2001:db8::10', 192.0.2.10], email: [ops@web.example]}\n"
        "    usage: [server, client]\n"
        "  - id: db\n"
        "    cert: /c/db.crt\n"
        "    key: /k/db.key\n"
        "    names: {dns: [db.example]}\n";

static struct manifest *m;
static struct config *cfg;

static void setup(void) {
        struct diag_list d = {};

        ck_assert_int_eq(manifest_load_buffer("m.yaml", manifest_text, strlen(manifest_text), &m, &d), 0);
        ck_assert_int_eq(config_new_default(&cfg), 0);
        ck_assert_int_eq(strv_push(&cfg->ca.permitted_dns, ".open.example"), 0);
        ck_assert_int_eq(strv_push(&cfg->ca.permitted_ip, "198.51.100.0/24"), 0);
        diag_list_clear(&d);
}

static void teardown(void) {
        manifest_free(m);
        config_free(cfg);
}

/* A well-formed EC P-256 request for web.example. */
static struct csr_info good(void) {
        struct csr_info ci = { .key_kind = KEY_EC, .key_bits = 256, .signature_ok = true };

        strcpy(ci.curve, "P-256");
        strcpy(ci.digest, "SHA256");
        strcpy(ci.key_algorithm, "EC");
        ck_assert_int_eq(strv_push(&ci.cn, "web.example"), 0);
        ck_assert_int_eq(strv_push(&ci.dns, "www.example"), 0);
        return ci;
}

/* good(), for the open policy: CN cn and no other name. */
static struct csr_info open_request(const char *cn) {
        struct csr_info ci = good();

        free(ci.cn[0]);
        ci.cn[0] = strdup(cn);
        strv_free(ci.dns);
        ci.dns = NULL;
        return ci;
}

static int decide(const char *profile, struct csr_info *ci, struct policy_decision *d) {
        int r = policy_check(cfg, m, profile, ci, d);
        csr_info_done(ci);
        return r;
}

START_TEST(test_strict_allows_declared) {
        struct csr_info ci = good();
        struct policy_decision d = {};

        ck_assert_int_eq(strv_push(&ci.ip, "2001:db8:0::10"), 0); /* same address, other spelling */
        ck_assert_int_eq(strv_push(&ci.email, "OPS@web.example"), 0);
        ck_assert_int_eq(decide("web", &ci, &d), 0);
        ck_assert_str_eq(d.id, "web");
        ck_assert_uint_eq(d.usage, USAGE_SERVER | USAGE_CLIENT);
        /* The CN joins the SAN: clients check SANs, not the CN. */
        ck_assert_uint_eq(strv_length(d.san_dns), 2);
        ck_assert_str_eq(d.san_dns[0], "web.example");
        ck_assert_str_eq(d.san_dns[1], "www.example");
        ck_assert_uint_eq(strv_length(d.san_ip), 1);
        ck_assert_uint_eq(strv_length(d.san_email), 1);
        policy_decision_done(&d);
}
END_TEST

#define MUT(name, body) \
        static void name(struct csr_info *ci) {     \
                body;                               \
        }

MUT(bad_sig, ci->signature_ok = false)
MUT(sha1, strcpy(ci->digest, "SHA1"))
MUT(md5, strcpy(ci->digest, "MD5"))
MUT(unknown_digest, ci->digest[0] = '\0')
MUT(rsa1024, (ci->key_kind = KEY_RSA, ci->key_bits = 1024))
MUT(k1, strcpy(ci->curve, "secp256k1"))
MUT(ed25519, (ci->key_kind = KEY_OTHER, strcpy(ci->key_algorithm, "ED25519")))
MUT(wants_ca, ci->requests_ca = true)
MUT(uri, strv_push(&ci->unsupported_sans, "URI"))
MUT(evil_cn, (free(ci->cn[0]), ci->cn[0] = strdup("evil.example")))
MUT(evil_dns, strv_push(&ci->dns, "db.example"))
MUT(evil_ip, strv_push(&ci->ip, "192.0.2.11"))
MUT(evil_email, strv_push(&ci->email, "root@web.example"))
MUT(no_names, (strv_free(ci->cn), strv_free(ci->dns), ci->cn = ci->dns = NULL))
MUT(weak_key, strcpy(ci->key_problem, "RSA public exponent 1 is not an odd number of at least 3"))
MUT(weak_key_bad_sig, (strcpy(ci->key_problem, "RSA public exponent 2 is not"), ci->signature_ok = false))
MUT(pss_sha1_mgf, strcpy(ci->digest, "RSA-PSS SHA256 with MGF1 SHA1"))
MUT(long_cn, (free(ci->cn[0]), ci->cn[0] = strdup("a-name-of-sixty-five-characters-is-far-too-long-for-a-cn.web.example")))

static const struct {
        const char *profile;
        void (*mutate)(struct csr_info *ci);
        const char *reason;
} cases[] = {
        { "web", bad_sig, "CSR signature does not verify" },
        { "web", sha1, "signed with SHA1; SHA-224 or stronger" },
        { "web", md5, "signed with MD5" },
        { "web", unknown_digest, "unsupported signature algorithm" },
        { "web", rsa1024, "RSA key of 1024 bits; at least 2048" },
        { "web", k1, "EC curve secp256k1 is not allowed" },
        { "web", ed25519, "key type ED25519 is not supported" },
        { "web", wants_ca, "CA:TRUE" },
        { "web", uri, "URI subjectAltName" },
        { "web", evil_cn, "subject CN 'evil.example' is not declared for id 'web'" },
        { "web", evil_dns, "DNS name 'db.example' is not declared for id 'web'" },
        { "web", evil_ip, "IP address '192.0.2.11' is not declared" },
        { "web", evil_email, "email address 'root@web.example' is not declared" },
        { "web", no_names, "carries no names" },
        { "web", weak_key, "weak key: RSA public exponent 1 is not an odd number" },
        /* The key's fault is named, not the signature an even exponent cannot make. */
        { "web", weak_key_bad_sig, "weak key: RSA public exponent 2" },
        { "web", pss_sha1_mgf, "signed with RSA-PSS SHA256 with MGF1 SHA1; SHA-224 or stronger" },
        { "web", long_cn, "is longer than 64 characters" },
        { "nope", NULL, "unknown certificate id 'nope' (the manifest has: web, db)" },
        { NULL, NULL, "no certificate id given: request with getcert request -T ID" },
        { "", NULL, "no certificate id given" },
        { "db", NULL, "subject CN 'web.example' is not declared for id 'db'" },
};

START_TEST(test_strict_rejects) {
        struct csr_info ci = good();
        struct policy_decision d = {};

        if (cases[_i].mutate)
                cases[_i].mutate(&ci);
        ck_assert_int_eq(decide(cases[_i].profile, &ci, &d), POLICY_REJECTED);
        if (!strstr(d.reason, cases[_i].reason))
                ck_abort_msg("case %d: reason '%s' lacks '%s'", _i, d.reason, cases[_i].reason);
        ck_assert_ptr_null(d.san_dns);
}
END_TEST

START_TEST(test_rsa2048_allowed) {
        struct csr_info ci = good();
        struct policy_decision d = {};

        ci.key_kind = KEY_RSA;
        ci.key_bits = 2048;
        ck_assert_int_eq(decide("web", &ci, &d), 0);
        policy_decision_done(&d);
}
END_TEST

START_TEST(test_open_policy) {
        struct csr_info ci = good();
        struct policy_decision d = {};

        cfg->ca.policy = POLICY_OPEN;
        free(ci.cn[0]);
        ci.cn[0] = strdup("a.open.example");
        free(ci.dns[0]);
        ci.dns[0] = strdup("b.open.example");
        ck_assert_int_eq(strv_push(&ci.ip, "198.51.100.7"), 0);
        ck_assert_int_eq(decide(NULL, &ci, &d), 0);
        ck_assert_ptr_null(d.id);
        ck_assert_uint_eq(d.usage, USAGE_SERVER | USAGE_CLIENT);
        policy_decision_done(&d);

        ci = good(); /* web.example is outside .open.example */
        ck_assert_int_eq(decide(NULL, &ci, &d), POLICY_REJECTED);
        ck_assert(strstr(d.reason, "subject CN 'web.example' is outside the permitted"));

        ci = open_request("a.open.example");
        ck_assert_int_eq(strv_push(&ci.ip, "198.51.101.7"), 0);
        ck_assert_int_eq(decide(NULL, &ci, &d), POLICY_REJECTED);
        ck_assert(strstr(d.reason, "IP address '198.51.101.7' is outside"));

        /* Even when open, a named id must exist, and its usage applies. */
        ci = good();
        ck_assert_int_eq(decide("nope", &ci, &d), POLICY_REJECTED);
        ck_assert(strstr(d.reason, "unknown certificate id"));
        cfg->ca.policy = POLICY_STRICT;
}
END_TEST

/* The subject is the allowed CN alone: what else the CSR's subject says is never issued. */
START_TEST(test_subject_is_cn_only) {
        struct csr_info ci = good();
        struct policy_decision d = {};

        ck_assert_int_eq(strv_push(&ci.subject_other, "O"), 0);
        ck_assert_int_eq(strv_push(&ci.subject_other, "emailAddress"), 0);
        ck_assert_int_eq(decide("web", &ci, &d), 0);
        ck_assert_uint_eq(strv_length(d.cn), 1);
        ck_assert_str_eq(d.cn[0], "web.example");
        policy_decision_done(&d);
}
END_TEST

/* Open policy: a CN or email must have its kind's syntax, not only a permitted suffix. */
START_TEST(test_open_checks_syntax) {
        static const char *const cns[] = { "bad name.open.example", "-x.open.example", "a@@b.open.example",
                                           "<a>@b.open.example" };
        struct policy_decision d = {};

        cfg->ca.policy = POLICY_OPEN;
        for (size_t i = 0; i < ELEMENTSOF(cns); i++) {
                struct csr_info ci = open_request(cns[i]);

                ck_assert_int_eq(decide(NULL, &ci, &d), POLICY_REJECTED);
                if (!strstr(d.reason, "subject CN"))
                        ck_abort_msg("CN '%s': %s", cns[i], d.reason);
        }
        struct csr_info ci = open_request("a.open.example");

        ck_assert_int_eq(strv_push(&ci.email, "x y@b.open.example"), 0);
        ck_assert_int_eq(decide(NULL, &ci, &d), POLICY_REJECTED);
        ck_assert(strstr(d.reason, "email address 'x y@b.open.example'"));
        cfg->ca.policy = POLICY_STRICT;
}
END_TEST

/* --upstream: what another CA would copy out of the CSR. */
MUT(up_subject_o, strv_push(&ci->subject_other, "O"))
MUT(up_aia, strv_push(&ci->other_extensions, "authorityInfoAccess"))
MUT(up_nc, strv_push(&ci->other_extensions, "nameConstraints (critical)"))
MUT(up_cert_sign, ci->key_usage = 1U << KU_BIT_DIGITAL_SIGNATURE | 1U << KU_BIT_KEY_CERT_SIGN)
MUT(up_crl_sign, ci->key_usage = 1U << KU_BIT_CRL_SIGN)
MUT(up_code_signing, strv_push(&ci->eku, "codeSigning"))
MUT(up_client_for_server, strv_push(&ci->eku, "clientAuth"))

static const struct {
        const char *profile;
        void (*mutate)(struct csr_info *ci);
        const char *reason; /* NULL: allowed */
} upstream_cases[] = {
        { "web", NULL, NULL },
        { "web", up_subject_o, "CSR subject carries O beyond the CN" },
        { "web", up_aia, "extension authorityInfoAccess" },
        { "web", up_nc, "extension nameConstraints (critical)" },
        { "web", up_cert_sign, "key usage keyCertSign" },
        { "web", up_crl_sign, "key usage cRLSign" },
        { "web", up_code_signing, "extended key usage codeSigning, outside the usage of id 'web'" },
        { "web", up_client_for_server, NULL },
        { "db", up_client_for_server, "extended key usage clientAuth, outside the usage of id 'db'" },
};

START_TEST(test_upstream) {
        struct csr_info ci = good();
        struct policy_decision d = {};
        char reason[512] = "";
        int r;

        strv_free(ci.cn);
        ci.cn = NULL;
        ck_assert_int_eq(strv_push(&ci.cn, upstream_cases[_i].profile[0] == 'd' ? "db.example" : "web.example"), 0);
        strv_free(ci.dns);
        ci.dns = NULL;
        ci.key_usage = 1U << KU_BIT_DIGITAL_SIGNATURE | 1U << KU_BIT_KEY_ENCIPHERMENT;
        ck_assert_int_eq(strv_push(&ci.eku, "serverAuth"), 0);
        if (upstream_cases[_i].mutate)
                upstream_cases[_i].mutate(&ci);
        ck_assert_int_eq(policy_check(cfg, m, upstream_cases[_i].profile, &ci, &d), 0);
        r = policy_check_upstream(&ci, &d, reason, sizeof(reason));
        csr_info_done(&ci);
        policy_decision_done(&d);
        if (!upstream_cases[_i].reason) {
                ck_assert_msg(r == 0, "case %d: refused: %s", _i, reason);
                return;
        }
        ck_assert_int_eq(r, POLICY_REJECTED);
        if (!strstr(reason, upstream_cases[_i].reason))
                ck_abort_msg("case %d: reason '%s' lacks '%s'", _i, reason, upstream_cases[_i].reason);
}
END_TEST

static Suite *policy_suite(void) {
        Suite *s = suite_create("policy");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_strict_allows_declared);
        tcase_add_loop_test(tc, test_strict_rejects, 0, (int) ELEMENTSOF(cases));
        tcase_add_test(tc, test_rsa2048_allowed);
        tcase_add_test(tc, test_open_policy);
        tcase_add_test(tc, test_subject_is_cn_only);
        tcase_add_test(tc, test_open_checks_syntax);
        tcase_add_loop_test(tc, test_upstream, 0, (int) ELEMENTSOF(upstream_cases));
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(policy_suite)
