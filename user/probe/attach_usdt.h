/* SPDX-License-Identifier: GPL-2.0 */
/* The phase markers: USDT probes of provider "memobs" in a file, attached
 * system-wide (uprobes are per file, so a library dlopen'd later is covered
 * from its first mapping). Each file is attached once. */
#ifndef MO_ATTACH_USDT_H
#define MO_ATTACH_USDT_H

#include <stddef.h>

struct mo_usdt_probes;
struct memobs_bpf;

struct mo_usdt_probes *usdt_probes__new(struct memobs_bpf *skel);
void usdt_probes__free(struct mo_usdt_probes *up);

/* Attach the markers found in the file. Returns markers attached (0: none in
 * the file, or already attached), or -errno with the reason in err. */
int usdt_probes__attach_file(struct mo_usdt_probes *up, const char *path, char *err, size_t errlen);

#endif
