/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <time.h>

/*
 * The agent's Prometheus text-format file, for node_exporter's textfile
 * collector (agent.metrics). Written atomically: the collector never reads
 * half a file.
 */

struct metrics_ctr {
        const char *container;
        uint64_t jobs[3]; /* by enum job_result: ok, failed, held */
        uint64_t restarts, verify_failures;
};

struct metrics_cert {
        const char *id;
        int64_t not_after; /* -1: the file is missing or unreadable */
};

int metrics_write(const char *path, const struct metrics_ctr *ctrs, size_t n_ctrs, const struct metrics_cert *certs,
                  size_t n_certs, time_t now);
