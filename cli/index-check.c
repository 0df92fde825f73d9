/* SPDX-License-Identifier: MIT */
/*
 * ctrcertctl index check: the issuance index (state_dir/ca/index) and the
 * revocations (state_dir/ca/revoked) against the CA. Every line must be a
 * record, every serial unique, every issuer a CA generation of ca.dir, and a
 * record's dates consistent with its issuer. Damage is reported by file and
 * line; the readers of the other commands skip such lines with a warning.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cadir.h"
#include "cli.h"
#include "crypto.h"
#include "fileio.h"
#include "index.h"
#include "log.h"
#include "strmap.h"

void cli_index_bad_line(const char *path, unsigned line, const char *why, void *userdata) {
        (void) userdata;
        log_warning("%s:%u: %s; line skipped (see ctrcertctl index check)", path, line, why);
}

/* A CA generation a record may name as its issuer. */
struct issuer {
        char *sha256;
        time_t not_after;
};

struct check {
        const char *index_path, *revoked_path;
        struct issuer issuers[2]; /* the current CA, the previous one during a rollover */
        size_t n_issuers;
        time_t now;
        struct strmap *serials;   /* normalised serial → line number in the index */
        char **keep;              /* the normalised serials the map points into */
        size_t n_keep, cap_keep;
        size_t n_records, n_revoked, n_damage;
};

static void check_done(struct check *c) {
        for (size_t i = 0; i < c->n_issuers; i++)
                free(c->issuers[i].sha256);
        strmap_free(c->serials);
        for (size_t i = 0; i < c->n_keep; i++)
                free(c->keep[i]);
        free(c->keep);
}

static _printf_(4, 5) void damage(struct check *c, const char *path, unsigned line, const char *fmt, ...) {
        va_list ap;

        printf("%s:%u: ", path, line);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        c->n_damage++;
}

static void bad_line(const char *path, unsigned line, const char *why, void *userdata) {
        damage(userdata, path, line, "%s", why);
}

/* Serials compare as numbers: upper case, no leading zeros. */
static char *serial_normalise(const char *s) {
        char *n;

        while (*s == '0' && s[1])
                s++;
        n = strdup(s);
        for (char *p = n; p && *p; p++)
                if (*p >= 'a' && *p <= 'f')
                        *p = (char) (*p - 'a' + 'A');
        return n;
}

/* The map's keys live as long as it does: owned here (a strv would cost O(n) per push). */
static int keep(struct check *c, char *s) {
        if (!s)
                return -ENOMEM;
        if (c->n_keep == c->cap_keep) {
                size_t cap = c->cap_keep ? c->cap_keep * 2 : 1024;
                char **p = realloc(c->keep, cap * sizeof(*p));

                if (!p) {
                        free(s);
                        return -ENOMEM;
                }
                c->keep = p;
                c->cap_keep = cap;
        }
        c->keep[c->n_keep++] = s;
        return 0;
}

static const struct issuer *issuer_find(const struct check *c, const char *sha256) {
        for (size_t i = 0; i < c->n_issuers; i++)
                if (streq(c->issuers[i].sha256, sha256))
                        return &c->issuers[i];
        return NULL;
}

/* Tolerated clock skew between the issuing host and this one. */
#define SKEW (24 * 3600)

static int check_record(const struct index_record *rec, void *userdata) {
        struct check *c = userdata;
        char *serial = serial_normalise(rec->serial);
        const struct issuer *is = rec->issuer[0] ? issuer_find(c, rec->issuer) : NULL;
        void *first = NULL;
        int r;

        c->n_records++;
        r = keep(c, serial);
        if (r < 0)
                return r;
        r = strmap_put(c->serials, serial, (void *) (uintptr_t) rec->line, &first);
        if (r < 0)
                return -ENOMEM;
        if (r > 0)
                damage(c, c->index_path, rec->line, "serial %s was recorded before, at line %u", rec->serial,
                       (unsigned) (uintptr_t) first);
        if (rec->not_after < rec->issued)
                damage(c, c->index_path, rec->line, "serial %s expires before it was issued", rec->serial);
        if (rec->issued > c->now + SKEW)
                damage(c, c->index_path, rec->line, "serial %s was issued in the future", rec->serial);
        if (rec->issuer[0] && !is && rec->not_after > c->now)
                damage(c, c->index_path, rec->line,
                       "serial %s (still valid) names an issuer that is not a CA generation of this CA", rec->serial);
        if (is && rec->not_after > is->not_after + SKEW)
                damage(c, c->index_path, rec->line, "serial %s outlives its issuing CA", rec->serial);
        return 0;
}

static int check_revocation(const struct revocation *rev, void *userdata) {
        struct check *c = userdata;
        _cleanup_free_ char *serial = serial_normalise(rev->serial);

        if (!serial)
                return -ENOMEM;
        c->n_revoked++;
        if (!strmap_get(c->serials, serial))
                damage(c, c->revoked_path, rev->line, "revoked serial %s has no record in %s", rev->serial,
                       c->index_path);
        if (rev->when > c->now + SKEW)
                damage(c, c->revoked_path, rev->line, "serial %s was revoked in the future", rev->serial);
        return 0;
}

/* The CA generation in dir as a possible issuer. */
static int issuer_add(struct check *c, const char *dir) {
        _cleanup_free_ char *path = cadir_path(dir, CA_CERT);
        _cleanup_(cert_freep) struct cert *cert = NULL;
        struct issuer *is = &c->issuers[c->n_issuers];
        int r;

        if (!path)
                return -ENOMEM;
        r = cert_load_file(path, &cert);
        if (r >= 0)
                r = cert_fingerprint_sha256(cert, &is->sha256);
        if (r >= 0)
                r = cert_validity(cert, NULL, &is->not_after);
        if (r < 0)
                return log_error_errno(r, "cannot read the CA certificate %s: %m", path);
        c->n_issuers++;
        return 0;
}

/* 0, CLI_FINDINGS when there is damage (each problem printed), <0 when it cannot check (logged). */
static int index_check(const struct config *cfg) {
        _cleanup_free_ char *index = path_join(cfg->state_dir, "ca/index"),
                            *revoked = path_join(cfg->state_dir, "ca/revoked"), *prev = cadir_previous(cfg->ca.dir);
        _cleanup_(check_done) struct check c = { .now = time(NULL) };
        int r;

        if (!index || !revoked || !prev || strmap_new(1024, &c.serials) < 0)
                return log_error_errno(-ENOMEM, "out of memory");
        c.index_path = index;
        c.revoked_path = revoked;
        r = issuer_add(&c, cfg->ca.dir);
        if (r >= 0 && cadir_has_previous(cfg->ca.dir))
                r = issuer_add(&c, prev);
        if (r < 0)
                return r;
        r = index_read(cfg->state_dir, check_record, bad_line, &c);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "cannot read %s: %m", index);
        r = index_read_revoked(cfg->state_dir, check_revocation, bad_line, &c);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "cannot read %s: %m", revoked);
        printf("%zu record%s, %zu revocation%s: %s", c.n_records, c.n_records == 1 ? "" : "s", c.n_revoked,
               c.n_revoked == 1 ? "" : "s", c.n_damage ? "" : "no damage\n");
        if (c.n_damage)
                printf("%zu problem%s\n", c.n_damage, c.n_damage == 1 ? "" : "s");
        return c.n_damage ? CLI_FINDINGS : 0; /* each problem printed with its line */
}

static int run_check(const struct cli_ctx *ctx, const struct cli_args *a) {
        _cleanup_(config_freep) struct config *cfg = NULL;
        int r;

        (void) a;
        r = cli_load_config(ctx, &cfg);
        return r < 0 ? r : index_check(cfg);
}

const struct cli_command cli_index_check = {
        .name = "index check",
        .usage = "",
        .summary = "the issuance index against the CA: damaged lines, duplicate serials, unknown issuers",
        .run = run_check,
};
