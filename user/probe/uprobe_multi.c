// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "lib/grow.h"
#include "probe/handoff.h"
#include "probe/uprobe_multi.h"

/* Debian 12's uapi headers (6.1) predate uprobe_multi (6.6). */
#define MO_BPF_TRACE_UPROBE_MULTI 48
#define MO_BPF_F_UPROBE_MULTI_RETURN 1u

/* union bpf_attr as BPF_LINK_CREATE reads it for uprobe_multi (6.6 uapi). */
struct link_create_uprobe_multi {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__aligned_u64 path;
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 um_flags;
	__u32 pid;
};

/* Closing threads do little more than close(): a small stack each. */
#define CLOSER_STACK (64u << 10)
/* Closes in flight at once: each waits out the same grace period. */
#define MAX_CLOSERS 128

int uprobe_multi_prepare(struct bpf_program *prog)
{
	int err = bpf_program__set_type(prog, BPF_PROG_TYPE_KPROBE);

	return err ?: bpf_program__set_expected_attach_type(prog, MO_BPF_TRACE_UPROBE_MULTI);
}

int uprobe_multi_attach(int prog_fd, const struct mo_uprobe_multi *spec)
{
	struct link_create_uprobe_multi attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = prog_fd;
	attr.attach_type = MO_BPF_TRACE_UPROBE_MULTI;
	attr.path = (__u64)(uintptr_t)spec->path;
	attr.offsets = (__u64)(uintptr_t)spec->offsets;
	attr.ref_ctr_offsets = (__u64)(uintptr_t)spec->ref_ctr_offsets;
	attr.cookies = (__u64)(uintptr_t)spec->cookies;
	attr.cnt = spec->count;
	attr.um_flags = spec->retprobe ? MO_BPF_F_UPROBE_MULTI_RETURN : 0;
	attr.pid = spec->pid;
	/* The kernel makes link fds O_CLOEXEC. */
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

struct link {
	int fd;
	pid_t owner;
};

struct mo_links {
	struct link *v;
	size_t n, cap;
	struct mo_handoff *handoff;	/* links detached by the kernel, or NULL */
	/* Background batches still closing. */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned batches;
};

struct batch {
	int *fds;
	size_t n;
	atomic_size_t next;
	struct mo_links *ls;	/* to signal when done (background), or NULL */
};

static void *close_some(void *arg)
{
	struct batch *b = arg;
	size_t i;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->n)
		close(b->fds[i]);
	return NULL;
}

/* Close every fd of b from up to MAX_CLOSERS threads, so that their grace
 * periods overlap; whatever no thread could be made for is closed here. */
static void close_batch(struct batch *b)
{
	pthread_t th[MAX_CLOSERS];
	size_t nth = 0, want = b->n < MAX_CLOSERS ? b->n : MAX_CLOSERS;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CLOSER_STACK);
	/* With one fd, this thread is as good as another. */
	while (want > 1 && nth < want && !pthread_create(&th[nth], &attr, close_some, b))
		nth++;
	pthread_attr_destroy(&attr);
	close_some(b);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
}

static void *background_batch(void *arg)
{
	struct batch *b = arg;
	struct mo_links *ls = b->ls;

	close_batch(b);
	free(b->fds);
	free(b);
	pthread_mutex_lock(&ls->lock);
	if (--ls->batches == 0)
		pthread_cond_broadcast(&ls->idle);
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

struct mo_links *links__new(struct mo_handoff *handoff)
{
	struct mo_links *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return NULL;
	ls->handoff = handoff;
	pthread_mutex_init(&ls->lock, NULL);
	pthread_cond_init(&ls->idle, NULL);
	return ls;
}

int links__add(struct mo_links *ls, int fd, pid_t owner)
{
	if (GROW(ls->v, ls->n + 1, ls->cap)) {
		close(fd);
		return -ENOMEM;
	}
	ls->v[ls->n++] = (struct link){ fd, owner };
	return 0;
}

/* Take the fds of owner out of the set (all of them when all). */
static int *take(struct mo_links *ls, pid_t owner, bool all, size_t *count)
{
	int *fds = malloc((ls->n ? ls->n : 1) * sizeof(*fds));
	size_t n = 0, kept = 0;

	for (size_t i = 0; i < ls->n; i++) {
		if (fds && (all || ls->v[i].owner == owner))
			fds[n++] = ls->v[i].fd;
		else
			ls->v[kept++] = ls->v[i];
	}
	ls->n = kept;
	*count = n;
	return fds;
}

/* Hand the fds over to the kernel to detach; those it refused stay in fds. */
static void hand_off(struct mo_links *ls, int *fds, size_t *count)
{
	size_t kept = 0;

	if (!ls->handoff)
		return;
	for (size_t i = 0; i < *count; i++)
		if (handoff__link(ls->handoff, fds[i]))
			fds[kept++] = fds[i];
	*count = kept;
}

/* Close the links of owner (all: every one) from a background thread. */
static void release(struct mo_links *ls, pid_t owner, bool all)
{
	struct batch *b = calloc(1, sizeof(*b));
	pthread_attr_t attr;
	pthread_t th;
	bool started;

	if (!b)
		return;	/* kept: closed at the end */
	b->fds = take(ls, owner, all, &b->n);
	if (b->fds)
		hand_off(ls, b->fds, &b->n);
	if (!b->fds || !b->n) {
		free(b->fds);
		free(b);
		return;
	}
	b->ls = ls;
	pthread_mutex_lock(&ls->lock);
	ls->batches++;
	pthread_mutex_unlock(&ls->lock);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CLOSER_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = !pthread_create(&th, &attr, background_batch, b);
	pthread_attr_destroy(&attr);
	if (!started)
		background_batch(b);
}

void links__release(struct mo_links *ls, pid_t owner)
{
	release(ls, owner, false);
}

void links__release_all(struct mo_links *ls)
{
	release(ls, 0, true);
}

void links__close_now(struct mo_links *ls, int fd)
{
	size_t kept = 0;

	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].fd != fd)
			ls->v[kept++] = ls->v[i];
	ls->n = kept;
	close(fd);
}

size_t links__count(const struct mo_links *ls)
{
	return ls->n;
}

void links__free(struct mo_links *ls)
{
	struct batch b = {};

	if (!ls)
		return;
	b.fds = take(ls, 0, true, &b.n);
	if (b.fds) {
		hand_off(ls, b.fds, &b.n);
		close_batch(&b);
	}
	free(b.fds);
	pthread_mutex_lock(&ls->lock);
	while (ls->batches)
		pthread_cond_wait(&ls->idle, &ls->lock);
	pthread_mutex_unlock(&ls->lock);
	pthread_mutex_destroy(&ls->lock);
	pthread_cond_destroy(&ls->idle);
	free(ls->v);
	free(ls);
}
