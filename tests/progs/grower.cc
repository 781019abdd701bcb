// SPDX-License-Identifier: GPL-2.0
/* Known shape for stacks of optimized C++ (issue 16), built -O2 without
 * frame pointers, as distro binaries are:
 *   main -> run_phase -> build -> Grower::grow(unsigned long)
 * Grower::grow touches 64 blocks of 1 MiB page by page: it is where RSS
 * grows (malloc hands out fresh mmap'd blocks: no growth in malloc).
 * noipa keeps each function a frame of its own (no inlining, no clones);
 * the empty asm after each call keeps it from being a tail call. */
#include <cstdlib>
#include <vector>

struct Grower {
	std::vector<char *> blocks;
	void grow(unsigned long bytes);
};

__attribute__((noipa)) void Grower::grow(unsigned long bytes)
{
	char *p = static_cast<char *>(malloc(bytes));

	for (unsigned long i = 0; i < bytes; i += 4096)
		((volatile char *)p)[i] = 1;	/* RSS grows here */
	blocks.push_back(p);
}

__attribute__((noipa)) static void build(Grower &g, int n)
{
	for (int i = 0; i < n; i++) {
		g.grow(1ul << 20);
		asm volatile("" ::: "memory");
	}
}

__attribute__((noipa)) void run_phase(Grower &g, int n)
{
	build(g, n);
	asm volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	Grower g;

	run_phase(g, argc > 1 ? atoi(argv[1]) : 64);
	asm volatile("" ::: "memory");
	return 0;
}
