// SPDX-License-Identifier: MIT
/* libmemobs.so: the markers of <memobs/markers.h> as plain functions, for
 * languages that call C (Python ctypes, Go cgo, Rust). NULL names are ignored. */
#include <memobs/markers.h>

#define MEMOBS_EXPORT __attribute__((visibility("default")))

MEMOBS_EXPORT void memobs_phase_begin(const char *name)
{
	if (name)
		MEMOBS_PHASE_BEGIN(name);
}

MEMOBS_EXPORT void memobs_phase_end(const char *name)
{
	if (name)
		MEMOBS_PHASE_END(name);
}

MEMOBS_EXPORT void memobs_items(uint64_t count)
{
	MEMOBS_ITEMS(count);
}

MEMOBS_EXPORT void memobs_mark(const char *label)
{
	if (label)
		MEMOBS_MARK(label);
}
