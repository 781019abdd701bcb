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
#include "stacks/python.h"
#include "lib/log.h"

#define MAX_ROWS (1u << 23)	/* what BPF's binary search reaches (unwind.bpf.h) */

struct request {
	struct mo_file_key file;
	pid_t pid;
	__u64 start, end;
	char *path;		/* a file to load by its path (not a request from BPF) */
};

struct learned {
	char id[MO_BUILD_ID_HEX];
	char *path;
	dev_t dev;
	ino_t ino;
};

struct mo_unwinder {
	struct mo_session *s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct request *q;	/* the queue (under lock) */
	size_t nq, capq;
	struct learned *done;	/* files loaded, not yet handed over (under lock) */
	size_t ndone, capdone;
	struct mo_file_key *loaded;	/* files whose table is loaded or being loaded (under lock) */
	size_t nloaded, caploaded;
	size_t files, rows;
	double cpu_s;
	unsigned unknown_python;	/* the last Python version said to be unread */
};

/* True the first time a file comes to be loaded: two processes of a new
 * executable may wait at the exec gate at once. */
static bool claim(struct mo_unwinder *u, const struct mo_file_key *file)
{
	bool first = true;

	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < u->nloaded && first; i++)
		first = u->loaded[i].dev != file->dev || u->loaded[i].ino != file->ino;
	if (first && !GROW(u->loaded, u->nloaded + 1, u->caploaded))
		u->loaded[u->nloaded++] = *file;
	pthread_mutex_unlock(&u->lock);
	return first;
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
static void python_info(struct mo_unwinder *u, int fd, struct mo_unwind_file *info)
{
	struct mo_python_runtime py;
	char path[64];
	unsigned version;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (python_runtime(path, &py) || !py.major)
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

/* Compile and load the table of the file open at fd (to be named by path),
 * under its kernel name. 0/-errno. */
static int load(struct mo_unwinder *u, int fd, char *path)
{
	char err[128];
	struct mo_cfi_table t;
	struct learned l = {};
	struct mo_file_key file;
	struct mo_unwind_file info;
	struct stat st;
	double t0 = thread_cpu_s();
	int ret;

	if (fstat(fd, &st)) {
		free(path);
		return -errno;
	}
	/* The kernel's dev_t: MKDEV(major, minor), a 20-bit minor. */
	file = (struct mo_file_key){ ((__u64)major(st.st_dev) << 20) | minor(st.st_dev), st.st_ino };
	if (!claim(u, &file)) {
		free(path);
		return 0;
	}
	ret = cfi_compile_fd(fd, &t, err, sizeof(err));
	if (ret) {
		free(path);
		return ret;
	}
	if (t.nrows > MAX_ROWS)
		t.nrows = 0;	/* frame pointers only */
	info = (struct mo_unwind_file){ .nrows = t.nrows };
	memcpy(info.build_id, t.build_id, sizeof(info.build_id));
	python_info(u, fd, &info);
	ret = session__load_unwind_table(u->s, &file, &info, t.rows);
	log_info("unwind table of %s: %zu rows, %.1f ms", path, t.nrows, (thread_cpu_s() - t0) * 1e3);
	buildids_hex(t.build_id, l.id);
	l.path = path;
	l.dev = st.st_dev;
	l.ino = st.st_ino;
	pthread_mutex_lock(&u->lock);
	if (!ret) {
		u->files++;
		u->rows += t.nrows;
	}
	u->cpu_s += thread_cpu_s() - t0;
	if (l.id[0] && !GROW(u->done, u->ndone + 1, u->capdone))
		u->done[u->ndone++] = l;
	else
		free(l.path);
	pthread_mutex_unlock(&u->lock);
	cfi_table_free(&t);
	return ret;
}

int unwind__load_now(struct mo_unwinder *u, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	struct stat st;
	char *name;

	if (fd < 0)
		return -errno;
	/* Named now: a link under /proc goes with its process. */
	name = fstat(fd, &st) ? NULL : file_path(path, &st);
	ret = name ? load(u, fd, name) : -ENOMEM;
	close(fd);
	return ret;
}

/* A request: the file as the asking process maps it. Gone with the
 * process: its frames in this file stay (dev, inode) ones. */
static void serve(struct mo_unwinder *u, const struct request *r)
{
	char map_files[96];

	if (r->path) {
		unwind__load_now(u, r->path);
		free(r->path);
		return;
	}
	snprintf(map_files, sizeof(map_files), "/proc/%d/map_files/%llx-%llx", r->pid, (unsigned long long)r->start,
		 (unsigned long long)r->end);
	unwind__load_now(u, map_files);
}

static void *worker(void *arg)
{
	struct mo_unwinder *u = arg;

	pthread_mutex_lock(&u->lock);
	for (;;) {
		struct request r;

		while (!u->nq && !u->stop)
			pthread_cond_wait(&u->cond, &u->lock);
		if (!u->nq)
			break;
		r = u->q[0];
		memmove(u->q, u->q + 1, --u->nq * sizeof(*u->q));
		pthread_mutex_unlock(&u->lock);
		serve(u, &r);
		pthread_mutex_lock(&u->lock);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

struct mo_unwinder *unwind__new(struct mo_session *s)
{
	struct mo_unwinder *u = calloc(1, sizeof(*u));
	int err;

	if (!u)
		return NULL;
	u->s = s;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);
	err = pthread_create(&u->thread, NULL, worker, u);
	if (err) {
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
	for (size_t i = 0; i < u->ndone; i++)
		free(u->done[i].path);
	free(u->done);
	free(u->loaded);
	for (size_t i = 0; i < u->nq; i++)
		free(u->q[i].path);
	free(u->q);
	pthread_mutex_destroy(&u->lock);
	pthread_cond_destroy(&u->cond);
	free(u);
}

void unwind__request(struct mo_unwinder *u, const struct mo_ev_unwind_file *ev)
{
	pthread_mutex_lock(&u->lock);
	if (!GROW(u->q, u->nq + 1, u->capq)) {
		u->q[u->nq++] = (struct request){ ev->file, ev->hdr.tgid, ev->vm_start, ev->vm_end };
		pthread_cond_signal(&u->cond);
	}
	pthread_mutex_unlock(&u->lock);
}

void unwind__queue_path(struct mo_unwinder *u, const char *path)
{
	char *copy = strdup(path);

	pthread_mutex_lock(&u->lock);
	if (copy && !GROW(u->q, u->nq + 1, u->capq)) {
		u->q[u->nq++] = (struct request){ .path = copy };
		pthread_cond_signal(&u->cond);
		copy = NULL;
	}
	pthread_mutex_unlock(&u->lock);
	free(copy);
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
