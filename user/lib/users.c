// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/users.h"

int users_parse(const char *arg, uid_t *out)
{
	struct passwd pw, *found = NULL;
	char buf[4096], *end;
	unsigned long long v;

	if (!arg || !*arg)
		return -EINVAL;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!*end && arg[0] != '-' && arg[0] != '+') {
		/* (uid_t)-1 means "no change" to the kernel: no process has it. */
		if (errno || v >= (uid_t)-1)
			return -EINVAL;
		*out = v;
		return 0;
	}
	if (strlen(arg) >= MO_USER_LEN || strchr(arg, ':') || strchr(arg, '\n'))
		return -EINVAL;
	if (getpwnam_r(arg, &pw, buf, sizeof(buf), &found) || !found)
		return -ENOENT;
	*out = found->pw_uid;
	return 0;
}

const char *users_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *found = NULL;
	char tmp[4096];

	if (!getpwuid_r(uid, &pw, tmp, sizeof(tmp), &found) && found)
		snprintf(buf, len, "%s", found->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}
