/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <time.h>

#include "manifest.h"

/*
 * Is the saved material fit to restart a service onto? The certificate
 * parses, its key matches, it is valid now, it chains to the CA bundle (when
 * one is configured) and its names are declared for its id. 0 when fit;
 * otherwise a negative errno and one line in reason.
 */
int preflight_check(const struct mf_cert *c, const char *ca_bundle, time_t now, char *reason, size_t size);
