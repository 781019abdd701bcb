/* SPDX-License-Identifier: GPL-2.0 */
/* UTF-8 validation, shared by every cleaner of outside text (JSON, XML, the
 * terminal). */
#ifndef MO_UTF8_H
#define MO_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (1 to 4), 0 when invalid
 * (overlong, surrogate, past U+10FFFF, cut short by the NUL). */
size_t utf8_seq_len(const unsigned char *s);

/* The same within the first n bytes at s (a fixed-size field without its
 * NUL, as a kernel comm): 0 when the sequence would pass them. */
size_t utf8_seq_len_n(const unsigned char *s, size_t n);

#endif
