/* SPDX-License-Identifier: MIT */
/*
 * memobs phase markers: USDT probes of provider "memobs" (see DESIGN.md,
 * "Phases: the marker ABI"). Header-only, C and C++. Each marker is a single
 * nop until an observer attaches, so they can stay in production builds.
 *
 *   MEMOBS_PHASE_BEGIN("render");  ...  MEMOBS_PHASE_END("render");
 *   MEMOBS_ITEMS(pages_done);      MEMOBS_MARK("cache warm");
 *
 * Names are at most 63 bytes; longer ones are cut and flagged.
 */
#ifndef MEMOBS_MARKERS_H
#define MEMOBS_MARKERS_H

#include <stdint.h>
#include <sys/sdt.h>

#define MEMOBS_NAME_MAX 63

/* BPF cannot fault a page in: read the string (up to the length memobs reads)
 * so that every page it spans is resident when the probe fires. */
static inline void memobs__touch(const char *s)
{
	const volatile char *p = s;

	for (int i = 0; i <= MEMOBS_NAME_MAX && p[i]; i++)
		;
}

static inline void memobs_phase_begin_inline(const char *name)
{
	memobs__touch(name);
	STAP_PROBE1(memobs, phase_begin, name);
}

static inline void memobs_phase_end_inline(const char *name)
{
	memobs__touch(name);
	STAP_PROBE1(memobs, phase_end, name);
}

static inline void memobs_items_inline(uint64_t count)
{
	STAP_PROBE1(memobs, items, count);
}

static inline void memobs_mark_inline(const char *label)
{
	memobs__touch(label);
	STAP_PROBE1(memobs, mark, label);
}

#define MEMOBS_PHASE_BEGIN(name) memobs_phase_begin_inline(name)
#define MEMOBS_PHASE_END(name) memobs_phase_end_inline(name)
#define MEMOBS_ITEMS(count) memobs_items_inline((uint64_t)(count))
#define MEMOBS_MARK(label) memobs_mark_inline(label)

#endif
