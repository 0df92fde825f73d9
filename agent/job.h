/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bindings.h"
#include "config.h"
#include "runtime.h"

/*
 * One container's job, from material to proof: pre-flight (the material is
 * fit), bundle files written, match: patterns resolved among the running
 * containers, then for each container copy → action → verify. A failed step
 * retries the job with exponential backoff and jitter (agent.retry_*); a
 * restart past the container's budget holds the job instead of running it.
 */

/* A certificate saved for one binding, with the manifest snapshot that holds both. */
struct job_item {
        struct bindings *snap;
        const struct mf_cert *cert;
        const struct mf_container *binding;
};
void job_items_free(struct job_item *v, size_t n);

enum job_result { JOB_OK, JOB_FAILED, JOB_HELD };
extern const char *const job_result_names[];

struct job;

struct job_hooks {
        /* Before each restart: false holds the job (the restart budget is spent). */
        bool (*may_restart)(void *userdata);
        void (*restarted)(void *userdata);
        /* Called once; the job may be freed from it. */
        void (*finished)(struct job *j, enum job_result result, const char *message, void *userdata);
};

struct job_env {
        sd_event *event;
        const struct config *cfg;
        struct runtime *rt; /* what every container and unit step goes through */
};

/* Takes the items. label names the container (or ~pattern) in messages. */
int job_new(const struct job_env *env, const char *label, struct job_item *items, size_t n_items,
            const struct job_hooks *hooks, void *userdata, struct job **ret);
void job_run(struct job *j);
void job_free(struct job *j);

/* Gives the items back (a held job keeps waiting for them); the job keeps none. */
struct job_item *job_take_items(struct job *j, size_t *ret_n);
char *const *job_cert_ids(const struct job *j);
const char *job_action(const struct job *j);
/* What it is doing now, for status: "pre-flight", "copy", "restart", "verify", "retry 2/5 in 4s" … */
const char *job_step_name(const struct job *j);
unsigned job_verify_failures(const struct job *j);
/* Whether any of its bindings restarts (the budget applies). */
bool job_restarts(const struct job *j);
