/* SPDX-License-Identifier: GPL-2.0 */
/* Outside text (command lines, process and phase names, symbols, labels)
 * for a terminal: what could move the cursor, retitle the window, clear the
 * screen or break a table row is shown as a visible escape instead. */
#ifndef MO_TERMESC_H
#define MO_TERMESC_H

#include <stddef.h>

/* s with C0 and C1 control characters, DEL and invalid UTF-8 written as
 * \n, \t, \r, \e or \xNN (a backslash stays a backslash), cut to fit len
 * (never inside an escape or a character). NULL gives "". Returns buf. */
const char *termesc(const char *s, char *buf, size_t len);

/* The same for a name that may be empty (a phase): "" shows as `""`. */
const char *termesc_name(const char *s, char *buf, size_t len);

#endif
