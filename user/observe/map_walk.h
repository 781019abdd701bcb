/* SPDX-License-Identifier: GPL-2.0 */
/* Walking and pruning BPF hash maps from user space, in batches. */
#ifndef MO_MAP_WALK_H
#define MO_MAP_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Delete the n keys (key_size bytes each) at keys from the map at fd. */
void map_delete_keys(int fd, const char *keys, __u32 n, size_t key_size);

/* Visit every entry of the hash map at fd; the entries visit returns true
 * for are deleted after the walk. An entry BPF adds or deletes meanwhile
 * may be missed or visited, as with any walk of a live map. */
void map_each_entry(int fd, size_t key_size, size_t value_size,
		    bool (*visit)(void *ctx, const void *key, const void *value), void *ctx);

#endif
