// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "probe/ldcache.h"

/* glibc elf/dl-cache.h */
#define OLD_MAGIC "ld.so-1.7.0"
#define NEW_MAGIC "glibc-ld.so.cache1.1"
#define OLD_HEADER 16		/* magic[11], pad, nlibs */
#define OLD_ENTRY 12		/* flags, key, value */
#define NEW_HEADER 48		/* magic[17], version[3], nlibs, len_strings, flags, ext, unused */
#define NEW_ENTRY 24		/* flags, key, value, osversion, hwcap */
#define FLAG_TYPE_MASK 0x00ff
#define FLAG_ELF_LIBC6 0x0003
#define MAX_CACHE (64u << 20)

struct mo_ldcache {
	char *data;		/* the whole file */
	size_t size;
	size_t base;		/* offset of the new-format header: entries and strings count from it */
	uint32_t nlibs;
};

static uint32_t u32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t u64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int read_all(const char *path, char **data, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t done = 0;
	int err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out_close;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > MAX_CACHE) {
		err = -EINVAL;
		goto out_close;
	}
	*data = malloc(st.st_size);
	if (!*data) {
		err = -ENOMEM;
		goto out_close;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + done, st.st_size - done);

		if (n <= 0)
			break;
		done += n;
	}
	*size = done;
	err = 0;
out_close:
	close(fd);
	return err;
}

/* Where the new-format header starts, or -EINVAL. */
static int find_new_header(const char *d, size_t size, size_t *base)
{
	size_t off = 0;

	if (size >= OLD_HEADER && !memcmp(d, OLD_MAGIC, strlen(OLD_MAGIC))) {
		uint64_t nold = u32(d + 12);

		off = OLD_HEADER + nold * OLD_ENTRY;
		off = (off + 7) & ~(size_t)7;	/* __alignof__ (struct cache_file_new) */
	}
	if (off > size || size - off < NEW_HEADER || memcmp(d + off, NEW_MAGIC, strlen(NEW_MAGIC)))
		return -EINVAL;
	*base = off;
	return 0;
}

struct mo_ldcache *ldcache__open(const char *path)
{
	struct mo_ldcache *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	err = read_all(path, &c->data, &c->size);
	if (!err)
		err = find_new_header(c->data, c->size, &c->base);
	if (!err) {
		c->nlibs = u32(c->data + c->base + 20);
		if ((uint64_t)c->nlibs * NEW_ENTRY > c->size - c->base - NEW_HEADER)
			err = -EINVAL;
	}
	if (err) {
		ldcache__free(c);
		errno = -err;
		return NULL;
	}
	return c;
}

void ldcache__free(struct mo_ldcache *c)
{
	if (!c)
		return;
	free(c->data);
	free(c);
}

/* The string at offset off from the new header, NULL when it is not inside
 * the file or not terminated. */
static const char *string_at(const struct mo_ldcache *c, uint32_t off)
{
	size_t at = c->base + off;

	if (at >= c->size || !memchr(c->data + at, 0, c->size - at))
		return NULL;
	return c->data + at;
}

const char *ldcache__find(const struct mo_ldcache *c, const char *soname, size_t *iter)
{
	for (; *iter < c->nlibs; (*iter)++) {
		const char *e = c->data + c->base + NEW_HEADER + *iter * NEW_ENTRY;
		const char *key, *value;

		if ((u32(e) & FLAG_TYPE_MASK) != FLAG_ELF_LIBC6 || u64(e + 16))
			continue;
		key = string_at(c, u32(e + 4));
		value = string_at(c, u32(e + 8));
		if (key && value && !strcmp(key, soname)) {
			(*iter)++;
			return value;
		}
	}
	return NULL;
}
