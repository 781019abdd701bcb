// SPDX-License-Identifier: GPL-2.0
/* The interposed malloc family: each call goes on to the allocator the
 * process would have called (boot.c) and is counted (count.c).
 * malloc_usable_size stays the allocator's. Nested calls cannot happen:
 * every function here calls only the allocator's own entry points, which do
 * not call back through the PLT (reallocarray, valloc and pvalloc are
 * built here on realloc and the aligned ones for that reason). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "heap.h"

#define EXPORT __attribute__((visibility("default")))

/* Inside a call of the allocator's (heap.h): what it calls back through
 * the PLT (musl's calloc calls malloc, its posix_memalign aligned_alloc)
 * is forwarded, not counted a second time. */
HIDDEN __thread unsigned in_real __attribute__((tls_model("initial-exec")));
#define REAL(call) ({ in_real++; __auto_type ret_ = (call); in_real--; ret_; })

/* real.malloc is set last (release): the others are set once it is. */
static inline bool ready(void)
{
	return likely(__atomic_load_n(&real.malloc, __ATOMIC_ACQUIRE)) || boot_resolve();
}

static inline void *alloc_plain(size_t size)
{
	return ready() ? REAL(real.malloc(size)) : boot_alloc(size, 16);
}

/* A new block, counted unless it is the arena's (the library's own start). */
static inline __attribute__((always_inline)) void *plain_counted(size_t size, struct caller c)
{
	void *p = alloc_plain(size);

	if (likely(p) && !boot_owns(p))
		count_alloc(p, size, c);
	return p;
}

EXPORT void *malloc(size_t size)
{
	return plain_counted(size, CALLER);
}

EXPORT void free(void *p)
{
	/* Not ready: not a block of the allocator's (ld.so's own, say). */
	if (!p || unlikely(boot_owns(p)) || !ready())
		return;
	count_free(p, __builtin_return_address(0));
	in_real++;
	real.free(p);
	in_real--;
}

EXPORT void *calloc(size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!ready())
		return boot_alloc(bytes, 16);	/* zeroed */
	if (real.calloc)
		p = REAL(real.calloc(n, size));
	else if ((p = REAL(real.malloc(bytes))))
		memset(p, 0, bytes);
	if (likely(p))
		count_alloc(p, bytes, CALLER);
	return p;
}

/* The allocator's aligned allocation, whichever of its entry points it has. */
static void *aligned(size_t align, size_t size)
{
	void *p = NULL;
	int err;

	if (real.aligned_alloc)
		return REAL(real.aligned_alloc(align, size));
	if (real.memalign)
		return REAL(real.memalign(align, size));
	if (!real.posix_memalign) {
		errno = ENOMEM;
		return NULL;
	}
	err = REAL(real.posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size));
	if (err)
		errno = err;
	return err ? NULL : p;
}

static void *realloc_at(void *old, size_t size, struct caller c)
{
	size_t keep;
	void *p;

	if (!old)
		return plain_counted(size, c);
	if (unlikely(boot_owns(old))) {
		/* Out of the arena (into the allocator once it is found): a new block. */
		if (!(p = plain_counted(size, c)))
			return NULL;
		keep = boot_size(old);
		memcpy(p, old, keep < size ? keep : size);
		return p;
	}
	/* Not the arena's, and the allocator not found yet: its size is
	 * unknown, so it cannot be copied. */
	if (!ready())
		return boot_alloc(size, 16);
	/* Counted before the allocator may hand old out again. */
	count_free(old, c.ip);
	if (real.realloc)
		p = REAL(real.realloc(old, size));
	else if ((p = REAL(real.malloc(size))) && real.usable) {
		keep = real.usable(old);
		memcpy(p, old, keep < size ? keep : size);
		in_real++;
		real.free(old);
		in_real--;
	}
	/* realloc(p, 0) frees p and may return NULL (glibc) or a new block;
	 * a failed realloc keeps old, counted as freed: left out of live. */
	if (p)
		count_alloc(p, size, c);
	return p;
}

EXPORT void *realloc(void *old, size_t size)
{
	return realloc_at(old, size, CALLER);
}

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc_at(old, bytes, CALLER);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	int err;

	if (!ready()) {
		*out = boot_alloc(size, align);
		return *out ? 0 : ENOMEM;
	}
	if (real.posix_memalign)
		err = REAL(real.posix_memalign(out, align, size));
	else if (!(*out = aligned(align, size)))
		err = errno;
	else
		err = 0;
	if (!err)
		count_alloc(*out, size, CALLER);
	return err;
}

/* size bytes aligned by fn (NULL: whichever the allocator has), counted as
 * requested bytes. */
static void *aligned_counted(size_t align, size_t size, size_t requested, void *(*fn)(size_t, size_t),
			     struct caller c)
{
	void *p;

	if (!ready())
		return boot_alloc(size, align);
	p = fn ? REAL(fn(align, size)) : aligned(align, size);
	if (likely(p))
		count_alloc(p, requested, c);
	return p;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	return aligned_counted(align, size, size, ready() ? real.aligned_alloc : NULL, CALLER);
}

EXPORT void *memalign(size_t align, size_t size)
{
	return aligned_counted(align, size, size, ready() ? real.memalign : NULL, CALLER);
}

EXPORT void *valloc(size_t size)
{
	return aligned_counted(sysconf(_SC_PAGESIZE), size, size, NULL, CALLER);
}

/* valloc with the size rounded up to whole pages (0: one page). */
EXPORT void *pvalloc(size_t size)
{
	size_t page = sysconf(_SC_PAGESIZE), bytes = size ? (size + page - 1) & ~(page - 1) : page;

	if (bytes < size) {
		errno = ENOMEM;
		return NULL;
	}
	return aligned_counted(page, bytes, size, NULL, CALLER);
}
