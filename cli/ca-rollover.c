/* SPDX-License-Identifier: MIT */
/*
 * ctrcertctl ca rollover [DIR] and ca rollover --finish [DIR]: the next CA
 * generation while the current one stays trusted, and the end of the overlap
 * once nothing valid depends on the old one any more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "cli.h"
#include "crypto.h"
#include "index.h"
#include "log.h"
#include "strv.h"

int ca_rollover_begin(const char *dir, bool root) {
        bool has_root_key = cadir_has_root_key(dir);
        int r;

        if (root && !has_root_key)
                return log_error_errno(-ENOKEY, "%s has no %s: a node's CA is rolled over where the root is, "
                                       "with ctrcertctl ca issue-node --rollover --root DIR --out %s …",
                                       dir, ca_files[CA_ROOT_KEY].name, dir);
        if (!root && has_root_key)
                return log_error_errno(-EINVAL, "%s holds a root key: roll it over with ctrcertctl ca rollover %s", dir, dir);
        if (cadir_has_previous(dir)) {
                r = cadir_swap_complete(dir);
                if (r > 0)
                        log_info("completed the rollover of %s that was interrupted; nothing else was changed", dir);
                else if (r == 0)
                        log_error("a rollover of %s is in progress (%s/previous exists): end it first with "
                                  "ctrcertctl ca rollover --finish %s",
                                  dir, dir, dir);
                return r > 0 ? 1 : -EBUSY;
        }
        return 0;
}

/* The current generation's number, from the " G<n>" its root's CN ends with (the first has none). */
static unsigned current_generation(const char *dir) {
        _cleanup_free_ char *path = cadir_path(dir, CA_ROOT), *nick = NULL;
        _cleanup_(cert_freep) struct cert *root = NULL;
        const char *g;

        if (!path || cert_load_file(path, &root) < 0 || cert_nickname(root, &nick) < 0)
                return 1;
        g = strrchr(nick, ' ');
        return g && g[1] == 'G' && g[2] >= '1' && g[2] <= '9' ? (unsigned) strtoul(g + 2, NULL, 10) : 1;
}

int ca_rollover(const char *dir, int key_type, const char *subject) {
        char g[16];
        _cleanup_(ca_material_done) struct ca_material m = {};
        unsigned gen;
        int r;

        r = ca_rollover_begin(dir, true);
        if (r != 0)
                return r > 0 ? 0 : r; /* > 0: an interrupted one completed */
        gen = current_generation(dir) + 1;
        r = ca_make(key_type, subject ? subject : "O=ctrcert", gen, &m);
        if (r == -EINVAL)
                return CLI_MISUSE; /* the subject, said by ca_make */
        if (r >= 0)
                r = cadir_swap_in(dir, &m);
        if (r < 0)
                return r;
        snprintf(g, sizeof(g), "%u", gen);
        cli_event("ca-rollover", "made the next CA generation", "CTRCERT_CA_DIR", dir, "CTRCERT_GENERATION", g, NULL);
        printf("rolled %s over to generation %u (ctrcert Root CA G%u); the previous generation stays trusted in "
               "%s/previous.\nNext: getcert refresh-ca -c CA (both roots reach certmonger), getcert resubmit each "
               "request, then ctrcertctl ca rollover --finish %s\n",
               dir, gen, gen, dir, dir);
        return 0;
}

/* ---- --finish ---- */

struct outstanding {
        const char *issuer; /* SHA-256 of the previous issuing CA */
        time_t now;
        char **revoked;
        size_t n;
};

static int note_revoked(const struct revocation *rev, void *userdata) {
        return strv_push(&((struct outstanding *) userdata)->revoked, rev->serial);
}

/* A valid certificate the previous CA signed (records older than the issuer field may be its too). */
static int count_outstanding(const struct index_record *rec, void *userdata) {
        struct outstanding *o = userdata;

        if ((streq(rec->issuer, o->issuer) || !rec->issuer[0]) && rec->not_after > o->now &&
            !strv_contains(o->revoked, rec->serial)) {
                if (o->n++ < 20)
                        printf("still valid: serial %s  id %s  %s\n", rec->serial, rec->id, rec->subject);
        }
        return 0;
}

static int outstanding(const struct config *cfg, const char *dir, size_t *ret) {
        _cleanup_free_ char *prev_dir = cadir_previous(dir), *path = NULL, *fp = NULL;
        _cleanup_(cert_freep) struct cert *prev = NULL;
        struct outstanding o = { .now = time(NULL) };
        int r;

        if (!prev_dir || !(path = cadir_path(prev_dir, CA_CERT)))
                return -ENOMEM;
        r = cert_load_file(path, &prev);
        if (r >= 0)
                r = cert_fingerprint_sha256(prev, &fp);
        if (r < 0)
                return log_error_errno(r, "%s: %m", path);
        o.issuer = fp;
        r = index_read_revoked(cfg->state_dir, note_revoked, cli_index_bad_line, &o);
        if (r >= 0 || r == -ENOENT)
                r = index_read(cfg->state_dir, count_outstanding, cli_index_bad_line, &o);
        strv_free(o.revoked);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "cannot read %s/ca/index: %m", cfg->state_dir);
        *ret = o.n;
        return 0;
}

int ca_rollover_finish(const struct cli_ctx *ctx, const char *dir, bool force) {
        _cleanup_(config_freep) struct config *cfg = NULL;
        size_t n = 0;
        int r;

        if (!cadir_has_previous(dir)) {
                log_error("no rollover of %s is in progress (no %s/previous)", dir, dir);
                return -ENOENT;
        }
        r = cadir_swap_complete(dir);
        if (r >= 0)
                r = cli_load_config(ctx, &cfg);
        if (r >= 0)
                r = outstanding(cfg, dir, &n);
        if (r < 0)
                return r;
        if (n > 0 && !force) {
                log_error("%zu certificate%s signed by the previous CA %s still valid: renew them (getcert resubmit) "
                          "or revoke them (ctrcertctl revoke), then run this again; --force retires the previous CA anyway",
                          n, n == 1 ? "" : "s", n == 1 ? "is" : "are");
                return -EBUSY;
        }
        r = cadir_drop_previous(dir);
        if (r < 0)
                return r;
        printf("retired the previous CA generation of %s%s\n", dir, n > 0 ? " (forced: certificates it signed remain valid)" : "");
        cli_event("ca-rollover-finish", "retired the previous CA generation", "CTRCERT_CA_DIR", dir, "CTRCERT_FORCE",
                  n > 0 ? "1" : "0", NULL);
        return 0;
}
