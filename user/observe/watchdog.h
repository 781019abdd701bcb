/* SPDX-License-Identifier: GPL-2.0 */
/* The watchdog: a small process, forked before any BPF object exists (it
 * holds no BPF descriptor, so it keeps no probe alive), that makes sure no
 * exec of the observed tree waits for an observer that is gone.
 *
 * It is given the exec gate's listener (execgate.h), or with -p the exec
 * gate's holds (holds.h), over a socket, drops its privileges (the invoking
 * user, or nobody; not dumpable; with -p it keeps CAP_KILL) and waits. If
 * memobs is killed it continues every process memobs's -p gate stopped that
 * no other memobs holds.
 * When memobs dies (its pidfd) or hands over at the end of the run, it
 * answers every exec in memobs's place, first any notification memobs
 * received but never answered (ids are sequential: it probes those after
 * the last one memobs recorded). It exits when no task of the tree is left
 * (the listener reports POLLHUP), so it outlives memobs only while processes
 * of the observed tree do (daemons a build started). `ps` shows it as
 * memobs-watchdog. */
#ifndef MO_WATCHDOG_H
#define MO_WATCHDOG_H

#include <stdbool.h>
#include <sys/types.h>
#include "lib/invoker.h"
#include "observe/execgate.h"

struct mo_watchdog;

/* Fork the watchdog; the process name says whose it is. keep_kill: it
 * keeps CAP_KILL (-p: it may have to continue other users' processes).
 * NULL+errno. */
struct mo_watchdog *watchdog_start(const struct mo_invoker *inv, bool keep_kill);

/* Memory shared with the watchdog where the gate records notification ids. */
struct mo_gate_ids *watchdog_ids(struct mo_watchdog *w);

/* Give the watchdog a copy of the exec gate's listener. 0/-errno. */
int watchdog_give_listener(struct mo_watchdog *w, int listener);

/* Give it the -p gate's holds (holds.h): if memobs is killed, it continues
 * what memobs stopped and no other instance holds. 0/-errno. */
int watchdog_give_holds(struct mo_watchdog *w, int map_fd, int prog_fd, unsigned bit);

/* memobs ends cleanly: it has continued what it stopped, and stops
 * answering execs: the watchdog does from now on. */
void watchdog_handover(struct mo_watchdog *w);

/* The watchdog's pid (tests, messages). */
pid_t watchdog_pid(const struct mo_watchdog *w);

/* memobs's side only (handing over first): the watchdog lives on while
 * the tree does. NULL-safe. */
void watchdog_free(struct mo_watchdog *w);

#endif
