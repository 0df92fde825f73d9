/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>

#include "names.h"
#include "unit.h"

START_TEST(test_dns_valid) {
        ck_assert(dns_name_valid("ctrl-0.internalapi.example"));
        ck_assert(dns_name_valid("*.apps.example"));
        ck_assert(dns_name_valid("localhost"));
        ck_assert(!dns_name_valid(""));
        ck_assert(!dns_name_valid("-bad.example"));
        ck_assert(!dns_name_valid("bad-.example"));
        ck_assert(!dns_name_valid("a..example"));
        ck_assert(!dns_name_valid("a.*.example"));
        ck_assert(!dns_name_valid("sp ace.example"));
        ck_assert(!dns_name_valid("x.example."));
}
END_TEST

START_TEST(test_dns_within) {
        ck_assert(dns_name_within("a.open.example", ".open.example"));
        ck_assert(!dns_name_within("open.example", ".open.example"));
        ck_assert(dns_name_within("open.example", "open.example"));
        ck_assert(dns_name_within("A.Open.Example", "open.example"));
        ck_assert(!dns_name_within("evilopen.example", "open.example"));
        ck_assert(!dns_name_within("open.example.evil", ".open.example"));
}
END_TEST

START_TEST(test_email) {
        ck_assert(email_valid("ops@web.example"));
        ck_assert(!email_valid("@web.example"));
        ck_assert(!email_valid("a@b@web.example"));
        ck_assert(!email_valid("ops@*.example"));
        ck_assert(!email_valid("no-at-sign"));
}
END_TEST

START_TEST(test_ip) {
        struct ip_addr a, b;
        struct ip_cidr c;

        ck_assert_int_eq(ip_addr_parse("2001:db8::1", &a), 0);
        ck_assert_int_eq(ip_addr_parse("2001:0db8:0:0::1", &b), 0);
        ck_assert(ip_addr_equal(&a, &b));
        ck_assert_int_eq(ip_addr_parse("192.0.2.1", &b), 0);
        ck_assert(!ip_addr_equal(&a, &b));
        ck_assert_int_lt(ip_addr_parse("192.0.2", &a), 0);
        ck_assert_int_lt(ip_addr_parse("web.example", &a), 0);

        ck_assert_int_eq(ip_cidr_parse("172.17.0.0/16", &c), 0);
        ck_assert_int_eq(ip_addr_parse("172.17.1.10", &a), 0);
        ck_assert(ip_cidr_contains(&c, &a));
        ck_assert_int_eq(ip_addr_parse("172.18.1.10", &a), 0);
        ck_assert(!ip_cidr_contains(&c, &a));
        ck_assert_int_eq(ip_cidr_parse("10.0.0.0/9", &c), 0);
        ck_assert_int_eq(ip_addr_parse("10.127.0.1", &a), 0);
        ck_assert(ip_cidr_contains(&c, &a));
        ck_assert_int_eq(ip_addr_parse("10.128.0.1", &a), 0);
        ck_assert(!ip_cidr_contains(&c, &a));
        ck_assert_int_eq(ip_cidr_parse("fd00::/8", &c), 0);
        ck_assert_int_eq(ip_addr_parse("fd12::1", &a), 0);
        ck_assert(ip_cidr_contains(&c, &a));
        ck_assert_int_eq(ip_addr_parse("10.0.0.1", &a), 0);
        ck_assert(!ip_cidr_contains(&c, &a)); /* families never match */
        ck_assert_int_lt(ip_cidr_parse("10.0.0.0/33", &c), 0);
        ck_assert_int_lt(ip_cidr_parse("10.0.0.0/", &c), 0);
        ck_assert_int_eq(ip_cidr_parse("192.0.2.7", &c), 0);
        ck_assert_uint_eq(c.prefix, 32);
}
END_TEST

static Suite *names_suite(void) {
        Suite *s = suite_create("names");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_dns_valid);
        tcase_add_test(tc, test_dns_within);
        tcase_add_test(tc, test_email);
        tcase_add_test(tc, test_ip);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(names_suite)
