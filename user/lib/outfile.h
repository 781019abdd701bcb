/* SPDX-License-Identifier: GPL-2.0 */
/* Output files: created as the invoking user, never through a symlink,
 * replaced atomically (temp file + rename) or appended under flock. On
 * failure the reason goes into err (one line) and -errno is returned. */
#ifndef MO_OUTFILE_H
#define MO_OUTFILE_H

#include <stddef.h>
#include "lib/invoker.h"

/* Write data to path, replacing it whole or not at all. */
int outfile_write(const struct mo_invoker *inv, const char *path, const char *data, size_t len,
		  char *err, size_t errlen);

/* Before a long run: can the invoking user create path (its directory
 * exists and is writable, path is not a symlink nor a directory)? 0, or
 * -errno with the reason in err. Nothing is created. */
int outfile_check(const struct mo_invoker *inv, const char *path, char *err, size_t errlen);

/* Create a new file from the template path (mkstemps: "XXXXXX" then
 * suffixlen bytes of suffix; path gets the name), mode 0600, as the
 * invoking user. The descriptor (close-on-exec), or -errno. */
int outfile_temp(const struct mo_invoker *inv, char *path, int suffixlen, char *msg, size_t msglen);

/* Create the directories path lies in, as the invoking user (mkdir -p of
 * its directory). */
int outfile_make_dirs(const struct mo_invoker *inv, const char *path, char *err, size_t errlen);

/* Write len bytes of buf to fd, all of them (EINTR, short writes); on a
 * descriptor that would block (a FIFO), wait for room at most 10 s at a
 * time. 0 or -errno (-ETIMEDOUT). */
int outfile_write_all(int fd, const void *buf, size_t len);

/* Append one line (data must end in '\n') with a single write under an
 * exclusive lock; creates the file and its parent directory when missing. */
int outfile_append(const struct mo_invoker *inv, const char *path, const char *data, size_t len,
		   char *err, size_t errlen);

#endif
