// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/exitcodes.h"
#include "observe/launch.h"

/* What the child reports on the status pipe when it cannot exec. */
struct launch_failure {
	int stage;		/* STAGE_* */
	int err;		/* errno */
};

enum { STAGE_SETUP = 1, STAGE_EXEC };

static void report_and_exit(int fd, int stage, int err)
{
	struct launch_failure f = { stage, err };
	ssize_t ignored = write(fd, &f, sizeof(f));

	(void)ignored;
	_exit(stage == STAGE_EXEC ? (err == ENOENT ? MO_EXIT_NOT_FOUND : MO_EXIT_CANNOT_RUN) : MO_EXIT_FAILURE);
}

static void child(char *const argv[], const struct mo_invoker *inv, char *const env[], const int stdio[3],
		  int release_fd, int status_fd)
{
	sigset_t none;
	char go;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int fd = 0; stdio && fd < 3; fd++)
		if (stdio[fd] >= 0 && dup2(stdio[fd], fd) < 0)
			report_and_exit(status_fd, STAGE_SETUP, errno);
	for (char *const *e = env; e && *e; e++)
		if (putenv(*e))
			report_and_exit(status_fd, STAGE_SETUP, errno);
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

int launch_start(struct mo_launch *l, char *const argv[], const struct mo_invoker *inv, char *const env[],
		 const int stdio[3], char *err, size_t errlen)
{
	int release[2], status[2];

	l->pid = -1;
	if (pipe2(release, O_CLOEXEC) || pipe2(status, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return -errno;
	}
	l->pid = fork();
	if (l->pid < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot fork: %s", strerror(e));
		close(release[0]), close(release[1]), close(status[0]), close(status[1]);
		return -e;
	}
	if (l->pid == 0) {
		close(release[1]);
		close(status[0]);
		child(argv, inv, env, stdio, release[0], status[1]);
	}
	close(release[0]);
	close(status[1]);
	l->release_fd = release[1];
	l->status_fd = status[0];
	return 0;
}

int launch_release(struct mo_launch *l, char *err, size_t errlen)
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
	if (f.stage == STAGE_SETUP) {
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
	kill(l->pid, SIGKILL);
	waitpid(l->pid, NULL, 0);
	l->pid = -1;
}
