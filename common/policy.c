/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "names.h"
#include "policy.h"
#include "strv.h"

static const char *const strong_digests[] = {
        "SHA224", "SHA256", "SHA384", "SHA512", "SHA512-224", "SHA512-256", "SHA3-224", "SHA3-256", "SHA3-384", "SHA3-512",
};
static const char *const allowed_curves[] = { "P-256", "P-384", "P-521" };
#define MAX_CN_LENGTH 64 /* ub-common-name */

static int reject(struct policy_decision *d, const char *fmt, ...) _printf_(2, 3);
static int reject(struct policy_decision *d, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
        va_end(ap);
        return POLICY_REJECTED;
}

static bool in_list(const char *const *list, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(list[i], s))
                        return true;
        return false;
}

/* Rules that hold whatever the names: signature, digest, key, CA flag, name types. */
static int check_form(const struct csr_info *ci, struct policy_decision *d) {
        /* Before the signature: a key with e = 1 "signs" anything, an even e cannot sign at all. */
        if (ci->key_problem[0])
                return reject(d, "weak key: %s", ci->key_problem);
        if (!ci->signature_ok)
                return reject(d, "CSR signature does not verify with the key it carries");
        /* The key first: some key types (Ed25519) have no separate digest to name. */
        if (ci->key_kind == KEY_OTHER)
                return reject(d, "key type %s is not supported (RSA >= 2048 bits or EC P-256/P-384/P-521)",
                              ci->key_algorithm);
        if (ci->key_kind == KEY_RSA && ci->key_bits < 2048)
                return reject(d, "RSA key of %u bits; at least 2048 are required", ci->key_bits);
        if (ci->key_kind == KEY_EC && !in_list(allowed_curves, ELEMENTSOF(allowed_curves), ci->curve))
                return reject(d, "EC curve %s is not allowed (P-256, P-384, P-521)", ci->curve);
        if (!in_list(strong_digests, ELEMENTSOF(strong_digests), ci->digest))
                return reject(d, "CSR is signed with %s; SHA-224 or stronger is required",
                              ci->digest[0] ? ci->digest : "an unsupported signature algorithm");
        if (ci->requests_ca)
                return reject(d, "CSR asks for CA:TRUE; ctrcert issues only end-entity certificates");
        if (ci->unsupported_sans)
                return reject(d, "CSR asks for a %s subjectAltName, which ctrcert does not issue", ci->unsupported_sans[0]);
        if (!ci->cn && !ci->dns && !ci->ip && !ci->email)
                return reject(d, "CSR carries no names (no subject CN, DNS, IP or email)");
        STRV_FOREACH(n, ci->cn)
                if (strlen(*n) > MAX_CN_LENGTH)
                        return reject(d, "subject CN '%.40s…' is longer than %d characters (RFC 5280); leave it out, the SAN carries the name",
                                      *n, MAX_CN_LENGTH);
        return 0;
}

/* ---- strict: names declared for the id ---- */

static bool declared_any(const struct mf_cert *c, const char *name) {
        return strv_contains_case(c->dns, name) || ip_in_list(c->ip, name) || strv_contains_case(c->email, name);
}

static int undeclared(struct policy_decision *d, const struct mf_cert *c, const char *kind, const char *name) {
        _cleanup_free_ char *dns = strv_join(c->dns, ","), *ip = strv_join(c->ip, ","), *email = strv_join(c->email, ",");

        return reject(d, "%s '%s' is not declared for id '%s' (declared: dns [%s] ip [%s] email [%s])", kind, name,
                      c->id, dns ? dns : "", ip ? ip : "", email ? email : "");
}

static int check_strict_names(const struct mf_cert *c, const struct csr_info *ci, struct policy_decision *d) {
        STRV_FOREACH(n, ci->cn)
                if (!declared_any(c, *n))
                        return undeclared(d, c, "subject CN", *n);
        STRV_FOREACH(n, ci->dns)
                if (!strv_contains_case(c->dns, *n))
                        return undeclared(d, c, "DNS name", *n);
        STRV_FOREACH(n, ci->ip)
                if (!ip_in_list(c->ip, *n))
                        return undeclared(d, c, "IP address", *n);
        STRV_FOREACH(n, ci->email)
                if (!strv_contains_case(c->email, *n))
                        return undeclared(d, c, "email address", *n);
        return 0;
}

/* ---- open: names inside the permitted domains and ranges ---- */

static bool dns_permitted(const struct config *cfg, const char *name) {
        STRV_FOREACH(s, cfg->ca.permitted_dns)
                if (dns_name_within(name, *s))
                        return true;
        return false;
}

static bool ip_permitted(const struct config *cfg, const char *s) {
        struct ip_addr a;
        struct ip_cidr c;

        if (ip_addr_parse(s, &a) < 0)
                return false;
        STRV_FOREACH(i, cfg->ca.permitted_ip)
                if (ip_cidr_parse(*i, &c) >= 0 && ip_cidr_contains(&c, &a))
                        return true;
        return false;
}

static bool email_permitted(const struct config *cfg, const char *s) {
        const char *at = strchr(s, '@');
        return at && dns_permitted(cfg, at + 1);
}

static int outside(struct policy_decision *d, const char *kind, const char *name) {
        return reject(d, "%s '%s' is outside the permitted domains and ranges (ca.permitted_dns, ca.permitted_ip)",
                      kind, name);
}

static int check_open_names(const struct config *cfg, const struct csr_info *ci, struct policy_decision *d) {
        /* A CN is one of the three kinds, with the syntax of that kind's SAN. */
        STRV_FOREACH(n, ci->cn)
                if (!(dns_name_valid(*n) && dns_permitted(cfg, *n)) && !ip_permitted(cfg, *n) &&
                    !(email_valid(*n) && email_permitted(cfg, *n)))
                        return outside(d, "subject CN", *n);
        STRV_FOREACH(n, ci->dns)
                if (!dns_name_valid(*n) || !dns_permitted(cfg, *n))
                        return outside(d, "DNS name", *n);
        STRV_FOREACH(n, ci->ip)
                if (!ip_permitted(cfg, *n))
                        return outside(d, "IP address", *n);
        STRV_FOREACH(n, ci->email)
                if (!email_valid(*n) || !email_permitted(cfg, *n))
                        return outside(d, "email address", *n);
        return 0;
}

/* ---- the subjectAltName to issue ---- */

static int push_unique(char ***v, const char *s) {
        return strv_contains_case(*v, s) ? 0 : strv_push(v, s);
}

/*
 * The CSR's SANs, plus each CN in the SAN of its kind: clients match SANs, not
 * the CN. The subject is the allowed CNs alone: nothing else of the CSR's.
 */
static int build_san(const struct csr_info *ci, struct policy_decision *d) {
        struct ip_addr a;
        int r = 0;

        STRV_FOREACH(n, ci->cn) {
                if ((r = strv_push(&d->cn, *n)) < 0)
                        return r;
                if (ip_addr_parse(*n, &a) >= 0)
                        r = push_unique(&d->san_ip, *n);
                else if (strchr(*n, '@'))
                        r = push_unique(&d->san_email, *n);
                else if (dns_name_valid(*n))
                        r = push_unique(&d->san_dns, *n);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(n, ci->dns)
                if ((r = push_unique(&d->san_dns, *n)) < 0)
                        return r;
        STRV_FOREACH(n, ci->ip)
                if ((r = push_unique(&d->san_ip, *n)) < 0)
                        return r;
        STRV_FOREACH(n, ci->email)
                if ((r = push_unique(&d->san_email, *n)) < 0)
                        return r;
        return 0;
}

static int known_ids(const struct manifest *m, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < m->n_certs && len + 1 < size; i++)
                len += (size_t) snprintf(buf + len, size - len, "%s%s", i ? ", " : "", m->certs[i].id);
        return 0;
}

static int check_names(const struct config *cfg, const struct manifest *m, const char *profile,
                       const struct csr_info *ci, struct policy_decision *d) {
        const struct mf_cert *c = NULL;
        char ids[256];

        if (profile && profile[0]) {
                c = manifest_find(m, profile);
                if (!c) {
                        known_ids(m, ids, sizeof(ids));
                        return reject(d, "unknown certificate id '%s' (the manifest has: %s)", profile, ids);
                }
                d->id = c->id;
                d->usage = c->usage;
        }
        if (cfg->ca.policy == POLICY_OPEN) {
                if (!c)
                        d->usage = USAGE_SERVER | USAGE_CLIENT;
                return check_open_names(cfg, ci, d);
        }
        if (!c) {
                known_ids(m, ids, sizeof(ids));
                return reject(d, "no certificate id given: request with getcert request -T ID (the manifest has: %s)", ids);
        }
        return check_strict_names(c, ci, d);
}

int policy_check(const struct config *cfg, const struct manifest *m, const char *profile, const struct csr_info *ci,
                 struct policy_decision *ret) {
        struct policy_decision d = {};
        int r;

        r = check_form(ci, &d);
        if (r == 0)
                r = check_names(cfg, m, profile, ci, &d);
        if (r == 0)
                r = build_san(ci, &d);
        if (r != 0) {
                snprintf(ret->reason, sizeof(ret->reason), "%s", d.reason);
                policy_decision_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

void policy_decision_done(struct policy_decision *d) {
        strv_free(d->cn);
        d->cn = NULL;
        strv_free(d->san_dns);
        strv_free(d->san_ip);
        strv_free(d->san_email);
        d->san_dns = d->san_ip = d->san_email = NULL;
}

/* ---- upstream: what another CA would copy from the CSR ---- */

#define KU_ALLOWED                                                                                             \
        (1U << KU_BIT_DIGITAL_SIGNATURE | 1U << KU_BIT_NON_REPUDIATION | 1U << KU_BIT_KEY_ENCIPHERMENT |        \
         1U << KU_BIT_DATA_ENCIPHERMENT | 1U << KU_BIT_KEY_AGREEMENT)

static bool eku_allowed(const char *eku, unsigned usage) {
        return (streq(eku, "serverAuth") && (usage & USAGE_SERVER)) || (streq(eku, "clientAuth") && (usage & USAGE_CLIENT));
}

int policy_check_upstream(const struct csr_info *ci, const struct policy_decision *allowed, char *reason, size_t size) {
        struct policy_decision d = {};
        unsigned extra_ku = ci->key_usage & ~KU_ALLOWED;

        if (ci->subject_other)
                reject(&d, "CSR subject carries %s beyond the CN; an upstream CA would copy it (request with -N CN=NAME only)",
                       ci->subject_other[0]);
        else if (ci->other_extensions)
                reject(&d, "CSR requests extension %s, which ctrcert does not let an upstream CA copy",
                       ci->other_extensions[0]);
        else if (extra_ku)
                reject(&d, "CSR requests key usage %s; an end-entity certificate gets %s only", key_usage_names[__builtin_ctz(extra_ku)],
                       "digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement");
        else
                STRV_FOREACH(e, ci->eku)
                        if (!eku_allowed(*e, allowed->usage)) {
                                reject(&d, "CSR requests extended key usage %s, outside the usage of id '%s'", *e,
                                       allowed->id ? allowed->id : "-");
                                break;
                        }
        if (!d.reason[0])
                return 0;
        snprintf(reason, size, "%s", d.reason);
        return POLICY_REJECTED;
}
