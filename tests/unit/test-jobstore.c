/* SPDX-License-Identifier: MIT */
#include "jobstore.h"
#include "strv.h"
#include "unit.h"

static char *dir;

struct loaded {
        char keys[8][128];
        char ids[8][256];
        int held[8];
        int64_t expires[8];
        int n;
};

static void collect(const struct job_record *rec, void *userdata) {
        struct loaded *l = userdata;
        _cleanup_free_ char *ids = strv_join(rec->ids, ",");

        ck_assert_int_lt(l->n, 8);
        snprintf(l->keys[l->n], sizeof(l->keys[0]), "%s", rec->key);
        snprintf(l->ids[l->n], sizeof(l->ids[0]), "%s", ids);
        l->expires[l->n] = rec->expires;
        l->held[l->n++] = rec->held;
}

static int find(const struct loaded *l, const char *key) {
        for (int i = 0; i < l->n; i++)
                if (streq(l->keys[i], key))
                        return i;
        return -1;
}

static void setup(void) {
        dir = unit_tmpdir();
}

static void teardown(void) {
        rm_rf(dir);
        free(dir);
}

START_TEST(test_save_load_remove) {
        _cleanup_(jobstore_freep) struct jobstore *s = NULL;
        _cleanup_free_ char *sub = NULL;
        char *ids_a[] = { "web-a", "extra", NULL }, *ids_b[] = { "db", NULL };
        struct loaded l = {};
        int i;

        ck_assert_int_ge(asprintf(&sub, "%s/state/agent", dir), 0);
        ck_assert_int_eq(jobstore_open(sub, &s), 0); /* creates the directory and its parents */
        ck_assert_int_eq(jobstore_save(s, &(struct job_record) { .key = "podman/ctr-a", .held = false,
                                                                  .expires = 1796083200, .ids = ids_a }), 0);
        ck_assert_int_eq(jobstore_save(s, &(struct job_record) { .key = "podman/~^web-[0-9]+$", .held = true, .ids = ids_b }), 0);
        ck_assert_int_eq(jobstore_load_all(s, collect, &l), 0);
        ck_assert_int_eq(l.n, 2);
        i = find(&l, "podman/ctr-a");
        ck_assert_int_ge(i, 0);
        ck_assert_str_eq(l.ids[i], "web-a,extra");
        ck_assert_int_eq(l.held[i], 0);
        ck_assert_int_eq(l.expires[i], 1796083200); /* the expiry of the certificate in use, for windows */
        i = find(&l, "podman/~^web-[0-9]+$");
        ck_assert_int_ge(i, 0);
        ck_assert_str_eq(l.ids[i], "db");
        ck_assert_int_eq(l.held[i], 1);
        ck_assert_int_eq(l.expires[i], 0); /* unknown: no line written, none read */

        /* Saving again replaces; removing forgets; removing twice is fine. */
        ck_assert_int_eq(jobstore_save(s, &(struct job_record) { .key = "podman/ctr-a", .held = false, .ids = ids_b }), 0);
        ck_assert_int_eq(jobstore_remove(s, "podman/~^web-[0-9]+$"), 0);
        ck_assert_int_eq(jobstore_remove(s, "podman/~^web-[0-9]+$"), 0);
        memset(&l, 0, sizeof(l));
        ck_assert_int_eq(jobstore_load_all(s, collect, &l), 0);
        ck_assert_int_eq(l.n, 1);
        ck_assert_str_eq(l.keys[0], "podman/ctr-a");
        ck_assert_str_eq(l.ids[0], "db");
}
END_TEST

START_TEST(test_bad_records_skipped) {
        _cleanup_(jobstore_freep) struct jobstore *s = NULL;
        char path[512], *ids[] = { "web", NULL };
        struct loaded l = {};

        ck_assert_int_eq(jobstore_open(dir, &s), 0);
        ck_assert_int_eq(jobstore_save(s, &(struct job_record) { .key = "podman/good", .held = false, .ids = ids }), 0);
        snprintf(path, sizeof(path), "%s/0000000000000001.job", dir);
        write_text(path, "ctrcert-job 1\nkey podman/x\nheld 0\nbogus line\n");
        snprintf(path, sizeof(path), "%s/0000000000000002.job", dir);
        write_text(path, "something else\n");
        snprintf(path, sizeof(path), "%s/0000000000000003.job", dir);
        write_text(path, "ctrcert-job 1\ncert web\n"); /* no key */
        snprintf(path, sizeof(path), "%s/x.job.tmpAbCdEf", dir); /* a crash's leftover */
        write_text(path, "ctrcert-job 1\nkey podman/tmp\nheld 0\ncert web\n");
        ck_assert_int_eq(jobstore_load_all(s, collect, &l), 0);
        ck_assert_int_eq(l.n, 1);
        ck_assert_str_eq(l.keys[0], "podman/good");
        /* Left in place for the operator to look at. */
        snprintf(path, sizeof(path), "%s/0000000000000001.job", dir);
        ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(test_record_is_private) {
        _cleanup_(jobstore_freep) struct jobstore *s = NULL;
        char *ids[] = { "web", NULL }, cmd[600];

        ck_assert_int_eq(jobstore_open(dir, &s), 0);
        ck_assert_int_eq(jobstore_save(s, &(struct job_record) { .key = "podman/a", .held = false, .ids = ids }), 0);
        snprintf(cmd, sizeof(cmd), "test \"$(stat -c %%a %s/*.job)\" = 600", dir);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_int_eq(jobstore_save(s, &(struct job_record) { .key = "bad\nkey", .held = false, .ids = ids }), -EINVAL);
}
END_TEST

static Suite *jobstore_suite(void) {
        Suite *s = suite_create("jobstore");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_save_load_remove);
        tcase_add_test(tc, test_bad_records_skipped);
        tcase_add_test(tc, test_record_is_private);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(jobstore_suite)
