/* SPDX-License-Identifier: GPL-2.0 */
/* The full-screen live view (--live): a top-like screen over ncurses, with
 * the session line (elapsed, RSS now and peak, heap, phase, drops) and the
 * processes by RSS, redrawn by the run loop each refresh.
 *
 * Under a command, its output goes to a log file (live__new) that a pane
 * below the processes shows: the command cannot write over the view.
 *
 * Keys: q quits. Ctrl-C keeps its meaning (the terminal stays in cbreak
 * mode): SIGINT goes to the foreground group, the workload and memobs, as
 * without --live; the loop's own SIGINT flag must end it and call
 * live__free. Where Ctrl-C arrives as a key instead, it quits like q. */
#ifndef MO_LIVE_H
#define MO_LIVE_H

#include <stdbool.h>
#include "serve/live_view.h"

struct mo_live;

/* Take over the controlling terminal (/dev/tty, whatever standard input and
 * output are: the view stays usable with them redirected), which ncurses
 * must be able to drive ($TERM). log: a file the command's output goes to,
 * whose last lines a pane at the bottom shows, or NULL. NULL+errno (ENOTTY
 * without a controlling terminal; ENOMEM). */
struct mo_live *live__new(const char *log);

/* The terminal's descriptor, to poll for keys. */
int live__fd(const struct mo_live *live);

/* Show view, replacing the last screen; as many processes as fit. 0 or -EIO. */
int live__draw(struct mo_live *live, const struct mo_live_view *view);

/* Has the user asked to quit? Reads the keys pending, never waits. */
bool live__quit(struct mo_live *live);

/* Give the terminal back as it was. NULL-safe. */
void live__free(struct mo_live *live);

#endif
