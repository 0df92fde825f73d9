/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Maintenance windows in host local time, as an operator writes them:
 *   "daily 03:00-03:30", "Sat 02:00-04:00", "Mon-Fri 22:00-02:00", "Sat,Sun 01:00-05:00".
 * A window whose end is not after its start runs past midnight into the next
 * day (it starts on the days named). 24:00 may end a window. Pure: the time
 * is passed in.
 */

struct window {
        uint8_t days;          /* bit tm_wday: 0 = Sunday … 6 = Saturday */
        uint16_t start, end;   /* minutes after midnight */
};

/* -EINVAL when s is not a window; *ret untouched then. */
int window_parse(const char *s, struct window *ret);
/* Whether t falls inside one of the n windows. */
bool windows_contain(const struct window *w, size_t n, time_t t);
/* The first time at or after t inside one of the windows (t itself when inside it). -ENOENT: n is 0. */
int windows_next_open(const struct window *w, size_t n, time_t t, time_t *ret);

/* A list of windows as ctrcert.yaml and the manifest carry it. set: whether the key was given at all. */
struct window_set {
        struct window *v;
        size_t n;
        bool set;
};

struct ywalk;
struct ynode;
/* A yfield parser: a sequence of window strings into a struct window_set (target), each error at its item. */
int yparse_windows(struct ywalk *w, const struct ynode *n, const char *field, void *target);
void window_set_done(struct window_set *s);
