/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>

#include "escape.h"
#include "macro.h"
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

/* nameConstraints subtrees as RFC 5280 4.2.1.10 (and Go, OpenSSL) read them. */
START_TEST(test_subtree) {
        ck_assert(name_in_subtree(NAME_DNS, "web.a.example", "a.example"));
        ck_assert(name_in_subtree(NAME_DNS, "a.example", "a.example"));
        ck_assert(!name_in_subtree(NAME_DNS, "a.example", ".a.example"));
        ck_assert(!name_in_subtree(NAME_DNS, "web.b.example", "a.example"));
        ck_assert(!name_in_subtree(NAME_DNS, "xa.example", "a.example"));
        ck_assert(name_in_subtree(NAME_DNS, "anything.example", "")); /* the excluded-all subtree */
        ck_assert(name_in_subtree(NAME_IP, "10.0.0.1", "0.0.0.0/0"));
        ck_assert(!name_in_subtree(NAME_IP, "2001:db8::1", "0.0.0.0/0"));
        ck_assert(name_in_subtree(NAME_IP, "2001:db8::1", "::/0"));
        ck_assert(name_in_subtree(NAME_EMAIL, "root@a.example", ""));
        ck_assert(name_in_subtree(NAME_EMAIL, "root@a.example", "a.example"));
        ck_assert(!name_in_subtree(NAME_EMAIL, "root@x.a.example", "a.example")); /* a host: that host only */
        ck_assert(name_in_subtree(NAME_EMAIL, "root@x.a.example", ".a.example"));
        ck_assert(name_in_subtree(NAME_EMAIL, "Root@A.example", "root@a.example"));
        ck_assert(!name_in_subtree(NAME_EMAIL, "ops@a.example", "root@a.example"));
}
END_TEST

START_TEST(test_escape) {
        _cleanup_free_ char *s = escape_control("a\nb\x1b[31m\x7f\r\t c\xc3\xa9\\x");
        char buf[8];

        ck_assert_str_eq(s, "a\\x0ab\\x1b[31m\\x7f\\x0d\\x09 c\xc3\xa9\\x");
        escape_control_buf("ab\ncd", buf, sizeof(buf));
        ck_assert_str_eq(buf, "ab\\x0ac"); /* 7 bytes and the NUL */
        escape_control_buf("abcd\nz", buf, 6);
        ck_assert_str_eq(buf, "abcd"); /* an escape is never cut */
}
END_TEST

START_TEST(test_escape_c1_and_invalid_utf8) {
        _cleanup_free_ char *c1 = escape_control("csi \xc2\x9b" "31m raw \x9b \xff end"),
                            *bad = escape_control("bad \377\376 bytes"),
                            *cut = escape_control("cut \xe2\x82"),      /* a character cut by a bound */
                            *over = escape_control("\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80"), /* overlong, surrogate, > U+10FFFF */
                            *ok = escape_control("\xc2\xa0 \xe2\x82\xac \xf0\x9f\x94\x92");   /* NBSP, €, a lock */
        char buf[8];

        ck_assert_str_eq(c1, "csi \\xc2\\x9b31m raw \\x9b \\xff end");
        ck_assert_str_eq(bad, "bad \\xff\\xfe bytes");
        ck_assert_str_eq(cut, "cut \\xe2\\x82");
        ck_assert_str_eq(over, "\\xc0\\xaf \\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80");
        ck_assert_str_eq(ok, "\xc2\xa0 \xe2\x82\xac \xf0\x9f\x94\x92");
        escape_control_buf("ab\xe2\x82\xac", buf, 5);
        ck_assert_str_eq(buf, "ab"); /* a character is never cut either */
}
END_TEST

static Suite *names_suite(void) {
        Suite *s = suite_create("names");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_dns_valid);
        tcase_add_test(tc, test_dns_within);
        tcase_add_test(tc, test_email);
        tcase_add_test(tc, test_ip);
        tcase_add_test(tc, test_subtree);
        tcase_add_test(tc, test_escape);
        tcase_add_test(tc, test_escape_c1_and_invalid_utf8);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(names_suite)
