/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "names.h"

static bool dns_label_valid(const char *s, size_t len) {
        if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '-' && s[i] != '_')
                        return false;
        return true;
}

bool dns_name_valid(const char *s) {
        size_t total = strlen(s);

        if (total == 0 || total > 253)
                return false;
        if (strncmp(s, "*.", 2) == 0)
                s += 2;
        for (;;) {
                const char *dot = strchr(s, '.');
                size_t len = dot ? (size_t) (dot - s) : strlen(s);

                if (!dns_label_valid(s, len))
                        return false;
                if (!dot)
                        return true;
                s = dot + 1;
        }
}

bool dns_name_within(const char *name, const char *suffix) {
        size_t nl = strlen(name), sl;
        bool below_only = suffix[0] == '.';

        if (below_only)
                suffix++;
        sl = strlen(suffix);
        if (sl == 0)
                return false;
        if (nl == sl)
                return !below_only && strcasecmp(name, suffix) == 0;
        return nl > sl && name[nl - sl - 1] == '.' && strcasecmp(name + nl - sl, suffix) == 0;
}

bool email_valid(const char *s) {
        const char *at = strchr(s, '@');

        return at && at != s && !strchr(at + 1, '@') && dns_name_valid(at + 1) && strncmp(at + 1, "*.", 2) != 0 &&
               strlen(s) <= 254 && !strpbrk(s, " \t\r\n<>");
}

int ip_addr_parse(const char *s, struct ip_addr *ret) {
        struct ip_addr a = {};

        if (inet_pton(AF_INET, s, a.bytes) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, s, a.bytes) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b) {
        return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

int ip_cidr_parse(const char *s, struct ip_cidr *ret) {
        _cleanup_free_ char *copy = strdup(s);
        struct ip_cidr c = {};
        char *slash, *end;
        unsigned long prefix;
        unsigned max;

        if (!copy)
                return -ENOMEM;
        slash = strchr(copy, '/');
        if (slash)
                *slash = '\0';
        if (ip_addr_parse(copy, &c.addr) < 0)
                return -EINVAL;
        max = c.addr.family == AF_INET ? 32 : 128;
        if (!slash)
                prefix = max;
        else {
                if (!isdigit((unsigned char) slash[1]))
                        return -EINVAL;
                prefix = strtoul(slash + 1, &end, 10);
                if (*end || prefix > max)
                        return -EINVAL;
        }
        c.prefix = (unsigned) prefix;
        *ret = c;
        return 0;
}

bool ip_cidr_contains(const struct ip_cidr *c, const struct ip_addr *a) {
        unsigned full = c->prefix / 8, rest = c->prefix % 8;

        if (c->addr.family != a->family)
                return false;
        if (memcmp(c->addr.bytes, a->bytes, full) != 0)
                return false;
        if (rest == 0)
                return true;
        return ((c->addr.bytes[full] ^ a->bytes[full]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

bool ip_in_list(char *const *list, const char *s) {
        struct ip_addr a, b;

        if (ip_addr_parse(s, &a) < 0 || !list)
                return false;
        for (char *const *i = list; *i; i++)
                if (ip_addr_parse(*i, &b) >= 0 && ip_addr_equal(&a, &b))
                        return true;
        return false;
}

static bool email_in_subtree(const char *email, const char *base) {
        const char *at = strrchr(email, '@');

        if (!at)
                return false;
        if (strchr(base, '@'))
                return strcasecmp(email, base) == 0;
        if (base[0] == '.')
                return dns_name_within(at + 1, base);
        return strcasecmp(at + 1, base) == 0; /* a host alone: that host, not below it */
}

bool name_in_subtree(enum name_kind kind, const char *name, const char *base) {
        struct ip_cidr c;
        struct ip_addr a;

        switch (kind) {
        case NAME_DNS:
                return !base[0] || dns_name_within(name, base);
        case NAME_EMAIL:
                return !base[0] || email_in_subtree(name, base);
        case NAME_IP:
                return ip_addr_parse(name, &a) >= 0 && ip_cidr_parse(base, &c) >= 0 && ip_cidr_contains(&c, &a);
        }
        return false;
}
