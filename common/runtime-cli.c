/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime-cli.h"
#include "strv.h"

const char *runtime_cli(const struct config *cfg, int runtime) {
        return runtime == RUNTIME_DOCKER ? cfg->agent.docker : cfg->agent.podman;
}

static int argv_build(char ***ret, const char *first, ...) {
        _cleanup_(strv_freep) char **v = NULL;
        va_list ap;
        int r = 0;

        va_start(ap, first);
        for (const char *s = first; s && r >= 0; s = va_arg(ap, const char *))
                r = strv_push(&v, s);
        va_end(ap);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

/* "--" before every name: whatever a name looks like, podman and docker never take it for an option. */
int runtime_action_argv(const struct config *cfg, const struct mf_container *b, const char *name, char ***ret) {
        const char *cli = runtime_cli(cfg, b->runtime);
        char sig[16];

        switch (b->action) {
        case ACTION_RESTART:
                return argv_build(ret, cli, "restart", "--", name, NULL);
        case ACTION_RELOAD:
                snprintf(sig, sizeof(sig), "%d", b->signal);
                return argv_build(ret, cli, "kill", "--signal", sig, "--", name, NULL);
        case ACTION_EXEC:
                return runtime_exec_argv(cfg, b->runtime, name, b->exec, ret);
        default:
                *ret = NULL;
                return 0;
        }
}

int runtime_exec_argv(const struct config *cfg, int runtime, const char *name, char *const *cmd, char ***ret) {
        int r;

        /* On the host for a systemd unit; never through a shell: the manifest's argv goes to exec as it is. */
        r = runtime == RUNTIME_SYSTEMD ? 0 : argv_build(ret, runtime_cli(cfg, runtime), "exec", "--", name, NULL);
        STRV_FOREACH(a, cmd)
                if (r >= 0)
                        r = strv_push(ret, *a);
        return r;
}

int runtime_copy_argv(const struct config *cfg, int runtime, const char *name, char ***ret) {
        return argv_build(ret, runtime_cli(cfg, runtime), "exec", "-i", "--", name, "tar", "-x", "-p", "-f", "-", "-C", "/",
                          NULL);
}

int runtime_list_argv(const struct config *cfg, int runtime, char ***ret) {
        return argv_build(ret, runtime_cli(cfg, runtime), "ps", "--format", "{{.Names}}", NULL);
}

int runtime_mounts_argv(const struct config *cfg, int runtime, const char *name, char ***ret) {
        return argv_build(ret, runtime_cli(cfg, runtime), "inspect", "--format",
                          "{{range .Mounts}}{{.Source}}\t{{.Destination}}\n{{end}}", "--", name, NULL);
}

int runtime_match(const char *pattern, const char *names, char ***ret) {
        _cleanup_free_ char *copy = strdup(names);
        char *save = NULL;
        regex_t re;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        /* manifest.c compiled it once already: failing now means memory. */
        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line && r >= 0; line = strtok_r(NULL, "\n", &save))
                if (regexec(&re, line, 0, NULL, 0) == 0)
                        r = strv_push(ret, line);
        regfree(&re);
        return r;
}

int runtime_action_describe(const struct mf_container *b, char **ret) {
        if (b->action == ACTION_RELOAD)
                return asprintf(ret, "reload(SIG%s)", sigabbrev_np(b->signal) ? sigabbrev_np(b->signal) : "?") < 0
                               ? -ENOMEM
                               : 0;
        *ret = strdup(action_names[b->action]);
        return *ret ? 0 : -ENOMEM;
}
