// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include "observe/holds.h"
#include "observe/watchdog.h"

/* Notifications probed after the last one memobs recorded: it takes one at
 * a time, so at most the next one can be received and unrecorded. */
#define RESCUE_SPAN 16
#define NOBODY 65534

/* Messages from memobs; DEAD: none (the socket closed without a handover). */
enum { MSG_LISTENER = 'L', MSG_HOLDS = 'S', MSG_HANDOVER = 'H', MSG_DEAD = 'D' };

/* What the -p gate's holds are, for draining them after memobs (holds.h). */
struct holds_msg {
	char type;		/* MSG_HOLDS */
	unsigned bit;
};

struct mo_watchdog {
	pid_t pid;
	int sock;		/* memobs's end */
	struct mo_gate_ids *ids;	/* shared page */
};

static char title[96];

/* What ps shows: its name, and the command line says whose it is. */
static void name_self(pid_t memobs)
{
	prctl(PR_SET_NAME, "memobs-watchdog");
	snprintf(title, sizeof(title), "memobs-watchdog (answers the exec gate of memobs %d if it ends first)",
		 memobs);
	/* Needs CAP_SYS_RESOURCE; without it the command line stays memobs's. */
	if (!prctl(PR_SET_MM, PR_SET_MM_ARG_START, (unsigned long)title, 0, 0))
		prctl(PR_SET_MM, PR_SET_MM_ARG_END, (unsigned long)title + strlen(title) + 1, 0, 0);
}

/* Keep CAP_KILL alone (it may continue other users' processes: -p). */
static void keep_only_cap_kill(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { .effective = 1u << CAP_KILL, .permitted = 1u << CAP_KILL } };

	syscall(SYS_capset, &h, d);
}

/* No terminal, no signal from it, no descriptor of memobs's but the two
 * it needs, and none of memobs's privileges (but CAP_KILL with keep_kill). */
static void detach(const struct mo_invoker *inv, int sock, int pidfd, bool keep_kill)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	uid_t uid = inv->uid ? inv->uid : NOBODY;
	gid_t gid = inv->uid ? inv->gid : NOBODY;
	sigset_t none;

	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int fd = 0; fd < 3; fd++)
		if (null >= 0)
			dup2(null, fd);
	/* The two it keeps at 3 and 4 (by way of high numbers: either may be 3 now). */
	sock = fcntl(sock, F_DUPFD, 100);
	pidfd = fcntl(pidfd, F_DUPFD, 100);
	if (sock < 0 || pidfd < 0 || dup2(sock, 3) < 0 || dup2(pidfd, 4) < 0)
		_exit(1);
	close_range(5, ~0u, 0);
	if (keep_kill)
		prctl(PR_SET_KEEPCAPS, 1);
	if (getuid() == 0 && (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid)))
		_exit(1);
	if (keep_kill)
		keep_only_cap_kill();
	prctl(PR_SET_DUMPABLE, 0);	/* nobody may ptrace it and take the listener */
	prctl(PR_SET_NO_NEW_PRIVS, 1);
}

struct given {
	int listener;		/* the command's exec gate, -1: none */
	int holds[2];		/* the -p gate's holds map and release program, -1: none */
	unsigned bit;
};

/* A message from memobs: the listener or the holds (SCM_RIGHTS), the
 * handover, or none any more (MSG_DEAD). */
static int receive(int sock, struct given *g)
{
	struct holds_msg msg = {};
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { &msg, sizeof(msg) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);

	if (n <= 0)
		return n == 0 || errno != EINTR ? MSG_DEAD : 0;
	c = CMSG_FIRSTHDR(&m);
	if (msg.type == MSG_LISTENER && c && c->cmsg_type == SCM_RIGHTS && g->listener < 0)
		memcpy(&g->listener, CMSG_DATA(c), sizeof(int));
	if (msg.type == MSG_HOLDS && c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(2 * sizeof(int)) &&
	    g->holds[0] < 0) {
		memcpy(g->holds, CMSG_DATA(c), sizeof(g->holds));
		g->bit = msg.bit;
	}
	return msg.type;
}

/* Answer in memobs's place until no task of the tree is left. */
static void take_over(int listener, const struct mo_gate_ids *ids)
{
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;

	execgate_notif_sizes(&req_size, &resp_size);
	req = calloc(1, req_size);
	resp = calloc(1, resp_size);
	if (!req || !resp)
		_exit(1);
	/* One memobs took and did not answer: still valid (waiting) is ours. */
	if (__atomic_load_n(&ids->any, __ATOMIC_ACQUIRE))
		for (uint64_t id = ids->last; id != ids->last + RESCUE_SPAN; id++)
			if (!ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id))
				execgate_let_go(listener, resp, resp_size, id);
	for (;;) {
		struct pollfd p = { listener, POLLIN, 0 };

		if (poll(&p, 1, -1) < 0)
			continue;
		if (p.revents & POLLIN) {
			memset(req, 0, req_size);
			if (!ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req))
				execgate_let_go(listener, resp, resp_size, req->id);
		} else if (p.revents & (POLLHUP | POLLERR)) {
			_exit(0);
		}
	}
}

static void watchdog_main(const struct mo_invoker *inv, bool keep_kill, int sock, pid_t memobs,
			  const struct mo_gate_ids *ids)
{
	int pidfd = syscall(SYS_pidfd_open, memobs, 0);
	struct given g = { .listener = -1, .holds = { -1, -1 } };

	if (pidfd < 0 || getppid() != memobs)
		_exit(0);	/* memobs is gone already, and gave nothing */
	name_self(memobs);
	detach(inv, sock, pidfd, keep_kill);
	sock = 3;
	pidfd = 4;
	for (;;) {
		struct pollfd p[3] = { { sock, POLLIN, 0 }, { pidfd, POLLIN, 0 }, { g.listener, 0, 0 } };
		int msg = 0;

		if (poll(p, 3, -1) < 0)
			continue;
		if (p[2].revents & (POLLHUP | POLLERR))
			_exit(0);	/* no task of the tree is left */
		if (p[0].revents)
			msg = receive(sock, &g);
		if (p[1].revents && msg != MSG_HANDOVER)
			msg = MSG_DEAD;
		if (msg != MSG_HANDOVER && msg != MSG_DEAD)
			continue;
		/* Killed: what memobs stopped and could not continue. A memobs
		 * that handed over has continued its own. Its links went with its
		 * descriptors, before its pidfd said so; a gate program that was
		 * running then may still stop one: drained again once it is done. */
		if (msg == MSG_DEAD && g.holds[0] >= 0) {
			holds_drain(g.holds[0], g.holds[1], g.bit);
			holds_wait_for_gates_in_flight();
			holds_drain(g.holds[0], g.holds[1], g.bit);
		}
		if (g.listener < 0)
			_exit(0);
		take_over(g.listener, ids);
	}
}

struct mo_watchdog *watchdog_start(const struct mo_invoker *inv, bool keep_kill)
{
	struct mo_watchdog *w = calloc(1, sizeof(*w));
	pid_t memobs = getpid();
	int sv[2];

	if (!w)
		return NULL;
	w->ids = mmap(NULL, sizeof(*w->ids), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w->ids == MAP_FAILED || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		int err = errno;

		if (w->ids != MAP_FAILED)
			munmap(w->ids, sizeof(*w->ids));
		free(w);
		errno = err;
		return NULL;
	}
	w->pid = fork();
	if (w->pid == 0) {
		close(sv[0]);
		watchdog_main(inv, keep_kill, sv[1], memobs, w->ids);
		_exit(0);
	}
	close(sv[1]);
	if (w->pid < 0) {
		int err = errno;

		close(sv[0]);
		munmap(w->ids, sizeof(*w->ids));
		free(w);
		errno = err;
		return NULL;
	}
	w->sock = sv[0];
	return w;
}

struct mo_gate_ids *watchdog_ids(struct mo_watchdog *w)
{
	return w->ids;
}

pid_t watchdog_pid(const struct mo_watchdog *w)
{
	return w->pid;
}

/* A message with descriptors. 0/-errno. */
static int give(struct mo_watchdog *w, const struct holds_msg *msg, const int *fds, size_t nfds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = {};
	struct iovec iov = { (void *)msg, sizeof(*msg) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	return sendmsg(w->sock, &m, MSG_NOSIGNAL) == sizeof(*msg) ? 0 : -errno;
}

int watchdog_give_listener(struct mo_watchdog *w, int listener)
{
	struct holds_msg msg = { .type = MSG_LISTENER };

	return give(w, &msg, &listener, 1);
}

int watchdog_give_holds(struct mo_watchdog *w, int map_fd, int prog_fd, unsigned bit)
{
	struct holds_msg msg = { .type = MSG_HOLDS, .bit = bit };
	int fds[2] = { map_fd, prog_fd };

	return give(w, &msg, fds, 2);
}

void watchdog_handover(struct mo_watchdog *w)
{
	struct holds_msg msg = { .type = MSG_HANDOVER };

	if (w && w->sock >= 0 && send(w->sock, &msg, sizeof(msg), MSG_NOSIGNAL) < 0)
		return;	/* gone: nothing to hand over to */
}

void watchdog_free(struct mo_watchdog *w)
{
	if (!w)
		return;
	watchdog_handover(w);
	close(w->sock);
	munmap(w->ids, sizeof(*w->ids));
	/* Not waited for: it lives while the tree does. Reaped by init. */
	free(w);
}
