/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/*
 * A CA directory holds one generation of CA files and, during a rollover, the
 * former one in previous/ (same names). ca-bundle.pem holds every CA
 * certificate of both: what agent.ca_bundle should name.
 */

/* The files of one generation, keys first: a CA is never usable before its key is in place. */
enum { CA_ROOT_KEY, CA_KEY, CA_ROOT, CA_CHAIN, CA_CERT, _CA_FILE_MAX };

struct ca_file {
        const char *name;
        mode_t mode;
};
extern const struct ca_file ca_files[_CA_FILE_MAX];

/* A generation in memory, PEM text per file; NULL for a file it has none of (a node has no root key). */
struct ca_material {
        char *pem[_CA_FILE_MAX];
};
void ca_material_done(struct ca_material *m);

/* 1 and the path of the first file of a generation found in dir, 0 if none. */
int ca_dir_existing(const char *dir, char **ret);
/* dir/previous, or NULL on ENOMEM. */
char *ca_previous_dir(const char *dir);
bool ca_has_previous(const char *dir);

/* Writes m as dir's only generation (`ca init`, `ca issue-node`), dropping any previous/. */
int ca_write(const char *dir, const struct ca_material *m);
/*
 * The rollover: m is written beside the current files (NAME.next), then under
 * dir's exclusive lock the current generation is linked into previous/ and the
 * staged files renamed over it. A crash leaves either no previous/ (nothing
 * changed) or previous/ and the staged files, which ca_swap_complete finishes.
 */
int ca_swap_in(const char *dir, const struct ca_material *m);
/* 1 when an interrupted swap's staged files are waiting (and were now put in place), 0 if none. */
int ca_swap_complete(const char *dir);
/* Ends the rollover: removes previous/ (only the files a generation has). */
int ca_drop_previous(const char *dir);

/* Every file of a generation found in dir (the others stay NULL); errors logged. */
int ca_material_read(const char *dir, struct ca_material *m);
/*
 * Installs a generation made elsewhere, and its previous one (NULL: none, so
 * dir's previous/ goes), under dir's exclusive lock: `ctrcertctl ca install`.
 */
int ca_install(const char *dir, const struct ca_material *cur, const struct ca_material *prev);

/* ca.c: root and issuing CA of a generation (1 for `ca init`), in memory; errors logged. -EINVAL: subject is not a DN without CN. */
int ca_make(int key_type, const char *subject, unsigned generation, struct ca_material *m);

/* ca-rollover.c. Whether dir may roll over (root: it holds the root key; else a node's CA without one):
 * 0 yes, 1 an interrupted rollover was completed instead, <0 no (logged). */
int ca_rollover_begin(const char *dir, bool root);
int ca_rollover(const char *dir, int key_type, const char *subject);
struct cli_ctx;
/* ca-install.c: `ctrcertctl ca install SRC DIR`; a CLI_* status. */
int ca_install_dir(const char *src, const char *dir);
int ca_rollover_finish(const struct cli_ctx *ctx, const char *dir, bool force);
