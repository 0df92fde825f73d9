/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * The little of HTTP/1.1 the agent speaks to podman's API on a unix socket:
 * one request per connection ("Connection: close"), and its response read to
 * the end (podman's exec start hands the connection over to the process's
 * output, which ends when the process does). Pure functions, no I/O (podman-api.c does that): a general
 * HTTP library would bring a dozen libraries (TLS, Kerberos, LDAP…) into a
 * root daemon for one local request.
 */

/* "METHOD PATH HTTP/1.1" and the headers for a body of body_len bytes (sent after them); path is used as given (see http_escape). */
int http_format_request(const char *method, const char *path, const char *content_type, size_t body_len, char **ret);

/* s with every byte outside RFC 3986's unreserved set percent-encoded, for one path segment. */
int http_escape(const char *s, char **ret);

/*
 * A whole response (the connection closed after it): *ret_status the status
 * code, the body (de-chunked when chunked) copied NUL-terminated into body,
 * cut at size - 1 (size len + 1 holds any body), *ret_len its length. -EBADMSG when it is not an HTTP/1.x response.
 */
int http_parse_response(const char *buf, size_t len, int *ret_status, char *body, size_t size, size_t *ret_len);
