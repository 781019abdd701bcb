/* SPDX-License-Identifier: GPL-2.0 */
/* libmemobs-heap.so, preloaded by `memobs --heap -- CMD` (README, "Heap"):
 * the malloc family interposed and forwarded to whatever the process would
 * have called, each call counted in memory shared with memobs and BPF.
 *
 * What may run where: any function here may run inside the allocator's
 * caller at any point, in a signal handler, in a child of fork/_Fork/clone
 * before anything else: no lock, no allocation, only system calls that are
 * async-signal-safe. A counter has one writer (its thread) and is changed
 * by single instructions, so a signal handler that allocates on the same
 * thread loses nothing. */
#ifndef MO_HEAP_LIB_H
#define MO_HEAP_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "memobs_abi.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The functions calls are forwarded to (dlsym RTLD_NEXT), and the
 * allocator's malloc_usable_size. */
struct real_alloc {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void (*free)(void *);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	size_t (*usable)(void *);	/* NULL: none of the same allocator */
};

HIDDEN extern struct real_alloc real;

/* Resolve real (once). False while it cannot be yet: the caller is the
 * resolution itself (dlsym allocating), so boot_alloc serves it. */
HIDDEN bool boot_resolve(void);
/* Memory for calls made before real is known, never given back. */
HIDDEN void *boot_alloc(size_t size, size_t align);
HIDDEN bool boot_owns(const void *p);
/* Usable bytes of a boot_alloc block. */
HIDDEN size_t boot_size(const void *p);
/* The file real.malloc lives in ("" unknown). */
HIDDEN const char *boot_allocator(void);
/* Is ip in that file's code (a call the allocator makes itself)? */
HIDDEN bool boot_from_allocator(const void *ip);

/* Where the stack of a sampled call is walked from: the registers of the
 * allocator's caller at its return (the interposed function's frame). */
struct caller {
	void *ip;
	void *frame;		/* the interposed function's frame pointer */
};

#define CALLER ((struct caller){ __builtin_return_address(0), __builtin_frame_address(0) })

/* Non-zero inside a call of the allocator's (preload.c). A call made then
 * from the allocator's own code (musl's calloc calls malloc) is part of the
 * outer one and not counted; one from anywhere else (a signal handler,
 * with an allocator that allows it) is. */
HIDDEN extern __thread unsigned in_real __attribute__((tls_model("initial-exec")));

/* Count an allocation of size requested bytes at p, a free of p (before
 * the allocator may hand p out again). */
HIDDEN void count_alloc(void *p, size_t size, struct caller c);
HIDDEN void count_free(void *p, const void *ip);

/* The process's state, in a page of its own that a fork gives the child
 * zeroed (MADV_WIPEONFORK): a child that no atfork handler told (_Fork,
 * clone) still never writes into its parent's slot. */
enum proc_mode {
	MODE_NONE,		/* fresh, or a fork child: no handshake yet */
	MODE_STARTING,		/* a thread is in the handshake */
	MODE_ACTIVE,		/* counting into the slot */
	MODE_INERT,		/* no memobs, or refused: forwarding only */
};

struct proc_state {
	__u64 epoch;		/* a thread whose cached epoch differs looks again */
	__u32 mode;		/* enum proc_mode */
	__u32 pad;
	struct mo_heap_shared *hdr;
	struct mo_heap_slot *slot;
	__u64 sample_bytes;
	__u8 pad2[64 - 40];
	struct mo_heap_row pre;	/* calls before the handshake (atomic) */
};

/* The page (NULL until the first call needs it). */
HIDDEN extern struct proc_state *proc;
HIDDEN struct proc_state *proc_page(void);
/* The part of that page after struct proc_state, for sampled.c. */
HIDDEN void *proc_spare(size_t *len);

/* The handshake with memobs (slot.c): at load, in a fork child, or on the
 * first call of a child that no atfork handler told. Leaves proc->mode
 * ACTIVE or INERT (or NONE before the constructor read the environment). */
HIDDEN void slot_start(void);
/* Ask BPF for the process's phase now (memobs_heap:sync). */
HIDDEN void slot_sync(void);
/* Move what the thread has not flushed yet into the shared counters; the
 * calls of a thread that ended into a shared row from now on. */
HIDDEN void count_flush(void);
HIDDEN void count_thread_end(void);
/* The forking thread's unflushed live bytes, taken (fork prepare). */
HIDDEN __s64 count_take_pending(void);
/* Right after the handshake: the counts made before it (pre) into the
 * calling thread's row, and the live bytes inherited into the shared
 * counters. */
HIDDEN void count_adopt(struct mo_heap_row *pre, __s64 inherited);
/* Have count_thread_end called when the calling thread exits. */
HIDDEN void slot_watch_thread(void);

/* Sampled blocks (sampled.c): remember p (false: no room, its free will
 * not be reported); forget p (true: it was sampled). */
HIDDEN bool sampled_add(void *p);
HIDDEN bool sampled_take(void *p);

#endif
