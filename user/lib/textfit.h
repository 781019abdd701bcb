/* SPDX-License-Identifier: GPL-2.0 */
/* Text that fits a terminal: columns of UTF-8 strings, cutting with "...",
 * word wrapping. Every text report keeps its lines within TEXTFIT_WIDTH. */
#ifndef MO_TEXTFIT_H
#define MO_TEXTFIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TEXTFIT_WIDTH 100

/* Columns s takes: one per character (wide characters are not told apart). */
size_t textfit_cols(const char *s);

/* The printf field width ("%-*s") that makes s take cols columns. */
int textfit_pad(const char *s, size_t cols);

/* s in at most cols columns (cols >= 3): when it is longer, its end (or,
 * keep_end, its start: for paths) becomes "...". Cut on a character
 * boundary. Returns buf. */
const char *textfit_cut(const char *s, size_t cols, bool keep_end, char *buf, size_t len);

/* Append printf-style to the text of len bytes in buf (size bytes): cut at
 * the end of buf, never past it, however long what a document holds (a
 * label, an absurd duration). Returns the new length (< size). */
size_t textfit_appendf(char *buf, size_t size, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* text word-wrapped to lines of at most width columns, each ending in a
 * newline: the first starts with `first`, the others with `rest` (both
 * counted in the width). A word longer than a line is cut. */
void textfit_wrap(FILE *out, const char *text, size_t width, const char *first, const char *rest);

#endif
