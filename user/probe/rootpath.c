// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "probe/rootpath.h"

#define MAX_SYMLINKS 40

/* dir/name into buf; -ENAMETOOLONG when it does not fit. */
int rootpath_join(char *buf, size_t len, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	int n = snprintf(buf, len, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int rootpath_append(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
	if (*at + n >= len)
		return -ENAMETOOLONG;
	memcpy(buf + *at, s, n);
	*at += n;
	buf[*at] = 0;
	return 0;
}

/* path, absolute inside root, with every symlink resolved inside root (an
 * absolute link target starts again from root, not from memobs's "/").
 * The result (inside root, no root prefix) goes to buf. */
int rootpath_resolve(const char *root, const char *path, char *buf, size_t len)
{
	char rest[2 * PATH_MAX], full[2 * PATH_MAX], target[PATH_MAX];
	size_t at = 0;
	int links = 0;

	if (strlen(path) >= sizeof(rest))
		return -ENAMETOOLONG;
	strcpy(rest, path);
	buf[0] = 0;
	while (rest[0]) {
		char *comp = rest + strspn(rest, "/");
		size_t clen = strcspn(comp, "/"), save = at;
		struct stat st;
		ssize_t n;

		if (!clen)
			break;
		if (clen == 1 && comp[0] == '.') {
			memmove(rest, comp + 1, strlen(comp + 1) + 1);
			continue;
		}
		if (clen == 2 && !strncmp(comp, "..", 2)) {
			while (at && buf[--at] != '/')
				;
			buf[at] = 0;
			memmove(rest, comp + 2, strlen(comp + 2) + 1);
			continue;
		}
		if (rootpath_append(buf, len, &at, "/", 1) || rootpath_append(buf, len, &at, comp, clen))
			return -ENAMETOOLONG;
		memmove(rest, comp + clen, strlen(comp + clen) + 1);
		if (snprintf(full, sizeof(full), "%s%s", root, buf) >= (int)sizeof(full))
			return -ENAMETOOLONG;
		if (lstat(full, &st))
			return -errno;
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++links > MAX_SYMLINKS)
			return -ELOOP;
		n = readlink(full, target, sizeof(target) - 1);
		if (n <= 0)
			return n ? -errno : -ENOENT;
		target[n] = 0;
		if (strlen(target) + 1 + strlen(rest) >= sizeof(rest))
			return -ENAMETOOLONG;
		memmove(rest + n + 1, rest, strlen(rest) + 1);
		memcpy(rest, target, n);
		rest[n] = '/';
		at = target[0] == '/' ? 0 : save;
		buf[at] = 0;
	}
	if (!at)
		return rootpath_append(buf, len, &at, "/", 1);
	return 0;
}
