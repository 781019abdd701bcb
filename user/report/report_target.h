/* SPDX-License-Identifier: GPL-2.0 */
/* What a run observed, in words, for the titles of its pictures. */
#ifndef MO_REPORT_TARGET_H
#define MO_REPORT_TARGET_H

#include <stddef.h>
#include "model/run.h"

/* The command line (arguments joined by spaces), "pid N" or "all
 * processes", cut to fit len. Returns buf. */
const char *report_target(const struct mo_run *run, char *buf, size_t len);

#endif
