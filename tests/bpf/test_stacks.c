// SPDX-License-Identifier: GPL-2.0
/* The stack table against the real BPF programs: a stack whose hash another
 * stack holds is counted and never merged into it. This process observes
 * itself (RSS growth stacks, every fault sampled), faults pages from one
 * code path, then rewrites every stored stack's frames under its key, as a
 * different stack with the same hash would have stored them, and faults
 * again from the same path. Needs root. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/types.h>
#include "check.h"
#include "memobs_abi.h"
#include "memobs.skel.h"
#include "observe/session.h"

#define PAGES 256
#define MAX_KEYS 64

static int ignore_event(void *ctx, const void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

__attribute__((noinline)) static void fault_pages(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	for (int i = 0; i < PAGES; i++)
		((volatile char *)p)[i * page] = 1;
	munmap(p, PAGES * page);
}

struct sites {
	__u64 keys[MAX_KEYS];
	__u64 counts[MAX_KEYS];
	size_t n;
};

static void take_site(void *ctx, const struct mo_site_key *k, const struct mo_site *v)
{
	struct sites *s = ctx;

	if (k->kind == MO_SITE_RSS && s->n < MAX_KEYS) {
		s->keys[s->n] = k->stack;
		s->counts[s->n++] = v->count;
	}
}

static __u64 site_count(struct mo_session *sess, __u64 key)
{
	struct sites now = {};

	session__each_site(sess, take_site, &now);
	for (size_t i = 0; i < now.n; i++)
		if (now.keys[i] == key)
			return now.counts[i];
	return 0;
}

static bool test_a_colliding_stack_is_counted_not_merged(void)
{
	struct mo_session_opts opts = { .mode = MO_MODE_TREE, .rss_sample_bytes = 1 };
	const volatile struct mo_state *st;
	struct mo_session *sess;
	struct sites before = {};
	__u64 drops;
	char err[512];
	int fd;

	sess = session__open(&opts, ignore_event, NULL, err, sizeof(err));
	ASSERT_TRUE(sess, "%s", err);
	ASSERT_EQ(session__add_proc(sess, getpid(), getppid(), 0, 0, "test_stacks", NULL, NULL), 0);
	fault_pages();
	session__each_site(sess, take_site, &before);
	ASSERT_TRUE(before.n > 0, "no RSS growth stack was sampled");
	fd = bpf_map__fd(session__skel(sess)->maps.mo_stacks);
	for (size_t i = 0; i < before.n; i++) {
		struct mo_stack stack;

		ASSERT_EQ(bpf_map_lookup_elem(fd, &before.keys[i], &stack), 0);
		stack.frames[0].offset ^= 0x5a5a;	/* another stack, the same key */
		stack.frames[0].status = 1;
		ASSERT_EQ(bpf_map_update_elem(fd, &before.keys[i], &stack, BPF_EXIST), 0);
	}
	st = session__state(sess);
	drops = st->drops.stacks;
	fault_pages();
	ASSERT_TRUE(st->drops.stacks > drops, "no collision counted (drops.stacks %llu)",
		    (unsigned long long)st->drops.stacks);
	for (size_t i = 0; i < before.n; i++)
		ASSERT_EQ(site_count(sess, before.keys[i]), before.counts[i]);
	printf("# %zu stacks rewritten; %llu samples met another stack under their key\n", before.n,
	       (unsigned long long)(st->drops.stacks - drops));
	session__free(sess);
	return true;
}

int main(void)
{
	RUN(test_a_colliding_stack_is_counted_not_merged);
	return check_summary();
}
