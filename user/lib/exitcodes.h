/* SPDX-License-Identifier: GPL-2.0 */
/* memobs's exit codes, documented in README.md. In run mode memobs exits with
 * the command's own status (128+N when a signal N killed it). */
#ifndef MO_EXITCODES_H
#define MO_EXITCODES_H

enum mo_exit {
	MO_EXIT_OK = 0,
	MO_EXIT_REGRESSION = 1,	/* check: a metric grew past its bound */
	MO_EXIT_SCALE_RUN_FAILED = 1,	/* scale: the command failed at one size */
	MO_EXIT_USAGE = 2,	/* bad arguments or bad input file */
	MO_EXIT_FAILURE = 125,	/* memobs itself failed */
	MO_EXIT_CANNOT_RUN = 126,	/* the command exists but cannot be executed */
	MO_EXIT_NOT_FOUND = 127,	/* the command was not found */
};

#endif
