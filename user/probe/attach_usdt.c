// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "lib/grow.h"
#include "memobs.skel.h"
#include "probe/attach_usdt.h"
#include "probe/elfinfo.h"
#include "probe/pidlinks.h"
#include "probe/probeset.h"
#include "probe/uprobe_multi.h"
#include "probe/usdt.h"

/* A file with markers, kept open: links name it as /proc/self/fd/N, so a
 * link is always on the content that was read. */
struct marker_file {
	struct mo_marker_sites sites;
	int fd;
};

/* One of memobs's own files, linked system-wide. */
struct own_file {
	char path[PATH_MAX];
	int wd;			/* inotify watch, -1: none */
	struct mo_file_id id;	/* the content linked */
	int link;		/* -1: detached (written since) */
};

struct mo_usdt_probes {
	struct memobs_bpf *skel;
	struct mo_links *links;
	struct mo_probeset *files;	/* files with markers: struct marker_file */
	struct mo_pid_link_table pids;	/* one link an entry */
	struct own_file *own;
	size_t nown, own_alloc;
	int inotify;
};

int usdt_probes__prepare(struct memobs_bpf *skel)
{
	return uprobe_multi_prepare(skel->progs.mo_marker);
}

struct mo_usdt_probes *usdt_probes__new(struct memobs_bpf *skel, struct mo_links *links)
{
	struct mo_usdt_probes *up = calloc(1, sizeof(*up));

	if (!up)
		return NULL;
	up->skel = skel;
	up->links = links;
	up->inotify = -1;
	up->files = probeset__new(sizeof(struct marker_file));
	if (!up->files) {
		free(up);
		return NULL;
	}
	return up;
}

static void release_file(void *value, void *ctx)
{
	struct marker_file *mf = value;

	(void)ctx;
	usdt_markers_free(&mf->sites);
	close(mf->fd);
}

void usdt_probes__free(struct mo_usdt_probes *up)
{
	if (!up)
		return;
	probeset__free(up->files, release_file, NULL);
	if (up->inotify >= 0)
		close(up->inotify);
	pid_links__free(&up->pids);
	free(up->own);
	free(up);
}

/* The markers of the file open at fd, read once per content. NULL when it
 * has none (not remembered: the exec gates remember what they saw), or on
 * error with the reason in err and -errno in *ret. */
static struct marker_file *markers_of(struct mo_usdt_probes *up, int fd, const struct mo_file_id *id, int *ret,
				      char *err, size_t errlen)
{
	struct mo_marker_sites sites;
	struct marker_file *mf = probeset__get(up->files, id, "");
	struct mo_elf *elf;
	char path[64], why[256];
	int n, keep;

	*ret = 0;
	if (mf)
		return mf;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	elf = elf__open(path);
	if (!elf)
		return NULL;	/* not ELF (a script's text, say): no markers */
	n = usdt_markers(elf, &sites, why, sizeof(why));
	elf__free(elf);
	if (sites.unsupported)
		snprintf(err, errlen, "%s: %zu marker%s left out, %s", path, sites.unsupported,
			 sites.unsupported == 1 ? "" : "s", why);
	if (n <= 0) {
		*ret = n;
		return NULL;
	}
	/* Another version of the file: replaced here (links to it stay until closed). */
	if ((mf = probeset__find(up->files, id, "", NULL)))
		release_file(mf, NULL);
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	mf = keep >= 0 ? probeset__add(up->files, id, "") : NULL;
	if (!mf) {
		*ret = keep >= 0 ? -ENOMEM : -errno;
		if (keep >= 0)
			close(keep);
		usdt_markers_free(&sites);
		return NULL;
	}
	mf->sites = sites;
	mf->fd = keep;
	return mf;
}

/* One link for every marker of mf, for tgid (0: every process). */
static int link_markers(struct mo_usdt_probes *up, const struct marker_file *mf, pid_t tgid)
{
	char path[64];
	struct mo_uprobe_multi spec = {
		.path = path,
		.offsets = mf->sites.offsets,
		.ref_ctr_offsets = mf->sites.sema_offsets,
		.cookies = mf->sites.cookies,
		.count = mf->sites.count,
		.pid = tgid,
	};

	snprintf(path, sizeof(path), "/proc/self/fd/%d", mf->fd);
	return uprobe_multi_attach(bpf_program__fd(up->skel->progs.mo_marker), &spec);
}

static int add_pid_link(struct mo_usdt_probes *up, pid_t tgid, const struct mo_file_id *id, int link)
{
	struct mo_pid_links *e = pid_links__new_entry(&up->pids, tgid, id, "");

	if (!e) {
		close(link);
		return -ENOMEM;
	}
	if (links__add(up->links, link, tgid))
		return -ENOMEM;
	e->fds[e->nfds++] = link;
	pid_links__keep(&up->pids, e);
	return 0;
}

int usdt_probes__attach_pid(struct mo_usdt_probes *up, pid_t tgid, int fd, char *err, size_t errlen)
{
	struct marker_file *mf;
	struct mo_file_id id;
	struct stat st;
	int ret, link;

	err[0] = 0;
	if (fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot read the file pid %d runs: %s", tgid, strerror(errno));
		return ret;
	}
	file_id_from_stat(&st, &id);
	if (pid_links__current(&up->pids, up->links, tgid, &id, "")) {
		mf = probeset__get(up->files, &id, "");
		return mf ? (int)mf->sites.count : 0;
	}
	mf = markers_of(up, fd, &id, &ret, err, errlen);
	if (!mf)
		return ret;
	link = link_markers(up, mf, tgid);
	if (link < 0) {
		if (link != -ESRCH)
			snprintf(err, errlen, "cannot attach the markers for pid %d: %s", tgid, strerror(-link));
		return link;
	}
	ret = add_pid_link(up, tgid, &id, link);
	return ret ?: (int)mf->sites.count;
}

size_t usdt_probes__pids(const struct mo_usdt_probes *up)
{
	return up->pids.n;
}

int usdt_probes__fork(struct mo_usdt_probes *up, pid_t parent, pid_t child, char *err, size_t errlen)
{
	size_t n = up->pids.n;

	for (size_t i = 0; i < n; i++) {
		struct mo_file_id id = up->pids.v[i].id;
		struct marker_file *mf;
		int link, ret;

		if (up->pids.v[i].tgid != parent || !(mf = probeset__get(up->files, &id, "")) ||
		    pid_links__has(&up->pids, child, &id, ""))
			continue;
		link = link_markers(up, mf, child);
		if (link == -ESRCH)
			return 0;	/* gone already */
		ret = link < 0 ? link : add_pid_link(up, child, &id, link);
		if (ret) {
			snprintf(err, errlen, "cannot attach the markers for pid %d (forked by %d): %s", child, parent,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

bool usdt_probes__exit(struct mo_usdt_probes *up, pid_t tgid)
{
	return pid_links__exit(&up->pids, tgid);
}

static int link_own(struct mo_usdt_probes *up, struct own_file *o, char *err, size_t errlen)
{
	struct marker_file *mf;
	struct stat st;
	int fd, ret;

	o->link = -1;
	fd = open(o->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot attach markers in %s: %s", o->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	file_id_from_stat(&st, &o->id);
	mf = markers_of(up, fd, &o->id, &ret, err, errlen);
	close(fd);
	if (!mf)
		return ret;
	o->link = link_markers(up, mf, 0);
	if (o->link < 0) {
		ret = o->link;
		o->link = -1;
		snprintf(err, errlen, "cannot attach markers in %s: %s", o->path, strerror(-ret));
		return ret;
	}
	if (links__add(up->links, o->link, 0)) {
		o->link = -1;
		return -ENOMEM;
	}
	return mf->sites.count;
}

#define WATCH_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF)

int usdt_probes__attach_own(struct mo_usdt_probes *up, const char *path, char *err, size_t errlen)
{
	struct own_file *o;

	err[0] = 0;
	if (GROW(up->own, up->nown + 1, up->own_alloc))
		return -ENOMEM;
	o = &up->own[up->nown];
	memset(o, 0, sizeof(*o));
	/* The file itself, not a link to it (/proc/self/exe): that is what inotify watches. */
	if (!realpath(path, o->path)) {
		snprintf(err, errlen, "cannot attach markers in %s: %s", path, strerror(errno));
		return -errno;
	}
	if (up->inotify < 0)
		up->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	o->wd = up->inotify >= 0 ? inotify_add_watch(up->inotify, o->path, WATCH_MASK) : -1;
	up->nown++;
	return link_own(up, o, err, errlen);
}

int usdt_probes__is_own(struct mo_usdt_probes *up, int fd)
{
	struct mo_file_id id;
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	file_id_from_stat(&st, &id);
	for (size_t i = 0; i < up->nown; i++)
		if (up->own[i].link >= 0 && file_id_same_content(&up->own[i].id, &id))
			return 1;
	return 0;
}

void usdt_probes__unwatch(struct mo_usdt_probes *up)
{
	for (size_t i = 0; i < up->nown; i++)
		if (up->own[i].wd >= 0) {
			inotify_rm_watch(up->inotify, up->own[i].wd);
			up->own[i].wd = -1;
		}
}

int usdt_probes__watch_fd(struct mo_usdt_probes *up)
{
	return up->inotify;
}

/* An event on o: written in place, it loses its link (its processes would
 * trap at the old offsets of new code); once written, or replaced by another
 * file at its path, it is attached again. */
static void own_event(struct mo_usdt_probes *up, struct own_file *o, __u32 mask,
		      void (*warn)(void *ctx, const char *text), void *ctx)
{
	struct mo_file_id now;
	char err[512] = "";
	bool changed = file_id_of(o->path, &now) || !file_id_same_content(&now, &o->id);

	if (mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
		/* Another file at the path (or none): the old inode keeps its link. */
		inotify_rm_watch(up->inotify, o->wd);
		o->wd = inotify_add_watch(up->inotify, o->path, WATCH_MASK);
		if (o->wd >= 0 && changed && link_own(up, o, err, sizeof(err)) < 0 && err[0])
			warn(ctx, err);
		return;
	}
	if (changed && o->link >= 0 && file_id_same_file(&now, &o->id)) {
		links__close_now(up->links, o->link);
		o->link = -1;
	}
	if ((mask & IN_CLOSE_WRITE) && o->link < 0 && link_own(up, o, err, sizeof(err)) < 0 && err[0])
		warn(ctx, err);
}

void usdt_probes__on_watch(struct mo_usdt_probes *up, void (*warn)(void *ctx, const char *text), void *ctx)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(up->inotify, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			for (size_t i = 0; i < up->nown; i++)
				if (up->own[i].wd == ev->wd)
					own_event(up, &up->own[i], ev->mask, warn, ctx);
			p += sizeof(*ev) + ev->len;
		}
}
