/* SPDX-License-Identifier: GPL-2.0 */
/* What in-process heap counting cannot see, said per process rather than
 * left at zero: why a program's heap was not observed (the preloaded library
 * never loaded or never reached memobs), and which heap of its own the
 * malloc family does not see (Go's runtime, CPython's pymalloc arenas). */
#ifndef MO_HEAPWHY_H
#define MO_HEAPWHY_H

#include <stdbool.h>
#include <sys/types.h>

/* What an executable is, for this (read once, at its first exec). */
struct mo_exe_heap {
	bool is_static;		/* no dynamic loader: LD_PRELOAD does not apply */
	bool own_allocator;	/* a malloc linked into it: uprobes on it count its calls */
	bool other_class;	/* not an x86-64 ELF: the (64-bit) library cannot load */
	const char *unseen;	/* a heap of its own memobs does not see, or NULL */
};

/* Classify the executable at path (one memobs can open). */
void heapwhy_exe(const char *path, struct mo_exe_heap *out);

/* Why memobs's library (heap_lib) will not count the heap of process tgid
 * about to exec exe (NULL: no known reason), from the environment its exec
 * passes (NUL-separated, NULL: unknown); *unseen: what it does not see
 * (NULL: none; PYTHONMALLOC=malloc turns pymalloc off); *will_report: the
 * library should shake hands (false: a reason, or uprobes count it).
 * Static strings. */
const char *heapwhy_held(pid_t tgid, const struct mo_exe_heap *exe, const char *env, size_t len, const char *heap_lib,
			 const char **unseen, bool *will_report);

/* The same for pid right after its exec, from /proc/PID/environ (when it
 * is still running). */
const char *heapwhy_process(pid_t pid, const struct mo_exe_heap *exe, const char *heap_lib, const char **unseen,
			    bool *will_report);

/* A program that should have reported and did not: it exited before
 * memobs could look at it, or after memobs found nothing against it. */
extern const char heapwhy_no_handshake[];
extern const char heapwhy_no_report[];
/* A program whose exec was secure (BPF saw it). */
extern const char heapwhy_secure[];

#endif
