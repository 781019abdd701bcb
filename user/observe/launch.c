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

static void child(char *const argv[], const struct mo_invoker *inv, char *const env[], const int stdio[3],
		  int release_fd, int status_fd, int gate_sock)
{
	sigset_t none;
	char go;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* memobs ignores it; an ignored signal would stay ignored across exec. */
	signal(SIGPIPE, SIG_DFL);
	for (int fd = 0; stdio && fd < 3; fd++)
		if (stdio[fd] >= 0 && dup2(stdio[fd], fd) < 0)
			report_and_exit(status_fd, STAGE_SETUP, errno);
	for (char *const *e = env; e && *e; e++)
		if (putenv(*e))
			report_and_exit(status_fd, STAGE_SETUP, errno);
	if (gate_sock >= 0)
		install_gate(gate_sock, status_fd);
	err = invoker_become(inv);
	if (err)
		report_and_exit(status_fd, STAGE_SETUP, -err);
	/* EOF instead of a byte: memobs gave up before the probes were ready. */
	if (read(release_fd, &go, 1) != 1)
		_exit(MO_EXIT_FAILURE);
	close(release_fd);
	execvp(argv[0], argv);
	report_and_exit(status_fd, STAGE_EXEC, errno);
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

int launch_start(struct mo_launch *l, char *const argv[], const struct mo_invoker *inv, char *const env[],
		 const int stdio[3], bool gate, char *err, size_t errlen)
{
	int release[2], status[2], sv[2] = { -1, -1 };

	l->pid = -1;
	l->listener = -1;
	if (pipe2(release, O_CLOEXEC) || pipe2(status, O_CLOEXEC) ||
	    (gate && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return -errno;
	}
	l->pid = fork();
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
		child(argv, inv, env, stdio, release[0], status[1], sv[1]);
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

int launch_release(struct mo_launch *l, int wait_fd, void (*on_wait)(void *ctx), void *ctx, char *err,
		   size_t errlen)
{
	struct launch_failure f;
	ssize_t n;
	int status;

	n = write(l->release_fd, "g", 1);
	close(l->release_fd);
	l->release_fd = -1;
	if (n != 1) {
		snprintf(err, errlen, "cannot start the command: %s", strerror(errno));
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
	if (l->pid <= 0)
		return;
	if (l->release_fd >= 0)
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
