/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"
#include "manifest.h"
#include "runtime.h"

/*
 * Evidence for a binding that has no verify: the certificate the container
 * reads is the saved one. The path it reads is a copy: destination holding
 * the certificate, or else its mount of the certificate (from inspect) —
 * followed through kolla's config.json when the container has one, because
 * kolla's start script serves a copy of the mounted file, made at start.
 * The file is read through the runtime (exec cat: podman's API, or the CLI) and its first certificate
 * compared (SHA-256) with the saved one. It proves the files, not that the
 * process loaded them: only a verify does that.
 */

enum {
        EVIDENCE_MATCH = 0, /* the container reads the saved certificate */
        EVIDENCE_NONE = 1,  /* nothing the agent can look at (the message says why) */
};

struct evidence;

/*
 * r: EVIDENCE_MATCH or EVIDENCE_NONE with what was (not) proven, -ESTALE
 * when the container reads another certificate, another -errno when the
 * file could not be read; the message says which path and serials.
 */
typedef void (*evidence_done_t)(int r, const char *message, void *userdata);

int evidence_start(sd_event *event, const struct config *cfg, struct runtime *rt, const struct mf_container *b,
                   const struct mf_cert *c, const char *name, evidence_done_t done, void *userdata, struct evidence **ret);
/* Stops and frees; done is not called. */
void evidence_cancel(struct evidence *e);

