/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The agent's scheduling rules as plain code: state in, decision out, the time
 * passed in (microseconds of CLOCK_MONOTONIC). No event loop, no files, no
 * bus: engine.c owns the timers, the job store and the jobs, and asks here
 * what to do. The rules:
 *
 * - Coalescing: the first saved certificate of an idle container opens its
 *   debounce window; each further one within the window starts it again, up
 *   to debounce_max after the first. Work saved while the container is
 *   queued, running or held waits for its next job.
 * - Renewing-wait: a window that ends while certmonger is still renewing one
 *   of the container's certificates is extended, again up to debounce_max.
 * - Queue: at most max_parallel jobs run, one per container, first in first
 *   out, except that a container whose `after:` names one with work still
 *   waiting, queued or running is passed over. When every queued container is
 *   passed over and nothing runs or waits that could change it, their after:
 *   names form a cycle: the head starts anyway.
 * - Restart budget: at most restart_budget restarts per container within
 *   restart_window (0: no budget). A job that would pass it is held until
 *   released; releasing starts the count again.
 * - Gates: a queued container outside its maintenance window (gated, set by
 *   the engine from the windows and the clock) does not start; while the
 *   agent is paused no queued container starts unless it is urgent (its
 *   current certificate expires soon). A gated or paused container still
 *   counts for after:, and the cycle breaker never starts one.
 */

enum sched_state { SCHED_IDLE, SCHED_WAITING, SCHED_QUEUED, SCHED_RUNNING, SCHED_HELD };
extern const char *const sched_state_names[];

struct sched_rules {
        uint64_t debounce, debounce_max;
        unsigned max_parallel;
        unsigned restart_budget;
        uint64_t restart_window;
};

/* One container's scheduling state, embedded in the engine's record of it. */
struct sched_ctr {
        enum sched_state state;
        uint64_t window_start; /* the first event of the current window */
        unsigned renewing;     /* of its certificates, how many certmonger is renewing now */
        uint64_t *restarts;    /* each restart within the budget window */
        size_t n_restarts;
        bool gated;            /* queued, but outside its maintenance window */
        bool urgent;           /* runs despite a pause: its current certificate expires soon */
        struct sched_ctr *queue_next;
};

struct sched {
        struct sched_rules rules;
        struct sched_ctr *queue_head, *queue_tail;
        unsigned running, waiting;
        bool paused;
};

enum sched_verdict {
        SCHED_WAIT,        /* still renewing: look again at *ret_due */
        SCHED_READY,       /* queued */
        SCHED_READY_CAPPED /* queued, although certmonger is still renewing: debounce_max reached */
};

/* true when c must wait: a container its after: names still has work (see sched_state_blocks). */
typedef bool (*sched_blocked_t)(const struct sched_ctr *c, void *userdata);

void sched_init(struct sched *s, const struct sched_rules *rules);
/* Frees what the scheduler allocated for c (its restart times). */
void sched_ctr_done(struct sched_ctr *c);

/* A certificate of c was saved at now: when its window ends, or 0 when it has no window (queued, running, held). */
uint64_t sched_saved(struct sched *s, struct sched_ctr *c, uint64_t now);
/* c's window ended at now: wait on (*ret_due) or queued. */
enum sched_verdict sched_window_ended(struct sched *s, struct sched_ctr *c, uint64_t now, uint64_t *ret_due);
/* Ends c's window now, whatever is still being renewed: queued (when its timer cannot be re-armed). */
void sched_window_close(struct sched *s, struct sched_ctr *c);
/* Puts c at the end of the queue (a released or resumed container). */
void sched_enqueue(struct sched *s, struct sched_ctr *c);
/* Whether c may start now, were nothing else in its way (its gate, a pause). */
bool sched_eligible(const struct sched *s, const struct sched_ctr *c);
/* Whether a container in state st keeps one that names it in after: waiting. */
bool sched_state_blocks(enum sched_state st);
/* The next container to start, now running, or NULL (max_parallel reached, queue empty or all blocked). */
struct sched_ctr *sched_next(struct sched *s, sched_blocked_t blocked, void *userdata);
/* c's job ended (or never started). held: its restart budget was spent. more_work: saved meanwhile.
 * Returns when its next window ends, or 0 when it has none. */
uint64_t sched_job_ended(struct sched *s, struct sched_ctr *c, bool held, bool more_work, uint64_t now);
/* A held job found on disk at start. */
void sched_hold(struct sched_ctr *c);
/* -ESRCH unless c is held; else queued with its restart count started again. */
int sched_release(struct sched *s, struct sched_ctr *c);

/* Whether c may restart now, within its budget. */
bool sched_may_restart(const struct sched *s, struct sched_ctr *c, uint64_t now);
/* c restarted at now. -ENOMEM: not counted (the budget undercounts rather than a job failing). */
int sched_restarted(struct sched_ctr *c, uint64_t now);
