// SPDX-License-Identifier: GPL-2.0
/* Unwind tables compiled from .eh_frame (stacks/cfi.c) against libdw's own
 * CFI interpreter, address by address: at every row's start, its middle
 * and its last byte, in the C library and in this test binary, the CFA
 * rule (rsp/rbp + N), where rbp was saved and whether the return address
 * is undefined agree with dwarf_cfi_addrframe; rules libdw gives as
 * expressions are MO_CFA_STOP. FDEs out of their code's order (as a
 * compiler's cold parts are) give the rows they would in order. Cut and
 * non-ELF files are refused. */
#include <dwarf.h>
#include <errno.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "stacks/cfi.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

/* Two leaf functions, one right after the other in the code (the linker
 * sorts .text.sorted.* by name), their FDEs the other way round in
 * .eh_frame (the assembler's order). Both say CFA = rsp + 8 all through:
 * the first row of the later one says what the row before it says, and
 * the gap after the earlier one starts where it starts. */
asm(".section .text.sorted.memobs_2, \"ax\", @progbits\n"
    ".globl cfi_order_late\n"
    ".type cfi_order_late, @function\n"
    "cfi_order_late:\n"
    ".cfi_startproc\n"
    "nop; nop; nop; ret\n"
    ".cfi_endproc\n"
    ".size cfi_order_late, . - cfi_order_late\n"
    ".section .text.sorted.memobs_1, \"ax\", @progbits\n"
    ".globl cfi_order_early\n"
    ".type cfi_order_early, @function\n"
    "cfi_order_early:\n"
    ".cfi_startproc\n"
    "nop; nop; nop; ret\n"
    ".cfi_endproc\n"
    ".size cfi_order_early, . - cfi_order_early\n"
    ".text\n");

/* The vaddr of a file offset in the executable segment holding it. */
static bool vaddr_of(Elf *elf, __u32 off, Dwarf_Addr *vaddr)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X) && off >= ph.p_offset &&
		    off < ph.p_offset + ph.p_filesz) {
			*vaddr = off - ph.p_offset + ph.p_vaddr;
			return true;
		}
	}
	return false;
}

/* Is a register rule "saved at CFA + N" in libdw's form? */
static bool cfa_offset_rule(const Dwarf_Op *ops, size_t nops, int64_t *n)
{
	if (nops != 2 || ops[0].atom != DW_OP_call_frame_cfa || ops[1].atom != DW_OP_plus_uconst)
		return false;
	*n = (int64_t)ops[1].number;
	return true;
}

/* libdw's answer at vaddr in the form of a row (the same policy: only
 * rsp/rbp + a positive multiple of 8, the return address at CFA - 8);
 * false when libdw has none. */
static bool libdw_row(Dwarf_CFI *cfi, Dwarf_Addr vaddr, struct mo_unwind_row *row)
{
	Dwarf_Frame *frame;
	Dwarf_Op *ops, mem[3];
	size_t nops;
	int64_t ra = 0, rbp = 0;

	memset(row, 0, sizeof(*row));
	if (dwarf_cfi_addrframe(cfi, vaddr, &frame))
		return false;
	if (!dwarf_frame_cfa(frame, &ops, &nops) && nops == 1 && ops[0].atom == DW_OP_bregx &&
	    (ops[0].number == 6 || ops[0].number == 7) && (int64_t)ops[0].number2 > 0 && ops[0].number2 % 8 == 0) {
		row->cfa = ops[0].number == 7 ? MO_CFA_RSP : MO_CFA_RBP;
		row->cfa_off8 = ops[0].number2 / 8;
	}
	if (dwarf_frame_register(frame, 16, mem, &ops, &nops) || (nops && !cfa_offset_rule(ops, nops, &ra)) ||
	    (nops && ra != -8))
		*row = (struct mo_unwind_row){ .cfa = MO_CFA_STOP };
	else if (!nops)	/* DW_CFA_undefined (libdw gives it as ops without operations) */
		*row = (struct mo_unwind_row){ .cfa = MO_CFA_END };
	if (row->cfa != MO_CFA_STOP && row->cfa != MO_CFA_END &&
	    !dwarf_frame_register(frame, 6, mem, &ops, &nops) && cfa_offset_rule(ops, nops, &rbp) && rbp % 8 == 0 &&
	    rbp / 8 >= -128 && rbp / 8 <= 127)
		row->rbp_off8 = rbp / 8;
	free(frame);
	return true;
}

static bool agrees(const char *path, size_t *checked)
{
	struct mo_cfi_table t;
	char err[128];
	int fd = open(path, O_RDONLY);
	Elf *elf;
	Dwarf_CFI *cfi;

	ASSERT_TRUE(fd >= 0, "%s", path);
	ASSERT_EQ(cfi_compile(path, &t, err, sizeof(err)), 0);
	ASSERT_TRUE(t.nrows > 20, "%s: %zu rows", path, t.nrows);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	cfi = dwarf_getcfi_elf(elf);
	ASSERT_TRUE(cfi != NULL, "libdw reads the CFI");
	for (size_t i = 0; i + 1 < t.nrows; i++) {
		__u32 probes[3] = { t.rows[i].offset, (t.rows[i].offset + t.rows[i + 1].offset) / 2,
				    t.rows[i + 1].offset - 1 };

		for (int k = 0; k < 3; k++) {
			struct mo_unwind_row want;
			const struct mo_unwind_row *got = cfi_lookup(&t, probes[k]);
			Dwarf_Addr vaddr;

			ASSERT_TRUE(got == &t.rows[i], "lookup at %#x", probes[k]);
			if (!vaddr_of(elf, probes[k], &vaddr))
				continue;
			if (!libdw_row(cfi, vaddr, &want)) {
				ASSERT_TRUE(got->cfa == MO_CFA_FP, "%s %#x: no FDE, row %d", path, probes[k], got->cfa);
				continue;
			}
			ASSERT_TRUE(got->cfa == want.cfa && got->cfa_off8 == want.cfa_off8 && got->rbp_off8 == want.rbp_off8,
				    "%s at %#x: cfa %d+%d*8 rbp %d*8, libdw cfa %d+%d*8 rbp %d*8", path, probes[k], got->cfa,
				    got->cfa_off8, got->rbp_off8, want.cfa, want.cfa_off8, want.rbp_off8);
			(*checked)++;
		}
	}
	dwarf_cfi_end(cfi);
	elf_end(elf);
	close(fd);
	cfi_table_free(&t);
	return true;
}

static bool test_libc_rows_agree_with_libdw(void)
{
	size_t checked = 0;

	if (!agrees(LIBC, &checked))
		return false;
	ASSERT_TRUE(checked > 10000, "%zu addresses checked", checked);
	return true;
}

static bool test_perl_rows_agree_with_libdw(void)
{
	size_t checked = 0;

	return agrees("/usr/bin/perl", &checked);
}

static bool test_own_rows_agree_with_libdw(void)
{
	size_t checked = 0;

	return agrees("/proc/self/exe", &checked);
}

/* The file offset and size of a function of this binary, from its symbol
 * table. */
static bool symbol_at(Elf *elf, const char *name, __u32 *off, size_t *size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB ? elf_getdata(scn, NULL) : NULL;

		for (size_t i = 0; data && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *s = gelf_getsym(data, i, &sym) ? elf_strptr(elf, sh.sh_link, sym.st_name) : NULL;
			size_t nph;

			if (!s || strcmp(s, name) || elf_getphdrnum(elf, &nph))
				continue;
			for (size_t k = 0; k < nph; k++) {
				GElf_Phdr ph;

				if (gelf_getphdr(elf, k, &ph) && ph.p_type == PT_LOAD && sym.st_value >= ph.p_vaddr &&
				    sym.st_value < ph.p_vaddr + ph.p_filesz) {
					*off = sym.st_value - ph.p_vaddr + ph.p_offset;
					*size = sym.st_size;
					return true;
				}
			}
		}
	}
	return false;
}

static bool test_fdes_out_of_code_order(void)
{
	struct mo_cfi_table t;
	char err[128];
	int fd = open("/proc/self/exe", O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	__u32 early, late;
	size_t early_size, late_size;
	const struct mo_unwind_row *row;

	ASSERT_TRUE(symbol_at(elf, "cfi_order_early", &early, &early_size), "cfi_order_early found");
	ASSERT_TRUE(symbol_at(elf, "cfi_order_late", &late, &late_size), "cfi_order_late found");
	ASSERT_TRUE(early + early_size == late, "the two functions meet (%#x + %zu, %#x)", early, early_size, late);
	ASSERT_EQ(cfi_compile("/proc/self/exe", &t, err, sizeof(err)), 0);
	for (__u32 off = early; off < late + late_size; off++) {
		row = cfi_lookup(&t, off);
		ASSERT_TRUE(row && row->cfa == MO_CFA_RSP && row->cfa_off8 == 1, "at %#x (functions at %#x, %#x): rule %d",
			    off, early, late, row ? row->cfa : -1);
	}
	cfi_table_free(&t);
	elf_end(elf);
	close(fd);
	return true;
}

static bool test_build_id_read(void)
{
	struct mo_cfi_table t;
	char err[128];
	unsigned char zero[20] = {};

	ASSERT_EQ(cfi_compile(LIBC, &t, err, sizeof(err)), 0);
	ASSERT_TRUE(memcmp(t.build_id, zero, sizeof(zero)), "libc has a build id");
	cfi_table_free(&t);
	return true;
}

static bool test_bad_files_refused(void)
{
	struct mo_cfi_table t;
	char err[128], path[] = "/tmp/memobs-cfi-XXXXXX";
	int fd = mkstemp(path);

	ASSERT_TRUE(fd >= 0, "temp file");
	ASSERT_TRUE(write(fd, "#!/bin/sh\n", 10) == 10, "written");
	ASSERT_EQ(cfi_compile(path, &t, err, sizeof(err)), -ENOEXEC);
	ASSERT_STR_EQ(err, "not a 64-bit ELF file");
	ASSERT_EQ(cfi_compile("/nonexistent/memobs", &t, err, sizeof(err)), -ENOENT);
	close(fd);
	unlink(path);
	return true;
}

int main(void)
{
	elf_version(EV_CURRENT);
	RUN(test_libc_rows_agree_with_libdw);
	RUN(test_own_rows_agree_with_libdw);
	RUN(test_perl_rows_agree_with_libdw);
	RUN(test_fdes_out_of_code_order);
	RUN(test_build_id_read);
	RUN(test_bad_files_refused);
	return check_summary();
}
