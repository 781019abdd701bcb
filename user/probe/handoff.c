// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lib/bpffs.h"
#include "probe/handoff.h"

/* Shared with the exec gate's pins (observe/holds.c), which remove it when
 * the last instance leaves: a mkdir under it may find it gone, and retries. */
#define PARENT BPFFS_ROOT "/memobs"
#define NAME_FMT "%d-%016llx"

struct mo_handoff {
	char dir[128];
	int next;
};

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[300];

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Directories of memobs processes killed in the middle of a handoff: their
 * pins would keep links (programs running) until reboot. */
static void remove_stale(void)
{
	DIR *d = opendir(PARENT);
	struct dirent *e;
	unsigned long long rnd;
	char path[300];
	int pid;

	while (d && (e = readdir(d))) {
		if (sscanf(e->d_name, NAME_FMT, &pid, &rnd) != 2 || pid <= 0)
			continue;
		if (!kill(pid, 0) || errno != ESRCH)
			continue;	/* alive (a reused pid: left for a later start) */
		snprintf(path, sizeof(path), "%s/%s", PARENT, e->d_name);
		remove_dir(path);
	}
	if (d)
		closedir(d);
}

static int make_dir(struct mo_handoff *h)
{
	unsigned long long rnd;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -errno;
	snprintf(h->dir, sizeof(h->dir), PARENT "/" NAME_FMT, getpid(), rnd);
	for (int tries = 0; tries < 3; tries++) {
		if (mkdir(PARENT, 0700) && errno != EEXIST)
			return -errno;
		if (!mkdir(h->dir, 0700))
			return 0;
		if (errno != ENOENT)
			return -errno;
	}
	return -ENOENT;
}

struct mo_handoff *handoff__new(char *why, size_t whylen)
{
	struct mo_handoff *h = calloc(1, sizeof(*h));
	struct stat st;
	int ret;

	if (!h) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	ret = bpffs_ensure();
	if (!ret) {
		remove_stale();
		ret = make_dir(h);
	}
	/* Only root may pin there: a directory someone else could write is not ours. */
	if (!ret && (lstat(PARENT, &st) || st.st_uid != 0 || (st.st_mode & 022))) {
		rmdir(h->dir);
		ret = -EPERM;
	}
	if (ret) {
		snprintf(why, whylen, "no private directory in bpffs (%s): %s", PARENT, strerror(-ret));
		free(h);
		return NULL;
	}
	return h;
}

int handoff__pin(struct mo_handoff *h, int fd)
{
	char path[160];
	int slot;

	if (!h)
		return -ENOTSUP;
	slot = __atomic_fetch_add(&h->next, 1, __ATOMIC_RELAXED);
	snprintf(path, sizeof(path), "%s/%d", h->dir, slot);
	return bpf_obj_pin(fd, path) ? -errno : slot;
}

void handoff__unpin(struct mo_handoff *h, int slot)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%d", h->dir, slot);
	unlink(path);
}

int handoff__link(struct mo_handoff *h, int fd)
{
	int slot = handoff__pin(h, fd);

	if (slot < 0)
		return slot;
	close(fd);
	handoff__unpin(h, slot);
	return 0;
}

void handoff__free(struct mo_handoff *h)
{
	if (!h)
		return;
	/* Pins are unlinked as they are made; whatever one left is dropped here. */
	remove_dir(h->dir);
	free(h);
}
