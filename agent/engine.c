/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "log.h"
#include "preflight.h"
#include "runtime.h"
#include "spawn.h"
#include "strv.h"

#define PREFLIGHT_RETRY_USEC (200 * 1000ULL)

enum ctr_state { CTR_IDLE, CTR_WAITING, CTR_QUEUED, CTR_RUNNING };
static const char *const state_names[] = { "idle", "waiting", "queued", "running" };

/* One (certificate, binding) waiting for its container's next job; holds its manifest snapshot. */
struct pending {
        struct bindings *snap;
        const struct mf_cert *cert;
        const struct mf_container *binding;
};

struct job;

/* A container (or a match: pattern, or a systemd unit) as the engine tracks it. */
struct ctr {
        struct engine *engine;
        char *key;   /* runtime/name or runtime/~regex: one job at a time per key */
        char *label; /* name or ~regex */
        struct pending *pending;
        size_t n_pending;
        enum ctr_state state;
        sd_event_source *timer;
        uint64_t window_start; /* CLOCK_MONOTONIC of the first event of the current window */
        struct job *job;
        char *last_result, *last_message;
        uint64_t last_usec; /* CLOCK_REALTIME */
        struct ctr *next, *queue_next;
        struct ctr *wait_next; /* in engine.waiting */
};

struct job {
        struct ctr *ctr;
        struct pending *pending;
        size_t n_pending;
        const struct mf_container **plan; /* the bindings whose actions run, in order */
        size_t n_plan;
        char **targets; /* container names the plan runs on */
        size_t target_i, plan_i;
        uint64_t deadline; /* pre-flight re-checks until then (the key may lag the cert) */
        sd_event_source *retry;
        struct spawn *spawn;
        char **ids;
        char *action;
};

struct engine {
        sd_event *event;
        const struct config *cfg;
        struct bindings *current;
        DBusConnection *conn;
        struct ctr *ctrs;
        struct ctr *queue_head, *queue_tail;
        struct ctr *waiting; /* containers inside their debounce window */
        unsigned running;
        engine_finished_t on_finished;
        void *userdata;
};

static uint64_t now_usec(sd_event *e) {
        uint64_t t = 0;

        sd_event_now(e, CLOCK_MONOTONIC, &t);
        return t;
}

static void pending_clear(struct pending *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                bindings_unref(p[i].snap);
        free(p);
}

/* ---- containers ---- */

static int ctr_key(const struct mf_container *b, char **ret_key, char **ret_label) {
        const char *rt = runtime_names[b->runtime];

        if (b->name) {
                if (asprintf(ret_key, "%s/%s", rt, b->name) < 0)
                        return -ENOMEM;
                *ret_label = strdup(b->name);
        } else {
                if (asprintf(ret_key, "%s/~%s", rt, b->match) < 0)
                        return -ENOMEM;
                if (asprintf(ret_label, "~%s", b->match) < 0)
                        *ret_label = NULL;
        }
        if (!*ret_label) {
                free(*ret_key);
                return -ENOMEM;
        }
        return 0;
}

static struct ctr *ctr_get(struct engine *e, const struct mf_container *b) {
        _cleanup_free_ char *key = NULL, *label = NULL;
        struct ctr *c;

        if (ctr_key(b, &key, &label) < 0)
                return NULL;
        for (c = e->ctrs; c; c = c->next)
                if (streq(c->key, key))
                        return c;
        c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->engine = e;
        c->key = TAKE_PTR(key);
        c->label = TAKE_PTR(label);
        c->next = e->ctrs;
        e->ctrs = c;
        return c;
}

static int ctr_add_pending(struct ctr *c, struct bindings *snap, const struct mf_cert *cert,
                           const struct mf_container *b) {
        struct pending *p;

        for (size_t i = 0; i < c->n_pending; i++)
                if (c->pending[i].cert == cert && c->pending[i].binding == b)
                        return 0;
        p = realloc(c->pending, (c->n_pending + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        c->pending = p;
        p[c->n_pending++] = (struct pending) { bindings_ref(snap), cert, b };
        return 0;
}

static void engine_kick(struct engine *e);

static void waiting_remove(struct engine *e, struct ctr *c) {
        for (struct ctr **p = &e->waiting; *p; p = &(*p)->wait_next)
                if (*p == c) {
                        *p = c->wait_next;
                        c->wait_next = NULL;
                        return;
                }
}

static int on_debounced(sd_event_source *s, uint64_t usec, void *userdata) {
        struct ctr *c = userdata;
        struct engine *e = c->engine;

        c->timer = sd_event_source_disable_unref(c->timer);
        waiting_remove(e, c);
        c->state = CTR_QUEUED;
        if (e->queue_tail)
                e->queue_tail->queue_next = c;
        else
                e->queue_head = c;
        e->queue_tail = c;
        engine_kick(e);
        return 0;
}

static uint64_t window_due(const struct engine *e, const struct ctr *c, uint64_t now) {
        uint64_t due = now + e->cfg->agent.debounce_usec, last = c->window_start + e->cfg->agent.debounce_max_usec;

        return due < last ? due : last;
}

/*
 * The debounce window is host-wide: certmonger saves a mass renewal one
 * request after another, many seconds apart (30 certificates took 21-31 s
 * with certmonger 0.79, bench/RESULTS.md), so a container's certificates
 * arrive far apart. Every waiting container waits until no certificate at
 * all has been saved for agent.debounce, but never longer than
 * agent.debounce_max after its own first event: one action per container
 * per burst, and no container held back forever by a steady stream.
 */
static int engine_extend_windows(struct engine *e) {
        uint64_t now = now_usec(e->event);
        int r = 0;

        for (struct ctr *c = e->waiting; c && r >= 0; c = c->wait_next)
                r = sd_event_source_set_time(c->timer, window_due(e, c, now));
        return r;
}

/* An idle container opens its window; a queued or running one gathers work for its next job. */
static int ctr_arm(struct ctr *c) {
        struct engine *e = c->engine;
        uint64_t now = now_usec(e->event);
        int r;

        if (c->state != CTR_IDLE)
                return 0;
        c->state = CTR_WAITING;
        c->window_start = now;
        r = sd_event_add_time(e->event, &c->timer, CLOCK_MONOTONIC, window_due(e, c, now), 1000, on_debounced, c);
        if (r < 0)
                return r;
        c->wait_next = e->waiting;
        e->waiting = c;
        return 0;
}

/* ---- jobs ---- */

static void job_free(struct job *j) {
        if (!j)
                return;
        spawn_cancel(j->spawn);
        sd_event_source_disable_unref(j->retry);
        pending_clear(j->pending, j->n_pending);
        free(j->plan);
        strv_free(j->targets);
        strv_free(j->ids);
        free(j->action);
        free(j);
}

static void set_last(struct ctr *c, const char *result, const char *message) {
        struct timespec ts;

        free(c->last_result);
        free(c->last_message);
        c->last_result = strdup(result);
        c->last_message = strdup(message);
        clock_gettime(CLOCK_REALTIME, &ts);
        c->last_usec = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static void job_finish(struct job *j, bool ok, const char *message) {
        struct ctr *c = j->ctr;
        struct engine *e = c->engine;
        struct job_report report = {
                .container = c->label, .cert_ids = j->ids, .action = j->action ? j->action : "none",
                .result = ok ? "ok" : "failed", .message = message,
        };

        set_last(c, report.result, message);
        e->on_finished(&report, e->userdata);
        c->job = NULL;
        job_free(j);
        e->running--;
        c->state = CTR_IDLE;
        /* Saved again while the job ran: a new window, a new job. */
        if (c->n_pending > 0 && ctr_arm(c) < 0)
                log_error("%s: cannot schedule the next job", c->label);
        engine_kick(e);
}

static void job_fail(struct job *j, const char *fmt, ...) _printf_(2, 3);
static void job_fail(struct job *j, const char *fmt, ...) {
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        job_finish(j, false, msg);
}

static void job_step(struct job *j);

static void on_action_done(int status, const char *output, void *userdata) {
        struct job *j = userdata;

        j->spawn = NULL;
        if (status != 0) {
                job_fail(j, "%s on %s failed (%s): %s", j->action, j->targets[j->target_i],
                         status == -ETIME ? "timed out" : status < 0 ? "killed" : "exit status", output[0] ? output : "no output");
                return;
        }
        j->plan_i++;
        job_step(j);
}

static void on_systemd_done(int r, const char *message, void *userdata) {
        on_action_done(r < 0 ? 1 : 0, message, userdata);
}

/* Runs plan[plan_i] on targets[target_i]; moves on when it finishes. */
static void job_run_action(struct job *j) {
        struct engine *e = j->ctr->engine;
        const struct mf_container *b = j->plan[j->plan_i];
        _cleanup_(strv_freep) char **argv = NULL;
        int r;

        if (b->runtime == RUNTIME_SYSTEMD) {
                r = runtime_systemd_call(e->conn, b, j->targets[j->target_i], on_systemd_done, j);
                if (r < 0)
                        job_fail(j, "cannot call systemd for %s: %s", j->targets[j->target_i], strerror(-r));
                return;
        }
        r = runtime_action_argv(e->cfg, b, j->targets[j->target_i], &argv);
        if (r >= 0 && !argv) {
                j->plan_i++;
                job_step(j);
                return;
        }
        if (r >= 0)
                r = spawn_start(e->event, argv, e->cfg->agent.step_timeout_usec, on_action_done, j, &j->spawn);
        if (r < 0)
                job_fail(j, "cannot run %s for %s: %s", argv && argv[0] ? argv[0] : "the runtime", j->targets[j->target_i],
                         strerror(-r));
}

static void job_step(struct job *j) {
        _cleanup_free_ char *done = NULL;

        if (j->plan_i == j->n_plan) {
                j->plan_i = 0;
                j->target_i++;
        }
        if (j->target_i < strv_length(j->targets)) {
                job_run_action(j);
                return;
        }
        done = strv_join(j->targets, ", ");
        job_finish(j, true, done && done[0] ? done : "no running container matched");
}

/* match: patterns select among the running containers of their runtime. */
static void on_listed(int status, const char *output, void *userdata) {
        struct job *j = userdata;
        const struct mf_container *b = j->plan[0];
        _cleanup_free_ char *copy = strdup(output);
        regex_t re;
        char *save = NULL;

        j->spawn = NULL;
        if (status != 0) {
                job_fail(j, "cannot list running containers: %s", output[0] ? output : "no output");
                return;
        }
        if (!copy || regcomp(&re, b->match, REG_EXTENDED | REG_NOSUB) != 0) {
                job_fail(j, "cannot match containers against '%s'", b->match);
                return;
        }
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (regexec(&re, line, 0, NULL, 0) == 0 && strv_push(&j->targets, line) < 0)
                        break;
        regfree(&re);
        job_step(j);
}

static void job_resolve_targets(struct job *j) {
        struct engine *e = j->ctr->engine;
        const struct mf_container *b = j->plan[0];
        _cleanup_(strv_freep) char **argv = NULL;
        int r;

        if (b->name) {
                if (strv_push(&j->targets, b->name) < 0)
                        job_fail(j, "out of memory");
                else
                        job_step(j);
                return;
        }
        r = runtime_list_argv(e->cfg, b->runtime, &argv);
        if (r >= 0)
                r = spawn_start(e->event, argv, e->cfg->agent.step_timeout_usec, on_listed, j, &j->spawn);
        if (r < 0)
                job_fail(j, "cannot list running containers: %s", strerror(-r));
}

static int on_preflight_retry(sd_event_source *s, uint64_t usec, void *userdata);

/* Every certificate of the job must be fit before anything is restarted onto it. */
static void job_preflight(struct job *j) {
        struct engine *e = j->ctr->engine;
        char reason[768];

        for (size_t i = 0; i < j->n_pending; i++) {
                int r = preflight_check(j->pending[i].cert, e->cfg->agent.ca_bundle, time(NULL), reason, sizeof(reason));

                if (r >= 0)
                        continue;
                if (now_usec(e->event) < j->deadline &&
                    sd_event_add_time_relative(e->event, &j->retry, CLOCK_MONOTONIC, PREFLIGHT_RETRY_USEC, 1000,
                                               on_preflight_retry, j) >= 0) {
                        log_debug("%s: pre-flight not passed yet (%s); checking again", j->ctr->label, reason);
                        return;
                }
                job_fail(j, "pre-flight failed, %s left alone: %s", j->ctr->label, reason);
                return;
        }
        job_resolve_targets(j);
}

static int on_preflight_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        struct job *j = userdata;

        j->retry = sd_event_source_disable_unref(j->retry);
        job_preflight(j);
        return 0;
}

/* One restart covers every other action; otherwise each distinct binding's action runs once. */
static int job_make_plan(struct job *j) {
        j->plan = calloc(j->n_pending, sizeof(*j->plan));
        if (!j->plan)
                return -ENOMEM;
        for (size_t i = 0; i < j->n_pending; i++) {
                const struct mf_container *b = j->pending[i].binding;
                bool seen = false;

                if (b->action == ACTION_RESTART) {
                        j->plan[0] = b;
                        j->n_plan = 1;
                        return 0;
                }
                for (size_t k = 0; k < j->n_plan; k++)
                        seen = seen || j->plan[k] == b;
                if (!seen)
                        j->plan[j->n_plan++] = b;
        }
        return 0;
}

static int job_describe(struct job *j) {
        int r = 0;

        for (size_t i = 0; i < j->n_pending && r >= 0; i++)
                if (!strv_contains(j->ids, j->pending[i].cert->id))
                        r = strv_push(&j->ids, j->pending[i].cert->id);
        for (size_t k = 0; k < j->n_plan && r >= 0; k++) {
                _cleanup_free_ char *d = NULL, *joined = NULL;

                r = runtime_action_describe(j->plan[k], &d);
                if (r < 0)
                        break;
                if (asprintf(&joined, "%s%s%s", j->action ? j->action : "", j->action ? "+" : "", d) < 0)
                        return -ENOMEM;
                free(j->action);
                j->action = TAKE_PTR(joined);
        }
        return r;
}

static void job_start(struct ctr *c) {
        struct engine *e = c->engine;
        struct job *j = calloc(1, sizeof(*j));

        if (!j) {
                log_error("%s: out of memory starting a job", c->label);
                return;
        }
        j->ctr = c;
        j->pending = TAKE_PTR(c->pending);
        j->n_pending = c->n_pending;
        c->n_pending = 0;
        c->state = CTR_RUNNING;
        c->job = j;
        e->running++;
        j->deadline = now_usec(e->event) + e->cfg->agent.debounce_usec;
        if (job_make_plan(j) < 0 || job_describe(j) < 0) {
                job_fail(j, "out of memory");
                return;
        }
        log_info("%s: job for %zu certificate(s): %s", c->label, strv_length(j->ids), j->action);
        job_preflight(j);
}

static void engine_kick(struct engine *e) {
        while (e->queue_head && e->running < e->cfg->agent.max_parallel) {
                struct ctr *c = e->queue_head;

                e->queue_head = c->queue_next;
                if (!e->queue_head)
                        e->queue_tail = NULL;
                c->queue_next = NULL;
                job_start(c);
        }
}

/* ---- the interface ---- */

int engine_notify(struct engine *e, const char *cert_path, unsigned *ret_scheduled) {
        const struct mf_cert *cert = bindings_lookup(e->current, cert_path);
        unsigned n = 0;

        if (!cert) {
                log_debug("%s is not in the manifest: ignored", cert_path);
                *ret_scheduled = 0;
                return 0;
        }
        if (engine_extend_windows(e) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < cert->n_containers; i++) {
                const struct mf_container *b = &cert->containers[i];
                struct ctr *c = ctr_get(e, b);
                int r;

                if (!c || ctr_add_pending(c, e->current, cert, b) < 0)
                        return -ENOMEM;
                r = ctr_arm(c);
                if (r < 0)
                        return r;
                n++;
        }
        log_info("%s (%s) saved: %u container binding(s) scheduled", cert_path, cert->id, n);
        *ret_scheduled = n;
        return 0;
}

static int emit_binding(const struct mf_cert *cert, const struct mf_container *b, engine_binding_t cb,
                        void *userdata) {
        _cleanup_free_ char *action = NULL, *key = NULL, *label = NULL;
        int r;

        r = runtime_action_describe(b, &action);
        if (r >= 0)
                r = ctr_key(b, &key, &label);
        if (r < 0)
                return r;
        return cb(cert->cert, cert->id, label, runtime_names[b->runtime], action, userdata);
}

int engine_plan(struct engine *e, const char *cert_path, engine_binding_t cb, void *userdata) {
        const struct mf_cert *cert = bindings_lookup(e->current, cert_path);
        int r = 0;

        if (!cert)
                return -ENOENT;
        for (size_t i = 0; i < cert->n_containers && r >= 0; i++)
                r = emit_binding(cert, &cert->containers[i], cb, userdata);
        return r;
}

int engine_list_bindings(struct engine *e, engine_binding_t cb, void *userdata) {
        const struct manifest *m = bindings_manifest(e->current);
        int r = 0;

        for (size_t i = 0; i < m->n_certs && r >= 0; i++)
                for (size_t k = 0; k < m->certs[i].n_containers && r >= 0; k++)
                        r = emit_binding(&m->certs[i], &m->certs[i].containers[k], cb, userdata);
        return r;
}

int engine_list_status(struct engine *e, engine_status_t cb, void *userdata) {
        int r = 0;

        for (struct ctr *c = e->ctrs; c && r >= 0; c = c->next)
                r = cb(c->label, state_names[c->state], c->last_result ? c->last_result : "",
                       c->last_message ? c->last_message : "", c->last_usec, userdata);
        return r;
}

void engine_set_bus(struct engine *e, DBusConnection *conn) {
        e->conn = conn;
}

void engine_replace_bindings(struct engine *e, struct bindings *b) {
        bindings_unref(e->current);
        e->current = b;
}

const struct bindings *engine_bindings(const struct engine *e) {
        return e->current;
}

int engine_new(sd_event *event, const struct config *cfg, struct bindings *b, engine_finished_t on_finished,
               void *userdata, struct engine **ret) {
        struct engine *e = calloc(1, sizeof(*e));

        if (!e)
                return -ENOMEM;
        e->event = sd_event_ref(event);
        e->cfg = cfg;
        e->current = b;
        e->on_finished = on_finished;
        e->userdata = userdata;
        *ret = e;
        return 0;
}

void engine_free(struct engine *e) {
        if (!e)
                return;
        while (e->ctrs) {
                struct ctr *c = e->ctrs;

                e->ctrs = c->next;
                job_free(c->job);
                sd_event_source_disable_unref(c->timer);
                pending_clear(c->pending, c->n_pending);
                free(c->key);
                free(c->label);
                free(c->last_result);
                free(c->last_message);
                free(c);
        }
        bindings_unref(e->current);
        sd_event_unref(e->event);
        free(e);
}
