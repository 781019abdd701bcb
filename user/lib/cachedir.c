// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include "lib/cachedir.h"
#include "lib/grow.h"

#define TMP_PREFIX ".tmp-"
#define STALE_TMP_SECONDS 3600	/* a temporary file this old was left by a run that died */

int cachedir_location(const char *env, const char *xdg, const char *home, uid_t euid, char *out, size_t len)
{
	int n;

	if (env && *env) {
		if (!strcmp(env, "off"))
			return -ENOENT;
		if (env[0] != '/')
			return -EINVAL;
		n = snprintf(out, len, "%s", env);
	} else if (!euid) {
		n = snprintf(out, len, "/var/cache/memobs");
	} else if (xdg && xdg[0] == '/') {
		n = snprintf(out, len, "%s/memobs", xdg);
	} else if (home && home[0] == '/') {
		n = snprintf(out, len, "%s/.cache/memobs", home);
	} else {
		return -ENOENT;
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A directory memobs may trust: its user's, writable by no one else. */
static int check_owned(int fd, const char *path, mode_t type, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st))
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -errno;
	if ((st.st_mode & S_IFMT) != type) {
		snprintf(err, errlen, "%s: not a %s", path, type == S_IFDIR ? "directory" : "regular file");
		return -EPERM;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not by uid %u", path, (unsigned)st.st_uid,
			 (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: writable by others (mode %03o)", path, (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

/* Directory name under dirfd, made for the owner alone when missing, then
 * opened if it is the user's alone. fd, or -errno with the reason in err. */
static int open_dir(int dirfd, const char *name, const char *path, char *err, size_t errlen)
{
	int fd, ret;

	if (mkdirat(dirfd, name, 0700) && errno != EEXIST)
		return snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno)), -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, ret == -ELOOP || ret == -ENOTDIR ? "a symbolic link or not a directory"
										  : strerror(-ret));
		return ret;
	}
	ret = check_owned(fd, path, S_IFDIR, err, errlen);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int cachedir_open(struct mo_cachedir *c, const char *name, char *err, size_t errlen)
{
	char root[4096], parent[4096], *slash;
	const char *env = getenv(MO_CACHE_ENV);
	int ret = cachedir_location(env, getenv("XDG_CACHE_HOME"), getenv("HOME"), geteuid(), root, sizeof(root));
	int rootfd;

	c->fd = -1;
	c->max_bytes = MO_CACHE_MAX_BYTES;
	*err = 0;
	if (ret == -EINVAL)
		snprintf(err, errlen, "%s=%s: not an absolute path", MO_CACHE_ENV, env);
	else if (ret && ret != -ENOENT)
		snprintf(err, errlen, "cache directory: %s", strerror(-ret));
	if (ret)
		return ret;
	/* ~/.cache may not exist yet: one level is made (XDG says 0700). */
	snprintf(parent, sizeof(parent), "%s", root);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		mkdir(parent, 0700);
	}
	rootfd = open_dir(AT_FDCWD, root, root, err, errlen);
	if (rootfd < 0)
		return rootfd;
	snprintf(c->path, sizeof(c->path), "%s/%s", root, name);
	c->fd = open_dir(rootfd, name, c->path, err, errlen);
	close(rootfd);
	return c->fd < 0 ? c->fd : 0;
}

void cachedir_close(struct mo_cachedir *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int cachedir_read(const struct mo_cachedir *c, const char *name)
{
	/* O_NONBLOCK: an entry that is a FIFO would wait for a writer (and the
	 * exec its table holds with it); it is refused below as not a file. */
	int fd = openat(c->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	char err[64];

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EPERM;
	if (check_owned(fd, name, S_IFREG, err, sizeof(err))) {
		close(fd);
		return -EPERM;
	}
	futimens(fd, NULL);	/* used now: the last to go past the bound */
	return fd;
}

int cachedir_begin(const struct mo_cachedir *c, char tmp[MO_CACHE_TMP_LEN])
{
	unsigned r = 0;
	int fd;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) < 0)
		r = (unsigned)time(NULL);
	snprintf(tmp, MO_CACHE_TMP_LEN, TMP_PREFIX "%d-%08x", (int)getpid(), r);
	fd = openat(c->fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

void cachedir_abort(const struct mo_cachedir *c, int fd, const char *tmp)
{
	close(fd);
	unlinkat(c->fd, tmp, 0);
}

void cachedir_remove(const struct mo_cachedir *c, const char *name)
{
	unlinkat(c->fd, name, 0);
}

struct entry {
	char name[256];
	off_t size;
	time_t used;
};

static int cmp_used(const void *a, const void *b)
{
	time_t x = ((const struct entry *)a)->used, y = ((const struct entry *)b)->used;

	return (x > y) - (x < y);
}

/* Under the bound again: the least recently used entries go (never keep,
 * the one just written), and temporary files of runs that died. */
static void trim(const struct mo_cachedir *c, const char *keep)
{
	/* Not a dup: that would share (and leave at its end) c->fd's offset. */
	int fd = openat(c->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct entry *e = NULL;
	size_t n = 0, cap = 0;
	unsigned long long total = 0;
	struct dirent *de;
	struct stat st;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
			continue;
		if (fstatat(c->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX))) {
			if (st.st_mtime + STALE_TMP_SECONDS < time(NULL))
				unlinkat(c->fd, de->d_name, 0);
			continue;
		}
		total += st.st_size;
		if (strcmp(de->d_name, keep) && strlen(de->d_name) < sizeof(e->name) && !GROW(e, n + 1, cap)) {
			snprintf(e[n].name, sizeof(e[n].name), "%s", de->d_name);
			e[n].size = st.st_size;
			e[n++].used = st.st_mtime;
		}
	}
	closedir(d);
	if (n)
		qsort(e, n, sizeof(*e), cmp_used);
	for (size_t i = 0; i < n && total > c->max_bytes; i++)
		if (!unlinkat(c->fd, e[i].name, 0))
			total -= e[i].size;
	free(e);
}

int cachedir_commit(const struct mo_cachedir *c, int fd, const char *tmp, const char *name)
{
	int ret = renameat(c->fd, tmp, c->fd, name) ? -errno : 0;

	if (ret) {
		cachedir_abort(c, fd, tmp);
		return ret;
	}
	close(fd);
	trim(c, name);
	return 0;
}
