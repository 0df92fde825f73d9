/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "window.h"

/*
 * The manifest (schema version 1, see ctrcert-manifest(5)): which names each
 * certificate id may carry (the helper's policy) and which containers use it
 * (the agent's bindings). Loaded from manifest.yaml and manifest.d/ *.yaml.
 */

#define MANIFEST_VERSION 1

enum usage_flag { USAGE_SERVER = 1 << 0, USAGE_CLIENT = 1 << 1 };
enum bundle_part { PART_CERT, PART_CHAIN, PART_KEY, PART_ROOT, _PART_MAX };
enum copy_source { COPY_CERT, COPY_KEY, COPY_CHAIN, COPY_ROOT, COPY_BUNDLE, _COPY_MAX };
enum runtime_kind { RUNTIME_PODMAN, RUNTIME_DOCKER, RUNTIME_SYSTEMD, _RUNTIME_MAX };
enum action_kind { ACTION_RESTART, ACTION_RELOAD, ACTION_EXEC, ACTION_NONE, _ACTION_MAX };

struct position {
        char *file;
        unsigned line, column;
};

struct mf_copy {
        int from; /* enum copy_source */
        char *to;
        char *owner;
        mode_t mode;
        bool has_mode;
};

struct mf_verify {
        char *tls; /* host:port */
        char *sni;
        char **exec;
        uint64_t timeout_usec;
};

struct mf_container {
        char *name;  /* exactly one of name and match */
        char *match; /* POSIX extended regex over running container names */
        int runtime; /* enum runtime_kind */
        int action;  /* enum action_kind */
        int signal;  /* for reload */
        bool signal_set; /* given in the manifest (systemd: KillUnit rather than ReloadUnit) */
        char **exec; /* for action exec */
        struct mf_copy *copies;
        size_t n_copies;
        struct mf_verify *verify;
        char **after;
        struct window_set windows; /* overrides agent.windows when set (an empty list: any time) */
        struct position pos;
};

struct mf_bundle {
        char *path;
        int parts[_PART_MAX];
        size_t n_parts;
        char *owner;
        mode_t mode;
        bool has_mode;
};

struct mf_cert {
        char *id;
        char *cert, *key;
        char **dns, **ip, **email;
        unsigned usage; /* enum usage_flag bits */
        struct mf_bundle *bundle;
        struct mf_container *containers;
        size_t n_containers;
        struct position pos;
};

struct manifest {
        struct mf_cert *certs;
        size_t n_certs;
};

/*
 * Loads path and, beside it, manifest.d/ *.yaml in name order. A missing
 * path is fine when manifest.d has fragments. Returns -EINVAL when diags has
 * errors; warnings alone do not fail.
 */
int manifest_load(const char *path, struct manifest **ret, struct diag_list *diags);
/*
 * The files manifest_load() reads: path when it exists, then manifest.d/ *.yaml
 * in name order (*ret NULL when none). More fragments than the limit (1024)
 * are an error in diags and -E2BIG, never a silent drop.
 */
int manifest_files(const char *path, char ***ret, struct diag_list *diags);
/*
 * Whether manifest.d/ and each of files (manifest_files()'s list) may be
 * trusted as root's alone, like sshd's StrictModes (path_check_trusted): 0,
 * or -EPERM with *ret_path and *ret_why naming the first that may not; a
 * missing one is not checked (the loader reports it). Whoever else could
 * write one would choose what the CA signs and what the root agent runs.
 */
int manifest_files_trusted(const char *path, char *const *files, char **ret_path, char **ret_why);
/* The manifest.d/ directory beside path. */
char *manifest_fragment_dir(const char *path);
/* Loads exactly these files, merged (for `ctrcertctl manifest check FILE…`). */
int manifest_load_files(char *const *paths, struct manifest **ret, struct diag_list *diags);

enum {
        /*
         * The helper: container match: patterns are only bounded in length and
         * cost, not compiled (matching containers is the agent's business).
         */
        MANIFEST_POLICY_ONLY = 1 << 0,
};
int manifest_load_files_flags(char *const *paths, unsigned flags, struct manifest **ret, struct diag_list *diags);
/* Parses one document from memory (fuzzing, tests). */
int manifest_load_buffer(const char *name, const char *buf, size_t len, struct manifest **ret,
                         struct diag_list *diags);

const struct mf_cert *manifest_find(const struct manifest *m, const char *id);
void manifest_free(struct manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct manifest *, manifest_free);

extern const char *const usage_names[];
extern const char *const runtime_names[];
extern const char *const action_names[];
