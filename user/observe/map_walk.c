// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/grow.h"
#include "observe/map_walk.h"

#define BATCH_ENTRIES 256

struct batch_buf {
	char *keys, *values;
	size_t keys_alloc, values_alloc;
};

/* Room for cap entries. */
static int batch_reserve(struct batch_buf *b, __u32 cap, size_t key_size, size_t value_size)
{
	if (grow_array(&b->keys, cap, &b->keys_alloc, key_size) ||
	    grow_array(&b->values, cap, &b->values_alloc, value_size))
		return -ENOMEM;
	return 0;
}

/* Delete keys in as few syscalls as may be: a delete batch stops at a key
 * that is gone already (BPF deleted it meanwhile); go on after it. */
void map_delete_keys(int fd, const char *keys, __u32 n, size_t key_size)
{
	while (n) {
		__u32 done = n;

		if (!bpf_map_delete_batch(fd, keys, &done, NULL) || done >= n)
			return;
		keys += (size_t)(done + 1) * key_size;
		n -= done + 1;
	}
}

/* Visit every entry of a hash map, read in batches (a syscall per
 * BATCH_ENTRIES entries, not two per key), then delete in one batch the
 * entries fn accepts. An entry BPF adds or deletes meanwhile may be missed
 * or visited, as with any walk of a live map. */
void map_each_entry(int fd, size_t key_size, size_t value_size,
		       bool (*visit)(void *ctx, const void *key, const void *value), void *ctx)
{
	struct batch_buf buf = {};
	char *del = NULL;
	size_t ndel = 0, cap_del = 0;
	__u32 want = BATCH_ENTRIES;
	__u64 token;
	bool first = true, last = false;

	while (!last && !batch_reserve(&buf, want, key_size, value_size)) {
		__u32 count = want;

		if (bpf_map_lookup_batch(fd, first ? NULL : &token, &token, buf.keys, buf.values, &count, NULL)) {
			if (errno == ENOSPC && !count) {	/* one bucket holds more than want */
				want *= 2;
				continue;
			}
			if (errno != ENOENT)
				break;
			last = true;
		}
		first = false;
		for (__u32 i = 0; i < count; i++) {
			const char *key = buf.keys + i * key_size;

			if (!visit(ctx, key, buf.values + i * value_size))
				continue;
			if (grow_array(&del, ndel + 1, &cap_del, key_size))
				continue;
			memcpy(del + ndel++ * key_size, key, key_size);
		}
	}
	map_delete_keys(fd, del, ndel, key_size);
	free(buf.keys);
	free(buf.values);
	free(del);
}
