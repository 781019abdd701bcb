// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/grow.h"
#include "lib/procfs.h"

/* "Key:\t  123 kB" -> bytes. */
static bool kb_value(const char *line, const char *end, const char *key, __s64 *out)
{
	size_t klen = strlen(key);
	long long v = 0;
	const char *p;

	if ((size_t)(end - line) <= klen || strncmp(line, key, klen) || line[klen] != ':')
		return false;
	for (p = line + klen + 1; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	if (p == end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		int d = *p - '0';

		if (v > (INT64_MAX / 1024 - d) / 10)
			return false;	/* more bytes than an __s64 holds */
		v = v * 10 + d;
	}
	/* A text cut inside the number reads as a smaller one: only a value
	 * followed by its unit is whole. */
	if (end - p < 3 || strncmp(p, " kB", 3))
		return false;
	*out = v * 1024;
	return true;
}

static bool int_value(const char *line, const char *end, const char *key, long long *out)
{
	size_t klen = strlen(key);
	char buf[32];
	size_t n;
	char *stop;

	if ((size_t)(end - line) <= klen || strncmp(line, key, klen) || line[klen] != ':')
		return false;
	line += klen + 1;
	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	n = end - line < (long)sizeof(buf) - 1 ? (size_t)(end - line) : sizeof(buf) - 1;
	memcpy(buf, line, n);
	buf[n] = 0;
	errno = 0;
	*out = strtoll(buf, &stop, 10);
	return !errno && stop != buf;
}

/* "Uid:\t1000\t0\t..." -> the second number (the effective id). */
static void second_value(const char *line, const char *end, unsigned int *out)
{
	const char *p = memchr(line, '\t', end - line);
	char buf[16], *stop;
	unsigned long v;
	size_t n;

	if (!p || !(p = memchr(p + 1, '\t', end - p - 1)))
		return;
	p++;
	/* The line is not NUL-terminated where the text ends. */
	n = end - p < (long)sizeof(buf) - 1 ? (size_t)(end - p) : sizeof(buf) - 1;
	memcpy(buf, p, n);
	buf[n] = 0;
	errno = 0;
	v = strtoul(buf, &stop, 10);
	if (isdigit((unsigned char)buf[0]) && (size_t)(stop - buf) < sizeof(buf) - 1 && !errno && v < (uid_t)-1)
		*out = v;
}

int procfs_parse_status(const char *text, size_t len, struct mo_proc_status *out)
{
	const char *p = text, *end = text + len;
	bool named = false;
	long long v;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);

		if (!eol)
			eol = end;
		if (eol - p > 6 && !strncmp(p, "Name:\t", 6)) {
			size_t n = eol - p - 6;

			if (n >= sizeof(out->name))
				n = sizeof(out->name) - 1;
			memcpy(out->name, p + 6, n);
			out->name[n] = 0;
			named = true;
		} else if (int_value(p, eol, "PPid", &v)) {
			out->ppid = v;
		} else if (int_value(p, eol, "Tgid", &v)) {
			out->tgid = v;
		} else if (int_value(p, eol, "Uid", &v)) {
			out->uid = out->euid = v;
			second_value(p, eol, &out->euid);
		} else if (int_value(p, eol, "Gid", &v)) {
			out->gid = out->egid = v;
			second_value(p, eol, &out->egid);
		} else if (kb_value(p, eol, "RssAnon", &out->rss[PROCFS_RSS_ANON]) ||
			   kb_value(p, eol, "RssFile", &out->rss[PROCFS_RSS_FILE]) ||
			   kb_value(p, eol, "RssShmem", &out->rss[PROCFS_RSS_SHMEM])) {
			out->has_rss = true;
		} else {
			kb_value(p, eol, "VmSwap", &out->rss[PROCFS_RSS_SWAP]);
		}
		p = eol + 1;
	}
	return named ? 0 : -EINVAL;
}

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, total = 0;

	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((size_t)total < len && (n = read(fd, buf + total, len - total)) > 0)
		total += n;
	if (n < 0 && !total)
		total = -errno;
	close(fd);
	return total;
}

/* A status passes 4 KiB when the process is in a few hundred groups: the
 * Groups line comes before the Rss lines. Read all of it (up to 1 MiB). */
#define STATUS_MAX (1u << 20)

int procfs_status(pid_t pid, struct mo_proc_status *out)
{
	size_t cap = 0;
	char path[64], *buf = NULL;
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	/* One read from the start each time: /proc files are made whole. */
	do {
		if (GROW(buf, cap ? 2 * cap : 4096, cap)) {
			free(buf);
			return -ENOMEM;
		}
		n = read_file(path, buf, cap);
	} while (n == (ssize_t)cap && cap < STATUS_MAX);
	ret = n < 0 ? n : procfs_parse_status(buf, n, out);
	free(buf);
	return ret;
}

ssize_t procfs_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	return read_file(path, buf, len);
}

int procfs_mem_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int procfs_mem_string(int fd, uint64_t addr, char *buf, size_t len)
{
	ssize_t n;

	if (!len)
		return -EINVAL;
	n = pread(fd, buf, len - 1, addr);
	if (n <= 0)
		return n < 0 ? -errno : -EFAULT;
	buf[n] = 0;
	return 0;
}

int procfs_cgroup(pid_t pid, char *buf, size_t len)
{
	char path[64], text[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	n = read_file(path, text, sizeof(text) - 1);
	if (n < 0)
		return n;
	text[n] = 0;
	return procfs_parse_cgroup(text, buf, len);
}

int procfs_parse_cgroup(const char *text, char *buf, size_t len)
{
	for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
		size_t n = strcspn(line, "\n");

		/* The v2 hierarchy's line: "0::/path". */
		if (n >= 4 && !strncmp(line, "0::/", 4)) {
			if (n - 3 >= len)
				return -ENAMETOOLONG;
			memcpy(buf, line + 3, n - 3);
			buf[n - 3] = 0;
			return 0;
		}
	}
	return -ENOENT;
}

int procfs_parse_cgroup_v1(const char *text, const char *controller, char *buf, size_t len)
{
	size_t clen = strlen(controller);

	for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
		size_t n = strcspn(line, "\n");
		const char *list = memchr(line, ':', n), *path, *c;

		/* "ID:CONTROLLER,CONTROLLER:/path" */
		if (!list || !(path = memchr(list + 1, ':', line + n - list - 1)) || path[1] != '/')
			continue;
		for (c = list + 1; c < path; c += strcspn(c, ",:") + 1)
			if ((size_t)(path - c) >= clen && !strncmp(c, controller, clen) &&
			    (c[clen] == ',' || c[clen] == ':'))
				break;
		if (c >= path)
			continue;
		n -= path + 1 - line;
		if (n >= len)
			return -ENAMETOOLONG;
		memcpy(buf, path + 1, n);
		buf[n] = 0;
		return 0;
	}
	return -ENOENT;
}

int procfs_parse_pss(const char *text, size_t len, struct mo_pss *out)
{
	const char *p = text, *end = text + len;
	bool found = false;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);

		if (!eol)
			eol = end;
		if (kb_value(p, eol, "Pss", &out->pss))
			found = true;
		else if (!kb_value(p, eol, "Pss_Anon", &out->anon) && !kb_value(p, eol, "Pss_File", &out->file))
			kb_value(p, eol, "Pss_Shmem", &out->shmem);
		p = eol + 1;
	}
	return found ? 0 : -EINVAL;
}

int procfs_pss(pid_t pid, struct mo_pss *out)
{
	char path[64], text[2048];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	n = read_file(path, text, sizeof(text));
	return n < 0 ? n : procfs_parse_pss(text, n, out);
}

int procfs_parse_start_ticks(const char *text, uint64_t *out)
{
	/* "PID (COMM) STATE PPID ...": the comm may hold spaces and ')'. */
	const char *p = strrchr(text, ')');
	unsigned long long v;
	char *stop;

	if (!p)
		return -EINVAL;
	for (int field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
	}
	errno = 0;
	v = strtoull(p + 1, &stop, 10);
	if (errno || stop == p + 1 || (*stop != ' ' && *stop != '\n' && *stop))
		return -EINVAL;
	*out = v;
	return 0;
}

int procfs_start_ticks(pid_t pid, uint64_t *out)
{
	char path[64], text[1024];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = procfs_read_text(path, text, sizeof(text));
	return n < 0 ? n : procfs_parse_start_ticks(text, out);
}

#define ENVIRON_MAX (4u << 20)

char *procfs_environ(pid_t pid, size_t *len)
{
	char path[64], *buf = malloc(ENVIRON_MAX + 1);
	ssize_t n;

	*len = 0;
	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	n = read_file(path, buf, ENVIRON_MAX);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

ssize_t procfs_read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;

	if (!len)
		return -EINVAL;
	n = read_file(path, buf, len - 1);
	if (n >= 0)
		buf[n] = 0;
	return n;
}
