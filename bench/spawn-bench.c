/* SPDX-License-Identifier: MIT */
/*
 * spawn-bench ROUNDS NAME=SCRIPT… : runs each `sh -c`-free command line
 * (argv split on spaces, environment inherited) ROUNDS times, alternating
 * between them so machine noise hits all alike, and prints per command the
 * median and p90 wall time and the peak RSS (wait4's ru_maxrss).
 * Each command is given as NAME=PROGRAM [ARG…] with its stdout discarded.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct cmd {
        const char *name;
        char *argv[16];
        double *ms;
        long max_rss_kb;
        int failures;
};

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void run_once(struct cmd *c, int round) {
        posix_spawn_file_actions_t fa;
        struct rusage ru;
        pid_t pid;
        int status;
        double t0;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        t0 = now_ms();
        if (posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, environ) != 0) {
                perror(c->argv[0]);
                exit(1);
        }
        wait4(pid, &status, 0, &ru);
        c->ms[round] = now_ms() - t0;
        posix_spawn_file_actions_destroy(&fa);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                c->failures++;
        if (ru.ru_maxrss > c->max_rss_kb)
                c->max_rss_kb = ru.ru_maxrss;
}

int main(int argc, char **argv) {
        int rounds = argc > 1 ? atoi(argv[1]) : 0, n = argc - 2;
        struct cmd *cmds;

        if (rounds < 1 || n < 1) {
                fprintf(stderr, "usage: spawn-bench ROUNDS NAME=PROGRAM [ARG…]…\n");
                return 2;
        }
        cmds = calloc((size_t) n, sizeof(*cmds));
        for (int i = 0; i < n; i++) {
                char *spec = strdup(argv[i + 2]), *eq = strchr(spec, '='), *tok, *save = NULL;
                int k = 0;

                *eq = '\0';
                cmds[i].name = spec;
                for (tok = strtok_r(eq + 1, " ", &save); tok && k < 15; tok = strtok_r(NULL, " ", &save))
                        cmds[i].argv[k++] = tok;
                cmds[i].ms = calloc((size_t) rounds, sizeof(double));
        }
        for (int r = 0; r < rounds; r++)
                for (int i = 0; i < n; i++)
                        run_once(&cmds[(i + r) % n], r);
        printf("%-16s %10s %10s %12s %9s\n", "command", "median_ms", "p90_ms", "peak_rss_kib", "failures");
        for (int i = 0; i < n; i++) {
                qsort(cmds[i].ms, (size_t) rounds, sizeof(double), cmp_double);
                printf("%-16s %10.2f %10.2f %12ld %9d\n", cmds[i].name, cmds[i].ms[rounds / 2],
                       cmds[i].ms[rounds * 9 / 10], cmds[i].max_rss_kb, cmds[i].failures);
        }
        return 0;
}
