/* SPDX-License-Identifier: GPL-2.0 */
/* The session's state, shared by session.c (load, attach, the BPF state)
 * and session_maps.c (its maps read and written from user space). */
#ifndef MO_SESSION_PRIV_H
#define MO_SESSION_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define NLINKS 7

struct mo_session {
	struct memobs_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[NLINKS];
	bool exec_begins_seen;	/* mo_prep_exec attached */
	size_t unwind_rows;	/* rows of the unwind tables loaded */
	struct mo_handoff *handoff;	/* links detached by the kernel, or NULL */
	bool detaching;		/* detacher owns links[] */
	pthread_t detacher;
	struct mo_pool *inserters;	/* threads waiting out grace periods (session_maps.c), or NULL */
};

#endif
