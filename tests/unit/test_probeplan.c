// SPDX-License-Identifier: GPL-2.0
/* Probe placement on x86-64 code: an entry-only probe moves to the first
 * instruction the kernel emulates, past instructions that leave the argument
 * registers alone; it stays at the entry when a return probe needs it there,
 * when an earlier instruction writes an argument or changes control flow,
 * and when the code cannot be decoded. */
#include <elf.h>
#include <errno.h>
#include "check.h"
#include "probe/probeplan.h"

#define CODE(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static bool site_is(int rc, const struct mo_probe_site *s, int want_rc, uint32_t skipped, bool emulated,
		    const char *insn)
{
	if (rc != want_rc || s->skipped != skipped || s->emulated != emulated || (insn && strcmp(s->insn, insn))) {
		printf("#   rc %d, skipped %u, emulated %d, insn \"%s\"; want rc %d, %u, %d, \"%s\"\n", rc,
		       s->skipped, s->emulated, s->insn, want_rc, skipped, emulated, insn ? insn : "*");
		return false;
	}
	return true;
}

/* glibc 2.36's free: test %rdi,%rdi (stepped), je (emulated), push. */
static bool test_glibc_free_moves_to_je(void)
{
	struct mo_probe_site s;
	int rc;

	rc = probeplan_site(CODE(0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 3, true, "je 0xc8"), "free: the je at +3");
	/* With a return probe it must stay at the entry, stepped. */
	rc = probeplan_site(CODE(0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55), 1, false, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "test rdi, rdi"), "uretprobe: the entry");
	return true;
}

static bool test_emulated_entry_stays(void)
{
	struct mo_probe_site s;
	int rc;

	/* malloc, calloc: push r12 (REX.B push) at the entry. */
	rc = probeplan_site(CODE(0x41, 0x54, 0x55, 0x48, 0x89, 0xfd), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, true, "push r12"), "push r12");
	rc = probeplan_site(CODE(0x41, 0x54, 0x55), 1, false, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, true, "push r12"), "push r12, with a return probe");
	rc = probeplan_site(CODE(0x55, 0x48, 0x89, 0xe5), 0, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, true, "push rbp"), "push rbp");
	rc = probeplan_site(CODE(0x90, 0x55), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, true, "nop"), "nop");
	rc = probeplan_site(CODE(0xe9, 0x10, 0x00, 0x00, 0x00), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, true, NULL), "jmp rel32 (a PLT-style stub)");
	/* Pushes of an immediate or of memory are stepped. */
	rc = probeplan_site(CODE(0x6a, 0x00), 1, false, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, NULL), "push imm8");
	rc = probeplan_site(CODE(0x48, 0x85, 0xff, 0xff, 0x35, 0x00, 0x00, 0x00, 0x00, 0x90), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 9, true, "nop"), "push [rip]: stepped, passed");
	/* A jump with an operand-size prefix is stepped (branch_setup_xol_ops
	 * refuses it). */
	rc = probeplan_site(CODE(0x66, 0xe9, 0x10, 0x00), 1, false, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, NULL), "jmpw");
	/* A 16-bit push is stepped by the kernel. */
	rc = probeplan_site(CODE(0x66, 0x50), 1, false, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, NULL), "push ax");
	return true;
}

static bool test_moves_past_harmless(void)
{
	struct mo_probe_site s;
	int rc;

	/* test, then a push further on. */
	rc = probeplan_site(CODE(0x48, 0x85, 0xff, 0x55), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 3, true, "push rbp"), "push at +3");
	/* sub rsp, then a call: the stack pointer is no argument. */
	rc = probeplan_site(CODE(0x48, 0x83, 0xec, 0x08, 0xe8, 0x00, 0x00, 0x00, 0x00), 6, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 4, true, NULL), "call at +4");
	/* mov rsi <- rdi writes the second argument: fine when only the first
	 * is read. */
	rc = probeplan_site(CODE(0x48, 0x89, 0xfe, 0x74, 0x05), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 3, true, "je 0xa"), "rsi written, nargs 1");
	/* Seven stepped instructions, then the je: found. */
	rc = probeplan_site(CODE(0x48, 0x85, 0xff, 0x48, 0x85, 0xff, 0x48, 0x85, 0xff, 0x48, 0x85, 0xff, 0x48, 0x85,
				 0xff, 0x48, 0x85, 0xff, 0x48, 0x85, 0xff, 0x74, 0x05),
			    1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 21, true, NULL), "je after seven");
	return true;
}

static bool test_argument_writes_keep_entry(void)
{
	struct mo_probe_site s;
	int rc;

	/* mov rdi, rsi; je: past it, rdi would not be the caller's. */
	rc = probeplan_site(CODE(0x48, 0x89, 0xf7, 0x74, 0x05), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "mov rdi, rsi"), "rdi written, nargs 1");
	/* ... unless the program reads no argument. */
	rc = probeplan_site(CODE(0x48, 0x89, 0xf7, 0x74, 0x05), 0, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 3, true, NULL), "rdi written, nargs 0");
	/* Narrower forms of the same register. */
	rc = probeplan_site(CODE(0x89, 0xf7, 0x74, 0x05), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "mov edi, esi"), "edi written");
	rc = probeplan_site(CODE(0x40, 0x88, 0xf7, 0x74, 0x05), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, NULL), "dil written");
	rc = probeplan_site(CODE(0x48, 0x89, 0xfe, 0x74, 0x05), 2, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "mov rsi, rdi"), "rsi written, nargs 2");
	/* xchg writes both of its registers. */
	rc = probeplan_site(CODE(0x48, 0x97, 0x74, 0x05), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, NULL), "xchg rdi, rax");
	/* cpuid writes eax, ebx, ecx, edx without naming them: rcx is the 4th
	 * argument, rdx the 3rd. */
	rc = probeplan_site(CODE(0x0f, 0xa2, 0x74, 0x05), 4, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "cpuid"), "cpuid, nargs 4");
	rc = probeplan_site(CODE(0x0f, 0xa2, 0x74, 0x05), 3, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "cpuid"), "cpuid, nargs 3");
	rc = probeplan_site(CODE(0x0f, 0xa2, 0x74, 0x05), 2, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 2, true, NULL), "cpuid, nargs 2");
	/* r8 and r9: the 5th and 6th. */
	rc = probeplan_site(CODE(0x4d, 0x31, 0xc9, 0x74, 0x05), 6, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "xor r9, r9"), "r9 written, nargs 6");
	rc = probeplan_site(CODE(0x4d, 0x31, 0xc9, 0x74, 0x05), 5, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 3, true, NULL), "r9 written, nargs 5");
	return true;
}

static bool test_control_flow_stops(void)
{
	struct mo_probe_site s;
	int rc;

	rc = probeplan_site(CODE(0xc3, 0x90), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "ret"), "ret at the entry");
	rc = probeplan_site(CODE(0x48, 0x85, 0xff, 0xc3, 0x74, 0x05), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "test rdi, rdi"), "ret before the je");
	rc = probeplan_site(CODE(0xff, 0xe0, 0x90), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "jmp rax"), "indirect jmp");
	rc = probeplan_site(CODE(0x48, 0x85, 0xff, 0xff, 0xd0, 0x90), 0, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, NULL), "indirect call before the nop");
	rc = probeplan_site(CODE(0x48, 0x85, 0xff, 0x0f, 0x05, 0x90), 0, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, NULL), "syscall before the nop");
	return true;
}

static bool test_undecodable(void)
{
	struct mo_probe_site s;
	int rc;

	memset(&s, 0x5a, sizeof(s));
	rc = probeplan_site(CODE(0x06, 0x90), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, -EINVAL, 0, false, NULL), "06 is no x86-64 instruction");
	ASSERT_TRUE(s.insn[0] && memchr(s.insn, 0, sizeof(s.insn)), "a string for the report");
	rc = probeplan_site(CODE(0x48, 0x85), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, -EINVAL, 0, false, NULL), "cut short");
	rc = probeplan_site((const uint8_t *)"", 0, 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, -EINVAL, 0, false, NULL), "no bytes");
	/* Decodable, then not: what was decoded stands. */
	rc = probeplan_site(CODE(0x48, 0x85, 0xff, 0x06), 1, true, &s);
	ASSERT_TRUE(site_is(rc, &s, 0, 0, false, "test rdi, rdi"), "test, then garbage");
	return true;
}

/* The placement knows x86-64 code and the x86 kernel's emulation only. */
static bool test_x86_64_only(void)
{
#ifdef __x86_64__
	ASSERT_TRUE(probeplan_decodes(ELFCLASS64, EM_X86_64), "x86-64 code on x86-64");
#else
	ASSERT_TRUE(!probeplan_decodes(ELFCLASS64, EM_X86_64), "memobs is not on x86-64");
#endif
	ASSERT_TRUE(!probeplan_decodes(ELFCLASS32, EM_386), "i386 code decoded as x86-64");
	ASSERT_TRUE(!probeplan_decodes(ELFCLASS32, EM_X86_64), "x32");
	ASSERT_TRUE(!probeplan_decodes(ELFCLASS64, EM_AARCH64), "arm64");
	return true;
}

int main(void)
{
	RUN(test_glibc_free_moves_to_je);
	RUN(test_emulated_entry_stays);
	RUN(test_moves_past_harmless);
	RUN(test_argument_writes_keep_entry);
	RUN(test_control_flow_stops);
	RUN(test_undecodable);
	RUN(test_x86_64_only);
	return check_summary();
}
