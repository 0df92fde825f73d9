/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "engine.h"
#include "fileio.h"
#include "job.h"
#include "jobstore.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"
#include "sched.h"
#include "seen.h"
#include "strmap.h"
#include "strv.h"

#define METRICS_DELAY_USEC (1000 * 1000ULL)
#define SEEN_DELAY_USEC (1000 * 1000ULL)

/* A container (or a match: pattern, or a systemd unit) as the engine tracks it. */
struct ctr {
        struct engine *engine;
        char *key;   /* runtime/name or runtime/~regex: one job at a time per key; the job store's key */
        char *label; /* name or ~regex */
        struct job_item *pending;
        size_t n_pending;
        bool scheduled; /* had work since the agent started (GetStatus lists it) */
        struct sched_ctr s; /* state, window, renewing count, restart times: sched.c's rules */
        sd_event_source *timer;
        struct job *job;
        char *last_result, *last_message;
        uint64_t last_usec; /* CLOCK_REALTIME */
        struct metrics_ctr counts;
        struct ctr *next;
};

/* A certificate certmonger is renewing, and the containers bound to it when it started. */
struct renewal {
        char *path;
        struct ctr **ctrs;
        size_t n;
};

struct engine {
        sd_event *event;
        const struct config *cfg;
        struct bindings *current;
        DBusConnection *conn;
        struct jobstore *store;
        struct seen *seen; /* each bound certificate file as last noticed: catch-up at start */
        sd_event_source *seen_timer;
        struct podman_api *api;
        struct ctr *ctrs;
        struct strmap *by_key; /* ctr.key → ctr: O(1) on every saved certificate */
        struct sched sched;    /* the queue and its counts */
        struct renewal *renewals;
        size_t n_renewals;
        sd_event_source *metrics_timer;
        engine_finished_t on_finished;
        void *userdata;
};

static uint64_t now_usec(sd_event *e) {
        uint64_t t = 0;

        sd_event_now(e, CLOCK_MONOTONIC, &t);
        return t;
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
        c = strmap_get(e->by_key, key);
        if (c)
                return c;
        c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->engine = e;
        c->key = TAKE_PTR(key);
        c->label = TAKE_PTR(label);
        c->counts.container = c->label;
        if (strmap_put(e->by_key, c->key, c, NULL) < 0) {
                free(c->key);
                free(c->label);
                free(c);
                return NULL;
        }
        c->next = e->ctrs;
        e->ctrs = c;
        return c;
}

/* 1 when added, 0 when it was already pending. */
static int ctr_add_pending(struct ctr *c, struct bindings *snap, const struct mf_cert *cert,
                           const struct mf_container *b) {
        struct job_item *p;

        for (size_t i = 0; i < c->n_pending; i++)
                if (c->pending[i].cert == cert && c->pending[i].binding == b)
                        return 0;
        p = realloc(c->pending, (c->n_pending + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        c->pending = p;
        p[c->n_pending++] = (struct job_item) { bindings_ref(snap), cert, b };
        return 1;
}

/* The certificate ids of the running job and of the next one (NULL: none). */
static int ctr_ids(const struct ctr *c, char ***ret) {
        _cleanup_(strv_freep) char **ids = NULL;
        int r = 0;

        STRV_FOREACH(id, c->job ? job_cert_ids(c->job) : NULL)
                if (r >= 0)
                        r = strv_push(&ids, *id);
        for (size_t i = 0; i < c->n_pending && r >= 0; i++)
                if (!strv_contains(ids, c->pending[i].cert->id))
                        r = strv_push(&ids, c->pending[i].cert->id);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ids);
        return 0;
}

/*
 * The container's record on disk: every certificate its running job and its
 * next one wait for. Written before any step runs, so a killed agent redoes
 * the work; removed once nothing is left.
 */
static int ctr_persist(struct ctr *c) {
        struct engine *e = c->engine;
        _cleanup_(strv_freep) char **ids = NULL;
        int r = ctr_ids(c, &ids);

        if (r < 0)
                return r;
        if (!ids)
                r = jobstore_remove(e->store, c->key);
        else
                r = jobstore_save(e->store,
                                  &(struct job_record) { .key = c->key, .held = c->s.state == SCHED_HELD, .ids = ids });
        if (r < 0)
                log_error_errno(r, "%s: cannot record its job in %s/agent (%m): a crash now would lose it", c->label,
                                e->cfg->state_dir);
        return r;
}

static void engine_kick(struct engine *e);

/* Arms c's window timer for due (CLOCK_MONOTONIC); 0: no window, nothing to arm. */
static int ctr_arm_at(struct ctr *c, uint64_t due);

/* A window ended: wait on while certmonger still renews (sched.c says), else queue the job. */
static int on_debounced(sd_event_source *s, uint64_t usec, void *userdata) {
        struct ctr *c = userdata;
        struct engine *e = c->engine;
        uint64_t due = 0;

        switch (sched_window_ended(&e->sched, &c->s, now_usec(e->event), &due)) {
        case SCHED_WAIT:
                log_debug("%s: certmonger is still renewing %u of its certificates; waiting", c->label, c->s.renewing);
                if (sd_event_source_set_time(s, due) >= 0 && sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) >= 0)
                        return 0;
                sched_window_close(&e->sched, &c->s);
                break;
        case SCHED_READY_CAPPED:
                log_notice("%s: %u of its certificates still being renewed after agent.debounce_max; acting on what "
                           "was saved", c->label, c->s.renewing);
                break;
        case SCHED_READY:
                break;
        }
        c->timer = sd_event_source_disable_unref(c->timer);
        engine_kick(e);
        return 0;
}

static int ctr_arm_at(struct ctr *c, uint64_t due) {
        struct engine *e = c->engine;

        if (due == 0)
                return 0;
        if (c->timer)
                return sd_event_source_set_time(c->timer, due);
        return sd_event_add_time(e->event, &c->timer, CLOCK_MONOTONIC, due, 1000, on_debounced, c);
}

/* A certificate of c was saved: its window opens or starts again (queued, running, held: work for its next job). */
static int ctr_arm(struct ctr *c) {
        return ctr_arm_at(c, sched_saved(&c->engine->sched, &c->s, now_usec(c->engine->event)));
}

/* ---- the restart budget ---- */

static bool ctr_may_restart(void *userdata) {
        struct ctr *c = userdata;

        return sched_may_restart(&c->engine->sched, &c->s, now_usec(c->engine->event));
}

static void ctr_restarted(void *userdata) {
        struct ctr *c = userdata;

        c->counts.restarts++;
        (void) sched_restarted(&c->s, now_usec(c->engine->event)); /* undercounting beats failing the job */
}

/* ---- jobs ---- */

static void set_last(struct ctr *c, const char *result, const char *message) {
        struct timespec ts;

        free(c->last_result);
        free(c->last_message);
        c->last_result = strdup(result);
        c->last_message = strdup(message);
        clock_gettime(CLOCK_REALTIME, &ts);
        c->last_usec = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static void engine_metrics_soon(struct engine *e);

/* A held job's certificates wait again, together with any saved since. */
static void ctr_keep_items(struct ctr *c, struct job *j) {
        size_t n = 0;
        struct job_item *items = job_take_items(j, &n);

        for (size_t i = 0; i < n; i++)
                if (ctr_add_pending(c, items[i].snap, items[i].cert, items[i].binding) < 0)
                        log_error("%s: out of memory keeping a held job", c->label);
        job_items_free(items, n);
}

static void ctr_job_finished(struct job *j, enum job_result result, const char *message, void *userdata) {
        struct ctr *c = userdata;
        struct engine *e = c->engine;
        struct job_report report = {
                .container = c->label, .cert_ids = job_cert_ids(j), .action = job_action(j),
                .result = job_result_names[result], .message = message,
        };
        uint64_t due;

        set_last(c, report.result, message);
        c->counts.jobs[result]++;
        c->counts.verify_failures += job_verify_failures(j);
        e->on_finished(&report, e->userdata);
        c->job = NULL;
        if (result == JOB_HELD)
                ctr_keep_items(c, j);
        job_free(j);
        due = sched_job_ended(&e->sched, &c->s, result == JOB_HELD, c->n_pending > 0, now_usec(e->event));
        ctr_persist(c);
        if (ctr_arm_at(c, due) < 0)
                log_error("%s: cannot schedule the next job", c->label);
        engine_metrics_soon(e);
        engine_kick(e);
}

static const struct job_hooks ctr_hooks = {
        .may_restart = ctr_may_restart,
        .restarted = ctr_restarted,
        .finished = ctr_job_finished,
};

static void job_start(struct ctr *c) {
        struct engine *e = c->engine;
        struct job_env env = { .event = e->event, .cfg = e->cfg, .conn = &e->conn, .api = e->api };
        struct job *j;
        int r;

        r = job_new(&env, c->label, TAKE_PTR(c->pending), c->n_pending, &ctr_hooks, c, &j);
        c->n_pending = 0;
        if (r < 0) {
                log_error_errno(r, "%s: cannot start its job: %m", c->label);
                (void) sched_job_ended(&e->sched, &c->s, false, false, now_usec(e->event));
                return;
        }
        c->job = j;
        job_run(j);
}

/* A container waits while one named in its bindings' after: still has work coming or running. */
static bool ctr_blocked(const struct sched_ctr *sc, void *userdata) {
        const struct ctr *c = container_of(sc, struct ctr, s);
        struct engine *e = userdata;

        for (size_t i = 0; i < c->n_pending; i++)
                STRV_FOREACH(name, c->pending[i].binding->after)
                        for (struct ctr *o = e->ctrs; o; o = o->next)
                                if (o != c && streq(o->label, *name) && sched_state_blocks(o->s.state))
                                        return true;
        return false;
}

static void engine_kick(struct engine *e) {
        struct sched_ctr *sc;

        while ((sc = sched_next(&e->sched, ctr_blocked, e)))
                job_start(container_of(sc, struct ctr, s));
}

/* ---- metrics ---- */

static int64_t cert_not_after(const char *path) {
        _cleanup_(cert_freep) struct cert *x = NULL;
        time_t nb, na;

        if (cert_load_file(path, &x) < 0 || cert_validity(x, &nb, &na) < 0)
                return -1;
        return (int64_t) na;
}

static int engine_write_metrics(struct engine *e) {
        const struct manifest *m = bindings_manifest(e->current);
        _cleanup_free_ struct metrics_ctr *ctrs = NULL;
        _cleanup_free_ struct metrics_cert *certs = calloc(m->n_certs + 1, sizeof(*certs));
        size_t n = 0;

        for (struct ctr *c = e->ctrs; c; c = c->next)
                n++;
        ctrs = calloc(n + 1, sizeof(*ctrs));
        if (!ctrs || !certs)
                return -ENOMEM;
        n = 0;
        for (struct ctr *c = e->ctrs; c; c = c->next)
                ctrs[n++] = c->counts;
        for (size_t i = 0; i < m->n_certs; i++)
                certs[i] = (struct metrics_cert) { m->certs[i].id, cert_not_after(m->certs[i].cert) };
        return metrics_write(e->cfg->agent.metrics, ctrs, n, certs, m->n_certs, time(NULL));
}

static int on_metrics(sd_event_source *s, uint64_t usec, void *userdata) {
        struct engine *e = userdata;
        int r;

        e->metrics_timer = sd_event_source_disable_unref(e->metrics_timer);
        r = engine_write_metrics(e);
        if (r < 0)
                log_warning_errno(r, "cannot write the metrics file %s: %m", e->cfg->agent.metrics);
        return 0;
}

/* Written at most once a second: a mass renewal finishes many jobs at once. */
static void engine_metrics_soon(struct engine *e) {
        if (!e->cfg->agent.metrics[0] || e->metrics_timer)
                return;
        if (sd_event_add_time_relative(e->event, &e->metrics_timer, CLOCK_MONOTONIC, METRICS_DELAY_USEC, 1000,
                                       on_metrics, e) < 0)
                log_warning("cannot schedule writing the metrics file");
}

/* ---- the interface ---- */

/* Adds (cert, binding) to its container's next job and records it; r: 1 added, 0 already there. */
static int schedule(struct engine *e, struct bindings *snap, const struct mf_cert *cert, const struct mf_container *b,
                    struct ctr **ret) {
        struct ctr *c = ctr_get(e, b);
        int r;

        if (!c)
                return -ENOMEM;
        r = ctr_add_pending(c, snap, cert, b);
        if (r > 0)
                ctr_persist(c);
        c->scheduled = true;
        *ret = c;
        return r;
}

static int on_seen_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct engine *e = userdata;
        int r;

        e->seen_timer = sd_event_source_disable_unref(e->seen_timer);
        r = seen_save(e->seen);
        if (r < 0)
                log_warning_errno(r, "cannot write %s/agent/seen: %m (certificates may get a second job after a restart)",
                                  e->cfg->state_dir);
        return 0;
}

/* Takes notice of a certificate file as it is now; written at most once a second (a burst notices many). */
static void engine_seen(struct engine *e, const char *path) {
        bool changed;

        if (seen_note(e->seen, path, &changed) < 0)
                log_warning("%s: out of memory noting it; a restart may give it a second job", path);
        if (!e->seen_timer && sd_event_add_time_relative(e->event, &e->seen_timer, CLOCK_MONOTONIC, SEEN_DELAY_USEC,
                                                         1000, on_seen_timer, e) < 0)
                log_warning("cannot schedule writing %s/agent/seen", e->cfg->state_dir);
}

int engine_catch_up(struct engine *e, unsigned *ret_changed) {
        const struct manifest *m = bindings_manifest(e->current);
        unsigned n = 0;
        int r = 0;

        for (size_t i = 0; i < m->n_certs && r >= 0; i++) {
                const struct mf_cert *cert = &m->certs[i];
                unsigned scheduled;
                bool changed;

                r = seen_note(e->seen, cert->cert, &changed);
                if (r < 0 || !changed)
                        continue;
                log_notice("%s (%s) changed while no agent was running: its containers get a job", cert->cert, cert->id);
                r = engine_notify(e, cert->cert, &scheduled);
                n++;
        }
        if (r >= 0)
                r = seen_save(e->seen);
        *ret_changed = n;
        return r;
}

static struct renewal *renewal_find(struct engine *e, const char *path) {
        for (size_t i = 0; i < e->n_renewals; i++)
                if (streq(e->renewals[i].path, path))
                        return &e->renewals[i];
        return NULL;
}

static void renewal_end(struct engine *e, struct renewal *rn) {
        for (size_t i = 0; i < rn->n; i++)
                rn->ctrs[i]->s.renewing--;
        free(rn->path);
        free(rn->ctrs);
        *rn = e->renewals[--e->n_renewals];
}

/* The containers bound to cert now: kept, so a reload meanwhile cannot unbalance their counts. */
static int renewal_start(struct engine *e, const char *path, const struct mf_cert *cert) {
        struct renewal *v = realloc(e->renewals, (e->n_renewals + 1) * sizeof(*v));
        struct renewal rn = { .path = strdup(path), .ctrs = calloc(cert->n_containers, sizeof(struct ctr *)) };

        if (v)
                e->renewals = v;
        if (!v || !rn.path || !rn.ctrs) {
                free(rn.path);
                free(rn.ctrs);
                return -ENOMEM;
        }
        for (size_t i = 0; i < cert->n_containers; i++) {
                struct ctr *c = ctr_get(e, &cert->containers[i]);

                if (!c)
                        continue;
                c->s.renewing++;
                rn.ctrs[rn.n++] = c;
        }
        e->renewals[e->n_renewals++] = rn;
        return 0;
}

void engine_set_renewing(struct engine *e, const char *cert_path, bool renewing) {
        struct renewal *rn = renewal_find(e, cert_path);
        const struct mf_cert *cert;

        if (!renewing) {
                if (rn)
                        renewal_end(e, rn);
                return;
        }
        cert = rn ? NULL : bindings_lookup(e->current, cert_path);
        if (cert && renewal_start(e, cert_path, cert) < 0)
                log_warning("%s: out of memory; its containers will not wait for its renewal", cert_path);
}

int engine_notify(struct engine *e, const char *cert_path, unsigned *ret_scheduled) {
        const struct mf_cert *cert = bindings_lookup(e->current, cert_path);
        unsigned n = 0;

        if (!cert) {
                log_debug("%s is not in the manifest: ignored", cert_path);
                *ret_scheduled = 0;
                return 0;
        }
        for (size_t i = 0; i < cert->n_containers; i++) {
                struct ctr *c;
                int r = schedule(e, e->current, cert, &cert->containers[i], &c);

                if (r >= 0)
                        r = ctr_arm(c);
                if (r < 0)
                        return r;
                n++;
        }
        /* Only now, with the jobs on disk: a crash in between costs a second job, not the first. */
        engine_seen(e, cert->cert);
        log_info("%s (%s) saved: %u container binding(s) scheduled", cert_path, cert->id, n);
        *ret_scheduled = n;
        return 0;
}

static const struct mf_container *binding_by_key(const struct mf_cert *cert, const char *key) {
        for (size_t i = 0; i < cert->n_containers; i++) {
                _cleanup_free_ char *k = NULL, *label = NULL;

                if (ctr_key(&cert->containers[i], &k, &label) >= 0 && streq(k, key))
                        return &cert->containers[i];
        }
        return NULL;
}

struct resume_state {
        struct engine *e;
        unsigned n;
};

static void resume_record(const struct job_record *rec, void *userdata) {
        struct resume_state *st = userdata;
        struct engine *e = st->e;
        const struct manifest *m = bindings_manifest(e->current);
        struct ctr *c = NULL;

        STRV_FOREACH(id, rec->ids) {
                const struct mf_cert *cert = manifest_find(m, *id);
                const struct mf_container *b = cert ? binding_by_key(cert, rec->key) : NULL;

                if (!b) {
                        log_warning("job for %s: %s is no longer bound to it in the manifest; dropped", rec->key, *id);
                        continue;
                }
                if (schedule(e, e->current, cert, b, &c) < 0)
                        log_error("job for %s: out of memory resuming it", rec->key);
        }
        if (!c) {
                jobstore_remove(e->store, rec->key);
                return;
        }
        st->n++;
        if (rec->held) {
                sched_hold(&c->s);
                ctr_persist(c);
                log_notice("%s: held job found (restart budget); `ctrcertctl release %s` runs it", c->label, c->label);
        } else if (ctr_arm(c) < 0)
                log_error("%s: cannot schedule the resumed job", c->label);
}

int engine_resume(struct engine *e, unsigned *ret_resumed) {
        struct resume_state st = { .e = e };
        int r = jobstore_load_all(e->store, resume_record, &st);

        *ret_resumed = st.n;
        return r;
}

int engine_release(struct engine *e, const char *container) {
        for (struct ctr *c = e->ctrs; c; c = c->next) {
                if (c->s.state != SCHED_HELD || (!streq(c->label, container) && !streq(c->key, container)))
                        continue;
                (void) sched_release(&e->sched, &c->s);
                ctr_persist(c);
                log_notice("%s: released; its job runs now", c->label);
                engine_kick(e);
                return 0;
        }
        return -ESRCH;
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
                if (c->scheduled)
                        r = cb(c->label, sched_state_names[c->s.state], c->last_result ? c->last_result : "",
                               c->last_message ? c->last_message : "", c->last_usec, userdata);
        return r;
}

static int emit_job(struct ctr *c, engine_job_t cb, void *userdata) {
        _cleanup_(strv_freep) char **ids = NULL;
        _cleanup_free_ char *joined = NULL, *renewing = NULL;
        const char *detail = c->s.state == SCHED_RUNNING ? job_step_name(c->job)
                           : c->s.state == SCHED_HELD    ? "restart budget spent; ctrcertctl release runs it"
                                                         : "";
        int r = ctr_ids(c, &ids);

        if (c->s.state == SCHED_WAITING && c->s.renewing > 0 &&
            asprintf(&renewing, "certmonger is renewing %u more of its certificates", c->s.renewing) >= 0)
                detail = renewing;
        joined = r >= 0 ? strv_join(ids, ",") : NULL;
        if (!joined)
                return -ENOMEM;
        return cb(c->label, sched_state_names[c->s.state], joined, detail, userdata);
}

int engine_list_jobs(struct engine *e, engine_job_t cb, void *userdata) {
        int r = 0;

        for (struct ctr *c = e->ctrs; c && r >= 0; c = c->next)
                if (c->s.state != SCHED_IDLE)
                        r = emit_job(c, cb, userdata);
        return r;
}

int engine_list_certificates(struct engine *e, engine_cert_t cb, void *userdata) {
        const struct manifest *m = bindings_manifest(e->current);
        int r = 0;

        for (size_t i = 0; i < m->n_certs && r >= 0; i++)
                r = cb(m->certs[i].id, m->certs[i].cert, cert_not_after(m->certs[i].cert), userdata);
        return r;
}

void engine_set_bus(struct engine *e, DBusConnection *conn) {
        e->conn = conn;
}

void engine_replace_bindings(struct engine *e, struct bindings *b) {
        bindings_unref(e->current);
        e->current = b;
        engine_metrics_soon(e);
}

const struct bindings *engine_bindings(const struct engine *e) {
        return e->current;
}

int engine_new(sd_event *event, const struct config *cfg, struct bindings *b, engine_finished_t on_finished,
               void *userdata, struct engine **ret) {
        _cleanup_free_ char *dir = path_join(cfg->state_dir, "agent");
        struct engine *e;
        int r;

        e = dir ? calloc(1, sizeof(*e)) : NULL;
        r = e ? jobstore_open(dir, &e->store) : -ENOMEM;
        if (r >= 0)
                r = seen_open(dir, &e->seen);
        if (r >= 0)
                r = strmap_new(64, &e->by_key);
        if (r >= 0 && cfg->agent.podman_socket[0])
                r = podman_api_new(event, cfg->agent.podman_socket, &e->api);
        if (r < 0) {
                if (e) {
                        jobstore_free(e->store);
                        seen_free(e->seen);
                        strmap_free(e->by_key);
                }
                free(e);
                bindings_unref(b);
                return r;
        }
        e->event = sd_event_ref(event);
        e->cfg = cfg;
        sched_init(&e->sched, &(struct sched_rules) {
                .debounce = cfg->agent.debounce_usec, .debounce_max = cfg->agent.debounce_max_usec,
                .max_parallel = cfg->agent.max_parallel,
                .restart_budget = cfg->agent.restart_budget, .restart_window = cfg->agent.restart_window_usec,
        });
        e->current = b;
        e->on_finished = on_finished;
        e->userdata = userdata;
        engine_metrics_soon(e);
        *ret = e;
        return 0;
}

void engine_free(struct engine *e) {
        if (!e)
                return;
        while (e->n_renewals > 0)
                renewal_end(e, &e->renewals[0]);
        free(e->renewals);
        while (e->ctrs) {
                struct ctr *c = e->ctrs;

                e->ctrs = c->next;
                job_free(c->job);
                sd_event_source_disable_unref(c->timer);
                job_items_free(c->pending, c->n_pending);
                free(c->key);
                free(c->label);
                free(c->last_result);
                free(c->last_message);
                sched_ctr_done(&c->s);
                free(c);
        }
        sd_event_source_disable_unref(e->metrics_timer);
        sd_event_source_disable_unref(e->seen_timer);
        if (seen_save(e->seen) < 0)
                log_warning("cannot write %s/agent/seen", e->cfg->state_dir);
        seen_free(e->seen);
        podman_api_free(e->api);
        strmap_free(e->by_key);
        jobstore_free(e->store);
        bindings_unref(e->current);
        sd_event_unref(e->event);
        free(e);
}
