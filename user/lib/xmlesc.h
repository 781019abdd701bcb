/* SPDX-License-Identifier: GPL-2.0 */
/* Text inside XML and HTML documents (the SVG timeline, the HTML report):
 * markup characters escaped, and what XML 1.0 cannot hold - invalid UTF-8,
 * control characters, U+FFFE and U+FFFF - replaced by U+FFFD, so that a
 * hostile phase name or argv never breaks or scripts the document. */
#ifndef MO_XMLESC_H
#define MO_XMLESC_H

#include <stdio.h>

/* Write s to out escaped for element text and quoted attribute values
 * alike (& < > " '). NULL writes nothing. 0, or -ENOMEM. */
int xmlesc_fputs(FILE *out, const char *s);

#endif
