// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/outfile.h"

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

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

static int fail(int err, char *msg, size_t msglen, const char *what, const char *path)
{
	snprintf(msg, msglen, "cannot %s %s: %s", what, path, strerror(-err));
	return err;
}

static int refuse_symlink(const char *path, char *msg, size_t msglen)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		snprintf(msg, msglen, "refusing to write %s: it is a symbolic link", path);
		return -ELOOP;
	}
	return 0;
}

/* A device or a FIFO (-o /dev/stdout, a pipe a tool reads) is written
 * into: renaming a file over it would replace /dev/null itself. */
static int write_in_place(const char *path, const char *data, size_t len, char *msg, size_t msglen)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC), err;

	if (fd < 0)
		return fail(-errno, msg, msglen, "write", path);
	err = write_all(fd, data, len);
	if (close(fd) && !err)
		err = -errno;
	return err ? fail(err, msg, msglen, "write", path) : 0;
}

static bool is_special(const char *path)
{
	struct stat st;

	return !stat(path, &st) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

static int write_temp_and_rename(const char *path, const char *data, size_t len, char *msg, size_t msglen)
{
	char tmp[PATH_MAX];
	mode_t mask;
	int fd, err;

	err = refuse_symlink(path, msg, msglen);
	if (err)
		return err;
	if (is_special(path))
		return write_in_place(path, data, len, msg, msglen);
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return fail(-ENAMETOOLONG, msg, msglen, "write", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, msg, msglen, "write", path);
	mask = umask(0);
	umask(mask);
	err = write_all(fd, data, len);
	if (!err && fchmod(fd, 0666 & ~mask))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return fail(err, msg, msglen, "write", path);
	}
	return 0;
}

int outfile_write(const struct mo_invoker *inv, const char *path, const char *data, size_t len,
		  char *msg, size_t msglen)
{
	int err = invoker_enter(inv);

	if (err)
		return fail(err, msg, msglen, "act as the invoking user to write", path);
	err = write_temp_and_rename(path, data, len, msg, msglen);
	invoker_leave(inv);
	return err;
}

static int check_as_user(const char *path, char *msg, size_t msglen)
{
	char buf[PATH_MAX];
	struct stat st;
	int err = refuse_symlink(path, msg, msglen);

	if (err)
		return err;
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode))
			return fail(-EISDIR, msg, msglen, "write", path);
		/* A device or a FIFO is written into: it must be writable itself. */
		if (!S_ISREG(st.st_mode))
			return faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) ? fail(-errno, msg, msglen, "write", path)
									   : 0;
	}
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return fail(-ENAMETOOLONG, msg, msglen, "write", path);
	/* Effective ids are the invoker's here: access() checks the real ones. */
	if (faccessat(AT_FDCWD, dirname(buf), W_OK | X_OK, AT_EACCESS))
		return fail(-errno, msg, msglen, "write", path);
	return 0;
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

static int make_parent_dir(const char *path)
{
	char buf[PATH_MAX];
	char *dir;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	dir = dirname(buf);
	if (mkdir(dir, 0777) && errno != EEXIST)
		return -errno;
	return 0;
}

static int append_locked(const char *path, const char *data, size_t len, char *msg, size_t msglen)
{
	int fd, err;

	err = make_parent_dir(path);
	if (err)
		return fail(err, msg, msglen, "create the directory of", path);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP)
			return refuse_symlink(path, msg, msglen) ?: fail(err, msg, msglen, "open", path);
		return fail(err, msg, msglen, "open", path);
	}
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		close(fd);
		return fail(err, msg, msglen, "lock", path);
	}
	/* One write: with O_APPEND the line lands whole after whatever is there. */
	err = write_all(fd, data, len);
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	return err ? fail(err, msg, msglen, "append to", path) : 0;
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
	int fd, err = invoker_enter(inv);

	if (err)
		return fail(err, msg, msglen, "create", path);
	fd = mkostemps(path, suffixlen, O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	invoker_leave(inv);
	return err ? fail(err, msg, msglen, "create", path) : fd;
}
