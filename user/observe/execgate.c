// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include "lib/procfs.h"
#include "observe/execgate.h"

#define X32_BIT 0x40000000u
/* execve and execveat: x86-64, x32, i386 */
#define NR_EXECVE_64 59
#define NR_EXECVEAT_64 322
#define NR_EXECVE_X32 (X32_BIT | 520)
#define NR_EXECVEAT_X32 (X32_BIT | 545)
#define NR_EXECVE_32 11
#define NR_EXECVEAT_32 358

/* Linux 6.6; Debian 12's headers predate it. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

int execgate_install(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 6),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_EXECVE_64, 10, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_EXECVEAT_64, 9, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_EXECVE_X32, 8, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_EXECVEAT_X32, 7, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_EXECVE_32, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_EXECVEAT_32, 2, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	int fd = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);

	return fd < 0 ? -errno : fd;
}

struct mo_execgate {
	int listener;
	struct mo_gate_ids *ids;
	mo_exec_hook hook;
	void *ctx;
	struct mo_probeset *seen;	/* content -> the hooks' flags (unsigned) */
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;
	uint64_t answered, inspected;
};

int execgate_notif_sizes(size_t *req_size, size_t *resp_size)
{
	struct seccomp_notif_sizes sizes;
	int ret = syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) ? -errno : 0;

	*req_size = sizeof(struct seccomp_notif);
	*resp_size = sizeof(struct seccomp_notif_resp);
	if (!ret && sizes.seccomp_notif > *req_size)
		*req_size = sizes.seccomp_notif;
	if (!ret && sizes.seccomp_notif_resp > *resp_size)
		*resp_size = sizes.seccomp_notif_resp;
	return ret;
}

int execgate_let_go(int listener, struct seccomp_notif_resp *resp, size_t resp_size, uint64_t id)
{
	memset(resp, 0, resp_size);
	resp->id = id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) ? -errno : 0;
}

struct mo_execgate *execgate__new(int listener, struct mo_gate_ids *ids, mo_exec_hook hook, void *ctx)
{
	size_t req_size, resp_size;
	struct mo_execgate *g;

	if (execgate_notif_sizes(&req_size, &resp_size))
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->listener = listener;
	/* The held task and memobs hand the CPU to each other (the task waits
	 * while memobs looks): the kernel wakes each on the waker's CPU, not
	 * another one that may be idle and slow to wake. The filter's, so the
	 * watchdog's answers after a handover do the same. Older kernels
	 * (EINVAL): wakeups as usual. */
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	g->ids = ids;
	g->hook = hook;
	g->ctx = ctx;
	g->req_size = req_size;
	g->resp_size = resp_size;
	g->req = calloc(1, g->req_size);
	g->resp = calloc(1, g->resp_size);
	g->seen = probeset__new(sizeof(unsigned));
	if (!g->req || !g->resp || !g->seen) {
		execgate__free(g);
		errno = ENOMEM;
		return NULL;
	}
	return g;
}

void execgate__free(struct mo_execgate *g)
{
	if (!g)
		return;
	if (g->listener >= 0)
		close(g->listener);
	probeset__free(g->seen, NULL, NULL);
	free(g->req);
	free(g->resp);
	free(g);
}

int execgate__fd(struct mo_execgate *g)
{
	return g->listener;
}

void execgate__counts(const struct mo_execgate *g, uint64_t *answered, uint64_t *inspected)
{
	*answered = g->answered;
	*inspected = g->inspected;
}

/* Let the exec go on as if nothing had looked. A task that died meanwhile
 * (ENOENT) needs nothing. */
static void answer(struct mo_execgate *g, uint64_t id)
{
	if (!execgate_let_go(g->listener, g->resp, g->resp_size, id))
		g->answered++;
}

/* Receive one notification and record its id for the watchdog. */
static int receive(struct mo_execgate *g)
{
	memset(g->req, 0, g->req_size);
	if (ioctl(g->listener, SECCOMP_IOCTL_NOTIF_RECV, g->req))
		return -errno;
	if (g->ids) {
		g->ids->last = g->req->id;
		__atomic_store_n(&g->ids->any, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

/* A string of the held task's memory (the path it passed to execve). */
static int read_string(pid_t tid, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len - 1) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		struct iovec local, remote;
		ssize_t n;

		if (chunk > len - 1 - got)
			chunk = len - 1 - got;
		local = (struct iovec){ buf + got, chunk };
		remote = (struct iovec){ (void *)(uintptr_t)(addr + got), chunk };
		n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + got, 0, n))
			return 0;
		got += n;
	}
	return -ENAMETOOLONG;
}

/* Open (O_PATH) what the held task names by path, from dirfd (AT_FDCWD: its
 * cwd): absolute paths inside its root, with its symbolic links. */
static int open_as_task(pid_t tid, int dirfd, const char *path, bool nofollow, char *opened, size_t len)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0) };
	char dir[64];
	int dfd, fd;

	if (path[0] == '/') {
		snprintf(dir, sizeof(dir), "/proc/%d/root", tid);
		how.resolve = RESOLVE_IN_ROOT;
	} else if (dirfd == AT_FDCWD) {
		snprintf(dir, sizeof(dir), "/proc/%d/cwd", tid);
	} else {
		snprintf(dir, sizeof(dir), "/proc/%d/fd/%d", tid, dirfd);
	}
	snprintf(opened, len, "%s/%s", dir, path[0] == '/' ? path + 1 : path);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	fd = fd < 0 ? -errno : fd;
	close(dfd);
	return fd;
}

/* From an O_PATH descriptor of a regular file, one to read it (never a FIFO
 * or a device: opening those can block or act). */
static int reopen_regular(int opath, struct stat *st)
{
	char self[64];
	int fd;

	if (fstat(opath, st) || !S_ISREG(st->st_mode))
		return -ENOEXEC;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", opath);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

/* The interpreter of a "#!" script at fd into interp, 0; -ENOEXEC otherwise. */
static int script_interpreter(int fd, char *interp, size_t len)
{
	char head[256];
	ssize_t n = pread(fd, head, sizeof(head) - 1, 0);
	char *p, *end;

	if (n < 3 || head[0] != '#' || head[1] != '!')
		return -ENOEXEC;
	head[n] = 0;
	p = head + 2 + strspn(head + 2, " \t");
	end = p + strcspn(p, " \t\n");
	if (end == p || !memchr(head, '\n', n) || (size_t)(end - p) >= len)
		return -ENOEXEC;
	memcpy(interp, p, end - p);
	interp[end - p] = 0;
	return 0;
}

/* Bounds on what is read of the environment an exec passes. */
#define MAX_ENV_VARS 4096
#define MAX_LD_ENV (64u << 10)

/* Does this variable change what a program loads or how it allocates? */
static bool loader_var(const char *var)
{
	return !strncmp(var, "LD_", 3) || !strncmp(var, "MEMOBS_HEAP_SOCK=", 17) || !strncmp(var, "PYTHONMALLOC=", 13);
}

/* Those variables (loader_var) of the NULL-terminated array of strings at
 * envp in the held task's memory (pointers of ptr_size bytes) into a
 * NUL-separated blob; NULL when it cannot be read. */
static char *read_ld_env(pid_t tid, uint64_t envp, unsigned ptr_size, size_t *len)
{
	char *blob = malloc(MAX_LD_ENV), var[4096];
	size_t n = 0;

	*len = 0;
	if (!blob)
		return NULL;
	for (size_t i = 0; i < MAX_ENV_VARS; i++) {
		uint64_t ptr = 0;
		struct iovec local = { &ptr, ptr_size }, remote = { (void *)(uintptr_t)(envp + i * ptr_size), ptr_size };

		if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != (ssize_t)ptr_size) {
			free(blob);
			return NULL;
		}
		if (!ptr)
			break;
		if (read_string(tid, ptr, var, sizeof(var)) || !loader_var(var))
			continue;
		if (n + strlen(var) + 1 > MAX_LD_ENV)
			break;
		memcpy(blob + n, var, strlen(var) + 1);
		n += strlen(var) + 1;
	}
	*len = n;
	return blob;
}

struct target {
	int fd;			/* open for reading */
	char path[4200];	/* how memobs opened it */
	struct stat st;
};

static bool is_execveat(const struct seccomp_notif *req)
{
	return req->data.arch == AUDIT_ARCH_I386 ? req->data.nr == NR_EXECVEAT_32
						 : req->data.nr == NR_EXECVEAT_64 || req->data.nr == NR_EXECVEAT_X32;
}

/* The file the held exec names, opened O_PATH (its path in t->path, its
 * stat in t->st: a regular file). The fd, or -errno. */
static int exec_file(const struct seccomp_notif *req, struct target *t)
{
	bool at = is_execveat(req);
	int dirfd = at ? (int)req->data.args[0] : AT_FDCWD, flags = at ? (int)req->data.args[4] : 0;
	char path[4096];
	int opath, err;

	err = read_string(req->pid, req->data.args[at ? 1 : 0], path, sizeof(path));
	if (err)
		return err;
	if (path[0]) {
		opath = open_as_task(req->pid, dirfd, path, flags & AT_SYMLINK_NOFOLLOW, t->path, sizeof(t->path));
	} else if (at && (flags & AT_EMPTY_PATH)) {
		/* fexecve: the descriptor itself */
		snprintf(t->path, sizeof(t->path), "/proc/%d/fd/%d", req->pid, dirfd);
		opath = open(t->path, O_PATH | O_CLOEXEC);
		opath = opath < 0 ? -errno : opath;
	} else {
		return -ENOENT;
	}
	if (opath >= 0 && (fstat(opath, &t->st) || !S_ISREG(t->st.st_mode))) {
		close(opath);
		return -ENOEXEC;
	}
	return opath;
}

/* The file the exec will map, open for reading into t->fd (t->path, t->st
 * follow it): the executable at opath, or the interpreter of a #! script
 * (one level, as far as a look is useful). 0 or -errno. */
static int mapped_file(pid_t tid, int opath, struct target *t)
{
	char interp[256];
	int fd = reopen_regular(opath, &t->st);

	if (fd < 0)
		return fd;
	if (!script_interpreter(fd, interp, sizeof(interp))) {
		close(fd);
		/* the kernel opens the interpreter relative to the cwd */
		opath = open_as_task(tid, AT_FDCWD, interp, false, t->path, sizeof(t->path));
		if (opath < 0)
			return opath;
		fd = reopen_regular(opath, &t->st);
		close(opath);
		if (fd < 0)
			return fd;
	}
	t->fd = fd;
	return 0;
}

/* Call the hook on the file the held exec will map (asked: what it
 * answered for that file last, 0 the first time); returns its flags. */
static unsigned look(struct mo_execgate *g, const struct target *t, bool first, unsigned asked)
{
	struct seccomp_notif *req = g->req;
	bool at = is_execveat(req), narrow = req->data.arch == AUDIT_ARCH_I386 || (req->data.nr & X32_BIT);
	struct mo_proc_status st;
	struct mo_file_id id;
	struct mo_exec_held held = {
		.tid = req->pid,
		.tgid = procfs_status(req->pid, &st) ? (pid_t)req->pid : st.tgid,
		.fd = t->fd,
		.path = t->path,
		.id = &id,
		.first = first,
		.asked = asked,
		.setid = t->st.st_mode & (S_ISUID | S_ISGID),
	};
	char *ld_env = first || (asked & MO_EXEC_ENV) ?
			       read_ld_env(req->pid, req->data.args[at ? 3 : 2], narrow ? 4 : 8, &held.ld_envlen) : NULL;
	unsigned flags;

	file_id_from_stat(&t->st, &id);
	held.ld_env = ld_env;
	flags = g->hook ? g->hook(g->ctx, &held) : 0;
	free(ld_env);
	g->inspected++;
	return flags;
}

/* Look at one held exec and let it go on. A file seen before that needs
 * nothing per process goes on at once; whatever cannot be looked at (a
 * bad path: the exec itself will fail) too. */
static void handle(struct mo_execgate *g)
{
	struct mo_file_id exec_id;
	struct target t;
	unsigned *flags;
	uint64_t rid = g->req->id;
	int opath = exec_file(g->req, &t);

	if (opath < 0) {
		answer(g, rid);
		return;
	}
	/* Remembered by the file exec'd (a script, or the executable itself). */
	file_id_from_stat(&t.st, &exec_id);
	flags = probeset__get(g->seen, &exec_id, "");
	if ((flags && !(*flags & (MO_EXEC_AGAIN | MO_EXEC_ENV))) || mapped_file(g->req->pid, opath, &t)) {
		answer(g, rid);	/* before the close: the exec waits for it */
		close(opath);
		return;
	}
	close(opath);
	/* The path was read from memory the task could still change: what it
	 * names is looked at only if it is still the one waiting. */
	if (!ioctl(g->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &rid)) {
		unsigned now = look(g, &t, !flags, flags ? *flags : 0);

		if (!flags)
			flags = probeset__add(g->seen, &exec_id, "");
		if (flags)
			*flags = now;
	}
	answer(g, rid);
	close(t.fd);
}

int execgate__serve(struct mo_execgate *g)
{
	int n = 0;

	for (;;) {
		struct pollfd p = { g->listener, POLLIN, 0 };
		int err;

		if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
			return n;
		err = receive(g);
		if (err == -ENOENT || err == -EINTR)
			continue;	/* the task died before we took it */
		if (err)
			return err;
		handle(g);
		n++;
	}
}

int execgate__prime(struct mo_execgate *g, int timeout_ms)
{
	struct pollfd p = { g->listener, POLLIN, 0 };
	int err;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	if (!(p.revents & POLLIN))
		return -ECHILD;
	err = receive(g);
	if (err)
		return err;
	answer(g, g->req->id);
	return 0;
}
