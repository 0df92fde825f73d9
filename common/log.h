/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

#include "macro.h"

/*
 * Logging. Diagnostics go to stderr (never stdout: stdout is certmonger's
 * protocol for the helper and the result for the CLI). Helpers deeper than a
 * program's main never log above debug; the caller logs once.
 *
 * Under systemd (stderr is the JOURNAL_STREAM) each line starts with its
 * syslog priority, "<3>…", so `journalctl -p err` finds the errors; elsewhere
 * a line is "program: message", after a timestamp for a daemon that asked for
 * one. CTRCERT_LOG_LEVEL (err, warning, notice, info, debug or 3-7) sets the
 * threshold at log_setup().
 */

enum log_level { LOG_LEVEL_ERR = 3, LOG_LEVEL_WARNING = 4, LOG_LEVEL_NOTICE = 5, LOG_LEVEL_INFO = 6, LOG_LEVEL_DEBUG = 7 };

void log_setup(const char *program);
/* err|error|warning|notice|info|debug or "3"…"7" → the level; -EINVAL otherwise. */
int log_level_from_string(const char *s);
/* Whether stderr is the journal's stream (a line there reaches the journal already). */
bool log_is_journal(void);
/* Timestamps on lines not written to the journal (the agent's). */
void log_set_timestamps(bool on);
void log_set_max_level(int level);
int log_get_max_level(void);

/* Logs and returns error (a negative errno, passed through unchanged). %m prints it. */
int log_full_errno(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERR, (e), __VA_ARGS__)
