/* SPDX-License-Identifier: GPL-2.0 */
/* A BPF object loaded beside the session's main one (libbpf loads an object
 * once, so programs loaded later, or apart, are objects of their own): it
 * shares the main object's maps and globals instead of making its own. */
#ifndef MO_SHARED_MAPS_H
#define MO_SHARED_MAPS_H

struct bpf_object;

/* Before obj is loaded: each of its maps that owner (loaded) has, by name,
 * and its .bss and .data sections (named after each object), becomes
 * owner's. Its .rodata stays its own (its layout is the object's: the
 * caller copies the configuration into it). 0, or -errno (-EINVAL: a map
 * of the same name whose values differ in size). */
int shared_maps_reuse(struct bpf_object *obj, const struct bpf_object *owner);

#endif
