// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include "report/report_target.h"

const char *report_target(const struct mo_run *run, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	if (run->command)
		for (char **c = run->command; *c && n < len; c++)
			n += snprintf(buf + n, len - n, "%s%s", c == run->command ? "" : " ", *c);
	else if (run->host_wide)
		snprintf(buf, len, "all processes");
	else
		snprintf(buf, len, "pid %d", run->target_pid);
	return buf;
}
