/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Names a certificate may carry: syntax checks and comparisons, no I/O. */

struct ip_addr {
        int family; /* AF_INET or AF_INET6 */
        uint8_t bytes[16];
};

struct ip_cidr {
        struct ip_addr addr;
        unsigned prefix;
};

/* RFC 1123 host name, optionally with one leading "*." label. */
bool dns_name_valid(const char *s);
/* name equals suffix, or ends with "." + suffix; a suffix given with a leading dot matches only below it. */
bool dns_name_within(const char *name, const char *suffix);
bool email_valid(const char *s);

int ip_addr_parse(const char *s, struct ip_addr *ret);
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* Parses "192.0.2.0/24", "fd00::/8"; a bare address is a /32 or /128. */
int ip_cidr_parse(const char *s, struct ip_cidr *ret);
bool ip_cidr_contains(const struct ip_cidr *c, const struct ip_addr *a);
enum name_kind { NAME_DNS, NAME_IP, NAME_EMAIL };
/*
 * name lies in the nameConstraints subtree base (RFC 5280 4.2.1.10): a DNS
 * suffix (".x" only below x), a CIDR, an email host, ".domain" or mailbox.
 * An empty DNS or email base covers every name of its kind.
 */
bool name_in_subtree(enum name_kind kind, const char *name, const char *base);

/* s is the same address as an entry of list, however either is spelled ("2001:db8::1" = "2001:db8:0::1"). */
bool ip_in_list(char *const *list, const char *s);
