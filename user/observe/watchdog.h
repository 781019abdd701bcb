/* SPDX-License-Identifier: GPL-2.0 */
/* The watchdog: a small process, forked before any BPF object exists (it
 * holds no BPF descriptor, so it keeps no probe alive), that makes sure no
 * exec of the observed tree waits for an observer that is gone.
 *
 * It is given the exec gate's listener (execgate.h) over a socket, drops
 * its privileges (the invoking user, or nobody; not dumpable) and waits.
 * When memobs dies (its pidfd) or hands over at the end of the run, it
 * answers every exec in memobs's place, first any notification memobs
 * received but never answered (ids are sequential: it probes those after
 * the last one memobs recorded). It exits when no task of the tree is left
 * (the listener reports POLLHUP), so it outlives memobs only while processes
 * of the observed tree do (daemons a build started). `ps` shows it as
 * memobs-watchdog. */
#ifndef MO_WATCHDOG_H
#define MO_WATCHDOG_H

#include <sys/types.h>
#include "lib/invoker.h"
#include "observe/execgate.h"

struct mo_watchdog;

/* Fork the watchdog; the process name says whose it is. NULL+errno. */
struct mo_watchdog *watchdog_start(const struct mo_invoker *inv);

/* Memory shared with the watchdog where the gate records notification ids. */
struct mo_gate_ids *watchdog_ids(struct mo_watchdog *w);

/* Give the watchdog a copy of the exec gate's listener. 0/-errno. */
int watchdog_give_listener(struct mo_watchdog *w, int listener);

/* memobs stops answering execs: the watchdog does from now on. */
void watchdog_handover(struct mo_watchdog *w);

/* The watchdog's pid (tests, messages). */
pid_t watchdog_pid(const struct mo_watchdog *w);

/* memobs's side only (handing over first): the watchdog lives on while
 * the tree does. NULL-safe. */
void watchdog_free(struct mo_watchdog *w);

#endif
