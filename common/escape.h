/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Text from outside (a CSR's names, certmonger's profile, a container
 * runtime's error or output) made one inert line of valid UTF-8: every byte
 * below 0x20, 0x7f, each C1 control (U+0080-U+009F) and every byte that is
 * not part of well-formed UTF-8 becomes \xNN, so it can neither split
 * certmonger's ca-error, forge a log line, drive a terminal, nor make libdbus
 * abort the agent (it refuses invalid UTF-8 in a string). Other characters
 * pass unchanged; the result is never cut inside one.
 */

/* The escaped copy of s; NULL when out of memory. */
char *escape_control(const char *s);
/* The escaped s in buf (size > 0), cut before an escape that would not fit whole. */
void escape_control_buf(const char *s, char *buf, size_t size);
