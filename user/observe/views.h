/* SPDX-License-Identifier: GPL-2.0 */
/* The session as it is now, for the live view (--live) and the Prometheus
 * endpoint (--serve): the session's counters, and the processes of the
 * tick's one read of the process table (session__read_procs). */
#ifndef MO_VIEWS_H
#define MO_VIEWS_H

#include <stdbool.h>
#include <linux/types.h>

struct mo_views;
struct mo_session;
struct mo_readout;
struct mo_cgroups;
struct mo_live;
struct mo_serve;
struct mo_procs_snap;

/* heap: the allocator is traced; t0_ns: the start of the run; cgroups names
 * the processes' cgroups. NULL on ENOMEM. */
struct mo_views *views__new(struct mo_session *sess, struct mo_readout *readout, struct mo_cgroups *cgroups,
			    bool heap, __u64 t0_ns);
void views__free(struct mo_views *v);

/* Redraw the live view with the processes running in snap. */
void views__live(struct mo_views *v, struct mo_live *live, const struct mo_procs_snap *snap, __u64 now_ns);

/* Answer the scrapes pending on serve, with the processes running in snap. */
void views__serve(struct mo_views *v, struct mo_serve *serve, const struct mo_procs_snap *snap, __u64 now_ns);

#endif
