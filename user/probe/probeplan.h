/* SPDX-License-Identifier: GPL-2.0 */
/* Where to put a uprobe on a function so that it costs one emulated trap.
 * On x86-64 the kernel emulates a few instructions at a probe (relative
 * jmp/call/jcc, nop, push reg); any other is single-stepped out of line, at
 * several times the cost (glibc 2.36's free begins with test %rdi,%rdi).
 * An entry-only probe may move forward past instructions that leave the
 * argument registers alone; a probe with a uretprobe must stay at the entry,
 * where the return address is on top of the stack. */
#ifndef MO_PROBEPLAN_H
#define MO_PROBEPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mo_probe_site {
	uint32_t skipped;	/* bytes past the function entry */
	bool emulated;		/* the kernel emulates the probed instruction */
	char insn[48];		/* the probed instruction, for the probe report */
};

/* Does the placement apply to a file of this ELF class and machine? Only to
 * x86-64 code, and only when memobs itself runs on x86-64 (it is the x86
 * kernel's emulation it relies on). Elsewhere probes stay at the entry. */
bool probeplan_decodes(int elfclass, int machine);

/* Choose the probe site in code (the function's first bytes). nargs: how
 * many integer argument registers the BPF program reads. 0, or -EINVAL when
 * the code cannot be decoded (site then is the entry, not emulated). */
int probeplan_site(const uint8_t *code, size_t len, unsigned nargs, bool entry_only, struct mo_probe_site *site);

#endif
