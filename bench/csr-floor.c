/* SPDX-License-Identifier: MIT */
/*
 * csr-floor CSR.pem: the least any OpenSSL 3 process that handles a
 * certmonger SUBMIT must do, and nothing more: load libcrypto, read the CSR,
 * decode its public key and verify its signature. No CA, no signing, no
 * policy. bench-submit.sh times it beside ctrcert-submit: what a helper run
 * once per request (certmonger's model) cannot go below on this OpenSSL.
 */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>

int main(int argc, char **argv) {
        FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
        X509_REQ *req = f ? PEM_read_X509_REQ(f, NULL, NULL, NULL) : NULL;
        EVP_PKEY *key = req ? X509_REQ_get0_pubkey(req) : NULL;

        return key && X509_REQ_verify(req, key) == 1 ? 0 : 1;
}
