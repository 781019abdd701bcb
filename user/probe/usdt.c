// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "lib/grow.h"
#include "probe/elfinfo.h"
#include "probe/usdt.h"

/* x86-64 register names by their slot in the kernel's struct pt_regs (what
 * BPF reads at a uprobe): 64, 32, 16 and low 8 bits. */
static const struct {
	const char *names[4];
	unsigned slot;
} regs[] = {
	{ { "r15", "r15d", "r15w", "r15b" }, 0 }, { { "r14", "r14d", "r14w", "r14b" }, 1 },
	{ { "r13", "r13d", "r13w", "r13b" }, 2 }, { { "r12", "r12d", "r12w", "r12b" }, 3 },
	{ { "rbp", "ebp", "bp", "bpl" }, 4 },	  { { "rbx", "ebx", "bx", "bl" }, 5 },
	{ { "r11", "r11d", "r11w", "r11b" }, 6 }, { { "r10", "r10d", "r10w", "r10b" }, 7 },
	{ { "r9", "r9d", "r9w", "r9b" }, 8 },	  { { "r8", "r8d", "r8w", "r8b" }, 9 },
	{ { "rax", "eax", "ax", "al" }, 10 },	  { { "rcx", "ecx", "cx", "cl" }, 11 },
	{ { "rdx", "edx", "dx", "dl" }, 12 },	  { { "rsi", "esi", "si", "sil" }, 13 },
	{ { "rdi", "edi", "di", "dil" }, 14 },	  { { "rip", NULL, NULL, NULL }, 16 },
	{ { "rsp", "esp", "sp", "spl" }, 19 },
};
#define RIP_SLOT 16

/* "%rdi" at *s (len bytes of name after the %) to its pt_regs slot. */
static int reg_slot(const char *name, size_t len, unsigned *slot)
{
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		for (size_t k = 0; k < 4; k++)
			if (regs[i].names[k] && strlen(regs[i].names[k]) == len && !strncmp(regs[i].names[k], name, len)) {
				*slot = regs[i].slot;
				return 0;
			}
	return -ENOTSUP;
}

static int log2_size(long size, unsigned *out)
{
	switch (size) {
	case 1: *out = 0; return 0;
	case 2: *out = 1; return 0;
	case 4: *out = 2; return 0;
	case 8: *out = 3; return 0;
	}
	return -ENOTSUP;
}

static bool fits(long long v)
{
	return v >= -MO_USDT_VAL_MAX - 1 && v <= MO_USDT_VAL_MAX;
}

/* "disp(%reg)", "sym+disp(%rip)", "(%reg)": a memory operand. */
static int parse_deref(const char *s, uint64_t probe_addr, mo_usdt_sym_fn sym, void *ctx, unsigned *slot,
		       long long *val)
{
	const char *open = strchr(s, '('), *close = open ? strchr(open, ')') : NULL;
	char symbol[256] = "";
	long long disp = 0;
	char *end;

	if (!open || !close || close[1] || open[1] != '%' || memchr(open, ',', close - open))
		return -ENOTSUP;	/* SIB (base,index,scale) and segments are not fetched */
	if (reg_slot(open + 2, close - open - 2, slot))
		return -ENOTSUP;
	if (isalpha((unsigned char)*s) || *s == '_' || *s == '.') {
		size_t n = strcspn(s, "+-(");

		if (n >= sizeof(symbol))
			return -ENOTSUP;
		memcpy(symbol, s, n);
		s += n;
	}
	if (*s != '(') {
		errno = 0;
		disp = strtoll(s, &end, 0);
		if (errno || end != open)
			return -ENOTSUP;
	}
	if (symbol[0]) {
		uint64_t addr;

		/* Only as an offset from the probe, the one address BPF knows in
		 * every mapping of the file (%rip is the probe at a uprobe). */
		if (*slot != RIP_SLOT || !sym || sym(ctx, symbol, &addr))
			return -ENOTSUP;
		disp += (long long)(addr - probe_addr);
	} else if (*slot == RIP_SLOT) {
		return -ENOTSUP;	/* relative to the next instruction, unknown here */
	}
	*val = disp;
	return fits(disp) ? 0 : -ERANGE;
}

int usdt_arg_cookie(unsigned marker, const char *spec, uint64_t probe_addr, mo_usdt_sym_fn sym, void *ctx,
		    uint64_t *cookie)
{
	char arg[512], *at;
	long size = 8;
	long long val = 0;
	unsigned kind, slot = 0, size_log2;
	bool is_signed = false;
	size_t len;
	int err;

	spec += strspn(spec, " ");
	len = strcspn(spec, " ");
	if (!len || len >= sizeof(arg))
		return -ENOTSUP;
	memcpy(arg, spec, len);
	arg[len] = 0;
	at = strchr(arg, '@');
	if (at) {
		char *end;

		size = strtol(arg, &end, 10);
		if (end != at || !size)
			return -ENOTSUP;
		is_signed = size < 0;
		size = labs(size);
		at++;
	} else {
		at = arg;	/* sdt v1: no size, a word */
	}
	if (log2_size(size, &size_log2))
		return -ENOTSUP;
	if (*at == '$') {
		char *end;

		kind = MO_USDT_ARG_CONST;
		errno = 0;
		val = strtoll(at + 1, &end, 0);
		if (errno == ERANGE || (!errno && !fits(val)))
			return -ERANGE;
		if (errno || *end || end == at + 1)
			return -ENOTSUP;
	} else if (*at == '%') {
		kind = MO_USDT_ARG_REG;
		if (reg_slot(at + 1, strlen(at + 1), &slot) || slot == RIP_SLOT)
			return -ENOTSUP;
	} else {
		kind = MO_USDT_ARG_DEREF;
		err = parse_deref(at, probe_addr, sym, ctx, &slot, &val);
		if (err)
			return err;
	}
	*cookie = MO_USDT_COOKIE(marker, kind, size_log2, is_signed, slot, (__u64)val);
	return 0;
}

static const char *const marker_names[] = {
	[MO_MARKER_PHASE_BEGIN] = "phase_begin",
	[MO_MARKER_PHASE_END] = "phase_end",
	[MO_MARKER_ITEMS] = "items",
	[MO_MARKER_MARK] = "mark",
};

struct collect {
	const char *provider;
	const char *const *names;	/* a probe's index is its kind in the cookie */
	size_t nnames;
	struct mo_elf *elf;
	struct mo_marker_sites *out;
	size_t offsets_alloc, sema_alloc, cookies_alloc;	/* room in out's arrays */
	char *err;
	size_t errlen;
};

/* A global the argument reads (8@counter(%rip)): a data object. */
static int elf_symbol(void *ctx, const char *name, uint64_t *addr)
{
	struct mo_elf_func obj;

	if (elf__object(ctx, name, &obj))
		return -ENOENT;
	*addr = obj.addr;
	return 0;
}

static int collect_note(const struct mo_usdt_note *note, void *arg)
{
	struct collect *c = arg;
	struct mo_marker_sites *m = c->out;
	size_t k = 0;
	uint64_t cookie;
	int err;

	if (strcmp(note->provider, c->provider))
		return 0;
	while (k < c->nnames && strcmp(note->name, c->names[k]))
		k++;
	if (k == c->nnames)
		return 0;
	/* No argument (memobs_heap:sync): nothing to fetch. */
	if (!note->args[strspn(note->args, " ")]) {
		cookie = MO_USDT_COOKIE(k, MO_USDT_ARG_CONST, 3, 0, 0, 0);
		err = 0;
	} else {
		err = usdt_arg_cookie(k, note->args, note->addr, elf_symbol, c->elf, &cookie);
	}
	if (err) {
		if (!m->unsupported++)
			snprintf(c->err, c->errlen, "marker %s at file offset 0x%llx: argument '%s' %s", note->name,
				 (unsigned long long)note->offset, note->args,
				 err == -ERANGE ? "is out of range" : "is in a form memobs cannot read");
		return 0;
	}
	if (GROW(m->offsets, m->count + 1, c->offsets_alloc) || GROW(m->sema_offsets, m->count + 1, c->sema_alloc) ||
	    GROW(m->cookies, m->count + 1, c->cookies_alloc))
		return -ENOMEM;
	m->offsets[m->count] = note->offset;
	m->sema_offsets[m->count] = note->sema_offset;
	m->cookies[m->count] = cookie;
	m->count++;
	return 0;
}

int usdt_probes_of(struct mo_elf *elf, const char *provider, const char *const *names, size_t nnames,
		   struct mo_marker_sites *out, char *err, size_t errlen)
{
	struct collect c = { .provider = provider, .names = names, .nnames = nnames, .elf = elf, .out = out,
			      .err = err, .errlen = errlen };
	bool semaphores = false;
	int ret;

	memset(out, 0, sizeof(*out));
	err[0] = 0;
	ret = elf__usdt_notes(elf, collect_note, &c);
	if (ret) {
		usdt_markers_free(out);
		return ret;
	}
	for (size_t i = 0; i < out->count; i++)
		semaphores |= out->sema_offsets[i] != 0;
	if (!semaphores) {
		free(out->sema_offsets);
		out->sema_offsets = NULL;
	}
	return out->count;
}

int usdt_markers(struct mo_elf *elf, struct mo_marker_sites *out, char *err, size_t errlen)
{
	return usdt_probes_of(elf, "memobs", marker_names, sizeof(marker_names) / sizeof(marker_names[0]), out, err,
			      errlen);
}

void usdt_markers_free(struct mo_marker_sites *m)
{
	free(m->offsets);
	free(m->sema_offsets);
	free(m->cookies);
	memset(m, 0, sizeof(*m));
}
