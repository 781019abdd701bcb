/* SPDX-License-Identifier: GPL-2.0 */
/* The one-line live status on a terminal. */
#ifndef MO_STATUS_H
#define MO_STATUS_H

#include <stddef.h>
#include <stdint.h>

/* "memobs 12.3s  5 procs  RSS 123.4 MiB (peak 200.0 MiB)  heap 12.0 MiB  phase render"
 * heap_live < 0 leaves the heap out; phase NULL leaves the phase out. */
void status_format(char *buf, size_t len, double elapsed_s, int64_t nprocs, int64_t rss, int64_t rss_peak,
		   int64_t heap_live, const char *phase);

#endif
