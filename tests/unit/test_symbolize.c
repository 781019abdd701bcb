// SPDX-License-Identifier: GPL-2.0
/* Frames of this very test binary (built -g) named by (build id, file
 * offset), as BPF gives them: a function by its name and source line, a
 * return address by its call's line, a data object never (issue 16: no
 * main_arena frames), an offset in no segment; C++ names demangled; an
 * unknown build id falls back to "[build-id …]+0xoffset"; every (id,
 * offset) looked up once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "probe/elfinfo.h"
#include "stacks/buildids.h"
#include "stacks/symbolize.h"

static struct mo_buildids *ids;
static char self_id[MO_BUILD_ID_HEX];
static int target_line;

__attribute__((noinline)) int symbolize_target(int x)
{
	target_line = __LINE__;	/* the function's body: its code is on this line and the next */
	return x * 7 + 3;
}

int symbolize_data_object = 5;

/* The file offset of an address of this process, through /proc/self/maps. */
static uint64_t file_offset(const void *addr)
{
	FILE *f = fopen("/proc/self/maps", "re");
	unsigned long start, end, pgoff, a = (unsigned long)addr;
	char line[512];
	uint64_t off = UINT64_MAX;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &pgoff) == 3 && a >= start && a < end)
			off = a - start + pgoff;
	if (f)
		fclose(f);
	return off;
}

static bool setup(void)
{
	struct mo_elf *elf = elf__open("/proc/self/exe");
	char id[64];

	ASSERT_TRUE(elf && !elf__build_id(elf, id, sizeof(id)), "this binary has a build id");
	elf__free(elf);
	snprintf(self_id, sizeof(self_id), "%s", id);
	ids = buildids__new();
	ASSERT_TRUE(ids, "buildids");
	buildids__add_file(ids, "/proc/self/exe");
	ASSERT_TRUE(buildids__find(ids, self_id) != NULL, "build id %s learned", self_id);
	return true;
}

static bool test_function_named_with_its_line(void)
{
	struct mo_symbolizer *s = symbolizer__new(ids);
	uint64_t off = file_offset((const void *)symbolize_target);
	struct mo_sym sym;
	char line_a[32], line_b[32];

	symbolize_target(1);
	ASSERT_TRUE(s && off != UINT64_MAX, "offset found");
	symbolizer__frame(s, self_id, off, false, &sym);
	ASSERT_EQ(sym.result, MO_SYM_FOUND);
	ASSERT_STR_EQ(sym.name, "symbolize_target");
	ASSERT_TRUE(sym.source && strstr(sym.source, "/tests/unit/test_symbolize.c:"), "%s", sym.source);
	snprintf(line_a, sizeof(line_a), ":%d", target_line - 1);
	snprintf(line_b, sizeof(line_b), ":%d", target_line + 1);
	/* The entry belongs to the function's opening line or its body. */
	ASSERT_TRUE(strstr(sym.source, line_a) || strstr(sym.source, line_b) || atoi(strrchr(sym.source, ':') + 1) ==
		    target_line, "%s (body at %d)", sym.source, target_line);
	symbolizer__free(s);
	return true;
}

static bool test_data_is_never_a_frame(void)
{
	struct mo_symbolizer *s = symbolizer__new(ids);
	struct mo_sym sym;

	symbolizer__frame(s, self_id, file_offset(&symbolize_data_object), true, &sym);
	ASSERT_EQ(sym.result, MO_SYM_NOT_CODE);
	/* Far past the file's end: no segment holds it. */
	symbolizer__frame(s, self_id, 1ull << 40, true, &sym);
	ASSERT_EQ(sym.result, MO_SYM_NOT_CODE);
	symbolizer__free(s);
	return true;
}

static bool test_unknown_file_falls_back_to_offset(void)
{
	struct mo_symbolizer *s = symbolizer__new(ids);
	struct mo_sym sym;

	symbolizer__frame(s, "0123456789abcdef0123456789abcdef01234567", 0x1234, true, &sym);
	ASSERT_EQ(sym.result, MO_SYM_FALLBACK);
	ASSERT_STR_EQ(sym.name, "[build-id 0123456789ab]+0x1234");
	ASSERT_TRUE(!sym.source, "no line");
	symbolizer__free(s);
	return true;
}

static bool test_each_frame_looked_up_once(void)
{
	struct mo_symbolizer *s = symbolizer__new(ids);
	uint64_t off = file_offset((const void *)symbolize_target);
	struct mo_sym a, b;
	size_t lookups, hits;

	for (int i = 0; i < 3000; i++)	/* past the first table size: the cache grows */
		symbolizer__frame(s, self_id, off + (i % 1500), true, &a);
	symbolizer__frame(s, self_id, off + 8, true, &a);
	symbolizer__frame(s, self_id, off + 8, true, &b);
	ASSERT_TRUE(a.name == b.name, "the same cached strings");
	symbolizer__counts(s, &lookups, &hits);
	ASSERT_EQ(lookups, 3002);
	ASSERT_EQ(hits, 1502);
	symbolizer__free(s);
	return true;
}

static bool test_cxx_names_demangled(void)
{
	char *d = symbolize_demangle("_ZN6Grower4growEm");

	ASSERT_STR_EQ(d, "Grower::grow(unsigned long)");
	free(d);
	d = symbolize_demangle("_ZNSt6vectorIPcSaIS0_EE17_M_realloc_insertIJRKS0_EEEvN9__gnu_cxx17__normal_iteratorIPS0_S2_EEDpOT_");
	ASSERT_TRUE(d && strstr(d, "std::vector<char*, std::allocator<char*> >::_M_realloc_insert"), "%s", d);
	free(d);
	ASSERT_TRUE(!symbolize_demangle("main"), "a C name stays");
	ASSERT_TRUE(!symbolize_demangle("_Znot a name"), "garbage is no name");
	return true;
}

/* The hex of a build id as BPF gives it (20 bytes, zero-padded): this
 * binary's, as the ELF note reads, and a 16-byte (md5) one cut at its end. */
static bool test_build_id_hex(void)
{
	unsigned char raw[20] = { 0 }, md5[20] = { 0x00, 0x0f, 0xf0, 0xab, 0xcd, 0xef, 0x10, 0x99,
						 0x80, 0x7f, 0x01, 0x02, 0xfe, 0xff, 0x5a, 0xa5 };
	char hex[MO_BUILD_ID_HEX];
	size_t n = strlen(self_id) / 2;

	for (size_t i = 0; i < n && i < sizeof(raw); i++)
		sscanf(self_id + 2 * i, "%2hhx", &raw[i]);
	buildids_hex(raw, hex);
	ASSERT_STR_EQ(hex, self_id);
	buildids_hex(md5, hex);
	ASSERT_STR_EQ(hex, "000ff0abcdef1099807f0102feff5aa5");
	/* Ids whose own last byte is zero keep it: a sha1 one, an md5 one. */
	raw[16] = 0x42;
	raw[19] = 0;
	buildids_hex(raw, hex);
	ASSERT_EQ(strlen(hex), 40);
	ASSERT_TRUE(!strncmp(hex + 32, "42", 2) && !strcmp(hex + 38, "00"), "%s", hex);
	md5[15] = 0;
	buildids_hex(md5, hex);
	ASSERT_STR_EQ(hex, "000ff0abcdef1099807f0102feff5a00");
	return true;
}

int main(void)
{
	if (!setup()) {
		printf("not ok - setup\n");
		return 1;
	}
	RUN(test_function_named_with_its_line);
	RUN(test_data_is_never_a_frame);
	RUN(test_unknown_file_falls_back_to_offset);
	RUN(test_each_frame_looked_up_once);
	RUN(test_cxx_names_demangled);
	RUN(test_build_id_hex);
	buildids__free(ids);
	return check_summary();
}
