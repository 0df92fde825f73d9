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
#include "runtime-cli.h"
#include "sched.h"
#include "seen.h"
#include "strmap.h"
#include "strv.h"
#include "window.h"

#define METRICS_DELAY_USEC (1000 * 1000ULL)
#define METRICS_REFRESH_USEC (60 * 1000 * 1000ULL) /* timestamps and gauges never staler than this */
#define SEEN_DELAY_USEC (1000 * 1000ULL)
#define USEC_PER_SEC 1000000ULL

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
        int64_t old_not_after;       /* when the certificate it still uses expires (0: unknown) */
        time_t window_open;          /* gated: when its maintenance window opens */
        sd_event_source *gate_timer; /* CLOCK_REALTIME: its window opens, or its old certificate nears expiry */
        struct job *job;
        char *last_result, *last_message;
        uint64_t last_usec; /* CLOCK_REALTIME */
        struct metrics_ctr counts;
        struct ctr *next;
};

/*
 * What the agent knows of a certificate file: its notAfter when last read (the
 * one its containers use until their job), and its certmonger request's state.
 */
/* What the engine knows of one certificate file: its notAfter and certmonger's request for it. */
struct certfile {
        char *path; /* owned: the map's key outlives any manifest */
        int64_t not_after;
        char cm_status[32]; /* "" unknown: no request, or certmonger is not running */
        bool cm_stuck;
        struct certfile *next;
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
        struct runtime *rt; /* main's: podman's API, the bus for units, the CLIs */
        struct jobstore *store;
        struct seen *seen; /* each bound certificate file as last noticed: catch-up at start */
        sd_event_source *seen_timer;
        struct ctr *ctrs;
        struct strmap *by_key; /* ctr.key → ctr: O(1) on every saved certificate */
        struct sched sched;    /* the queue and its counts */
        struct renewal *renewals;
        size_t n_renewals;
        struct strmap *files; /* certificate path → struct certfile: O(1) on every save */
        struct certfile *certfiles;
        char *pause_reason;       /* paused when set */
        int64_t pause_until;      /* 0: until resumed */
        sd_event_source *pause_timer;
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
                r = jobstore_save(e->store, &(struct job_record) { .key = c->key, .held = c->s.state == SCHED_HELD,
                                                                   .expires = c->old_not_after, .ids = ids });
        if (r < 0)
                log_error_errno(r, "%s: cannot record its job in %s/agent (%m): a crash now would lose it", c->label,
                                e->cfg->state_dir);
        return r;
}

static void engine_kick(struct engine *e);

/* Arms c's window timer for due (CLOCK_MONOTONIC); 0: no window, nothing to arm. */
static int ctr_arm_at(struct ctr *c, uint64_t due);

/* ---- gates: maintenance windows and the pause ---- */

/* The windows that apply to c's next job: its first binding's own, else agent.windows. */
static const struct window_set *ctr_windows(const struct ctr *c) {
        for (size_t i = 0; i < c->n_pending; i++)
                if (c->pending[i].binding->windows.set)
                        return &c->pending[i].binding->windows;
        return &c->engine->cfg->agent.windows;
}

/* Whether windows hold c's next job back: every job, or (windows_for: restart) one that restarts. */
static bool ctr_window_applies(const struct ctr *c) {
        if (c->engine->cfg->agent.windows_for == WINDOWS_FOR_ALL)
                return true;
        for (size_t i = 0; i < c->n_pending; i++)
                if (c->pending[i].binding->action == ACTION_RESTART)
                        return true;
        return false;
}

static void format_local(time_t t, char buf[static 32]) {
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%d %H:%M %Z", &tm) == 0)
                snprintf(buf, 32, "@%lld", (long long) t);
}

static int on_gate_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Wakes c at t (seconds, CLOCK_REALTIME) to look at its gate again; 0 disarms. */
static void ctr_wake_at(struct ctr *c, time_t t) {
        struct engine *e = c->engine;

        c->gate_timer = sd_event_source_disable_unref(c->gate_timer);
        if (t > 0 && sd_event_add_time(e->event, &c->gate_timer, CLOCK_REALTIME, (uint64_t) t * USEC_PER_SEC,
                                       USEC_PER_SEC, on_gate_timer, c) < 0)
                log_error("%s: cannot arm the timer for its maintenance window; it waits for the next event", c->label);
}

/*
 * Sets c's gates from the clock: outside its windows it waits for the next
 * one, unless the certificate it still uses expires within
 * agent.expiry_margin of that window opening; while paused it waits unless
 * that certificate expires within the margin from now. A timer looks again
 * when the window opens or the margin is reached.
 */
static void ctr_gate(struct ctr *c) {
        struct engine *e = c->engine;
        const struct window_set *ws = ctr_windows(c);
        time_t now = time(NULL), open = 0, wake = 0;
        time_t urgent_at = c->old_not_after > 0
                                   ? (time_t) (c->old_not_after - (int64_t) (e->cfg->agent.expiry_margin_usec / USEC_PER_SEC))
                                   : 0;
        char when[32], expires[32];

        c->s.urgent = urgent_at > 0 && urgent_at <= now;
        c->s.gated = ws->n > 0 && ctr_window_applies(c) && windows_next_open(ws->v, ws->n, now, &open) >= 0 && open > now;
        if (c->s.gated && urgent_at > 0 && urgent_at <= open) {
                format_local(open, when);
                format_local((time_t) c->old_not_after, expires);
                log_notice("%s: runs now, outside its maintenance window: the certificate it uses expires %s, "
                           "within agent.expiry_margin of the window opening %s", c->label, expires, when);
                c->s.gated = false;
        }
        if (c->s.gated) {
                c->window_open = open;
                wake = open;
        }
        if ((c->s.gated || e->pause_reason) && urgent_at > now && (wake == 0 || urgent_at < wake))
                wake = urgent_at;
        ctr_wake_at(c, wake);
}

static int on_gate_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct ctr *c = userdata;

        c->gate_timer = sd_event_source_disable_unref(c->gate_timer);
        if (c->s.state == SCHED_QUEUED)
                ctr_gate(c);
        engine_kick(c->engine);
        return 0;
}

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
        ctr_gate(c);
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

        if (!sched_may_restart(&c->engine->sched, &c->s, now_usec(c->engine->event)))
                return false;
        c->counts.restart_attempts++;
        return true;
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
        if (result == JOB_OK)
                c->counts.last_success = (int64_t) time(NULL);
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
        struct job_env env = { .event = e->event, .cfg = e->cfg, .rt = e->rt };
        struct job *j;
        int r;

        r = job_new(&env, c->label, TAKE_PTR(c->pending), c->n_pending, &ctr_hooks, c, &j);
        c->n_pending = 0;
        c->old_not_after = 0; /* its next job's certificates are this one's */
        c->gate_timer = sd_event_source_disable_unref(c->gate_timer);
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

static enum metrics_job_state ctr_metrics_state(const struct ctr *c) {
        switch (c->s.state) {
        case SCHED_WAITING:
                return MJ_WAITING;
        case SCHED_QUEUED:
                return c->s.gated                                  ? MJ_WINDOW
                       : !sched_eligible(&c->engine->sched, &c->s) ? MJ_PAUSED
                                                                   : MJ_QUEUED;
        case SCHED_RUNNING:
                return MJ_RUNNING;
        case SCHED_HELD:
                return MJ_HELD;
        default:
                return _MJ_MAX;
        }
}

/* The keys of the containers the current manifest binds: series of containers it dropped disappear. */
static int bound_keys(const struct manifest *m, struct strmap **ret_map, char ***ret_keys) {
        _cleanup_(strv_freep) char **keys = NULL;
        struct strmap *map = NULL;
        int r = 0;

        for (size_t i = 0; i < m->n_certs && r >= 0; i++)
                for (size_t k = 0; k < m->certs[i].n_containers && r >= 0; k++) {
                        _cleanup_free_ char *key = NULL, *label = NULL;

                        r = ctr_key(&m->certs[i].containers[k], &key, &label);
                        if (r >= 0)
                                r = strv_push(&keys, key);
                }
        if (r >= 0)
                r = strmap_new(strv_length(keys), &map);
        STRV_FOREACH(k, keys)
                if (r >= 0)
                        r = strmap_put(map, *k, *k, NULL) < 0 ? -ENOMEM : 0;
        if (r < 0) {
                strmap_free(map);
                return r;
        }
        *ret_map = map;
        *ret_keys = TAKE_PTR(keys);
        return 0;
}

/* The CRL the helper's host serves (state_dir/ca/crl.pem): when it goes stale; 0 when there is none. */
static int64_t crl_next_update(const struct engine *e) {
        _cleanup_free_ char *path = path_join(e->cfg->state_dir, "ca/crl.pem"), *pem = NULL;
        size_t len = 0;
        time_t t;

        if (!path || read_file_safe(path, FILEIO_MAX_SIZE, &pem, &len) < 0 || crl_next_update_pem(pem, len, &t) < 0)
                return 0;
        return (int64_t) t;
}

static int engine_write_metrics(struct engine *e) {
        const struct manifest *m = bindings_manifest(e->current);
        _cleanup_free_ struct metrics_ctr *ctrs = NULL;
        _cleanup_free_ struct metrics_cert *certs = calloc(m->n_certs + 1, sizeof(*certs));
        _cleanup_(strv_freep) char **keys = NULL;
        struct metrics out = { .version = PACKAGE_VERSION };
        struct strmap *bound = NULL;
        size_t n = 0;
        int r;

        for (struct ctr *c = e->ctrs; c; c = c->next)
                n++;
        ctrs = calloc(n + 1, sizeof(*ctrs));
        if (!ctrs || !certs)
                return -ENOMEM;
        r = bound_keys(m, &bound, &keys);
        if (r < 0)
                return r;
        for (struct ctr *c = e->ctrs; c; c = c->next) {
                enum metrics_job_state st = ctr_metrics_state(c);

                if (st < _MJ_MAX)
                        out.jobs_by_state[st]++;
                if (strmap_get(bound, c->key))
                        ctrs[out.n_ctrs++] = c->counts;
        }
        strmap_free(bound);
        out.crl_next_update = crl_next_update(e);
        for (size_t i = 0; i < m->n_certs; i++) {
                const struct certfile *x = strmap_get(e->files, m->certs[i].cert);

                certs[i] = (struct metrics_cert) { m->certs[i].id, cert_not_after(m->certs[i].cert),
                                                   x ? x->cm_status : "", x && x->cm_stuck };
        }
        out.ctrs = ctrs;
        out.certs = certs;
        out.n_certs = m->n_certs;
        return metrics_write(e->cfg->agent.metrics, &out);
}

static int on_metrics(sd_event_source *s, uint64_t usec, void *userdata) {
        struct engine *e = userdata;
        int r;

        r = engine_write_metrics(e);
        if (r < 0)
                log_warning_errno(r, "cannot write the metrics file %s: %m", e->cfg->agent.metrics);
        /* Again in a minute, events or not: expiry and state are read anew each time. */
        if (sd_event_source_set_time_relative(s, METRICS_REFRESH_USEC) < 0 ||
            sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) < 0)
                log_warning("cannot schedule refreshing the metrics file");
        return 0;
}

/* Written at most once a second: a mass renewal finishes many jobs at once. */
static void engine_metrics_soon(struct engine *e) {
        uint64_t due = now_usec(e->event) + METRICS_DELAY_USEC, at = 0;

        if (!e->cfg->agent.metrics[0])
                return;
        if (e->metrics_timer) {
                if (sd_event_source_get_time(e->metrics_timer, &at) >= 0 && at > due)
                        (void) sd_event_source_set_time(e->metrics_timer, due);
                (void) sd_event_source_set_enabled(e->metrics_timer, SD_EVENT_ONESHOT);
                return;
        }
        if (sd_event_add_time(e->event, &e->metrics_timer, CLOCK_MONOTONIC, due, 1000, on_metrics, e) < 0)
                log_warning("cannot schedule writing the metrics file");
}

/* ---- the interface ---- */

/*
 * Adds (cert, binding) to its container's next job and records it; r: 1
 * added, 0 already there. old_not_after: when the certificate the container
 * uses until this job expires (0: unknown); the earliest counts.
 */
static int schedule(struct engine *e, struct bindings *snap, const struct mf_cert *cert, const struct mf_container *b,
                    int64_t old_not_after, struct ctr **ret) {
        struct ctr *c = ctr_get(e, b);
        int r;

        if (!c)
                return -ENOMEM;
        if (old_not_after > 0 && (c->old_not_after == 0 || old_not_after < c->old_not_after))
                c->old_not_after = old_not_after;
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

static int64_t not_after_swap(struct engine *e, const char *path);

/* Reads the notAfter of every bound certificate not read yet: the certificates their containers use now. */
static void engine_learn_expiry(struct engine *e) {
        const struct manifest *m = bindings_manifest(e->current);

        for (size_t i = 0; i < m->n_certs; i++)
                if (!strmap_get(e->files, m->certs[i].cert))
                        (void) not_after_swap(e, m->certs[i].cert);
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
                /* The certificate read at start is the new one; the one it replaced was never seen. */
                struct certfile *x = strmap_get(e->files, cert->cert);
                if (x)
                        x->not_after = 0;
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

/*
 * The notAfter of the certificate at path as last read (0: never read), and
 * the file's own from now on. Read at start and at each save, it is the
 * certificate a container still uses until its job has run.
 */
/* path's record, made (with its notAfter read now) when there is none; NULL when out of memory. */
static struct certfile *certfile_get(struct engine *e, const char *path) {
        struct certfile *x = strmap_get(e->files, path);

        if (x)
                return x;
        x = calloc(1, sizeof(*x));
        if (!x || !(x->path = strdup(path)) || strmap_put(e->files, x->path, x, NULL) < 0) {
                if (x)
                        free(x->path);
                free(x);
                return NULL;
        }
        x->not_after = cert_not_after(path);
        x->next = e->certfiles;
        e->certfiles = x;
        return x;
}

static int64_t not_after_swap(struct engine *e, const char *path) {
        struct certfile *x = strmap_get(e->files, path);
        int64_t old = x ? x->not_after : 0;

        x = x ? x : certfile_get(e, path);
        if (!x)
                return 0; /* unknown: a window may make it wait, nothing worse */
        x->not_after = cert_not_after(path);
        return old > 0 ? old : 0;
}

void engine_set_request_state(struct engine *e, const char *cert_path, const char *status, bool stuck) {
        struct certfile *x = certfile_get(e, cert_path);

        if (!x)
                return;
        snprintf(x->cm_status, sizeof(x->cm_status), "%s", status);
        x->cm_stuck = stuck;
        engine_metrics_soon(e);
}

int engine_notify(struct engine *e, const char *cert_path, unsigned *ret_scheduled) {
        const struct mf_cert *cert = bindings_lookup(e->current, cert_path);
        int64_t old_not_after;
        unsigned n = 0;

        if (!cert) {
                log_debug("%s is not in the manifest: ignored", cert_path);
                *ret_scheduled = 0;
                return 0;
        }
        old_not_after = not_after_swap(e, cert->cert);
        for (size_t i = 0; i < cert->n_containers; i++) {
                struct ctr *c;
                int r = schedule(e, e->current, cert, &cert->containers[i], old_not_after, &c);

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
                if (schedule(e, e->current, cert, b, rec->expires, &c) < 0)
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
                c->s.urgent = true; /* the operator asked for it now: no window, no pause */
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
        char when[32];

        if (c->s.state == SCHED_QUEUED && c->s.gated) {
                format_local(c->window_open, when);
                if (asprintf(&renewing, "waiting for its maintenance window, opening %s", when) >= 0)
                        detail = renewing;
        } else if (c->s.state == SCHED_QUEUED && !sched_eligible(&c->engine->sched, &c->s) &&
                   asprintf(&renewing, "agent paused: %s", c->engine->pause_reason) >= 0)
                detail = renewing;
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

void engine_replace_bindings(struct engine *e, struct bindings *b) {
        bindings_unref(e->current);
        e->current = b;
        engine_learn_expiry(e);
        engine_metrics_soon(e);
}

/* ---- pause ---- */

#define PAUSE_FILE "pause"

static void engine_regate(struct engine *e) {
        for (struct ctr *c = e->ctrs; c; c = c->next)
                if (c->s.state == SCHED_QUEUED)
                        ctr_gate(c);
        engine_kick(e);
}

static int on_pause_until(sd_event_source *s, uint64_t usec, void *userdata) {
        struct engine *e = userdata;

        e->pause_timer = sd_event_source_disable_unref(e->pause_timer);
        log_notice("the pause ends (its --until time came): queued jobs run");
        (void) engine_unpause(e);
        return 0;
}

/* Sets the pause in memory, with its timer; reason NULL ends it. */
static int pause_apply(struct engine *e, const char *reason, int64_t until) {
        char *copy = reason ? strdup(reason) : NULL;

        if (reason && !copy)
                return -ENOMEM;
        free(e->pause_reason);
        e->pause_reason = copy;
        e->pause_until = reason ? until : 0;
        e->sched.paused = reason != NULL;
        e->pause_timer = sd_event_source_disable_unref(e->pause_timer);
        if (reason && until > 0 &&
            sd_event_add_time(e->event, &e->pause_timer, CLOCK_REALTIME, (uint64_t) until * USEC_PER_SEC, USEC_PER_SEC,
                              on_pause_until, e) < 0)
                log_error("cannot arm the timer that ends the pause; `ctrcertctl resume` ends it");
        engine_regate(e);
        return 0;
}

/* state_dir/agent/pause: "REASON\nUNTIL\n", there while paused; a restarted agent stays paused. */
static char *pause_path(const struct engine *e) {
        _cleanup_free_ char *dir = path_join(e->cfg->state_dir, "agent");

        return dir ? path_join(dir, PAUSE_FILE) : NULL;
}

int engine_pause(struct engine *e, const char *reason, int64_t until) {
        _cleanup_free_ char *path = pause_path(e), *text = NULL;
        int r;

        if (!path || asprintf(&text, "%s\n%lld\n", reason, (long long) until) < 0)
                return -ENOMEM;
        if (strchr(reason, '\n'))
                return -EINVAL;
        r = write_file_atomic(path, text, strlen(text), 0600);
        if (r < 0)
                return r;
        log_notice("paused: %s%s: jobs wait until `ctrcertctl resume`%s", reason, until > 0 ? " (with an end time)" : "",
                   " unless a certificate in use expires within agent.expiry_margin");
        return pause_apply(e, reason, until);
}

int engine_unpause(struct engine *e) {
        _cleanup_free_ char *path = pause_path(e);

        if (!path)
                return -ENOMEM;
        if (!e->pause_reason)
                return 0;
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        log_notice("resumed: queued jobs run");
        return pause_apply(e, NULL, 0);
}

const char *engine_get_pause(const struct engine *e, int64_t *ret_until) {
        *ret_until = e->pause_until;
        return e->pause_reason;
}

/* A pause recorded by an earlier agent goes on; one whose end time passed meanwhile is over. */
static int engine_load_pause(struct engine *e) {
        _cleanup_free_ char *path = pause_path(e), *text = NULL;
        long long until = 0;
        char *nl;
        int r;

        if (!path)
                return -ENOMEM;
        r = read_file_safe(path, 64 * 1024, &text, NULL); /* as the agent's other state files */
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        nl = strchr(text, '\n');
        if (!nl || sscanf(nl + 1, "%lld", &until) != 1 || until < 0) {
                log_warning("%s: not a pause record; not paused", path);
                return 0;
        }
        *nl = '\0';
        if (until > 0 && until <= (long long) time(NULL)) {
                log_notice("the pause recorded in %s ended while no agent ran", path);
                return engine_unpause(e);
        }
        log_notice("still paused: %s", text);
        return pause_apply(e, text, until);
}

const struct bindings *engine_bindings(const struct engine *e) {
        return e->current;
}

int engine_new(sd_event *event, const struct config *cfg, struct runtime *rt, struct bindings *b, engine_finished_t on_finished,
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
        if (r >= 0)
                r = strmap_new(64, &e->files);
        if (r < 0) {
                if (e) {
                        jobstore_free(e->store);
                        seen_free(e->seen);
                        strmap_free(e->by_key);
                        strmap_free(e->files);
                }
                free(e);
                bindings_unref(b);
                return r;
        }
        e->event = sd_event_ref(event);
        e->cfg = cfg;
        e->rt = rt;
        sched_init(&e->sched, &(struct sched_rules) {
                .debounce = cfg->agent.debounce_usec, .debounce_max = cfg->agent.debounce_max_usec,
                .max_parallel = cfg->agent.max_parallel,
                .restart_budget = cfg->agent.restart_budget, .restart_window = cfg->agent.restart_window_usec,
        });
        e->current = b;
        e->on_finished = on_finished;
        e->userdata = userdata;
        engine_learn_expiry(e);
        r = engine_load_pause(e);
        if (r < 0) {
                engine_free(e);
                return r;
        }
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
                sd_event_source_disable_unref(c->gate_timer);
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
        sd_event_source_disable_unref(e->pause_timer);
        free(e->pause_reason);
        strmap_free(e->files);
        while (e->certfiles) {
                struct certfile *x = e->certfiles;

                e->certfiles = x->next;
                free(x->path);
                free(x);
        }
        if (seen_save(e->seen) < 0)
                log_warning("cannot write %s/agent/seen", e->cfg->state_dir);
        seen_free(e->seen);
        strmap_free(e->by_key);
        jobstore_free(e->store);
        bindings_unref(e->current);
        sd_event_unref(e->event);
        free(e);
}
