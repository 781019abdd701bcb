// SPDX-License-Identifier: GPL-2.0
/* Issue 17, item 5: a marker flood through libmemobs.so (the library memobs
 * attaches in every mode): MARKS marks, PAIRS phase begin/end pairs, ENDS
 * phase_ends that match nothing. Prints what it fired.
 * Usage: marker_flood LIBMEMOBS MARKS [PAIRS [ENDS]] */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	void *lib = argc > 2 ? dlopen(argv[1], RTLD_NOW) : NULL;
	void (*mark)(const char *), (*begin)(const char *), (*end)(const char *);
	long marks = argc > 2 ? atol(argv[2]) : 0, pairs = argc > 3 ? atol(argv[3]) : 0;
	long ends = argc > 4 ? atol(argv[4]) : 0;

	if (!lib)
		return 2;
	mark = (void (*)(const char *))dlsym(lib, "memobs_mark");
	begin = (void (*)(const char *))dlsym(lib, "memobs_phase_begin");
	end = (void (*)(const char *))dlsym(lib, "memobs_phase_end");
	if (!mark || !begin || !end)
		return 3;
	for (long i = 0; i < marks; i++)
		mark("flood");
	for (long i = 0; i < pairs; i++) {
		begin("flood");
		end("flood");
	}
	for (long i = 0; i < ends; i++)
		end("nothing-open");
	printf("marks %ld pairs %ld ends %ld\n", marks, pairs, ends);
	return 0;
}
