// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <elfutils/libdw.h>
#include "lib/grow.h"
#include "stacks/cfi.h"

/* DWARF register numbers of x86-64 (System V psABI). */
enum { REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };

#define STATE_DEPTH 16		/* DW_CFA_remember_state nesting kept */
#define MAX_CIES 4096

enum rule_kind { RULE_SAME, RULE_OFFSET, RULE_UNDEFINED, RULE_OTHER };

/* The rules BPF needs at one location. */
struct frame_state {
	int cfa_reg;		/* -1: an expression */
	int64_t cfa_off;
	enum rule_kind rbp, ra;
	int64_t rbp_off, ra_off;
};

struct cie {
	Dwarf_Off offset;
	uint64_t caf;
	int64_t daf;
	uint64_t ra_reg;
	uint8_t fde_enc;
	bool z;
	struct frame_state init;	/* after the initial instructions */
};

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

/* Where a section is: its address (pc-relative pointers) and data. */
struct section {
	const uint8_t *data;
	size_t size;
	uint64_t addr;
	bool eh;		/* .eh_frame (pointer encodings) rather than .debug_frame */
};

struct segment {
	uint64_t vaddr, offset, size;
};

struct compiler {
	struct section sec;
	struct segment segs[16];
	size_t nsegs;
	struct cie *cies;
	size_t ncies;
	struct mo_unwind_row *rows;
	size_t nrows, cap;
	int64_t seg_delta;	/* offset - vaddr of the FDE being run */
};

static uint64_t uleb(struct reader *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (r->p < r->end) {
		uint8_t b = *r->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static int64_t sleb(struct reader *r)
{
	int64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;

	while (r->p < r->end) {
		b = *r->p++;
		if (shift < 64)
			v |= (int64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				v |= -((int64_t)1 << shift);
			return v;
		}
	}
	r->bad = true;
	return 0;
}

static uint64_t fixed(struct reader *r, size_t n)
{
	uint64_t v = 0;

	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p, n);	/* x86-64: little endian, as the file */
	r->p += n;
	return v;
}

/* A pointer in DW_EH_PE encoding enc (.eh_frame); absolute 8 bytes in
 * .debug_frame. */
static uint64_t pointer(struct reader *r, const struct section *sec, uint8_t enc)
{
	uint64_t field = sec->addr + (uint64_t)(r->p - sec->data), v;

	if (!sec->eh)
		return fixed(r, 8);
	if (enc == 0xff)	/* DW_EH_PE_omit */
		return 0;
	switch (enc & 0x0f) {
	case 0x00: v = fixed(r, 8); break;
	case 0x01: v = uleb(r); break;
	case 0x02: v = fixed(r, 2); break;
	case 0x03: v = fixed(r, 4); break;
	case 0x04: v = fixed(r, 8); break;
	case 0x09: v = sleb(r); break;
	case 0x0a: v = (int16_t)fixed(r, 2); break;
	case 0x0b: v = (int32_t)fixed(r, 4); break;
	case 0x0c: v = fixed(r, 8); break;
	default: r->bad = true; return 0;
	}
	switch (enc & 0x70) {
	case 0x00: return v;
	case 0x10: return v + field;	/* pcrel */
	default: r->bad = true; return 0;	/* textrel, datarel, funcrel: not in x86-64 FDEs */
	}
}

static bool add_row(struct compiler *c, uint64_t vaddr, const struct frame_state *st, bool gap)
{
	struct mo_unwind_row row = { .cfa = MO_CFA_STOP };
	int64_t off = (int64_t)vaddr + c->seg_delta;

	if (off < 0 || off > UINT32_MAX)
		return true;
	if (gap) {
		row.cfa = MO_CFA_FP;
	} else if (st->ra == RULE_UNDEFINED) {
		row.cfa = MO_CFA_END;
	} else if (st->ra == RULE_OFFSET && st->ra_off == -8 && (st->cfa_reg == REG_RSP || st->cfa_reg == REG_RBP) &&
		   st->cfa_off > 0 && st->cfa_off % 8 == 0 && st->cfa_off / 8 <= UINT16_MAX) {
		row.cfa = st->cfa_reg == REG_RSP ? MO_CFA_RSP : MO_CFA_RBP;
		row.cfa_off8 = st->cfa_off / 8;
		/* rbp restored from elsewhere (a register, an expression) is
		 * taken as unchanged: only callers that use rbp would notice. */
		if (st->rbp == RULE_OFFSET && st->rbp_off % 8 == 0 && st->rbp_off / 8 >= INT8_MIN &&
		    st->rbp_off / 8 <= INT8_MAX)
			row.rbp_off8 = st->rbp_off / 8;
	}
	row.offset = off;
	if (c->nrows == c->cap && GROW(c->rows, c->nrows + 1, c->cap))
		return false;
	c->rows[c->nrows++] = row;
	return true;
}

static void set_rule(struct frame_state *st, uint64_t reg, enum rule_kind kind, int64_t off)
{
	if (reg == REG_RBP) {
		st->rbp = kind;
		st->rbp_off = off;
	} else if (reg == REG_RA) {
		st->ra = kind;
		st->ra_off = off;
	}
}

static void restore_rule(struct frame_state *st, uint64_t reg, const struct frame_state *init)
{
	if (reg == REG_RBP) {
		st->rbp = init->rbp;
		st->rbp_off = init->rbp_off;
	} else if (reg == REG_RA) {
		st->ra = init->ra;
		st->ra_off = init->ra_off;
	}
}

/* Run a CFA program from loc; rows are added at each advance when emit
 * (FDE programs), not for a CIE's initial instructions. false: a malformed
 * program or ENOMEM (the rows so far stay). */
static bool run_program(struct compiler *c, const struct cie *cie, struct frame_state *st, struct reader *r,
			uint64_t loc, uint64_t end, bool emit)
{
	struct frame_state stack[STATE_DEPTH];
	size_t depth = 0;

	while (r->p < r->end && !r->bad) {
		uint8_t op = *r->p++, low = op & 0x3f;
		uint64_t delta = 0, reg;
		int64_t off;

		switch (op >> 6) {
		case 1: delta = low * cie->caf; break;
		case 2: set_rule(st, low, RULE_OFFSET, (int64_t)uleb(r) * cie->daf); continue;
		case 3: restore_rule(st, low, &cie->init); continue;
		}
		if (!delta) {
			switch (op) {
			case 0x00: continue;	/* nop */
			case 0x01: delta = pointer(r, &c->sec, cie->fde_enc) - loc; break;	/* set_loc */
			case 0x02: delta = fixed(r, 1) * cie->caf; break;
			case 0x03: delta = fixed(r, 2) * cie->caf; break;
			case 0x04: delta = fixed(r, 4) * cie->caf; break;
			case 0x05: reg = uleb(r); set_rule(st, reg, RULE_OFFSET, (int64_t)uleb(r) * cie->daf); continue;
			case 0x06: restore_rule(st, uleb(r), &cie->init); continue;
			case 0x07: set_rule(st, uleb(r), RULE_UNDEFINED, 0); continue;
			case 0x08: set_rule(st, uleb(r), RULE_SAME, 0); continue;
			case 0x09: reg = uleb(r); uleb(r); set_rule(st, reg, RULE_OTHER, 0); continue;
			case 0x0a:
				if (depth < STATE_DEPTH)
					stack[depth] = *st;
				depth++;
				continue;
			case 0x0b:
				if (!depth)
					return false;
				if (--depth < STATE_DEPTH) {
					/* The CFA is not part of the remembered state's restore in
					 * practice (GCC remembers it too); take it back whole. */
					*st = stack[depth];
				}
				continue;
			case 0x0c: st->cfa_reg = uleb(r); st->cfa_off = uleb(r); continue;
			case 0x0d: st->cfa_reg = uleb(r); continue;
			case 0x0e: st->cfa_off = uleb(r); continue;
			case 0x0f: r->p += uleb(r); st->cfa_reg = -1; continue;	/* def_cfa_expression */
			case 0x10: case 0x16: reg = uleb(r); r->p += uleb(r); set_rule(st, reg, RULE_OTHER, 0); continue;
			case 0x11: reg = uleb(r); set_rule(st, reg, RULE_OFFSET, sleb(r) * cie->daf); continue;
			case 0x12: st->cfa_reg = uleb(r); st->cfa_off = sleb(r) * cie->daf; continue;
			case 0x13: st->cfa_off = sleb(r) * cie->daf; continue;
			case 0x14: reg = uleb(r); uleb(r); set_rule(st, reg, RULE_OTHER, 0); continue;
			case 0x15: reg = uleb(r); sleb(r); set_rule(st, reg, RULE_OTHER, 0); continue;
			case 0x2e: uleb(r); continue;	/* GNU_args_size */
			case 0x2f: reg = uleb(r); off = -(int64_t)uleb(r) * cie->daf; set_rule(st, reg, RULE_OFFSET, off); continue;
			default: return false;
			}
		}
		if (r->p > r->end)
			return false;
		if (emit && delta && loc < end && !add_row(c, loc, st, false))
			return false;
		loc += delta;
	}
	return !r->bad && (!emit || loc >= end || add_row(c, loc, st, false));
}

/* The CIE at a section offset, parsed once. */
static const struct cie *cie_at(struct compiler *c, Dwarf_Off offset)
{
	Dwarf_CFI_Entry e;
	Dwarf_Off next;
	struct cie *cie;
	struct reader r;
	Elf_Data data = { .d_buf = (void *)c->sec.data, .d_size = c->sec.size };
	unsigned char ident[EI_NIDENT] = { [EI_CLASS] = ELFCLASS64, [EI_DATA] = ELFDATA2LSB };

	for (size_t i = 0; i < c->ncies; i++)
		if (c->cies[i].offset == offset)
			return &c->cies[i];
	if (c->ncies == MAX_CIES || dwarf_next_cfi(ident, &data, c->sec.eh, offset, &next, &e) || !dwarf_cfi_cie_p(&e))
		return NULL;
	if (!c->ncies) {
		c->cies = calloc(MAX_CIES, sizeof(*c->cies));
		if (!c->cies)
			return NULL;
	}
	cie = &c->cies[c->ncies];
	*cie = (struct cie){ .offset = offset, .caf = e.cie.code_alignment_factor, .daf = e.cie.data_alignment_factor,
			     .ra_reg = e.cie.return_address_register, .fde_enc = 0 };
	cie->z = e.cie.augmentation[0] == 'z';
	r = (struct reader){ e.cie.augmentation_data, e.cie.augmentation_data + e.cie.augmentation_data_size };
	for (const char *a = e.cie.augmentation + cie->z; *a && cie->z && !r.bad; a++) {
		if (*a == 'R') {
			cie->fde_enc = fixed(&r, 1);
		} else if (*a == 'P') {
			uint8_t enc = fixed(&r, 1);

			pointer(&r, &c->sec, enc & 0x7f);	/* personality: skipped (absolute form is enough to size it) */
		} else if (*a == 'L') {
			fixed(&r, 1);
		} else if (*a != 'S' && *a != 'B') {
			break;	/* unknown: the rest of the data is sized by 'z' anyway */
		}
	}
	if (cie->ra_reg != REG_RA)
		return NULL;
	cie->init = (struct frame_state){ .cfa_reg = REG_RSP, .cfa_off = 8, .rbp = RULE_SAME, .ra = RULE_SAME };
	r = (struct reader){ e.cie.initial_instructions, e.cie.initial_instructions_end };
	if (!run_program(c, cie, &cie->init, &r, 0, 0, false))
		return NULL;
	c->ncies++;
	return cie;
}

static bool segment_delta(const struct compiler *c, uint64_t vaddr, int64_t *delta)
{
	for (size_t i = 0; i < c->nsegs; i++)
		if (vaddr >= c->segs[i].vaddr && vaddr < c->segs[i].vaddr + c->segs[i].size) {
			*delta = (int64_t)c->segs[i].offset - (int64_t)c->segs[i].vaddr;
			return true;
		}
	return false;
}

/* An FDE to compile: where its code is and its program. */
struct fde_ref {
	uint64_t start, range;
	int64_t seg_delta;	/* offset - vaddr of its code's segment */
	const struct cie *cie;
	const uint8_t *program, *end;
};

/* An FDE's CIE, code range and program; false when it has none we can
 * follow (it adds nothing then). */
static bool read_fde(struct compiler *c, const Dwarf_FDE *fde, struct fde_ref *ref)
{
	struct reader r = { fde->start, fde->end };

	ref->cie = cie_at(c, fde->CIE_pointer);
	if (!ref->cie)
		return false;
	ref->start = pointer(&r, &c->sec, ref->cie->fde_enc);
	ref->range = pointer(&r, &c->sec, ref->cie->fde_enc & 0x0f);
	if (ref->cie->z)
		r.p += uleb(&r);
	ref->program = r.p;
	ref->end = r.end;
	return !r.bad && r.p <= r.end && ref->range && segment_delta(c, ref->start, &ref->seg_delta);
}

/* One FDE's rows, then a gap row at its end (overridden by an FDE that
 * starts there). */
static bool compile_fde(struct compiler *c, const struct fde_ref *fde)
{
	struct reader r = { fde->program, fde->end };
	struct frame_state st = fde->cie->init;
	size_t first = c->nrows;

	c->seg_delta = fde->seg_delta;
	if (!run_program(c, fde->cie, &st, &r, fde->start, fde->start + fde->range, true))
		c->nrows = first;	/* a program we cannot follow: no rows, frame pointers there */
	return add_row(c, fde->start + fde->range, &st, true);
}

static int cmp_fdes(const void *a, const void *b)
{
	const struct fde_ref *x = a, *y = b;

	if (x->start != y->start)
		return (x->start > y->start) - (x->start < y->start);
	return (x->program > y->program) - (x->program < y->program);	/* the section's order */
}

/* The FDEs of the section, in the order of their code: their rows then
 * come out sorted (a compiler's 480,000 rows needed a sort of their own,
 * half of its compile time: linkers put a function's cold part, and main,
 * away from its FDE's neighbours). 0 or -ENOMEM. */
static int read_fdes(struct compiler *c, const unsigned char *ident, struct fde_ref **out, size_t *n)
{
	Elf_Data data = { .d_buf = (void *)c->sec.data, .d_size = c->sec.size };
	struct fde_ref *fdes = NULL;
	size_t cap = 0;
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry e;
	bool sorted = true;

	*n = 0;
	for (; !dwarf_next_cfi(ident, &data, c->sec.eh, off, &next, &e); off = next) {
		if (dwarf_cfi_cie_p(&e))
			continue;
		if (GROW(fdes, *n + 1, cap)) {
			free(fdes);
			return -ENOMEM;
		}
		if (!read_fde(c, &e.fde, &fdes[*n]))
			continue;
		sorted = sorted && (!*n || fdes[*n - 1].start <= fdes[*n].start);
		(*n)++;
	}
	if (!sorted)
		qsort(fdes, *n, sizeof(*fdes), cmp_fdes);
	*out = fdes;
	return 0;
}

/* Room for every row the FDEs can make, at once: a row takes a byte of
 * program at least, besides its FDE's last row and gap row. Pages no row
 * reaches are never touched. */
static int reserve_rows(struct compiler *c, const struct fde_ref *fdes, size_t n)
{
	size_t most = 0;

	for (size_t i = 0; i < n; i++)
		most += (size_t)(fdes[i].end - fdes[i].program) + 2;
	return GROW(c->rows, most, c->cap);
}

static int cmp_rows(const void *a, const void *b)
{
	const struct mo_unwind_row *x = a, *y = b;

	return (x->offset > y->offset) - (x->offset < y->offset);
}

static bool same_rule(const struct mo_unwind_row *a, const struct mo_unwind_row *b)
{
	return a->cfa == b->cfa && a->cfa_off8 == b->cfa_off8 && a->rbp_off8 == b->rbp_off8;
}

/* Keep row unless the one before says the same. */
static void keep_row(struct compiler *c, size_t *n, const struct mo_unwind_row *row)
{
	if (!*n || !same_rule(&c->rows[*n - 1], row))
		c->rows[(*n)++] = *row;
}

/* Sorted, one row per offset (an FDE's over a gap's), then equal neighbours
 * merged: in that order, or a gap at the start of an FDE whose first row
 * had merged into the row before it would stand for the whole function. */
static void finish_rows(struct compiler *c, struct mo_cfi_table *out)
{
	struct mo_unwind_row at;
	size_t n = 0;
	bool sorted = true;

	/* FDEs compiled in code order: a sort only when two overlap. */
	for (size_t i = 1; i < c->nrows && sorted; i++)
		sorted = c->rows[i - 1].offset <= c->rows[i].offset;
	if (!sorted)
		qsort(c->rows, c->nrows, sizeof(*c->rows), cmp_rows);
	for (size_t i = 0; i < c->nrows; i++) {
		const struct mo_unwind_row *row = &c->rows[i];

		if (i && at.offset == row->offset) {
			if (row->cfa != MO_CFA_FP)
				at = *row;
			continue;
		}
		if (i)
			keep_row(c, &n, &at);
		at = *row;
	}
	if (c->nrows)
		keep_row(c, &n, &at);
	out->rows = c->rows;
	out->nrows = n;
	c->rows = NULL;
}

/* The executable segments (their file offsets are what BPF sees) and the
 * CFI section: .eh_frame, else .debug_frame. */
static int find_sections(Elf *elf, struct compiler *c)
{
	size_t nph, shstr;
	Elf_Scn *scn = NULL, *eh = NULL, *debug = NULL;
	GElf_Shdr sh;
	Elf_Data *data;

	if (elf_getphdrnum(elf, &nph) || elf_getshdrstrndx(elf, &shstr))
		return -ENOEXEC;
	for (size_t i = 0; i < nph && c->nsegs < sizeof(c->segs) / sizeof(c->segs[0]); i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
			c->segs[c->nsegs++] = (struct segment){ ph.p_vaddr, ph.p_offset, ph.p_filesz };
	}
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstr, sh.sh_name) : NULL;

		if (name && !strcmp(name, ".eh_frame") && sh.sh_type == SHT_PROGBITS)
			eh = scn;
		else if (name && !strcmp(name, ".debug_frame") && sh.sh_type == SHT_PROGBITS)
			debug = scn;
	}
	scn = eh ? eh : debug;
	if (!scn)
		return 0;
	gelf_getshdr(scn, &sh);
	data = elf_getdata(scn, NULL);	/* compressed .debug_frame: not read */
	if (!data || !data->d_buf || (sh.sh_flags & SHF_COMPRESSED))
		return 0;
	c->sec = (struct section){ data->d_buf, data->d_size, sh.sh_addr, scn == eh };
	return 0;
}

/* The GNU build id note, zero-padded to 20 bytes. */
static void read_build_id(Elf *elf, unsigned char id[20])
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE ? elf_getdata(scn, NULL) : NULL;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0)
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)data->d_buf + name_off, "GNU", 4) && nh.n_descsz <= 20) {
				memcpy(id, (char *)data->d_buf + desc_off, nh.n_descsz);
				return;
			}
	}
}

int cfi_compile_elf(struct mo_elf *file, struct mo_cfi_table *out, char *err, size_t errlen)
{
	struct compiler c = {};
	Elf *elf = elf__libelf(file);
	int ret;

	memset(out, 0, sizeof(*out));
	if (gelf_getclass(elf) != ELFCLASS64) {
		snprintf(err, errlen, "not a 64-bit ELF file");
		return -ENOEXEC;
	}
	read_build_id(elf, out->build_id);
	ret = find_sections(elf, &c);
	if (!ret && c.sec.data) {
		struct fde_ref *fdes = NULL;
		size_t n = 0;

		ret = read_fdes(&c, (unsigned char *)elf_getident(elf, NULL), &fdes, &n);
		ret = ret ?: reserve_rows(&c, fdes, n);
		for (size_t i = 0; !ret && i < n; i++)
			if (!compile_fde(&c, &fdes[i]))
				ret = -ENOMEM;
		if (!ret)
			finish_rows(&c, out);
		free(fdes);
	}
	if (ret)
		snprintf(err, errlen, "%s", strerror(-ret));
	free(c.rows);
	free(c.cies);
	return ret;
}

int cfi_compile(const char *path, struct mo_cfi_table *out, char *err, size_t errlen)
{
	struct mo_elf *file = elf__open(path);
	int ret;

	if (!file) {
		ret = -errno;
		memset(out, 0, sizeof(*out));
		snprintf(err, errlen, "%s", ret == -ENOEXEC ? "not a 64-bit ELF file" : strerror(-ret));
		return ret;
	}
	ret = cfi_compile_elf(file, out, err, errlen);
	elf__free(file);
	return ret;
}

void cfi_table_free(struct mo_cfi_table *t)
{
	if (t->map)
		munmap(t->map, t->map_len);
	else
		free(t->rows);
	t->rows = NULL;
	t->nrows = 0;
	t->map = NULL;
}

const struct mo_unwind_row *cfi_lookup(const struct mo_cfi_table *t, __u32 off)
{
	size_t lo = 0, hi = t->nrows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->rows[mid].offset <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}
