// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/exitcodes.h"
#include "history/history.h"
#include "model/run.h"
#include "scale/scale_exec.h"

#define SELF "/proc/self/exe"
#define MAX_CHILD_ARGS 12	/* memobs's own arguments before the command */

bool scale_exec_has_placeholder(char *const *tmpl)
{
	for (; *tmpl; tmpl++)
		if (strstr(*tmpl, SCALE_PLACEHOLDER))
			return true;
	return false;
}

static char *expand_one(const char *arg, const char *size)
{
	size_t n = 0, plen = strlen(SCALE_PLACEHOLDER), slen = strlen(size);
	const char *p;
	char *out, *o;

	for (p = arg; (p = strstr(p, SCALE_PLACEHOLDER)); p += plen)
		n++;
	out = malloc(strlen(arg) + n * slen + 1);
	if (!out)
		return NULL;
	for (o = out, p = arg; *p;) {
		if (!strncmp(p, SCALE_PLACEHOLDER, plen)) {
			memcpy(o, size, slen);
			o += slen;
			p += plen;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
	return out;
}

char **scale_exec_expand(char *const *tmpl, uint64_t size)
{
	char num[24], **argv;
	size_t n = 0;

	while (tmpl[n])
		n++;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
	for (size_t i = 0; i < n; i++)
		if (!(argv[i] = expand_one(tmpl[i], num))) {
			scale_exec_free_argv(argv);
			return NULL;
		}
	return argv;
}

void scale_exec_free_argv(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

int scale_exec_mkdir(const struct mo_invoker *inv, char *dir, size_t len, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	int ret = invoker_enter(inv);

	if (ret) {
		snprintf(err, errlen, "cannot act as the invoking user to create a directory: %s", strerror(-ret));
		return ret;
	}
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (snprintf(dir, len, "%s/memobs-scale.XXXXXX", tmp) >= (int)len)
		ret = -ENAMETOOLONG;
	else if (!mkdtemp(dir))
		ret = -errno;
	invoker_leave(inv);
	if (ret)
		snprintf(err, errlen, "cannot create a directory for the run documents in %s: %s", tmp, strerror(-ret));
	return ret;
}

void scale_exec_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			unlink(path);
	if (d)
		closedir(d);
	rmdir(dir);
}

static void child_args(const struct mo_scale_setup *setup, const char *doc_path, char **cmd, char **argv)
{
	size_t n = 0;

	argv[n++] = "memobs";
	argv[n++] = "-q";
	argv[n++] = "-o";
	argv[n++] = (char *)doc_path;
	argv[n++] = "--sample-bytes";
	argv[n++] = "0";
	argv[n++] = "--rss-sample-bytes";
	argv[n++] = "0";
	if (setup->heap)
		argv[n++] = "--heap";
	argv[n++] = "--";
	while (*cmd)
		argv[n++] = *cmd++;
	argv[n] = NULL;
}

/* In the forked child: never returns. Reports a failure to exec on fd. */
static void child(char **argv, const char *env, uint64_t size, int fd)
{
	char num[24];
	sigset_t none;
	ssize_t ignored;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
	if (env && setenv(env, num, 1))
		goto fail;
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		goto fail;
	execv(SELF, argv);
fail:
	e = errno;
	ignored = write(fd, &e, sizeof(e));
	(void)ignored;
	_exit(MO_EXIT_FAILURE);
}

/* Fork and exec argv; wait for it, its pid in *running meanwhile. 0 with
 * *status, or -errno. */
static int spawn_wait(char **argv, const char *env, uint64_t size, volatile pid_t *running, int *status, char *err,
		      size_t errlen)
{
	int fds[2], e = 0, ws;
	pid_t pid;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(fds[0]);
		close(fds[1]);
		snprintf(err, errlen, "cannot fork: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		close(fds[0]);
		child(argv, env, size, fds[1]);
	}
	*running = pid;
	close(fds[1]);
	do
		n = read(fds[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR) {
			*running = 0;
			snprintf(err, errlen, "cannot wait for memobs: %s", strerror(errno));
			return -errno;
		}
	*running = 0;
	if (n == sizeof(e)) {
		snprintf(err, errlen, "cannot run %s%s%s: %s", SELF, env ? " with " : "", env ? env : "", strerror(e));
		return -e;
	}
	*status = run_wait_status_to_exit(ws);
	return 0;
}

int scale_exec_run(const struct mo_scale_setup *setup, uint64_t size, unsigned repeat, const char *dir,
		   volatile pid_t *running, cJSON **doc, int *status, char *err, size_t errlen)
{
	char path[PATH_MAX], **cmd, **argv;
	size_t n = 0;
	int ret;

	*doc = NULL;
	*status = -1;
	if (snprintf(path, sizeof(path), "%s/run-%llu-%u.json", dir, (unsigned long long)size, repeat) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "the directory name %s is too long", dir);
		return -ENAMETOOLONG;
	}
	cmd = scale_exec_expand(setup->command, size);
	while (cmd && cmd[n])
		n++;
	argv = cmd ? calloc(MAX_CHILD_ARGS + n + 1, sizeof(*argv)) : NULL;
	if (!argv) {
		scale_exec_free_argv(cmd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	child_args(setup, path, cmd, argv);
	ret = spawn_wait(argv, setup->env, size, running, status, err, errlen);
	free(argv);
	scale_exec_free_argv(cmd);
	if (ret)
		return ret;
	if (access(path, F_OK)) {
		snprintf(err, errlen, "memobs exited with status %d without a run document", *status);
		return -ECHILD;
	}
	ret = history_read_file(path, doc, err, errlen);
	unlink(path);
	return ret;
}
