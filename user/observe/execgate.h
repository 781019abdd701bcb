/* SPDX-License-Identifier: GPL-2.0 */
/* The exec gate of a launched command: a seccomp filter with a user
 * notification on execve and execveat (x86-64, x32, i386), installed in the
 * command before it runs and inherited by its whole tree. Each exec waits
 * in the kernel until memobs has looked at the file about to run and
 * attached what that process needs (markers for that pid, say), then goes on
 * exactly as it would have (SECCOMP_USER_NOTIF_FLAG_CONTINUE): no signal,
 * nothing a job-control shell can see. A file already seen is answered at
 * once unless a hook asked to see every exec of it.
 *
 * The filter is installed while the command is still root (CAP_SYS_ADMIN
 * needs no no_new_privs), so setuid programs in the tree keep working. If
 * memobs dies, the watchdog (watchdog.h) answers in its place. */
#ifndef MO_EXECGATE_H
#define MO_EXECGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "probe/probeset.h"

/* In the command before it drops root: install the filter. Returns the
 * listener fd or -errno. */
int execgate_install(void);

struct seccomp_notif_resp;

/* How large a notification and an answer are: the kernel's sizes
 * (SECCOMP_GET_NOTIF_SIZES), at least the headers'. 0, or -errno with the
 * headers' sizes. */
int execgate_notif_sizes(size_t *req_size, size_t *resp_size);

/* Let notification id's exec go on as if nothing had looked
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE), answered through resp (resp_size
 * bytes). 0, or -errno (ENOENT: the task died meanwhile). */
int execgate_let_go(int listener, struct seccomp_notif_resp *resp, size_t resp_size, uint64_t id);

/* What a held exec is about to run. */
struct mo_exec_held {
	pid_t tid;		/* the thread in execve */
	pid_t tgid;		/* its process */
	int fd;			/* the file that will be mapped, open for reading: the
				 * executable, or the interpreter of a #! script */
	const char *path;	/* a path memobs can open it by while the exec waits */
	const struct mo_file_id *id;
	bool first;		/* this content is seen for the first time */
	unsigned asked;		/* what the hook answered for this content last (0: first) */
	bool setid;		/* a set-user/group-ID file */
	/* The variables of the environment the exec passes that change what it
	 * loads and how it allocates (LD_*, MEMOBS_HEAP_SOCK, PYTHONMALLOC;
	 * NUL-separated), read for a first look, and for every exec a hook
	 * asked them for (MO_EXEC_ENV); NULL otherwise or when unreadable:
	 * /proc/PID/environ is still the old program's. */
	const char *ld_env;
	size_t ld_envlen;
};

/* A hook's answer: MO_EXEC_AGAIN or MO_EXEC_ENV to be called for every
 * later exec of the same content (per-process work), with MO_EXEC_ENV its
 * environment read each time too; else 0 (done with this file for good).
 * The hook learns what it answered last in held->asked. */
enum { MO_EXEC_AGAIN = 1u << 0, MO_EXEC_ENV = 1u << 1 };
typedef unsigned (*mo_exec_hook)(void *ctx, const struct mo_exec_held *held);

/* Notification ids memobs received, in memory it shares with the watchdog:
 * ids are sequential per filter, so after memobs died the watchdog finds
 * one it received but never answered. */
struct mo_gate_ids {
	volatile uint64_t last;	/* the last id received */
	volatile uint32_t any;	/* last is set */
	volatile uint32_t pad;
};

struct mo_execgate;

/* Serve listener (adopted: closed by execgate__free), recording ids in ids
 * (may be NULL) and calling hook for each exec to inspect. NULL+errno. */
struct mo_execgate *execgate__new(int listener, struct mo_gate_ids *ids, mo_exec_hook hook, void *ctx);
/* Stop answering: close the listener (pending execs go to the watchdog). */
void execgate__free(struct mo_execgate *g);

/* The listener: POLLIN when execs wait. */
int execgate__fd(struct mo_execgate *g);

/* Answer every exec waiting now. Returns how many, or -errno when the
 * listener failed. */
int execgate__serve(struct mo_execgate *g);

/* Wait for the first notification (the command's own priming execve, made
 * right after the filter was installed), record its id and answer it. 0, or
 * -errno (-ECHILD: the command died first). */
int execgate__prime(struct mo_execgate *g, int timeout_ms);

/* Execs seen and answered so far; inspected: of new or per-process files. */
void execgate__counts(const struct mo_execgate *g, uint64_t *answered, uint64_t *inspected);

#endif
