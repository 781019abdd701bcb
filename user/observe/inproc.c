// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <signal.h>
#include <sys/un.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "observe/heapslots.h"
#include "observe/heapwhy.h"
#include "observe/inproc.h"
#include "observe/proctree.h"
#include "observe/session.h"
#include "lib/grow.h"
#include "lib/log.h"
#include "probe/probeset.h"

#define HELLO_WAIT_MS 200	/* a process sends its hello right after connect */

/* A slot handed out: its program's counts, until they are read. */
struct slot_ref {
	pid_t pid;
	int idx;		/* in the pool (heapslots.h) */
	char *allocator;	/* from its hello */
};

struct exe_class {
	__u64 dev, ino;		/* st_dev as user space sees it */
	struct mo_exe_heap heap;
};

struct pending {
	pid_t pid;
	const char *why;	/* static strings (heapwhy.h) */
	const char *unseen;
};

struct mo_inproc {
	struct mo_session *sess;
	const char *heap_lib;
	struct exe_class *exes;
	size_t nexes, exes_alloc;
	struct pending *pending;	/* held at an exec, its event not read yet */
	size_t npending, pending_alloc;
	struct mo_run *run;
	struct mo_proctree *tree;
	int listen_fd;
	int shared_fd;
	struct mo_heap_slots *slots;
	char env[96];		/* MEMOBS_HEAP_SOCK=NAME */
	struct slot_ref *refs;
	size_t nrefs, refs_alloc;
	/* Counts of the slots read so far, by phase id: alloc bytes and count,
	 * free bytes and count. */
	__u64 (*phase_sums)[4];
	__u64 lost, untracked;
};

struct mo_inproc *inproc__new(struct mo_session *sess, const char *heap_lib)
{
	struct mo_inproc *ip = calloc(1, sizeof(*ip));
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	unsigned char rnd[8];
	int len, outer_fd, index_fd;
	size_t nslots;

	if (!ip)
		return NULL;
	ip->sess = sess;
	ip->heap_lib = heap_lib;
	ip->listen_fd = -1;
	session__heap_fds(sess, &ip->shared_fd, &outer_fd, &index_fd, &nslots);
	ip->slots = heapslots__new(outer_fd, index_fd, nslots);
	ip->phase_sums = calloc(MO_MAX_PHASES, sizeof(*ip->phase_sums));
	if (!ip->slots || !ip->phase_sums || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		goto err;
	/* Abstract: nothing in the file system; a random name so that no other
	 * program claims it first. */
	len = snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "memobs-heap-%d-%02x%02x%02x%02x%02x%02x%02x%02x",
		       getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	snprintf(ip->env, sizeof(ip->env), "%s=%s", MO_HEAP_SOCK_ENV, addr.sun_path + 1);
	ip->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ip->listen_fd < 0)
		goto err;
	if (bind(ip->listen_fd, (struct sockaddr *)&addr, offsetof(struct sockaddr_un, sun_path) + 1 + len) ||
	    listen(ip->listen_fd, SOMAXCONN))
		goto err;
	return ip;
err:
	inproc__free(ip);
	return NULL;
}

void inproc__free(struct mo_inproc *ip)
{
	int err = errno;

	if (!ip)
		return;
	if (ip->listen_fd >= 0)
		close(ip->listen_fd);
	for (size_t i = 0; i < ip->nrefs; i++)
		free(ip->refs[i].allocator);
	free(ip->refs);
	free(ip->exes);
	free(ip->pending);
	free(ip->phase_sums);
	heapslots__free(ip->slots);
	free(ip);
	errno = err;
}

const char *inproc__env(const struct mo_inproc *ip)
{
	return ip->env;
}

int inproc__fd(const struct mo_inproc *ip)
{
	return ip->listen_fd;
}

/* The record a slot's counts go to: pid's newest. */
static struct mo_proc_rec *record_of(struct mo_inproc *ip, pid_t pid)
{
	long idx = proctree__find(ip->tree, pid);

	return idx < 0 ? NULL : &ip->run->procs[idx];
}

void inproc__start(struct mo_inproc *ip, struct mo_run *run, struct mo_proctree *tree)
{
	ip->run = run;
	ip->tree = tree;
}

static struct slot_ref *find_ref(struct mo_inproc *ip, pid_t pid)
{
	for (size_t i = 0; i < ip->nrefs; i++)
		if (ip->refs[i].pid == pid)
			return &ip->refs[i];
	return NULL;
}

/* Add one row into the process's phase and the run's sums. */
static void add_row(struct mo_inproc *ip, struct mo_proc_rec *rec, const struct mo_heap_row *row)
{
	struct mo_proc_phase fig = {
		.phase = row->phase,
		.heap_peak_live = row->peak_live,
		.heap = { .alloc_bytes = row->alloc_bytes, .alloc_count = row->alloc_count,
			  .free_bytes = row->free_bytes, .free_count = row->free_count },
	};
	__u64 *sum = ip->phase_sums[row->phase];

	sum[0] += row->alloc_bytes;
	sum[1] += row->alloc_count;
	sum[2] += row->free_bytes;
	sum[3] += row->free_count;
	if (rec) {
		run_proc_add_phase(rec, &fig);
		rec->heap_inproc_calls += row->alloc_count + row->free_count;
	}
}

/* A program's slot into its process's record: every row, its live bytes
 * (inherited + the rows' live: exact, whatever was not flushed yet) and
 * peak. */
static void take_slot(struct mo_inproc *ip, const struct slot_ref *ref, const struct mo_heap_slot *slot)
{
	struct mo_proc_rec *rec = record_of(ip, ref->pid);
	__s64 live = slot->inherited + slot->probed_live;

	for (int i = 0; i < MO_HEAP_ROWS; i++) {
		const struct mo_heap_row *row = &slot->rows[i];

		/* A phase id the process wrote itself: not one of the run's. */
		if (row->phase == MO_PHASE_NONE)
			continue;
		if (row->phase >= MO_MAX_PHASES) {
			ip->lost += row->alloc_count + row->free_count;
			continue;
		}
		add_row(ip, rec, row);
		live += row->live;
	}
	ip->lost += slot->lost;
	ip->untracked += slot->untracked;
	if (!rec || !(slot->flags & MO_HEAP_SLOT_SYNCED))
		return;
	free(rec->heap_unobserved);
	rec->heap_unobserved = NULL;
	rec->heap_paths |= MO_HEAP_PATH_INPROC;
	rec->heap_probed = true;
	rec->heap_live = live;
	if (slot->peak_live > rec->heap_peak_live)
		rec->heap_peak_live = slot->peak_live;
	if (live > rec->heap_peak_live)
		rec->heap_peak_live = live;
	if (ref->allocator && ref->allocator[0]) {
		free(rec->heap_allocator);
		rec->heap_allocator = strdup(ref->allocator);
	}
}

/* Read a slot into the run, from its page (mapped until it is put back),
 * and give it back to the pool. */
static void finish(struct mo_inproc *ip, struct slot_ref *ref)
{
	take_slot(ip, ref, heapslots__page(ip->slots, ref->idx));
	heapslots__put(ip->slots, ref->idx, ref->pid);
	free(ref->allocator);
	*ref = ip->refs[--ip->nrefs];
}

static struct exe_class *exe_class(struct mo_inproc *ip, __u64 dev, __u64 ino)
{
	for (size_t i = 0; i < ip->nexes; i++)
		if (ip->exes[i].dev == dev && ip->exes[i].ino == ino)
			return &ip->exes[i];
	return NULL;
}

static struct exe_class *learn_exe(struct mo_inproc *ip, __u64 dev, __u64 ino, const char *path)
{
	struct exe_class *e = exe_class(ip, dev, ino);

	if (e)
		return e;
	if (GROW(ip->exes, ip->nexes + 1, ip->exes_alloc))
		return NULL;
	e = &ip->exes[ip->nexes++];
	e->dev = dev;
	e->ino = ino;
	heapwhy_exe(path, &e->heap);
	return e;
}

/* What was found of pid at its held exec, for its exec event. */
static void note_pending(struct mo_inproc *ip, pid_t pid, const char *why, const char *unseen)
{
	struct pending *p = NULL;

	for (size_t i = 0; i < ip->npending && !p; i++)
		if (ip->pending[i].pid == pid)
			p = &ip->pending[i];
	if (!p) {
		if (GROW(ip->pending, ip->npending + 1, ip->pending_alloc))
			return;
		p = &ip->pending[ip->npending++];
	}
	*p = (struct pending){ pid, why, unseen };
}

unsigned inproc__held(struct mo_inproc *ip, const struct mo_exec_held *held)
{
	struct exe_class *e = learn_exe(ip, held->id->dev, held->id->ino, held->path);
	const char *why, *unseen;
	bool report;

	why = heapwhy_held(held->tgid, e ? &e->heap : NULL, held->ld_env, held->ld_envlen, ip->heap_lib, &unseen,
			   &report);
	note_pending(ip, held->tgid, why ? why : report ? heapwhy_no_report : NULL, unseen);
	/* Each process may have an environment of its own: look at every one. */
	return MO_EXEC_ENV;
}

void inproc__fork(struct mo_inproc *ip, pid_t parent, pid_t child)
{
	struct mo_proc_rec *p = record_of(ip, parent), *c;

	if (!p || !p->heap_unseen || !(c = record_of(ip, child)) || c->heap_unseen)
		return;
	c->heap_unseen = strdup(p->heap_unseen);
}

void inproc__exec(struct mo_inproc *ip, pid_t pid, __u64 kdev, __u64 ino)
{
	struct mo_proc_rec *rec = record_of(ip, pid);
	/* The kernel's MKDEV: 12-bit major, 20-bit minor. */
	struct exe_class *e = exe_class(ip, makedev(kdev >> 20, kdev & 0xfffff), ino);
	const char *why = NULL, *unseen = e ? e->heap.unseen : NULL;
	struct slot_ref *ref;
	bool report, held = false;

	for (size_t i = 0; i < ip->npending; i++)
		if (ip->pending[i].pid == pid) {
			why = ip->pending[i].why;
			unseen = ip->pending[i].unseen;
			ip->pending[i] = ip->pending[--ip->npending];
			held = true;
			break;
		}
	if (!rec)
		return;
	/* Its previous program's slot is complete (BPF ended it at the exec). */
	ref = find_ref(ip, pid);
	if (ref)
		finish(ip, ref);
	if (!held) {
		why = heapwhy_process(pid, e ? &e->heap : NULL, ip->heap_lib, &unseen, &report);
		/* Until its slot says it counted. */
		if (!why && report)
			why = kill(pid, 0) ? heapwhy_no_handshake : heapwhy_no_report;
	}
	free(rec->heap_unobserved);
	free(rec->heap_unseen);
	rec->heap_unobserved = why ? strdup(why) : NULL;
	rec->heap_unseen = unseen ? strdup(unseen) : NULL;
}

/* A slot of the pool for pid, its page set up: every row unused, the last
 * ones shared; the process's phase as BPF has it now (the library asks BPF
 * again once it mapped the page). Returns its index or -errno. */
static int new_slot(struct mo_inproc *ip, pid_t pid, const struct mo_proc *p, const struct mo_heap_hello *hello)
{
	int idx = heapslots__take(ip->slots, pid);
	struct mo_heap_slot *slot;

	if (idx < 0)
		return idx;
	slot = heapslots__page(ip->slots, idx);
	slot->magic = MO_HEAP_MAGIC;
	slot->tgid = pid;
	slot->program_id = p->program_id;
	slot->inherited = hello->inherited;
	slot->flags = hello->flags & MO_HEAP_SLOT_NO_USABLE;
	slot->phase = p->phase;
	for (int i = 0; i < MO_HEAP_ROWS; i++) {
		slot->rows[i].phase = MO_PHASE_NONE;
		slot->rows[i].owner = i < MO_HEAP_ROWS - MO_HEAP_SHARED_ROWS ? MO_HEAP_ROW_FREE : MO_HEAP_ROW_SHARED;
	}
	return idx;
}

/* The file pid's calls go on to, as dladdr named it there: its real path
 * when pid shares memobs's root (musl names its libc by its loader's
 * symlink), else as given. */
static char *allocator_path(pid_t pid, const struct mo_heap_hello *hello)
{
	char root[64], real[PATH_MAX], *given = strndup(hello->allocator, sizeof(hello->allocator));

	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	if (given && given[0] == '/' && file_id_same_path(root, "/") && realpath(given, real)) {
		free(given);
		return strdup(real);
	}
	return given;
}

/* The answer to pid's hello; *slot_fd the slot's map when accepted. */
static enum mo_heap_answer admit(struct mo_inproc *ip, pid_t pid, const struct mo_heap_hello *hello, int *slot_fd)
{
	struct slot_ref *ref;
	struct mo_proc p;
	int idx;

	/* Its fork and exec are in the ring buffer before its hello: their
	 * records are made first. */
	session__poll(ip->sess, 0);
	if (session__read_proc(ip->sess, pid, &p) ||
	    (p.flags & (MO_PROC_EXITED | MO_PROC_OBSERVER | MO_PROC_PENDING_EXEC)))
		return MO_HEAP_REFUSED;
	/* The slot of its previous program (it exec'd), or of an earlier
	 * process of the same pid. */
	ref = find_ref(ip, pid);
	if (ref)
		finish(ip, ref);
	if (GROW(ip->refs, ip->nrefs + 1, ip->refs_alloc))
		return MO_HEAP_FAILED;
	idx = new_slot(ip, pid, &p, hello);
	if (idx < 0)
		return MO_HEAP_FAILED;
	*slot_fd = heapslots__fd(ip->slots, idx);
	ip->refs[ip->nrefs++] = (struct slot_ref){ .pid = pid, .idx = idx, .allocator = allocator_path(pid, hello) };
	return MO_HEAP_ACCEPTED;
}

/* One connection: its hello, the answer (with the header's and the slot's
 * fds when accepted). */
static void serve(struct mo_inproc *ip, int conn)
{
	struct mo_heap_hello hello;
	struct mo_heap_welcome welcome = { .magic = MO_HEAP_MAGIC, .answer = MO_HEAP_REFUSED };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct pollfd pfd = { .fd = conn, .events = POLLIN };
	char control[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct iovec iov = { &welcome, sizeof(welcome) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int slot_fd = -1;

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen) || poll(&pfd, 1, HELLO_WAIT_MS) != 1 ||
	    recv(conn, &hello, sizeof(hello), MSG_DONTWAIT) != sizeof(hello))
		return;
	if (hello.magic == MO_HEAP_MAGIC && hello.version == MO_HEAP_VERSION)
		welcome.answer = admit(ip, cred.pid, &hello, &slot_fd);
	if (slot_fd >= 0) {
		struct cmsghdr *c;
		int fds[2] = { ip->shared_fd, slot_fd };

		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
	}
	sendmsg(conn, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void inproc__accept(struct mo_inproc *ip)
{
	int conn;

	while ((conn = accept4(ip->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		serve(ip, conn);
		close(conn);
	}
}

void inproc__stop(struct mo_inproc *ip)
{
	if (ip->listen_fd >= 0)
		close(ip->listen_fd);
	ip->listen_fd = -1;
}

void inproc__exited(struct mo_inproc *ip, pid_t pid, __u32 flags)
{
	struct slot_ref *ref = find_ref(ip, pid);
	struct mo_proc_rec *rec;

	if (ref)
		finish(ip, ref);
	/* Its program never reported: a secure exec says why. */
	rec = record_of(ip, pid);
	if (rec && rec->heap_unobserved && (flags & MO_PROC_SECURE_EXEC)) {
		free(rec->heap_unobserved);
		rec->heap_unobserved = strdup(heapwhy_secure);
	}
}

void inproc__sweep(struct mo_inproc *ip)
{
	for (size_t i = 0; i < ip->nrefs;) {
		const struct mo_heap_slot *page = heapslots__page(ip->slots, ip->refs[i].idx);

		if (__atomic_load_n(&page->flags, __ATOMIC_ACQUIRE) & MO_HEAP_SLOT_ENDED)
			finish(ip, &ip->refs[i]);	/* the last one moved to i */
		else
			i++;
	}
	heapslots__tick(ip->slots);
}

void inproc__final(struct mo_inproc *ip)
{
	struct mo_run *run = ip->run;

	while (ip->nrefs)
		finish(ip, &ip->refs[ip->nrefs - 1]);
	for (size_t i = 0; i < run->nphases && i < MO_MAX_PHASES; i++) {
		run->phases[i].alloc_bytes += ip->phase_sums[i][0];
		run->phases[i].alloc_count += ip->phase_sums[i][1];
		run->phases[i].free_bytes += ip->phase_sums[i][2];
		run->phases[i].free_count += ip->phase_sums[i][3];
	}
	for (size_t i = 0; i < MO_MAX_PHASES; i++) {
		run->alloc_bytes += ip->phase_sums[i][0];
		run->alloc_count += ip->phase_sums[i][1];
		run->free_bytes += ip->phase_sums[i][2];
		run->free_count += ip->phase_sums[i][3];
	}
	for (size_t i = 0; i < run->nprocs; i++)
		if (run->procs[i].heap_unobserved)
			log_info("pid %d (%s): heap not observed: %s", run->procs[i].pid, run->procs[i].comm,
				 run->procs[i].heap_unobserved);
	run->drops[MO_DROP_HEAP_CALLS] += ip->lost;
	run->drops[MO_DROP_HEAP_UNTRACKED] += ip->untracked;
}
