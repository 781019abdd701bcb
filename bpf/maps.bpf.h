/* SPDX-License-Identifier: GPL-2.0 */
/* Maps and globals shared by every BPF program of memobs. Defined once, in
 * maps.bpf.c; every other file sees them as externs that the static linker
 * (bpftool gen object) resolves into one skeleton. */
#ifndef MO_MAPS_BPF_H
#define MO_MAPS_BPF_H

#include "memobs_abi.h"

#ifdef MO_DEFINE_MAPS
#define MO_SHARED
#else
#define MO_SHARED extern
#endif

MO_SHARED const volatile struct mo_config mo_cfg;
MO_SHARED struct mo_state mo_sess;
/* The session's heap header: a map of its own, which every process of an
 * in-process --heap session maps (memobs_abi.h, struct mo_heap_shared). */
MO_SHARED struct mo_heap_shared mo_heap SEC(".data.heap");

MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MO_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct mo_proc);
} mo_procs SEC(".maps");

/* An mm (its address) to the process seen using it: RSS changes that are
 * not current's (reclaim, fork copy, teardown) name only the mm. */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MO_MAX_PROCS);
	__type(key, __u64);
	__type(value, __u32);
} mo_mm_owner SEC(".maps");

MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MO_MAX_PSTATS);
	__type(key, struct mo_pstat_key);
	__type(value, struct mo_pstat);
} mo_pstats SEC(".maps");

MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MO_MAX_PHASES);
	__type(key, __u32);
	__type(value, struct mo_phase);
} mo_phases SEC(".maps");

/* Outstanding heap blocks: allocated as blocks are tracked (~100 bytes of
 * kernel memory each), not max_entries of them at load (112 MiB by default). */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MO_MAX_ALLOCS);
	__type(key, struct mo_alloc_key);
	__type(value, struct mo_alloc);
} mo_allocs SEC(".maps");

/* What the -p gate knows of each executable's content (enum mo_exe_state). */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MO_MAX_EXES);
	__type(key, struct mo_exe_key);
	__type(value, __u32);
} mo_exes SEC(".maps");

/* Processes the -p gates of the host stopped (struct mo_hold); user space
 * gives every instance the same, pinned map. */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MO_MAX_HOLDS);
	__type(key, __u32);
	__type(value, struct mo_hold);
} mo_holds SEC(".maps");

/* User stacks as (build id, file offset) frames: the same code gives the same
 * stack in every process, and it can be symbolized after the process is gone. */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MO_MAX_STACKS);
	__type(key, __u64);
	__type(value, struct mo_stack);
} mo_stacks SEC(".maps");

/* Where a stack is taken before it is known to be new (too big for the BPF stack). */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mo_stack);
} mo_stack_buf SEC(".maps");

MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MO_MAX_SITES);
	__type(key, struct mo_site_key);
	__type(value, struct mo_site);
} mo_sites SEC(".maps");

/* Unwind tables (issue 16): per file, its build id and row count, set by
 * user space when it loaded the rows into mo_unwind_tables; BPF inserts a
 * file not ready yet when it first meets it, to ask for it once. */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MO_MAX_UNWIND_FILES);
	__type(key, struct mo_file_key);
	__type(value, struct mo_unwind_file);
} mo_unwind_files SEC(".maps");

/* Each file's rows (struct mo_unwind_row, 8 bytes: declared as __u64, as
 * the static linker cannot size a struct in an extern inner map), an
 * array of its exact size (BPF_F_INNER_MAP), written by user space through
 * mmap (BPF_F_MMAPABLE). */
_Static_assert(sizeof(struct mo_unwind_row) == sizeof(__u64), "unwind rows are 8 bytes");
struct mo_unwind_rows {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, MO_MAX_UNWIND_FILES);
	__type(key, struct mo_file_key);
	__array(values, struct mo_unwind_rows);
} mo_unwind_tables SEC(".maps");

/* Python code objects met in samples, by (address, process). */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MO_MAX_PYCODES);
	__type(key, struct mo_pycode_key);
	__type(value, struct mo_pycode);
} mo_pycode SEC(".maps");

/* Where a code object's record is read before it is stored (too big for the BPF stack). */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mo_pycode);
} mo_pycode_buf SEC(".maps");

/* The programs sites belong to (struct mo_prog). */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MO_MAX_PROGS);
	__type(key, __u32);
	__type(value, struct mo_prog);
} mo_progs SEC(".maps");

MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MO_MAX_SITE_DELTAS);
	__type(key, struct mo_site_delta_key);
	__type(value, __s64);
} mo_site_deltas SEC(".maps");

/* In-process heap counting: each process's slot, a one-page array of its
 * own (BPF_F_MMAPABLE, which the process maps), in a pool of slots by index
 * (observe/heapslots.h), found by tgid through mo_heap_slot_of. Its value is
 * a struct mo_heap_slot, given by size: the static linker cannot size a
 * struct in an extern inner map; so is its key (a key with a BTF type and a
 * value without one is refused by the kernel, and libbpf retries without). */
struct mo_heap_slot_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MO_HEAP_PAGE);
};

MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MO_MAX_PROCS);
	__type(key, __u32);
	__array(values, struct mo_heap_slot_map);
} mo_heap_slots SEC(".maps");

/* tgid -> its slot's index in mo_heap_slots (set by user space). */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MO_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u32);
} mo_heap_slot_of SEC(".maps");

/* -a --comm: the names to observe (NUL-padded comms); sized by the loader. */
MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, char[MO_COMM_LEN]);
	__type(value, __u8);
} mo_comm_filter SEC(".maps");

MO_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MO_RINGBUF_BYTES);
} mo_events SEC(".maps");

#endif
