// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include "stacks/python.h"

bool python_version_known(unsigned major, unsigned minor)
{
	return major == 3 && (minor == 11 || minor == 12);
}

void python_runtime(struct mo_elf *elf, struct mo_python_runtime *out)
{
	struct mo_elf_func eval, runtime, version;
	uint32_t hex = 0;

	*out = (struct mo_python_runtime){};
	/* Looked up once: every file with an unwind table comes here, and a
	 * compiler's symbol tables take ~1 ms to scan. */
	if (elf__func(elf, "_PyEval_EvalFrameDefault", &eval))
		return;
	/* Py_Version (3.11+) is PY_VERSION_HEX: 0x030b07f0 is 3.11.7. */
	if (!elf__object(elf, "_PyRuntime", &runtime) && !elf__object(elf, "Py_Version", &version) &&
	    elf__read(elf, version.offset, &hex, sizeof(hex)) == sizeof(hex) && eval.offset + eval.size <= UINT32_MAX) {
		out->major = hex >> 24;
		out->minor = (hex >> 16) & 0xff;
		out->eval_start = eval.offset;
		out->eval_end = eval.offset + eval.size;
		/* The text segment's vaddr - offset, from the eval loop's own. */
		out->runtime = runtime.addr - (eval.addr - eval.offset);
	} else {
		out->major = 3;	/* older than 3.11: no Py_Version */
	}
}

/* The 6-bit varints of the location table. */
static uint64_t varint(const unsigned char *t, uint32_t len, uint32_t *i)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (*i < len) {
		unsigned char b = t[(*i)++];

		v |= (uint64_t)(b & 63) << shift;
		shift += 6;
		if (!(b & 64) || shift > 60)
			break;
	}
	return v;
}

static int64_t svarint(const unsigned char *t, uint32_t len, uint32_t *i)
{
	uint64_t v = varint(t, len, i);

	return v & 1 ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
}

unsigned python_line(const struct mo_pycode *code, uint64_t instr)
{
	uint64_t unit = instr / 2, addr = 0;	/* instructions are 2-byte code units */
	int64_t line = code->firstlineno;
	uint32_t i = 0, len = code->linetable_len < MO_PY_LINETABLE ? code->linetable_len : MO_PY_LINETABLE;

	while (i < len) {
		unsigned char first = code->linetable[i++];
		unsigned kind = (first >> 3) & 15, units = (first & 7) + 1;
		bool has_line = true;

		if (kind == 15) {
			has_line = false;	/* no location */
		} else if (kind == 14) {	/* long form: line, end line, column, end column */
			line += svarint(code->linetable, len, &i);
			varint(code->linetable, len, &i);
			varint(code->linetable, len, &i);
			varint(code->linetable, len, &i);
		} else if (kind == 13) {	/* no column */
			line += svarint(code->linetable, len, &i);
		} else if (kind >= 10) {	/* one line: a delta of 0-2, two column bytes */
			line += kind - 10;
			i += 2;
		} else {			/* short form: the same line, one column byte */
			i += 1;
		}
		if (unit >= addr && unit < addr + units)
			return has_line && line > 0 ? (unsigned)line : 0;
		addr += units;
	}
	return 0;
}
