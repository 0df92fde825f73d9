/* SPDX-License-Identifier: MIT */
#include "http.h"
#include "unit.h"

/* parse TEXT: its status (or the error) and body into a 64-byte buffer. */
static int parse(const char *text, int *status, char body[64]) {
        size_t n;

        return http_parse_response(text, strlen(text), status, body, 64, &n);
}

START_TEST(test_no_content) {
        char body[64] = "x";
        int status = 0;

        ck_assert_int_eq(parse("HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\nDate: x\r\n\r\n", &status, body), 0);
        ck_assert_int_eq(status, 204);
        ck_assert_str_eq(body, "");
}
END_TEST

START_TEST(test_content_length) {
        char body[64];
        int status = 0;

        /* Bytes after Content-Length are not body. */
        ck_assert_int_eq(parse("HTTP/1.1 404 Not Found\r\ncontent-length:  17\r\n\r\n{\"message\":\"gone\"}trailing",
                               &status, body),
                         0);
        ck_assert_int_eq(status, 404);
        ck_assert_str_eq(body, "{\"message\":\"gone\"");
}
END_TEST

START_TEST(test_chunked) {
        char body[64];
        int status = 0;

        ck_assert_int_eq(parse("HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n",
                               &status, body),
                         0);
        ck_assert_int_eq(status, 500);
        ck_assert_str_eq(body, "hello, world");
}
END_TEST

START_TEST(test_truncated_chunk_keeps_what_arrived) {
        char body[64];
        int status = 0;

        ck_assert_int_eq(parse("HTTP/1.1 500 x\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nabc", &status, body), 0);
        ck_assert_str_eq(body, "abc");
}
END_TEST

START_TEST(test_body_cut_at_buffer) {
        char big[200], text[300], body[64];
        int status = 0;

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        snprintf(text, sizeof(text), "HTTP/1.0 200 OK\r\n\r\n%s", big);
        ck_assert_int_eq(parse(text, &status, body), 0);
        ck_assert_int_eq(status, 200);
        ck_assert_uint_eq(strlen(body), 63);
}
END_TEST

START_TEST(test_not_http) {
        char body[64];
        int status = 0;

        ck_assert_int_eq(parse("", &status, body), -EBADMSG);
        ck_assert_int_eq(parse("SSH-2.0-OpenSSH\r\n\r\n", &status, body), -EBADMSG);
        ck_assert_int_eq(parse("HTTP/1.1 abc\r\n\r\n", &status, body), -EBADMSG);
        /* Headers never ended: the connection closed mid-response. */
        ck_assert_int_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n", &status, body), -EBADMSG);
}
END_TEST

START_TEST(test_format_and_escape) {
        _cleanup_free_ char *req = NULL, *esc = NULL;

        ck_assert_int_eq(http_escape("web-1_a.b~", &esc), 0);
        ck_assert_str_eq(esc, "web-1_a.b~");
        free(esc);
        ck_assert_int_eq(http_escape("a/b c?d%", &esc), 0);
        ck_assert_str_eq(esc, "a%2Fb%20c%3Fd%25");
        ck_assert_int_eq(http_format_request("POST", "/v4.0.0/libpod/containers/x/restart", NULL, 0, &req), 0);
        ck_assert_str_eq(req, "POST /v4.0.0/libpod/containers/x/restart HTTP/1.1\r\nHost: d\r\n"
                              "Content-Length: 0\r\nConnection: close\r\n\r\n");
        free(req);
        ck_assert_int_eq(http_format_request("PUT", "/a?path=%2F", "application/x-tar", 1024, &req), 0);
        ck_assert_str_eq(req, "PUT /a?path=%2F HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
                              "Content-Length: 1024\r\nConnection: close\r\n\r\n");
}
END_TEST

static Suite *http_suite(void) {
        Suite *s = suite_create("http");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_no_content);
        tcase_add_test(tc, test_content_length);
        tcase_add_test(tc, test_chunked);
        tcase_add_test(tc, test_truncated_chunk_keeps_what_arrived);
        tcase_add_test(tc, test_body_cut_at_buffer);
        tcase_add_test(tc, test_not_http);
        tcase_add_test(tc, test_format_and_escape);
        suite_add_tcase(s, tc);
        return s;
}

UNIT_MAIN(http_suite)
