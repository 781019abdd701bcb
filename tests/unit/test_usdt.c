// SPDX-License-Identifier: GPL-2.0
/* The markers of a file as one uprobe_multi link takes them: each x86-64
 * argument form sys/sdt.h writes becomes the cookie BPF decodes (the bit
 * layout of memobs_abi.h), forms BPF cannot fetch are refused, and the
 * markers of this very binary are found at their nops. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <memobs/markers.h>
#include <linux/types.h>
#include "check.h"
#include "probe/elfinfo.h"
#include "probe/usdt.h"

uint64_t usdt_test_counter = 3;

/* One of each marker; items of a global (a %rip-relative operand at -O2). */
__attribute__((noinline)) void usdt_test_markers(void)
{
	MEMOBS_PHASE_BEGIN("usdt test");
	MEMOBS_ITEMS(usdt_test_counter);
	MEMOBS_MARK("usdt test mark");
	MEMOBS_PHASE_END("usdt test");
}

static int fake_symbol(void *ctx, const char *name, uint64_t *addr)
{
	(void)ctx;
	if (strcmp(name, "counter"))
		return -ENOENT;
	*addr = 0x4010;
	return 0;
}

/* Parse spec for items at link-time address 0x1000 and take the cookie apart. */
static int parse(const char *spec, unsigned *kind, unsigned *size, unsigned *sgn, unsigned *reg, long long *val)
{
	uint64_t c;
	int err = usdt_arg_cookie(MO_MARKER_ITEMS, spec, 0x1000, fake_symbol, NULL, &c);

	if (err)
		return err;
	if (MO_USDT_MARKER(c) != MO_MARKER_ITEMS)
		return -EBADMSG;
	*kind = MO_USDT_KIND(c);
	*size = 1u << MO_USDT_SIZE_LOG2(c);
	*sgn = MO_USDT_SIGNED(c);
	*reg = MO_USDT_REG(c);
	*val = MO_USDT_VAL(c);
	return 0;
}

#define EXPECT(spec, k, sz, sg, r, v) do { \
	unsigned _k, _sz, _sg, _r; \
	long long _v; \
	ASSERT_EQ(parse(spec, &_k, &_sz, &_sg, &_r, &_v), 0); \
	ASSERT_EQ(_k, k); ASSERT_EQ(_sz, sz); ASSERT_EQ(_sg, sg); \
	if ((k) != MO_USDT_ARG_CONST) ASSERT_EQ(_r, r); \
	ASSERT_EQ(_v, v); \
	} while (0)

/* pt_regs slots: rbp 4, rax 10, rcx 11, rdx 12, rdi 14, rip 16, r14 1 */
static bool test_argument_forms(void)
{
	EXPECT("8@%rdi", MO_USDT_ARG_REG, 8, 0, 14, 0);
	EXPECT("-4@%edi", MO_USDT_ARG_REG, 4, 1, 14, 0);
	EXPECT("-2@%di", MO_USDT_ARG_REG, 2, 1, 14, 0);
	EXPECT("1@%al", MO_USDT_ARG_REG, 1, 0, 10, 0);
	EXPECT("2@%r14w", MO_USDT_ARG_REG, 2, 0, 1, 0);
	EXPECT("%rcx", MO_USDT_ARG_REG, 8, 0, 11, 0);	/* sdt v1: no size */
	EXPECT("-4@$7", MO_USDT_ARG_CONST, 4, 1, 0, 7);
	EXPECT("8@$-5", MO_USDT_ARG_CONST, 8, 0, 0, -5);
	EXPECT("8@$1000000000000", MO_USDT_ARG_CONST, 8, 0, 0, 1000000000000ll);
	EXPECT("8@-24(%rbp)", MO_USDT_ARG_DEREF, 8, 0, 4, -24);
	EXPECT("-4@16(%rdx)", MO_USDT_ARG_DEREF, 4, 1, 12, 16);
	EXPECT("8@(%rax)", MO_USDT_ARG_DEREF, 8, 0, 10, 0);
	/* a global: an offset from the probe, the address BPF knows (%rip) */
	EXPECT("8@counter(%rip)", MO_USDT_ARG_DEREF, 8, 0, 16, 0x3010);
	EXPECT("8@counter+8(%rip)", MO_USDT_ARG_DEREF, 8, 0, 16, 0x3018);
	EXPECT("  8@%rdi -4@$5", MO_USDT_ARG_REG, 8, 0, 14, 0);	/* the first of several */
	return true;
}

static bool test_forms_refused(void)
{
	uint64_t c;

	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "8@$3000000000000000", 0, NULL, NULL, &c), -ERANGE);
	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "8@(%rax,%rbx,8)", 0, NULL, NULL, &c), -ENOTSUP);
	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "1@%ah", 0, NULL, NULL, &c), -ENOTSUP);
	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "8@5(%rip)", 0, NULL, NULL, &c), -ENOTSUP);
	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "8@other(%rip)", 0, fake_symbol, NULL, &c), -ENOTSUP);
	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "8@other(%rax)", 0, fake_symbol, NULL, &c), -ENOTSUP);
	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "3@%rax", 0, NULL, NULL, &c), -ENOTSUP);
	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "8@%xmm0", 0, NULL, NULL, &c), -ENOTSUP);
	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "", 0, NULL, NULL, &c), -ENOTSUP);
	ASSERT_EQ(usdt_arg_cookie(MO_MARKER_ITEMS, "8@$12x", 0, NULL, NULL, &c), -ENOTSUP);
	return true;
}

/* Every marker of this binary is found, each at a nop, with its kind. */
static bool test_markers_of_this_binary(void)
{
	struct mo_elf *e = elf__open("/proc/self/exe");
	struct mo_marker_sites m;
	unsigned kinds = 0;
	char err[256];
	int fd, n;

	ASSERT_TRUE(e, "open self");
	n = usdt_markers(e, &m, err, sizeof(err));
	elf__free(e);
	ASSERT_EQ(n, 4);
	ASSERT_EQ(m.count, 4);
	ASSERT_EQ(m.unsupported, 0);
	ASSERT_STR_EQ(err, "");
	ASSERT_TRUE(!m.sema_offsets, "markers.h uses no semaphores");
	fd = open("/proc/self/exe", O_RDONLY);
	ASSERT_TRUE(fd >= 0, "open");
	for (size_t i = 0; i < m.count; i++) {
		unsigned char insn = 0;

		ASSERT_EQ(pread(fd, &insn, 1, m.offsets[i]), 1);
		/* sys/sdt.h's probe point: a 1-byte nop */
		ASSERT_EQ(insn, 0x90);
		kinds |= 1u << MO_USDT_MARKER(m.cookies[i]);
	}
	close(fd);
	ASSERT_EQ(kinds, 0xf);
	usdt_markers_free(&m);
	return true;
}

int main(void)
{
	RUN(test_argument_forms);
	RUN(test_forms_refused);
	RUN(test_markers_of_this_binary);
	return check_summary();
}
