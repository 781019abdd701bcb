// SPDX-License-Identifier: GPL-2.0
/* Holds COUNT malloc'd blocks of 64 bytes, then prints every BPF map its
 * parent (memobs, when this is the observed command) has open, as the
 * kernel accounts it in fdinfo ("map key_size K value_size V max_entries M
 * memlock B"), and frees the blocks. Usage: hold_blocks COUNT */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_maps(pid_t pid)
{
	char path[320], line[256];
	struct dirent *de;
	long seen[512];
	size_t nseen = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		long key = -1, value = -1, max = -1, memlock = -1, id = -1;
		bool dup = false;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, de->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			sscanf(line, "key_size: %ld", &key);
			sscanf(line, "value_size: %ld", &value);
			sscanf(line, "max_entries: %ld", &max);
			sscanf(line, "memlock: %ld", &memlock);
			sscanf(line, "map_id: %ld", &id);
		}
		if (f)
			fclose(f);
		/* A map memobs's BPF objects share is open once per object. */
		for (size_t i = 0; i < nseen; i++)
			dup |= seen[i] == id;
		if (id >= 0 && !dup && nseen < sizeof(seen) / sizeof(seen[0]))
			seen[nseen++] = id;
		if (max >= 0 && memlock >= 0 && !dup)
			printf("map key_size %ld value_size %ld max_entries %ld memlock %ld\n", key, value, max, memlock);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 1000;
	void **blocks = calloc(count, sizeof(*blocks));

	if (!blocks)
		return 1;
	for (long i = 0; i < count; i++)
		blocks[i] = malloc(64);
	print_maps(getppid());
	fflush(stdout);
	for (long i = 0; i < count; i++)
		free(blocks[i]);
	free(blocks);
	return 0;
}
