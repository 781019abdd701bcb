/* SPDX-License-Identifier: GPL-2.0 */
/* CPython, seen from outside (issue 16 item 4): which files are a CPython
 * runtime and of which version (BPF reads the frames of 3.11 and 3.12;
 * bpf/python.bpf.h), and the source line of an instruction from a code
 * object's line table (the 3.11+ format, Objects/locations.md in CPython). */
#ifndef MO_PYTHON_H
#define MO_PYTHON_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "memobs_abi.h"
#include "probe/elfinfo.h"

struct mo_python_runtime {
	unsigned major, minor;		/* 0.0: not a CPython runtime */
	uint32_t eval_start, eval_end;	/* _PyEval_EvalFrameDefault: file offsets */
	uint64_t runtime;		/* _PyRuntime in mo_unwind_file.py_runtime's form */
};

/* Is the ELF file a CPython runtime (an executable with the interpreter
 * linked in, or libpython)? out->major 0 when not. */
void python_runtime(struct mo_elf *elf, struct mo_python_runtime *out);

/* Does memobs read this version's frames? */
bool python_version_known(unsigned major, unsigned minor);

/* The line of the instruction at byte offset instr in code; 0 when the
 * kept part of the line table does not reach it or says no line. */
unsigned python_line(const struct mo_pycode *code, uint64_t instr);

#endif
