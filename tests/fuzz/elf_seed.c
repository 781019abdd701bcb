// SPDX-License-Identifier: GPL-2.0
/* The tiny ELF files of corpus/elf (make-elf-seeds.sh builds them): a
 * malloc and free to find, a memobs USDT note, a build id; no libc. */
#include <sys/sdt.h>

void *malloc(unsigned long n)
{
	DTRACE_PROBE1(memobs, phase_begin, n);
	return 0;
}

void free(void *p)
{
	DTRACE_PROBE1(memobs, phase_end, p);
}

void _start(void)
{
	free(malloc(1));
	for (;;)
		;
}
