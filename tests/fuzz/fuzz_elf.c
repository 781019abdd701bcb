// SPDX-License-Identifier: GPL-2.0
/* Executables and libraries memobs opens to probe (elfinfo.c): symbols,
 * PT_INTERP, USDT notes, the build id. The input is the whole file. */
#include "probe/elfinfo.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const funcs[] = { "malloc", "free", "main", "" };
	char path[64], buf[256];
	struct mo_elf_func fn;
	struct mo_elf *e;

	fuzz_file(data, size, path, sizeof(path));
	e = elf__open(path);
	if (!e)
		return 0;
	if (!elf__build_id(e, buf, sizeof(buf)))
		FUZZ_ASSERT(strlen(buf) < sizeof(buf) && strlen(buf) % 2 == 0);
	elf__build_id(e, buf, 4);
	elf__has_usdt(e, "memobs");
	elf__has_usdt(e, "");
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		if (!elf__func(e, funcs[i], &fn) && fn.offset < size) {
			uint8_t insn[16];

			elf__read(e, fn.offset, insn, sizeof(insn));
		}
	}
	if (!elf__interp(e, buf, sizeof(buf)))
		FUZZ_ASSERT(strlen(buf) < sizeof(buf));
	elf__interp(e, buf, 1);
	elf__is_static(e);
	elf__free(e);
	return 0;
}
