/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "helper.h"
#include "index.h"
#include "log.h"
#include "names.h"
#include "strv.h"
#include "policy.h"

/* After ca.lock_timeout without the index lock, certmonger polls again this much later. */
#define BUSY_RETRY_SECONDS 30

int helper_read_csr(struct csr **ret, struct helper_status *st) {
        const char *pem = getenv("CERTMONGER_CSR");
        int r;

        if (!pem || !pem[0])
                return helper_fail(st, FAIL_REJECTED, -EINVAL, "no CSR: CERTMONGER_CSR is not set");
        r = csr_parse(pem, strlen(pem), ret);
        if (r < 0)
                return helper_fail(st, FAIL_REJECTED, r, "CERTMONGER_CSR is not a valid PKCS#10 certificate request");
        return 0;
}

int helper_check_policy(const struct helper_ctx *ctx, const struct manifest *m, const struct csr *csr,
                        const char *profile, struct policy_decision *ret, struct helper_status *st) {
        struct csr_info info;
        int r;

        r = csr_get_info(csr, &info);
        if (r < 0)
                return helper_fail(st, FAIL_REJECTED, r, "CSR is malformed (its names or extensions cannot be read)");
        r = policy_check(ctx->config, m, profile, &info, ret);
        /* Another CA signs the CSR as it is: nothing in it may go beyond what the policy issues. */
        if (r == 0 && ctx->upstream)
                r = policy_check_upstream(&info, ret, ret->reason, sizeof(ret->reason));
        csr_info_done(&info);
        if (r == POLICY_REJECTED)
                return helper_fail(st, FAIL_REJECTED, -EPERM, "%s", ret->reason);
        return r;
}

static bool in_any(enum name_kind kind, const char *name, char *const *subtrees) {
        STRV_FOREACH(t, subtrees)
                if (name_in_subtree(kind, name, *t))
                        return true;
        return false;
}

struct subtrees {
        enum name_kind kind;
        const char *label;
        char *const *permitted, *const *excluded;
};

/* Inside a permitted subtree of its kind (when there are any) and inside no excluded one. */
static bool within(const struct subtrees *t, const char *name) {
        return (!t->permitted || in_any(t->kind, name, t->permitted)) && !in_any(t->kind, name, t->excluded);
}

/* The subtrees as a list for a message; the empty subtree that covers a whole kind reads "all". */
static char *subtrees_join(char *const *v) {
        _cleanup_(strv_freep) char **shown = NULL;

        STRV_FOREACH(t, v)
                if (strv_push(&shown, (*t)[0] ? *t : "all") < 0)
                        return NULL;
        return strv_join(shown, ", ");
}

static int outside_constraints(struct helper_status *st, const char *what, const char *name, const struct subtrees *t) {
        bool excluded = in_any(t->kind, name, t->excluded);
        _cleanup_free_ char *list = subtrees_join(excluded ? t->excluded : t->permitted);

        return helper_fail(st, FAIL_REJECTED, -EPERM, "%s%s is outside the issuing CA's name constraints (%s %s: %s)", what,
                           name, excluded ? "excluded" : "permitted", t->label, list ? list : "?");
}

/* Like OpenSSL's verifier (cn2dnsid): a CN of host-name characters with a dot is read as a DNS name. */
static bool cn_reads_as_host(const char *cn) {
        return strchr(cn, '.') && cn[0] != '*' && dns_name_valid(cn);
}

/*
 * A node CA may sign only inside its nameConstraints, permitted and excluded.
 * Every verifier would reject a certificate outside them; refusing here gives
 * certmonger the reason instead of a certificate nothing accepts. The subject
 * needs no check: cert_issue() puts it under the CA's directoryName.
 */
static int check_constraints(const struct ca *ca, const struct policy_decision *d, struct helper_status *st) {
        _cleanup_(name_constraints_done) struct name_constraints nc = {};
        int r = ca_get_name_constraints(ca, &nc);

        if (r < 0)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "cannot read the issuing CA's name constraints");
        const struct subtrees kinds[] = {
                { NAME_DNS, "DNS name", nc.dns, nc.excluded_dns },
                { NAME_IP, "IP address", nc.ip, nc.excluded_ip },
                { NAME_EMAIL, "email address", nc.email, nc.excluded_email },
        };
        char *const *names[] = { d->san_dns, d->san_ip, d->san_email };

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                STRV_FOREACH(n, names[k])
                        if (!within(&kinds[k], *n))
                                return outside_constraints(st, "", *n, &kinds[k]);
        STRV_FOREACH(cn, d->san_dns ? NULL : d->cn)
                if (cn_reads_as_host(*cn) && !within(&kinds[0], *cn))
                        return outside_constraints(st, "subject CN (read as a DNS name by OpenSSL) ", *cn, &kinds[0]);
        return 0;
}

static int issue(const struct helper_ctx *ctx, const struct ca *ca, const struct csr *csr,
                 const struct policy_decision *d, struct cert **ret, struct helper_status *st) {
        struct issue_params p = {
                .cn = d->cn,
                .dns = d->san_dns, .ip = d->san_ip, .email = d->san_email,
                .usage = d->usage,
                .validity_days = ctx->config->ca.validity_days,
                .jitter_percent = ctx->config->ca.validity_jitter,
                .id = d->id,
                .now = time(NULL),
                .crl_url = ctx->config->ca.crl_url,
        };
        int r;

        r = cert_issue(ca, csr, &p, ret);
        if (r == -EKEYEXPIRED)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "the issuing CA in %s is not valid now (expired?); see ctrcertctl ca show %s",
                                   ctx->config->ca.dir, ctx->config->ca.dir);
        if (r < 0)
                return helper_fail(st, FAIL_UNREACHABLE, r, "signing failed: %s", strerror(-r));
        return 0;
}

/* The issuer is recorded so that revocations and `ca rollover --finish` know which CA generation signed it. */
static int record(const struct helper_ctx *ctx, const struct ca *ca, const struct cert *c, const char *id,
                  struct index_record *rec, char **serial, char **subject, char **sha256, char **issuer,
                  struct helper_status *st) {
        int r;

        if ((r = cert_serial_hex(c, serial)) < 0 || (r = cert_subject(c, subject)) < 0 ||
            (r = cert_fingerprint_sha256(c, sha256)) < 0 || (r = cert_fingerprint_sha256(ca_cert(ca), issuer)) < 0 ||
            (r = cert_validity(c, NULL, &rec->not_after)) < 0)
                return helper_fail(st, FAIL_UNREACHABLE, r, "cannot describe the issued certificate: %s", strerror(-r));
        rec->issued = time(NULL);
        rec->serial = *serial;
        rec->id = id;
        rec->subject = *subject;
        rec->sha256 = *sha256;
        rec->issuer = *issuer;

        r = index_append(ctx->config->state_dir, rec, ctx->config->ca.lock_timeout_usec);
        if (r == -EWOULDBLOCK) {
                st->retry_seconds = BUSY_RETRY_SECONDS;
                return helper_fail(st, FAIL_BUSY, r, "the issuance index in %s is locked by another issuer",
                                   ctx->config->state_dir);
        }
        if (r < 0)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "cannot record the issuance in %s/ca/index: %s",
                                   ctx->config->state_dir, strerror(-r));
        return 0;
}

/* The leaf, then chain.pem: certmonger keeps what follows the leaf as the request's cert-chain. */
static int print_certificates(const struct cert *leaf, const struct ca *ca) {
        _cleanup_free_ char *pem = NULL;
        int r;

        r = cert_to_pem(leaf, &pem);
        if (r < 0)
                return r;
        fputs(pem, stdout);
        fputs(ca_chain_pem(ca), stdout);
        return fflush(stdout) == 0 ? 0 : -EIO;
}

int op_submit(struct helper_ctx *ctx, struct helper_status *st) {
        _cleanup_(manifest_freep) struct manifest *m = NULL;
        _cleanup_(ca_freep) struct ca *ca = NULL;
        _cleanup_(csr_freep) struct csr *csr = NULL;
        _cleanup_(cert_freep) struct cert *leaf = NULL;
        _cleanup_free_ char *serial = NULL, *subject = NULL, *sha256 = NULL, *issuer = NULL;
        struct policy_decision d = {};
        struct index_record rec = {};
        const char *profile = getenv("CERTMONGER_CA_PROFILE");
        int r;

        /* 1. What we sign with and by which rules: any failure here is the operator's to fix. */
        r = helper_load_config(ctx, st);
        if (r >= 0)
                r = helper_load_ca(ctx, &ca, st);
        if (r >= 0)
                r = helper_load_manifest(ctx, &m, st);
        /* 2. The request and whether the policy allows it. */
        if (r >= 0)
                r = helper_read_csr(&csr, st);
        if (r >= 0)
                r = helper_check_policy(ctx, m, csr, profile, &d, st);
        if (r >= 0)
                r = check_constraints(ca, &d, st);
        /* 3. Sign, and record before anyone sees the certificate. */
        if (r >= 0)
                r = issue(ctx, ca, csr, &d, &leaf, st);
        if (r >= 0)
                r = record(ctx, ca, leaf, d.id, &rec, &serial, &subject, &sha256, &issuer, st);
        policy_decision_done(&d);
        if (r < 0)
                return r;
        audit_issued(&rec, profile);
        r = print_certificates(leaf, ca);
        if (r < 0)
                return helper_fail(st, FAIL_UNREACHABLE, r, "cannot write the certificate: %s", strerror(-r));
        return 0;
}
