/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "sched.h"

const char *const sched_state_names[] = { "idle", "waiting", "queued", "running", "held" };

void sched_init(struct sched *s, const struct sched_rules *rules) {
        *s = (struct sched) { .rules = *rules };
}

void sched_ctr_done(struct sched_ctr *c) {
        free(c->restarts);
        c->restarts = NULL;
        c->n_restarts = 0;
}

/* The end of c's window for an event at now: debounce later, never past debounce_max after its first event. */
static uint64_t window_due(const struct sched *s, const struct sched_ctr *c, uint64_t now) {
        uint64_t due = now + s->rules.debounce, last = c->window_start + s->rules.debounce_max;

        return due < last ? due : last;
}

static uint64_t window_open(struct sched *s, struct sched_ctr *c, uint64_t now) {
        c->state = SCHED_WAITING;
        c->window_start = now;
        s->waiting++;
        return window_due(s, c, now);
}

uint64_t sched_saved(struct sched *s, struct sched_ctr *c, uint64_t now) {
        if (c->state == SCHED_WAITING)
                return window_due(s, c, now);
        if (c->state == SCHED_IDLE)
                return window_open(s, c, now);
        return 0;
}

void sched_enqueue(struct sched *s, struct sched_ctr *c) {
        c->state = SCHED_QUEUED;
        c->gated = c->urgent = false; /* the engine sets them for this job */
        c->queue_next = NULL;
        if (s->queue_tail)
                s->queue_tail->queue_next = c;
        else
                s->queue_head = c;
        s->queue_tail = c;
}

/*
 * certmonger saves a mass renewal one request after another, many seconds
 * apart (30 certificates took 21-31 s with certmonger 0.79, bench/RESULTS.md):
 * a container whose window ends while another of its certificates is still
 * being renewed waits one more window, and again, until certmonger has saved
 * them all, but never beyond debounce_max after its first event. One job, one
 * restart per container and burst; nobody held back forever.
 */
enum sched_verdict sched_window_ended(struct sched *s, struct sched_ctr *c, uint64_t now, uint64_t *ret_due) {
        uint64_t due = window_due(s, c, now);

        if (c->renewing > 0 && due > now) {
                *ret_due = due;
                return SCHED_WAIT;
        }
        sched_window_close(s, c);
        return c->renewing > 0 ? SCHED_READY_CAPPED : SCHED_READY;
}

void sched_window_close(struct sched *s, struct sched_ctr *c) {
        s->waiting--;
        sched_enqueue(s, c);
}

bool sched_state_blocks(enum sched_state st) {
        return st == SCHED_WAITING || st == SCHED_QUEUED || st == SCHED_RUNNING;
}

bool sched_eligible(const struct sched *s, const struct sched_ctr *c) {
        return !c->gated && (!s->paused || c->urgent);
}

/*
 * The first queued container free to start. When every queued one is eligible
 * but blocked, and nothing runs or waits that could unblock them, their after:
 * names form a cycle: the head starts anyway rather than the queue stalling
 * for good. One waiting for its window or a resume is no cycle: it will come.
 */
static struct sched_ctr **queue_pick(struct sched *s, sched_blocked_t blocked, void *userdata) {
        bool all_eligible = true;

        for (struct sched_ctr **p = &s->queue_head; *p; p = &(*p)->queue_next) {
                if (!sched_eligible(s, *p)) {
                        all_eligible = false;
                        continue;
                }
                if (!blocked || !blocked(*p, userdata))
                        return p;
        }
        return all_eligible && s->running == 0 && s->waiting == 0 && s->queue_head ? &s->queue_head : NULL;
}

struct sched_ctr *sched_next(struct sched *s, sched_blocked_t blocked, void *userdata) {
        struct sched_ctr **p, *c;

        if (s->running >= s->rules.max_parallel || !(p = queue_pick(s, blocked, userdata)))
                return NULL;
        c = *p;
        *p = c->queue_next;
        if (s->queue_tail == c) {
                s->queue_tail = NULL;
                for (struct sched_ctr *q = s->queue_head; q; q = q->queue_next)
                        s->queue_tail = q;
        }
        c->queue_next = NULL;
        c->state = SCHED_RUNNING;
        s->running++;
        return c;
}

uint64_t sched_job_ended(struct sched *s, struct sched_ctr *c, bool held, bool more_work, uint64_t now) {
        if (c->state == SCHED_RUNNING)
                s->running--;
        if (held) {
                c->state = SCHED_HELD;
                return 0;
        }
        c->state = SCHED_IDLE;
        /* Saved again while the job ran: a new window, a new job. */
        return more_work ? window_open(s, c, now) : 0;
}

void sched_hold(struct sched_ctr *c) {
        c->state = SCHED_HELD;
}

int sched_release(struct sched *s, struct sched_ctr *c) {
        if (c->state != SCHED_HELD)
                return -ESRCH;
        c->n_restarts = 0;
        sched_enqueue(s, c);
        return 0;
}

/* Forgets restarts older than the window. */
static void budget_expire(const struct sched *s, struct sched_ctr *c, uint64_t now) {
        size_t k = 0;

        for (size_t i = 0; i < c->n_restarts; i++)
                if (c->restarts[i] + s->rules.restart_window > now)
                        c->restarts[k++] = c->restarts[i];
        c->n_restarts = k;
}

bool sched_may_restart(const struct sched *s, struct sched_ctr *c, uint64_t now) {
        budget_expire(s, c, now);
        return s->rules.restart_budget == 0 || c->n_restarts < s->rules.restart_budget;
}

int sched_restarted(struct sched_ctr *c, uint64_t now) {
        uint64_t *v = realloc(c->restarts, (c->n_restarts + 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        c->restarts = v;
        v[c->n_restarts++] = now;
        return 0;
}
