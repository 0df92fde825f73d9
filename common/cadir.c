/* SPDX-License-Identifier: MIT */
/*
 * The CA directory (layout in cadir.h): paths, the lock, the trust checks,
 * loading the issuing CA through crypto's parsers, and changing generations
 * (writing one, swapping in the next with the current kept in previous/,
 * dropping previous/, ca-bundle.pem). The changes log their errors, where the
 * path at fault is known.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cadir.h"
#include "fileio.h"
#include "log.h"

const struct ca_file ca_files[_CA_FILE_MAX] = {
        [CA_ROOT_KEY] = { "private/root.key", 0600 }, [CA_KEY] = { "private/ca.key", 0600 },
        [CA_ROOT] = { "root.crt", 0644 },             [CA_CHAIN] = { "chain.pem", 0644 },
        [CA_CERT] = { "ca.crt", 0644 },
};

#define PRIVATE "private"
#define PREVIOUS "previous"
#define BUNDLE "ca-bundle.pem"
#define STAGED ".next"

char *cadir_path(const char *dir, int file) {
        return path_join(dir, ca_files[file].name);
}

char *cadir_private(const char *dir) {
        return path_join(dir, PRIVATE);
}

char *cadir_previous(const char *dir) {
        return path_join(dir, PREVIOUS);
}

static bool cadir_has(const char *path) {
        return path && access(path, F_OK) >= 0;
}

bool cadir_has_previous(const char *dir) {
        _cleanup_free_ char *p = cadir_previous(dir);

        return cadir_has(p);
}

bool cadir_has_root_key(const char *dir) {
        _cleanup_free_ char *p = cadir_path(dir, CA_ROOT_KEY);

        return cadir_has(p);
}

int cadir_existing(const char *dir, char **ret) {
        for (size_t i = 0; i < _CA_FILE_MAX; i++) {
                _cleanup_free_ char *p = cadir_path(dir, i);

                if (!p)
                        return -ENOMEM;
                if (cadir_has(p)) {
                        *ret = TAKE_PTR(p);
                        return 1;
                }
        }
        return 0;
}

int cadir_lock(const char *dir, int operation) {
        return lock_dir(dir, operation);
}

/* ---- trust and loading: the helper's side ---- */

/* path (taken) as path_check_trusted() sees it; missing is fine here (the loader reports it). */
static int check_trusted_one(char *path, mode_t type, char **ret_path, char **ret_why) {
        _cleanup_free_ char *p = path;
        int r;

        if (!p)
                return -ENOMEM;
        r = path_check_trusted(p, type, ret_why);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                *ret_path = TAKE_PTR(p);
        return r;
}

int cadir_check_trusted(const char *dir, char **ret_path, char **ret_why) {
        static const int files[] = { CA_CERT, CA_CHAIN, CA_KEY }; /* what SUBMIT reads */
        int r;

        r = check_trusted_one(strdup(dir), S_IFDIR, ret_path, ret_why);
        if (r >= 0)
                r = check_trusted_one(cadir_private(dir), S_IFDIR, ret_path, ret_why);
        for (size_t i = 0; i < ELEMENTSOF(files) && r >= 0; i++)
                r = check_trusted_one(cadir_path(dir, files[i]), S_IFREG, ret_path, ret_why);
        return r;
}

struct pem_text {
        char *data;
        size_t len;
};

/* Key text is wiped before it is freed. */
static void pem_text_erase(struct pem_text *t) {
        if (t->data)
                explicit_bzero(t->data, t->len);
        free(t->data);
}

/* One file of a generation, whole; a private one is refused before reading when others can read it. */
static int read_ca_file(const char *dir, int file, struct pem_text *ret) {
        _cleanup_free_ char *p = cadir_path(dir, file);
        int r;

        if (!p)
                return -ENOMEM;
        if (ca_files[file].mode == 0600) {
                r = check_private_file(p);
                if (r < 0)
                        return r;
        }
        return read_file_full(p, FILEIO_MAX_SIZE, &ret->data, &ret->len);
}

/* ca.crt, chain.pem, private/ca.key in that order; *failed names the file at fault. */
static int load_ca_locked(const char *dir, struct ca **ret, int *failed) {
        _cleanup_(pem_text_erase) struct pem_text cert_pem = {}, chain = {}, key_pem = {};
        _cleanup_(cert_freep) struct cert *cert = NULL;
        _cleanup_(key_freep) struct key *key = NULL;
        int r;

        *failed = CA_CERT;
        r = read_ca_file(dir, CA_CERT, &cert_pem);
        if (r >= 0)
                r = cert_parse_pem(cert_pem.data, cert_pem.len, &cert);
        if (r < 0)
                return r;
        *failed = CA_CHAIN;
        r = read_ca_file(dir, CA_CHAIN, &chain);
        if (r >= 0)
                r = pem_certificates_only(chain.data, chain.len);
        if (r < 0)
                return r;
        *failed = CA_KEY;
        r = read_ca_file(dir, CA_KEY, &key_pem);
        if (r >= 0)
                r = key_parse_pem_for(cert, key_pem.data, key_pem.len, &key);
        if (r < 0)
                return r;
        return ca_new(&cert, &key, &chain.data, ret);
}

int cadir_load_ca(const char *dir, struct ca **ret, char **ret_failed_path) {
        _cleanup_close_ int lock = -1;
        int failed = CA_CERT; /* no directory, no ca.crt */
        int r;

        r = lock = cadir_lock(dir, LOCK_SH);
        if (r >= 0)
                r = load_ca_locked(dir, ret, &failed);
        if (r < 0 && r != -ENOMEM)
                *ret_failed_path = cadir_path(dir, failed);
        return r;
}

/* ---- changing generations: the CLI's side ---- */

void ca_material_done(struct ca_material *m) {
        for (size_t i = 0; i < _CA_FILE_MAX; i++)
                free(m->pem[i]);
}

static int fsync_dir(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return log_error_errno(negative_errno(), "cannot sync %s: %m", path);
        return 0;
}

/*
 * The SELinux types of the policy's layout (selinux/ctrcert.fc): /etc/ctrcert
 * is ctrcert_conf_t, a CA directory in it ctrcert_ca_cert_t, its private/ (and
 * previous/private/) ctrcert_ca_key_t. A directory made here inherits its
 * parent's type, so without this a CA key written by `ctrcertctl ca init` would
 * carry the type of the configuration, which the agent may read, until a
 * restorecon. path is given the type below its parent's, keeping user, role
 * and level; nothing is done outside the layout or without SELinux labels.
 */
static const struct {
        const char *parent, *child;
        bool is_private;
} label_layout[] = {
        { ":ctrcert_conf_t:", ":ctrcert_ca_cert_t:", false },   /* /etc/ctrcert/ca */
        { ":ctrcert_ca_cert_t:", ":ctrcert_ca_cert_t:", false }, /* its previous/ (and previous.next/) */
        { ":ctrcert_ca_cert_t:", ":ctrcert_ca_key_t:", true },   /* their private/ */
};

static int label_below(const char *parent, const char *path, bool is_private) {
        char label[256], next[256];
        ssize_t n = getxattr(parent, "security.selinux", label, sizeof(label) - 1);
        const char *from = NULL, *to = NULL, *at = NULL;

        if (n < 0)
                return errno == ENODATA || errno == ENOTSUP ? 0 : log_error_errno(negative_errno(), "%s: %m", parent);
        label[n] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(label_layout) && !at; i++)
                if (label_layout[i].is_private == is_private && (at = strstr(label, label_layout[i].parent))) {
                        from = label_layout[i].parent;
                        to = label_layout[i].child;
                }
        if (!at)
                return 0;
        n = snprintf(next, sizeof(next), "%.*s%s%s", (int) (at - label), label, to, at + strlen(from));
        if (n < 0 || (size_t) n >= sizeof(next))
                return -EINVAL;
        if (setxattr(path, "security.selinux", next, strlen(next) + 1, 0) < 0)
                return log_error_errno(negative_errno(), "cannot give %s the SELinux label %s: %m (restorecon -R %s)",
                                       path, next, path);
        return 0;
}

/* dir and dir/private (0700: the keys live there), labelled as the policy lays them out. */
static int make_dirs(const char *dir) {
        _cleanup_free_ char *priv = cadir_private(dir), *parent = path_join(dir, "..");
        bool made = access(dir, F_OK) < 0;
        int r;

        if (!priv || !parent)
                return -ENOMEM;
        r = mkdir_parents(dir, 0755);
        if (r < 0)
                return log_error_errno(r, "cannot create %s: %m", dir);
        if (made && label_below(parent, dir, false) < 0)
                return -EACCES;
        if (mkdir(priv, 0700) < 0 && errno != EEXIST)
                return log_error_errno(negative_errno(), "cannot create %s: %m", priv);
        if (chmod(priv, 0700) < 0)
                return log_error_errno(negative_errno(), "cannot restrict %s: %m", priv);
        return label_below(dir, priv, true) < 0 ? -EACCES : 0;
}

/* Each file of m as dir/NAME + suffix, atomically. */
static int write_material(const char *dir, const struct ca_material *m, const char *suffix) {
        for (size_t i = 0; i < _CA_FILE_MAX; i++) {
                _cleanup_free_ char *p = NULL;
                int r;

                if (!m->pem[i]) /* a node's CA directory gets no root key */
                        continue;
                if (asprintf(&p, "%s/%s%s", dir, ca_files[i].name, suffix) < 0)
                        return -ENOMEM;
                r = write_file_atomic(p, m->pem[i], strlen(m->pem[i]), ca_files[i].mode);
                if (r < 0)
                        return log_error_errno(r, "cannot write %s: %m", p);
        }
        return 0;
}

/* ca-bundle.pem: chain.pem, then previous/chain.pem during a rollover. */
static int write_bundle(const char *dir) {
        _cleanup_free_ char *chain = cadir_path(dir, CA_CHAIN), *prev_dir = cadir_previous(dir), *prev = NULL,
                            *out = path_join(dir, BUNDLE), *a = NULL, *b = NULL, *all = NULL;
        int r;

        if (!chain || !prev_dir || !out || !(prev = cadir_path(prev_dir, CA_CHAIN)))
                return -ENOMEM;
        r = read_file_full(chain, FILEIO_MAX_SIZE, &a, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot read %s: %m", chain);
        r = read_file_full(prev, FILEIO_MAX_SIZE, &b, NULL);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "cannot read %s: %m", prev);
        if (asprintf(&all, "%s%s", a, b ? b : "") < 0)
                return -ENOMEM;
        r = write_file_atomic(out, all, strlen(all), 0644);
        return r < 0 ? log_error_errno(r, "cannot write %s: %m", out) : 0;
}

/* Removes the files a generation has from gen_dir, then the directory; anything else in it stops us. */
static int remove_generation(const char *gen_dir) {
        _cleanup_free_ char *priv = cadir_private(gen_dir);

        if (!priv)
                return -ENOMEM;
        for (size_t i = 0; i < _CA_FILE_MAX; i++) {
                _cleanup_free_ char *p = cadir_path(gen_dir, i);

                if (!p)
                        return -ENOMEM;
                if (unlink(p) < 0 && errno != ENOENT)
                        return log_error_errno(negative_errno(), "cannot remove %s: %m", p);
        }
        if ((rmdir(priv) < 0 && errno != ENOENT) || (rmdir(gen_dir) < 0 && errno != ENOENT))
                return log_error_errno(negative_errno(), "cannot remove %s (files of its own in it?): %m", gen_dir);
        return 0;
}

/*
 * dir's exclusive lock, for a change to its generations. Readers
 * (cadir_load_ca) take it shared: none sees one generation's certificate
 * with another's key, or half of a swap.
 */
static int lock_generations(const char *dir) {
        int fd = cadir_lock(dir, LOCK_EX);

        return fd < 0 ? log_error_errno(fd, "cannot lock %s: %m", dir) : fd;
}

/* After a change: ca-bundle.pem as the generations now are, and the renames made durable. */
static int settle(const char *dir) {
        _cleanup_free_ char *priv = cadir_private(dir);

        if (!priv)
                return -ENOMEM;
        if (write_bundle(dir) < 0 || fsync_dir(priv) < 0 || fsync_dir(dir) < 0)
                return -EIO;
        return 0;
}

int cadir_drop_previous(const char *dir) {
        _cleanup_free_ char *prev = cadir_previous(dir);
        _cleanup_close_ int lock = -1;
        int r;

        if (!prev)
                return -ENOMEM;
        lock = lock_generations(dir);
        if (lock < 0)
                return lock;
        r = remove_generation(prev);
        return r < 0 ? r : settle(dir);
}

int cadir_write(const char *dir, const struct ca_material *m) {
        _cleanup_free_ char *prev = cadir_previous(dir);
        int r;

        if (!prev)
                return -ENOMEM;
        r = make_dirs(dir);
        if (r >= 0)
                r = write_material(dir, m, "");
        if (r >= 0 && access(prev, F_OK) >= 0) /* a new CA ends any rollover of the one it replaces */
                r = remove_generation(prev);
        return r < 0 ? r : write_bundle(dir);
}

/* Hard links from tmp to dir's current files. Not the root key: nothing is signed by the previous root again. */
static int link_current(const char *dir, const char *tmp) {
        for (size_t i = CA_ROOT_KEY + 1; i < _CA_FILE_MAX; i++) {
                _cleanup_free_ char *from = cadir_path(dir, i), *to = cadir_path(tmp, i);

                if (!from || !to)
                        return -ENOMEM;
                if (link(from, to) < 0 && errno != ENOENT)
                        return log_error_errno(negative_errno(), "cannot link %s to %s: %m", from, to);
        }
        return 0;
}

/*
 * previous/ made anew (dir's lock is held): prev's files, or with prev NULL
 * hard links to the current generation (a rollover). Built complete in
 * previous.next/ first, then renamed over any previous/, so a crash leaves
 * one whole previous/ or none.
 */
static int replace_previous(const char *dir, const struct ca_material *prev) {
        _cleanup_free_ char *tmp = path_join(dir, PREVIOUS STAGED), *dest = cadir_previous(dir);
        int r;

        if (!tmp || !dest)
                return -ENOMEM;
        r = remove_generation(tmp); /* left by a crash before the rename below */
        if (r >= 0)
                r = make_dirs(tmp);
        if (r >= 0)
                r = prev ? write_material(tmp, prev, "") : link_current(dir, tmp);
        if (r >= 0)
                r = fsync_dir(tmp);
        if (r >= 0)
                r = remove_generation(dest);
        if (r >= 0 && rename(tmp, dest) < 0)
                r = log_error_errno(negative_errno(), "cannot rename %s to %s: %m", tmp, dest);
        return r;
}

/* Renames every staged NAME.next over NAME. Returns how many there were. */
static int rename_staged(const char *dir) {
        int n = 0;

        for (size_t i = 0; i < _CA_FILE_MAX; i++) {
                _cleanup_free_ char *to = cadir_path(dir, i), *from = NULL;

                if (!to || asprintf(&from, "%s" STAGED, to) < 0)
                        return -ENOMEM;
                if (rename(from, to) >= 0)
                        n++;
                else if (errno != ENOENT)
                        return log_error_errno(negative_errno(), "cannot rename %s to %s: %m", from, to);
        }
        return n;
}

static int swap_locked(const char *dir, bool link_first) {
        _cleanup_close_ int lock = lock_generations(dir);
        int r = lock;

        if (r >= 0 && link_first)
                r = replace_previous(dir, NULL);
        if (r >= 0)
                r = rename_staged(dir);
        if (r >= 0 && settle(dir) < 0)
                return -EIO;
        return r;
}

int cadir_swap_in(const char *dir, const struct ca_material *m) {
        int r = write_material(dir, m, STAGED);

        return r < 0 ? r : swap_locked(dir, true) < 0 ? -EIO : 0;
}

int cadir_swap_complete(const char *dir) {
        int r = swap_locked(dir, false);

        return r < 0 ? r : r > 0;
}

int cadir_read(const char *dir, struct ca_material *m) {
        for (size_t i = 0; i < _CA_FILE_MAX; i++) {
                _cleanup_free_ char *p = cadir_path(dir, i);
                int r;

                if (!p)
                        return -ENOMEM;
                r = read_file_full(p, FILEIO_MAX_SIZE, &m->pem[i], NULL);
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "cannot read %s: %m", p);
        }
        return 0;
}

int cadir_install(const char *dir, const struct ca_material *cur, const struct ca_material *prev) {
        _cleanup_free_ char *prev_dir = cadir_previous(dir);
        _cleanup_close_ int lock = -1;
        int r;

        if (!prev_dir)
                return -ENOMEM;
        r = make_dirs(dir);
        if (r < 0)
                return r;
        lock = lock_generations(dir);
        if (lock < 0)
                return lock;
        r = write_material(dir, cur, "");
        if (r >= 0)
                r = prev ? replace_previous(dir, prev) : remove_generation(prev_dir);
        return r < 0 ? r : settle(dir);
}
