// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "lib/termesc.h"
#include "lib/utf8.h"

/* The visible form of one control byte. */
static void escape_byte(unsigned char c, char out[5])
{
	switch (c) {
	case '\n':
		strcpy(out, "\\n");
		break;
	case '\t':
		strcpy(out, "\\t");
		break;
	case '\r':
		strcpy(out, "\\r");
		break;
	case 033:
		strcpy(out, "\\e");
		break;
	default:
		snprintf(out, 5, "\\x%02x", c);
	}
}

const char *termesc(const char *s, char *buf, size_t len)
{
	const unsigned char *in = (const unsigned char *)(s ? s : "");
	size_t n = 0;

	if (!len)
		return buf;
	while (*in) {
		size_t seq = utf8_seq_len(in), w;
		char esc[5 * 2];

		/* U+0080..U+009F (C1: 0xc2 0x80..0x9f) are controls too: CSI is U+009B. */
		if (seq == 1 && (*in < 0x20 || *in == 0x7f))
			seq = 0;
		if (seq == 2 && in[0] == 0xc2 && in[1] < 0xa0) {
			escape_byte(in[0], esc);
			escape_byte(in[1], esc + strlen(esc));
			w = strlen(esc);
		} else if (!seq) {
			escape_byte(in[0], esc);
			w = strlen(esc);
			seq = 1;
		} else {
			w = seq;
			memcpy(esc, in, seq);
		}
		if (n + w >= len)
			break;
		memcpy(buf + n, esc, w);
		n += w;
		in += seq;
	}
	buf[n] = 0;
	return buf;
}

const char *termesc_name(const char *s, char *buf, size_t len)
{
	if (s && !*s)
		return termesc("\"\"", buf, len);
	return termesc(s, buf, len);
}
