// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/invoker.h"

static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end;
}

void invoker_get(struct mo_invoker *inv)
{
	unsigned long uid, gid;
	struct passwd *pw;

	memset(inv, 0, sizeof(*inv));
	inv->uid = getuid();
	inv->gid = getgid();
	if (geteuid() == 0 && parse_id(getenv("SUDO_UID"), &uid) && parse_id(getenv("SUDO_GID"), &gid)) {
		inv->uid = uid;
		inv->gid = gid;
		inv->from_sudo = true;
	}
	pw = getpwuid(inv->uid);
	if (pw)
		snprintf(inv->name, sizeof(inv->name), "%s", pw->pw_name);
	/* Its groups as a login would give them; past the bound, fewer (never
	 * more) than it has. */
	inv->ngroups = MO_INVOKER_GROUPS;
	if (!pw || getgrouplist(pw->pw_name, inv->gid, inv->groups, &inv->ngroups) < 0) {
		if (!pw || inv->ngroups <= 0 || inv->ngroups > MO_INVOKER_GROUPS) {
			inv->groups[0] = inv->gid;
			inv->ngroups = 1;
		}
	}
	inv->nown_groups = getgroups(MO_INVOKER_GROUPS, inv->own_groups);
}

static bool acts_for_other(const struct mo_invoker *inv)
{
	return geteuid() == 0 && inv->uid != 0;
}

/* Root's own groups back (or none when they could not be saved). */
static void restore_groups(const struct mo_invoker *inv)
{
	if (setgroups(inv->nown_groups > 0 ? inv->nown_groups : 0, inv->own_groups))
		abort();	/* cannot get root back: nothing sane follows */
}

int invoker_enter(const struct mo_invoker *inv)
{
	int err;

	if (!acts_for_other(inv))
		return 0;
	/* Not root's supplementary groups: they would let the user write
	 * where only root's groups may. */
	if (setgroups(inv->ngroups, inv->groups))
		return -errno;
	if (setegid(inv->gid)) {
		err = -errno;
		restore_groups(inv);
		return err;
	}
	if (seteuid(inv->uid)) {
		err = -errno;
		if (setegid(0))
			abort();
		restore_groups(inv);
		return err;
	}
	return 0;
}

void invoker_leave(const struct mo_invoker *inv)
{
	if (geteuid() == inv->uid && inv->uid != 0 && getuid() == 0) {
		if (seteuid(0) || setegid(0))
			abort();
		restore_groups(inv);
	}
}

/* Raw system calls: glibc's setgroups changes every thread's; the kernel's
 * changes the caller's. An fsuid other than 0 drops the capabilities that
 * would bypass the check (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); back to 0,
 * they return. */
bool invoker_can_read(const struct mo_invoker *inv, const char *path)
{
	bool ok;

	if (!acts_for_other(inv))
		return true;
	if (syscall(SYS_setgroups, inv->ngroups, inv->groups))
		return false;
	syscall(SYS_setfsgid, inv->gid);
	syscall(SYS_setfsuid, inv->uid);
	/* setfsuid says nothing of a failure: unchanged, say no. */
	ok = syscall(SYS_setfsuid, -1) == (long)inv->uid && syscall(SYS_setfsgid, -1) == (long)inv->gid &&
	     !faccessat(AT_FDCWD, path, R_OK, AT_EACCESS);
	syscall(SYS_setfsuid, 0);
	syscall(SYS_setfsgid, getegid());
	if (syscall(SYS_setfsuid, -1) != 0 ||
	    syscall(SYS_setgroups, inv->nown_groups > 0 ? inv->nown_groups : 0, inv->own_groups))
		abort();	/* cannot get root back: nothing sane follows */
	return ok;
}

int invoker_become(const struct mo_invoker *inv)
{
	if (getuid() != 0 || inv->uid == 0)
		return 0;
	if (inv->name[0] ? initgroups(inv->name, inv->gid) : setgroups(0, NULL))
		return -errno;
	if (setgid(inv->gid) || setuid(inv->uid))
		return -errno;
	return 0;
}
