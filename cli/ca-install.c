/* SPDX-License-Identifier: MIT */
/*
 * ctrcertctl ca install SRC [DIR]: puts a CA directory made on another host
 * (the Ansible role stages it in DIR/incoming/) in place as one change, so
 * the helper never pairs one generation's certificate with another's key.
 * SRC's previous/ (a rollover under way on the CA host) comes along; without
 * one, DIR's goes (the rollover was finished there). Prints "installed" or
 * "unchanged", so a second run changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "ca.h"
#include "cli.h"
#include "crypto.h"
#include "log.h"

/* A generation fit to sign: ca.crt, chain.pem and a private ca.key that is its key; root.crt for FETCH-ROOTS. */
static int check_generation(const char *dir, const struct ca_material *m) {
        _cleanup_(ca_freep) struct ca *ca = NULL;
        _cleanup_free_ char *failed = NULL, *root = cadir_path(dir, CA_ROOT);
        int r;

        if (!root)
                return -ENOMEM;
        if (m->pem[CA_ROOT_KEY])
                return log_error_errno(-EPERM, "%s/%s: a root key is not installed; it stays on the host that made it",
                                       dir, ca_files[CA_ROOT_KEY].name);
        if (!m->pem[CA_ROOT])
                return log_error_errno(-ENOENT, "%s: missing (certmonger's FETCH-ROOTS needs it)", root);
        r = cadir_load_ca(dir, &ca, &failed);
        if (r < 0)
                log_error("%s: %s", failed ? failed : dir,
                          r == -EPERM          ? "readable by group or others; refused (chmod 0600, and consider it exposed)"
                          : r == -EKEYREJECTED ? "not the key of ca.crt beside it"
                          : r == -EBADMSG      ? "not the PEM certificate or key it should be"
                                               : strerror(-r));
        return r;
}

static bool same_text(const char *a, const char *b) {
        return (!a && !b) || (a && b && streq(a, b));
}

static bool same_material(const struct ca_material *a, const struct ca_material *b) {
        for (size_t i = 0; i < _CA_FILE_MAX; i++)
                if (!same_text(a->pem[i], b->pem[i]))
                        return false;
        return true;
}

int ca_install_dir(const char *src, const char *dir) {
        _cleanup_(ca_material_done) struct ca_material cur = {}, prev = {}, have = {}, have_prev = {};
        _cleanup_free_ char *src_prev = cadir_previous(src), *dir_prev = cadir_previous(dir);
        bool with_prev;
        int r;

        if (!src_prev || !dir_prev)
                return log_error_errno(-ENOMEM, "ca install: %m");
        if (cadir_has_root_key(dir)) {
                log_error("%s holds the root key: CAs are made there (ctrcertctl ca init/rollover), not installed", dir);
                return -EPERM;
        }
        with_prev = cadir_has_previous(src);
        r = cadir_read(src, &cur);
        if (r >= 0)
                r = check_generation(src, &cur);
        if (r >= 0 && with_prev)
                r = cadir_read(src_prev, &prev);
        if (r >= 0 && with_prev)
                r = check_generation(src_prev, &prev);
        if (r >= 0)
                r = cadir_read(dir, &have);
        if (r >= 0)
                r = cadir_read(dir_prev, &have_prev);
        if (r < 0)
                return r;
        if (same_material(&cur, &have) && same_material(with_prev ? &prev : &(struct ca_material) {}, &have_prev)) {
                printf("%s: unchanged\n", dir);
                return 0;
        }
        r = cadir_install(dir, &cur, with_prev ? &prev : NULL);
        if (r < 0)
                return r;
        printf("%s: installed from %s%s\n", dir, src, with_prev ? " (with the previous generation: a rollover)" : "");
        cli_event("ca-install", "installed a CA made on another host", "CTRCERT_CA_DIR", dir, "CTRCERT_SOURCE", src,
                  "CTRCERT_WITH_PREVIOUS", with_prev ? "1" : "0", NULL);
        return 0;
}
