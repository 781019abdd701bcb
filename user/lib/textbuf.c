// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include "lib/grow.h"
#include "lib/textbuf.h"

int textbuf_reserve(struct mo_textbuf *t, size_t max)
{
	if (t->len + 1 < t->cap)
		return 0;
	if (t->cap > max) {
		errno = EFBIG;
		return -1;
	}
	if (GROW(t->data, t->cap ? 2 * t->cap : 1 << 16, t->cap)) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
