/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the helper's SUBMIT path without files or certmonger. The first
 * byte picks the requested id, the rest is the CSR (PEM or DER): parse →
 * facts → policy → sign with a CA made once at start.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cadir.h"
#include "crypto.h"
#include "fileio.h"
#include "policy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ca *ca;
static struct manifest *m;
static struct config *cfg;

static const char manifest_text[] =
        "version: 1\ncertificates:\n"
        "  - {id: web, cert: /c/web.crt, key: /k/web.key, names: {dns: [web.example, www.example], ip: [192.0.2.10], email: [ops@web.example]}}\n"
        "  - {id: db, cert: /c/db.crt, key: /k/db.key, names: {dns: [db.example]}, usage: [client]}\n";

static void write_pem(const char *dir, const char *name, const char *pem, mode_t mode) {
        char *p = path_join(dir, name);
        if (!p || write_file_atomic(p, pem, strlen(pem), mode) < 0)
                abort();
        free(p);
}

/* A throwaway CA in a temp dir, loaded through the same cadir_load_ca() the helper uses. */
static void make_ca(void) {
        char dir[] = "/tmp/ctrcert-fuzz.XXXXXX", *failed = NULL, *priv;
        struct key *k;
        struct cert *c;
        char *key_pem, *cert_pem;

        if (!mkdtemp(dir) || key_generate(KEYTYPE_EC_P256, &k) < 0 ||
            ca_cert_make(k, "CN=Fuzz CA", NULL, NULL, 30, 0, &c) < 0 || key_to_pem(k, &key_pem) < 0 ||
            cert_to_pem(c, &cert_pem) < 0)
                abort();
        priv = path_join(dir, "private");
        if (!priv || mkdir_parents(priv, 0700) < 0)
                abort();
        write_pem(dir, "private/ca.key", key_pem, 0600);
        write_pem(dir, "ca.crt", cert_pem, 0644);
        write_pem(dir, "chain.pem", cert_pem, 0644);
        write_pem(dir, "root.crt", cert_pem, 0644);
        if (cadir_load_ca(dir, &ca, &failed) < 0)
                abort();
        /* Loaded into memory: the files are not needed any more. */
        for (size_t i = 0; i < 4; i++) {
                static const char *const names[] = { "private/ca.key", "ca.crt", "chain.pem", "root.crt" };
                char *p = path_join(dir, names[i]);
                if (p)
                        unlink(p);
                free(p);
        }
        rmdir(priv);
        rmdir(dir);
        free(priv);
        free(key_pem);
        free(cert_pem);
        key_free(k);
        cert_free(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        struct diag_list d = {};

        (void) argc;
        (void) argv;
        if (crypto_init() < 0 || config_new_default(&cfg) < 0 ||
            manifest_load_buffer("m.yaml", manifest_text, strlen(manifest_text), &m, &d) < 0)
                abort();
        diag_list_clear(&d);
        make_ca();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const profiles[] = { "web", "db", "", "unknown" };
        struct csr *csr = NULL;
        struct csr_info info;
        struct policy_decision d = {};
        struct cert *leaf = NULL;

        if (size < 1)
                return 0;
        if (csr_parse((const char *) data + 1, size - 1, &csr) < 0)
                return 0;
        if (csr_get_info(csr, &info) >= 0) {
                if (policy_check(cfg, m, profiles[data[0] % 4], &info, &d) == 0) {
                        struct issue_params p = { .dns = d.san_dns, .ip = d.san_ip, .email = d.san_email,
                                                  .usage = d.usage, .validity_days = 10, .now = time(NULL) };
                        if (cert_issue(ca, csr, &p, &leaf) >= 0)
                                cert_free(leaf);
                        policy_decision_done(&d);
                }
                csr_info_done(&info);
        }
        csr_free(csr);
        return 0;
}
