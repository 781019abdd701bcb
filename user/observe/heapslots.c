// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lib/grow.h"
#include "observe/heapslots.h"

/* Slots made at once: one grace period for these many processes. */
#define BATCH 64

struct slot {
	int fd;
	struct mo_heap_slot *page;
};

/* Indexes of slots, a list that grows. */
struct ids {
	__u32 *v;
	size_t n, alloc;
};

struct mo_heap_slots {
	int outer_fd, index_fd;
	size_t capacity;
	struct slot *slots;
	size_t nslots, slots_alloc;
	struct ids free, cooling, cooled;	/* free now; put this tick; put the tick before */
};

struct mo_heap_slots *heapslots__new(int outer_fd, int index_fd, size_t capacity)
{
	struct mo_heap_slots *hs = calloc(1, sizeof(*hs));

	if (!hs)
		return NULL;
	hs->outer_fd = outer_fd;
	hs->index_fd = index_fd;
	hs->capacity = capacity;
	return hs;
}

void heapslots__free(struct mo_heap_slots *hs)
{
	if (!hs)
		return;
	for (size_t i = 0; i < hs->nslots; i++) {
		munmap(hs->slots[i].page, MO_HEAP_PAGE);
		close(hs->slots[i].fd);
	}
	free(hs->slots);
	free(hs->free.v);
	free(hs->cooling.v);
	free(hs->cooled.v);
	free(hs);
}

static int push(struct ids *ids, __u32 id)
{
	if (GROW(ids->v, ids->n + 1, ids->alloc))
		return -ENOMEM;
	ids->v[ids->n++] = id;
	return 0;
}

/* One new slot map, mapped here, at the end of hs->slots (not counted yet). */
static int make_slot(struct mo_heap_slots *hs, size_t at)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	struct slot *s = &hs->slots[at];

	s->fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mo_heap_slot", sizeof(__u32), MO_HEAP_PAGE, 1, &opts);
	if (s->fd < 0)
		return -errno;
	s->page = mmap(NULL, MO_HEAP_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->page == MAP_FAILED) {
		int err = -errno;

		close(s->fd);
		return err;
	}
	return 0;
}

/* Up to BATCH more slots, put into the outer map with one batch. */
static int grow_pool(struct mo_heap_slots *hs)
{
	size_t want = hs->capacity - hs->nslots < BATCH ? hs->capacity - hs->nslots : BATCH, made = 0;
	__u32 keys[BATCH], count;
	int fds[BATCH], err = 0;

	if (!want)
		return -ENOSPC;
	if (GROW(hs->slots, hs->nslots + want, hs->slots_alloc) || GROW(hs->free.v, hs->free.n + want, hs->free.alloc))
		return -ENOMEM;
	while (made < want && !(err = make_slot(hs, hs->nslots + made))) {
		keys[made] = hs->nslots + made;
		fds[made] = hs->slots[hs->nslots + made].fd;
		made++;
	}
	count = made;
	if (made && bpf_map_update_batch(hs->outer_fd, keys, fds, &count, NULL))
		err = -errno;
	/* Those the batch put in are the pool's; the others are given back. */
	for (size_t i = count; i < made; i++) {
		munmap(hs->slots[hs->nslots + i].page, MO_HEAP_PAGE);
		close(hs->slots[hs->nslots + i].fd);
	}
	for (size_t i = 0; i < count; i++)
		push(&hs->free, hs->nslots + i);
	hs->nslots += count;
	return count ? 0 : err ?: -ENOMEM;
}

int heapslots__take(struct mo_heap_slots *hs, pid_t tgid)
{
	__u32 key = tgid, idx;
	int err;

	if (!hs->free.n && (err = grow_pool(hs)))
		return err;
	idx = hs->free.v[--hs->free.n];
	memset(hs->slots[idx].page, 0, MO_HEAP_PAGE);
	if (bpf_map_update_elem(hs->index_fd, &key, &idx, BPF_ANY)) {
		err = -errno;
		hs->free.n++;
		return err;
	}
	return idx;
}

struct mo_heap_slot *heapslots__page(struct mo_heap_slots *hs, int idx)
{
	return hs->slots[idx].page;
}

int heapslots__fd(struct mo_heap_slots *hs, int idx)
{
	return hs->slots[idx].fd;
}

void heapslots__put(struct mo_heap_slots *hs, int idx, pid_t tgid)
{
	__u32 key = tgid, now;

	if (!bpf_map_lookup_elem(hs->index_fd, &key, &now) && now == (__u32)idx)
		bpf_map_delete_elem(hs->index_fd, &key);
	/* Not reused when this fails: the pool makes another. */
	push(&hs->cooling, idx);
}

void heapslots__tick(struct mo_heap_slots *hs)
{
	struct ids t;

	for (size_t i = 0; i < hs->cooled.n; i++)
		push(&hs->free, hs->cooled.v[i]);
	hs->cooled.n = 0;
	t = hs->cooled;
	hs->cooled = hs->cooling;
	hs->cooling = t;
}
