/* SPDX-License-Identifier: GPL-2.0 */
/* The user memobs acts for: under sudo, SUDO_UID/SUDO_GID (the command runs
 * as them and output files belong to them); otherwise the real ids. */
#ifndef MO_INVOKER_H
#define MO_INVOKER_H

#include <stdbool.h>
#include <sys/types.h>

#define MO_INVOKER_GROUPS 256

struct mo_invoker {
	uid_t uid;
	gid_t gid;
	bool from_sudo;
	char name[64];		/* login name, "" when unknown */
	int ngroups;		/* its groups (the group database's), to act as it */
	gid_t groups[MO_INVOKER_GROUPS];
	int nown_groups;	/* memobs's own supplementary groups, given back after; -1: unknown */
	gid_t own_groups[MO_INVOKER_GROUPS];
};

/* Fill *inv from the environment and the real ids. Never fails. */
void invoker_get(struct mo_invoker *inv);

/* While root, act (effective ids and supplementary groups) as the invoker
 * for file creation. invoker_enter returns 0/-errno; invoker_leave restores
 * root's. No-ops when memobs does not run as root for someone else. */
int invoker_enter(const struct mo_invoker *inv);
void invoker_leave(const struct mo_invoker *inv);

/* Could the invoker read the file at path (its permissions, ACLs and
 * directories, as the kernel checks them)? Asked in the calling thread
 * alone, whatever memobs's other threads do: memobs reads nothing for a
 * report that its user could not (a program they may run but not read).
 * True when memobs does not run as root for someone else. */
bool invoker_can_read(const struct mo_invoker *inv, const char *path);

/* In a forked child before exec: become the invoker for good (groups, gid,
 * uid). 0/-errno. */
int invoker_become(const struct mo_invoker *inv);

#endif
