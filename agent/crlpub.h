/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

/*
 * agent.crl_publish: the CRL that `ctrcertctl revoke` and `ctrcertctl crl`
 * write to state_dir/ca/crl.pem is copied to each configured path when the
 * agent starts and whenever the file is replaced (inotify), so a revocation
 * reaches the services that check it without a timer. A file that is not a
 * CRL is refused and the copies keep the last good one.
 */
struct crlpub;

/* *ret is NULL when paths is empty (nothing to publish). */
int crlpub_new(sd_event *e, const char *state_dir, char *const *paths, struct crlpub **ret);
void crlpub_free(struct crlpub *p);
