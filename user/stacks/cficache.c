// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "lib/cachedir.h"
#include "lib/outfile.h"
#include "stacks/cficache.h"

#define ENTRY_FORMAT "v2"	/* in each entry's name: another layout gets another name */
#define MAGIC "memobs-cfi-" ENTRY_FORMAT

struct mo_cficache {
	struct mo_cachedir dir;
	pthread_mutex_t lock;	/* error */
	char error[256];
};

struct entry_header {
	char magic[16];
	unsigned char build_id[20];	/* as mo_cfi_table's */
	uint32_t row_size;
	uint64_t file_size;
	uint64_t file_mtime_ns;	/* a file rebuilt in place with its build id kept (a fixed --build-id) */
	uint64_t nrows;
};

struct mo_cficache *cficache__open(char *err, size_t errlen)
{
	struct mo_cficache *c = calloc(1, sizeof(*c));

	*err = 0;
	if (!c) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	if (cachedir_open(&c->dir, MO_CFICACHE_DIR, err, errlen)) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void cficache__free(struct mo_cficache *c)
{
	if (!c)
		return;
	cachedir_close(&c->dir);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *cficache__error(struct mo_cficache *c)
{
	return c->error;
}

/* The entry's name and the build id in the table's form (20 bytes,
 * zero-padded); false for an id that is not one. */
static bool entry_id(const char *id_hex, char *name, size_t namelen, unsigned char id[20])
{
	size_t len = strlen(id_hex);

	memset(id, 0, 20);
	if (!len || len % 2 || len > 40 || strspn(id_hex, "0123456789abcdef") != len)
		return false;
	for (size_t i = 0; i < len / 2; i++)
		sscanf(id_hex + 2 * i, "%2hhx", &id[i]);
	return snprintf(name, namelen, "%s." ENTRY_FORMAT ".cfi", id_hex) < (int)namelen;
}

static bool read_all(int fd, void *buf, size_t len, off_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + done);

		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

/* Rows BPF can search and evaluate: offsets increasing, known rules. */
static bool rows_valid(const struct mo_unwind_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].cfa > MO_CFA_FP || (i && rows[i - 1].offset >= rows[i].offset))
			return false;
	return true;
}

/* The entry mapped as out's rows: read from the page cache in place,
 * neither copied nor given pages of their own. */
static bool read_entry(int fd, const unsigned char id[20], uint64_t file_size, uint64_t mtime_ns,
		       struct mo_cfi_table *out)
{
	struct entry_header h;
	struct stat st;

	if (fstat(fd, &st) || !read_all(fd, &h, sizeof(h), 0) || memcmp(h.magic, MAGIC, sizeof(MAGIC)) ||
	    memcmp(h.build_id, id, sizeof(h.build_id)) || h.row_size != sizeof(*out->rows) ||
	    h.file_size != file_size || h.file_mtime_ns != mtime_ns || h.nrows > (uint64_t)st.st_size / sizeof(*out->rows) ||
	    (uint64_t)st.st_size != sizeof(h) + h.nrows * sizeof(*out->rows))
		return false;
	out->map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (out->map == MAP_FAILED) {
		out->map = NULL;
		return false;
	}
	out->map_len = st.st_size;
	out->rows = (struct mo_unwind_row *)((char *)out->map + sizeof(h));
	out->nrows = h.nrows;
	memcpy(out->build_id, h.build_id, sizeof(out->build_id));
	if (rows_valid(out->rows, out->nrows))
		return true;
	cfi_table_free(out);
	return false;
}

int cficache__find(struct mo_cficache *c, const char *id_hex, uint64_t file_size, uint64_t mtime_ns,
		   struct mo_cfi_table *out)
{
	unsigned char id[20];
	char name[64];
	int fd;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!entry_id(id_hex, name, sizeof(name), id) || (fd = cachedir_read(&c->dir, name)) < 0)
		return -ENOENT;
	ok = read_entry(fd, id, file_size, mtime_ns, out);
	close(fd);
	if (!ok) {
		/* Truncated, damaged or of another file: made again. */
		cachedir_remove(&c->dir, name);
		return -ENOENT;
	}
	return 0;
}

int cficache__add(struct mo_cficache *c, const char *id_hex, uint64_t file_size, uint64_t mtime_ns,
		  const struct mo_cfi_table *t)
{
	struct entry_header h = { .magic = MAGIC, .row_size = sizeof(*t->rows), .file_size = file_size,
				  .file_mtime_ns = mtime_ns, .nrows = t->nrows };
	char name[64], tmp[MO_CACHE_TMP_LEN];
	int fd, ret;

	if (!entry_id(id_hex, name, sizeof(name), h.build_id))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	ret = c->error[0] ? -EIO : 0;
	pthread_mutex_unlock(&c->lock);
	if (ret)
		return ret;
	fd = cachedir_begin(&c->dir, tmp);
	if (fd < 0) {
		ret = fd;
	} else if ((ret = outfile_write_all(fd, &h, sizeof(h)) ?:
			  outfile_write_all(fd, t->rows, t->nrows * sizeof(*t->rows)))) {
		cachedir_abort(&c->dir, fd, tmp);
	} else {
		ret = cachedir_commit(&c->dir, fd, tmp, name);
	}
	if (ret) {
		pthread_mutex_lock(&c->lock);
		if (!c->error[0])
			snprintf(c->error, sizeof(c->error), "%s: %s", c->dir.path, strerror(-ret));
		pthread_mutex_unlock(&c->lock);
	}
	return ret;
}
