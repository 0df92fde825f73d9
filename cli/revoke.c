/* SPDX-License-Identifier: MIT */
/*
 * ctrcertctl revoke SERIAL…|--id ID [--reason R] and ctrcertctl crl [--out PATH]:
 * revocations go to state_dir/ca/revoked (under the issuance index's lock),
 * and every revoke writes the CRL anew, signed by the issuing CA, to
 * state_dir/ca/crl.pem (the file ca.crl_url should publish). During a CA
 * rollover the previous CA's CRL follows in the same file: a verifier picks
 * the one whose issuer signed the certificate it checks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cadir.h"
#include "cli.h"
#include "crypto.h"
#include "fileio.h"
#include "index.h"
#include "log.h"
#include "strmap.h"
#include "strv.h"

/* RFC 5280's CRLReason names, by code (7 is not used). */
static const char *const reasons[] = {
        "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
        "cessationOfOperation", "certificateHold", NULL, "removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

static int parse_reason(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                if (reasons[i] && strcasecmp(s, reasons[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

/* Serials compare as numbers: case and leading zeros do not matter. */
static bool serial_eq(const char *a, const char *b) {
        while (*a == '0')
                a++;
        while (*b == '0')
                b++;
        return strcasecmp(a, b) == 0;
}

struct selection {
        char *const *serials; /* wanted by serial… */
        const char *id;       /* …or every unexpired one of this id */
        time_t now;
        char **found;         /* serials of the index that match */
        char **revoked;       /* already revoked */
};

static int pick(const struct index_record *rec, void *userdata) {
        struct selection *s = userdata;
        bool hit = s->id ? streq(rec->id, s->id) && rec->not_after > s->now : false;

        STRV_FOREACH(want, s->serials)
                hit = hit || serial_eq(*want, rec->serial);
        if (!hit || strv_contains(s->found, rec->serial))
                return 0;
        printf("%s  %s  %s\n", rec->serial, rec->id, rec->subject);
        return strv_push(&s->found, rec->serial);
}

static int note_revoked(const struct revocation *rev, void *userdata) {
        return strv_push(&((struct selection *) userdata)->revoked, rev->serial);
}

/* ---- the CRL ---- */

struct entries {
        struct crl_entry *v;
        const char **issuer; /* by entry: the issuing CA's SHA-256 from the index, "" when it has none */
        size_t n;
        char **keep;         /* the strings both point into */
        struct strmap *by_serial;
};

static void entries_done(struct entries *e) {
        free(e->v);
        free(e->issuer);
        strv_free(e->keep);
        strmap_free(e->by_serial);
}

static int keep(struct entries *e, const char *s, const char **ret) {
        int r = strv_push(&e->keep, s);

        if (r >= 0)
                *ret = e->keep[strv_length(e->keep) - 1];
        return r;
}

static int collect(const struct revocation *rev, void *userdata) {
        struct entries *e = userdata;
        struct crl_entry *p = realloc(e->v, (e->n + 1) * sizeof(*p));
        const char **q = p ? realloc(e->issuer, (e->n + 1) * sizeof(*q)) : NULL;
        const char *serial;

        if (p)
                e->v = p;
        if (!p || !q || keep(e, rev->serial, &serial) < 0)
                return -ENOMEM;
        e->issuer = q;
        e->issuer[e->n] = "";
        e->v[e->n++] = (struct crl_entry) { serial, rev->when, rev->reason };
        return strmap_put(e->by_serial, serial, (void *) (uintptr_t) e->n, NULL) < 0 ? -ENOMEM : 0;
}

/* Which CA signed each revoked certificate, from the index. */
static int note_issuer(const struct index_record *rec, void *userdata) {
        struct entries *e = userdata;
        uintptr_t i = (uintptr_t) strmap_get(e->by_serial, rec->serial);

        return i && rec->issuer[0] ? keep(e, rec->issuer, &e->issuer[i - 1]) : 0;
}

/* The next cRLNumber, kept in state_dir/ca/crlnumber. */
static int next_crl_number(const char *state_dir, uint64_t *ret) {
        _cleanup_free_ char *path = path_join(state_dir, "ca/crlnumber"), *text = NULL;
        char buf[32];
        uint64_t n = 0;

        if (!path)
                return -ENOMEM;
        if (read_file_full(path, 64, &text, NULL) >= 0)
                n = strtoull(text, NULL, 10);
        n++;
        snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long) n);
        *ret = n;
        return write_file_atomic(path, buf, strlen(buf), 0600);
}

/* Appends to *pem the CRL of the CA in ca_dir: the revoked certificates it signed (or that the index cannot attribute). */
static int crl_for(const struct config *cfg, const char *ca_dir, const struct entries *e, uint64_t number, char **pem,
                   size_t *ret_n) {
        _cleanup_(ca_freep) struct ca *ca = NULL;
        _cleanup_free_ char *failed = NULL, *fp = NULL, *one = NULL, *joined = NULL;
        _cleanup_free_ struct crl_entry *mine = calloc(e->n + 1, sizeof(*mine));
        size_t n = 0;
        int r;

        if (!mine)
                return -ENOMEM;
        r = cadir_load_ca(ca_dir, &ca, &failed);
        if (r < 0)
                return log_error_errno(r, "cannot load the issuing CA (%s): %m", failed ? failed : ca_dir);
        r = cert_fingerprint_sha256(ca_cert(ca), &fp);
        if (r < 0)
                return r;
        for (size_t i = 0; i < e->n; i++)
                if (!e->issuer[i][0] || streq(e->issuer[i], fp))
                        mine[n++] = e->v[i];
        r = crl_make(ca, mine, n, time(NULL), cfg->ca.crl_days, number, &one);
        if (r < 0)
                return log_error_errno(r, "cannot make the CRL of %s: %m", ca_dir);
        if (asprintf(&joined, "%s%s", *pem ? *pem : "", one) < 0)
                return -ENOMEM;
        free(*pem);
        *pem = TAKE_PTR(joined);
        *ret_n = n;
        return 0;
}

/* The issuing CA's CRL and, during a CA rollover, the previous one's after it, in one PEM file. */
static int write_crl(const struct config *cfg, const char *out) {
        char num[24], count[24];
        _cleanup_free_ char *pem = NULL, *path = path_join(cfg->state_dir, "ca/crl.pem"),
                            *prev = cadir_previous(cfg->ca.dir);
        _cleanup_(entries_done) struct entries e = {};
        uint64_t number = 0;
        size_t n = 0, n_prev = 0;
        int r;

        if (!path || !prev || strmap_new(64, &e.by_serial) < 0)
                return -ENOMEM;
        r = index_read_revoked(cfg->state_dir, collect, cli_index_bad_line, &e);
        if (r >= 0)
                r = index_read(cfg->state_dir, note_issuer, cli_index_bad_line, &e);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "cannot read %s/ca: %m", cfg->state_dir);
        r = next_crl_number(cfg->state_dir, &number);
        if (r < 0)
                return log_error_errno(r, "cannot update %s/ca/crlnumber: %m", cfg->state_dir);
        r = crl_for(cfg, cfg->ca.dir, &e, number, &pem, &n);
        if (r >= 0 && cadir_has_previous(cfg->ca.dir))
                r = crl_for(cfg, prev, &e, number, &pem, &n_prev);
        if (r < 0)
                return r;
        r = write_file_atomic(out ? out : path, pem, strlen(pem), 0644);
        if (r < 0)
                return log_error_errno(r, "cannot write the CRL %s: %m", out ? out : path);
        printf("CRL %llu with %zu revoked certificate%s, valid %u days: %s\n", (unsigned long long) number, n,
               n == 1 ? "" : "s", cfg->ca.crl_days, out ? out : path);
        snprintf(num, sizeof(num), "%llu", (unsigned long long) number);
        snprintf(count, sizeof(count), "%zu", n);
        cli_event("crl", "wrote a CRL", "CTRCERT_CRL_NUMBER", num, "CTRCERT_REVOKED", count, "CTRCERT_PATH",
                  out ? out : path, NULL);
        if (cadir_has_previous(cfg->ca.dir))
                printf("with the previous CA's CRL (%zu revoked) after it: the CA is being rolled over\n", n_prev);
        return 0;
}

/* ---- the commands ---- */

static int revoke_selected(const struct config *cfg, struct selection *s, int reason) {
        int r = index_read(cfg->state_dir, pick, cli_index_bad_line, s);

        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "cannot read %s/ca/index: %m", cfg->state_dir);
        STRV_FOREACH(want, s->serials) {
                bool known = false;

                STRV_FOREACH(f, s->found)
                        known = known || serial_eq(*want, *f);
                if (!known)
                        return log_error_errno(-ENOENT, "%s: no certificate with this serial in %s/ca/index", *want,
                                               cfg->state_dir);
        }
        if (s->id && !s->found)
                return log_error_errno(-ENOENT, "%s: no unexpired certificate of this id in %s/ca/index", s->id,
                                       cfg->state_dir);
        r = index_read_revoked(cfg->state_dir, note_revoked, cli_index_bad_line, s);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "cannot read %s/ca/revoked: %m", cfg->state_dir);
        STRV_FOREACH(f, s->found) {
                if (strv_contains(s->revoked, *f))
                        continue; /* revoking twice changes nothing */
                r = index_revoke(cfg->state_dir, &(struct revocation) { .serial = *f, .when = time(NULL), .reason = reason }, cfg->ca.lock_timeout_usec);
                if (r < 0)
                        return log_error_errno(r, "cannot record the revocation of %s: %m", *f);
                cli_event("revoked", "revoked a certificate", "CTRCERT_SERIAL", *f, "CTRCERT_REASON",
                          reasons[reason], NULL);
        }
        return write_crl(cfg, NULL);
}

enum { REVOKE_ID, REVOKE_REASON };
static const struct cli_option revoke_options[] = {
        [REVOKE_ID] = { "id", 'i', "ID", "every unexpired certificate of this manifest id", NULL },
        [REVOKE_REASON] = { "reason", 'r', "R", "an RFC 5280 reason: keyCompromise, superseded… (default unspecified)",
                            "unspecified keyCompromise cACompromise affiliationChanged superseded cessationOfOperation "
                            "certificateHold removeFromCRL privilegeWithdrawn aACompromise" },
        {},
};

static int run_revoke(const struct cli_ctx *ctx, const struct cli_args *a) {
        _cleanup_(config_freep) struct config *cfg = NULL;
        struct selection s = { .serials = a->argv, .id = cli_arg(a, REVOKE_ID), .now = time(NULL) };
        const char *reason_arg = cli_arg(a, REVOKE_REASON);
        int reason = reason_arg ? parse_reason(reason_arg) : 0, r;

        if (reason < 0) {
                log_error("--reason '%s': expected an RFC 5280 reason such as keyCompromise or superseded", reason_arg);
                return CLI_MISUSE;
        }
        if (!s.id == !a->argc) {
                log_error("revoke: serials or --id, one of them");
                return CLI_MISUSE;
        }
        r = cli_load_config(ctx, &cfg);
        if (r < 0)
                return r;
        r = revoke_selected(cfg, &s, reason);
        strv_free(s.found);
        strv_free(s.revoked);
        return r;
}

const struct cli_command cli_revoke = {
        .name = "revoke",
        .usage = "SERIAL…|--id ID [--reason R]",
        .summary = "revoke issued certificates and write the CRL anew",
        .options = revoke_options,
        .max_args = CLI_ARGS_ANY,
        .run = run_revoke,
};

enum { CRL_OUT };
static const struct cli_option crl_options[] = {
        [CRL_OUT] = { "out", 'o', "PATH", "write it there instead", "@file" },
        {},
};

static int run_crl(const struct cli_ctx *ctx, const struct cli_args *a) {
        _cleanup_(config_freep) struct config *cfg = NULL;
        int r = cli_load_config(ctx, &cfg);

        return r < 0 ? r : write_crl(cfg, cli_arg(a, CRL_OUT));
}

const struct cli_command cli_crl = {
        .name = "crl",
        .usage = "[--out PATH]",
        .summary = "write the CRL (state_dir/ca/crl.pem) signed by the issuing CA",
        .options = crl_options,
        .run = run_crl,
};
