/* SPDX-License-Identifier: GPL-2.0 */
/* From BPF maps and marker records into the run document: periodic harvest
 * of what exited processes left (keeps the maps bounded), marker names BPF
 * could not read, and the final readout. */
#ifndef MO_READOUT_H
#define MO_READOUT_H

#include <stddef.h>
#include <linux/types.h>
#include "model/run.h"

struct mo_readout;
struct mo_session;
struct mo_proctree;
struct mo_procs_snap;

struct mo_readout *readout__new(struct mo_session *sess, struct mo_run *run, struct mo_proctree *tree,
				__u64 t0_ns);
void readout__free(struct mo_readout *r);

/* A phase or mark record from the ring buffer. */
void readout__marker_event(struct mo_readout *r, const void *data, size_t len);

/* Name of an open or closed phase by id (NULL when unknown). */
const char *readout__phase_name(struct mo_readout *r, __u32 id);

/* Move what exited processes left in the maps into the run; delete it.
 * snap: the tick's read of the process table (session__read_procs). */
void readout__harvest(struct mo_readout *r, const struct mo_procs_snap *snap);

/* The end: processes, their per-phase figures, phases, totals, drops.
 * 0/-errno. */
int readout__final(struct mo_readout *r, __u64 end_ns);

#endif
