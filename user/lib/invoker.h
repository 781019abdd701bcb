/* SPDX-License-Identifier: GPL-2.0 */
/* The user memobs acts for: under sudo, SUDO_UID/SUDO_GID (the command runs
 * as them and output files belong to them); otherwise the real ids. */
#ifndef MO_INVOKER_H
#define MO_INVOKER_H

#include <stdbool.h>
#include <sys/types.h>

struct mo_invoker {
	uid_t uid;
	gid_t gid;
	bool from_sudo;
	char name[64];		/* login name, "" when unknown */
};

/* Fill *inv from the environment and the real ids. Never fails. */
void invoker_get(struct mo_invoker *inv);

/* While root, act (effective ids) as the invoker for file creation.
 * invoker_enter returns 0/-errno; invoker_leave restores root. No-ops when
 * memobs does not run as root for someone else. */
int invoker_enter(const struct mo_invoker *inv);
void invoker_leave(const struct mo_invoker *inv);

/* In a forked child before exec: become the invoker for good (groups, gid,
 * uid). 0/-errno. */
int invoker_become(const struct mo_invoker *inv);

#endif
