/* SPDX-License-Identifier: GPL-2.0 */
/* The stack sites of a run as a gzipped pprof profile (protobuf-c over
 * user/report/proto/profile.proto), for `go tool pprof`, speedscope, Pyroscope. */
#ifndef MO_REPORT_PPROF_H
#define MO_REPORT_PPROF_H

#include <stddef.h>
#include "model/run.h"

/* One sample per site, leaf first, its program (comm, in its executable)
 * as the root frame and as the labels "comm" and "exe"; functions carry
 * their file and locations their line where DWARF gave one. Sample types:
 * the standard heap types alloc_objects/count, alloc_space/bytes,
 * inuse_objects/count, inuse_space/bytes when the run has allocation sites,
 * then rss_growth_pages/count and rss_growth_space/bytes when it has RSS
 * growth sites; estimated from memobs's sampling (the period is in the
 * profile). *out is malloc'd; 0, -ENOENT (no sites), -ENOMEM. */
int report_pprof(const struct mo_run *run, unsigned char **out, size_t *len);

#endif
