/* SPDX-License-Identifier: GPL-2.0 */
/* Allocator uprobes: which functions of a file to probe, where (probeplan.h),
 * and the links. Attached system-wide per file; the BPF programs keep only
 * the session's processes. Each file is probed once. */
#ifndef MO_ATTACH_HEAP_H
#define MO_ATTACH_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mo_heap_probes;
struct memobs_bpf;

/* One probed function, for the report: where the probe sits and whether the
 * kernel emulates the instruction there. */
struct mo_heap_site {
	char file[256];
	char func[24];
	uint32_t skipped;
	bool emulated;
	bool uretprobe;
	char insn[48];
};

struct mo_heap_probes *heap_probes__new(struct memobs_bpf *skel);
void heap_probes__free(struct mo_heap_probes *hp);

/* Probe the allocator functions defined in the ELF file at path. Returns the
 * number of functions probed (0: none defined there, or already probed),
 * or -errno with the reason in err. */
int heap_probes__attach_file(struct mo_heap_probes *hp, const char *path, char *err, size_t errlen);

/* Does the file define malloc (an allocator to probe)? */
bool heap_probes__defines_malloc(const char *path);

const struct mo_heap_site *heap_probes__sites(const struct mo_heap_probes *hp, size_t *count);

#endif
