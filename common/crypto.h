/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "macro.h"

/*
 * The only module that speaks OpenSSL's certificates and keys (libcrypto).
 * Everything else sees these domain types and functions. It is one header
 * over files cut by responsibility: crypto-csr.c (what a CSR asks for),
 * crypto-cert.c (certificates, bundles, chains), crypto-key.c,
 * crypto-issue.c (the issuing CA and leaf issuance), crypto-camake.c (CA
 * certificates, name constraints made), crypto-crl.c, crypto-nc.c (name
 * constraints read), crypto.c (what they share); internals in
 * crypto-internal.h, included by those files alone. Where the CA's files live
 * is cadir's: nothing here knows a file name of its layout.
 *
 * agent/tlsprobe.c is the one TLS client, and stays apart: it speaks libssl,
 * driven by the agent's sd-event loop (non-blocking handshake, retries,
 * deadline), which neither the helper (started once per issuance, it loads
 * only libcrypto) nor the CLI needs; wrapping the handshake here would put an
 * event loop into common/ for one caller. What does belong here is its
 * certificate facts (the served certificate's SHA-256 and serial against the
 * one we issued): a cert_parse_der() for the peer's certificate, then
 * cert_fingerprint_sha256() and cert_serial_hex(), when tlsprobe is next
 * changed.
 *
 * Errors: -EBADMSG malformed input, -ENOENT/-EACCES missing/unreadable file,
 * -EKEYREJECTED key does not belong to the certificate, -EKEYEXPIRED CA
 * outside its validity, -EIO any other OpenSSL failure (details logged at
 * debug).
 */

struct csr;
struct cert;
struct key;
struct ca;

enum key_kind { KEY_RSA, KEY_EC, KEY_OTHER };
enum key_type { KEYTYPE_EC_P256, KEYTYPE_EC_P384, KEYTYPE_RSA3072, KEYTYPE_RSA4096, _KEYTYPE_MAX };
extern const char *const key_type_names[];

/* What a CSR asks for, as plain data for the policy. */
struct csr_info {
        char **cn;
        char **dns, **ip, **email;
        char **unsupported_sans; /* e.g. "URI", "otherName": names the policy cannot check */
        int key_kind;            /* enum key_kind */
        char key_algorithm[32];  /* OpenSSL's name, for messages */
        unsigned key_bits;
        char curve[32];     /* "P-256", "P-384", "P-521", or OpenSSL's group name */
        char digest[32];    /* "SHA256", "SHA1", … ; "" when unknown */
        bool signature_ok;  /* the CSR is signed by the key it carries */
        bool requests_ca;   /* basicConstraints CA:TRUE */
        char key_problem[96];   /* why OpenSSL's public-key checks refuse the key ("" when none) */
        char **subject_other;   /* subject attributes other than CN, by short name ("O", "emailAddress") */
        unsigned key_usage;     /* requested keyUsage bits, 1 << n for RFC 5280's bit n (0 when none asked) */
        char **eku;             /* requested extendedKeyUsage purposes ("serverAuth", or the OID) */
        char **other_extensions; /* requested extensions beyond SAN, basicConstraints, KU, EKU and certmonger's own */
};

/* RFC 5280 keyUsage bit numbers, as in csr_info.key_usage. */
enum {
        KU_BIT_DIGITAL_SIGNATURE, KU_BIT_NON_REPUDIATION, KU_BIT_KEY_ENCIPHERMENT, KU_BIT_DATA_ENCIPHERMENT,
        KU_BIT_KEY_AGREEMENT, KU_BIT_KEY_CERT_SIGN, KU_BIT_CRL_SIGN, KU_BIT_ENCIPHER_ONLY, KU_BIT_DECIPHER_ONLY,
        _KU_BIT_MAX,
};
extern const char *const key_usage_names[_KU_BIT_MAX];

struct issue_params {
        char *const *cn;                             /* the subject's CNs, allowed by the policy; after the CA's directoryName */
        char *const *dns, *const *ip, *const *email; /* the subjectAltName, already allowed by the policy */
        unsigned usage;                              /* USAGE_SERVER | USAGE_CLIENT */
        unsigned validity_days;
        unsigned jitter_percent; /* notAfter earlier by up to this much of the validity, per certificate */
        const char *id;          /* the manifest id: with the serial, what decides the jitter */
        time_t now;
        const char *crl_url; /* "" for none */
};

int crypto_init(void);

int csr_parse(const char *data, size_t len, struct csr **ret);
int csr_get_info(const struct csr *csr, struct csr_info *ret);
void csr_info_done(struct csr_info *info);
void csr_free(struct csr *csr);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct csr *, csr_free);

/*
 * The issuing CA from its parts, which it takes (each *part is NULL after
 * success): certificate, its key and the PEM text of the chain that follows
 * an issued certificate. Where they are stored is cadir's business.
 */
int ca_new(struct cert **cert, struct key **key, char **chain_pem, struct ca **ret);
void ca_free(struct ca *ca);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ca *, ca_free);
const struct cert *ca_cert(const struct ca *ca);
/* The chain as PEM text: what follows an issued certificate. */
const char *ca_chain_pem(const struct ca *ca);

/*
 * 0 when data is PEM certificates and nothing else (no text around them, no
 * key), -EBADMSG when not; checked without parsing them (a chain is passed on
 * as text: parsing costs a SUBMIT more than the rest of it).
 */
int pem_certificates_only(const char *data, size_t len);

int cert_issue(const struct ca *ca, const struct csr *csr, const struct issue_params *p, struct cert **ret);

/* The first certificate of PEM text, anything before it (a key, a tool's warning) skipped; -EBADMSG when none. */
int cert_parse_pem(const char *data, size_t len, struct cert **ret);
int cert_load_file(const char *path, struct cert **ret);
/* All certificates of a PEM file, in order. */
int cert_load_file_all(const char *path, struct cert ***ret, size_t *ret_n);
void cert_free(struct cert *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cert *, cert_free);
int cert_to_pem(const struct cert *c, char **ret);
int cert_serial_hex(const struct cert *c, char **ret);
int cert_fingerprint_sha256(const struct cert *c, char **ret);
int cert_subject(const struct cert *c, char **ret);
int cert_issuer(const struct cert *c, char **ret);
/* The subject's CN, or the whole subject when it has none: certmonger's nickname for a CA cert. */
int cert_nickname(const struct cert *c, char **ret);
int cert_validity(const struct cert *c, time_t *ret_not_before, time_t *ret_not_after);
int cert_key_description(const struct cert *c, char **ret);
/* 1 when key is the private half of c's public key, 0 when not. */
int cert_matches_key(const struct cert *c, const struct key *k);

/* The DNS, IP and email names of c's subjectAltName (NULL vectors when none). */
int cert_get_names(const struct cert *c, char ***ret_dns, char ***ret_ip, char ***ret_email);
/*
 * Verifies that c chains to a certificate of the PEM bundle at bundle_path
 * (any of them may be the anchor: an issuing CA alone is enough), at time now.
 * 0 when it does, -EBADMSG with a reason in errbuf when not.
 */
int cert_verify_bundle(const struct cert *c, const char *bundle_path, time_t now, char *errbuf, size_t errlen);

/*
 * From the PEM bundle at bundle_path, the certificates above leaf: the
 * intermediates (leaf's issuer first) and the self-signed roots, leaf's own
 * first, then the bundle's others, each as PEM text ("" when the bundle lacks
 * it). -ENOENT when nothing in it issued leaf.
 */
int cert_chain_from_bundle(const struct cert *leaf, const char *bundle_path, char **ret_chain, char **ret_root);

/* One revoked certificate: serial in hex, when, RFC 5280 CRLReason (0 unspecified). */
struct crl_entry {
        const char *serial;
        time_t when;
        int reason;
};
/* A version 2 CRL signed by ca's issuing key, valid from now for days, with cRLNumber number, as PEM. */
int crl_make(const struct ca *ca, const struct crl_entry *v, size_t n, time_t now, unsigned days, uint64_t number,
             char **ret_pem);
/* How many PEM CRLs data holds (every one must parse); -EBADMSG when none does. */
int crl_count_pem(const char *data, size_t len);
/* The earliest nextUpdate of the PEM CRLs in data (the one a consumer sees go stale first); -ENOENT: none has one. */
int crl_next_update_pem(const char *data, size_t len, time_t *ret);

int key_generate(int type, struct key **ret);
int key_load_file(const char *path, struct key **ret);
/* c's private key from PEM text: -EBADMSG when it is none, -EKEYREJECTED when not c's. */
int key_parse_pem_for(const struct cert *c, const char *data, size_t len, struct key **ret);
int key_to_pem(const struct key *k, char **ret);
void key_free(struct key *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct key *, key_free);

/*
 * Makes a CA certificate for key, signed by issuer/issuer_key (both NULL: self-signed).
 * subject is "CN=…,O=…" (RFC 4514 order, commas escaped with '\'). pathlen < 0: none.
 */
int ca_cert_make(const struct key *key, const char *subject, const struct cert *issuer, const struct key *issuer_key,
                 unsigned days, int pathlen, struct cert **ret);

/*
 * A CA's nameConstraints. Making one (ca_cert_make_constrained): dns and ip
 * are its permitted subtrees (DNS suffixes, a leading '.' is dropped; CIDRs),
 * dirname its permitted directoryName ("O=ctrcert,OU=node1", NULL for none),
 * and every name kind with no permitted subtree is excluded whole (DNS "",
 * IPv4 0.0.0.0/0, IPv6 ::/0, email, URI), so the CA signs no kind it was not
 * given. Reading one (ca_get_name_constraints) fills every field as found.
 */
struct name_constraints {
        char **dns, **ip, **email;                          /* permitted */
        char **excluded_dns, **excluded_ip, **excluded_email; /* "" excludes every DNS name / email */
        char *dirname;                                      /* the first permitted directoryName */
};
void name_constraints_done(struct name_constraints *nc);
/* ca_cert_make with critical nameConstraints: what this CA may sign, checked by every verifier. */
int ca_cert_make_constrained(const struct key *key, const char *subject, const struct cert *issuer,
                             const struct key *issuer_key, unsigned days, int pathlen, const struct name_constraints *nc,
                             struct cert **ret);
/* c's subject without its CNs, in the order and syntax `subject` arguments take ("O=ctrcert,OU=x"). */
int cert_subject_base(const struct cert *c, char **ret);
/* The issuing CA's name constraints (every field NULL when it has none). */
int ca_get_name_constraints(const struct ca *ca, struct name_constraints *ret);
