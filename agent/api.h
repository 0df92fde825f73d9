/* SPDX-License-Identifier: MIT */
#pragma once

#include <dbus/dbus.h>

#include "engine.h"

/*
 * org.ctrcert.Agent1 at /org/ctrcert/Agent1 (doc/dbus-api.txt): a method table
 * checked before dispatch, callers other than uid 0 refused, and the
 * JobFinished signal. This is where errors become D-Bus error names.
 */

#define API_NAME "org.ctrcert.Agent1"
#define API_PATH "/org/ctrcert/Agent1"
#define API_IFACE "org.ctrcert.Agent1"

struct api;

/* Reload: re-reads config's manifest; 0, or -EINVAL with a message (file:line:col) in errbuf. */
typedef int (*api_reload_t)(char *errbuf, size_t size, void *userdata);

int api_attach(DBusConnection *conn, struct engine *engine, api_reload_t reload, void *userdata, struct api **ret);
void api_detach(struct api *api);
void api_emit_job_finished(struct api *api, const struct job_report *r);
