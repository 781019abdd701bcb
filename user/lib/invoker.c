// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
}

static bool acts_for_other(const struct mo_invoker *inv)
{
	return geteuid() == 0 && inv->uid != 0;
}

int invoker_enter(const struct mo_invoker *inv)
{
	if (!acts_for_other(inv))
		return 0;
	if (setegid(inv->gid))
		return -errno;
	if (seteuid(inv->uid)) {
		int err = -errno;

		if (setegid(0))
			abort();	/* cannot get root back: nothing sane follows */
		return err;
	}
	return 0;
}

void invoker_leave(const struct mo_invoker *inv)
{
	if (geteuid() == inv->uid && inv->uid != 0 && getuid() == 0) {
		if (seteuid(0) || setegid(0))
			abort();
	}
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
