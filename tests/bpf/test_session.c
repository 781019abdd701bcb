// SPDX-License-Identifier: GPL-2.0
/* The process table against the real BPF programs: a process put in from
 * user space after it exited (its exit unseen by BPF) is taken out of the
 * session's sums; one whose exit BPF saw is left to BPF; a pid BPF already
 * observes is not put in twice. Needs root. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/types.h>
#include "check.h"
#include "memobs_abi.h"
#include "memobs.skel.h"
#include "observe/session.h"

static const __s64 rss[MO_RSS_NR] = { [MO_RSS_FILE] = 3 << 20, [MO_RSS_ANON] = 5 << 20 };

static int ignore_event(void *ctx, const void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

/* A child that exits when its pipe closes. */
static pid_t child_until_eof(int *wfd)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		_exit(read(fds[0], &c, 1) < 0);
	}
	close(fds[0]);
	*wfd = fds[1];
	return pid;
}

static bool in_table(struct mo_session *sess, pid_t pid)
{
	struct mo_proc p;
	__u32 key = pid;

	return !bpf_map_lookup_elem(bpf_map__fd(session__skel(sess)->maps.mo_procs), &key, &p);
}

static bool test_exits_unseen_and_seen(void)
{
	struct mo_session_opts opts = { .mode = MO_MODE_TREE };
	const volatile struct mo_state *st;
	struct mo_session *sess;
	struct mo_proc final;
	char err[512];
	pid_t gone, seen;
	int wfd;

	sess = session__open(&opts, ignore_event, NULL, err, sizeof(err));
	ASSERT_TRUE(sess, "%s", err);
	st = session__state(sess);

	/* Exited and reaped before it was put in, as a -a scan can find it. */
	gone = child_until_eof(&wfd);
	close(wfd);
	ASSERT_EQ(waitpid(gone, NULL, 0), gone);
	ASSERT_EQ(session__add_proc(sess, gone, getpid(), 0, 1, "gone", rss, NULL), 0);
	ASSERT_EQ(session__add_proc(sess, gone, getpid(), 0, 1, "gone", rss, NULL), -EEXIST);
	ASSERT_EQ(st->nprocs, 1);
	ASSERT_EQ(st->rss_sum, 8 << 20);
	ASSERT_EQ(st->rss_peak, 8 << 20);
	ASSERT_EQ(session__end_unseen_exit(sess, gone, 2, &final), 1);
	ASSERT_TRUE(final.flags & MO_PROC_EXIT_UNSEEN, "flags %#x", final.flags);
	ASSERT_EQ(final.end_ns, 2);
	ASSERT_EQ(st->nprocs, 0);
	ASSERT_EQ(st->rss_sum, 0);
	ASSERT_EQ(st->rss[MO_RSS_ANON], 0);
	ASSERT_TRUE(!in_table(sess, gone), "its record is still there");

	/* Put in while alive: its exit is BPF's. */
	seen = child_until_eof(&wfd);
	ASSERT_EQ(session__add_proc(sess, seen, getpid(), 0, 1, "seen", rss, NULL), 0);
	close(wfd);
	ASSERT_EQ(waitpid(seen, NULL, 0), seen);
	ASSERT_EQ(session__end_unseen_exit(sess, seen, 2, &final), 0);
	ASSERT_EQ(st->nprocs, 0);
	ASSERT_EQ(st->rss_sum, 0);
	session__free(sess);
	return true;
}

int main(void)
{
	RUN(test_exits_unseen_and_seen);
	return check_summary();
}
