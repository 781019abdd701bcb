// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include "lib/textbuf.h"

int textbuf_reserve(struct mo_textbuf *t, size_t max)
{
	size_t cap = t->cap ? t->cap * 2 : 1 << 16;
	char *grown;

	if (t->len + 1 < t->cap)
		return 0;
	if (t->cap > max) {
		errno = EFBIG;
		return -1;
	}
	grown = realloc(t->data, cap);
	if (!grown) {
		errno = ENOMEM;
		return -1;
	}
	t->data = grown;
	t->cap = cap;
	return 0;
}
