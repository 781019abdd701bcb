/* SPDX-License-Identifier: GPL-2.0 */
/* memobs's USDT markers in a file, as one uprobe_multi link takes them:
 * file offsets, semaphores, and a BPF cookie per probe that says which
 * marker it is and how BPF fetches its argument (memobs_abi.h). The x86-64
 * argument specs of .note.stapsdt are parsed here, so that no libbpf USDT
 * machinery (spec maps, one link per probe) is needed. */
#ifndef MO_USDT_H
#define MO_USDT_H

#include <stddef.h>
#include <stdint.h>
#include "memobs_abi.h"

struct mo_elf;

/* Resolves a symbol of the probed file to its link-time address (for
 * %rip-relative arguments such as 8@counter(%rip)). 0 or -ENOENT. */
typedef int (*mo_usdt_sym_fn)(void *ctx, const char *name, uint64_t *addr);

/* The cookie of a marker whose nop is at link-time address probe_addr and
 * whose first argument spec is spec ("-4@%edi", "8@$5", "8@-24(%rbp)",
 * "8@counter+8(%rip)"). 0, or -ENOTSUP (a form memobs cannot fetch: SIB
 * addressing, %ah, an unknown symbol) / -ERANGE (a constant or displacement
 * past +-2^51). */
int usdt_arg_cookie(unsigned marker, const char *spec, uint64_t probe_addr, mo_usdt_sym_fn sym, void *ctx,
		    uint64_t *cookie);

struct mo_marker_sites {
	uint64_t *offsets;
	uint64_t *sema_offsets;		/* NULL when no marker has a semaphore */
	uint64_t *cookies;
	size_t count;
	size_t unsupported;		/* markers left out: their argument cannot be fetched */
};

/* The memobs markers of elf into *out (free with usdt_markers_free).
 * Returns out->count (0: none), or -ENOMEM. A marker left out is counted in
 * out->unsupported, the first reason in err ("" when none). */
int usdt_markers(struct mo_elf *elf, struct mo_marker_sites *out, char *err, size_t errlen);
void usdt_markers_free(struct mo_marker_sites *m);

/* The same for the probes of provider named names[0..nnames) (the in-process
 * heap library's): a probe's index in names goes where a marker's kind does,
 * and a probe without argument is a constant 0. */
int usdt_probes_of(struct mo_elf *elf, const char *provider, const char *const *names, size_t nnames,
		   struct mo_marker_sites *out, char *err, size_t errlen);

#endif
