// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "observe/cgroups.h"

#define MAX_DEPTH 64		/* the kernel's own bound on nesting is far larger, but no host nests this deep */
#define RESCAN_NS 1000000000ull

struct entry {
	uint64_t id;		/* 0: empty slot */
	char *path;
};

/* Open addressing by id; grows at 1/2 load up to MO_CGROUPS_MAX entries. */
struct mo_cgroups {
	char *root;
	struct entry *slots;
	size_t cap, used;
	uint64_t last_scan_ns;	/* 0: never */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static size_t slot_of(const struct mo_cgroups *c, uint64_t id)
{
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull) & (c->cap - 1);

	while (c->slots[i].id && c->slots[i].id != id)
		i = (i + 1) & (c->cap - 1);
	return i;
}

static int grow(struct mo_cgroups *c)
{
	size_t old_cap = c->cap, cap = old_cap ? old_cap * 2 : 256;
	struct entry *old = c->slots;

	c->slots = calloc(cap, sizeof(*c->slots));
	if (!c->slots) {
		c->slots = old;
		return -ENOMEM;
	}
	c->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].id)
			c->slots[slot_of(c, old[i].id)] = old[i];
	free(old);
	return 0;
}

/* A mount point as mountinfo writes it: space, tab, newline and backslash
 * as \ooo. */
static int unescape(const char *in, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = in[i];

		if (ch == '\\' && i + 3 < n && in[i + 1] >= '0' && in[i + 1] <= '3' &&
		    in[i + 2] >= '0' && in[i + 2] <= '7' && in[i + 3] >= '0' && in[i + 3] <= '7') {
			ch = (in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0');
			i += 3;
		}
		if (o + 1 >= len)
			return -ENAMETOOLONG;
		out[o++] = ch;
	}
	out[o] = 0;
	return 0;
}

/* The n-th space-separated field of [f, end) (0-based): its start, length in *len. */
static const char *field_at(const char *f, const char *end, int n, size_t *len)
{
	for (; n > 0 && f; n--) {
		f = memchr(f, ' ', end - f);
		f = f ? f + 1 : NULL;
	}
	if (!f || f >= end)
		return NULL;
	*len = strcspn(f, " \n");
	if (f + *len > end)
		*len = end - f;
	return f;
}

/* Does the comma-separated list [s, s+n) hold word? */
static bool list_has(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (const char *e = s + n; s < e; s += strcspn(s, ",") + 1) {
		size_t l = strcspn(s, ",");

		if (s + l > e)
			l = e - s;
		if (l == w && !strncmp(s, word, w))
			return true;
	}
	return false;
}

int cgroups_parse_hierarchy(const char *text, const char *controller, char *mount, size_t mlen, char *root,
			    size_t rlen)
{
	for (const char *line = text, *next; *line; line = next) {
		size_t n = strcspn(line, "\n"), flen, mplen, rootlen, optlen;
		const char *end = line + n, *sep = memmem(line, n, " - ", 3), *fstype, *mp, *rt, *opts;

		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTIONS" */
		next = *end ? end + 1 : end;
		if (!sep || !(fstype = field_at(sep + 3, end, 0, &flen)))
			continue;
		if (controller ? flen != 6 || strncmp(fstype, "cgroup", 6) : flen != 7 || strncmp(fstype, "cgroup2", 7))
			continue;
		if (controller && (!(opts = field_at(sep + 3, end, 2, &optlen)) || !list_has(opts, optlen, controller)))
			continue;
		rt = field_at(line, sep, 3, &rootlen);
		mp = field_at(line, sep, 4, &mplen);
		/* Paths are absolute; anything else is not mountinfo. */
		if (!rt || !mp || *rt != '/' || *mp != '/')
			continue;
		if (root && unescape(rt, rootlen, root, rlen))
			return -ENAMETOOLONG;
		return unescape(mp, mplen, mount, mlen);
	}
	return -ENOENT;
}

int cgroups_parse_mountinfo(const char *text, char *buf, size_t len)
{
	return cgroups_parse_hierarchy(text, NULL, buf, len, NULL, 0);
}

int cgroups_find_mount(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (ret == -ENOENT && getline(&line, &cap, f) > 0)
		ret = cgroups_parse_mountinfo(line, buf, len);
	free(line);
	fclose(f);
	return ret;
}

struct mo_cgroups *cgroups__new(const char *root)
{
	struct mo_cgroups *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->root = strdup(root ? root : "");
	if (!c->root || grow(c)) {
		cgroups__free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void cgroups__free(struct mo_cgroups *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		free(c->slots[i].path);
	free(c->slots);
	free(c->root);
	free(c);
}

/* Remember id -> path (a moved or renamed cgroup keeps its id: the newest path wins). */
static void remember(struct mo_cgroups *c, uint64_t id, const char *path)
{
	size_t s;
	char *dup;

	if (!id)
		return;
	s = slot_of(c, id);
	if (c->slots[s].id) {
		if (strcmp(c->slots[s].path, path) && (dup = strdup(path))) {
			free(c->slots[s].path);
			c->slots[s].path = dup;
		}
		return;
	}
	if (c->used >= MO_CGROUPS_MAX)
		return;
	if ((c->used + 1) * 2 > c->cap) {
		if (grow(c))
			return;
		s = slot_of(c, id);
	}
	dup = strdup(path);
	if (!dup)
		return;
	c->slots[s] = (struct entry){ id, dup };
	c->used++;
}

/* Depth first from the directory open as dfd, whose path is `path` (len
 * bytes in a buffer of PATH_MAX). */
static void walk(struct mo_cgroups *c, int dfd, char *path, size_t len, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) && c->used < MO_CGROUPS_MAX) {
		struct stat st;
		size_t n = strlen(de->d_name);
		int sub;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len + 1 + n + 1 > 4096 || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, n + 1);
		remember(c, st.st_ino, path);
		if (depth < MAX_DEPTH &&
		    (sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			walk(c, sub, path, len + 1 + n, depth + 1);
		path[len] = 0;
	}
	closedir(d);
}

int cgroups__rescan(struct mo_cgroups *c)
{
	char path[4096] = "";
	struct stat st;
	int fd;

	c->last_scan_ns = mono_ns();
	if (!c->root[0])
		return -ENOENT;
	fd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	remember(c, st.st_ino, "/");
	walk(c, fd, path, 0, 0);
	return c->used;
}

const char *cgroups__path(struct mo_cgroups *c, uint64_t id)
{
	size_t s;

	if (!id)
		return NULL;
	s = slot_of(c, id);
	if (!c->slots[s].id) {
		if (c->last_scan_ns && mono_ns() - c->last_scan_ns < RESCAN_NS)
			return NULL;
		cgroups__rescan(c);
		s = slot_of(c, id);
	}
	return c->slots[s].id ? c->slots[s].path : NULL;
}

int cgroups__id_of(struct mo_cgroups *c, const char *path, uint64_t *id)
{
	char full[4096];
	struct stat st;

	if (!c->root[0])
		return -ENOENT;
	if (snprintf(full, sizeof(full), "%s%s", c->root, path) >= (int)sizeof(full))
		return -ENAMETOOLONG;
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	remember(c, st.st_ino, path);
	return 0;
}

bool cgroups_path_within(const char *path, const char *top)
{
	size_t n = strlen(top);

	if (!strcmp(top, "/"))
		return path[0] == '/';
	return !strncmp(path, top, n) && (path[n] == 0 || path[n] == '/');
}
