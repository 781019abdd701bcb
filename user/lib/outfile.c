// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "lib/outfile.h"

/* How long a FIFO may go without a reader, and a reader without reading,
 * before memobs gives up on it. */
#define FIFO_OPEN_WAIT_MS 3000
#define WRITE_STALL_MS 10000

static int fail(int err, char *msg, size_t msglen, const char *what, const char *path)
{
	snprintf(msg, msglen, "cannot %s %s: %s", what, path, strerror(-err));
	return err;
}

/* The directory an output path is in, opened (O_PATH) without following a
 * symbolic link in any component of the path given: root acting for a user
 * never writes through a link someone placed on the way. */
struct outdir {
	int fd;
	const char *base;	/* the last component */
	char buf[PATH_MAX];
};

/* Open a directory without following a symbolic link on its way. */
static int open_nofollow(const char *dir)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	long fd = syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* dir could not be opened for a symbolic link on its way: name the first. */
static int refuse_link(const char *path, const char *dir, char *msg, size_t msglen)
{
	char prefix[PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);

	for (size_t i = 1; i <= len; i++) {
		if (i < len && dir[i] != '/')
			continue;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)i, dir);
		if (!lstat(prefix, &st) && S_ISLNK(st.st_mode)) {
			snprintf(msg, msglen, "refusing to write %s: %s is a symbolic link", path, prefix);
			return -ELOOP;
		}
	}
	snprintf(msg, msglen, "refusing to write %s: its directory is reached through a symbolic link", path);
	return -ELOOP;
}

/* Split path into its directory and last component and open the directory
 * (create_dir: make it, one level, when missing). 0, or -errno with the
 * reason in msg. */
static int outdir_open(struct outdir *d, const char *path, bool create_dir, char *msg, size_t msglen)
{
	char *slash;
	const char *dir;
	struct stat st;

	d->fd = -1;
	if (snprintf(d->buf, sizeof(d->buf), "%s", path) >= (int)sizeof(d->buf))
		return fail(-ENAMETOOLONG, msg, msglen, "write", path);
	slash = strrchr(d->buf, '/');
	if (!slash) {
		dir = ".";
		d->base = d->buf;
	} else {
		*slash = 0;
		dir = slash == d->buf ? "/" : d->buf;
		d->base = slash + 1;
	}
	if (!*d->base || !strcmp(d->base, ".") || !strcmp(d->base, ".."))
		return fail(-EISDIR, msg, msglen, "write", path);
	d->fd = open_nofollow(dir);
	if (d->fd == -ENOENT && create_dir) {
		struct outdir parent;
		int err = outdir_open(&parent, dir, false, msg, msglen);

		if (err)
			return err;
		err = mkdirat(parent.fd, parent.base, 0777) && errno != EEXIST ? -errno : 0;
		close(parent.fd);
		if (err)
			return fail(err, msg, msglen, "create the directory of", path);
		d->fd = open_nofollow(dir);
	}
	if (d->fd == -ELOOP)
		return refuse_link(path, dir, msg, msglen);
	if (d->fd < 0)
		return fail(d->fd, msg, msglen, "write", path);
	if (!fstatat(d->fd, d->base, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode)) {
		close(d->fd);
		d->fd = -1;
		snprintf(msg, msglen, "refusing to write %s: it is a symbolic link", path);
		return -ELOOP;
	}
	return 0;
}

static void outdir_close(struct outdir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

int outfile_write_all(int fd, const void *buf, size_t len)
{
	const char *data = buf;

	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			n = poll(&p, 1, WRITE_STALL_MS);
			if (n == 0)
				return -ETIMEDOUT;
			if (n < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/* A FIFO opened for writing: without a reader, open(2) would block for ever
 * (and memobs holds the stop signals then): wait for one a bounded time. */
static int open_fifo(const struct outdir *d)
{
	struct timespec tick = { 0, 50 * 1000000L };

	for (int waited = 0;; waited += 50) {
		int fd = openat(d->fd, d->base, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0 || errno != ENXIO)
			return fd < 0 ? -errno : fd;
		if (waited >= FIFO_OPEN_WAIT_MS)
			return -ENXIO;
		nanosleep(&tick, NULL);
	}
}

/* A device or a FIFO (-o /dev/null, a pipe a tool reads) is written into:
 * renaming a file over it would replace /dev/null itself. */
static int write_in_place(const struct outdir *d, bool fifo, const char *path, const char *data, size_t len,
			  char *msg, size_t msglen)
{
	int fd = fifo ? open_fifo(d) : openat(d->fd, d->base, O_WRONLY | O_NOFOLLOW | O_CLOEXEC), err;

	if (!fifo && fd < 0)
		fd = -errno;
	if (fd == -ENXIO && fifo) {
		snprintf(msg, msglen, "cannot write %s: no process opened the FIFO for reading in %d s", path,
			 FIFO_OPEN_WAIT_MS / 1000);
		return fd;
	}
	if (fd < 0)
		return fail(fd, msg, msglen, "write", path);
	err = outfile_write_all(fd, data, len);
	if (close(fd) && !err)
		err = -errno;
	if (err == -ETIMEDOUT) {
		snprintf(msg, msglen, "cannot write %s: its reader stopped reading for %d s", path, WRITE_STALL_MS / 1000);
		return err;
	}
	return err ? fail(err, msg, msglen, "write", path) : 0;
}

/* Create a new file named from tmpl (its "XXXXXX" before suffixlen bytes
 * of suffix made unique) in the directory dirfd. fd or -errno. */
static int create_unique(int dirfd, char *tmpl, int suffixlen, mode_t mode)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t len = strlen(tmpl);
	char *x;

	if (len < 6 + (size_t)suffixlen || memcmp(tmpl + len - suffixlen - 6, "XXXXXX", 6))
		return -EINVAL;
	x = tmpl + len - suffixlen - 6;
	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[6];
		int fd;

		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			return -errno;
		for (int i = 0; i < 6; i++)
			x[i] = chars[r[i] % (sizeof(chars) - 1)];
		fd = openat(dirfd, tmpl, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

/* A file without a name in the directory (O_TMPFILE): killed while writing,
 * memobs leaves nothing behind. Where the file system has none, a named
 * temporary file (tmp gets its name). fd or -errno. */
static int open_unnamed(const struct outdir *d, char *tmp, size_t tmplen, bool *named)
{
	int fd = openat(d->fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);

	*named = false;
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd < 0 ? -errno : fd;
	*named = true;
	if (snprintf(tmp, tmplen, ".%s.XXXXXX", d->base) >= (int)tmplen)
		return -ENAMETOOLONG;
	return create_unique(d->fd, tmp, 0, 0600);
}

/* Give the unnamed file a temporary name, then rename it over the target:
 * between the two, a kill leaves the temporary name (for microseconds,
 * not for the whole write). */
static int name_it(const struct outdir *d, int fd, char *tmp, size_t tmplen, bool named)
{
	char proc[64];

	if (!named) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		for (int tries = 0;; tries++) {
			unsigned int r;

			if (getrandom(&r, sizeof(r), 0) != sizeof(r))
				return -errno;
			if (snprintf(tmp, tmplen, ".%s.%08x", d->base, r) >= (int)tmplen)
				return -ENAMETOOLONG;
			if (!linkat(AT_FDCWD, proc, d->fd, tmp, AT_SYMLINK_FOLLOW))
				break;
			if (errno != EEXIST || tries == 100)
				return -errno;
		}
	}
	if (renameat(d->fd, tmp, d->fd, d->base)) {
		int err = -errno;

		unlinkat(d->fd, tmp, 0);
		return err;
	}
	return 0;
}

static int write_replace(const struct outdir *d, const char *data, size_t len)
{
	char tmp[NAME_MAX + 1];
	bool named;
	mode_t mask = umask(0);
	int fd, err;

	umask(mask);
	fd = open_unnamed(d, tmp, sizeof(tmp), &named);
	if (fd < 0)
		return fd;
	err = outfile_write_all(fd, data, len);
	if (!err && fchmod(fd, 0666 & ~mask))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (!err)
		err = name_it(d, fd, tmp, sizeof(tmp), named);
	else if (named)
		unlinkat(d->fd, tmp, 0);
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static int write_as_user(const char *path, const char *data, size_t len, char *msg, size_t msglen)
{
	struct outdir d;
	struct stat st;
	int err = outdir_open(&d, path, false, msg, msglen);

	if (err)
		return err;
	if (!fstatat(d.fd, d.base, &st, AT_SYMLINK_NOFOLLOW) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		err = write_in_place(&d, S_ISFIFO(st.st_mode), path, data, len, msg, msglen);
	else if ((err = write_replace(&d, data, len)))
		fail(err, msg, msglen, "write", path);
	outdir_close(&d);
	return err;
}

int outfile_write(const struct mo_invoker *inv, const char *path, const char *data, size_t len,
		  char *msg, size_t msglen)
{
	int err = invoker_enter(inv);

	if (err)
		return fail(err, msg, msglen, "act as the invoking user to write", path);
	err = write_as_user(path, data, len, msg, msglen);
	invoker_leave(inv);
	return err;
}

static int check_as_user(const char *path, char *msg, size_t msglen)
{
	struct outdir d;
	struct stat st;
	int err = outdir_open(&d, path, false, msg, msglen);

	if (err)
		return err;
	if (!fstatat(d.fd, d.base, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode))
		err = fail(-EISDIR, msg, msglen, "write", path);
	/* A device or a FIFO is written into: it must be writable itself;
	 * else the directory must be. Effective ids are the invoker's here. */
	else if (!fstatat(d.fd, d.base, &st, AT_SYMLINK_NOFOLLOW) && !S_ISREG(st.st_mode))
		err = faccessat(d.fd, d.base, W_OK, AT_EACCESS) ? fail(-errno, msg, msglen, "write", path) : 0;
	else if (faccessat(d.fd, ".", W_OK | X_OK, AT_EACCESS))
		err = fail(-errno, msg, msglen, "write", path);
	outdir_close(&d);
	return err;
}

int outfile_check(const struct mo_invoker *inv, const char *path, char *msg, size_t msglen)
{
	int err = invoker_enter(inv);

	if (err)
		return fail(err, msg, msglen, "act as the invoking user to write", path);
	err = check_as_user(path, msg, msglen);
	invoker_leave(inv);
	return err;
}

/* One line appended whole or not at all: a write cut short (disk full) is
 * taken back, so that no torn line is left for every later read to warn of. */
static int append_locked(const char *path, const char *data, size_t len, char *msg, size_t msglen)
{
	struct outdir d;
	struct stat st;
	int fd, err = outdir_open(&d, path, true, msg, msglen);

	if (err)
		return err;
	fd = openat(d.fd, d.base, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
	outdir_close(&d);
	if (fd < 0)
		return fail(-errno, msg, msglen, "open", path);
	if (flock(fd, LOCK_EX) || fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return fail(err, msg, msglen, "lock", path);
	}
	err = outfile_write_all(fd, data, len);
	if (!err && fsync(fd))
		err = -errno;
	if (err && S_ISREG(st.st_mode) && ftruncate(fd, st.st_size))
		err = -errno;
	close(fd);
	return err ? fail(err, msg, msglen, "append to", path) : 0;
}

/* mkdir -p of path's directory. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = 0;
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int outfile_make_dirs(const struct mo_invoker *inv, const char *path, char *msg, size_t msglen)
{
	int err = invoker_enter(inv);

	if (err)
		return fail(err, msg, msglen, "act as the invoking user to write", path);
	err = make_dirs(path);
	invoker_leave(inv);
	return err ? fail(err, msg, msglen, "create the directories of", path) : 0;
}

int outfile_append(const struct mo_invoker *inv, const char *path, const char *data, size_t len,
		   char *msg, size_t msglen)
{
	int err = invoker_enter(inv);

	if (err)
		return fail(err, msg, msglen, "act as the invoking user to write", path);
	err = append_locked(path, data, len, msg, msglen);
	invoker_leave(inv);
	return err;
}

int outfile_temp(const struct mo_invoker *inv, char *path, int suffixlen, char *msg, size_t msglen)
{
	struct outdir d;
	char name[NAME_MAX + 1];
	int fd, err = invoker_enter(inv);

	if (err)
		return fail(err, msg, msglen, "create", path);
	err = outdir_open(&d, path, false, msg, msglen);
	if (!err) {
		snprintf(name, sizeof(name), "%s", d.base);
		fd = create_unique(d.fd, name, suffixlen, 0600);
		err = fd < 0 ? fd : 0;
		if (!err)
			memcpy(path + (d.base - d.buf), name, strlen(name));
		outdir_close(&d);
		if (err)
			fail(err, msg, msglen, "create", path);
	}
	invoker_leave(inv);
	return err ? err : fd;
}
