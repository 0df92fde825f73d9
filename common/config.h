/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "diag.h"
#include "names.h"
#include "window.h"

/* ctrcert.yaml (see ctrcert.yaml(5)). */

#ifndef CTRCERT_CONFIG_PATH
#define CTRCERT_CONFIG_PATH "/etc/ctrcert/ctrcert.yaml"
#endif

enum policy_mode { POLICY_STRICT, POLICY_OPEN };
/* Which jobs wait for agent.windows: all, or only those that restart a container. */
enum windows_for { WINDOWS_FOR_ALL, WINDOWS_FOR_RESTART };

struct config {
        char *file;
        struct {
                char *dir;
                unsigned validity_days;
                unsigned validity_jitter;   /* percent: notAfter up to this much earlier, per certificate */
                int policy; /* enum policy_mode */
                char **permitted_dns;
                char **permitted_ip; /* CIDRs, checked at load */
                char *crl_url;
                char *default_template;
                uint64_t lock_timeout_usec; /* how long SUBMIT waits for the issuance index */
                unsigned crl_days;          /* a CRL's nextUpdate, days after it is made */
        } ca;
        char *state_dir;
        char *manifest;
        struct {
                uint64_t debounce_usec;
                uint64_t debounce_max_usec; /* a job waits at most this long after its first event */
                unsigned max_parallel;
                char *ca_bundle;          /* pre-flight: saved certificates must chain to it ("" = no check) */
                uint64_t step_timeout_usec; /* one runtime call (restart, kill, exec) */
                char *podman, *docker;    /* the runtimes' CLIs, looked up in PATH unless absolute */
                char *podman_socket;      /* podman's REST API, tried before the CLI ("" = CLI only) */
                unsigned retry_attempts;    /* tries of a failing job, the first included */
                uint64_t retry_initial_usec, retry_max_usec; /* backoff: doubles from initial, capped at max */
                unsigned restart_budget;    /* restarts per container within restart_window (0: no limit) */
                uint64_t restart_window_usec;
                char *metrics;            /* Prometheus text file ("" = none) */
                char **crl_publish;       /* where state_dir/ca/crl.pem is copied whenever it changes */
                struct window_set windows; /* maintenance windows (none: any time) */
                int windows_for;           /* enum windows_for */
                uint64_t expiry_margin_usec; /* a job runs outside its window when the container's
                                              * current certificate expires sooner than this after it opens */
        } agent;
};

/* The compiled-in defaults, as if an empty file had been read. */
int config_new_default(struct config **ret);
/* Reads path over the defaults. -ENOENT when missing (no diag); -EINVAL with diags on errors. */
int config_load(const char *path, struct config **ret, struct diag_list *diags);
int config_load_buffer(const char *name, const char *buf, size_t len, struct config **ret, struct diag_list *diags);
void config_free(struct config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);
