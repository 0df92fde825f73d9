/* SPDX-License-Identifier: MIT */
/*
 * The files of a CA directory's generations: writing one, swapping in the
 * next one with the current kept in previous/, dropping previous/, and
 * ca-bundle.pem (both generations' CA certificates). Errors are logged here,
 * where the path at fault is known.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ca-generation.h"
#include "fileio.h"
#include "log.h"

const struct ca_file ca_files[_CA_FILE_MAX] = {
        [CA_ROOT_KEY] = { "private/root.key", 0600 }, [CA_KEY] = { "private/ca.key", 0600 },
        [CA_ROOT] = { "root.crt", 0644 },             [CA_CHAIN] = { "chain.pem", 0644 },
        [CA_CERT] = { "ca.crt", 0644 },
};

#define STAGED ".next"

void ca_material_done(struct ca_material *m) {
        for (size_t i = 0; i < _CA_FILE_MAX; i++)
                free(m->pem[i]);
}

int ca_dir_existing(const char *dir, char **ret) {
        for (size_t i = 0; i < _CA_FILE_MAX; i++) {
                _cleanup_free_ char *p = path_join(dir, ca_files[i].name);

                if (!p)
                        return -ENOMEM;
                if (access(p, F_OK) >= 0) {
                        *ret = TAKE_PTR(p);
                        return 1;
                }
        }
        return 0;
}

char *ca_previous_dir(const char *dir) {
        return path_join(dir, "previous");
}

bool ca_has_previous(const char *dir) {
        _cleanup_free_ char *p = ca_previous_dir(dir);

        return p && access(p, F_OK) >= 0;
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
        _cleanup_free_ char *priv = path_join(dir, "private"), *parent = path_join(dir, "..");
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
        _cleanup_free_ char *chain = path_join(dir, "chain.pem"), *prev = path_join(dir, "previous/chain.pem"),
                            *out = path_join(dir, "ca-bundle.pem"), *a = NULL, *b = NULL, *all = NULL;
        int r;

        if (!chain || !prev || !out)
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
        _cleanup_free_ char *priv = path_join(gen_dir, "private");

        if (!priv)
                return -ENOMEM;
        for (size_t i = 0; i < _CA_FILE_MAX; i++) {
                _cleanup_free_ char *p = path_join(gen_dir, ca_files[i].name);

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
 * dir's exclusive lock, for a change to its generations. Readers (the
 * helper's ca_load) take it shared: none sees one generation's certificate
 * with another's key, or half of a swap.
 */
static int lock_generations(const char *dir) {
        int fd = lock_dir(dir, LOCK_EX);

        return fd < 0 ? log_error_errno(fd, "cannot lock %s: %m", dir) : fd;
}

/* After a change: ca-bundle.pem as the generations now are, and the renames made durable. */
static int settle(const char *dir) {
        _cleanup_free_ char *priv = path_join(dir, "private");

        if (!priv)
                return -ENOMEM;
        if (write_bundle(dir) < 0 || fsync_dir(priv) < 0 || fsync_dir(dir) < 0)
                return -EIO;
        return 0;
}

int ca_drop_previous(const char *dir) {
        _cleanup_free_ char *prev = ca_previous_dir(dir);
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

int ca_write(const char *dir, const struct ca_material *m) {
        _cleanup_free_ char *prev = ca_previous_dir(dir);
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
                _cleanup_free_ char *from = path_join(dir, ca_files[i].name), *to = path_join(tmp, ca_files[i].name);

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
        _cleanup_free_ char *tmp = path_join(dir, "previous" STAGED), *dest = ca_previous_dir(dir);
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
                _cleanup_free_ char *to = path_join(dir, ca_files[i].name), *from = NULL;

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

int ca_swap_in(const char *dir, const struct ca_material *m) {
        int r = write_material(dir, m, STAGED);

        return r < 0 ? r : swap_locked(dir, true) < 0 ? -EIO : 0;
}

int ca_swap_complete(const char *dir) {
        int r = swap_locked(dir, false);

        return r < 0 ? r : r > 0;
}

int ca_material_read(const char *dir, struct ca_material *m) {
        for (size_t i = 0; i < _CA_FILE_MAX; i++) {
                _cleanup_free_ char *p = path_join(dir, ca_files[i].name);
                int r;

                if (!p)
                        return -ENOMEM;
                r = read_file_full(p, FILEIO_MAX_SIZE, &m->pem[i], NULL);
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "cannot read %s: %m", p);
        }
        return 0;
}

int ca_install(const char *dir, const struct ca_material *cur, const struct ca_material *prev) {
        _cleanup_free_ char *prev_dir = ca_previous_dir(dir);
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
