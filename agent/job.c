/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evidence.h"
#include "job.h"
#include "log.h"
#include "material.h"
#include "preflight.h"
#include "runtime-cli.h"
#include "strv.h"
#include "tar.h"
#include "tlsprobe.h"

#define PREFLIGHT_RETRY_USEC (200 * 1000ULL)
#define VERIFY_EXEC_INTERVAL_USEC (1000 * 1000ULL)
#define EVIDENCE_SETTLE_USEC (30 * 1000 * 1000ULL) /* a restarted container's start script, copying */

const char *const job_result_names[] = { "ok", "failed", "held" };

/* For each target container, in this order. */
enum phase { PHASE_COPY, PHASE_ACTION, PHASE_VERIFY };

struct job {
        struct job_env env;
        char *label;
        struct job_item *items;
        size_t n_items;
        const struct mf_container **plan; /* the bindings whose actions run, in order */
        size_t n_plan;
        char **targets; /* container names the plan runs on */
        size_t target_i, idx;
        enum phase phase;
        unsigned attempt; /* 1-based */
        uint64_t preflight_deadline, verify_deadline;
        sd_event_source *timer;
        struct runtime_op *op;
        struct tlsprobe *probe;
        struct evidence *evidence;
        char **proofs; /* what each verify or evidence step proved, for the ok message */
        char **ids;
        char *action;
        char step[64];
        unsigned verify_failures;
        const struct job_hooks *hooks;
        void *userdata;
};

static uint64_t now_usec(sd_event *e) {
        uint64_t t = 0;

        sd_event_now(e, CLOCK_MONOTONIC, &t);
        return t;
}

void job_items_free(struct job_item *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                bindings_unref(v[i].snap);
        free(v);
}

/* Stops whatever runs now (a process, a probe, a timer). */
static void job_stop_step(struct job *j) {
        runtime_op_cancel(j->op);
        j->op = NULL;
        tlsprobe_cancel(j->probe);
        j->probe = NULL;
        evidence_cancel(j->evidence);
        j->evidence = NULL;
        j->timer = sd_event_source_disable_unref(j->timer);
}

void job_free(struct job *j) {
        if (!j)
                return;
        job_stop_step(j);
        job_items_free(j->items, j->n_items);
        free(j->plan);
        strv_free(j->targets);
        strv_free(j->proofs);
        strv_free(j->ids);
        free(j->action);
        free(j->label);
        free(j);
}

static void job_end(struct job *j, enum job_result result, const char *message) {
        job_stop_step(j);
        j->hooks->finished(j, result, message, j->userdata);
}

static void set_step(struct job *j, const char *fmt, ...) _printf_(2, 3);
static void set_step(struct job *j, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(j->step, sizeof(j->step), fmt, ap);
        va_end(ap);
}

/* ---- failing and retrying ---- */

static void job_attempt(struct job *j);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        struct job *j = userdata;

        j->timer = sd_event_source_disable_unref(j->timer);
        j->attempt++;
        job_attempt(j);
        return 0;
}

/* initial × 2^(attempt-1), capped at max, then a random half of it dropped: retries of many jobs spread out. */
static uint64_t backoff_usec(const struct config *cfg, unsigned attempt) {
        uint64_t d = cfg->agent.retry_initial_usec;

        for (unsigned i = 1; i < attempt && d < cfg->agent.retry_max_usec; i++)
                d *= 2;
        if (d > cfg->agent.retry_max_usec)
                d = cfg->agent.retry_max_usec;
        return d / 2 + (d / 2 > 0 ? (uint64_t) arc4random_uniform((uint32_t) (d / 2 > UINT32_MAX ? UINT32_MAX : d / 2)) : 0);
}

/* A step failed: the job tries again later, or, after the last try, fails with the step's error. */
static void step_failed(struct job *j, const char *fmt, ...) _printf_(2, 3);
static void step_failed(struct job *j, const char *fmt, ...) {
        char msg[1024];
        uint64_t delay;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        job_stop_step(j);
        if (j->attempt >= j->env.cfg->agent.retry_attempts) {
                char final[1200];

                snprintf(final, sizeof(final), "%s (after %u attempt%s)", msg, j->attempt, j->attempt == 1 ? "" : "s");
                job_end(j, JOB_FAILED, final);
                return;
        }
        delay = backoff_usec(j->env.cfg, j->attempt);
        log_warning("%s: attempt %u of %u failed: %s; next in %.1f s", j->label, j->attempt,
                    j->env.cfg->agent.retry_attempts, msg, (double) delay / 1e6);
        set_step(j, "retry %u/%u", j->attempt + 1, j->env.cfg->agent.retry_attempts);
        if (sd_event_add_time_relative(j->env.event, &j->timer, CLOCK_MONOTONIC, delay, 1000, on_retry, j) < 0)
                job_end(j, JOB_FAILED, msg);
}

/* ---- the steps, per target container ---- */

static void job_next(struct job *j);

static void step_done(struct job *j) {
        job_stop_step(j);
        j->idx++;
        job_next(j);
}

static const char *target(const struct job *j) {
        return j->targets[j->target_i];
}

/* How a runtime step ended, for its message: " (exit status 2)", " (timed out)"…; "" when the output says it all. */
static const char *status_text(int status, char *buf, size_t len) {
        if (status == -ETIME)
                return " (timed out)";
        if (status == -EINTR)
                return " (killed)";
        if (status > 0)
                snprintf(buf, len, " (exit status %d)", status);
        else if (status == -ENOENT)
                snprintf(buf, len, " (not found)");
        else
                buf[0] = '\0'; /* podman's or systemd's own words follow */
        return buf;
}

static void on_step_done(int status, const char *output, void *userdata) {
        struct job *j = userdata;
        char how[64];

        j->op = NULL;
        if (status == 0) {
                step_done(j);
                return;
        }
        step_failed(j, "%s on %s failed%s: %s", j->step, target(j), status_text(status, how, sizeof(how)),
                    output[0] ? output : "no output");
}

/* Every copy of one binding in one tar stream. */
static int copy_archive(struct job *j, const struct job_item *it, struct tar *t, char *err, size_t errlen) {
        const struct mf_container *b = it->binding;
        int r = 0;

        for (size_t k = 0; k < b->n_copies && r >= 0; k++) {
                const struct mf_copy *c = &b->copies[k];
                _cleanup_free_ char *data = NULL;
                struct owner o = { (uid_t) -1, (gid_t) -1, "", "" };
                size_t len = 0;

                r = material_read(it->cert, c->from, j->env.cfg->agent.ca_bundle, &data, &len, err, errlen);
                if (r >= 0 && c->owner)
                        r = owner_parse(c->owner, false, &o);
                if (r >= 0)
                        r = tar_add_file(t, c->to, data, len, c->has_mode ? c->mode : material_default_mode(it->cert, c->from),
                                         o.uid, o.gid, o.user, o.group);
                if (r < 0 && !err[0])
                        snprintf(err, errlen, "cannot pack %s: %s", c->to, strerror(-r));
        }
        return r < 0 ? r : tar_finish(t);
}

static void run_copy(struct job *j, const struct job_item *it) {
        struct tar t = {};
        char err[768] = "";
        int r;

        set_step(j, "copy");
        r = copy_archive(j, it, &t, err, sizeof(err));
        if (r >= 0)
                r = runtime_copy(j->env.rt, it->binding->runtime, target(j), &t, on_step_done, j, &j->op);
        tar_done(&t);
        if (r < 0)
                step_failed(j, "copy into %s: %s", target(j), err[0] ? err : strerror(-r));
}

static void run_action(struct job *j, const struct mf_container *b) {
        _cleanup_free_ char *what = NULL;
        int r;

        if (runtime_action_describe(b, &what) >= 0)
                set_step(j, "%s", what);
        if (b->action == ACTION_RESTART) {
                if (!j->hooks->may_restart(j->userdata)) {
                        job_end(j, JOB_HELD, "restart budget spent: held until `ctrcertctl release`");
                        return;
                }
                j->hooks->restarted(j->userdata);
        }
        r = runtime_act(j->env.rt, b, target(j), on_step_done, j, &j->op);
        if (r < 0)
                step_failed(j, "%s on %s: %s", j->step, target(j), strerror(-r));
        else if (!j->op)
                step_done(j); /* action none */
}

/* ---- verification ---- */

static void verify_failed(struct job *j, const char *message) {
        j->verify_failures++;
        step_failed(j, "verify %s: %s", target(j), message);
}

/* The action ran and the container still holds the old certificate: running it again proves nothing new. */
static void verify_stale(struct job *j, const char *message) {
        char msg[1200];

        j->verify_failures++;
        snprintf(msg, sizeof(msg), "verify %s: %s (action %s ran); not retried: repeating it would not change that",
                 target(j), message, j->action);
        job_end(j, JOB_FAILED, msg);
}

static void proven(struct job *j, const char *what) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s: %s", target(j), what) < 0 || strv_push(&j->proofs, p) < 0) {
                job_end(j, JOB_FAILED, "out of memory");
                return;
        }
        step_done(j);
}

static void on_probed(int r, const char *message, void *userdata) {
        struct job *j = userdata;

        j->probe = NULL;
        if (r == -ESTALE)
                verify_stale(j, message);
        else if (r < 0)
                verify_failed(j, message);
        else
                proven(j, message);
}

static void run_evidence(struct job *j, const struct job_item *it);

static int on_evidence_again(sd_event_source *s, uint64_t usec, void *userdata) {
        struct job *j = userdata;

        j->timer = sd_event_source_disable_unref(j->timer);
        run_evidence(j, &j->items[j->idx]);
        return 0;
}

/* No verify: what the agent can see for itself (evidence.h). */
static void on_evidence(int r, const char *message, void *userdata) {
        struct job *j = userdata;
        const struct mf_container *b = j->items[j->idx].binding;

        j->evidence = NULL;
        /* A restarted container's start script (kolla's copy) may not have run yet: look again for a while. */
        if ((r == -ESTALE || r == -ENOENT) && b->action == ACTION_RESTART &&
            now_usec(j->env.event) + VERIFY_EXEC_INTERVAL_USEC < j->verify_deadline &&
            sd_event_add_time_relative(j->env.event, &j->timer, CLOCK_MONOTONIC, VERIFY_EXEC_INTERVAL_USEC, 1000,
                                       on_evidence_again, j) >= 0)
                return;
        /* Without a copy the job never writes what the container reads: a retry cannot change it. */
        if (r == -ESTALE && b->n_copies == 0)
                verify_stale(j, message);
        else if (r < 0)
                verify_failed(j, message);
        else
                proven(j, message);
}

static void run_evidence(struct job *j, const struct job_item *it) {
        int r;

        set_step(j, "evidence");
        r = evidence_start(j->env.event, j->env.cfg, j->env.rt, it->binding, it->cert, target(j), on_evidence, j,
                           &j->evidence);
        if (r < 0)
                verify_failed(j, strerror(-r));
}

static void run_verify(struct job *j, const struct job_item *it);

static int on_verify_again(sd_event_source *s, uint64_t usec, void *userdata) {
        struct job *j = userdata;

        j->timer = sd_event_source_disable_unref(j->timer);
        run_verify(j, &j->items[j->idx]);
        return 0;
}

/* verify: exec — until the command succeeds or the timeout passes. */
static void on_verify_exec(int status, const char *output, void *userdata) {
        struct job *j = userdata;
        char msg[768], how[64];

        j->op = NULL;
        if (status == 0) {
                proven(j, "the verify command succeeded");
                return;
        }
        if (now_usec(j->env.event) + VERIFY_EXEC_INTERVAL_USEC < j->verify_deadline &&
            sd_event_add_time_relative(j->env.event, &j->timer, CLOCK_MONOTONIC, VERIFY_EXEC_INTERVAL_USEC, 1000,
                                       on_verify_again, j) >= 0)
                return;
        snprintf(msg, sizeof(msg), "the verify command failed%s: %s", status_text(status, how, sizeof(how)),
                 output[0] ? output : "no output");
        verify_failed(j, msg);
}

static void run_verify(struct job *j, const struct job_item *it) {
        const struct mf_verify *v = it->binding->verify;
        int r;

        set_step(j, "verify");
        if (v->tls) {
                r = tlsprobe_start(j->env.event, v->tls, v->sni, it->cert->cert, v->timeout_usec, on_probed, j, &j->probe);
                if (r < 0)
                        verify_failed(j, strerror(-r));
                return;
        }
        r = runtime_exec(j->env.rt, it->binding->runtime, target(j), v->exec, j->env.cfg->agent.step_timeout_usec,
                         on_verify_exec, j, &j->op);
        if (r < 0)
                verify_failed(j, strerror(-r));
}

/* The first item of each binding stands for it (copies are per binding, not per certificate). */
static bool first_of_binding(const struct job *j, size_t i) {
        for (size_t k = 0; k < i; k++)
                if (j->items[k].binding == j->items[i].binding)
                        return false;
        return true;
}

/* Finds and starts the next step; at the end, the job is done. */
static void job_next(struct job *j) {
        for (;;) {
                if (j->target_i >= strv_length(j->targets)) {
                        _cleanup_free_ char *done = strv_join(j->proofs, "; ");

                        job_end(j, JOB_OK, !j->targets ? "no running container matched" : done ? done : "out of memory");
                        return;
                }
                if (j->phase == PHASE_COPY) {
                        for (; j->idx < j->n_items; j->idx++)
                                if (j->items[j->idx].binding->n_copies > 0 && first_of_binding(j, j->idx)) {
                                        run_copy(j, &j->items[j->idx]);
                                        return;
                                }
                        j->phase = PHASE_ACTION;
                        j->idx = 0;
                } else if (j->phase == PHASE_ACTION) {
                        if (j->idx < j->n_plan) {
                                run_action(j, j->plan[j->idx]);
                                return;
                        }
                        j->phase = PHASE_VERIFY;
                        j->idx = 0;
                        j->verify_deadline = 0;
                } else {
                        /* Each certificate of the job, in the container: by its verify, or by the agent's evidence. */
                        if (j->idx < j->n_items) {
                                const struct job_item *it = &j->items[j->idx];

                                if (!it->binding->verify) {
                                        j->verify_deadline = now_usec(j->env.event) + EVIDENCE_SETTLE_USEC;
                                        run_evidence(j, it);
                                        return;
                                }
                                j->verify_deadline = now_usec(j->env.event) + it->binding->verify->timeout_usec;
                                run_verify(j, it);
                                return;
                        }
                        j->phase = PHASE_COPY;
                        j->idx = 0;
                        j->target_i++;
                }
        }
}

/* ---- before the containers ---- */

/* match: patterns select among the running containers of their runtime. */
static void on_listed(int status, const char *output, void *userdata) {
        struct job *j = userdata;
        int r;

        j->op = NULL;
        if (status != 0) {
                step_failed(j, "cannot list running containers: %s", output[0] ? output : "no output");
                return;
        }
        r = runtime_match(j->items[0].binding->match, output, &j->targets);
        if (r < 0)
                job_end(j, JOB_FAILED, "cannot match containers against the pattern: out of memory");
        else
                job_next(j);
}

static void resolve_targets(struct job *j) {
        const struct mf_container *b = j->items[0].binding;
        int r;

        set_step(j, "list containers");
        if (b->name) {
                if (strv_push(&j->targets, b->name) < 0)
                        job_end(j, JOB_FAILED, "out of memory");
                else
                        job_next(j);
                return;
        }
        /* The list's output is parsed, so a failure message here has no target yet. */
        r = runtime_list(j->env.rt, b->runtime, on_listed, j, &j->op);
        if (r < 0)
                step_failed(j, "cannot list running containers: %s", strerror(-r));
}

/* Bundle files are on the host: written once per job, before any container step. */
static void write_bundles(struct job *j) {
        set_step(j, "bundle");
        for (size_t i = 0; i < j->n_items; i++) {
                char err[768] = "";
                bool seen = false;

                for (size_t k = 0; k < i; k++)
                        seen = seen || j->items[k].cert == j->items[i].cert;
                if (!seen && material_write_bundle(j->items[i].cert, j->env.cfg->agent.ca_bundle, err, sizeof(err)) < 0) {
                        step_failed(j, "bundle for %s: %s", j->items[i].cert->id, err);
                        return;
                }
        }
        resolve_targets(j);
}

static int on_preflight_again(sd_event_source *s, uint64_t usec, void *userdata);

/* Every certificate of the job must be fit before anything is restarted onto it. Bad material is not retried. */
static void preflight(struct job *j) {
        char reason[768];

        set_step(j, "pre-flight");
        for (size_t i = 0; i < j->n_items; i++) {
                if (preflight_check(j->items[i].cert, j->env.cfg->agent.ca_bundle, time(NULL), reason, sizeof(reason)) >= 0)
                        continue;
                /* certmonger may write the key after the certificate on a rekey: look again within the window. */
                if (now_usec(j->env.event) < j->preflight_deadline &&
                    sd_event_add_time_relative(j->env.event, &j->timer, CLOCK_MONOTONIC, PREFLIGHT_RETRY_USEC, 1000,
                                               on_preflight_again, j) >= 0) {
                        log_debug("%s: pre-flight not passed yet (%s); checking again", j->label, reason);
                        return;
                }
                char msg[900];

                snprintf(msg, sizeof(msg), "pre-flight failed, %s left alone: %s", j->label, reason);
                job_end(j, JOB_FAILED, msg);
                return;
        }
        write_bundles(j);
}

static int on_preflight_again(sd_event_source *s, uint64_t usec, void *userdata) {
        struct job *j = userdata;

        j->timer = sd_event_source_disable_unref(j->timer);
        preflight(j);
        return 0;
}

static void job_attempt(struct job *j) {
        strv_free(j->targets);
        j->targets = NULL;
        strv_free(j->proofs);
        j->proofs = NULL;
        j->target_i = j->idx = 0;
        j->phase = PHASE_COPY;
        preflight(j);
}

void job_run(struct job *j) {
        j->attempt = 1;
        j->preflight_deadline = now_usec(j->env.event) + j->env.cfg->agent.debounce_usec;
        log_info("%s: job for %zu certificate(s): %s", j->label, strv_length(j->ids), j->action);
        job_attempt(j);
}

/* ---- making one ---- */

/* One restart covers every other action; otherwise each distinct binding's action runs once. */
static int make_plan(struct job *j) {
        j->plan = calloc(j->n_items, sizeof(*j->plan));
        if (!j->plan)
                return -ENOMEM;
        for (size_t i = 0; i < j->n_items; i++) {
                const struct mf_container *b = j->items[i].binding;
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

static int describe(struct job *j) {
        int r = 0;

        for (size_t i = 0; i < j->n_items && r >= 0; i++)
                if (!strv_contains(j->ids, j->items[i].cert->id))
                        r = strv_push(&j->ids, j->items[i].cert->id);
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
        if (r >= 0 && !j->action && !(j->action = strdup("none")))
                r = -ENOMEM;
        return r;
}

int job_new(const struct job_env *env, const char *label, struct job_item *items, size_t n_items,
            const struct job_hooks *hooks, void *userdata, struct job **ret) {
        struct job *j = calloc(1, sizeof(*j));
        int r;

        if (!j) {
                job_items_free(items, n_items);
                return -ENOMEM;
        }
        *j = (struct job) { .env = *env, .items = items, .n_items = n_items, .hooks = hooks, .userdata = userdata };
        j->label = strdup(label);
        r = j->label ? make_plan(j) : -ENOMEM;
        if (r >= 0)
                r = describe(j);
        if (r < 0) {
                job_free(j);
                return r;
        }
        *ret = j;
        return 0;
}

struct job_item *job_take_items(struct job *j, size_t *ret_n) {
        struct job_item *v = TAKE_PTR(j->items);

        *ret_n = j->n_items;
        j->n_items = 0;
        return v;
}

char *const *job_cert_ids(const struct job *j) {
        return j->ids;
}

const char *job_action(const struct job *j) {
        return j->action;
}

const char *job_step_name(const struct job *j) {
        return j->step;
}

unsigned job_verify_failures(const struct job *j) {
        return j->verify_failures;
}

bool job_restarts(const struct job *j) {
        return j->n_plan == 1 && j->plan[0]->action == ACTION_RESTART;
}
