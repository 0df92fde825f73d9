/* SPDX-License-Identifier: MIT */
/* ctrcertctl: the operator's tool. Subcommands live in one file each. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "crypto.h"
#include "log.h"

static const struct {
        const char *name;
        int (*run)(const struct cli_ctx *ctx, int argc, char **argv);
} commands[] = {
        { "ca", cli_ca },
        { "manifest", cli_manifest },
        { "status", cli_agent },
        { "reload", cli_agent },
        { "plan", cli_agent },
        { "notify", cli_agent },
        { "jobs", cli_agent },
        { "release", cli_agent },
        { "pause", cli_agent },
        { "resume", cli_agent },
        { "audit", cli_audit },
        { "revoke", cli_revoke },
        { "crl", cli_revoke },
        { "index", cli_index },
};

static void help(void) {
        printf("Usage: ctrcertctl [--config PATH] COMMAND …\n"
               "\n"
               "  ca init [DIR] [--key-type ec-p256|ec-p384|rsa3072|rsa4096] [--subject DN] [--force]\n"
               "                         create the root and issuing CA (once per fleet)\n"
               "  ca show [DIR]          subject, validity, fingerprints and key type of the CA\n"
               "  ca issue-node --root DIR --node NAME --permit-dns SUFFIX… --permit-ip CIDR… --out DIR\n"
               "                         a node's issuing CA under the root, name-constrained, pathlen 0\n"
               "  ca rollover [DIR] [--finish [--force]]\n"
               "                         the next CA generation, the current one trusted until --finish\n"
               "  ca install SRC [DIR]   put a CA made on another host in place, as one change\n"
               "  manifest check [FILE…] validate the manifest (default: the configured one and manifest.d/)\n"
               "  revoke SERIAL…|--id ID [--reason R]\n"
               "                         revoke issued certificates and write the CRL anew\n"
               "  crl [--out PATH]       write the CRL (state_dir/ca/crl.pem) signed by the issuing CA\n"
               "  index check            the issuance index against the CA: damaged lines, duplicate serials, unknown issuers\n"
               "  status                 bindings, jobs, the last result per container, certificate expiry\n"
               "  jobs                   the agent's waiting, queued, running and held jobs\n"
               "  release CONTAINER      run a job held by the restart budget\n"
               "  pause [--reason TEXT] [--until TIME]\n"
               "                         hold every job back (they gather) until resume or TIME\n"
               "  resume                 end a pause: the jobs that gathered run\n"
               "  audit                  running containers that mount managed certificates vs. the manifest\n"
               "  plan CERT_PATH         what the agent would do if CERT_PATH were saved (nothing is done)\n"
               "  notify CERT_PATH       tell the agent CERT_PATH was saved (certificates certmonger does not manage)\n"
               "  reload                 make the agent re-read the manifest\n"
               "\n"
               "  -c, --config PATH  configuration file (default %s)\n"
               "  -b, --bus BUS      the agent's bus: system (default), session or an address\n"
               "  -h, --help         this text\n"
               "  -V, --version      the version\n"
               "See ctrcertctl(8).\n",
               CTRCERT_CONFIG_PATH);
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
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "bus", required_argument, NULL, 'b' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        struct cli_ctx ctx = { .config_path = CTRCERT_CONFIG_PATH };
        int c;

        log_setup("ctrcertctl");
        /* "+": options after the command belong to the command. */
        while ((c = getopt_long(argc, argv, "+c:b:hV", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        ctx.config_path = optarg;
                        ctx.config_explicit = true;
                        break;
                case 'b':
                        ctx.bus = optarg;
                        break;
                case 'h':
                        help();
                        return CLI_OK;
                case 'V':
                        printf("ctrcertctl %s\n", PACKAGE_VERSION);
                        return CLI_OK;
                default:
                        return CLI_USAGE;
                }
        if (optind >= argc) {
                help();
                return CLI_USAGE;
        }
        if (crypto_init() < 0) {
                log_error("OpenSSL cannot start");
                return CLI_FAILED;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(argv[optind], commands[i].name))
                        return commands[i].run(&ctx, argc - optind, argv + optind);
        log_error("unknown command '%s' (see ctrcertctl --help)", argv[optind]);
        return CLI_USAGE;
}
