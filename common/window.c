/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "strv.h"
#include "window.h"
#include "ywalk.h"

static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static int day_parse(const char *s, size_t len) {
        for (int d = 0; d < 7; d++)
                if (len == 3 && strncasecmp(s, day_names[d], 3) == 0)
                        return d;
        return -EINVAL;
}

/* "daily", "Sat", "Mon-Fri", "Sat,Sun", "Fri-Mon" (wrapping) → a bit set of tm_wday. */
static int days_parse(const char *s, size_t len, uint8_t *ret) {
        uint8_t days = 0;

        if (len == 5 && strncasecmp(s, "daily", 5) == 0) {
                *ret = 0x7f;
                return 0;
        }
        while (len > 0) {
                const char *comma = memchr(s, ',', len);
                size_t item = comma ? (size_t) (comma - s) : len;
                const char *dash = memchr(s, '-', item);
                int a = day_parse(s, dash ? (size_t) (dash - s) : item), b = a;

                if (dash)
                        b = day_parse(dash + 1, item - (size_t) (dash - s) - 1);
                if (a < 0 || b < 0)
                        return -EINVAL;
                for (int d = a;; d = (d + 1) % 7) {
                        days |= 1u << d;
                        if (d == b)
                                break;
                }
                if (!comma)
                        break;
                len -= item + 1;
                s = comma + 1;
                if (len == 0) /* "Sat," */
                        return -EINVAL;
        }
        if (days == 0)
                return -EINVAL;
        *ret = days;
        return 0;
}

/* "HH:MM" with 00:00 ≤ it ≤ 24:00 → minutes. */
static int clock_parse(const char *s, unsigned *ret) {
        unsigned h, m;

        for (int i = 0; i < 5; i++)
                if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
                        return -EINVAL;
        h = (unsigned) (s[0] - '0') * 10 + (unsigned) (s[1] - '0');
        m = (unsigned) (s[3] - '0') * 10 + (unsigned) (s[4] - '0');
        if (m > 59 || h * 60 + m > 24 * 60)
                return -EINVAL;
        *ret = h * 60 + m;
        return 0;
}

int window_parse(const char *s, struct window *ret) {
        const char *space = strchr(s, ' ');
        unsigned start, end;
        uint8_t days;

        if (!space || days_parse(s, (size_t) (space - s), &days) < 0)
                return -EINVAL;
        s = space + 1;
        if (strlen(s) != 11 || s[5] != '-' || clock_parse(s, &start) < 0 || clock_parse(s + 6, &end) < 0 ||
            start == end || start == 24 * 60)
                return -EINVAL;
        *ret = (struct window) { .days = days, .start = (uint16_t) start, .end = (uint16_t) end };
        return 0;
}

static bool window_contains(const struct window *w, const struct tm *tm) {
        unsigned m = (unsigned) (tm->tm_hour * 60 + tm->tm_min);
        int yesterday = (tm->tm_wday + 6) % 7;

        if (w->start < w->end)
                return (w->days & (1u << tm->tm_wday)) && m >= w->start && m < w->end;
        /* past midnight: the evening of a named day, or the small hours after one */
        return ((w->days & (1u << tm->tm_wday)) && m >= w->start) || ((w->days & (1u << yesterday)) && m < w->end);
}

bool windows_contain(const struct window *w, size_t n, time_t t) {
        struct tm tm;

        if (!localtime_r(&t, &tm))
                return false;
        for (size_t i = 0; i < n; i++)
                if (window_contains(&w[i], &tm))
                        return true;
        return false;
}

int windows_next_open(const struct window *w, size_t n, time_t t, time_t *ret) {
        time_t best = (time_t) -1;
        struct tm today;

        if (n == 0)
                return -ENOENT;
        if (windows_contain(w, n, t)) {
                *ret = t;
                return 0;
        }
        if (!localtime_r(&t, &today))
                return -EINVAL;
        /* A window starts on one of the next eight days (today's may be over). */
        for (int k = 0; k <= 7; k++)
                for (size_t i = 0; i < n; i++) {
                        struct tm tm = today;
                        time_t open;

                        tm.tm_mday += k;
                        tm.tm_hour = w[i].start / 60;
                        tm.tm_min = w[i].start % 60;
                        tm.tm_sec = 0;
                        tm.tm_isdst = -1;
                        open = mktime(&tm); /* normalises the day; tm_wday is that day's */
                        if (open == (time_t) -1 || open < t || !(w[i].days & (1u << tm.tm_wday)))
                                continue;
                        if (best == (time_t) -1 || open < best)
                                best = open;
                }
        if (best == (time_t) -1)
                return -EINVAL;
        *ret = best;
        return 0;
}

void window_set_done(struct window_set *s) {
        free(s->v);
        *s = (struct window_set) {};
}

int yparse_windows(struct ywalk *w, const struct ynode *n, const char *field, void *target) {
        struct window_set *set = target;
        _cleanup_(strv_freep) char **v = NULL;
        _cleanup_free_ struct window *parsed = NULL;
        int r = yparse_strv(w, n, field, &v), ret = 0;

        if (r < 0)
                return r;
        parsed = calloc(strv_length(v) + 1, sizeof(*parsed));
        if (!parsed)
                return -ENOMEM;
        for (size_t i = 0; v[i]; i++)
                if (window_parse(v[i], &parsed[i]) < 0)
                        ret = ywalk_error(w, n->items[i], field,
                                          "'%s' is not a window: DAYS HH:MM-HH:MM, DAYS being daily, Sat, Mon-Fri "
                                          "or Sat,Sun (host local time)", v[i]);
        if (ret < 0)
                return ret;
        free(set->v);
        *set = (struct window_set) { .v = TAKE_PTR(parsed), .n = strv_length(v), .set = true };
        return 0;
}
