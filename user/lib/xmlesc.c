// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json_util.h"
#include "lib/xmlesc.h"

int xmlesc_fputs(FILE *out, const char *s)
{
	char *clean;

	if (!s)
		return 0;
	/* Valid UTF-8 without control characters; tab is kept, and is legal. */
	clean = json_utf8_clean(s);
	if (!clean)
		return -ENOMEM;
	for (const char *p = clean; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		case '\xef':
			/* U+FFFE and U+FFFF are valid UTF-8 but no XML characters. */
			if (p[1] == '\xbf' && (p[2] == '\xbe' || p[2] == '\xbf')) {
				fputs("\xef\xbf\xbd", out);
				p += 2;
				break;
			}
			/* fall through */
		default:
			fputc(*p, out);
		}
	}
	free(clean);
	return 0;
}
