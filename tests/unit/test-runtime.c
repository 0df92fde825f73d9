/* SPDX-License-Identifier: MIT */
#include <signal.h>

#include "runtime-cli.h"
#include "strv.h"
#include "unit.h"

/* The runtime command lines, joined by spaces; "--" ends the options before every name. */
static char *joined(char **argv) {
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        ck_assert_ptr_nonnull(f);
        STRV_FOREACH(a, argv)
                fprintf(f, "%s%s", a == argv ? "" : " ", *a);
        fclose(f);
        strv_free(argv);
        return s;
}

static struct config cfg = { .agent = { .podman = (char *) "podman", .docker = (char *) "docker" } };

static char *action(int runtime, int act, int sig, char **cmd) {
        struct mf_container b = { .runtime = runtime, .action = act, .signal = sig, .exec = cmd };
        char **argv = NULL;

        ck_assert_int_eq(runtime_action_argv(&cfg, &b, "--all", &argv), 0);
        return joined(argv);
}

START_TEST(test_names_are_never_options) {
        char *cmd[] = { (char *) "rabbitmqctl", (char *) "eval", NULL };
        _cleanup_free_ char *restart = action(RUNTIME_PODMAN, ACTION_RESTART, 0, NULL),
                            *reload = action(RUNTIME_DOCKER, ACTION_RELOAD, SIGHUP, NULL),
                            *exec = action(RUNTIME_PODMAN, ACTION_EXEC, 0, cmd), *copy = NULL;
        char **argv = NULL;

        ck_assert_str_eq(restart, "podman restart -- --all");
        ck_assert_str_eq(reload, "docker kill --signal 1 -- --all");
        ck_assert_str_eq(exec, "podman exec -- --all rabbitmqctl eval");
        ck_assert_int_eq(runtime_copy_argv(&cfg, RUNTIME_PODMAN, "--all", &argv), 0);
        copy = joined(argv);
        ck_assert_str_eq(copy, "podman exec -i -- --all tar -x -p -f - -C /");
}
END_TEST

static Suite *runtime_suite(void) {
        Suite *s = suite_create("runtime");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_names_are_never_options);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(runtime_suite)
