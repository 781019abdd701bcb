// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/procfs.h"
#include "lib/textbuf.h"
#include "observe/cgroups.h"
#include "observe/memcg.h"

#define STAT_MAX 16384		/* memory.stat is 1-3 KiB */
#define PROCS_MAX 65536		/* a cgroup.procs past this holds other processes anyway */
#define MOUNTINFO_MAX (1u << 20)
#define MOVE_ROUNDS 8		/* leftover processes may fork while they are moved */

struct mo_memcg {
	enum mo_memcg_version version;
	char parent[PATH_MAX];		/* memobs's cgroup directory */
	char dir[PATH_MAX];		/* the command's */
	char self_dir[PATH_MAX];	/* v2: memobs's own leaf while the command runs, "" none */
	char path[PATH_MAX];		/* the command's, in its hierarchy */
	bool disable_memory;		/* v2: take +memory back from the parent at the end */
	pid_t reaper;			/* removes them if memobs cannot (reaper()), -1 none */
	int reaper_fd;			/* its pipe: EOF when memobs ends */
};

/* Is word one of the space-separated words of list? */
static bool has_word(const char *list, const char *word)
{
	size_t w = strlen(word);

	for (const char *s = list; s && *s; s += strspn(s, " \t\n")) {
		size_t l = strcspn(s, " \t\n");

		if (l == w && !strncmp(s, word, w))
			return true;
		s += l;
	}
	return false;
}

/* dir + the part of path below root (the cgroup the mount shows). */
static int below_mount(const char *mount, const char *root, const char *path, char *dir, size_t len)
{
	size_t r = strcmp(root, "/") ? strlen(root) : 0;

	if (r && (strncmp(path, root, r) || (path[r] && path[r] != '/')))
		return -ENOENT;
	if (snprintf(dir, len, "%s%s", mount, path + r) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int memcg_locate(const char *mountinfo, const char *self_cgroup, struct mo_memcg_place *pl, char *why, size_t len)
{
	char mount[PATH_MAX], root[PATH_MAX];
	int ret;

	memset(pl, 0, sizeof(*pl));
	if (!cgroups_parse_hierarchy(mountinfo, "memory", mount, sizeof(mount), root, sizeof(root))) {
		pl->version = MO_MEMCG_V1;
		ret = procfs_parse_cgroup_v1(self_cgroup, "memory", pl->path, sizeof(pl->path));
	} else if (!cgroups_parse_hierarchy(mountinfo, NULL, mount, sizeof(mount), root, sizeof(root))) {
		pl->version = MO_MEMCG_V2;
		ret = procfs_parse_cgroup(self_cgroup, pl->path, sizeof(pl->path));
	} else {
		snprintf(why, len, "no memory cgroup hierarchy is mounted");
		return -ENOENT;
	}
	if (!ret)
		ret = below_mount(mount, root, pl->path, pl->dir, sizeof(pl->dir));
	if (ret) {
		snprintf(why, len, "memobs's own memory cgroup is not under %s", mount);
		return -ENOENT;
	}
	return 0;
}

int memcg_v2_plan(const struct mo_memcg_v2_files *f, pid_t self, struct mo_memcg_v2_plan *plan, char *why,
		  size_t len)
{
	bool others = false, me = false;

	memset(plan, 0, sizeof(*plan));
	if (!f->controllers || !has_word(f->controllers, "memory")) {
		snprintf(why, len, "the memory controller is not enabled for it (its parent's cgroup.subtree_control)");
		return -EPERM;
	}
	if (f->type && !has_word(f->type, "domain")) {
		snprintf(why, len, "it is a threaded cgroup: no memory controller below it");
		return -EPERM;
	}
	plan->enable_memory = !f->subtree_control || !has_word(f->subtree_control, "memory");
	if (!f->type)
		return 0;	/* the root may hold processes beside children with controllers */
	for (const char *s = f->procs; s && *s; s += strspn(s, "\n")) {
		char *end;
		long pid = strtol(s, &end, 10);

		if (pid == self)
			me = true;
		else
			others = true;
		s = end + strcspn(end, "\n");
	}
	if (others || !f->procs) {
		snprintf(why, len, "other processes are in it, and cgroup v2 lets a cgroup whose children have the "
			 "memory controller hold none: run memobs in a cgroup of its own (systemd-run --scope -p "
			 "Delegate=yes memobs ...)");
		return -EPERM;
	}
	plan->move_self = me;
	return 0;
}

static bool stat_value(const char *text, const char *key, int64_t *out)
{
	size_t k = strlen(key);

	for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != 0)) {
		char *end;
		long long v;

		if (strncmp(line, key, k) || line[k] != ' ')
			continue;
		errno = 0;
		v = strtoll(line + k + 1, &end, 10);
		if (errno || end == line + k + 1 || v < 0)
			return false;
		*out = v;
		return true;
	}
	return false;
}

/* v2 before "kernel" (5.18): its parts. */
static int64_t kernel_parts(const char *text)
{
	static const char *const parts[] = { "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock",
					     "vmalloc", "slab" };
	int64_t sum = 0, v;
	bool any = false;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (stat_value(text, parts[i], &v)) {
			sum += v;
			any = true;
		}
	return any ? sum : -1;
}

int memcg_parse_stat(const char *text, enum mo_memcg_version v, struct mo_memcg_stat *st)
{
	if (v == MO_MEMCG_V1) {
		/* total_*: the cgroup and its descendants */
		if ((!stat_value(text, "total_rss", &st->anon) && !stat_value(text, "rss", &st->anon)) ||
		    (!stat_value(text, "total_cache", &st->file) && !stat_value(text, "cache", &st->file)))
			return -EINVAL;
		return 0;
	}
	if (!stat_value(text, "anon", &st->anon) || !stat_value(text, "file", &st->file))
		return -EINVAL;
	if (!stat_value(text, "kernel", &st->kernel))
		st->kernel = kernel_parts(text);
	return 0;
}

bool memcg_parse_name(const char *name, pid_t *pid, uint64_t *start_ticks)
{
	unsigned long long start;
	int p, end = 0;

	if (sscanf(name, "memobs-%d-%llu%n", &p, &start, &end) != 2 || p <= 0 || !end)
		return false;
	if (name[end] && strcmp(name + end, ".self"))
		return false;
	*pid = p;
	*start_ticks = start;
	return true;
}

static ssize_t read_in(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return procfs_read_text(path, buf, len);
}

static int64_t read_int(const char *dir, const char *name)
{
	char text[64], *end;
	long long v;

	if (read_in(dir, name, text, sizeof(text)) <= 0)
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	return errno || end == text || v < 0 ? -1 : v;
}

static int write_in(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	size_t n = strlen(text);
	int fd, ret = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		ret = -errno;
	close(fd);
	return ret;
}

static int move_pid(const char *dir, pid_t pid)
{
	char text[24];

	snprintf(text, sizeof(text), "%d\n", pid);
	return write_in(dir, "cgroup.procs", text);
}

/* Move every process of from into to. 0, or -errno of a move that failed
 * for another reason than the process being gone. */
static int move_all(const char *from, const char *to)
{
	char *procs = malloc(PROCS_MAX);
	int ret = 0;

	if (!procs)
		return -ENOMEM;
	for (int round = 0; !ret && round < MOVE_ROUNDS; round++) {
		bool moved = false;

		if (read_in(from, "cgroup.procs", procs, PROCS_MAX) <= 0)
			break;
		for (char *s = procs, *end; *s; s = end + strspn(end, "\n")) {
			long pid = strtol(s, &end, 10);
			int err;

			if (end == s)
				break;
			err = move_pid(to, pid);
			if (err && err != -ESRCH)
				ret = err;
			moved = true;
		}
		if (!moved)
			break;
	}
	free(procs);
	return ret;
}

/* Cgroups that memobs processes no longer running made here, empty: gone.
 * One with processes (the command of a memobs killed while it ran) stays
 * until a later run finds it empty. */
static void remove_stale(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		uint64_t start, now;
		pid_t pid;

		if (de->d_type != DT_DIR || !memcg_parse_name(de->d_name, &pid, &start))
			continue;
		if (!procfs_start_ticks(pid, &now) && now == start)
			continue;	/* its memobs runs */
		unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* What memobs killed with SIGKILL cannot do: once memobs has ended (EOF
 * on fd) without removing the command's cgroup, wait until the command's
 * processes have left it, then remove it and undo what v2 needed. */
static void __attribute__((noreturn)) reaper(const struct mo_memcg *cg, int fd)
{
	int null = open("/dev/null", O_RDWR);
	sigset_t none;
	char c;

	/* Nothing of memobs's stays open here (whoever reads its output to
	 * the end must not wait for this one), and no terminal's signal comes. */
	if (null >= 0) {
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		close(null);
	}
	close_range(3, fd - 1, 0);
	close_range(fd + 1, ~0u, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	while (read(fd, &c, 1) > 0 || errno == EINTR)
		errno = 0;
	if (access(cg->dir, F_OK))
		_exit(0);	/* memobs removed it */
	if (cg->self_dir[0])
		rmdir(cg->self_dir);
	while (rmdir(cg->dir) && errno == EBUSY)
		sleep(1);
	if (cg->disable_memory)
		write_in(cg->parent, "cgroup.subtree_control", "-memory");
	_exit(0);
}

static void start_reaper(struct mo_memcg *cg)
{
	int fds[2];

	cg->reaper = -1;
	cg->reaper_fd = -1;
	if (pipe2(fds, O_CLOEXEC))
		return;
	cg->reaper = fork();
	if (cg->reaper == 0)
		reaper(cg, fds[0]);
	close(fds[0]);
	if (cg->reaper < 0)
		close(fds[1]);
	else
		cg->reaper_fd = fds[1];
}

static char *read_mountinfo(void)
{
	struct mo_textbuf t = { 0 };
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int c;

	if (!f)
		return NULL;
	if (textbuf_reserve(&t, MOUNTINFO_MAX))
		goto fail;
	while ((c = getc(f)) != EOF) {
		if (textbuf_reserve(&t, MOUNTINFO_MAX))
			goto fail;
		t.data[t.len++] = c;
	}
	t.data[t.len] = 0;
	fclose(f);
	return t.data;
fail:
	fclose(f);
	free(t.data);
	return NULL;
}

/* v2: decide from the parent's files, and move memobs to its own leaf
 * and enable the memory controller when the plan says so. */
static int prepare_v2(struct mo_memcg *cg, const char *name, char *why, size_t len)
{
	char type[64], controllers[512], subtree[512], *procs = malloc(PROCS_MAX);
	struct mo_memcg_v2_files f = {
		.type = read_in(cg->parent, "cgroup.type", type, sizeof(type)) >= 0 ? type : NULL,
		.controllers = read_in(cg->parent, "cgroup.controllers", controllers, sizeof(controllers)) >= 0
				       ? controllers : NULL,
		.subtree_control = read_in(cg->parent, "cgroup.subtree_control", subtree, sizeof(subtree)) >= 0
					   ? subtree : NULL,
	};
	struct mo_memcg_v2_plan plan;
	ssize_t n;
	int ret;

	if (!procs)
		return -ENOMEM;
	n = read_in(cg->parent, "cgroup.procs", procs, PROCS_MAX);
	f.procs = n >= 0 && n < PROCS_MAX - 1 ? procs : NULL;
	ret = memcg_v2_plan(&f, getpid(), &plan, why, len);
	free(procs);
	if (ret)
		return ret;
	if (plan.move_self) {
		snprintf(cg->self_dir, sizeof(cg->self_dir), "%s/%s.self", cg->parent, name);
		if (mkdir(cg->self_dir, 0755) || move_pid(cg->self_dir, getpid())) {
			ret = -errno;
			snprintf(why, len, "cannot move memobs into %s: %s", cg->self_dir, strerror(errno));
			rmdir(cg->self_dir);
			cg->self_dir[0] = 0;
			return ret;
		}
	}
	if (plan.enable_memory) {
		ret = write_in(cg->parent, "cgroup.subtree_control", "+memory");
		if (ret) {
			snprintf(why, len, "cannot enable the memory controller in %s/cgroup.subtree_control: %s",
				 cg->parent, strerror(-ret));
			return ret;
		}
		/* The root's stays: other cgroups may use it from now on. */
		cg->disable_memory = plan.move_self;
	}
	return 0;
}

/* Put memobs back where it was, the parent as it was. */
static void undo_v2(struct mo_memcg *cg)
{
	if (cg->disable_memory)
		write_in(cg->parent, "cgroup.subtree_control", "-memory");
	cg->disable_memory = false;
	if (!cg->self_dir[0])
		return;
	move_all(cg->self_dir, cg->parent);
	rmdir(cg->self_dir);
	cg->self_dir[0] = 0;
}

static int place(struct mo_memcg *cg, char *why, size_t len)
{
	char *mountinfo = read_mountinfo(), self[8192];
	struct mo_memcg_place pl;
	int ret;

	if (!mountinfo || procfs_read_text("/proc/self/cgroup", self, sizeof(self)) < 0) {
		ret = -errno;
		free(mountinfo);
		snprintf(why, len, "cannot read /proc/self/mountinfo or cgroup: %s", strerror(-ret));
		return ret;
	}
	ret = memcg_locate(mountinfo, self, &pl, why, len);
	free(mountinfo);
	if (ret)
		return ret;
	cg->version = pl.version;
	snprintf(cg->parent, sizeof(cg->parent), "%s", pl.dir);
	snprintf(cg->path, sizeof(cg->path), "%s", pl.path);
	return 0;
}

struct mo_memcg *memcg__create(char *why, size_t len)
{
	struct mo_memcg *cg = calloc(1, sizeof(*cg));
	char name[64];
	uint64_t start;
	size_t n;

	if (!cg) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	if (place(cg, why, len))
		goto fail;
	if (procfs_start_ticks(getpid(), &start)) {
		snprintf(why, len, "cannot read /proc/self/stat");
		goto fail;
	}
	snprintf(name, sizeof(name), "memobs-%d-%llu", getpid(), (unsigned long long)start);
	remove_stale(cg->parent);
	if (cg->version == MO_MEMCG_V2 && prepare_v2(cg, name, why, len))
		goto fail_undo;
	n = strlen(cg->path);
	if (n == 1)
		n = 0;	/* the root, "/" */
	if (snprintf(cg->dir, sizeof(cg->dir), "%s/%s", cg->parent, name) >= (int)sizeof(cg->dir) ||
	    snprintf(cg->path + n, sizeof(cg->path) - n, "/%s", name) >= (int)(sizeof(cg->path) - n)) {
		snprintf(why, len, "the cgroup path %s is too long", cg->parent);
		goto fail_undo;
	}
	if (mkdir(cg->dir, 0755)) {
		snprintf(why, len, "cannot create %s: %s", cg->dir, strerror(errno));
		goto fail_undo;
	}
	start_reaper(cg);
	return cg;

fail_undo:
	undo_v2(cg);
fail:
	free(cg);
	return NULL;
}

int memcg__open_v2(const struct mo_memcg *cg)
{
	return cg->version == MO_MEMCG_V2 ? open(cg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

int memcg__enter(struct mo_memcg *cg, pid_t pid)
{
	return move_pid(cg->dir, pid);
}

int memcg__read(struct mo_memcg *cg, struct mo_memcg_stat *st)
{
	char *text = malloc(STAT_MAX);
	int ret;

	if (!text)
		return -ENOMEM;
	st->current = read_int(cg->dir, cg->version == MO_MEMCG_V1 ? "memory.usage_in_bytes" : "memory.current");
	st->kernel = cg->version == MO_MEMCG_V1 ? read_int(cg->dir, "memory.kmem.usage_in_bytes") : -1;
	ret = read_in(cg->dir, "memory.stat", text, STAT_MAX);
	if (ret >= 0)
		ret = memcg_parse_stat(text, cg->version, st);
	free(text);
	return st->current < 0 ? -EIO : ret < 0 ? ret : 0;
}

int64_t memcg__peak(struct mo_memcg *cg)
{
	return read_int(cg->dir, cg->version == MO_MEMCG_V1 ? "memory.max_usage_in_bytes" : "memory.peak");
}

enum mo_memcg_version memcg__version(const struct mo_memcg *cg)
{
	return cg->version;
}

const char *memcg__path(const struct mo_memcg *cg)
{
	return cg->path;
}

int memcg__remove(struct mo_memcg *cg, char *why, size_t len)
{
	int ret = 0;

	if (!cg)
		return 0;
	/* On v2, the parent takes processes again once its children have no controller. */
	if (cg->disable_memory)
		write_in(cg->parent, "cgroup.subtree_control", "-memory");
	cg->disable_memory = false;
	for (int round = 0; round < MOVE_ROUNDS; round++) {
		ret = move_all(cg->dir, cg->parent);
		if (!ret && !rmdir(cg->dir))
			break;
		ret = ret ?: -errno;
		if (ret == -ENOENT) {
			ret = 0;
			break;
		}
	}
	undo_v2(cg);
	if (cg->reaper > 0) {
		close(cg->reaper_fd);
		if (!ret)
			waitpid(cg->reaper, NULL, 0);
	}
	if (ret)
		snprintf(why, len, "cannot remove %s: %s (%s)", cg->dir, strerror(-ret),
			 cg->reaper > 0 ? "a child of memobs removes it once it is empty" :
					  "the next memobs run removes it once it is empty");
	free(cg);
	return ret;
}
