// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "probe/shared_maps.h"

/* libbpf names a section's map after its object (memobs_bpf.bss) unless
 * the section's name has a dot of its own (.data.heap): the section
 * names it across objects. */
static const char *section_of(const struct bpf_map *map)
{
	const char *dot = strchr(bpf_map__name(map), '.');

	return bpf_map__is_internal(map) && dot ? dot : NULL;
}

static const struct bpf_map *owner_map(const struct bpf_object *owner, const struct bpf_map *map)
{
	const char *section = section_of(map);
	const struct bpf_map *m;

	if (!section)
		return bpf_object__find_map_by_name(owner, bpf_map__name(map));
	bpf_object__for_each_map(m, owner) {
		const char *s = section_of(m);

		if (s && !strcmp(s, section))
			return m;
	}
	return NULL;
}

int shared_maps_reuse(struct bpf_object *obj, const struct bpf_object *owner)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		const char *section = section_of(map);
		const struct bpf_map *from;
		int err;

		if (section && !strncmp(section, ".rodata", 7))
			continue;
		from = owner_map(owner, map);
		if (!from)
			continue;
		if (bpf_map__value_size(from) != bpf_map__value_size(map))
			return -EINVAL;
		err = bpf_map__reuse_fd(map, bpf_map__fd(from));
		if (err)
			return err;
	}
	return 0;
}
