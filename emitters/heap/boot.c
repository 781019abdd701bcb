// SPDX-License-Identifier: GPL-2.0
/* Finding the allocator calls are forwarded to, without recursion: dlsym
 * may itself allocate (glibc's dlerror buffers), and so may the dynamic
 * loader before this library's constructor runs. Calls made while the
 * resolution runs are served from a static arena, never freed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include "heap.h"

HIDDEN struct real_alloc real;

enum { UNRESOLVED, RESOLVING, RESOLVED };
static int state;
static char allocator[MO_PATH_LEN];
/* The allocator's code: a call from there is one of its own. */
static uintptr_t text_lo, text_hi;

#define ARENA_BYTES (256u << 10)
#define ARENA_HDR 16u		/* a block's size, just before it */
static char arena[ARENA_BYTES] __attribute__((aligned(4096)));
static size_t arena_used;

void *boot_alloc(size_t size, size_t align)
{
	size_t start, end, old = __atomic_load_n(&arena_used, __ATOMIC_RELAXED);

	if (align < ARENA_HDR)
		align = ARENA_HDR;
	if (size > ARENA_BYTES || align > 4096)
		return NULL;
	do {
		start = (old + ARENA_HDR + align - 1) & ~(align - 1);
		end = start + ((size + ARENA_HDR - 1) & ~(size_t)(ARENA_HDR - 1));
		if (end > ARENA_BYTES)
			return NULL;
	} while (!__atomic_compare_exchange_n(&arena_used, &old, end, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	*(size_t *)(arena + start - sizeof(size_t)) = size;
	return arena + start;	/* zeroed: the arena is never reused */
}

bool boot_owns(const void *p)
{
	return (const char *)p >= arena && (const char *)p < arena + ARENA_BYTES;
}

size_t boot_size(const void *p)
{
	return *(const size_t *)((const char *)p - sizeof(size_t));
}

const char *boot_allocator(void)
{
	return allocator;
}

bool boot_from_allocator(const void *ip)
{
	return (uintptr_t)ip >= text_lo && (uintptr_t)ip < text_hi;
}

/* dl_iterate_phdr: the executable segments of the object mapped at base
 * (arg: dladdr's dli_fbase, its lowest mapped address). */
static int find_text(struct dl_phdr_info *info, size_t size, void *base)
{
	uintptr_t start = UINTPTR_MAX;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD && info->dlpi_addr + info->dlpi_phdr[i].p_vaddr < start)
			start = info->dlpi_addr + (info->dlpi_phdr[i].p_vaddr & ~(uintptr_t)4095);
	if (start != (uintptr_t)base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (!text_hi || lo < text_lo)
			text_lo = lo;
		if (hi > text_hi)
			text_hi = hi;
	}
	return 1;
}

/* Is fn defined in the same file as malloc? An allocator that lacks it
 * (aligned_alloc in an old or minimal one) must not be paired with the
 * next library's (glibc's): a block of one freed by the other. */
static void *same_file(const char *name, const Dl_info *malloc_info)
{
	void *fn = dlsym(RTLD_NEXT, name);
	Dl_info info;

	if (!fn || !dladdr(fn, &info) || info.dli_fbase != malloc_info->dli_fbase)
		return NULL;
	return fn;
}

bool boot_resolve(void)
{
	int expect = UNRESOLVED;
	void *malloc_fn;
	Dl_info info;

	if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) == RESOLVED)
		return true;
	/* Another thread resolving, or this one inside dlsym: the arena. */
	if (!__atomic_compare_exchange_n(&state, &expect, RESOLVING, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	malloc_fn = dlsym(RTLD_NEXT, "malloc");
	real.free = dlsym(RTLD_NEXT, "free");
	if (!malloc_fn || !real.free || !dladdr(malloc_fn, &info)) {
		/* No allocator after this library: nothing can be served. */
		__atomic_store_n(&state, UNRESOLVED, __ATOMIC_RELEASE);
		return false;
	}
	if (info.dli_fname)
		strncpy(allocator, info.dli_fname, sizeof(allocator) - 1);
	real.calloc = same_file("calloc", &info);
	real.realloc = same_file("realloc", &info);
	real.posix_memalign = same_file("posix_memalign", &info);
	real.aligned_alloc = same_file("aligned_alloc", &info);
	real.memalign = same_file("memalign", &info);
	real.usable = same_file("malloc_usable_size", &info);
	dl_iterate_phdr(find_text, info.dli_fbase);
	__atomic_store_n(&real.malloc, malloc_fn, __ATOMIC_RELEASE);
	__atomic_store_n(&state, RESOLVED, __ATOMIC_RELEASE);
	return true;
}
