// SPDX-License-Identifier: GPL-2.0
/* A static program: the C library's malloc is linked into it (memobs --heap
 * probes this file). Prints "ok 10". own_malloc_pad_static.c is the same
 * with a function before it, so that its malloc sits elsewhere in the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PAD
__attribute__((used, noinline)) void pad(void)
{
	__asm__ volatile(".skip " PAD ", 0x90");
}
#endif

int main(void)
{
	int n = 0;

	for (int i = 0; i < 10; i++) {
		char *p = malloc(100 + i);

		if (!p)
			return 1;
		strcpy(p, "ok");
		n += !strcmp(p, "ok");
		free(p);
	}
	printf("ok %d\n", n);
	return 0;
}
