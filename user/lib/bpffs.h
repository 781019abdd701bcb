/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF filesystem at /sys/fs/bpf, where memobs pins what must outlive a
 * file descriptor: the exec gate's shared holds (observe/holds.c) and links
 * handed to the kernel to detach (probe/handoff.c). */
#ifndef MO_BPFFS_H
#define MO_BPFFS_H

#define BPFFS_ROOT "/sys/fs/bpf"

/* bpffs at BPFFS_ROOT, mounted (root only, mode 0700) if it is not: 0/-errno. */
int bpffs_ensure(void);

#endif
