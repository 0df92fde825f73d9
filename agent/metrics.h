/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>

/*
 * The agent's Prometheus text-format file, for node_exporter's textfile
 * collector (agent.metrics). Written atomically (the collector never reads
 * half a file), after jobs finish and every minute, so its timestamps and
 * gauges are never older than that. Every series is documented in
 * ctrcert-agent(8), METRICS.
 */

enum metrics_job_state { MJ_WAITING, MJ_QUEUED, MJ_WINDOW, MJ_PAUSED, MJ_RUNNING, MJ_HELD, _MJ_MAX };

struct metrics_ctr {
        const char *container;
        uint64_t jobs[3]; /* by enum job_result: ok, failed, held */
        uint64_t restarts, restart_attempts, verify_failures;
        int64_t last_success; /* seconds since the epoch of its last ok job; 0: none since the agent started */
};

struct metrics_cert {
        const char *id;
        int64_t not_after;     /* -1: the file is missing or unreadable */
        const char *cm_status; /* its certmonger request's status; "" unknown */
        bool cm_stuck;
};

struct metrics {
        const struct metrics_ctr *ctrs; /* the containers the manifest binds now */
        size_t n_ctrs;
        const struct metrics_cert *certs;
        size_t n_certs;
        unsigned jobs_by_state[_MJ_MAX];
        int64_t crl_next_update; /* of state_dir/ca/crl.pem; 0: no CRL there */
        const char *version;
};

int metrics_write(const char *path, const struct metrics *m);
