/* SPDX-License-Identifier: GPL-2.0 */
/* The full-screen live view (--live): a top-like screen over ncurses, with
 * the session line (elapsed, RSS now and peak, heap, phase, drops) and the
 * processes by RSS, redrawn by the run loop each refresh.
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

/* Take over the terminal: standard input and output must both be one that
 * ncurses can drive ($TERM). NULL+errno (ENOTTY when they are not; ENOMEM). */
struct mo_live *live__new(void);

/* Show view, replacing the last screen; as many processes as fit. 0 or -EIO. */
int live__draw(struct mo_live *live, const struct mo_live_view *view);

/* Has the user asked to quit? Reads the keys pending, never waits. */
bool live__quit(struct mo_live *live);

/* Give the terminal back as it was. NULL-safe. */
void live__free(struct mo_live *live);

#endif
