/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the libFuzzer targets: the input as a C string or as a
 * file, and a sink for renderers. A broken contract aborts (a finding). */
#ifndef MO_FUZZ_H
#define MO_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} } while (0)

/* The input as a NUL-terminated string (caller frees). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_ASSERT(s);
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/* The input as the whole content of a memory file, reachable by the path
 * written into path ("/proc/self/fd/N"): for parsers that take a path. */
static inline void fuzz_file(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		FUZZ_ASSERT(fd >= 0);
	}
	FUZZ_ASSERT(!ftruncate(fd, 0));
	FUZZ_ASSERT(pwrite(fd, data, size, 0) == (ssize_t)size);
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
}

/* Where renderers write: /dev/null. */
static inline FILE *fuzz_sink(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	FUZZ_ASSERT(f);
	return f;
}

#endif
