// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/membarrier.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "lib/bpffs.h"
#include "lib/grow.h"
#include "observe/holds.h"

#define PIN_DIR BPFFS_ROOT "/memobs"
#define PIN_HOLDS PIN_DIR "/holds"
#define PIN_GATES PIN_DIR "/gates"
#define LOCK_PATH "/run/memobs-gates.lock"

/* Value of the gates map (key: the bit): which memobs has it. */
struct gate_owner {
	__u32 pid;
	__u32 pad;
	__u64 start;		/* its start time (/proc/PID/stat): a reused pid is not it */
};

struct mo_holds {
	int holds_fd;
	int gates_fd;		/* -1: not shared */
	int prog_fd;		/* mo_release, -1 until loaded */
	unsigned bit;
};

/* A process's start time in clock ticks since boot, 0 when it is gone. */
static __u64 start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strrchr(buf, ')');
	/* after the comm: state, then 18 fields, then starttime (field 22) */
	if (!p || sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			 &start) != 1)
		return 0;
	return start;
}

static bool owner_alive(const struct gate_owner *o)
{
	return start_time(o->pid) == o->start;
}

static int open_or_create(const char *pin, enum bpf_map_type type, const char *name, __u32 key, __u32 value,
			  __u32 max)
{
	int fd = bpf_obj_get(pin);

	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	fd = bpf_map_create(type, name, key, value, max, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, pin)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int lock_gates(void)
{
	int fd = open(LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd >= 0 && flock(fd, LOCK_EX)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void unlock_gates(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A free bit, else one whose memobs is gone (its processes are then ours
 * to let go of). -ENOSPC when all are taken by live instances. */
static int claim_bit(int gates_fd, unsigned *bit)
{
	struct gate_owner me = { .pid = getpid(), .start = start_time(getpid()) }, o;

	for (__u32 b = 0; b < MO_MAX_GATES; b++)
		if (!bpf_map_update_elem(gates_fd, &b, &me, BPF_NOEXIST)) {
			*bit = b;
			return 0;
		}
	for (__u32 b = 0; b < MO_MAX_GATES; b++)
		if (!bpf_map_lookup_elem(gates_fd, &b, &o) && !owner_alive(&o) &&
		    !bpf_map_update_elem(gates_fd, &b, &me, BPF_EXIST)) {
			*bit = b;
			return 0;
		}
	return -ENOSPC;
}

static int open_shared(struct mo_holds *h, char *err, size_t errlen)
{
	int lock, ret;

	ret = bpffs_ensure();
	if (ret || (mkdir(PIN_DIR, 0700) && errno != EEXIST)) {
		ret = ret ?: -errno;
		snprintf(err, errlen, "no bpffs to share the holds of the exec gate (%s): %s", PIN_DIR, strerror(-ret));
		return ret;
	}
	lock = lock_gates();
	if (lock < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot lock %s: %s", LOCK_PATH, strerror(-ret));
		return ret;
	}
	h->holds_fd = open_or_create(PIN_HOLDS, BPF_MAP_TYPE_LRU_HASH, "mo_holds", sizeof(__u32),
				     sizeof(struct mo_hold), MO_MAX_HOLDS);
	h->gates_fd = open_or_create(PIN_GATES, BPF_MAP_TYPE_HASH, "mo_gates", sizeof(__u32),
				     sizeof(struct gate_owner), MO_MAX_GATES);
	ret = h->holds_fd < 0 ? h->holds_fd : h->gates_fd < 0 ? h->gates_fd : claim_bit(h->gates_fd, &h->bit);
	unlock_gates(lock);
	if (ret)
		snprintf(err, errlen, "cannot share the holds of the exec gate (%s): %s", PIN_DIR, strerror(-ret));
	return ret;
}

struct mo_holds *holds__open(char *err, size_t errlen)
{
	struct mo_holds *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*h = (struct mo_holds){ .holds_fd = -1, .gates_fd = -1, .prog_fd = -1 };
	if (!open_shared(h, err, errlen))
		return h;
	/* Not shared: this instance alone, with a map of its own. */
	if (h->holds_fd >= 0)
		close(h->holds_fd);
	if (h->gates_fd >= 0)
		close(h->gates_fd);
	h->gates_fd = -1;
	h->bit = 0;
	h->holds_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "mo_holds", sizeof(__u32), sizeof(struct mo_hold),
				     MO_MAX_HOLDS, NULL);
	if (h->holds_fd < 0) {
		snprintf(err, errlen, "cannot create the exec gate's holds: %s", strerror(errno));
		free(h);
		return NULL;
	}
	return h;
}

int holds__map_fd(const struct mo_holds *h)
{
	return h->holds_fd;
}

int holds__gates_fd(const struct mo_holds *h)
{
	return h->gates_fd;
}

unsigned holds__bit(const struct mo_holds *h)
{
	return h->bit;
}

bool holds__shared(const struct mo_holds *h)
{
	return h->gates_fd >= 0;
}

/* True when nobody holds tgid any more and the program did not continue it
 * (a syscall program writes its context back into ctx_in). */
static bool release(int prog_fd, pid_t tgid, unsigned bit)
{
	struct mo_release_args args = { .tgid = tgid, .bit = bit };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &args, .ctx_size_in = sizeof(args));

	return !bpf_prog_test_run_opts(prog_fd, &opts) && !args.remaining && !args.continued;
}

bool holds__release(struct mo_holds *h, pid_t tgid)
{
	/* Without the program (not loaded), this instance's stop is the only one. */
	return h->prog_fd < 0 || release(h->prog_fd, tgid, h->bit);
}

void holds_drain(int map_fd, int prog_fd, unsigned bit)
{
	__u32 key, *prev = NULL, *keys = NULL;
	size_t n = 0, cap = 0;

	/* Keys first: letting go may change the map under a walk. */
	while (!bpf_map_get_next_key(map_fd, prev, &key)) {
		struct mo_hold hold;

		if (!bpf_map_lookup_elem(map_fd, &key, &hold) && (hold.owners & (1ull << bit))) {
			if (GROW(keys, n + 1, cap))
				break;
			keys[n++] = key;
		}
		prev = &key;
	}
	for (size_t i = 0; i < n; i++)
		if (release(prog_fd, keys[i], bit))
			kill(keys[i], SIGCONT);
	free(keys);
}

void holds_wait_for_gates_in_flight(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(50000);
}

void holds__set_release(struct mo_holds *h, int prog_fd)
{
	struct gate_owner o;
	int lock;

	h->prog_fd = prog_fd;
	if (h->gates_fd < 0 || (lock = lock_gates()) < 0)
		return;
	/* Instances that died (and their watchdogs): let go of theirs. */
	for (__u32 b = 0; b < MO_MAX_GATES; b++)
		if (b != h->bit && !bpf_map_lookup_elem(h->gates_fd, &b, &o) && !owner_alive(&o)) {
			holds_drain(h->holds_fd, prog_fd, b);
			bpf_map_delete_elem(h->gates_fd, &b);
		}
	/* A bit taken over from one of them may still hold its processes. */
	holds_drain(h->holds_fd, prog_fd, h->bit);
	unlock_gates(lock);
}

void holds__close(struct mo_holds *h)
{
	__u32 b = 0, next;
	int lock;

	if (!h)
		return;
	if (h->gates_fd >= 0 && (lock = lock_gates()) >= 0) {
		b = h->bit;
		bpf_map_delete_elem(h->gates_fd, &b);
		/* The last instance out takes the pins away. */
		if (bpf_map_get_next_key(h->gates_fd, NULL, &next) && errno == ENOENT) {
			unlink(PIN_HOLDS);
			unlink(PIN_GATES);
			rmdir(PIN_DIR);
		}
		unlock_gates(lock);
	}
	if (h->gates_fd >= 0)
		close(h->gates_fd);
	close(h->holds_fd);
	free(h);
}
