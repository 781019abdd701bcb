/* SPDX-License-Identifier: GPL-2.0 */
/* A text read in pieces (a whole file, or one line of it) into one buffer
 * that doubles as it fills, up to a bound: /dev/zero or a runaway line is no
 * run document, and must not take all memory. */
#ifndef MO_TEXTBUF_H
#define MO_TEXTBUF_H

#include <stddef.h>

struct mo_textbuf {
	char *data;		/* caller frees */
	size_t len, cap;
};

/* Room for one more byte after len and a NUL after that. 0, or -1 with
 * errno: EFBIG once the buffer has doubled past max, ENOMEM. */
int textbuf_reserve(struct mo_textbuf *t, size_t max);

#endif
