/* SPDX-License-Identifier: MIT */
/* Reading a CA's name constraints, and subjects in the syntax `subject` arguments take. */
#include <arpa/inet.h>
#include <stdio.h>

#include "crypto-internal.h"
#include "strv.h"

void name_constraints_done(struct name_constraints *nc) {
        strv_free(nc->dns);
        strv_free(nc->ip);
        strv_free(nc->email);
        strv_free(nc->excluded_dns);
        strv_free(nc->excluded_ip);
        strv_free(nc->excluded_email);
        free(nc->dirname);
        *nc = (struct name_constraints) {};
}

static int subtree_ip(const ASN1_OCTET_STRING *o, char **ret) {
        const unsigned char *b = ASN1_STRING_get0_data(o);
        int len = ASN1_STRING_length(o), half = len / 2, family = half == 4 ? AF_INET : AF_INET6;
        char a[INET6_ADDRSTRLEN];
        unsigned prefix = 0;

        if ((half != 4 && half != 16) || !inet_ntop(family, b, a, sizeof(a)))
                return -EBADMSG;
        for (int i = 0; i < half; i++)
                prefix += (unsigned) __builtin_popcount(b[half + i]);
        return asprintf(ret, "%s/%u", a, prefix) < 0 ? -ENOMEM : 0;
}

/* name in the syntax dn_parse() reads: entries in order, ',' and '\' escaped; CNs left out when skip_cn. */
static int name_to_dn_string(const X509_NAME *name, bool skip_cn, char **ret) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        bool first = true;

        if (!b)
                return -ENOMEM;
        for (int i = 0; i < X509_NAME_entry_count(name); i++) {
                const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
                int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
                _cleanup_(strv_freep) char **value = NULL;

                if (skip_cn && nid == NID_commonName)
                        continue;
                if (nid == NID_undef || push_asn1_string(&value, X509_NAME_ENTRY_get_data(e)) < 0)
                        return -EBADMSG;
                BIO_printf(b, "%s%s=", first ? "" : ",", OBJ_nid2sn(nid));
                for (const char *p = value[0]; *p; p++)
                        BIO_printf(b, "%s%c", *p == ',' || *p == '\\' ? "\\" : "", *p);
                first = false;
        }
        return bio_to_string(b, ret);
}

int cert_subject_base(const struct cert *c, char **ret) {
        return name_to_dn_string(X509_get_subject_name(c->x509), true, ret);
}

static int subtree_string(const GENERAL_NAME *g, char **ret) {
        switch (g->type) {
        case GEN_DNS:
        case GEN_EMAIL:
                *ret = strndup((const char *) ASN1_STRING_get0_data(g->d.ia5), (size_t) ASN1_STRING_length(g->d.ia5));
                return *ret ? 0 : -ENOMEM;
        case GEN_IPADD:
                return subtree_ip(g->d.iPAddress, ret);
        case GEN_DIRNAME:
                return name_to_dn_string(g->d.directoryName, false, ret);
        default:
                *ret = NULL;
                return 0;
        }
}

/* Sorts one subtree into nc: permitted or excluded, by kind; kinds ctrcert never issues are skipped. */
static int subtree_read(const GENERAL_NAME *g, bool excluded, struct name_constraints *nc) {
        _cleanup_free_ char *s = NULL;
        char ***v = NULL;
        int r;

        r = subtree_string(g, &s);
        if (r < 0 || !s)
                return r;
        if (g->type == GEN_DIRNAME) {
                if (!excluded && !nc->dirname)
                        nc->dirname = TAKE_PTR(s);
                return 0;
        }
        v = g->type == GEN_DNS     ? (excluded ? &nc->excluded_dns : &nc->dns)
            : g->type == GEN_IPADD ? (excluded ? &nc->excluded_ip : &nc->ip)
                                   : (excluded ? &nc->excluded_email : &nc->email);
        return strv_push(v, s);
}

int ca_get_name_constraints(const struct ca *ca, struct name_constraints *ret) {
        _cleanup_(NAME_CONSTRAINTS_freep) NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca->cert->x509, NID_name_constraints, NULL, NULL);
        struct name_constraints out = {};
        int r = 0;

        for (int i = 0; nc && i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) && r >= 0; i++)
                r = subtree_read(sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i)->base, false, &out);
        for (int i = 0; nc && i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) && r >= 0; i++)
                r = subtree_read(sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, i)->base, true, &out);
        ERR_clear_error();
        if (r < 0) {
                name_constraints_done(&out);
                return r;
        }
        *ret = out;
        return 0;
}
