/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * The little of HTTP/1.1 the agent speaks to podman's API on a unix socket:
 * one bodiless POST per connection ("Connection: close"), and its response
 * read to the end. Pure functions, no I/O (podman-api.c does that): a general
 * HTTP library would bring a dozen libraries (TLS, Kerberos, LDAP…) into a
 * root daemon for one local request.
 */

/* "POST PATH HTTP/1.1" with the headers it needs; path is used as given (see http_escape). */
int http_format_post(const char *path, char **ret);

/* s with every byte outside RFC 3986's unreserved set percent-encoded, for one path segment. */
int http_escape(const char *s, char **ret);

/*
 * A whole response (the connection closed after it): *ret_status the status
 * code, the body (de-chunked when chunked) copied NUL-terminated into body,
 * cut at size - 1. -EBADMSG when it is not an HTTP/1.x response.
 */
int http_parse_response(const char *buf, size_t len, int *ret_status, char *body, size_t size);
