/* SPDX-License-Identifier: GPL-2.0 */
/* Unwind tables for BPF: an x86-64 ELF file's call frame information
 * (.eh_frame, else .debug_frame) compiled into rows sorted by file offset,
 * each saying where the caller's frame is (CFA = rsp + N or rbp + N, the
 * return address at CFA - 8, rbp saved at CFA + M or unchanged). libdw
 * splits the section into CIEs and FDEs; the row programs are run here,
 * once per file, because libdw only answers one address at a time (a
 * compiler's 440,000 rows took 1.4 s that way). Rules BPF does not
 * evaluate (DWARF expressions, registers other than rsp/rbp) become
 * MO_CFA_STOP; addresses no FDE covers become MO_CFA_FP. No libbpf here. */
#ifndef MO_CFI_H
#define MO_CFI_H

#include <stddef.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "probe/elfinfo.h"

struct mo_cfi_table {
	struct mo_unwind_row *rows;	/* sorted by offset; malloc'd, or in map */
	size_t nrows;
	void *map;		/* a file mapped that holds rows (stacks/cficache.c), or NULL */
	size_t map_len;
	unsigned char build_id[20];	/* zero-padded; all zero when the file has none */
};

/* Compile the table of the ELF file at path. A file without CFI gives 0
 * rows. 0, or -errno with the reason in err. */
int cfi_compile(const char *path, struct mo_cfi_table *out, char *err, size_t errlen);

/* The table of an ELF file already open; otherwise as cfi_compile. */
int cfi_compile_elf(struct mo_elf *file, struct mo_cfi_table *out, char *err, size_t errlen);

void cfi_table_free(struct mo_cfi_table *t);

/* The row that holds at file offset off, or NULL (before the first). */
const struct mo_unwind_row *cfi_lookup(const struct mo_cfi_table *t, __u32 off);

#endif
