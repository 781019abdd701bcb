/* SPDX-License-Identifier: GPL-2.0 */
/* The allocation sites of a run as a gzipped pprof profile (protobuf-c over
 * user/proto/profile.proto), for `go tool pprof`, speedscope, Pyroscope. */
#ifndef MO_REPORT_PPROF_H
#define MO_REPORT_PPROF_H

#include <stddef.h>
#include "model/run.h"

/* Samples with the standard heap types alloc_objects/count,
 * alloc_space/bytes, inuse_objects/count, inuse_space/bytes, one per
 * allocation site (leaf first), estimated from memobs's sampling (the period
 * is in the profile). *out is malloc'd; 0, -ENOENT (no allocation sites:
 * recorded without --heap), -ENOMEM. */
int report_pprof(const struct mo_run *run, unsigned char **out, size_t *len);

#endif
