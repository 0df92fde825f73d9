/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "names.h"
#include "preflight.h"
#include "strv.h"

static int check_names(const struct mf_cert *c, const struct cert *cert, char *reason, size_t size) {
        _cleanup_(strv_freep) char **dns = NULL, **ip = NULL, **email = NULL;
        int r = cert_get_names(cert, &dns, &ip, &email);

        if (r < 0) {
                snprintf(reason, size, "%s: its subjectAltName cannot be read", c->cert);
                return r;
        }
        STRV_FOREACH(n, dns)
                if (!strv_contains_case(c->dns, *n))
                        goto undeclared;
        STRV_FOREACH(n, ip)
                if (!ip_in_list(c->ip, *n))
                        goto undeclared;
        STRV_FOREACH(n, email)
                if (!strv_contains_case(c->email, *n))
                        goto undeclared;
        return 0;
undeclared:
        snprintf(reason, size, "%s carries names not declared for id '%s'", c->cert, c->id);
        return -EPERM;
}

static int check_validity(const struct mf_cert *c, const struct cert *cert, time_t now, char *reason, size_t size) {
        time_t nb, na;

        if (cert_validity(cert, &nb, &na) < 0) {
                snprintf(reason, size, "%s: unreadable validity", c->cert);
                return -EBADMSG;
        }
        if (now < nb || now >= na) {
                snprintf(reason, size, "%s is not valid now (%s)", c->cert, now < nb ? "not yet valid" : "expired");
                return -EKEYEXPIRED;
        }
        return 0;
}

int preflight_check(const struct mf_cert *c, const char *ca_bundle, time_t now, char *reason, size_t size) {
        _cleanup_(cert_freep) struct cert *cert = NULL;
        _cleanup_(key_freep) struct key *key = NULL;
        char why[256];
        int r;

        r = cert_load_file(c->cert, &cert);
        if (r < 0) {
                snprintf(reason, size, "%s: %s", c->cert, r == -EBADMSG ? "not a PEM certificate" : strerror(-r));
                return r;
        }
        r = key_load_file(c->key, &key);
        if (r < 0) {
                snprintf(reason, size, "%s: %s", c->key, r == -EBADMSG ? "not a PEM private key" : strerror(-r));
                return r;
        }
        if (!cert_matches_key(cert, key)) {
                snprintf(reason, size, "%s does not match its key %s", c->cert, c->key);
                return -EKEYREJECTED;
        }
        r = check_validity(c, cert, now, reason, size);
        if (r < 0)
                return r;
        if (ca_bundle && ca_bundle[0] && (r = cert_verify_bundle(cert, ca_bundle, now, why, sizeof(why))) < 0) {
                snprintf(reason, size, "%s %s", c->cert, why);
                return r;
        }
        return check_names(c, cert, reason, size);
}
