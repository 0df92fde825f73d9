/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "evidence.h"
#include "kolla.h"
#include "strv.h"

struct evidence {
        sd_event *event;
        const struct config *cfg;
        struct runtime *rt;
        const struct mf_container *b;
        const struct mf_cert *c;
        char *name;
        char *want_fp, *want_serial;
        char *mounted;  /* where the container sees the host's certificate (no copy:) */
        char *kolla_to; /* where kolla's start script copies it, when it does */
        char **paths;   /* what to read, in order */
        size_t path_i;
        struct runtime_op *op;
        sd_event_source *start;
        evidence_done_t done;
        void *userdata;
};

static void evidence_free(struct evidence *e) {
        runtime_op_cancel(e->op);
        sd_event_source_disable_unref(e->start);
        sd_event_unref(e->event);
        free(e->name);
        free(e->want_fp);
        free(e->want_serial);
        free(e->mounted);
        free(e->kolla_to);
        strv_free(e->paths);
        free(e);
}

void evidence_cancel(struct evidence *e) {
        if (e)
                evidence_free(e);
}

static void evidence_end(struct evidence *e, int r, const char *fmt, ...) _printf_(3, 4);
static void evidence_end(struct evidence *e, int r, const char *fmt, ...) {
        evidence_done_t done = e->done;
        void *userdata = e->userdata;
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        e->op = NULL;
        evidence_free(e);
        done(r, msg, userdata);
}

static void read_next(struct evidence *e);

/* path in the container, read by cat (the container needs one). */
static void read_path(struct evidence *e, const char *path, runtime_done_t done) {
        int r = runtime_exec(e->rt, e->b->runtime, e->name, (char *const[]) { "cat", "--", (char *) path, NULL },
                             e->cfg->agent.step_timeout_usec, done, e, &e->op);

        if (r < 0)
                evidence_end(e, r, "cannot look into %s: %s", e->name, strerror(-r));
}

/* One path read back: its first certificate must be the saved one. */
static void on_read(int status, const char *output, void *userdata) {
        struct evidence *e = userdata;
        const char *path = e->paths[e->path_i];
        _cleanup_(cert_freep) struct cert *got = NULL;
        _cleanup_free_ char *fp = NULL, *serial = NULL;

        e->op = NULL;
        if (status != 0) {
                evidence_end(e, -ENOENT, "cannot read %s in the container: %s", path, output[0] ? output : "no output");
                return;
        }
        if (cert_parse_pem(output, strlen(output), &got) < 0 || cert_fingerprint_sha256(got, &fp) < 0 ||
            cert_serial_hex(got, &serial) < 0) {
                evidence_end(e, -EBADMSG, "%s in the container holds no certificate", path);
                return;
        }
        if (strcasecmp(fp, e->want_fp) != 0) {
                if (e->kolla_to && streq(path, e->kolla_to))
                        evidence_end(e, -ESTALE,
                                     "still reads the old certificate at %s (serial %s, not %s): kolla's start script "
                                     "copies it there from %s only when the container starts; give the binding "
                                     "copy: [{from: cert, to: %s}] or action: restart",
                                     path, serial, e->want_serial, e->mounted, path);
                else
                        evidence_end(e, -ESTALE, "still reads the old certificate at %s (serial %s, not %s)", path, serial,
                                     e->want_serial);
                return;
        }
        e->path_i++;
        read_next(e);
}

static void read_next(struct evidence *e) {
        _cleanup_free_ char *list = NULL;

        if (!e->paths[e->path_i]) {
                list = strv_join(e->paths, ", ");
                evidence_end(e, EVIDENCE_MATCH, "files in place: reads serial %s at %s (SHA-256 matches), not verified by TLS",
                             e->want_serial, list ? list : "?");
                return;
        }
        read_path(e, e->paths[e->path_i], on_read);
}

/* kolla's rules, when the container has them, move the path it reads from the mount to the copy. */
static void on_kolla(int status, const char *output, void *userdata) {
        struct evidence *e = userdata;
        struct kolla_rule *rules = NULL;
        size_t n = 0;
        int r;

        e->op = NULL;
        if (status == 0 && kolla_parse(output, strlen(output), &rules, &n) >= 0) {
                r = kolla_dest_for(rules, n, e->mounted, &e->kolla_to);
                kolla_rules_free(rules, n);
                if (r < 0) {
                        evidence_end(e, r, "out of memory");
                        return;
                }
        }
        if (strv_push(&e->paths, e->kolla_to ? e->kolla_to : e->mounted) < 0) {
                evidence_end(e, -ENOMEM, "out of memory");
                return;
        }
        read_next(e);
}

static void on_mounts(int status, const char *output, void *userdata) {
        struct evidence *e = userdata;

        e->op = NULL;
        if (status != 0) {
                evidence_end(e, -EIO, "cannot inspect %s: %s", e->name, output[0] ? output : "no output");
                return;
        }
        /* The certificate file, or else the bundle holding it (haproxy mounts only that). */
        e->mounted = mounts_container_path(output, e->c->cert);
        if (!e->mounted && e->c->bundle)
                e->mounted = mounts_container_path(output, e->c->bundle->path);
        if (!e->mounted) {
                evidence_end(e, EVIDENCE_NONE, "not verified: mounts nothing holding %s%s%s and its binding copies nothing in",
                             e->c->cert, e->c->bundle ? " or " : "", e->c->bundle ? e->c->bundle->path : "");
                return;
        }
        read_path(e, KOLLA_CONFIG_JSON, on_kolla);
}

/* The binding's copies that hold the certificate: those are what the container reads. */
static int copied_paths(const struct mf_container *b, char ***ret) {
        for (size_t k = 0; k < b->n_copies; k++)
                if ((b->copies[k].from == COPY_CERT || b->copies[k].from == COPY_BUNDLE) && strv_push(ret, b->copies[k].to) < 0)
                        return -ENOMEM;
        return 0;
}

static int expect(struct evidence *e) {
        _cleanup_(cert_freep) struct cert *cert = NULL;
        int r = cert_load_file(e->c->cert, &cert);

        if (r >= 0)
                r = cert_fingerprint_sha256(cert, &e->want_fp);
        if (r >= 0)
                r = cert_serial_hex(cert, &e->want_serial);
        return r;
}

static int on_start(sd_event_source *s, uint64_t usec, void *userdata) {
        struct evidence *e = userdata;
        int r;

        e->start = sd_event_source_disable_unref(e->start);
        if (e->b->runtime == RUNTIME_SYSTEMD) {
                evidence_end(e, EVIDENCE_NONE, "not verified: a systemd unit, no container to look into");
                return 0;
        }
        r = expect(e);
        if (r < 0) {
                evidence_end(e, r, "cannot read %s: %s", e->c->cert, strerror(-r));
                return 0;
        }
        r = copied_paths(e->b, &e->paths);
        if (r >= 0 && e->paths) {
                read_next(e);
                return 0;
        }
        if (r >= 0)
                r = runtime_mounts(e->rt, e->b->runtime, e->name, on_mounts, e, &e->op);
        if (r < 0)
                evidence_end(e, r, "cannot inspect %s: %s", e->name, strerror(-r));
        return 0;
}

int evidence_start(sd_event *event, const struct config *cfg, struct runtime *rt, const struct mf_container *b,
                   const struct mf_cert *c, const char *name, evidence_done_t done, void *userdata, struct evidence **ret) {
        struct evidence *e = calloc(1, sizeof(*e));
        int r;

        if (!e)
                return -ENOMEM;
        *e = (struct evidence) { .event = sd_event_ref(event), .cfg = cfg, .rt = rt, .b = b, .c = c, .done = done, .userdata = userdata };
        e->name = strdup(name);
        /* From the loop, so done never runs inside this call. */
        r = e->name ? sd_event_add_time_relative(event, &e->start, CLOCK_MONOTONIC, 0, 0, on_start, e) : -ENOMEM;
        if (r < 0) {
                evidence_free(e);
                return r;
        }
        *ret = e;
        return 0;
}
