// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <capstone.h>
#include "probe/probeplan.h"

#define SCAN_INSNS 8

/* Instructions arch/x86/kernel/uprobes.c emulates instead of stepping:
 * branch_setup_xol_ops (jmp/call rel, jcc rel, nop) and push_setup_xol_ops
 * (push of a general register, kernels since 6.x). Prefixes other than REX
 * make it step. */
static bool kernel_emulates(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	for (int i = 0; i < 4; i++)
		if (x->prefix[i])
			return false;
	switch (insn->id) {
	case X86_INS_NOP:
		return true;
	case X86_INS_PUSH:
		return x->op_count == 1 && x->operands[0].type == X86_OP_REG && x->operands[0].size == 8;
	case X86_INS_JMP: case X86_INS_CALL:
	case X86_INS_JAE: case X86_INS_JA: case X86_INS_JBE: case X86_INS_JB:
	case X86_INS_JE: case X86_INS_JGE: case X86_INS_JG: case X86_INS_JLE:
	case X86_INS_JL: case X86_INS_JNE: case X86_INS_JNO: case X86_INS_JNP:
	case X86_INS_JNS: case X86_INS_JO: case X86_INS_JP: case X86_INS_JS:
		return x->op_count == 1 && x->operands[0].type == X86_OP_IMM;
	default:
		return false;
	}
}

/* Argument register index (rdi=0 ... r9=5) of any width, or -1. */
static int arg_reg_index(uint16_t reg)
{
	static const uint16_t regs[6][4] = {
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
	};

	if (reg == X86_REG_DH)
		return 2;
	if (reg == X86_REG_CH)
		return 3;
	for (int i = 0; i < 6; i++)
		for (int w = 0; w < 4; w++)
			if (regs[i][w] == reg)
				return i;
	return -1;
}

static bool writes_args(csh h, const cs_insn *insn, unsigned nargs)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr;

	if (cs_regs_access(h, insn, rd, &nrd, wr, &nwr))
		return true;	/* unknown: assume the worst */
	for (int i = 0; i < nwr; i++) {
		int idx = arg_reg_index(wr[i]);

		if (idx >= 0 && (unsigned)idx < nargs)
			return true;
	}
	return false;
}

static bool is_control_flow(const cs_insn *insn)
{
	const cs_detail *d = insn->detail;

	for (int i = 0; i < d->groups_count; i++)
		switch (d->groups[i]) {
		case CS_GRP_JUMP: case CS_GRP_CALL: case CS_GRP_RET: case CS_GRP_INT: case CS_GRP_IRET:
			return true;
		}
	return false;
}

static void describe(const cs_insn *insn, struct mo_probe_site *site)
{
	snprintf(site->insn, sizeof(site->insn), "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "",
		 insn->op_str);
}

bool probeplan_decodes(int elfclass, int machine)
{
#ifdef __x86_64__
	return elfclass == ELFCLASS64 && machine == EM_X86_64;
#else
	(void)elfclass, (void)machine;
	return false;
#endif
}

int probeplan_site(const uint8_t *code, size_t len, unsigned nargs, bool entry_only, struct mo_probe_site *site)
{
	const uint8_t *p = code;
	uint64_t addr = 0;
	cs_insn *insn;
	csh h;
	int err = -EINVAL;

	memset(site, 0, sizeof(*site));
	snprintf(site->insn, sizeof(site->insn), "(not decoded)");
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -EINVAL;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(h);
	if (!insn)
		goto out_close;
	for (int i = 0; i < SCAN_INSNS && cs_disasm_iter(h, &p, &len, &addr, insn); i++) {
		if (i == 0) {
			describe(insn, site);
			site->emulated = kernel_emulates(insn);
			err = 0;
			if (site->emulated || !entry_only)
				break;
		} else if (kernel_emulates(insn)) {
			site->skipped = insn->address;
			site->emulated = true;
			describe(insn, site);
			break;
		}
		/* Moving past this one must keep every call passing the probe
		 * with its arguments intact. */
		if (is_control_flow(insn) || writes_args(h, insn, nargs))
			break;
	}
	cs_free(insn, 1);
out_close:
	cs_close(&h);
	return err;
}
