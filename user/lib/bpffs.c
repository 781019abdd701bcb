// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include "lib/bpffs.h"

#define BPF_FS_MAGIC 0xcafe4a11

int bpffs_ensure(void)
{
	struct statfs fs;

	if (!statfs(BPFFS_ROOT, &fs) && fs.f_type == BPF_FS_MAGIC)
		return 0;
	return mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") ? -errno : 0;
}
