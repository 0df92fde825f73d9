/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Text from outside (a CSR's names, certmonger's profile, a container
 * runtime's error) printed as one inert line: every byte below 0x20 and 0x7f
 * becomes \xNN, so it can neither split certmonger's ca-error, forge a log
 * line, nor drive a terminal. Other bytes, UTF-8 included, pass unchanged.
 */

/* The escaped copy of s; NULL when out of memory. */
char *escape_control(const char *s);
/* The escaped s in buf (size > 0), cut before an escape that would not fit whole. */
void escape_control_buf(const char *s, char *buf, size_t size);
