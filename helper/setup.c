/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "helper.h"
#include "log.h"

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

int helper_load_config(struct helper_ctx *ctx, struct helper_status *st) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        char first[768];
        int r;

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

int helper_load_manifest(const struct helper_ctx *ctx, struct manifest **ret, struct helper_status *st) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        char first[768];
        int r;

        r = manifest_load(ctx->config->manifest, ret, &d);
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

int helper_load_ca(const struct helper_ctx *ctx, struct ca **ret, struct helper_status *st) {
        _cleanup_free_ char *failed = NULL;
        const char *dir = ctx->config->ca.dir;
        int r;

        r = ca_load(dir, ret, &failed);
        switch (r) {
        case 0:
                return 0;
        case -ENOENT:
                return helper_fail(st, FAIL_UNCONFIGURED, r,
                                   "CA file %s does not exist; create the CA once with: ctrcertctl ca init %s", failed,
                                   dir);
        case -EPERM:
                return helper_fail(st, FAIL_UNCONFIGURED, r,
                                   "CA key %s is readable by group or others; refusing it (chmod 0600 %s, and consider the key exposed)",
                                   failed, failed);
        case -EKEYREJECTED:
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA key %s does not belong to %s/ca.crt", failed, dir);
        case -EBADMSG:
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA file %s is not valid PEM; check it with: ctrcertctl ca show %s",
                                   failed, dir);
        default:
                return helper_fail(st, FAIL_UNCONFIGURED, r, "CA file %s cannot be read: %s", failed ? failed : dir,
                                   strerror(-r));
        }
}
