/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "crlpub.h"
#include "crypto.h"
#include "fileio.h"
#include "log.h"
#include "strv.h"

struct crlpub {
        char *source; /* state_dir/ca/crl.pem */
        char *const *paths;
        sd_event_source *watch;
};

/*
 * Writes data to path unless it holds exactly that already (each publish would
 * wake its readers). The directory may be a web server's: what its owner put
 * at path (a FIFO, a symlink) is never opened, only replaced.
 */
static int publish_one(const char *path, const char *data, size_t len) {
        _cleanup_free_ char *old = NULL;
        size_t old_len = 0;
        int r = read_file_safe(path, FILEIO_MAX_SIZE, &old, &old_len);
        bool odd = r == -EBADFD || r == -ELOOP;

        if (r >= 0 && old_len == len && memcmp(old, data, len) == 0)
                return 0;
        r = write_file_atomic(path, data, len, 0644);
        if (r >= 0 && odd)
                log_warning("%s was not a regular file (a FIFO, device, socket or symlink): replaced it", path);
        return r;
}

static void publish(struct crlpub *p) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r, n;

        r = read_file_safe(p->source, FILEIO_MAX_SIZE, &data, &len);
        if (r == -ENOENT)
                return; /* nothing revoked yet */
        if (r < 0) {
                log_error_errno(r, "CRL %s: %m; the published copies are unchanged", p->source);
                return;
        }
        n = crl_count_pem(data, len);
        if (n < 0) {
                log_error("CRL %s: not a PEM CRL; the published copies keep the previous one", p->source);
                return;
        }
        STRV_FOREACH(path, p->paths) {
                r = publish_one(*path, data, len);
                if (r < 0)
                        log_error_errno(r, "cannot publish the CRL to %s: %m", *path);
                else
                        log_info("published the CRL (%d CRL%s) to %s", n, n == 1 ? "" : "s", *path);
        }
}

static int on_change(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        if (ev->len > 0 && streq(ev->name, "crl.pem"))
                publish(userdata);
        return 0;
}

int crlpub_new(sd_event *e, const char *state_dir, char *const *paths, struct crlpub **ret) {
        _cleanup_free_ char *dir = path_join(state_dir, "ca");
        struct crlpub *p;
        int r;

        *ret = NULL;
        if (!paths || !paths[0])
                return 0;
        if (!dir)
                return -ENOMEM;
        /* The helper's state directory, made as the index makes it: it may not exist before the first issuance. */
        r = mkdir_parents(dir, 0700);
        if (r < 0)
                return log_error_errno(r, "cannot create %s: %m", dir);
        p = calloc(1, sizeof(*p));
        if (!p || !(p->source = path_join(dir, "crl.pem"))) {
                crlpub_free(p);
                return -ENOMEM;
        }
        p->paths = paths;
        /* ctrcertctl writes crl.pem to a temporary file and renames it: IN_MOVED_TO; IN_CLOSE_WRITE for an editor's write. */
        r = sd_event_add_inotify(e, &p->watch, dir, IN_MOVED_TO | IN_CLOSE_WRITE, on_change, p);
        if (r < 0) {
                crlpub_free(p);
                return log_error_errno(r, "cannot watch %s: %m", dir);
        }
        publish(p);
        *ret = p;
        return 0;
}

void crlpub_free(struct crlpub *p) {
        if (!p)
                return;
        sd_event_source_disable_unref(p->watch);
        free(p->source);
        free(p);
}
