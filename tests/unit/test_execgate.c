// SPDX-License-Identifier: GPL-2.0
/* The exec gate's answers (execgate.h), on a real listener: a held exec
 * goes on; with real-time answers the thread that answered stays at
 * SCHED_FIFO until execgate__relax puts it back; without them its priority
 * never changes. Needs root. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "observe/execgate.h"

/* A child under the gate's filter, waiting on go[0] to exec /bin/true
 * (n times, each a fork that execs). The listener, in *listener. */
static pid_t gated_child(int n, int *listener)
{
	int go[2], back[2], fd = -1;
	pid_t pid;

	if (pipe(go) || pipe(back))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		fd = execgate_install();
		if (write(back[1], &fd, sizeof(fd)) != sizeof(fd) || read(go[0], &c, 1) != 1)
			_exit(2);
		for (int i = 0; i < n; i++) {
			pid_t p = fork();

			if (p == 0) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(3);
			}
			if (p < 0 || waitpid(p, NULL, 0) != p)
				_exit(4);
		}
		_exit(0);
	}
	close(go[0]);
	close(back[1]);
	if (read(back[0], &fd, sizeof(fd)) == sizeof(fd) && fd >= 0) {
		int pidfd = syscall(SYS_pidfd_open, pid, 0);

		*listener = pidfd < 0 ? -1 : syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		close(pidfd);
	}
	if (write(go[1], "g", 1) != 1)
		*listener = -1;
	close(go[1]);
	close(back[0]);
	return pid;
}

/* Wait for the next exec at the gate and answer it: 1, or what failed. */
static int serve_next(struct mo_execgate *g)
{
	struct pollfd p = { execgate__fd(g), POLLIN, 0 };

	if (poll(&p, 1, 10000) != 1)
		return -ETIMEDOUT;
	return execgate__serve(g);
}

static int exit_status(pid_t pid)
{
	int status = -1;

	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A gate over gated_child(n) (its pid in *pid), or NULL. */
static struct mo_execgate *gate_over(int n, pid_t *pid)
{
	int listener = -1;

	*pid = gated_child(n, &listener);
	return *pid > 0 && listener >= 0 ? execgate__new(listener, NULL, NULL, NULL) : NULL;
}

static bool test_real_time_answers_until_relaxed(void)
{
	pid_t pid;
	struct mo_execgate *g = gate_over(2, &pid);

	ASSERT_TRUE(g != NULL, "no gate over a child (pid %d)", pid);
	execgate__rt_answers(g, true);
	ASSERT_EQ(serve_next(g), 1);
	ASSERT_EQ(sched_getscheduler(0), SCHED_FIFO);
	execgate__relax(g);
	ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER);
	ASSERT_EQ(serve_next(g), 1);
	ASSERT_EQ(sched_getscheduler(0), SCHED_FIFO);
	ASSERT_EQ(exit_status(pid), 0);
	execgate__relax(g);
	ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER);
	execgate__free(g);
	return true;
}

static bool test_answers_keep_the_priority_by_default(void)
{
	pid_t pid;
	struct mo_execgate *g = gate_over(1, &pid);

	ASSERT_TRUE(g != NULL, "no gate over a child (pid %d)", pid);
	ASSERT_EQ(serve_next(g), 1);
	ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER);
	ASSERT_EQ(exit_status(pid), 0);
	execgate__free(g);
	return true;
}

int main(void)
{
	RUN(test_real_time_answers_until_relaxed);
	RUN(test_answers_keep_the_priority_by_default);
	return check_summary();
}
