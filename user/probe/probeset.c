// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "probe/probeset.h"

#define TAG_LEN 16

struct entry {
	struct entry *next;
	struct mo_file_id id;
	char tag[TAG_LEN];
	/* the user's value follows, max_align_t-aligned */
	_Alignas(max_align_t) unsigned char value[];
};

struct mo_probeset {
	struct entry **buckets;
	size_t nbuckets;	/* a power of two */
	size_t count;
	size_t value_size;
};

void file_id_from_stat(const struct stat *st, struct mo_file_id *id)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
	id->size = st->st_size;
}

int file_id_of(const char *path, struct mo_file_id *id)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	file_id_from_stat(&st, id);
	return 0;
}

bool file_id_same_file(const struct mo_file_id *a, const struct mo_file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

bool file_id_same_content(const struct mo_file_id *a, const struct mo_file_id *b)
{
	return file_id_same_file(a, b) && a->ctime_ns == b->ctime_ns && a->size == b->size;
}

bool file_id_same_path(const char *a, const char *b)
{
	struct stat x, y;

	return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static size_t bucket_of(const struct mo_probeset *ps, const struct mo_file_id *id)
{
	uint64_t h = (id->dev * 0x9e3779b97f4a7c15ull) ^ (id->ino * 0xc2b2ae3d27d4eb4full);

	return (h ^ (h >> 29)) & (ps->nbuckets - 1);
}

struct mo_probeset *probeset__new(size_t value_size)
{
	struct mo_probeset *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->nbuckets = 64;
	ps->value_size = value_size;
	ps->buckets = calloc(ps->nbuckets, sizeof(*ps->buckets));
	if (!ps->buckets) {
		free(ps);
		return NULL;
	}
	return ps;
}

void probeset__free(struct mo_probeset *ps, void (*release)(void *value, void *ctx), void *ctx)
{
	if (!ps)
		return;
	for (size_t b = 0; b < ps->nbuckets; b++)
		for (struct entry *e = ps->buckets[b], *next; e; e = next) {
			next = e->next;
			if (release)
				release(e->value, ctx);
			free(e);
		}
	free(ps->buckets);
	free(ps);
}

static struct entry **slot_of(struct mo_probeset *ps, const struct mo_file_id *id, const char *tag)
{
	struct entry **p = &ps->buckets[bucket_of(ps, id)];

	for (; *p; p = &(*p)->next)
		if (file_id_same_file(&(*p)->id, id) && !strncmp((*p)->tag, tag, TAG_LEN))
			return p;
	return p;
}

void *probeset__find(struct mo_probeset *ps, const struct mo_file_id *id, const char *tag,
		     struct mo_file_id *known)
{
	struct entry *e = *slot_of(ps, id, tag);

	if (!e)
		return NULL;
	if (known)
		*known = e->id;
	return e->value;
}

void *probeset__get(struct mo_probeset *ps, const struct mo_file_id *id, const char *tag)
{
	struct entry *e = *slot_of(ps, id, tag);

	return e && file_id_same_content(&e->id, id) ? e->value : NULL;
}

/* Twice the buckets once entries outnumber them. */
static void grow(struct mo_probeset *ps)
{
	size_t old = ps->nbuckets;
	struct entry **was = ps->buckets, **now = calloc(2 * old, sizeof(*now));

	if (!now)
		return;	/* longer chains, still correct */
	ps->buckets = now;
	ps->nbuckets = 2 * old;
	for (size_t b = 0; b < old; b++)
		for (struct entry *e = was[b], *next; e; e = next) {
			size_t k = bucket_of(ps, &e->id);

			next = e->next;
			e->next = now[k];
			now[k] = e;
		}
	free(was);
}

void *probeset__add(struct mo_probeset *ps, const struct mo_file_id *id, const char *tag)
{
	struct entry **p, *e;

	if (ps->count >= ps->nbuckets)
		grow(ps);
	p = slot_of(ps, id, tag);
	if (*p) {
		(*p)->id = *id;
		memset((*p)->value, 0, ps->value_size);
		return (*p)->value;
	}
	e = calloc(1, sizeof(*e) + ps->value_size);
	if (!e)
		return NULL;
	e->id = *id;
	strncpy(e->tag, tag, TAG_LEN - 1);
	*p = e;
	ps->count++;
	return e->value;
}

void probeset__remove(struct mo_probeset *ps, const struct mo_file_id *id, const char *tag)
{
	struct entry **p = slot_of(ps, id, tag), *e = *p;

	if (!e)
		return;
	*p = e->next;
	free(e);
	ps->count--;
}

size_t probeset__count(const struct mo_probeset *ps)
{
	return ps->count;
}

void probeset__each(struct mo_probeset *ps,
		    void (*fn)(void *value, const struct mo_file_id *id, const char *tag, void *ctx), void *ctx)
{
	for (size_t b = 0; b < ps->nbuckets; b++)
		for (struct entry *e = ps->buckets[b]; e; e = e->next)
			fn(e->value, &e->id, e->tag, ctx);
}
