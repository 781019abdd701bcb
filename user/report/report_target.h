/* SPDX-License-Identifier: GPL-2.0 */
/* What a run observed, in words, for the headlines of its reports. */
#ifndef MO_REPORT_TARGET_H
#define MO_REPORT_TARGET_H

#include <stddef.h>
#include "model/run.h"

/* The command line (arguments joined by spaces, control characters
 * escaped: termesc.h), "pid 4242", "pids 4242, 4243", "all processes" or
 * "processes matching --comm cc1 --uid 1000", cut to cols columns with
 * "..." (a long `sh -c` script). Returns buf. */
const char *report_target(const struct mo_run *run, size_t cols, char *buf, size_t len);

#endif
