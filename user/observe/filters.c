// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lib/grow.h"
#include "observe/cgroups.h"
#include "observe/filters.h"

static bool has_comm(const struct mo_filters *f, const char comm[MO_COMM_LEN])
{
	for (size_t i = 0; i < f->ncomms; i++)
		if (!memcmp(f->comms[i], comm, MO_COMM_LEN))
			return true;
	return false;
}

int filters_add_comms(struct mo_filters *f, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	for (;;) {
		size_t n = strcspn(p, ",");
		char comm[MO_COMM_LEN] = {};

		if (!n) {
			snprintf(err, errlen, "'%s': an empty name", list);
			return -EINVAL;
		}
		if (n >= MO_COMM_LEN) {
			snprintf(err, errlen, "'%.*s' is longer than %d bytes: the kernel keeps only the first %d of a "
				 "process name (ps shows them)", (int)n, p, MO_COMM_LEN - 1, MO_COMM_LEN - 1);
			return -EINVAL;
		}
		memcpy(comm, p, n);
		if (!has_comm(f, comm)) {
			if (f->ncomms >= MO_MAX_COMM_FILTERS) {
				snprintf(err, errlen, "more than %d names", MO_MAX_COMM_FILTERS);
				return -EINVAL;
			}
			if (GROW(f->comms, f->ncomms + 1, f->comms_alloc)) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			memcpy(f->comms[f->ncomms++], comm, MO_COMM_LEN);
		}
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

/* "/a//b/./c/" -> "/a/b/c" with its depth; "" and "/" -> "/". -EINVAL on "..". */
static int canonical_path(const char *in, char *out, size_t len, unsigned *level)
{
	size_t o = 0;

	*level = 0;
	while (*in) {
		size_t n;

		while (*in == '/')
			in++;
		n = strcspn(in, "/");
		if (!n)
			break;
		if (n == 2 && !strncmp(in, "..", 2))
			return -EINVAL;
		if (!(n == 1 && in[0] == '.')) {
			if (o + 1 + n + 1 > len)
				return -ENAMETOOLONG;
			out[o++] = '/';
			memcpy(out + o, in, n);
			o += n;
			(*level)++;
		}
		in += n;
	}
	if (!o)
		out[o++] = '/';
	out[o] = 0;
	return 0;
}

int filters_set_cgroup(struct mo_filters *f, const char *arg, const char *root, char *err, size_t errlen)
{
	size_t rlen = strlen(root);
	char path[PATH_MAX], full[PATH_MAX + 64];
	struct stat st;
	int ret;

	/* The mount point written out is the same cgroup as the path below it. */
	if (!strncmp(arg, root, rlen) && (arg[rlen] == '/' || !arg[rlen]))
		arg += rlen;
	ret = canonical_path(arg, path, sizeof(path), &f->cgroup_level);
	if (ret) {
		snprintf(err, errlen, "'%s': %s", arg, ret == -EINVAL ? "'..' is not allowed in a cgroup path" :
			 strerror(-ret));
		return -EINVAL;
	}
	snprintf(full, sizeof(full), "%s%s", root, path);
	if (stat(full, &st)) {
		snprintf(err, errlen, "no cgroup %s (%s: %s)", path, full, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "no cgroup %s (%s is not a directory)", path, full);
		return -ENOENT;
	}
	free(f->cgroup);
	f->cgroup = strdup(path);
	if (!f->cgroup) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->cgroup_id = st.st_ino;
	return 0;
}

uint32_t filters_mask(const struct mo_filters *f)
{
	return (f->ncomms ? MO_FILTER_COMM : 0) | (f->has_uid ? MO_FILTER_UID : 0) | (f->cgroup ? MO_FILTER_CGROUP : 0);
}

bool filters_any(const struct mo_filters *f)
{
	return filters_mask(f) != 0;
}

bool filters_match(const struct mo_filters *f, const char *comm, uid_t uid, const char *cgroup)
{
	char padded[MO_COMM_LEN] = {};

	if (f->ncomms) {
		strncpy(padded, comm, MO_COMM_LEN - 1);
		if (!has_comm(f, padded))
			return false;
	}
	if (f->has_uid && uid != f->uid)
		return false;
	if (f->cgroup && (!cgroup || !cgroups_path_within(cgroup, f->cgroup)))
		return false;
	return true;
}

void filters_free(struct mo_filters *f)
{
	free(f->comms);
	free(f->cgroup);
	memset(f, 0, sizeof(*f));
}

int filters_parse_pids(const char *list, pid_t **pids, size_t *n, char *err, size_t errlen)
{
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");
		char buf[24], *end;
		long long v = 0;
		size_t alloc;
		bool dup = false;

		if (len && len < sizeof(buf) && p[0] >= '0' && p[0] <= '9') {
			memcpy(buf, p, len);
			buf[len] = 0;
			errno = 0;
			v = strtoll(buf, &end, 10);
			if (*end || errno)
				v = 0;
		}
		if (v <= 0 || v > INT_MAX) {
			snprintf(err, errlen, "'%.*s' is not a process id", (int)(len < 32 ? len : 32), p);
			return -EINVAL;
		}
		for (size_t i = 0; i < *n; i++)
			dup |= (*pids)[i] == v;
		/* The list may have grown from earlier -p: room for exactly *n. */
		alloc = *n;
		if (!dup && GROW(*pids, *n + 1, alloc)) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if (!dup)
			(*pids)[(*n)++] = v;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}
