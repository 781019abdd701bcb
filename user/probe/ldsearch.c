// SPDX-License-Identifier: GPL-2.0
/* The dynamic linker's search, replayed (ldsearch.h). glibc: preloads,
 * then DT_NEEDED breadth first; a name is found through DT_RPATH of the
 * loader and its loaders (unless the loader has DT_RUNPATH), LD_LIBRARY_PATH,
 * the loader's DT_RUNPATH, /etc/ld.so.cache, then the system directories.
 * musl: LD_LIBRARY_PATH, DT_RUNPATH or else DT_RPATH of the loader and its
 * loaders, then /etc/ld-musl-ARCH.path (or /lib:/usr/local/lib:/usr/lib);
 * libc.so and its siblings name the interpreter itself. */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/grow.h"
#include "probe/elfinfo.h"
#include "probe/ldcache.h"
#include "probe/ldsearch.h"
#include "probe/rootpath.h"

#define MAX_OBJECTS 256

struct object {
	char *dir;		/* its directory inside root, as found: $ORIGIN */
	char *open;		/* root + its resolved path: what memobs opens */
	char *asked;		/* the name it was loaded by */
	char *soname;
	char *rpath;
	char *runpath;
	char **needed;
	size_t nneeded, needed_alloc;
	int loader;		/* the object whose DT_NEEDED named it (preloads: the executable) */
	dev_t dev;
	ino_t ino;
	bool interp;
};

struct resolver {
	const struct mo_ld_query *q;
	struct mo_ld_objects *out;
	int elfclass, machine;
	char interp[PATH_MAX];
	int interp_idx;		/* musl: its libc once placed in the order, else -1 */
	struct mo_ldcache *cache;
	bool cache_read;
	struct object objs[MAX_OBJECTS];
	size_t n;
};

static const char *triplet(int machine)
{
	switch (machine) {
	case EM_X86_64: return "x86_64-linux-gnu";
	case EM_AARCH64: return "aarch64-linux-gnu";
	case EM_386: return "i386-linux-gnu";
	default: return NULL;
	}
}

static const char *platform(int machine)
{
	switch (machine) {
	case EM_X86_64: return "x86_64";
	case EM_AARCH64: return "aarch64";
	case EM_386: return "i686";
	default: return "";
	}
}

static bool ident_char(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Dynamic string tokens of a search path entry: $ORIGIN (the object's
 * directory), for glibc also $LIB (Debian's multiarch directory) and
 * $PLATFORM; bare or in braces. */
static int expand(const struct resolver *r, const char *src, size_t srclen, const char *origin, char *buf,
		  size_t len)
{
	char lib[64] = "lib64";
	size_t at = 0;

	if (triplet(r->machine))
		snprintf(lib, sizeof(lib), "lib/%s", triplet(r->machine));
	buf[0] = 0;
	for (size_t i = 0; i < srclen;) {
		static const char *const names[] = { "ORIGIN", "LIB", "PLATFORM" };
		const char *values[] = { origin, lib, platform(r->machine) };
		bool done = false;

		if (src[i] == '$') {
			for (size_t k = 0; k < 3 && !done; k++) {
				size_t nl = strlen(names[k]), skip = 0;

				if (i + 1 + nl <= srclen && !strncmp(src + i + 1, names[k], nl) &&
				    (i + 1 + nl == srclen || !ident_char(src[i + 1 + nl])))
					skip = 1 + nl;
				else if (i + 3 + nl <= srclen && src[i + 1] == '{' && !strncmp(src + i + 2, names[k], nl) &&
					 src[i + 2 + nl] == '}')
					skip = 3 + nl;
				if (skip && (!r->out->musl || k == 0)) {
					if (rootpath_append(buf, len, &at, values[k], strlen(values[k])))
						return -ENAMETOOLONG;
					i += skip;
					done = true;
				}
			}
		}
		if (!done && rootpath_append(buf, len, &at, src + i++, 1))
			return -ENAMETOOLONG;
	}
	return 0;
}

static const char *cwd(const struct resolver *r)
{
	return r->q->cwd && r->q->cwd[0] == '/' ? r->q->cwd : "/";
}

static void free_object(struct object *o)
{
	free(o->dir);
	free(o->open);
	free(o->asked);
	free(o->soname);
	free(o->rpath);
	free(o->runpath);
	for (size_t i = 0; i < o->nneeded; i++)
		free(o->needed[i]);
	free(o->needed);
}

static void take_dyn(int64_t tag, const char *s, void *arg)
{
	struct object *o = arg;
	char **slot = NULL;

	switch (tag) {
	case DT_NEEDED:
		if (GROW(o->needed, o->nneeded + 1, o->needed_alloc))
			return;
		o->needed[o->nneeded] = strdup(s);
		if (o->needed[o->nneeded])
			o->nneeded++;
		return;
	case DT_SONAME: slot = &o->soname; break;
	case DT_RPATH: slot = &o->rpath; break;
	case DT_RUNPATH: slot = &o->runpath; break;
	}
	if (slot && !*slot)
		*slot = strdup(s);
}

/* The directory part of path (inside root) into a new string. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, slash - path);
}

/* Add the object at `open` (a path memobs can open); -ENOEXEC when it is
 * not an ELF file of the executable's class and machine (the loader passes
 * over it too), -ENOSPC when the list is full. Returns its index. */
static int add_object(struct resolver *r, const char *open, const char *found_as, const char *asked, int loader)
{
	struct mo_elf *elf = elf__open(open);
	struct object *o;
	struct stat st;
	int cls, mach;

	if (!elf)
		return -errno;
	if (elf__machine(elf, &cls, &mach) || (r->n && (cls != r->elfclass || mach != r->machine))) {
		elf__free(elf);
		return -ENOEXEC;
	}
	/* A /proc/PID/exe whose process exits after the open is gone (callers
	 * pass over it), not "not an ELF file". */
	if (stat(open, &st)) {
		int err = -errno;

		elf__free(elf);
		return err;
	}
	for (size_t i = 0; i < r->n; i++)
		if (r->objs[i].dev == st.st_dev && r->objs[i].ino == st.st_ino) {
			elf__free(elf);
			return i;	/* the same file by another name */
		}
	if (r->n == MAX_OBJECTS) {
		elf__free(elf);
		return -ENOSPC;
	}
	o = &r->objs[r->n];
	memset(o, 0, sizeof(*o));
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->loader = loader;
	o->open = strdup(open);
	o->dir = dir_of(found_as);
	o->asked = asked ? strdup(asked) : NULL;
	if (!r->n) {
		r->elfclass = cls;
		r->machine = mach;
	}
	elf__dyn_strings(elf, take_dyn, o);
	elf__free(elf);
	if (!o->open || !o->dir) {
		free_object(o);
		return -ENOMEM;
	}
	return r->n++;
}

/* Try path (inside root) for name. Returns the index, or -errno. */
static int try_path(struct resolver *r, const char *path, const char *name, int loader)
{
	char resolved[PATH_MAX], open[2 * PATH_MAX];
	int ret = rootpath_resolve(r->q->root, path, resolved, sizeof(resolved));

	if (ret)
		return ret;
	if (snprintf(open, sizeof(open), "%s%s", r->q->root, resolved) >= (int)sizeof(open))
		return -ENAMETOOLONG;
	return add_object(r, open, path, name, loader);
}

/* Each directory of a search path (separated by seps; an empty entry is
 * the working directory) with name appended. */
static int search(struct resolver *r, const char *list, const char *seps, const char *origin, const char *name,
		  int loader)
{
	char dir[PATH_MAX], path[PATH_MAX], abs[PATH_MAX];

	while (list && *list) {
		size_t len = strcspn(list, seps);
		int ret = expand(r, list, len, origin, dir, sizeof(dir));

		list += len + (list[len] != 0);
		if (ret)
			continue;
		if (dir[0] != '/') {
			if (rootpath_join(abs, sizeof(abs), cwd(r), dir))
				continue;
			strcpy(dir, abs);
		}
		if (rootpath_join(path, sizeof(path), dir, name))
			continue;
		ret = try_path(r, path, name, loader);
		if (ret >= 0 || ret == -ENOSPC)
			return ret;
	}
	return -ENOENT;
}

static const char *exe_dir(const struct resolver *r)
{
	return r->objs[0].dir;
}

static int search_cache(struct resolver *r, const char *name, int loader)
{
	char path[PATH_MAX];
	const char *hit;
	size_t iter = 0;

	if (!r->cache_read) {
		r->cache_read = true;
		if (snprintf(path, sizeof(path), "%s/etc/ld.so.cache", r->q->root) < (int)sizeof(path))
			r->cache = ldcache__open(path);
	}
	while (r->cache && (hit = ldcache__find(r->cache, name, &iter))) {
		int ret = try_path(r, hit, name, loader);

		if (ret >= 0 || ret == -ENOSPC)
			return ret;
	}
	return -ENOENT;
}

/* glibc's system directories. Debian's are the multiarch ones, then /lib
 * and /usr/lib; /lib64 and /usr/lib64 are other distributions' (a
 * container's): a directory that holds no library of the right class and
 * machine changes nothing. */
static int search_system(struct resolver *r, const char *name, int loader)
{
	const char *t = triplet(r->machine);
	char dirs[512];

	if (t)
		snprintf(dirs, sizeof(dirs), "/lib/%s:/usr/lib/%s:/lib64:/usr/lib64:/lib:/usr/lib", t, t);
	else
		snprintf(dirs, sizeof(dirs), "/lib64:/usr/lib64:/lib:/usr/lib");
	return search(r, dirs, ":", "", name, loader);
}

static int search_glibc(struct resolver *r, const char *name, int loader)
{
	const struct object *ld = &r->objs[loader];
	int ret = -ENOENT;

	if (!ld->runpath)
		for (int l = loader; l >= 0 && ret < 0; l = r->objs[l].loader)
			if (r->objs[l].rpath)
				ret = search(r, r->objs[l].rpath, ":", r->objs[l].dir, name, loader);
	if (ret < 0 && r->q->library_path && !r->q->secure)
		ret = search(r, r->q->library_path, ":;", exe_dir(r), name, loader);
	if (ret < 0 && ld->runpath)
		ret = search(r, ld->runpath, ":", ld->dir, name, loader);
	if (ret < 0)
		ret = search_cache(r, name, loader);
	if (ret < 0)
		ret = search_system(r, name, loader);
	return ret;
}

/* musl's path file is named for its interpreter: ld-musl-x86_64.so.1
 * reads /etc/ld-musl-x86_64.path (directories, one a line or colon
 * separated); without one, /lib:/usr/local/lib:/usr/lib. */
static int search_musl(struct resolver *r, const char *name, int loader)
{
	char file[PATH_MAX], arch[64], dirs[4096] = "/lib:/usr/local/lib:/usr/lib";
	const char *base = strrchr(r->interp, '/');
	int ret = -ENOENT;
	FILE *f;

	if (r->q->library_path && !r->q->secure)
		ret = search(r, r->q->library_path, ":\n", exe_dir(r), name, loader);
	for (int l = loader; l >= 0 && ret < 0; l = r->objs[l].loader) {
		const char *p = r->objs[l].runpath ? r->objs[l].runpath : r->objs[l].rpath;

		if (p)
			ret = search(r, p, ":\n", r->objs[l].dir, name, loader);
	}
	if (ret >= 0)
		return ret;
	base = base ? base + 1 : r->interp;
	if (sscanf(base, "ld-musl-%63[^.]", arch) == 1 &&
	    snprintf(file, sizeof(file), "%s/etc/ld-musl-%s.path", r->q->root, arch) < (int)sizeof(file) &&
	    (f = fopen(file, "re"))) {
		size_t n = fread(dirs, 1, sizeof(dirs) - 1, f);

		dirs[n] = 0;
		fclose(f);
	}
	return search(r, dirs, ":\n", "", name, loader);
}

/* musl answers these from the libc it is (src/ldso/dynlink.c). */
static bool musl_reserved(const char *name)
{
	static const char *const libs[] = { "c", "pthread", "rt", "m", "dl", "util", "xnet" };

	if (strncmp(name, "lib", 3))
		return false;
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		size_t l = strlen(libs[i]);

		if (!strncmp(name + 3, libs[i], l) && name[3 + l] == '.')
			return true;
	}
	return false;
}

static void note_missing(struct resolver *r, const char *name)
{
	if (!r->out->missing[0])
		snprintf(r->out->missing, sizeof(r->out->missing), "%s", name);
}

static int place_interp(struct resolver *r, int loader)
{
	int ret;

	if (r->interp_idx >= 0)
		return r->interp_idx;
	ret = try_path(r, r->interp, NULL, loader);
	if (ret >= 0) {
		r->objs[ret].interp = true;
		r->interp_idx = ret;
	}
	return ret;
}

/* Load name as the loader at index loader would. */
static int load(struct resolver *r, const char *name, int loader)
{
	char path[PATH_MAX];
	int ret;

	for (size_t i = 0; i < r->n; i++)
		if ((r->objs[i].asked && !strcmp(r->objs[i].asked, name)) ||
		    (r->objs[i].soname && !strcmp(r->objs[i].soname, name)))
			return i;
	if (r->out->musl && musl_reserved(name))
		return place_interp(r, loader);
	if (strchr(name, '/')) {
		ret = name[0] == '/' ? snprintf(path, sizeof(path), "%s", name) :
				       snprintf(path, sizeof(path), "%s/%s", cwd(r), name);
		ret = ret < (int)sizeof(path) ? try_path(r, path, name, loader) : -ENAMETOOLONG;
	} else {
		ret = r->out->musl ? search_musl(r, name, loader) : search_glibc(r, name, loader);
	}
	if (ret < 0 && ret != -ENOSPC)
		note_missing(r, name);
	return ret;
}

/* LD_PRELOAD, then glibc's /etc/ld.so.preload: names separated by blanks
 * or colons. In a set-user-ID run glibc takes no name with a slash from
 * the environment and musl takes none at all. */
static void preload(struct resolver *r, const char *list, bool from_env)
{
	char name[PATH_MAX];

	while (list && *list) {
		size_t skip = strspn(list, " \t\n:"), len;

		list += skip;
		len = strcspn(list, " \t\n:");
		if (!len)
			break;
		if (len < sizeof(name)) {
			memcpy(name, list, len);
			name[len] = 0;
			if (!(from_env && r->q->secure && (r->out->musl || strchr(name, '/'))))
				load(r, name, 0);
		}
		list += len;
	}
}

static void preload_file(struct resolver *r)
{
	char path[PATH_MAX], buf[8192];
	size_t n;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/etc/ld.so.preload", r->q->root) >= (int)sizeof(path))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	/* '#' starts no comment for ld.so either; it would be a name. */
	preload(r, buf, false);
}


static void free_resolver(struct resolver *r)
{
	for (size_t i = 0; i < r->n; i++)
		free_object(&r->objs[i]);
	ldcache__free(r->cache);
	free(r);
}

/* Hand the objects over in load order. */
static int take_objects(struct resolver *r)
{
	struct mo_ld_objects *out = r->out;

	out->objs = calloc(r->n, sizeof(*out->objs));
	if (!out->objs)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		out->objs[i].path = r->objs[i].open;
		out->objs[i].exe = i == 0;
		out->objs[i].interp = r->objs[i].interp;
		r->objs[i].open = NULL;
	}
	out->count = r->n;
	return 0;
}

int ldsearch_resolve(const struct mo_ld_query *q, struct mo_ld_objects *out, char *err, size_t errlen)
{
	struct resolver *r = calloc(1, sizeof(*r));
	struct mo_elf *exe = NULL;
	const char *base;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->q = q;
	r->out = out;
	r->interp_idx = -1;
	ret = add_object(r, q->exe, q->exe_path ? q->exe_path : q->exe, NULL, -1);
	if (ret >= 0 && !(exe = elf__open(q->exe)))
		ret = -errno;
	if (ret < 0) {
		snprintf(err, errlen, "cannot read %s: %s", q->exe,
			 ret == -ENOEXEC ? "not an ELF file" : strerror(-ret));
		goto out_free;
	}
	if (!elf__interp(exe, r->interp, sizeof(r->interp))) {
		base = strrchr(r->interp, '/');
		out->musl = !strncmp(base ? base + 1 : r->interp, "ld-musl-", 8);
		preload(r, q->preload, true);
		if (!out->musl)
			preload_file(r);
		for (size_t i = 0; i < r->n; i++)
			for (size_t k = 0; k < r->objs[i].nneeded; k++)
				load(r, r->objs[i].needed[k], i);
		/* musl's libc is the loader: there even when no one names it. */
		if (out->musl && place_interp(r, 0) < 0)
			note_missing(r, r->interp);
	}
	out->truncated = r->n == MAX_OBJECTS;
	ret = take_objects(r);
	if (ret)
		snprintf(err, errlen, "out of memory");
out_free:
	elf__free(exe);
	free_resolver(r);
	return ret;
}

void ldsearch_free(struct mo_ld_objects *out)
{
	for (size_t i = 0; i < out->count; i++)
		free(out->objs[i].path);
	free(out->objs);
	memset(out, 0, sizeof(*out));
}
