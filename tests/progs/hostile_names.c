// SPDX-License-Identifier: GPL-2.0
/* Names and counts a text report must survive (run it through a symlink
 * whose name has a newline and an escape: that is its comm), phase names
 * that are terminal escapes (set the window title, clear
 * the screen) or empty, and items that overflow 64 bits ((uint64)-1 twice). */
#include <stdint.h>
#include <stdlib.h>
#include <memobs/markers.h>

int main(void)
{
	volatile char *p;

	MEMOBS_PHASE_BEGIN("\033]0;pwned\007title");
	MEMOBS_ITEMS(UINT64_MAX);
	MEMOBS_ITEMS(UINT64_MAX);
	p = malloc(4 << 20);
	for (size_t i = 0; p && i < 4 << 20; i += 4096)
		p[i] = 1;
	MEMOBS_PHASE_BEGIN("");
	MEMOBS_PHASE_END("");
	MEMOBS_PHASE_BEGIN("\033[2Jclear");
	MEMOBS_PHASE_END("\033[2Jclear");
	MEMOBS_PHASE_END("\033]0;pwned\007title");
	free((void *)p);
	return 0;
}
