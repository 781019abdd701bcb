/* SPDX-License-Identifier: GPL-2.0 */
/* Unwind tables (stacks/cfi.h) kept by build id in memobs's cache
 * (lib/cachedir.h, subdirectory "cfi"): a compiler's table takes 8-15 ms
 * of CPU to compile, at every run of a build that runs it, and under 1 ms
 * to read back; the exec gate holds its first exec meanwhile.
 *
 * An entry, "<build id>.v2.cfi", is a header (its format, the ELF file's
 * build id, size and modification time, the row count) and the rows as BPF
 * takes them. It is trusted only when it is its user's alone
 * (lib/cachedir.h), of the size its header gives, for that build id, file
 * size and modification time (a file rebuilt in place may keep its build
 * id: a fixed --build-id, or one given by hand), its rows in order of
 * offset with rules BPF knows; otherwise it is removed and made again.
 * Files without a build id are not kept. Thread-safe. No libbpf here. */
#ifndef MO_CFICACHE_H
#define MO_CFICACHE_H

#include <stddef.h>
#include <stdint.h>
#include "stacks/cfi.h"

#define MO_CFICACHE_DIR "cfi"	/* the cache's subdirectory */

struct mo_cficache;

/* The cache, or NULL: off (err empty) or unusable (the reason in err). */
struct mo_cficache *cficache__open(char *err, size_t errlen);
void cficache__free(struct mo_cficache *c);

/* The table of the ELF file with build id id_hex (as elf__build_id gives
 * it), file_size bytes and modified at mtime_ns (st_mtim), into *out (as cfi_compile would: rows malloc'd,
 * build_id set): 0; -ENOENT when there is none to trust. */
int cficache__find(struct mo_cficache *c, const char *id_hex, uint64_t file_size, uint64_t mtime_ns,
		   struct mo_cfi_table *out);

/* Keep t, the table of that file. 0/-errno; after a failure the cache is
 * not written again in this run (cficache__error says why). */
int cficache__add(struct mo_cficache *c, const char *id_hex, uint64_t file_size, uint64_t mtime_ns,
		  const struct mo_cfi_table *t);

/* The first failure to store an entry ("" when none), for the caller to
 * say once. */
const char *cficache__error(struct mo_cficache *c);

#endif
