/* SPDX-License-Identifier: GPL-2.0 */
/* Names for stack frames given as (build id, file offset), with libdwfl
 * (elfutils): the symbol of the file that has that build id, from its
 * .symtab, .dynsym or separate debuginfo. One Dwfl per file, cached.
 * Unknown files and stripped code fall back to "module+0xoffset". */
#ifndef MO_SYMBOLIZE_H
#define MO_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mo_symbolizer;
struct mo_buildids;

struct mo_symbolizer *symbolizer__new(const struct mo_buildids *ids);
void symbolizer__free(struct mo_symbolizer *s);

enum mo_sym_result {
	MO_SYM_FOUND,		/* buf has the function's name */
	MO_SYM_FALLBACK,	/* buf has "module+0xoffset" (stripped, unknown file) */
	MO_SYM_NOT_CODE,	/* the offset is outside the file's loaded segments:
				 * a frame-pointer walk that went astray */
};

/* The function containing file offset `offset` of the file with build id
 * `id_hex`, into buf. return_address: the frame is a return address (all
 * but the innermost), so the call instruction before it is looked up. */
enum mo_sym_result symbolizer__name(struct mo_symbolizer *s, const char *id_hex, uint64_t offset,
				    bool return_address, char *buf, size_t len);

#endif
