/* SPDX-License-Identifier: GPL-2.0 */
/* The sampled stack sites of a session into run->sites, symbolized: BPF
 * keeps (build id, file offset) frames; libdwfl names them. */
#ifndef MO_STACKS_H
#define MO_STACKS_H

struct mo_session;
struct mo_buildids;
struct mo_run;

/* Read, symbolize and merge the sites, and give each phase its top live
 * allocation sites at its end (run->phases must be read). Build ids no file is known for yet
 * are looked up in memobs's own mappings and the library directories.
 * 0/-errno. */
int stacks_readout(struct mo_session *s, struct mo_buildids *ids, struct mo_run *run);

#endif
