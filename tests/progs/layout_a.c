// SPDX-License-Identifier: GPL-2.0
/* Issue 17, item 2: one of two programs copied in turn over the same file
 * (cp layout_a t; ./t; cp layout_b t; ./t). Its markers sit where
 * layout_b has a run of immediates: probes left at these offsets would
 * change them or trap inside an instruction. Prints "a" and exits 0.
 * Usage: layout_a */
#include <stdio.h>
#include <memobs/markers.h>

int main(void)
{
	MEMOBS_PHASE_BEGIN("a");
	MEMOBS_ITEMS(1);
	MEMOBS_PHASE_END("a");
	puts("a");
	return 0;
}
