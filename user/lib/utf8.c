// SPDX-License-Identifier: GPL-2.0
#include "lib/utf8.h"

size_t utf8_seq_len(const unsigned char *s)
{
	return utf8_seq_len_n(s, 4);
}

size_t utf8_seq_len_n(const unsigned char *s, size_t n)
{
	unsigned char c = n ? s[0] : 0;
	size_t len;
	uint32_t cp;

	if (!n)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		/* A NUL, or the end of the n bytes, cuts the sequence short. */
		if (i >= n || (s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}
