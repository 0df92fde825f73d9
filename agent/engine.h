/* SPDX-License-Identifier: MIT */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "bindings.h"
#include "config.h"
#include "runtime.h"

/*
 * From "this certificate file changed" to jobs on containers. Events for one
 * container within the debounce window, and any of its certificates certmonger
 * is still renewing when the window ends, make one job (job.c runs it). Every
 * container with work is on disk (jobstore.c) from the event until its job
 * ends, so a restarted agent resumes it. At most max_parallel jobs run, one
 * per container, a container named in another's `after:` first. A container
 * past its restart budget is held until released.
 */

struct engine;

struct job_report {
        const char *container;
        char *const *cert_ids;
        const char *action;
        const char *result; /* "ok", "failed" or "held" */
        const char *message;
};

typedef void (*engine_finished_t)(const struct job_report *r, void *userdata);

/* What ListBindings/Plan/GetStatus/ListJobs/ListCertificates return, one entry at a time. */
typedef int (*engine_binding_t)(const char *cert_path, const char *id, const char *container, const char *runtime,
                                const char *action, void *userdata);
typedef int (*engine_status_t)(const char *container, const char *state, const char *last_result,
                               const char *last_message, uint64_t last_usec, void *userdata);
typedef int (*engine_job_t)(const char *container, const char *state, const char *cert_ids, const char *detail,
                            void *userdata);
typedef int (*engine_cert_t)(const char *id, const char *cert_path, int64_t not_after, void *userdata);

/* Opens the job store under cfg->state_dir/agent; jobs act through rt (the caller's). Takes b (also on failure). */
int engine_new(sd_event *event, const struct config *cfg, struct runtime *rt, struct bindings *b,
               engine_finished_t on_finished, void *userdata, struct engine **ret);
void engine_free(struct engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct engine *, engine_free);

/* Schedules every job found on disk (a previous agent's unfinished work); returns how many containers. */
int engine_resume(struct engine *e, unsigned *ret_resumed);
/*
 * Every certificate of the manifest whose file changed since an agent last
 * noticed it (state_dir/agent/seen) is notified now: saved while no agent
 * ran. A file never noticed before is only recorded. *ret_changed: how many.
 */
int engine_catch_up(struct engine *e, unsigned *ret_changed);

/* Swaps in new bindings (takes the reference); scheduled work keeps the old ones. */
void engine_replace_bindings(struct engine *e, struct bindings *b);
const struct bindings *engine_bindings(const struct engine *e);

/*
 * certmonger is renewing the certificate at cert_path (between a resubmit and
 * its save), or no longer. A container bound to it whose window ends
 * meanwhile waits on (up to agent.debounce_max): one job for the whole burst.
 */
void engine_set_renewing(struct engine *e, const char *cert_path, bool renewing);
/* certmonger's request for cert_path is in status ("" unknown), stuck or not: for the metrics. */
void engine_set_request_state(struct engine *e, const char *cert_path, const char *status, bool stuck);
/* A certificate file was saved: *ret_scheduled containers get a job (0: not in the manifest). */
int engine_notify(struct engine *e, const char *cert_path, unsigned *ret_scheduled);
/*
 * Pauses the agent (recorded in state_dir/agent/pause, so a restarted agent
 * stays paused): jobs gather, coalesced per container, and wait, unless the
 * certificate a container uses expires within agent.expiry_margin. until:
 * seconds since the epoch when the pause ends by itself, 0 for never.
 * -EINVAL: reason has a newline.
 */
int engine_pause(struct engine *e, const char *reason, int64_t until);
/* Ends the pause; queued jobs run. Not paused: nothing to do. */
int engine_unpause(struct engine *e);
/* The pause's reason, NULL when not paused; *ret_until its end (0: none). */
const char *engine_get_pause(const struct engine *e, int64_t *ret_until);
/* Lets a held container's job run (its restart count starts again). -ESRCH: none held by that name. */
int engine_release(struct engine *e, const char *container);
/* What engine_notify would schedule, without scheduling it. -ENOENT for an unknown path. */
int engine_plan(struct engine *e, const char *cert_path, engine_binding_t cb, void *userdata);
int engine_list_bindings(struct engine *e, engine_binding_t cb, void *userdata);
int engine_list_status(struct engine *e, engine_status_t cb, void *userdata);
/* Containers with work: waiting, queued, running or held. */
int engine_list_jobs(struct engine *e, engine_job_t cb, void *userdata);
/* Every certificate of the manifest with its notAfter (-1: unreadable). */
int engine_list_certificates(struct engine *e, engine_cert_t cb, void *userdata);
