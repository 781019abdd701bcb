/* SPDX-License-Identifier: GPL-2.0 */
/* The sampled stack sites of a session into run->sites, symbolized: BPF
 * keeps (build id, file offset) frames; libdwfl names them. */
#ifndef MO_STACKS_H
#define MO_STACKS_H

#include <stddef.h>

struct mo_session;
struct mo_buildids;
struct mo_invoker;
struct mo_run;
struct mo_stack_names;

#define MO_NAMES_AHEAD 4	/* files prepared ahead */

/* The names of the run's frames (ids: the build-id table), with the files
 * at paths (the C library, the loader: in nearly every stack) opened ahead
 * by a thread, from now (while the BPF programs load: ~60 ms of the end of
 * a short run, most of it libdw decompressing the C library's debug info).
 * Nothing is named from a file reader could not read (NULL: any).
 * NULL on ENOMEM. */
struct mo_stack_names *stack_names__new(const struct mo_buildids *ids, const struct mo_invoker *reader,
					const char *const *paths, size_t n);
void stack_names__free(struct mo_stack_names *names);

/* The command runs from now: the thread, if not done, goes on at the
 * lowest priority (the CPUs are the command's). */
void stack_names__yield(struct mo_stack_names *names);

/* Read, symbolize (with names, once its thread is done) and merge the
 * sites, and give each phase its top live allocation sites at its end
 * (run->phases must be read). Build ids no file is known for yet are
 * looked up in memobs's own mappings and the library directories.
 * 0/-errno. */
int stacks_readout(struct mo_session *s, struct mo_buildids *ids, struct mo_stack_names *names, struct mo_run *run);

#endif
