/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cadir.h"
#include "crypto.h"
#include "fileio.h"
#include "unit.h"

/* One generation made in memory, as `ca init` would: root and issuing CA, keys and chain. */
static void make_material(const char *cn, struct ca_material *m) {
        _cleanup_(key_freep) struct key *rk = NULL, *ik = NULL;
        _cleanup_(cert_freep) struct cert *root = NULL, *issuing = NULL;
        char root_dn[64], ca_dn[64];

        snprintf(root_dn, sizeof(root_dn), "O=Test,CN=%s Root", cn);
        snprintf(ca_dn, sizeof(ca_dn), "O=Test,CN=%s Issuing", cn);
        ck_assert_int_eq(key_generate(KEYTYPE_EC_P256, &rk), 0);
        ck_assert_int_eq(key_generate(KEYTYPE_EC_P256, &ik), 0);
        ck_assert_int_eq(ca_cert_make(rk, root_dn, NULL, NULL, 3650, 1, &root), 0);
        ck_assert_int_eq(ca_cert_make(ik, ca_dn, root, rk, 365, 0, &issuing), 0);
        ck_assert_int_eq(key_to_pem(rk, &m->pem[CA_ROOT_KEY]), 0);
        ck_assert_int_eq(key_to_pem(ik, &m->pem[CA_KEY]), 0);
        ck_assert_int_eq(cert_to_pem(root, &m->pem[CA_ROOT]), 0);
        ck_assert_int_eq(cert_to_pem(issuing, &m->pem[CA_CERT]), 0);
        ck_assert_int_ge(asprintf(&m->pem[CA_CHAIN], "%s%s", m->pem[CA_CERT], m->pem[CA_ROOT]), 0);
}

static char *read_text(const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name);
        char *s = NULL;

        return read_file_full(p, FILEIO_MAX_SIZE, &s, NULL) < 0 ? NULL : s;
}

START_TEST(test_layout) {
        _cleanup_free_ char *dir = unit_tmpdir(), *key = cadir_path("/ca", CA_KEY), *prev = cadir_previous("/ca"),
                            *priv = cadir_private("/ca"), *existing = NULL;
        _cleanup_(ca_material_done) struct ca_material m = {};

        ck_assert_str_eq(key, "/ca/private/ca.key");
        ck_assert_str_eq(prev, "/ca/previous");
        ck_assert_str_eq(priv, "/ca/private");
        ck_assert_int_eq(cadir_existing(dir, &existing), 0);
        ck_assert(!cadir_has_root_key(dir));
        make_material("One", &m);
        ck_assert_int_eq(cadir_write(dir, &m), 0);
        ck_assert_int_eq(cadir_existing(dir, &existing), 1);
        ck_assert(strstr(existing, "/private/root.key"));
        ck_assert(cadir_has_root_key(dir));
        ck_assert(!cadir_has_previous(dir));
        rm_rf(dir);
}
END_TEST

START_TEST(test_load_ca) {
        _cleanup_free_ char *dir = unit_tmpdir(), *other = unit_tmpdir(), *failed = NULL, *key = NULL, *chain = NULL,
                            *cmd = NULL;
        _cleanup_(ca_material_done) struct ca_material m = {}, m2 = {};
        struct ca *ca = NULL;

        ck_assert_int_eq(cadir_load_ca(dir, &ca, &failed), -ENOENT);
        ck_assert(strstr(failed, "/ca.crt"));
        free(TAKE_PTR(failed));

        make_material("Load", &m);
        ck_assert_int_eq(cadir_write(dir, &m), 0);
        ck_assert_int_eq(cadir_load_ca(dir, &ca, &failed), 0);
        ck_assert_str_eq(ca_chain_pem(ca), m.pem[CA_CHAIN]);
        ca_free(TAKE_PTR(ca));

        key = cadir_path(dir, CA_KEY);
        ck_assert_int_eq(chmod(key, 0640), 0);
        ck_assert_int_eq(cadir_load_ca(dir, &ca, &failed), -EPERM);
        ck_assert_str_eq(failed, key);
        free(TAKE_PTR(failed));
        ck_assert_int_eq(chmod(key, 0600), 0);

        /* Another CA's key does not belong to this ca.crt. */
        make_material("Other", &m2);
        ck_assert_int_eq(cadir_write(other, &m2), 0);
        ck_assert_int_ge(asprintf(&cmd, "cp -p %s/private/ca.key %s", other, key), 0);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_int_eq(cadir_load_ca(dir, &ca, &failed), -EKEYREJECTED);
        ck_assert_str_eq(failed, key);
        free(TAKE_PTR(failed));

        /* chain.pem is passed on as text, so it must hold certificates and never a key. */
        chain = cadir_path(dir, CA_CHAIN);
        write_text(chain, "-----BEGIN PRIVATE KEY-----\n");
        ck_assert_int_eq(cadir_load_ca(dir, &ca, &failed), -EBADMSG);
        ck_assert_str_eq(failed, chain);
        free(TAKE_PTR(failed));
        write_text(chain, m.pem[CA_CHAIN]);

        write_text(key, "not a key\n");
        ck_assert_int_eq(chmod(key, 0600), 0);
        ck_assert_int_eq(cadir_load_ca(dir, &ca, &failed), -EBADMSG);
        ck_assert_str_eq(failed, key);
        ck_assert_ptr_null(ca);
        rm_rf(dir);
        rm_rf(other);
}
END_TEST

/* A rollover keeps the current generation in previous/, ca-bundle.pem holds both; the end drops it. */
START_TEST(test_swap) {
        _cleanup_free_ char *dir = unit_tmpdir(), *prev = cadir_previous(dir), *s = NULL, *both = NULL;
        _cleanup_(ca_material_done) struct ca_material g1 = {}, g2 = {}, back = {};

        make_material("G1", &g1);
        make_material("G2", &g2);
        ck_assert_int_eq(cadir_write(dir, &g1), 0);
        ck_assert_int_eq(cadir_swap_in(dir, &g2), 0);
        ck_assert(cadir_has_previous(dir));
        ck_assert_int_eq(cadir_read(prev, &back), 0);
        ck_assert_str_eq(back.pem[CA_CERT], g1.pem[CA_CERT]);
        ck_assert_ptr_null(back.pem[CA_ROOT_KEY]); /* nothing is signed by the previous root again */
        s = read_text(dir, "ca.crt");
        ck_assert_str_eq(s, g2.pem[CA_CERT]);
        free(s);
        ck_assert_int_ge(asprintf(&both, "%s%s", g2.pem[CA_CHAIN], g1.pem[CA_CHAIN]), 0);
        s = read_text(dir, "ca-bundle.pem");
        ck_assert_str_eq(s, both);
        free(s);
        /* nothing staged is left: a second completion finds none */
        ck_assert_int_eq(cadir_swap_complete(dir), 0);

        ck_assert_int_eq(cadir_drop_previous(dir), 0);
        ck_assert(!cadir_has_previous(dir));
        s = read_text(dir, "ca-bundle.pem");
        ck_assert_str_eq(s, g2.pem[CA_CHAIN]);
        rm_rf(dir);
}
END_TEST

/* A swap interrupted after previous/ was made: the staged NAME.next files are put in place. */
START_TEST(test_swap_complete) {
        _cleanup_free_ char *dir = unit_tmpdir(), *staged = NULL, *s = NULL;
        _cleanup_(ca_material_done) struct ca_material g1 = {}, g2 = {};

        make_material("G1", &g1);
        make_material("G2", &g2);
        ck_assert_int_eq(cadir_write(dir, &g1), 0);
        ck_assert_int_ge(asprintf(&staged, "%s/ca.crt.next", dir), 0);
        write_text(staged, g2.pem[CA_CERT]);
        ck_assert_int_eq(cadir_swap_complete(dir), 1);
        ck_assert_int_eq(access(staged, F_OK), -1);
        s = read_text(dir, "ca.crt");
        ck_assert_str_eq(s, g2.pem[CA_CERT]);
        ck_assert_int_eq(cadir_swap_complete(dir), 0);
        rm_rf(dir);
}
END_TEST

/* A reader waits while a change holds the directory: it never loads half of a swap. */
START_TEST(test_load_waits_for_lock) {
        _cleanup_free_ char *dir = unit_tmpdir();
        _cleanup_(ca_material_done) struct ca_material m = {};
        int lock, p[2], status;
        char result = 0;
        pid_t pid;

        make_material("Lock", &m);
        ck_assert_int_eq(cadir_write(dir, &m), 0);
        lock = cadir_lock(dir, LOCK_EX);
        ck_assert_int_ge(lock, 0);
        ck_assert_int_eq(pipe(p), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                _cleanup_free_ char *failed = NULL;
                struct ca *ca = NULL;
                char c;

                close(lock); /* the lock is the open file's: a copy kept here would hold it for the parent */
                c = cadir_load_ca(dir, &ca, &failed) == 0 ? 'y' : 'n';
                _exit(write(p[1], &c, 1) == 1 ? 0 : 1);
        }
        close(p[1]);
        /* Held: no answer yet (under load the child may not have started; that passes too, never fails). */
        ck_assert_int_eq(poll(&(struct pollfd) { .fd = p[0], .events = POLLIN }, 1, 200), 0);
        close(lock);
        ck_assert_int_eq(read(p[0], &result, 1), 1);
        ck_assert_int_eq(result, 'y');
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(p[0]);
        rm_rf(dir);
}
END_TEST

/* What the helper checks before trusting the CA: the first unsafe path, and why. */
START_TEST(test_check_trusted) {
        _cleanup_free_ char *dir = unit_tmpdir(), *path = NULL, *why = NULL, *priv = cadir_private(dir);
        _cleanup_(ca_material_done) struct ca_material m = {};

        make_material("Trust", &m);
        ck_assert_int_eq(cadir_write(dir, &m), 0);
        if (geteuid() != 0) {
                /* not root's: the directory itself is refused */
                ck_assert_int_eq(cadir_check_trusted(dir, &path, &why), -EPERM);
                ck_assert_str_eq(path, dir);
                rm_rf(dir);
                return;
        }
        ck_assert_int_eq(cadir_check_trusted(dir, &path, &why), 0);
        ck_assert_int_eq(chmod(priv, 0770), 0);
        ck_assert_int_eq(cadir_check_trusted(dir, &path, &why), -EPERM);
        ck_assert_str_eq(path, priv);
        ck_assert(strstr(why, "writable by group or others"));
        rm_rf(dir);
}
END_TEST

static Suite *cadir_suite(void) {
        Suite *s = suite_create("cadir");
        TCase *tc = tcase_create("core");

        /* as the helper runs it: without the host's openssl.cnf */
        if (crypto_init() < 0)
                abort();
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_layout);
        tcase_add_test(tc, test_load_ca);
        tcase_add_test(tc, test_swap);
        tcase_add_test(tc, test_swap_complete);
        tcase_add_test(tc, test_load_waits_for_lock);
        tcase_add_test(tc, test_check_trusted);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(cadir_suite)
