/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "cli.h"
#include "json.h"
#include "crypto.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "strv.h"

#define ROOT_DAYS 7300   /* 20 years: the root is made once and outlives its issuing CAs */
#define ISSUING_DAYS 3650

static int subject_with_cn(const char *base, const char *cn, char **ret) {
        if (strstr(base, "CN=") || strstr(base, "cn="))
                return -EINVAL;
        return asprintf(ret, "%s%s%sCN=%s", base[0] == '/' ? "" : "", base, base[0] ? "," : "", cn) < 0 ? -ENOMEM : 0;
}

/*
 * Makes root and issuing CA in memory; nothing is written until all of it
 * exists. Generations after the first carry " G<n>" in their CNs: certmonger
 * tells roots apart by nickname while both are trusted.
 */
static int ca_make_material(int key_type, const char *subject, unsigned generation, struct ca_material *m) {
        _cleanup_(key_freep) struct key *root_key = NULL, *ca_key = NULL;
        _cleanup_(cert_freep) struct cert *root = NULL, *issuing = NULL;
        _cleanup_free_ char *root_dn = NULL, *ca_dn = NULL, *root_pem = NULL, *ca_pem = NULL;
        int r;

        char root_cn[64], ca_cn[64], suffix[16] = "";

        if (generation > 1)
                snprintf(suffix, sizeof(suffix), " G%u", generation);
        snprintf(root_cn, sizeof(root_cn), "ctrcert Root CA%s", suffix);
        snprintf(ca_cn, sizeof(ca_cn), "ctrcert Issuing CA%s", suffix);
        if ((r = subject_with_cn(subject, root_cn, &root_dn)) < 0 || (r = subject_with_cn(subject, ca_cn, &ca_dn)) < 0)
                return r;
        if ((r = key_generate(key_type, &root_key)) < 0 || (r = key_generate(key_type, &ca_key)) < 0)
                return r;
        r = ca_cert_make(root_key, root_dn, NULL, NULL, ROOT_DAYS, 1, &root);
        if (r >= 0)
                r = ca_cert_make(ca_key, ca_dn, root, root_key, ISSUING_DAYS, 0, &issuing);
        if (r >= 0 && (r = key_to_pem(root_key, &m->pem[CA_ROOT_KEY])) >= 0 &&
            (r = key_to_pem(ca_key, &m->pem[CA_KEY])) >= 0 && (r = cert_to_pem(root, &root_pem)) >= 0 &&
            (r = cert_to_pem(issuing, &ca_pem)) >= 0) {
                m->pem[CA_ROOT] = strdup(root_pem);
                r = asprintf(&m->pem[CA_CHAIN], "%s%s", ca_pem, root_pem) < 0 ? -ENOMEM : 0;
                m->pem[CA_CERT] = TAKE_PTR(ca_pem);
                if (!m->pem[CA_ROOT])
                        r = -ENOMEM;
        }
        return r;
}

int ca_make(int key_type, const char *subject, unsigned generation, struct ca_material *m) {
        int r = ca_make_material(key_type, subject, generation, m);

        if (r == -EINVAL)
                log_error("--subject '%s' is not a DN without CN (e.g. \"O=Example,OU=Cloud\"; ctrcert adds the CNs)", subject);
        else if (r < 0)
                log_error_errno(r, "cannot create the CA: %m");
        return r;
}

static int parse_key_type(const char *s, int *ret) {
        for (int i = 0; i < _KEYTYPE_MAX; i++)
                if (streq(s, key_type_names[i])) {
                        *ret = i;
                        return 0;
                }
        return -EINVAL;
}

/*
 * A directory that already exists before `ca init` writes into it: the helper
 * trusts only what root alone controls, so one owned by another user is
 * refused, and group/other write (or, for private/, any access) is removed.
 */
static int ca_dir_secure(const char *path, mode_t forbidden) {
        struct stat st;

        if (stat(path, &st) < 0)
                return errno == ENOENT ? 0 : log_error_errno(negative_errno(), "%s: %m", path);
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(-ENOTDIR, "%s exists and is not a directory", path);
        if (st.st_uid != 0)
                return log_error_errno(-EPERM, "%s is owned by uid %u: ctrcert-submit trusts only what root owns; "
                                       "chown root %s, or choose another directory", path, (unsigned) st.st_uid, path);
        if (!(st.st_mode & forbidden))
                return 0;
        if (chmod(path, st.st_mode & 07777 & ~forbidden) < 0)
                return log_error_errno(negative_errno(), "cannot chmod %s: %m", path);
        printf("%s was mode %04o, now %04o\n", path, (unsigned) (st.st_mode & 07777),
               (unsigned) (st.st_mode & 07777 & ~forbidden));
        return 0;
}

static int ca_dirs_secure(const char *dir) {
        _cleanup_free_ char *priv = cadir_private(dir);
        int r;

        if (!priv)
                return -ENOMEM;
        r = ca_dir_secure(dir, S_IWGRP | S_IWOTH);
        return r < 0 ? r : ca_dir_secure(priv, S_IRWXG | S_IRWXO);
}

/* What ctrcert-submit will say of the CA's directories and files (sshd's StrictModes); 0 when it trusts them. */
static int ca_trust_report(const char *dir, bool quiet) {
        _cleanup_free_ char *path = NULL, *why = NULL;
        int r = cadir_check_trusted(dir, &path, &why);

        /* the first problem only: one directory above is the same problem for all */
        if (r == -EPERM)
                printf("UNSAFE: %s: ctrcert-submit will refuse the CA\n", why);
        else if (r >= 0 && !quiet)
                printf("ownership: %s, private/ and the key are root's, and only root can change them or the "
                       "directories above\n", dir);
        return r == -EPERM ? r : 0;
}

static int ca_init(const char *dir, int key_type, const char *subject, bool force) {
        _cleanup_(ca_material_done) struct ca_material m = {};
        _cleanup_free_ char *existing = NULL;
        int r;

        r = cadir_existing(dir, &existing);
        if (r < 0)
                return r;
        if (r > 0 && !force) {
                log_error("%s exists: a CA is already there. Replacing it breaks every certificate it issued; "
                          "use --force if that is what you want", existing);
                return -EEXIST;
        }
        r = ca_dirs_secure(dir);
        if (r >= 0)
                r = ca_make(key_type, subject, 1, &m);
        if (r == -EINVAL)
                return CLI_MISUSE; /* the subject, said by ca_make */
        if (r >= 0)
                r = cadir_write(dir, &m);
        if (r < 0)
                return r;
        printf("created root and issuing CA (%s) in %s\n", key_type_names[key_type], dir);
        cli_event("ca-init", "created a root and issuing CA", "CTRCERT_CA_DIR", dir, "CTRCERT_KEY_TYPE",
                  key_type_names[key_type], "CTRCERT_FORCE", force ? "1" : "0", NULL);
        /* a directory above that others can write is not ours to change: say so now, not at the first SUBMIT */
        (void) ca_trust_report(dir, true);
        return 0;
}

/* ---- ca issue-node ---- */

struct node_request {
        const char *root_dir, *node, *out;
        struct name_constraints nc;
        int key_type;
        bool force, rollover;
        bool no_subject_constraint; /* for verifiers that refuse a directoryName constraint (Go, pyca) */
};

static int check_constraints_args(const struct node_request *q) {
        struct ip_cidr c;

        /* (run_issue_node checked that each is there) */
        if (!dns_name_valid(q->node))
                return log_error_errno(-EINVAL, "--node '%s' is not a host name", q->node);
        STRV_FOREACH(d, q->nc.dns)
                if (!dns_name_valid((*d)[0] == '.' ? *d + 1 : *d) || strchr(*d, '*'))
                        return log_error_errno(-EINVAL, "--permit-dns '%s' is not a DNS suffix", *d);
        STRV_FOREACH(ip, q->nc.ip)
                if (ip_cidr_parse(*ip, &c) < 0)
                        return log_error_errno(-EINVAL, "--permit-ip '%s' is not an address range (192.0.2.0/24)", *ip);
        return 0;
}

/*
 * The subjects a node may sign: the root's subject without its CN, then
 * OU=NODE ("O=ctrcert,OU=node1"). The helper puts every subject it issues
 * under it; a subject outside it fails every verifier that checks it.
 */
static int node_dirname(const struct node_request *q, const struct cert *root, char **ret) {
        _cleanup_free_ char *base = NULL;
        int r;

        *ret = NULL;
        if (q->no_subject_constraint)
                return 0;
        r = cert_subject_base(root, &base);
        if (r < 0)
                return r;
        return asprintf(ret, "%s%sOU=%s", base, base[0] ? "," : "", q->node) < 0 ? -ENOMEM : 0;
}

/* The node's issuing CA, signed by the root in root_dir, constrained to the node's names; pathlen 0. */
static int node_make(const struct node_request *q, struct ca_material *m) {
        _cleanup_free_ char *root_crt = cadir_path(q->root_dir, CA_ROOT), *root_key_path = cadir_path(q->root_dir, CA_ROOT_KEY),
                            *dn = NULL, *root_pem = NULL, *ca_pem = NULL, *dirname = NULL;
        _cleanup_(cert_freep) struct cert *root = NULL, *node = NULL;
        _cleanup_(key_freep) struct key *root_key = NULL, *key = NULL;
        struct name_constraints nc = q->nc;
        int r;

        if (!root_crt || !root_key_path || asprintf(&dn, "O=ctrcert,CN=ctrcert node CA %s", q->node) < 0)
                return -ENOMEM;
        if ((r = cert_load_file(root_crt, &root)) < 0)
                return log_error_errno(r, "%s: %m", root_crt);
        if ((r = node_dirname(q, root, &dirname)) < 0)
                return log_error_errno(r, "%s: cannot read its subject: %m", root_crt);
        nc.dirname = dirname;
        if ((r = check_private_file(root_key_path)) < 0 || (r = key_load_file(root_key_path, &root_key)) < 0)
                return log_error_errno(r, "%s: %s", root_key_path, r == -EPERM ? "readable by group or others" : strerror(-r));
        r = key_generate(q->key_type, &key);
        if (r >= 0)
                r = ca_cert_make_constrained(key, dn, root, root_key, ISSUING_DAYS, 0, &nc, &node);
        if (r >= 0 && (r = key_to_pem(key, &m->pem[CA_KEY])) >= 0 && (r = cert_to_pem(root, &root_pem)) >= 0 &&
            (r = cert_to_pem(node, &ca_pem)) >= 0) {
                r = asprintf(&m->pem[CA_CHAIN], "%s%s", ca_pem, root_pem) < 0 ? -ENOMEM : 0;
                m->pem[CA_ROOT] = TAKE_PTR(root_pem);
                m->pem[CA_CERT] = TAKE_PTR(ca_pem);
        }
        return r < 0 ? log_error_errno(r, "cannot make the node CA: %m") : 0;
}

static int ca_issue_node(const struct node_request *q) {
        _cleanup_(ca_material_done) struct ca_material m = {};
        _cleanup_free_ char *existing = NULL;
        int r;

        bool replace;

        if (check_constraints_args(q) < 0)
                return CLI_MISUSE;
        r = cadir_existing(q->out, &existing);
        if (r > 0 && q->rollover) {
                r = ca_rollover_begin(q->out, false);
                if (r != 0)
                        return r > 0 ? 0 : r; /* > 0: an interrupted one completed */
                r = 1;
        } else if (r > 0 && !q->force) {
                log_error("%s exists: a CA is already there; use --rollover to make the next one (the current one "
                          "stays valid), --force to replace it",
                          existing);
                return -EEXIST;
        }
        replace = r > 0 && q->rollover;
        if (r >= 0)
                r = node_make(q, &m);
        if (r >= 0)
                r = replace ? cadir_swap_in(q->out, &m) : cadir_write(q->out, &m);
        if (r < 0)
                return r;
        r = replace;
        if (r > 0 && q->rollover)
                printf("kept the node's previous CA in %s/previous until `ctrcertctl ca rollover --finish`\n", q->out);
        printf("created node CA for %s in %s (pathlen 0; permitted:", q->node, q->out);
        STRV_FOREACH(d, q->nc.dns)
                printf(" DNS:%s", *d);
        STRV_FOREACH(ip, q->nc.ip)
                printf(" IP:%s", *ip);
        printf(q->no_subject_constraint ? "; any subject" : "; subjects under OU=%s", q->node);
        printf("; every other name kind excluded); the root key stays in %s\n", q->root_dir);
        cli_event("ca-issue-node", "made a node's issuing CA", "CTRCERT_CA_DIR", q->out, "CTRCERT_NODE", q->node,
                  "CTRCERT_ROOT_DIR", q->root_dir, "CTRCERT_ROLLOVER", q->rollover ? "1" : "0", NULL);
        return 0;
}

/* What ca show says of one certificate file. */
struct cert_facts {
        char *subject, *issuer, *fp, *key, *serial;
        time_t nb, na;
        const char *error; /* NULL when read */
};

static void cert_facts_done(struct cert_facts *f) {
        free(f->subject);
        free(f->issuer);
        free(f->fp);
        free(f->key);
        free(f->serial);
}

static void cert_facts_read(const char *path, struct cert_facts *f) {
        _cleanup_(cert_freep) struct cert *c = NULL;
        int r = cert_load_file(path, &c);

        *f = (struct cert_facts) {};
        if (r < 0)
                f->error = r == -EBADMSG ? "not a PEM certificate" : strerror(-r);
        else if (cert_subject(c, &f->subject) < 0 || cert_issuer(c, &f->issuer) < 0 ||
                 cert_fingerprint_sha256(c, &f->fp) < 0 || cert_key_description(c, &f->key) < 0 ||
                 cert_serial_hex(c, &f->serial) < 0 || cert_validity(c, &f->nb, &f->na) < 0)
                f->error = "unreadable";
}

static void show_cert_text(const char *label, const char *path, const struct cert_facts *f) {
        char nb_s[32], na_s[32];

        if (f->error) {
                printf("%s: %s: %s\n", label, path, f->error);
                return;
        }
        strftime(nb_s, sizeof(nb_s), "%Y-%m-%dT%H:%M:%SZ", gmtime(&f->nb));
        strftime(na_s, sizeof(na_s), "%Y-%m-%dT%H:%M:%SZ", gmtime(&f->na));
        printf("%s: %s\n  subject:    %s\n  issuer:     %s\n  serial:     %s\n  not before: %s\n  not after:  %s%s\n"
               "  key:        %s\n  sha256:     %s\n",
               label, path, f->subject, f->issuer, f->serial, nb_s, na_s, f->na < time(NULL) ? " (EXPIRED)" : "", f->key,
               f->fp);
}

/* {"path", "subject", "issuer", "serial", "not_before", "not_after", "expired", "key", "sha256"} or {"path", "error"} */
static void show_cert_json(const char *path, const struct cert_facts *f) {
        int first = 1;

        fputc('{', stdout);
        json_member_string(stdout, "path", path, &first);
        if (f->error) {
                json_member_string(stdout, "error", f->error, &first);
                fputc('}', stdout);
                return;
        }
        json_member_string(stdout, "subject", f->subject, &first);
        json_member_string(stdout, "issuer", f->issuer, &first);
        json_member_string(stdout, "serial", f->serial, &first);
        json_member_int(stdout, "not_before", f->nb, &first);
        json_member_int(stdout, "not_after", f->na, &first);
        json_key(stdout, "expired", &first);
        fputs(f->na < time(NULL) ? "true" : "false", stdout);
        json_member_string(stdout, "key", f->key, &first);
        json_member_string(stdout, "sha256", f->fp, &first);
        fputc('}', stdout);
}

/* A generation's root and issuing certificates; -ENOENT when one of them cannot be read. */
static int show_generation(const char *dir, const char *label_root, const char *label_issuing, bool json) {
        _cleanup_free_ char *root = cadir_path(dir, CA_ROOT), *issuing = cadir_path(dir, CA_CERT);
        const char *paths[2] = { root, issuing }, *labels[2] = { label_root, label_issuing };
        bool missing = false;

        if (!root || !issuing)
                return -ENOMEM;
        for (size_t i = 0; i < 2; i++) {
                struct cert_facts f;

                cert_facts_read(paths[i], &f);
                missing = missing || f.error;
                if (json) {
                        printf(i == 0 ? "\"root\":" : ",\"issuing\":");
                        show_cert_json(paths[i], &f);
                } else
                        show_cert_text(labels[i], paths[i], &f);
                cert_facts_done(&f);
        }
        return missing ? -ENOENT : 0;
}

/* The issuing key's mode and what ctrcert-submit will say of the CA's directories: 0 when both are sound. */
static int show_key_and_trust(const char *dir, const char *key, bool json) {
        _cleanup_free_ char *bad = NULL, *why = NULL;
        int r = check_private_file(key), trust = r == 0 ? cadir_check_trusted(dir, &bad, &why) : 0, first = 1;

        if (!json) {
                printf("issuing key: %s: %s\n", key,
                       r == 0 ? "private (0600)" : r == -EPERM ? "UNSAFE: readable by group or others" : strerror(-r));
                if (trust == -EPERM)
                        printf("UNSAFE: %s: ctrcert-submit will refuse the CA\n", why);
                else if (r == 0 && trust >= 0)
                        printf("ownership: %s, private/ and the key are root's, and only root can change them or the "
                               "directories above\n", dir);
        } else {
                printf(",\"key\":{");
                json_member_string(stdout, "path", key, &first);
                json_key(stdout, "private", &first);
                fputs(r == 0 ? "true" : "false", stdout);
                json_member_string(stdout, "problem",
                                   r == 0 ? NULL : r == -EPERM ? "readable by group or others" : strerror(-r), &first);
                printf("},\"trust\":{");
                first = 1;
                json_key(stdout, "safe", &first);
                fputs(r == 0 && trust >= 0 ? "true" : "false", stdout);
                json_member_string(stdout, "problem", trust == -EPERM ? why : NULL, &first);
                fputc('}', stdout);
        }
        return r < 0 ? r : trust == -EPERM ? trust : 0;
}

/*
 * ca show: the current generation, the issuing key's mode, the trust check
 * and a previous generation. 0, CLI_FINDINGS for a file missing, a key others
 * can read or an unsafe directory (what ca show is for: exit 1).
 * --json: {"dir", "root", "issuing", "key": {"path", "private", "problem"},
 * "trust": {"safe", "problem"}, "previous": null | {"root", "issuing"}}.
 */
static int ca_show(const char *dir, bool json) {
        _cleanup_free_ char *key = cadir_path(dir, CA_KEY), *prev = cadir_previous(dir);
        int r, shown, first = 1;
        bool rolling;

        if (!key || !prev)
                return log_error_errno(-ENOMEM, "ca show: %m");
        if (json) {
                fputc('{', stdout);
                json_member_string(stdout, "dir", dir, &first);
                fputc(',', stdout);
        }
        shown = show_generation(dir, "root", "issuing", json);
        r = show_key_and_trust(dir, key, json);
        rolling = cadir_has_previous(dir);
        if (json)
                fputs(rolling ? ",\"previous\":{" : ",\"previous\":null", stdout);
        else if (rolling)
                printf("rollover in progress: the previous generation is still trusted "
                       "(ctrcertctl ca rollover --finish ends it)\n");
        if (rolling && show_generation(prev, "previous root", "previous issuing", json) == -ENOMEM)
                return log_error_errno(-ENOMEM, "ca show: %m");
        if (json)
                fputs(rolling ? "}}\n" : "}\n", stdout);
        return shown == 0 && r == 0 ? 0 : CLI_FINDINGS;
}

/* ---- the commands: options and dispatch ---- */


#define OPTION_KEY_TYPE { "key-type", 'k', "TYPE", "ec-p256 (default), ec-p384, rsa3072 or rsa4096", "ec-p256 ec-p384 rsa3072 rsa4096" }
#define OPTION_SUBJECT { "subject", 's', "DN", "the CAs' distinguished name without a CN (default O=ctrcert)", NULL }

/* --key-type's key type, or the default: 0, or CLI_MISUSE (said). */
static int key_type_arg(const struct cli_args *a, size_t i, int *ret) {
        const char *s = cli_arg(a, i);

        *ret = KEYTYPE_EC_P256;
        if (s && parse_key_type(s, ret) < 0) {
                log_error("--key-type '%s': expected ec-p256, ec-p384, rsa3072 or rsa4096", s);
                return CLI_MISUSE;
        }
        return 0;
}

/* The CA directory: the argument, or the configured ca.dir. */
static int ca_dir_arg(const struct cli_ctx *ctx, const char *arg, char **ret) {
        _cleanup_(config_freep) struct config *cfg = NULL;
        int r;

        if (arg) {
                *ret = strdup(arg);
                return *ret ? 0 : log_error_errno(-ENOMEM, "out of memory");
        }
        r = cli_load_config(ctx, &cfg);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cfg->ca.dir);
        return 0;
}

enum { INIT_KEY_TYPE, INIT_SUBJECT, INIT_FORCE };
static const struct cli_option init_options[] = {
        [INIT_KEY_TYPE] = OPTION_KEY_TYPE,
        [INIT_SUBJECT] = OPTION_SUBJECT,
        [INIT_FORCE] = { "force", 'f', NULL, "replace the CA in DIR (every certificate it issued stops chaining)", NULL },
        {},
};

static int run_init(const struct cli_ctx *ctx, const struct cli_args *a) {
        _cleanup_free_ char *dir = NULL;
        const char *subject = cli_arg(a, INIT_SUBJECT);
        int key_type, r;

        r = key_type_arg(a, INIT_KEY_TYPE, &key_type);
        if (r == 0)
                r = ca_dir_arg(ctx, a->argv[0], &dir);
        if (r != 0)
                return r;
        return ca_init(dir, key_type, subject ? subject : "O=ctrcert", cli_flag(a, INIT_FORCE));
}

const struct cli_command cli_ca_init = {
        .name = "ca init",
        .usage = "[DIR] [--key-type ec-p256|ec-p384|rsa3072|rsa4096] [--subject DN] [--force]",
        .summary = "create the root and issuing CA (once per fleet)",
        .options = init_options,
        .max_args = 1,
        .complete_args = "@dir",
        .run = run_init,
};

static const struct cli_option show_options[] = {
        { "json", 0, NULL, "one JSON document (ctrcertctl(8), JSON OUTPUT)", NULL },
        {},
};

static int run_show(const struct cli_ctx *ctx, const struct cli_args *a) {
        _cleanup_free_ char *dir = NULL;
        int r = ca_dir_arg(ctx, a->argv[0], &dir);

        if (r < 0)
                return r;
        return ca_show(dir, cli_flag(a, 0));
}

const struct cli_command cli_ca_show = {
        .name = "ca show",
        .usage = "[DIR] [--json]",
        .options = show_options,
        .summary = "subject, validity, fingerprints and key type of the CA",
        .max_args = 1,
        .complete_args = "@dir",
        .run = run_show,
};

enum { NODE_ROOT, NODE_NODE, NODE_PERMIT_DNS, NODE_PERMIT_IP, NODE_OUT, NODE_KEY_TYPE, NODE_NO_SUBJECT, NODE_ROLLOVER,
       NODE_FORCE };
static const struct cli_option issue_node_options[] = {
        [NODE_ROOT] = { "root", 0, "DIR", "the root's CA directory (made by ca init)", "@dir" },
        [NODE_NODE] = { "node", 0, "NAME", "the node's host name", NULL },
        [NODE_PERMIT_DNS] = { "permit-dns", 0, "SUFFIX", "a DNS subtree the node may sign (repeatable)", NULL },
        [NODE_PERMIT_IP] = { "permit-ip", 0, "CIDR", "an address range the node may sign (repeatable)", NULL },
        [NODE_OUT] = { "out", 0, "DIR", "where the node's CA goes (its ca.dir)", "@dir" },
        [NODE_KEY_TYPE] = OPTION_KEY_TYPE,
        [NODE_NO_SUBJECT] = { "no-subject-constraint", 0, NULL, "no directoryName constraint (Go, pyca clients)", NULL },
        [NODE_ROLLOVER] = { "rollover", 0, NULL, "keep the CA in DIR in previous/ (a rollover)", NULL },
        [NODE_FORCE] = { "force", 'f', NULL, "replace the CA in DIR", NULL },
        {},
};

static int run_issue_node(const struct cli_ctx *ctx, const struct cli_args *a) {
        struct node_request q = {
                .root_dir = cli_arg(a, NODE_ROOT),
                .node = cli_arg(a, NODE_NODE),
                .out = cli_arg(a, NODE_OUT),
                .nc = { .dns = a->values[NODE_PERMIT_DNS], .ip = a->values[NODE_PERMIT_IP] },
                .force = cli_flag(a, NODE_FORCE),
                .rollover = cli_flag(a, NODE_ROLLOVER),
                .no_subject_constraint = cli_flag(a, NODE_NO_SUBJECT),
        };
        int r;

        (void) ctx;
        if (!q.root_dir || !q.node || !q.out || (!q.nc.dns && !q.nc.ip)) {
                log_error("ca issue-node needs --root, --node, --out and at least one --permit-dns or --permit-ip");
                return CLI_MISUSE;
        }
        if (q.force && q.rollover) {
                log_error("ca issue-node: --rollover keeps the CA in --out, --force replaces it: one of them");
                return CLI_MISUSE;
        }
        r = key_type_arg(a, NODE_KEY_TYPE, &q.key_type);
        return r != 0 ? r : ca_issue_node(&q);
}

const struct cli_command cli_ca_issue_node = {
        .name = "ca issue-node",
        .usage = "--root DIR --node NAME --permit-dns SUFFIX… --permit-ip CIDR… --out DIR [--key-type TYPE] "
                 "[--no-subject-constraint] [--rollover|--force]",
        .summary = "a node's issuing CA under the root, name-constrained, pathlen 0",
        .options = issue_node_options,
        .run = run_issue_node,
};

enum { ROLLOVER_KEY_TYPE, ROLLOVER_SUBJECT, ROLLOVER_FINISH, ROLLOVER_FORCE };
static const struct cli_option rollover_options[] = {
        [ROLLOVER_KEY_TYPE] = OPTION_KEY_TYPE,
        [ROLLOVER_SUBJECT] = OPTION_SUBJECT,
        [ROLLOVER_FINISH] = { "finish", 0, NULL, "end the rollover: the previous generation is no longer trusted", NULL },
        [ROLLOVER_FORCE] = { "force", 'f', NULL, "with --finish: even while certificates it signed are valid", NULL },
        {},
};

static int run_rollover(const struct cli_ctx *ctx, const struct cli_args *a) {
        _cleanup_free_ char *dir = NULL;
        bool finish = cli_flag(a, ROLLOVER_FINISH);
        int key_type, r;

        if (finish ? cli_flag(a, ROLLOVER_KEY_TYPE) || cli_flag(a, ROLLOVER_SUBJECT) : cli_flag(a, ROLLOVER_FORCE)) {
                log_error(finish ? "ca rollover --finish makes nothing: no --key-type or --subject"
                                 : "ca rollover: --force goes with --finish");
                return CLI_MISUSE;
        }
        r = key_type_arg(a, ROLLOVER_KEY_TYPE, &key_type);
        if (r == 0)
                r = ca_dir_arg(ctx, a->argv[0], &dir);
        if (r != 0)
                return r;
        return finish ? ca_rollover_finish(ctx, dir, cli_flag(a, ROLLOVER_FORCE))
                      : ca_rollover(dir, key_type, cli_arg(a, ROLLOVER_SUBJECT));
}

const struct cli_command cli_ca_rollover = {
        .name = "ca rollover",
        .usage = "[DIR] [--key-type TYPE] [--subject DN] | --finish [--force] [DIR]",
        .summary = "the next CA generation, the current one trusted until --finish",
        .options = rollover_options,
        .max_args = 1,
        .complete_args = "@dir",
        .run = run_rollover,
};

static int run_install(const struct cli_ctx *ctx, const struct cli_args *a) {
        _cleanup_free_ char *dir = NULL;
        int r = ca_dir_arg(ctx, a->argv[1], &dir);

        return r < 0 ? r : ca_install_dir(a->argv[0], dir);
}

const struct cli_command cli_ca_install = {
        .name = "ca install",
        .usage = "SRC [DIR]",
        .summary = "put a CA made on another host in place, as one change",
        .min_args = 1,
        .max_args = 2,
        .complete_args = "@dir",
        .run = run_install,
};
