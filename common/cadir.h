/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "crypto.h"

/*
 * The CA directory: the one place that knows its layout, its lock and what
 * makes it safe to trust. The certificates and keys in it are parsed by
 * crypto; this module only reads, writes and checks files.
 *
 *   DIR/ca.crt, chain.pem, root.crt, private/ca.key, private/root.key
 *                              one generation (a node's CA has no root key)
 *   DIR/ca-bundle.pem          every CA certificate of both generations
 *   DIR/previous/…             the former generation, during a rollover
 *   DIR/NAME.next, previous.next/   staged by a swap, put in place under the lock
 *
 * Readers (the helper's cadir_load_ca) take DIR's lock shared; whoever changes
 * a generation takes it exclusive: nobody sees one generation's certificate
 * with another's key, or half of a swap. The functions that change a directory
 * log their errors (only they know the path at fault, one line each); the
 * readers return a negative errno and leave the message to the caller.
 */

/* The files of one generation, keys first: a CA is never usable before its key is in place. */
enum { CA_ROOT_KEY, CA_KEY, CA_ROOT, CA_CHAIN, CA_CERT, _CA_FILE_MAX };

struct ca_file {
        const char *name;
        mode_t mode;
};
extern const struct ca_file ca_files[_CA_FILE_MAX];

/* dir/NAME of one of a generation's files (CA_*), or NULL on ENOMEM. */
char *cadir_path(const char *dir, int file);
/* dir/private, or NULL on ENOMEM. */
char *cadir_private(const char *dir);
/* dir/previous, or NULL on ENOMEM. */
char *cadir_previous(const char *dir);
bool cadir_has_previous(const char *dir);
/* Whether dir holds a root key: the host where CAs are made, not installed. */
bool cadir_has_root_key(const char *dir);
/* 1 and the path of the first file of a generation found in dir, 0 if none. */
int cadir_existing(const char *dir, char **ret);

/* flock(2) on dir, LOCK_SH or LOCK_EX: the fd holding it (close to release), or a negative errno. */
int cadir_lock(const char *dir, int operation);

/*
 * What ctrcert-submit trusts of dir (sshd's StrictModes, path_check_trusted):
 * dir, private/ and the files SUBMIT reads. 0 when each is trusted or
 * missing (a missing file is the loader's to report); else the first failure,
 * with *ret_path set and, for -EPERM, *ret_why (what is wrong and the fix).
 */
int cadir_check_trusted(const char *dir, char **ret_path, char **ret_why);

/*
 * The issuing CA of dir, under its shared lock: ca.crt, chain.pem (kept as
 * text) and private/ca.key (-EPERM when group or world readable,
 * -EKEYREJECTED when not ca.crt's key). On failure *ret_failed_path names the
 * file at fault (caller frees).
 */
int cadir_load_ca(const char *dir, struct ca **ret, char **ret_failed_path);

/* A generation in memory, PEM text per file; NULL for a file it has none of (a node has no root key). */
struct ca_material {
        char *pem[_CA_FILE_MAX];
};
void ca_material_done(struct ca_material *m);

/* Every file of a generation found in dir (the others stay NULL); errors logged. */
int cadir_read(const char *dir, struct ca_material *m);
/* Writes m as dir's only generation (`ca init`, `ca issue-node`), dropping any previous/. */
int cadir_write(const char *dir, const struct ca_material *m);
/*
 * The rollover: m is written beside the current files (NAME.next), then under
 * dir's exclusive lock the current generation is linked into previous/ and the
 * staged files renamed over it. A crash leaves either no previous/ (nothing
 * changed) or previous/ and the staged files, which cadir_swap_complete finishes.
 */
int cadir_swap_in(const char *dir, const struct ca_material *m);
/* 1 when an interrupted swap's staged files are waiting (and were now put in place), 0 if none. */
int cadir_swap_complete(const char *dir);
/* Ends the rollover: removes previous/ (only the files a generation has). */
int cadir_drop_previous(const char *dir);
/*
 * Installs a generation made elsewhere, and its previous one (NULL: none, so
 * dir's previous/ goes), under dir's exclusive lock: `ctrcertctl ca install`.
 */
int cadir_install(const char *dir, const struct ca_material *cur, const struct ca_material *prev);
