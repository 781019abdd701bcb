// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>
#include "lib/exitcodes.h"
#include "observe/execgate.h"
#include "observe/launch.h"

/* What the child reports on the status pipe when it cannot exec. */
struct launch_failure {
	int stage;		/* STAGE_* */
	int err;		/* errno */
};

enum { STAGE_SETUP = 1, STAGE_EXEC, STAGE_GATE };

static void report_and_exit(int fd, int stage, int err)
{
	struct launch_failure f = { stage, err };
	ssize_t ignored = write(fd, &f, sizeof(f));

	(void)ignored;
	_exit(stage == STAGE_EXEC ? (err == ENOENT ? MO_EXIT_NOT_FOUND : MO_EXIT_CANNOT_RUN) : MO_EXIT_FAILURE);
}

/* The exec gate, installed while still root and inherited by every
 * descendant; its listener goes to memobs, which answers a first execve of
 * nothing (the gate's ids start there: watchdog.h) before the real one. */
static void install_gate(int gate_sock, int status_fd)
{
	char byte = 'L', cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int listener = execgate_install();

	if (listener == -EBUSY) {
		/* A filter of the chain has a listener already (the kernel allows
		 * one): memobs inside memobs. The outer gate holds these execs. */
		byte = 'N';
		if (send(gate_sock, &byte, 1, MSG_NOSIGNAL) != 1)
			report_and_exit(status_fd, STAGE_GATE, errno);
		close(gate_sock);
		return;
	}
	if (listener < 0)
		report_and_exit(status_fd, STAGE_GATE, -listener);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener, sizeof(int));
	if (sendmsg(gate_sock, &m, MSG_NOSIGNAL) != 1)
		report_and_exit(status_fd, STAGE_GATE, errno);
	close(listener);
	close(gate_sock);
	syscall(SYS_execve, NULL, NULL, NULL);
}

/* What memobs sends to let the child go on: the environment strings to set,
 * each NUL-terminated, then an empty one. NULL when memobs ended before it
 * sent it all (it gave up, or was killed). Until then the child waits here. */
static char *read_release(int fd)
{
	size_t len = 0, cap = 0, start = 0;
	char *buf = NULL;

	for (;;) {
		ssize_t n;

		if (cap - len < 1024 && !(buf = realloc(buf, cap = 2 * cap + 4096)))
			_exit(MO_EXIT_FAILURE);
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		for (size_t end = len + n; len < end; len++)
			if (!buf[len]) {
				if (len == start)
					return buf;
				start = len + 1;
			}
	}
}

static void child(char *const argv[], const struct mo_invoker *inv, const int stdio[3], int release_fd,
		  int status_fd, int gate_sock)
{
	sigset_t none;
	char *env;
	int err;

	/* memobs ignores it; an ignored signal would stay ignored across exec. */
	signal(SIGPIPE, SIG_DFL);
	for (int fd = 0; stdio && fd < 3; fd++)
		if (stdio[fd] >= 0 && dup2(stdio[fd], fd) < 0)
			report_and_exit(status_fd, STAGE_SETUP, errno);
	if (gate_sock >= 0)
		install_gate(gate_sock, status_fd);
	err = invoker_become(inv);
	if (err)
		report_and_exit(status_fd, STAGE_SETUP, -err);
	/* Parked here until the probes are ready; no release: memobs gave up. */
	env = read_release(release_fd);
	if (!env)
		_exit(MO_EXIT_FAILURE);
	close(release_fd);
	for (char *e = env; *e; e += strlen(e) + 1)
		if (putenv(e))
			report_and_exit(status_fd, STAGE_SETUP, errno);
	/* memobs's stop signals stayed blocked while it was parked: one that
	 * came meanwhile (Ctrl-C to the terminal's group) is the command's, and
	 * ends it here, before it runs anything. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);
	report_and_exit(status_fd, STAGE_EXEC, errno);
}

/* fork(), or on cgroup v2 a clone3() that starts the child in the cgroup
 * cgroup_fd (no migration later; *in_cgroup says so). Raw clone3 skips
 * what glibc's fork does for threads: memobs has none yet here. */
static pid_t fork_into(int cgroup_fd, bool *in_cgroup)
{
	struct clone_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = cgroup_fd };
	pid_t pid;

	*in_cgroup = false;
	if (cgroup_fd >= 0) {
		pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0) {
			*in_cgroup = true;
			return pid;
		}
	}
	return fork();
}

/* The listener the child sent; GATELESS when the command runs under
 * another notifier; -1 when it could not install the gate (it said why on
 * the status pipe and exited). */
enum { GATELESS = -2 };

static int receive_listener(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	if (byte == 'N')
		return GATELESS;
	c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Why the child could not install the gate, from the status pipe. */
static int gate_failure(struct mo_launch *l, char *err, size_t errlen)
{
	struct launch_failure f = {};
	ssize_t n = read(l->status_fd, &f, sizeof(f));

	snprintf(err, errlen, "cannot install the exec gate (seccomp user notification) in the command: %s",
		 n == sizeof(f) ? strerror(f.err) : "it exited");
	launch_abort(l);
	return n == sizeof(f) ? -f.err : -ECHILD;
}

int launch_start(struct mo_launch *l, char *const argv[], const struct mo_invoker *inv, const int stdio[3],
		 bool gate, int cgroup_fd, char *err, size_t errlen)
{
	int release[2], status[2], sv[2] = { -1, -1 };

	l->pid = -1;
	l->listener = -1;
	if (pipe2(release, O_CLOEXEC) || pipe2(status, O_CLOEXEC) ||
	    (gate && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return -errno;
	}
	l->pid = fork_into(cgroup_fd, &l->in_cgroup);
	if (l->pid < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot fork: %s", strerror(e));
		close(release[0]), close(release[1]), close(status[0]), close(status[1]);
		if (gate)
			close(sv[0]), close(sv[1]);
		return -e;
	}
	if (l->pid == 0) {
		close(release[1]);
		close(status[0]);
		if (gate)
			close(sv[0]);
		child(argv, inv, stdio, release[0], status[1], sv[1]);
	}
	close(release[0]);
	close(status[1]);
	l->release_fd = release[1];
	l->status_fd = status[0];
	if (!gate)
		return 0;
	close(sv[1]);
	l->listener = receive_listener(sv[0]);
	close(sv[0]);
	l->gateless = l->listener == GATELESS;
	if (l->gateless)
		l->listener = -1;
	return l->listener < 0 && !l->gateless ? gate_failure(l, err, errlen) : 0;
}

/* The environment to set and the release, in one write where it fits in
 * a pipe's atomic size (read_release). 0/-errno. */
static int send_release(int fd, char *const env[])
{
	size_t len = 1, off = 0;
	char *msg;
	int ret = 0;

	for (char *const *e = env; e && *e; e++)
		len += strlen(*e) + 1;
	msg = malloc(len);
	if (!msg)
		return -ENOMEM;
	for (char *const *e = env; e && *e; e++)
		off += strlen(strcpy(msg + off, *e)) + 1;
	msg[off] = 0;
	for (off = 0; off < len && !ret;) {
		ssize_t n = write(fd, msg + off, len - off);

		if (n > 0)
			off += n;
		else if (errno != EINTR)
			ret = -errno;
	}
	free(msg);
	return ret;
}

int launch_release(struct mo_launch *l, char *const env[], int wait_fd, void (*on_wait)(void *ctx), void *ctx,
		   char *err, size_t errlen)
{
	struct launch_failure f;
	ssize_t n;
	int status, ret;

	ret = send_release(l->release_fd, env);
	close(l->release_fd);
	l->release_fd = -1;
	if (ret) {
		snprintf(err, errlen, "cannot start the command: %s", strerror(-ret));
		return MO_EXIT_FAILURE;
	}
	/* Its exec (each one execvp tries) waits at the gate: serve it meanwhile. */
	for (;;) {
		struct pollfd p[2] = { { l->status_fd, POLLIN, 0 }, { wait_fd, POLLIN, 0 } };

		if (poll(p, wait_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			on_wait(ctx);
		if (p[0].revents)
			break;
	}
	do
		n = read(l->status_fd, &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(l->status_fd);
	l->status_fd = -1;
	if (n == 0)
		return 0;	/* close-on-exec: it runs */
	waitpid(l->pid, &status, 0);
	if (n != sizeof(f)) {
		snprintf(err, errlen, "the command could not be started");
		return MO_EXIT_FAILURE;
	}
	if (f.stage != STAGE_EXEC) {
		snprintf(err, errlen, "cannot set up the command (switching to the invoking user): %s",
			 strerror(f.err));
		return MO_EXIT_FAILURE;
	}
	snprintf(err, errlen, "%s", strerror(f.err));
	return f.err == ENOENT ? MO_EXIT_NOT_FOUND : MO_EXIT_CANNOT_RUN;
}

void launch_abort(struct mo_launch *l)
{
	if (l->pid <= 0 || l->release_fd < 0)
		return;
	close(l->release_fd);
	if (l->status_fd >= 0)
		close(l->status_fd);
	if (l->listener >= 0)
		close(l->listener);
	l->release_fd = l->status_fd = l->listener = -1;
	kill(l->pid, SIGKILL);
	waitpid(l->pid, NULL, 0);
	l->pid = -1;
}
