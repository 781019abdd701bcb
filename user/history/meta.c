// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pwd.h>
#include "history/meta.h"
#include "lib/procfs.h"

/* Run git with args as the user inv, in the directory dirfd (-1: memobs's);
 * its stdout into out (NUL-terminated). Returns the byte count, or -1 when
 * git failed or is missing. */
static ssize_t run_git(const struct mo_invoker *inv, int dirfd, char *const args[], char *out, size_t len)
{
	int pipefd[2], status;
	ssize_t total = 0, n;
	char sink[256];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(pipefd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		/* As root in a user's tree git refuses ("dubious ownership"). */
		if ((dirfd >= 0 && fchdir(dirfd)) || invoker_become(inv))
			_exit(127);
		execvp("git", args);
		_exit(127);
	}
	close(pipefd[1]);
	while ((size_t)total + 1 < len && (n = read(pipefd[0], out + total, len - 1 - total)) > 0)
		total += n;
	/* Drain what does not fit, so that git never blocks on a full pipe. */
	while (read(pipefd[0], sink, sizeof(sink)) > 0)
		;
	close(pipefd[0]);
	out[total] = 0;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return total;
}

void meta_parse_git(const char *rev_parse, size_t status_len, struct mo_git *git)
{
	const char *nl = strchr(rev_parse, '\n');
	size_t n = nl ? (size_t)(nl - rev_parse) : strlen(rev_parse);

	memset(git, 0, sizeof(*git));
	if (n != 40 || strspn(rev_parse, "0123456789abcdef") < 40)
		return;
	memcpy(git->commit, rev_parse, 40);
	if (nl) {
		const char *b = nl + 1;
		size_t blen = strcspn(b, "\n");

		if (blen >= sizeof(git->branch))
			blen = sizeof(git->branch) - 1;
		memcpy(git->branch, b, blen);
	}
	git->dirty = status_len > 0;
	git->present = true;
}

/* What the background look at git found (status_len -1: no work tree). */
struct git_found {
	char rev[256];
	ssize_t status_len;
};

struct mo_git_look {
	pid_t pid;
	int fd;			/* read end: one struct git_found */
};

/* git in dirfd as inv: its commit, branch and whether the tree is dirty,
 * run by a child in the background (git status can take seconds in a big
 * tree, and it is not needed before the report). NULL when it cannot be
 * started (no git figures then). */
static struct mo_git_look *git_start(const struct mo_invoker *inv, int dirfd)
{
	char *rev_args[] = { "git", "rev-parse", "HEAD", "--abbrev-ref", "HEAD", NULL };
	/* Without the optional index refresh: it takes index.lock, and the
	 * user's own git commands mid-build would fail on it. */
	char *status_args[] = { "git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no", NULL };
	struct mo_git_look *look = calloc(1, sizeof(*look));
	int pipefd[2];

	if (!look || pipe2(pipefd, O_CLOEXEC)) {
		free(look);
		return NULL;
	}
	look->pid = fork();
	if (look->pid == 0) {
		struct git_found found = { .status_len = -1 };
		char status[4096];
		ssize_t ignored;

		close(pipefd[0]);
		prctl(PR_SET_NAME, "memobs-git");
		if (run_git(inv, dirfd, rev_args, found.rev, sizeof(found.rev)) > 0)
			found.status_len = run_git(inv, dirfd, status_args, status, sizeof(status));
		ignored = write(pipefd[1], &found, sizeof(found));
		(void)ignored;
		_exit(0);
	}
	close(pipefd[1]);
	if (look->pid < 0) {
		close(pipefd[0]);
		free(look);
		return NULL;
	}
	look->fd = pipefd[0];
	return look;
}

void meta_git_finish(struct mo_git_look *look, struct mo_run *run)
{
	struct git_found found;

	if (!look)
		return;
	if (read(look->fd, &found, sizeof(found)) == sizeof(found) && found.status_len >= 0) {
		found.rev[sizeof(found.rev) - 1] = 0;
		meta_parse_git(found.rev, found.status_len, &run->git);
	}
	close(look->fd);
	waitpid(look->pid, NULL, 0);
	free(look);
}

/* -p: the target's working directory (it may be in another mount
 * namespace: the directory is opened through /proc/PID/cwd), and git run
 * there as the target's user. 0/-ENOMEM; none, with a warning, when it
 * cannot be read. */
static int fill_target_dir(struct mo_run *run, pid_t pid, struct mo_git_look **git)
{
	struct mo_invoker owner = { 0 };
	struct mo_proc_status st;
	char link[64], cwd[4096];
	ssize_t n;
	int fd, err;

	snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	fd = n > 0 ? open(link, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	err = fd < 0 ? errno : procfs_status(pid, &st) ? ESRCH : 0;
	if (err) {
		if (fd >= 0)
			close(fd);
		run_add_warning(run, "pid %d has no working directory memobs can read (%s): the run has no cwd "
				"and no git commit", pid, strerror(err));
		return 0;
	}
	cwd[n] = 0;
	run->cwd = strdup(cwd);
	owner.uid = st.euid;
	owner.gid = st.egid;
	if (getpwuid(st.euid))
		snprintf(owner.name, sizeof(owner.name), "%s", getpwuid(st.euid)->pw_name);
	*git = git_start(&owner, fd);
	close(fd);
	return run->cwd ? 0 : -ENOMEM;
}

int meta_fill(struct mo_run *run, const struct mo_invoker *inv, pid_t target, struct mo_git_look **git)
{
	struct utsname uts;
	struct tm tm;
	time_t now = time(NULL);
	char cwd[4096];

	if (!uname(&uts)) {
		snprintf(run->host, sizeof(run->host), "%s", uts.nodename);
		snprintf(run->kernel, sizeof(run->kernel), "%s", uts.release);
	}
	gmtime_r(&now, &tm);
	strftime(run->time_utc, sizeof(run->time_utc), "%Y-%m-%dT%H:%M:%SZ", &tm);
	run->ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	*git = NULL;
	if (target)
		return fill_target_dir(run, target, git);
	if (getcwd(cwd, sizeof(cwd))) {
		run->cwd = strdup(cwd);
		if (!run->cwd)
			return -ENOMEM;
	}
	*git = git_start(inv, -1);
	return 0;
}
