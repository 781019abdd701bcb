// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "lib/log.h"
#include "observe/bpf_log.h"

/* libbpf's messages are kept, not printed: on a failed load they are the
 * verifier's log, saved to a file; with -v they are printed as they come. */
static char *libbpf_log;
static size_t libbpf_log_len;
#define LIBBPF_LOG_MAX (8u << 20)

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg, *grown;
	int n;

	if (log_verbose() && level != LIBBPF_DEBUG)
		return vfprintf(stderr, fmt, ap);
	n = vasprintf(&msg, fmt, ap);
	if (n <= 0)
		return 0;
	if (libbpf_log_len + n <= LIBBPF_LOG_MAX && (grown = realloc(libbpf_log, libbpf_log_len + n + 1))) {
		libbpf_log = grown;
		memcpy(libbpf_log + libbpf_log_len, msg, n + 1);
		libbpf_log_len += n;
	}
	free(msg);
	return n;
}

/* Does the log say more than "code: what" will? A refusal for want of a
 * privilege does not (100 KB of libbpf's progress, then the errno), unless
 * the verifier explained itself; any other failure may (a kernel that
 * differs, a program the verifier rejects). */
static bool log_tells_more(int code)
{
	if (!libbpf_log)
		return false;
	return (code != -EPERM && code != -EACCES) || strstr(libbpf_log, "BEGIN PROG LOAD LOG");
}

/* The log goes to a fresh file (never one someone prepared) named in err,
 * when it tells more than err. */
void bpf_log_save(const char *dir, char *err, size_t errlen, const char *what, int code)
{
	char path[4096];
	int fd = -1;
	bool saved;

	if (dir && log_tells_more(code) &&
	    snprintf(path, sizeof(path), "%s/memobs-bpf-XXXXXX.log", dir) < (int)sizeof(path))
		fd = mkostemps(path, 4, O_CLOEXEC);
	saved = fd >= 0 && libbpf_log && write(fd, libbpf_log, libbpf_log_len) == (ssize_t)libbpf_log_len;
	if (fd >= 0)
		close(fd);
	if (fd >= 0 && !saved)
		unlink(path);
	snprintf(err, errlen, "%s: %s%s%s", what, strerror(-code), saved ? "; libbpf and verifier log in " : "",
		 saved ? path : "");
}

void bpf_log_capture(void)
{
	libbpf_set_print(libbpf_print);
}

void bpf_log_drop(void)
{
	free(libbpf_log);
	libbpf_log = NULL;
	libbpf_log_len = 0;
}
