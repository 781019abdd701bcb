// SPDX-License-Identifier: GPL-2.0
/* The handshake with memobs: connect to its abstract unix socket (named in
 * MEMOBS_HEAP_SOCK), say what this process inherited, receive the session's
 * header and the process's slot (two map fds, SCM_RIGHTS), map one page of
 * each and close the fds, so that a program closing every fd changes
 * nothing. Done at load, in a fork child (atfork, or on its first call when
 * it was made by _Fork or clone), never again in the same program. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sdt.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "heap.h"

HIDDEN struct proc_state *proc;

static char sock_name[sizeof(((struct sockaddr_un *)0)->sun_path) - 1];
static bool env_read;		/* the constructor ran: sock_name is known */
static __u64 epoch_seq;
/* Mappings, in memory a fork copies: the child reuses the header and
 * unmaps its parent's slot. */
static struct mo_heap_shared *hdr_map;
static struct mo_heap_slot *slot_map;
static __s64 fork_live;		/* the parent's live bytes at the fork (prepare) */
static bool fork_live_set;
static pthread_key_t thread_key;
static bool key_ok;

#define HANDSHAKE_TIMEOUT_S 2

struct proc_state *proc_page(void)
{
	struct proc_state *expect = NULL;
	void *page = mmap(NULL, MO_HEAP_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED)
		return NULL;
	/* Without it (before Linux 4.14) only fork's atfork handler resets it. */
	madvise(page, MO_HEAP_PAGE, MADV_WIPEONFORK);
	if (!__atomic_compare_exchange_n(&proc, &expect, page, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(page, MO_HEAP_PAGE);
		return expect;
	}
	return page;
}

void *proc_spare(size_t *len)
{
	*len = MO_HEAP_PAGE - sizeof(struct proc_state);
	return proc ? (char *)proc + sizeof(struct proc_state) : NULL;
}

void slot_sync(void)
{
	STAP_PROBE(memobs_heap, sync);
}

/* The answer and up to two fds; 0 on a well-formed answer. */
static int ask(struct mo_heap_hello *hello, struct mo_heap_welcome *welcome, int fds[2])
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = HANDSHAKE_TIMEOUT_S };
	char control[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { welcome, sizeof(*welcome) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			      .msg_controllen = sizeof(control) };
	size_t len = strlen(sock_name);
	struct cmsghdr *c;
	int fd, ret = -1;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memcpy(addr.sun_path + 1, sock_name, len);	/* abstract: a leading NUL */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, offsetof(struct sockaddr_un, sun_path) + 1 + len) ||
	    send(fd, hello, sizeof(*hello), MSG_NOSIGNAL) != sizeof(*hello) ||
	    recvmsg(fd, &msg, MSG_CMSG_CLOEXEC) != sizeof(*welcome))
		goto out;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			memcpy(fds, CMSG_DATA(c), 2 * sizeof(int));
	ret = welcome->magic == MO_HEAP_MAGIC ? 0 : -1;
out:
	close(fd);
	return ret;
}

static void *map_page(int fd)
{
	void *p = fd >= 0 ? mmap(NULL, MO_HEAP_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;

	return p == MAP_FAILED ? NULL : p;
}

/* Map what memobs sent; false when it cannot be used. */
static bool take_pages(struct proc_state *ps, const int fds[2])
{
	struct mo_heap_shared *hdr = hdr_map ? hdr_map : map_page(fds[0]);
	struct mo_heap_slot *slot = map_page(fds[1]);

	if (!hdr || !slot || hdr->magic != MO_HEAP_MAGIC || hdr->version != MO_HEAP_VERSION ||
	    slot->magic != MO_HEAP_MAGIC) {
		if (slot)
			munmap(slot, MO_HEAP_PAGE);
		return false;
	}
	hdr_map = hdr;
	slot_map = slot;
	ps->hdr = hdr;
	ps->slot = slot;
	ps->sample_bytes = hdr->sample_bytes;
	return true;
}

static void finish(struct proc_state *ps, enum proc_mode mode)
{
	ps->epoch = ++epoch_seq;
	__atomic_store_n(&ps->mode, mode, __ATOMIC_RELEASE);
}

void slot_start(void)
{
	struct proc_state *ps = proc ? proc : proc_page();
	struct mo_heap_hello hello = { .magic = MO_HEAP_MAGIC, .version = MO_HEAP_VERSION };
	struct mo_heap_welcome welcome = { 0 };
	__u32 none = MODE_NONE;
	int fds[2] = { -1, -1 };
	bool ok;

	if (!ps || !env_read ||
	    !__atomic_compare_exchange_n(&ps->mode, &none, MODE_STARTING, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	if (slot_map) {
		/* A fork child: what it inherited is its parent's live heap. */
		hello.inherited = (fork_live_set ? fork_live : __atomic_load_n(&slot_map->live, __ATOMIC_RELAXED)) +
				  count_take_pending();
		munmap(slot_map, MO_HEAP_PAGE);
		slot_map = NULL;
	}
	fork_live_set = false;
	if (!sock_name[0]) {
		finish(ps, MODE_INERT);
		return;
	}
	if (!real.usable)
		hello.flags |= MO_HEAP_SLOT_NO_USABLE;
	strncpy(hello.allocator, boot_allocator(), sizeof(hello.allocator) - 1);
	ok = !ask(&hello, &welcome, fds) && welcome.answer == MO_HEAP_ACCEPTED && take_pages(ps, fds);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (!ok) {
		finish(ps, MODE_INERT);
		return;
	}
	slot_sync();	/* BPF writes the process's phase into the slot */
	finish(ps, MODE_ACTIVE);
	count_adopt(&ps->pre, hello.inherited);
}

void slot_watch_thread(void)
{
	if (key_ok)
		pthread_setspecific(thread_key, (void *)1);
}

static void thread_end(void *unused)
{
	(void)unused;
	count_thread_end();
}

static void fork_prepare(void)
{
	struct proc_state *ps = proc;

	fork_live_set = false;
	if (!ps || ps->mode != MODE_ACTIVE)
		return;
	count_flush();
	fork_live = __atomic_load_n(&ps->slot->live, __ATOMIC_RELAXED);
	fork_live_set = true;
}

static void fork_child(void)
{
	/* Zeroed already (MADV_WIPEONFORK), unless the kernel predates it. */
	if (proc)
		memset(proc, 0, MO_HEAP_PAGE);
	slot_start();
}

/* pthread_atfork, found at run time: glibc has it only in libc_nonshared.a
 * (over __register_atfork, which musl lacks); musl exports it. A link-time
 * reference to either would keep the other's programs from starting. Each
 * name is looked up only where it exists: glibc's dlsym allocates its error
 * message through the program's malloc, which would count as the program's. */
extern void *__dso_handle;

static void watch_forks(void)
{
	int (*glibc_register)(void (*)(void), void (*)(void), void (*)(void), void *) =
		dlsym(RTLD_DEFAULT, "__register_atfork");
	int (*atfork)(void (*)(void), void (*)(void), void (*)(void));

	if (glibc_register) {
		glibc_register(fork_prepare, NULL, fork_child, __dso_handle);
		return;
	}
	atfork = dlsym(RTLD_DEFAULT, "pthread_atfork");
	if (atfork)
		atfork(fork_prepare, NULL, fork_child);
}

__attribute__((constructor)) static void heap_init(void)
{
	const char *name = getenv(MO_HEAP_SOCK_ENV);

	boot_resolve();
	if (name && strlen(name) < sizeof(sock_name))
		strcpy(sock_name, name);
	key_ok = !pthread_key_create(&thread_key, thread_end);
	watch_forks();
	env_read = true;
	slot_start();
}
