// SPDX-License-Identifier: GPL-2.0
/* The instructions the verifier processed for each BPF program a process
 * holds (the kernel's bpf_prog_info.verified_insns, found through the
 * process's descriptors): what loading them cost, in a count that does not
 * depend on the machine's load. Prints "NAME COUNT" per program (a program
 * held twice, once). Usage: prog_insns PID */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define MAX_PROGS 256

/* The program id of descriptor fd of pid, 0 when it is not a program. */
static unsigned prog_id(const char *pid, const char *fd)
{
	char path[300], line[128];
	unsigned id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "prog_id: %u", &id);
	if (f)
		fclose(f);
	return id;
}

int main(int argc, char **argv)
{
	unsigned seen[MAX_PROGS];
	size_t nseen = 0;
	struct dirent *de;
	char path[300];
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: prog_insns PID\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%s/fdinfo", argv[1]);
	d = opendir(path);
	if (!d) {
		perror(path);
		return 1;
	}
	while ((de = readdir(d)) && nseen < MAX_PROGS) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		unsigned id = prog_id(argv[1], de->d_name);
		int fd, known = 0;

		for (size_t i = 0; i < nseen; i++)
			known |= seen[i] == id;
		if (!id || known)
			continue;
		seen[nseen++] = id;
		memset(&info, 0, sizeof(info));
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;	/* unloaded meanwhile */
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			printf("%s %u\n", info.name, info.verified_insns);
		close(fd);
	}
	closedir(d);
	return 0;
}
