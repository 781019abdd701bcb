// SPDX-License-Identifier: GPL-2.0
/* Known shape for the tree's physical memory: fork N children; child i
 * allocates and touches (i+1)*MIB MiB, writes FILE_MIB MiB to
 * DIR/tree_mem.<i> and reads it back (page cache); all hold at once for
 * HOLD_MS, then exit. The parent prints what its own memory cgroup (v1 or
 * v2) says, as ground truth: while all hold, "held anon A file F" (bytes,
 * memory.stat), and at the end "cgroup_peak P" (the kernel's watermark).
 * Usage: tree_mem N MIB FILE_MIB DIR [HOLD_MS] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char cgdir[4096];
static int v1;

/* The memory cgroup this process is in, from /proc/self/cgroup. */
static int find_cgroup(void)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[4096], *path;

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		path = strrchr(line, ':');
		if (!path)
			continue;
		if (strstr(line, ":memory:")) {
			v1 = 1;
			snprintf(cgdir, sizeof(cgdir), "/sys/fs/cgroup/memory%s", path + 1);
			break;
		}
		if (!strncmp(line, "0::", 3))
			snprintf(cgdir, sizeof(cgdir), "/sys/fs/cgroup%s", path + 1);
	}
	if (f)
		fclose(f);
	return cgdir[0] ? 0 : -1;
}

static long long stat_value(const char *key)
{
	char path[4200], line[256];
	size_t k = strlen(key);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cgdir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, k) && line[k] == ' ')
			v = atoll(line + k + 1);
	if (f)
		fclose(f);
	return v;
}

static long long file_value(const char *name)
{
	char path[4200];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", cgdir, name);
	f = fopen(path, "r");
	if (f && fscanf(f, "%lld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

static void run_child(int i, size_t mib, size_t file_mib, const char *dir, int ready, int release)
{
	size_t bytes = (size_t)(i + 1) * mib << 20, fbytes = file_mib << 20;
	char *p = malloc(bytes), name[4200], buf[1 << 16], go;
	int fd;

	for (size_t off = 0; p && off < bytes; off += 4096)
		p[off] = 1;
	snprintf(name, sizeof(name), "%s/tree_mem.%d", dir, i);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	memset(buf, 'x', sizeof(buf));
	for (size_t off = 0; fd >= 0 && off < fbytes; off += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			_exit(1);
	for (lseek(fd, 0, SEEK_SET); fd >= 0 && read(fd, buf, sizeof(buf)) > 0;)
		;
	if (fd >= 0)
		close(fd);
	if (write(ready, "r", 1) != 1 || read(release, &go, 1) < 0)
		_exit(1);
	_exit(0);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4, ready[2], release[2];
	size_t mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 16, file_mib = argc > 3 ? strtoul(argv[3], NULL, 10) : 8;
	const char *dir = argc > 4 ? argv[4] : ".";
	long hold_ms = argc > 5 ? atol(argv[5]) : 500;
	struct timespec hold = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
	char c;

	if (find_cgroup() || pipe(ready) || pipe(release))
		return 1;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			close(ready[0]);
			close(release[1]);
			run_child(i, mib, file_mib, dir, ready[1], release[0]);
		}
	}
	close(ready[1]);
	close(release[0]);
	for (int i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			return 1;
	nanosleep(&hold, NULL);
	printf("held anon %lld file %lld\n", stat_value(v1 ? "total_rss" : "anon"),
	       stat_value(v1 ? "total_cache" : "file"));
	close(release[1]);
	while (wait(NULL) > 0)
		;
	printf("cgroup_peak %lld\n", file_value(v1 ? "memory.max_usage_in_bytes" : "memory.peak"));
	return 0;
}
