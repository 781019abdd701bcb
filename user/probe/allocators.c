// SPDX-License-Identifier: GPL-2.0
/* Which of the objects a process will load define an allocator, and what
 * the process is given at its exec, read from /proc. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/procfs.h"
#include "probe/allocators.h"
#include "probe/elfinfo.h"
#include "probe/ldsearch.h"
#include "probe/probeset.h"


static bool has(struct mo_elf *e, const char *name)
{
	struct mo_elf_func f;

	return !elf__func(e, name, &f);
}

/* prefix + malloc and prefix + free, both defined; malloc's place in m. */
static bool defines(struct mo_elf *e, const char *prefix, struct mo_elf_func *m)
{
	char name[32];
	struct mo_elf_func f;

	snprintf(name, sizeof(name), "%smalloc", prefix);
	if (elf__func(e, name, m))
		return false;
	snprintf(name, sizeof(name), "%sfree", prefix);
	return !elf__func(e, name, &f);
}

/* By the names each family exports besides the malloc family. tcmalloc and
 * mimalloc export __libc_malloc too, so glibc is known by its own. */
static const char *family(struct mo_elf *e, const char *prefix, bool in_exe, bool musl_libc)
{
	if (!strcmp(prefix, "je_"))
		return "jemalloc";
	if (!strcmp(prefix, "mi_"))
		return "mimalloc";
	if (has(e, "mallocx") || has(e, "malloc_stats_print"))
		return "jemalloc";
	if (has(e, "tc_malloc"))
		return "tcmalloc";
	if (has(e, "mi_malloc"))
		return "mimalloc";
	if (has(e, "gnu_get_libc_version") || has(e, "malloc_trim"))
		return "glibc";
	if (musl_libc || has(e, "__libc_malloc_impl") || has(e, "__dls3") || has(e, "__simple_malloc") ||
	    has(e, "__expand_heap"))
		return "musl";
	return in_exe ? "static" : "other";
}

const char *allocators_family(const char *path, const char *prefix, bool in_exe)
{
	struct mo_elf *e = elf__open(path);
	const char *name;

	if (!e)
		return in_exe ? "static" : "other";
	name = family(e, prefix, in_exe, false);
	elf__free(e);
	return name;
}

bool allocators_in_file(const char *path)
{
	struct mo_elf *e = elf__open(path);
	struct mo_elf_func f;
	bool found;

	if (!e)
		return false;
	found = defines(e, "", &f) || defines(e, "je_", &f) || defines(e, "mi_", &f);
	elf__free(e);
	return found;
}

static void add_file(struct mo_alloc_files *out, const struct mo_ld_object *o, bool musl, struct mo_elf *e,
		     const char *prefix)
{
	struct mo_alloc_file *f;
	bool in_exe = o->exe;

	if (out->count == MO_ALLOC_MAX_FILES) {
		out->truncated = true;
		return;
	}
	f = &out->files[out->count];
	snprintf(f->path, sizeof(f->path), "%s", o->path);
	snprintf(f->prefix, sizeof(f->prefix), "%s", prefix);
	snprintf(f->name, sizeof(f->name), "%s", family(e, prefix, in_exe, o->interp && musl));
	f->in_exe = in_exe;
	f->wins = !prefix[0];
	for (size_t i = 0; i < out->count; i++)
		f->wins &= !(out->files[i].wins);
	out->count++;
}

/* The allocators one object defines: the plain malloc family; a je_
 * prefixed jemalloc (built --with-jemalloc-prefix, as Redis links it),
 * which is another allocator beside a plain malloc; mimalloc's mi_ names
 * when it does not override malloc. */
static void check_object(struct mo_alloc_files *out, const struct mo_ld_object *o, bool musl)
{
	struct mo_elf *e = elf__open(o->path);
	struct mo_elf_func plain, other;
	bool has_plain;

	if (!e)
		return;
	has_plain = defines(e, "", &plain);
	if (has_plain)
		add_file(out, o, musl, e, "");
	if (defines(e, "je_", &other) && (!has_plain || other.offset != plain.offset))
		add_file(out, o, musl, e, "je_");
	if (!has_plain && defines(e, "mi_", &other))
		add_file(out, o, musl, e, "mi_");
	elf__free(e);
}

int allocators_resolve(const struct mo_ld_query *q, struct mo_alloc_files *out, char *err, size_t errlen)
{
	struct mo_ld_objects objs;
	int ret = ldsearch_resolve(q, &objs, err, errlen);

	memset(out, 0, sizeof(*out));
	if (ret)
		return ret;
	out->nobjects = objs.count;
	snprintf(out->missing, sizeof(out->missing), "%s", objs.missing);
	for (size_t i = 0; i < objs.count; i++)
		check_object(out, &objs.objs[i], objs.musl);
	ldsearch_free(&objs);
	return 0;
}

/* ---- a process stopped at its exec, read from /proc ---- */

/* A /proc/PID link (exe, cwd) as a path inside the process's root: the
 * kernel shows it from memobs's root, which for a chroot includes the
 * chroot's own path; for another mount namespace it is already the path
 * seen inside. */
static int proc_path(pid_t pid, const char *link, const char *chroot, char *buf, size_t len)
{
	char path[64];
	size_t cl = strlen(chroot);
	ssize_t n;
	char *del;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, link);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	del = strstr(buf, " (deleted)");
	if (del && !del[10])
		*del = 0;
	if (cl > 1 && !strncmp(buf, chroot, cl) && buf[cl] == '/')
		memmove(buf, buf + cl, strlen(buf + cl) + 1);
	return 0;
}

/* The last LD_LIBRARY_PATH and LD_PRELOAD of a NUL-separated environment
 * (the loaders keep the last one they see). */
static void scan_environ(char *env, size_t len, const char **llp, const char **pre)
{
	for (size_t at = 0; at < len; at += strlen(env + at) + 1) {
		if (!strncmp(env + at, "LD_LIBRARY_PATH=", 16))
			*llp = env + at + 16;
		else if (!strncmp(env + at, "LD_PRELOAD=", 11))
			*pre = env + at + 11;
	}
}

/* AT_SECURE as the kernel sets it for a set-user/group-ID exec: real and
 * effective ids differ. (File capabilities set it too; not seen here.) */
static bool secure_exec(pid_t pid)
{
	char path[64], line[256];
	unsigned long r, e;
	bool secure = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if ((sscanf(line, "Uid: %lu %lu", &r, &e) == 2 || sscanf(line, "Gid: %lu %lu", &r, &e) == 2) && r != e)
			secure = true;
	fclose(f);
	return secure;
}

/* The loader's query for pid's next program: its root and cwd from /proc,
 * the rest as given (exe_path in memobs's view, or NULL: /proc/PID/exe). */
static int resolve_for(pid_t pid, const char *exe, const char *exe_path, char *env, size_t envlen, bool secure,
		       struct mo_alloc_files *out, char *err, size_t errlen)
{
	char root[64], ns[64], chroot[PATH_MAX] = "/", path[PATH_MAX], cwd_path[PATH_MAX];
	struct mo_ld_query q = { .exe = exe, .secure = secure };
	size_t cl;

	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", pid);
	/* Our own root and mount namespace: plain paths, the report reads better. */
	q.root = file_id_same_path(root, "/") && file_id_same_path(ns, "/proc/self/ns/mnt") ? "" : root;
	if (q.root[0]) {
		ssize_t n = readlink(root, chroot, sizeof(chroot) - 1);

		chroot[n > 0 ? n : 1] = 0;
	}
	cl = strlen(chroot);
	if (!exe_path && !proc_path(pid, "exe", chroot, path, sizeof(path)))
		q.exe_path = path;
	else if (exe_path && cl > 1 && !strncmp(exe_path, chroot, cl) && exe_path[cl] == '/')
		q.exe_path = exe_path + cl;
	else
		q.exe_path = exe_path;
	if (!proc_path(pid, "cwd", chroot, cwd_path, sizeof(cwd_path)))
		q.cwd = cwd_path;
	if (env)
		scan_environ(env, envlen, &q.library_path, &q.preload);
	return allocators_resolve(&q, out, err, errlen);
}

int allocators_for_exe(pid_t pid, const char *exe, struct mo_alloc_files *out, char *err, size_t errlen)
{
	size_t envlen;
	char *env = procfs_environ(pid, &envlen);
	int ret = resolve_for(pid, exe, NULL, env, envlen, secure_exec(pid), out, err, errlen);

	free(env);
	return ret;
}

int allocators_for_exec(pid_t pid, const struct mo_exec_image *img, struct mo_alloc_files *out, char *err,
			size_t errlen)
{
	char *env = img->env ? malloc(img->envlen + 1) : NULL;
	int ret;

	if (env) {
		memcpy(env, img->env, img->envlen);
		env[img->envlen] = 0;
	}
	ret = resolve_for(pid, img->exe, img->exe_path, env, env ? img->envlen : 0, img->secure, out, err, errlen);
	free(env);
	return ret;
}
