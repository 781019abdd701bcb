/* Known shape for marker arguments: every form sys/sdt.h writes on x86-64
 * for one phase's items (global: 8@counter(%rip); constant: -4@$7; a
 * 16-bit and a signed 32-bit local on the stack or in a register), which
 * BPF must fetch from the cookie alone; at -O0, a local at a frame offset
 * (8@-8(%rbp)). Items: 1000 + 7 + 300 + 20 + 5 = 1332.
 * Usage: marker_args */
#include <stdint.h>
#include <sys/sdt.h>
#include <memobs/markers.h>

uint64_t counter = 1000;

__attribute__((optimize("O0"))) static void on_the_stack(void)
{
	uint64_t five = 5;

	STAP_PROBE1(memobs, items, five);
}

int main(int argc, char **argv)
{
	volatile uint16_t small = 300;
	volatile int32_t twenty = 20;
	uint16_t s = small;
	int32_t t = twenty;

	(void)argv;
	MEMOBS_PHASE_BEGIN("args");
	STAP_PROBE1(memobs, items, counter);
	STAP_PROBE1(memobs, items, 7);
	STAP_PROBE1(memobs, items, s);
	STAP_PROBE1(memobs, items, t + argc - 1);
	on_the_stack();
	MEMOBS_PHASE_END("args");
	return 0;
}
