/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>

#include "cadir.h"
#include "escape.h"
#include "fileio.h"
#include "helper.h"
#include "log.h"
#include "strv.h"

int helper_fail(struct helper_status *st, enum helper_failure f, int error, const char *fmt, ...) {
        char raw[sizeof(st->reason)];
        va_list ap;

        st->failure = f;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        /* certmonger keeps one line as ca-error, and the reason quotes CSRs and profiles: nothing raw. */
        escape_control_buf(raw, st->reason, sizeof(st->reason));
        return error < 0 ? error : -EINVAL;
}

static int first_diag(const struct diag_list *d, char *buf, size_t size) {
        _cleanup_free_ char *s = NULL;

        for (size_t i = 0; i < d->n; i++)
                if (d->items[i].severity == DIAG_ERROR && diag_format(&d->items[i], &s) >= 0) {
                        snprintf(buf, size, "%s%s", s, d->n_errors > 1 ? " (and more: run ctrcertctl manifest check)" : "");
                        return 0;
                }
        snprintf(buf, size, "unreadable");
        return 0;
}

/*
 * What the helper trusts is checked like sshd's StrictModes (path_check_trusted):
 * whoever else could change it would choose what the CA signs. 0 or -ENOENT
 * (a missing file is for the caller to report); other failures fill st.
 */
static int check_trusted(struct helper_status *st, const char *what, const char *path, mode_t type) {
        _cleanup_free_ char *why = NULL;
        int r = path_check_trusted(path, type, &why);

        if (r == -EPERM)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "%s %s is not safe to trust: %s", what, path, why);
        if (r < 0 && r != -ENOENT)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "%s %s cannot be checked: %s", what, path, strerror(-r));
        return r;
}

int helper_load_config(struct helper_ctx *ctx, struct helper_status *st) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        char first[768];
        int r;

        r = check_trusted(st, "config", ctx->config_path, S_IFREG);
        if (r < 0 && r != -ENOENT)
                return r;
        r = config_load(ctx->config_path, &ctx->config, &d);
        if (r == -ENOENT)
                return helper_fail(st, FAIL_UNCONFIGURED, r,
                                   "config %s does not exist: write it (see ctrcert.yaml(5)) or pass --config PATH",
                                   ctx->config_path);
        if (r < 0) {
                first_diag(&d, first, sizeof(first));
                return helper_fail(st, FAIL_UNCONFIGURED, r, "config: %s", first);
        }
        return 0;
}

/* The manifest, manifest.d/ and every fragment in it, as they will be read. */
static int check_manifest_files(struct helper_status *st, const char *path, char *const *files) {
        _cleanup_free_ char *bad = NULL, *why = NULL, *dir = manifest_fragment_dir(path);
        int r = manifest_files_trusted(path, files, &bad, &why);

        if (r == -EPERM)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "manifest%s %s is not safe to trust: %s",
                                   dir && streq(bad, dir) ? " directory" : "", bad, why);
        if (r < 0 && r != -ENOMEM)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "manifest %s cannot be checked: %s", bad ? bad : path,
                                   why ? why : strerror(-r));
        return r;
}

int helper_load_manifest(const struct helper_ctx *ctx, struct manifest **ret, struct helper_status *st) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        _cleanup_(strv_freep) char **files = NULL;
        char first[768];
        int r;

        r = manifest_files(ctx->config->manifest, &files, &d);
        if (r >= 0)
                r = check_manifest_files(st, ctx->config->manifest, files);
        if (r == -ENOMEM)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "manifest: out of memory");
        if (r < 0 && r != -E2BIG)
                return r;
        /* exactly the files checked; none: manifest_load() says so */
        if (r >= 0)
                r = files ? manifest_load_files_flags(files, MANIFEST_POLICY_ONLY, ret, &d)
                          : manifest_load(ctx->config->manifest, ret, &d);
        if (r == -ENOENT && ctx->config->ca.policy == POLICY_OPEN) {
                /* The open policy does not need a manifest: an empty one will do. */
                *ret = calloc(1, sizeof(struct manifest));
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0) {
                first_diag(&d, first, sizeof(first));
                return helper_fail(st, FAIL_UNCONFIGURED, r, "manifest: %s", first);
        }
        return 0;
}

/* The CA directory, private/ and the files SUBMIT uses; missing ones are cadir_load_ca()'s to report. */
static int check_ca_files(struct helper_status *st, const char *dir) {
        _cleanup_free_ char *path = NULL, *why = NULL;
        int r = cadir_check_trusted(dir, &path, &why);

        if (r == -EPERM)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA file %s is not safe to trust: %s", path, why);
        if (r < 0)
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA file %s cannot be checked: %s", path ? path : dir,
                                   strerror(-r));
        return 0;
}

/*
 * state_dir and its ca/, where the index and the CRL live. Missing ones are
 * made now, as the first issuance would, once every directory above them has
 * passed (the walk stops at the first missing one): never through a link
 * someone else planted.
 */
static int check_state(struct helper_status *st, const char *state_dir) {
        _cleanup_free_ char *ca = path_join(state_dir, "ca");
        int r;

        if (!ca)
                return -ENOMEM;
        r = check_trusted(st, "state directory", ca, S_IFDIR);
        if (r == -ENOENT) {
                r = mkdir_parents(ca, 0700);
                if (r < 0)
                        return helper_fail(st, FAIL_UNCONFIGURED, r, "state directory %s cannot be made: %s", ca,
                                           strerror(-r));
                r = check_trusted(st, "state directory", ca, S_IFDIR);
        }
        if (r >= 0)
                r = check_trusted(st, "state directory", state_dir, S_IFDIR);
        return r;
}

static int ca_load_error(struct helper_status *st, int r, const char *failed, const char *dir) {
        switch (r) {
        case -ENOENT:
                return helper_fail(st, FAIL_UNCONFIGURED, r,
                                   "CA file %s does not exist; create the CA once with: ctrcertctl ca init %s", failed,
                                   dir);
        case -EPERM:
                return helper_fail(st, FAIL_UNCONFIGURED, r,
                                   "CA key %s is readable by group or others; refusing it (chmod 0600 %s, and consider the key exposed)",
                                   failed, failed);
        case -EKEYREJECTED:
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA key %s does not belong to %s/%s", failed, dir,
                                   ca_files[CA_CERT].name);
        case -EBADMSG:
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA file %s is not valid PEM; check it with: ctrcertctl ca show %s",
                                   failed, dir);
        default:
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA file %s cannot be read: %s", failed ? failed : dir,
                                   read_error_str(r));
        }
}

/* The CA SUBMIT signs with, and the state its issuances go to: both checked before use. */
int helper_load_ca(const struct helper_ctx *ctx, struct ca **ret, struct helper_status *st) {
        _cleanup_(ca_freep) struct ca *ca = NULL;
        _cleanup_free_ char *failed = NULL;
        const char *dir = ctx->config->ca.dir;
        int r;

        r = check_ca_files(st, dir);
        if (r < 0)
                return r;
        r = cadir_load_ca(dir, &ca, &failed);
        if (r < 0)
                return ca_load_error(st, r, failed, dir);
        /* only now: without a CA, nothing is made in state_dir */
        r = check_state(st, ctx->config->state_dir);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ca);
        return 0;
}
