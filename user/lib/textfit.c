// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <string.h>
#include "lib/textfit.h"

static bool is_cont(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

size_t textfit_cols(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += !is_cont(*s);
	return n;
}

int textfit_pad(const char *s, size_t cols)
{
	return (int)(cols + strlen(s) - textfit_cols(s));
}

/* Bytes of the first `cols` characters of s. */
static size_t prefix_bytes(const char *s, size_t cols)
{
	size_t i = 0;

	for (size_t c = 0; s[i] && c < cols; c++)
		for (i++; is_cont(s[i]); i++)
			;
	return i;
}

const char *textfit_cut(const char *s, size_t cols, bool keep_end, char *buf, size_t len)
{
	size_t have = textfit_cols(s), n;

	if (have <= cols || cols < 3) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	if (keep_end) {
		const char *tail = s + prefix_bytes(s, have - (cols - 3));

		snprintf(buf, len, "...%s", tail);
	} else {
		n = prefix_bytes(s, cols - 3);
		snprintf(buf, len, "%.*s...", (int)n, s);
	}
	return buf;
}

void textfit_wrap(FILE *out, const char *text, size_t width, const char *first, const char *rest)
{
	const char *lead = first, *p = text;

	while (*p == ' ')
		p++;
	do {
		size_t room = width > textfit_cols(lead) + 1 ? width - textfit_cols(lead) : 1, i = 0, cols = 0, brk = 0;

		/* The longest run of whole words that fits; a word longer than
		 * the line is cut at its end. */
		for (; p[i]; i++) {
			if (is_cont(p[i]))
				continue;
			if (p[i] == ' ')
				brk = i;
			if (cols++ == room)
				break;
		}
		if (p[i] && brk)
			i = brk;
		fprintf(out, "%s%.*s\n", lead, (int)i, p);
		for (p += i; *p == ' '; p++)
			;
		lead = rest;
	} while (*p);
}

size_t textfit_appendf(char *buf, size_t size, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (len >= size)
		return size ? size - 1 : 0;
	va_start(ap, fmt);
	n = vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return len;
	return (size_t)n < size - len ? len + n : size - 1;
}
