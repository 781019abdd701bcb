// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "lib/grow.h"
#include "observe/session.h"
#include "observe/unwind.h"
#include "stacks/buildids.h"
#include "stacks/cfi.h"
#include "stacks/cficache.h"
#include "stacks/python.h"
#include "lib/log.h"

#define MAX_ROWS (1u << 23)	/* what BPF's binary search reaches (unwind.bpf.h) */

struct request {
	pid_t pid;
	__u64 start, end;
};

struct learned {
	char id[MO_BUILD_ID_HEX];
	char *path;
	dev_t dev;
	ino_t ino;
};

/* A file whose table is loaded or being loaded. */
struct claimed {
	struct mo_file_key file;
	bool done;		/* loaded, or failed: nothing more will come */
};

struct mo_unwinder {
	struct mo_session *s;
	struct mo_cficache *cache;	/* NULL: none */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* the queue has requests */
	pthread_cond_t file_done;	/* a claimed file is done */
	bool stop;
	struct request *q;	/* the queue (under lock) */
	size_t nq, capq;
	struct learned *done;	/* files loaded, not yet handed over (under lock) */
	size_t ndone, capdone;
	struct claimed *loaded;	/* (under lock) */
	size_t nloaded, caploaded;
	size_t files, rows;
	double cpu_s;
	unsigned unknown_python;	/* the last Python version said to be unread */
};

static bool same_file(const struct mo_file_key *a, const struct mo_file_key *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* True the first time a file comes to be loaded: two processes of a new
 * executable may wait at the exec gate at once. */
static bool claim(struct mo_unwinder *u, const struct mo_file_key *file)
{
	bool first = true;

	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < u->nloaded && first; i++)
		first = !same_file(&u->loaded[i].file, file);
	if (first && !GROW(u->loaded, u->nloaded + 1, u->caploaded))
		u->loaded[u->nloaded++] = (struct claimed){ *file, false };
	pthread_mutex_unlock(&u->lock);
	return first;
}

/* Say a claimed file is done (under lock). */
static void claim_done(struct mo_unwinder *u, const struct mo_file_key *file)
{
	for (size_t i = 0; i < u->nloaded; i++)
		if (same_file(&u->loaded[i].file, file))
			u->loaded[i].done = true;
	pthread_cond_broadcast(&u->file_done);
}

/* Wait until another thread is done with a file it claimed. */
static void wait_done(struct mo_unwinder *u, const struct mo_file_key *file)
{
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < u->nloaded; i++)
		if (same_file(&u->loaded[i].file, file))
			while (!u->loaded[i].done)
				pthread_cond_wait(&u->file_done, &u->lock);
	pthread_mutex_unlock(&u->lock);
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The path to name the file by later: the one the process mapped, when it
 * is this very file here too (the same mount namespace); else map_files,
 * good while the process lives. */
static char *file_path(const char *map_files, const struct stat *st)
{
	char real[4096];
	ssize_t n = readlink(map_files, real, sizeof(real) - 1);
	struct stat rst;

	if (n > 0) {
		real[n] = 0;
		if (!stat(real, &rst) && rst.st_dev == st->st_dev && rst.st_ino == st->st_ino)
			return strdup(real);
	}
	return strdup(map_files);
}

/* A CPython runtime's eval loop and _PyRuntime, for BPF to read its frames;
 * a version memobs does not read is said once. */
static void python_info(struct mo_unwinder *u, struct mo_elf *elf, struct mo_unwind_file *info)
{
	struct mo_python_runtime py;
	unsigned version;

	python_runtime(elf, &py);
	if (!py.major)
		return;
	version = py.major << 8 | py.minor;
	if (!python_version_known(py.major, py.minor)) {
		pthread_mutex_lock(&u->lock);
		if (version != u->unknown_python) {
			u->unknown_python = version;
			if (py.minor)
				log_warn("Python %u.%u: its frames are not read (memobs reads CPython 3.11 and 3.12); "
					 "stacks show the interpreter's native frames", py.major, py.minor);
			else
				log_warn("a Python older than 3.11: its frames are not read (memobs reads CPython 3.11 and "
					 "3.12); stacks show the interpreter's native frames");
		}
		pthread_mutex_unlock(&u->lock);
		return;
	}
	info->py_version = version;
	info->py_eval_start = py.eval_start;
	info->py_eval_end = py.eval_end;
	info->py_runtime = py.runtime;
}

/* A file compiled, to be given to BPF with the others of its batch. */
struct prepared {
	struct mo_cfi_table t;
	struct mo_unwind_load load;
	struct learned l;
	bool mine;		/* claimed here: else another thread loads it */
	bool cached;		/* t came from the cache */
	char id_hex[2 * MO_BUILD_ID_HEX];	/* the file's build id as its cache entry is named ("": none) */
	off_t size;
	uint64_t mtime_ns;	/* with size and build id, its cache entry's key */
};

/* The file's table from the cache, else compiled. */
static int table_of(struct mo_unwinder *u, struct mo_elf *elf, struct prepared *p, char *err, size_t errlen)
{
	if (u->cache && !elf__build_id(elf, p->id_hex, sizeof(p->id_hex)) &&
	    !cficache__find(u->cache, p->id_hex, p->size, p->mtime_ns, &p->t)) {
		p->cached = true;
		return 0;
	}
	return cfi_compile_elf(elf, &p->t, err, errlen);
}

/* Compile the table of the file at path (named by its mapped path when it
 * is a link under /proc: those go with their process). 0/-errno; p->mine
 * false when another thread has it. */
static int prepare(struct mo_unwinder *u, const char *path, struct prepared *p)
{
	char err[128];
	struct stat st;
	double t0 = thread_cpu_s();
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	struct mo_elf *elf = NULL;

	memset(p, 0, sizeof(*p));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	/* The kernel's dev_t: MKDEV(major, minor), a 20-bit minor. */
	p->load.file = (struct mo_file_key){ ((__u64)major(st.st_dev) << 20) | minor(st.st_dev), st.st_ino };
	p->mine = claim(u, &p->load.file);
	ret = 0;
	if (!p->mine)
		goto out;
	elf = elf__open_fd(fd);
	p->size = st.st_size;
	p->mtime_ns = st.st_mtim.tv_sec * 1000000000ull + st.st_mtim.tv_nsec;
	ret = elf ? table_of(u, elf, p, err, sizeof(err)) : -errno;
	if (!ret && !(p->l.path = file_path(path, &st)))
		ret = -ENOMEM;
	if (ret) {
		pthread_mutex_lock(&u->lock);
		claim_done(u, &p->load.file);
		pthread_mutex_unlock(&u->lock);
		cfi_table_free(&p->t);
		p->mine = false;
		goto out;
	}
	if (p->t.nrows > MAX_ROWS)
		p->t.nrows = 0;	/* frame pointers only */
	p->load.info = (struct mo_unwind_file){ .nrows = p->t.nrows };
	memcpy(p->load.info.build_id, p->t.build_id, sizeof(p->load.info.build_id));
	p->load.rows = p->t.rows;
	python_info(u, elf, &p->load.info);
	buildids_hex(p->t.build_id, p->l.id);
	p->l.dev = st.st_dev;
	p->l.ino = st.st_ino;
	log_info("unwind table of %s: %zu rows, %.1f ms%s", p->l.path, p->t.nrows, (thread_cpu_s() - t0) * 1e3,
		 p->cached ? " (cached)" : "");
out:
	elf__free(elf);
	close(fd);
	return ret;
}

/* Give BPF the tables prepared (one batch: one grace period), hand the
 * files to the build-id table and say they are done. */
static int publish(struct mo_unwinder *u, struct prepared *p, size_t n)
{
	struct mo_unwind_load *loads = calloc(n ?: 1, sizeof(*loads));
	size_t k = 0;
	int ret;

	for (size_t i = 0; loads && i < n; i++)
		if (p[i].mine)
			loads[k++] = p[i].load;
	ret = loads ? session__load_unwind_tables(u->s, loads, k) : -ENOMEM;
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0, j = 0; i < n; i++) {
		int err;

		if (!p[i].mine)
			continue;
		err = loads ? loads[j++].err : -ENOMEM;
		if (!err) {
			u->files++;
			u->rows += p[i].t.nrows;
		}
		if (!err && u->cache && !p[i].cached && p[i].id_hex[0])
			cficache__add(u->cache, p[i].id_hex, p[i].size, p[i].mtime_ns, &p[i].t);
		if (p[i].l.id[0] && !GROW(u->done, u->ndone + 1, u->capdone))
			u->done[u->ndone++] = p[i].l;
		else
			free(p[i].l.path);
		claim_done(u, &p[i].load.file);
		cfi_table_free(&p[i].t);
	}
	pthread_mutex_unlock(&u->lock);
	free(loads);
	return ret;
}

/* Load the tables of the files at paths, in the calling thread, as one
 * batch. wait: also wait for those another thread is loading. */
static int load_paths(struct mo_unwinder *u, const char *const *paths, size_t n, bool wait)
{
	struct prepared *p = calloc(n ?: 1, sizeof(*p));
	double t0 = thread_cpu_s();
	int ret = 0, err;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		err = prepare(u, paths[i], &p[i]);
		ret = ret ?: err;
	}
	err = publish(u, p, n);
	ret = ret ?: err;
	for (size_t i = 0; wait && i < n; i++)
		if (!p[i].mine && p[i].load.file.ino)
			wait_done(u, &p[i].load.file);
	pthread_mutex_lock(&u->lock);
	u->cpu_s += thread_cpu_s() - t0;
	pthread_mutex_unlock(&u->lock);
	free(p);
	return ret;
}

int unwind__load_now(struct mo_unwinder *u, const char *const *paths, size_t n)
{
	return load_paths(u, paths, n, true);
}

/* The requests queued, served as one batch: each file as the asking
 * process maps it. Gone with the process: its frames in this file stay
 * (dev, inode) ones. */
static void serve(struct mo_unwinder *u, struct request *q, size_t n)
{
	char (*map_files)[96] = calloc(n, sizeof(*map_files));
	const char **paths = calloc(n, sizeof(*paths));

	for (size_t i = 0; map_files && paths && i < n; i++) {
		snprintf(map_files[i], sizeof(map_files[i]), "/proc/%d/map_files/%llx-%llx", q[i].pid,
			 (unsigned long long)q[i].start, (unsigned long long)q[i].end);
		paths[i] = map_files[i];
	}
	if (map_files && paths)
		load_paths(u, paths, n, false);
	free(map_files);
	free(paths);
}

static void *worker(void *arg)
{
	struct mo_unwinder *u = arg;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		struct request *q;
		size_t n;

		while (!u->nq && !u->stop)
			pthread_cond_wait(&u->cond, &u->lock);
		if (!u->nq)
			break;
		q = u->q;
		n = u->nq;
		u->q = NULL;
		u->nq = u->capq = 0;
		pthread_mutex_unlock(&u->lock);
		serve(u, q, n);
		free(q);
		pthread_mutex_lock(&u->lock);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

struct mo_unwinder *unwind__new(struct mo_session *s)
{
	struct mo_unwinder *u = calloc(1, sizeof(*u));
	char why[512];
	int err;

	if (!u)
		return NULL;
	u->s = s;
	u->cache = cficache__open(why, sizeof(why));
	/* A cache unusable as a whole is said once, by the names' (stacks.c):
	 * here only what is wrong with the tables' own subdirectory. */
	if (!u->cache && strstr(why, "/" MO_CFICACHE_DIR))
		log_warn("cache %s: unwind tables are compiled without it", why);
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);
	pthread_cond_init(&u->file_done, NULL);
	err = pthread_create(&u->thread, NULL, worker, u);
	if (err) {
		cficache__free(u->cache);
		free(u);
		errno = err;
		return NULL;
	}
	return u;
}

void unwind__stop(struct mo_unwinder *u)
{
	bool joined;

	pthread_mutex_lock(&u->lock);
	joined = u->stop;
	u->stop = true;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->lock);
	if (!joined)
		pthread_join(u->thread, NULL);
}

void unwind__free(struct mo_unwinder *u)
{
	if (!u)
		return;
	unwind__stop(u);
	if (u->cache && cficache__error(u->cache)[0])
		log_warn("cache %s: unwind tables were compiled without it", cficache__error(u->cache));
	cficache__free(u->cache);
	for (size_t i = 0; i < u->ndone; i++)
		free(u->done[i].path);
	free(u->done);
	free(u->loaded);
	free(u->q);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->cond);
	pthread_cond_destroy(&u->file_done);
	free(u);
}

void unwind__request(struct mo_unwinder *u, const struct mo_ev_unwind_file *ev)
{
	pthread_mutex_lock(&u->lock);
	if (!GROW(u->q, u->nq + 1, u->capq)) {
		u->q[u->nq++] = (struct request){ ev->hdr.tgid, ev->vm_start, ev->vm_end };
		pthread_cond_signal(&u->cond);
	}
	pthread_mutex_unlock(&u->lock);
}

void unwind__learned(struct mo_unwinder *u, struct mo_buildids *ids)
{
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < u->ndone; i++) {
		buildids__add_known(ids, u->done[i].id, u->done[i].path, u->done[i].dev, u->done[i].ino);
		free(u->done[i].path);
	}
	u->ndone = 0;
	pthread_mutex_unlock(&u->lock);
}

void unwind__stats(struct mo_unwinder *u, size_t *files, size_t *rows, double *cpu_s)
{
	pthread_mutex_lock(&u->lock);
	*files = u->files;
	*rows = u->rows;
	*cpu_s = u->cpu_s;
	pthread_mutex_unlock(&u->lock);
}
