/* SPDX-License-Identifier: GPL-2.0 */
/* Which allocators a process will really call: of the objects the dynamic
 * linker is going to load for its executable (ldsearch.h), every one that
 * defines malloc and free. The first in lookup order takes the program's
 * calls and libc's own (they go through the PLT); the others are probed
 * too: they cost nothing until they are called, and an executable's own
 * malloc that is not exported takes only the executable's calls. A je_
 * prefixed jemalloc (built --with-jemalloc-prefix, as Redis links it) is
 * another allocator beside them. Pure: libelf through elfinfo, no libbpf. */
#ifndef MO_ALLOCATORS_H
#define MO_ALLOCATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "probe/ldsearch.h"

#define MO_ALLOC_MAX_FILES 8

struct mo_alloc_file {
	char path[4096];	/* openable by memobs (/proc/PID/root/... in another root) */
	char prefix[8];		/* of the malloc family's names: "" or "je_", "mi_" */
	/* glibc, musl, jemalloc, tcmalloc, mimalloc; "static" for a malloc of
	 * no known family in the executable, "other" in a library */
	char name[16];
	bool in_exe;		/* linked into the executable itself */
	bool wins;		/* first unprefixed malloc in lookup order: takes the calls */
};

struct mo_alloc_files {
	struct mo_alloc_file files[MO_ALLOC_MAX_FILES];
	size_t count;
	bool truncated;		/* more allocators than MO_ALLOC_MAX_FILES */
	size_t nobjects;	/* objects in the lookup order, the executable included */
	char missing[256];	/* the first DT_NEEDED or preload not found, "" when none */
};

/* The allocators of the objects q resolves to (ldsearch_resolve), in lookup
 * order. Returns 0, or -errno with the reason in err when the executable
 * cannot be read (a library that cannot be found is not an error: it is
 * named in out->missing). */
int allocators_resolve(const struct mo_ld_query *q, struct mo_alloc_files *out, char *err, size_t errlen);

/* The allocators of process pid, stopped at the exec of its executable
 * (exe: a path memobs can open, e.g. /proc/PID/exe): root, environment
 * (LD_LIBRARY_PATH, LD_PRELOAD), cwd and credentials read from /proc.
 * Returns 0 or -errno with the reason in err. */
int allocators_for_exe(pid_t pid, const char *exe, struct mo_alloc_files *out, char *err, size_t errlen);

/* What a process held at the entry of its exec (the exec gate) is about to
 * run: /proc/PID/exe and its environment are still the old program's. */
struct mo_exec_image {
	const char *exe;	/* the file, openable by memobs */
	const char *exe_path;	/* its path as memobs sees it (for $ORIGIN), or NULL */
	const char *env;	/* the environment the exec passes (NUL-separated; the
				 * LD_ variables suffice), or NULL */
	size_t envlen;
	bool secure;		/* a set-user/group-ID file: the loader ignores LD_ variables */
};

/* The allocators process pid will call once that exec is done. Returns 0 or
 * -errno with the reason in err. */
int allocators_for_exec(pid_t pid, const struct mo_exec_image *img, struct mo_alloc_files *out, char *err,
			size_t errlen);

/* Does the ELF file at path define a malloc family of its own (plain, je_,
 * mi_: malloc and free)? */
bool allocators_in_file(const char *path);

/* The allocator family of the malloc named prefix + "malloc" in the ELF file
 * at path (see mo_alloc_file.name); in_exe: the file is an executable. */
const char *allocators_family(const char *path, const char *prefix, bool in_exe);

#endif
