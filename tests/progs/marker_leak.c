// SPDX-License-Identifier: GPL-2.0
/* Issue 17, item 4: a marker whose name BPF cannot read (a page never
 * touched), fired just before an exec of a setuid program that holds a
 * secret at that very address. memobs must never read the name from the new
 * program. Usage: marker_leak ADDR DIR PROGRAM [ARG]
 * writes DIR/ready (its pid), waits for DIR/go, fires phase_begin(ADDR) and
 * execs PROGRAM ARG. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sdt.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long addr = argc > 3 ? strtoul(argv[1], NULL, 0) : 0;
	char path[4096];
	FILE *f;

	if (!addr)
		return 2;
	/* Mapped, never touched: not present, so BPF cannot read it. */
	if (mmap((void *)(addr & ~4095ul), 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		 0) == MAP_FAILED)
		return 3;
	snprintf(path, sizeof(path), "%s/ready", argv[2]);
	f = fopen(path, "w");
	if (!f)
		return 4;
	fprintf(f, "%d\n", getpid());
	fclose(f);
	snprintf(path, sizeof(path), "%s/go", argv[2]);
	while (access(path, F_OK))
		usleep(10000);
	/* The raw probe: the emitters touch their strings first, this one must not. */
	STAP_PROBE1(memobs, phase_begin, (const char *)addr);
	execl(argv[3], argv[3], argc > 4 ? argv[4] : NULL, (char *)NULL);
	return 5;
}
