/* SPDX-License-Identifier: MIT */
/*
 * ctrcertctl: the operator's tool. The commands live in the files named for
 * them; this table lists them once, and from it come ctrcertctl --help, each
 * command's option parsing and --help, the words of the bash completion
 * (`ctrcertctl __complete`), and the one place a command's result becomes the
 * exit status.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "event.h"
#include "crypto.h"
#include "log.h"
#include "strv.h"

static const struct cli_command *const commands[] = {
        &cli_ca_init, &cli_ca_show, &cli_ca_issue_node, &cli_ca_rollover, &cli_ca_install,
        &cli_manifest_check,
        &cli_revoke, &cli_crl, &cli_index_check,
        &cli_status, &cli_jobs, &cli_release, &cli_pause, &cli_resume,
        &cli_audit, &cli_plan, &cli_notify, &cli_reload,
};

enum { GLOBAL_CONFIG, GLOBAL_BUS, GLOBAL_HELP, GLOBAL_VERSION };
static const struct cli_option global_options[] = {
        [GLOBAL_CONFIG] = { "config", 'c', "PATH", "configuration file (default " CTRCERT_CONFIG_PATH ")", "@file" },
        [GLOBAL_BUS] = { "bus", 'b', "BUS", "the agent's bus: system (default), session or an address", "system session" },
        [GLOBAL_HELP] = { "help", 'h', NULL, "this text; COMMAND --help: the command's" },
        [GLOBAL_VERSION] = { "version", 'V', NULL, "the version" },
        {},
};
static const struct cli_option help_option = { "help", 'h', NULL, "this text", NULL };

/* ---- the table's views: help texts ---- */

static size_t options_count(const struct cli_option *o) {
        size_t n = 0;

        while (o && o[n].name)
                n++;
        return n;
}

static void option_print(FILE *f, const struct cli_option *o) {
        char head[64];

        snprintf(head, sizeof(head), "%c%c%c --%s%s%s", o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
                 o->short_name ? ',' : ' ', o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-26s %s\n", head, o->help);
}

/* The usage line and summary of each command of group ("ca"), or of every command for NULL. */
static void commands_print(FILE *f, const char *group) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                const struct cli_command *c = commands[i];
                char line[256];

                if (group && !(strncmp(c->name, group, strlen(group)) == 0 && c->name[strlen(group)] == ' '))
                        continue;
                snprintf(line, sizeof(line), "%s%s%s", c->name, c->usage[0] ? " " : "", c->usage);
                if (strlen(line) <= 22)
                        fprintf(f, "  %-22s %s\n", line, c->summary);
                else
                        fprintf(f, "  %s\n  %-22s %s\n", line, "", c->summary);
        }
}

static void help(FILE *f) {
        fprintf(f, "Usage: ctrcertctl [--config PATH] [--bus BUS] COMMAND …\n\n");
        commands_print(f, NULL);
        fprintf(f, "\n");
        for (const struct cli_option *o = global_options; o->name; o++)
                option_print(f, o);
        fprintf(f, "See ctrcertctl(8).\n");
}

static void command_help(const struct cli_command *c) {
        printf("Usage: ctrcertctl [--config PATH] [--bus BUS] %s%s%s\n%s\n\n", c->name, c->usage[0] ? " " : "", c->usage,
               c->summary);
        for (const struct cli_option *o = c->options; o && o->name; o++)
                option_print(stdout, o);
        option_print(stdout, &help_option);
        printf("See ctrcertctl(8).\n");
}

/* After a usage error (said already): the command's usage line. */
static int usage_error(const struct cli_command *c) {
        fprintf(stderr, "usage: ctrcertctl %s%s%s\n(ctrcertctl %s --help: its options)\n", c->name, c->usage[0] ? " " : "",
                c->usage, c->name);
        return CLI_USAGE;
}

/* ---- parsing ---- */

#define OPTION_VAL(i) (256 + (int) (i))

/* getopt_long's view of o[0…n-1] then extra (if any): option i answers OPTION_VAL(i) or its short letter. */
static void getopt_tables(const struct cli_option *o, size_t n, const struct cli_option *extra, const char *mode,
                          struct option *longopts, char *shortopts) {
        char *s = stpcpy(shortopts, mode);

        for (size_t i = 0; i < n + !!extra; i++) {
                const struct cli_option *x = i < n ? &o[i] : extra;

                longopts[i] = (struct option) { x->name, x->arg ? required_argument : no_argument, NULL, OPTION_VAL(i) };
                if (x->short_name) {
                        *s++ = x->short_name;
                        if (x->arg)
                                *s++ = ':';
                }
        }
        longopts[n + !!extra] = (struct option) {};
        *s = '\0';
}

/* The index of the option getopt_long answered c for; n for extra. */
static size_t option_index(const struct cli_option *o, size_t n, int c) {
        if (c >= OPTION_VAL(0))
                return (size_t) (c - OPTION_VAL(0));
        for (size_t i = 0; i < n; i++)
                if (o[i].short_name == c)
                        return i;
        return n;
}

/*
 * What getopt_long refused (c: '?' or ':') before command (NULL: before any),
 * named: a short option by optopt, a long one as written.
 */
static void option_refused(const char *command, int c, char **argv) {
        char shortopt[3] = { '-', (char) optopt, '\0' };
        const char *what = optopt > 0 && optopt < OPTION_VAL(0) ? shortopt : argv[optind - 1];
        char in[64] = "";

        if (command)
                snprintf(in, sizeof(in), "%s: ", command);
        if (c == ':')
                log_error("%soption '%s' needs an argument", in, what);
        else if (optopt >= OPTION_VAL(0))
                log_error("%soption '%s' takes no argument", in, what);
        else if (command)
                log_error("%s: '%s' is not one of its options", command, what);
        else
                log_error("'%s' is not an option (options of a command go after it)", what);
}

/* Options before the command. 0 to go on, 1 when done (--help, --version), -EINVAL on a usage error (said). */
static int parse_global(struct cli_ctx *ctx, int argc, char **argv) {
        size_t n = options_count(global_options);
        struct option longopts[CLI_OPTIONS_MAX + 1];
        char shortopts[2 * CLI_OPTIONS_MAX + 3];
        int c;

        getopt_tables(global_options, n, NULL, "+:", longopts, shortopts);
        opterr = 0;
        /* "+": what follows the command is the command's */
        while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) >= 0)
                switch (c == '?' || c == ':' ? -1 : (int) option_index(global_options, n, c)) {
                case GLOBAL_CONFIG:
                        ctx->config_path = optarg;
                        ctx->config_explicit = true;
                        break;
                case GLOBAL_BUS:
                        ctx->bus = optarg;
                        break;
                case GLOBAL_HELP:
                        help(stdout);
                        return 1;
                case GLOBAL_VERSION:
                        printf("ctrcertctl %s\n", PACKAGE_VERSION);
                        return 1;
                default:
                        option_refused(NULL, c, argv);
                        fprintf(stderr, "usage: ctrcertctl [--config PATH] [--bus BUS] COMMAND … (ctrcertctl --help: the commands)\n");
                        return -EINVAL;
                }
        return 0;
}

static void cli_args_done(struct cli_args *a) {
        for (size_t i = 0; i < CLI_OPTIONS_MAX; i++)
                strv_free(a->values[i]);
}

const char *cli_arg(const struct cli_args *a, size_t i) {
        size_t n = strv_length(a->values[i]);

        return n ? a->values[i][n - 1] : NULL;
}

/*
 * A command's options and arguments; argv[0] is the command's last word.
 * 0 to run it, 1 when --help was shown, -EINVAL on a usage error (said), -ENOMEM.
 */
static int parse_command(const struct cli_command *cmd, int argc, char **argv, struct cli_args *a) {
        size_t n = options_count(cmd->options), nargs;
        struct option longopts[CLI_OPTIONS_MAX + 2];
        char shortopts[2 * CLI_OPTIONS_MAX + 4];
        int c;

        if (n >= CLI_OPTIONS_MAX) /* a mistake in a table: found by the first run of the command */
                return log_error_errno(-E2BIG, "%s: more than %d options", cmd->name, CLI_OPTIONS_MAX - 1);
        getopt_tables(cmd->options, n, &help_option, ":", longopts, shortopts);
        opterr = 0;
        optind = 0; /* GNU getopt starts afresh (and permutes: `ca init DIR --force`) */
        while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) >= 0) {
                size_t i = c == '?' || c == ':' ? SIZE_MAX : option_index(cmd->options, n, c);

                if (i == SIZE_MAX) {
                        option_refused(cmd->name, c, argv);
                        return -EINVAL;
                }
                if (i == n) {
                        command_help(cmd);
                        return 1;
                }
                if (strv_push(&a->values[i], cmd->options[i].arg ? optarg : "") < 0)
                        return log_error_errno(-ENOMEM, "out of memory");
        }
        a->argv = argv + optind;
        a->argc = nargs = (size_t) (argc - optind);
        if (nargs < cmd->min_args)
                return log_error_errno(-EINVAL, "%s: an argument is missing", cmd->name);
        if (cmd->max_args != CLI_ARGS_ANY && nargs > cmd->max_args)
                return log_error_errno(-EINVAL, "%s: unexpected argument '%s'", cmd->name, a->argv[cmd->max_args]);
        return 0;
}

/* ---- finding the command ---- */

/* Whether word is the group of command c ("ca" of "ca init"). */
static bool in_group(const struct cli_command *c, const char *word) {
        size_t n = strlen(word);

        return strncmp(c->name, word, n) == 0 && c->name[n] == ' ';
}

static bool is_group(const char *word) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (in_group(commands[i], word))
                        return true;
        return false;
}

/* The command named by word (and sub, for a group), or NULL. */
static const struct cli_command *command_find(const char *word, const char *sub) {
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                const struct cli_command *c = commands[i];

                if (in_group(c, word) ? sub && streq(c->name + strlen(word) + 1, sub) : streq(c->name, word))
                        return c;
        }
        return NULL;
}

/* A group without one of its commands: `ctrcertctl ca --help` lists them, anything else is a usage error. */
static int group_only(const char *group, const char *sub) {
        bool asked = sub && (streq(sub, "--help") || streq(sub, "-h"));

        if (sub && !asked)
                log_error("unknown command '%s %s'", group, sub);
        else if (!sub)
                log_error("%s: which command?", group);
        fprintf(asked ? stdout : stderr, "%s: ctrcertctl [--config PATH] %s COMMAND …\n\n", asked ? "Usage" : "usage",
                group);
        commands_print(asked ? stdout : stderr, group);
        return asked ? CLI_OK : CLI_USAGE;
}

void cli_event(const char *event, const char *message, ...) {
        struct event_field fields[8];
        size_t n = 0;
        va_list ap;

        va_start(ap, message);
        for (const char *name; n < ELEMENTSOF(fields) && (name = va_arg(ap, const char *));)
                fields[n++] = (struct event_field) { name, va_arg(ap, const char *) };
        va_end(ap);
        (void) event_send("ctrcertctl", 5, event, message, fields, n);
}

/* The one place a command's result becomes the exit status (ctrcertctl(8), EXIT STATUS). */
static int exit_status(const struct cli_command *cmd, int r) {
        if (r == CLI_MISUSE)
                return usage_error(cmd);
        if (r == CLI_EXPIRING)
                return 2; /* a monitoring check's "critical": status only, after its report */
        return r == 0 ? CLI_OK : CLI_FAILED; /* a failure (logged) or CLI_FINDINGS (printed) */
}

/* ---- the completion's words: ctrcertctl __complete WORD… (the words before the one completed) ---- */

static void words_print(const char *values) {
        _cleanup_free_ char *copy = strdup(values);
        char *save = NULL;

        for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w; w = strtok_r(NULL, " ", &save))
                printf("%s\n", w);
}

/* The option of o that word is, if it takes an argument and word does not hold it (--opt=x). */
static const struct cli_option *option_wanting_arg(const struct cli_option *o, const char *word) {
        for (; o && o->name; o++)
                if (o->arg && ((word[0] == '-' && word[1] == o->short_name && !word[2]) ||
                               (word[0] == '-' && word[1] == '-' && streq(word + 2, o->name))))
                        return o;
        return NULL;
}

static void options_complete(const struct cli_option *o) {
        for (; o && o->name; o++)
                printf("--%s\n", o->name);
}

/* The length of the first word of a command's name: its group, or the whole name. */
static int first_word(const struct cli_command *c) {
        return (int) strcspn(c->name, " ");
}

/* Each command's first word, a group's once. */
static void commands_complete(void) {
        for (size_t k = 0; k < ELEMENTSOF(commands); k++)
                if (k == 0 || first_word(commands[k]) != first_word(commands[k - 1]) ||
                    strncmp(commands[k]->name, commands[k - 1]->name, (size_t) first_word(commands[k])) != 0)
                        printf("%.*s\n", first_word(commands[k]), commands[k]->name);
}

/*
 * One candidate a line: the words that may come next after argv, "@file" or
 * "@dir" when a file or directory name may (data/bash-completion/ctrcertctl).
 */
static int complete(int argc, char **argv) {
        const char *last = argc > 0 ? argv[argc - 1] : "";
        const struct cli_option *want;
        const struct cli_command *cmd;
        int i = 0;

        /* the global options, and the argument of the one that takes it */
        while (i < argc && argv[i][0] == '-')
                i += option_wanting_arg(global_options, argv[i]) && i + 1 < argc ? 2 : 1;
        if (i >= argc) {
                want = option_wanting_arg(global_options, last);
                if (want)
                        words_print(want->values);
                else {
                        options_complete(global_options);
                        commands_complete();
                }
                return CLI_OK;
        }

        /* a group's commands */
        if (is_group(argv[i]) && i + 1 == argc) {
                for (size_t k = 0; k < ELEMENTSOF(commands); k++)
                        if (in_group(commands[k], argv[i]))
                                printf("%s\n", commands[k]->name + strlen(argv[i]) + 1);
                return CLI_OK;
        }

        /* a command's options, the argument of the one that takes it, and its own arguments */
        cmd = command_find(argv[i], i + 1 < argc ? argv[i + 1] : NULL);
        if (!cmd)
                return CLI_OK;
        i += in_group(cmd, argv[i]) ? 2 : 1;
        want = i < argc ? option_wanting_arg(cmd->options, last) : NULL;
        if (want) {
                words_print(want->values ? want->values : "");
                return CLI_OK;
        }
        options_complete(cmd->options);
        printf("--help\n");
        if (cmd->complete_args)
                printf("%s\n", cmd->complete_args);
        return CLI_OK;
}

int cli_load_config(const struct cli_ctx *ctx, struct config **ret) {
        _cleanup_(diag_list_clear) struct diag_list d = {};
        int r;

        r = config_load(ctx->config_path, ret, &d);
        if (r == -ENOENT && !ctx->config_explicit)
                return config_new_default(ret);
        if (r == -ENOENT)
                return log_error_errno(r, "config %s: %m", ctx->config_path);
        if (r < 0) {
                diag_list_print(&d, stderr);
                return r;
        }
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(cli_args_done) struct cli_args args = {};
        struct cli_ctx ctx = { .config_path = CTRCERT_CONFIG_PATH };
        const struct cli_command *cmd;
        size_t words;
        int r;

        log_setup("ctrcertctl");
        if (argc > 1 && streq(argv[1], "__complete"))
                return complete(argc - 2, argv + 2);

        /* the global options, then the command (one word, or a group's two) */
        r = parse_global(&ctx, argc, argv);
        if (r != 0)
                return r > 0 ? CLI_OK : CLI_USAGE;
        if (optind >= argc) {
                help(stderr);
                return CLI_USAGE;
        }
        argc -= optind;
        argv += optind;
        cmd = command_find(argv[0], argc > 1 ? argv[1] : NULL);
        if (!cmd && is_group(argv[0]))
                return group_only(argv[0], argc > 1 ? argv[1] : NULL);
        if (!cmd) {
                log_error("unknown command '%s' (see ctrcertctl --help)", argv[0]);
                return CLI_USAGE;
        }
        words = in_group(cmd, argv[0]) ? 2 : 1;

        /* its options and arguments */
        r = parse_command(cmd, argc - (int) words + 1, argv + words - 1, &args);
        if (r == -EINVAL)
                return usage_error(cmd);
        if (r != 0)
                return r > 0 ? CLI_OK : CLI_FAILED;

        /* and run it */
        if (crypto_init() < 0) {
                log_error("OpenSSL cannot start");
                return CLI_FAILED;
        }
        return exit_status(cmd, cmd->run(&ctx, &args));
}
