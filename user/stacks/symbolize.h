/* SPDX-License-Identifier: GPL-2.0 */
/* Names for stack frames given as (build id, file offset), with libdwfl
 * (elfutils): the function symbol of the file that has that build id, from
 * its .symtab, .dynsym or separate debuginfo (/usr/lib/debug/.build-id),
 * C++ names demangled, and the source line from DWARF when there is one.
 * Only code: data symbols are never names of frames. One Dwfl per file;
 * each (build id, offset) is looked up once. Unknown files and stripped code
 * fall back to "module+0xoffset". */
#ifndef MO_SYMBOLIZE_H
#define MO_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mo_symbolizer;
struct mo_buildids;
struct mo_debugcache;
struct mo_invoker;

struct mo_symbolizer *symbolizer__new(const struct mo_buildids *ids);
void symbolizer__free(struct mo_symbolizer *s);

/* Separate debug files from (and into) cache, which outlives s; NULL: none. */
void symbolizer__use_cache(struct mo_symbolizer *s, struct mo_debugcache *cache);

/* Name nothing from a file reader could not read (NULL: read everything):
 * such a module's frames are FILE+0xOFFSET. reader outlives s. */
void symbolizer__read_as(struct mo_symbolizer *s, const struct mo_invoker *reader);

/* Open the file at path, whose build id (hex) is id, ahead of its lookups:
 * its symbols sorted, its DWARF read (libdw decompresses the sections of a
 * separate debug file whole: the C library's take ~60 ms). From one thread
 * at a time. */
void symbolizer__prepare(struct mo_symbolizer *s, const char *id, const char *path);

enum mo_sym_result {
	MO_SYM_FOUND,		/* a function's name */
	MO_SYM_FALLBACK,	/* "module+0xoffset" (stripped, unknown file) */
	MO_SYM_NOT_CODE,	/* the offset is outside the file's executable
				 * segments: a stack walk that went astray */
};

/* One frame, named. The strings belong to the symbolizer. */
struct mo_sym {
	enum mo_sym_result result;
	const char *name;	/* the function, demangled; or "module+0xoffset" */
	const char *source;	/* "path/to/file.c:42" from DWARF, or NULL */
};

/* The function containing file offset `offset` of the file with build id
 * `id_hex`. return_address: the frame is a return address (callers), so the
 * call instruction before it is looked up. Cached per (id, offset). */
void symbolizer__frame(struct mo_symbolizer *s, const char *id_hex, uint64_t offset, bool return_address,
		       struct mo_sym *out);

/* Frames looked up so far (distinct (id, offset) pairs) and those answered
 * from the cache: what symbolizing a run cost. */
void symbolizer__counts(const struct mo_symbolizer *s, size_t *lookups, size_t *hits);

/* The demangled form of a C++ (Itanium ABI) symbol, malloc'd; NULL when
 * name is not a mangled name (or on ENOMEM). */
char *symbolize_demangle(const char *name);

#endif
