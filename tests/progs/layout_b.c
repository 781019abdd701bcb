// SPDX-License-Identifier: GPL-2.0
/* The other program of the in-place overwrite (layout_a.c): where
 * layout_a has its markers, layout_b has a run of 64-bit immediates that it
 * sums, so a breakpoint left at one of those offsets either changes the sum
 * or traps inside an instruction. Its own markers come after. Prints
 * "b SUM" and exits 0. Usage: layout_b */
#include <stdio.h>

/* Defined before the markers' code: it starts where layout_a's markers are. */
__attribute__((noinline)) static unsigned long immediates(void)
{
	unsigned long sum;

	__asm__ volatile("xor %%edx, %%edx\n\t"
			 ".rept 64\n\t"
			 "movabs $0x0123456789abcdef, %%rax\n\t"
			 "add %%rax, %%rdx\n\t"
			 ".endr\n\t"
			 "mov %%rdx, %0"
			 : "=r"(sum)
			 :
			 : "rax", "rdx");
	return sum;
}

#include <memobs/markers.h>

int main(void)
{
	unsigned long sum = immediates();

	MEMOBS_PHASE_BEGIN("b");
	MEMOBS_ITEMS(2);
	MEMOBS_PHASE_END("b");
	printf("b %lx\n", sum);
	return 0;
}
