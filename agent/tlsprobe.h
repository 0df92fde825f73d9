/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

/*
 * Proof that an endpoint serves a certificate: TLS handshakes (OpenSSL,
 * non-blocking on sd-event) against HOST:PORT until the certificate it
 * presents is the one in a file (SHA-256 fingerprints equal), or the timeout
 * passes. Trust is not the question here, identity is: no chain validation.
 * This is the agent's one TLS client; common/crypto.c stays the X.509 module.
 */

struct tlsprobe;

/*
 * r: 0 served ("serving serial …"); -ESTALE when the endpoint answered to the
 * end but with another certificate ("still serving serial …"); -ETIME with
 * the last thing seen otherwise ("cannot connect …").
 */
typedef void (*tlsprobe_done_t)(int r, const char *message, void *userdata);

int tlsprobe_start(sd_event *event, const char *hostport, const char *sni, const char *cert_path, uint64_t timeout_usec,
                   tlsprobe_done_t done, void *userdata, struct tlsprobe **ret);
/* Stops and frees; done is not called. */
void tlsprobe_cancel(struct tlsprobe *p);
