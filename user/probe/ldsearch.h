/* SPDX-License-Identifier: GPL-2.0 */
/* The objects the dynamic linker will load for an executable, in the order
 * it looks symbols up in them, found as it finds them: PT_INTERP, LD_PRELOAD
 * and /etc/ld.so.preload, DT_NEEDED breadth first with DT_RPATH/DT_RUNPATH
 * ($ORIGIN, $LIB, $PLATFORM), LD_LIBRARY_PATH, /etc/ld.so.cache and the
 * system directories for glibc; LD_LIBRARY_PATH, the rpaths and
 * /etc/ld-musl-ARCH.path for musl, whose libc is its interpreter. Every
 * path is taken inside the process's root, symlinks included (an absolute
 * link target starts again from that root). Not modelled: glibc-hwcaps
 * subdirectories (the baseline library is the same code), DF_1_NODEFLIB,
 * file capabilities making a run secure. Pure: libelf through elfinfo. */
#ifndef MO_LDSEARCH_H
#define MO_LDSEARCH_H

#include <stdbool.h>
#include <stddef.h>

/* What the dynamic linker will be given. Paths the process names are taken
 * inside root. */
struct mo_ld_query {
	const char *root;	/* "" (memobs's own root) or "/proc/PID/root" */
	const char *exe;	/* the executable, openable by memobs (/proc/PID/exe) */
	const char *exe_path;	/* its path inside root, for $ORIGIN; NULL: exe */
	const char *cwd;	/* inside root, for relative names; NULL: "/" */
	const char *library_path;	/* LD_LIBRARY_PATH or NULL */
	const char *preload;	/* LD_PRELOAD or NULL */
	bool secure;		/* set-user/group-ID run: the loader ignores most of the environment */
};

struct mo_ld_object {
	char *path;		/* openable by memobs: root + the resolved path; exe: query's exe */
	bool exe;		/* the executable (always the first) */
	bool interp;		/* the loader itself (for musl, the C library) */
};

struct mo_ld_objects {
	struct mo_ld_object *objs;
	size_t count;
	bool musl;		/* PT_INTERP is musl's loader */
	bool truncated;		/* more objects than the search keeps (256) */
	char missing[256];	/* the first name not found, "" when none */
};

/* Resolve q into out (free with ldsearch_free). A static executable gives
 * itself alone. Returns 0, or -errno with the reason in err when the
 * executable cannot be read; a library that cannot be found is no error
 * (the exec will fail, or the search differs from the loader's): it is
 * named in out->missing. */
int ldsearch_resolve(const struct mo_ld_query *q, struct mo_ld_objects *out, char *err, size_t errlen);
void ldsearch_free(struct mo_ld_objects *out);

#endif
