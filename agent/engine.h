/* SPDX-License-Identifier: MIT */
#pragma once

#include <dbus/dbus.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "bindings.h"
#include "config.h"

/*
 * From "this certificate file changed" to actions on containers. Events for
 * one container within the debounce window make one job; a job checks the
 * material (pre-flight), resolves match: patterns among running containers,
 * and runs the action(s). At most max_parallel jobs run, one per container.
 */

struct engine;

struct job_report {
        const char *container;
        char *const *cert_ids;
        const char *action;
        const char *result; /* "ok" or "failed" */
        const char *message;
};

typedef void (*engine_finished_t)(const struct job_report *r, void *userdata);

/* What ListBindings/Plan/GetStatus return, one entry at a time. */
typedef int (*engine_binding_t)(const char *cert_path, const char *id, const char *container, const char *runtime,
                                const char *action, void *userdata);
typedef int (*engine_status_t)(const char *container, const char *state, const char *last_result,
                               const char *last_message, uint64_t last_usec, void *userdata);

int engine_new(sd_event *event, const struct config *cfg, struct bindings *b, engine_finished_t on_finished,
               void *userdata, struct engine **ret);
void engine_free(struct engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct engine *, engine_free);

/* The bus for systemd units (NULL while disconnected). */
void engine_set_bus(struct engine *e, DBusConnection *conn);
/* Swaps in new bindings (takes the reference); scheduled work keeps the old ones. */
void engine_replace_bindings(struct engine *e, struct bindings *b);
const struct bindings *engine_bindings(const struct engine *e);

/* A certificate file was saved: *ret_scheduled containers get a job (0: not in the manifest). */
int engine_notify(struct engine *e, const char *cert_path, unsigned *ret_scheduled);
/* What engine_notify would schedule, without scheduling it. -ENOENT for an unknown path. */
int engine_plan(struct engine *e, const char *cert_path, engine_binding_t cb, void *userdata);
int engine_list_bindings(struct engine *e, engine_binding_t cb, void *userdata);
int engine_list_status(struct engine *e, engine_status_t cb, void *userdata);
