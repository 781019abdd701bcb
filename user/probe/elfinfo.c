// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probe/elfinfo.h"

struct mo_elf {
	int fd;
	bool own_fd;		/* opened here: closed by elf__free */
	Elf *elf;
};

struct mo_elf *elf__open_fd(int fd)
{
	struct mo_elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOSYS;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fd = fd;
	e->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		if (e->elf)
			elf_end(e->elf);
		free(e);
		errno = ENOEXEC;
		return NULL;
	}
	return e;
}

struct mo_elf *elf__open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	struct mo_elf *e = fd >= 0 ? elf__open_fd(fd) : NULL;

	if (e) {
		e->own_fd = true;
	} else if (fd >= 0) {
		err = errno;
		close(fd);
		errno = err;
	}
	return e;
}

void elf__free(struct mo_elf *e)
{
	if (!e)
		return;
	elf_end(e->elf);
	if (e->own_fd)
		close(e->fd);
	free(e);
}

Elf *elf__libelf(struct mo_elf *e)
{
	return e->elf;
}

/* File offset of a virtual address, through the PT_LOAD that maps it. */
static int vaddr_to_offset(Elf *elf, uint64_t addr, uint64_t *offset)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_filesz) {
			*offset = addr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static int find_in_symtab(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, const char *name, bool object,
			  struct mo_elf_func *out)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; data && i < count; i++) {
		GElf_Sym sym;
		const char *sname;
		int type;

		if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (object ? type != STT_OBJECT : type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		sname = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!sname || strcmp(sname, name))
			continue;
		out->addr = sym.st_value;
		out->size = sym.st_size;
		return vaddr_to_offset(elf, sym.st_value, &out->offset);
	}
	return -ENOENT;
}

static int find_symbol(struct mo_elf *e, const char *name, bool object, struct mo_elf_func *out)
{
	static const Elf64_Word order[] = { SHT_SYMTAB, SHT_DYNSYM };

	for (size_t k = 0; k < 2; k++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(e->elf, scn))) {
			GElf_Shdr sh;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != order[k])
				continue;
			if (!find_in_symtab(e->elf, scn, &sh, name, object, out))
				return 0;
		}
	}
	return -ENOENT;
}

int elf__func(struct mo_elf *e, const char *name, struct mo_elf_func *out)
{
	return find_symbol(e, name, false, out);
}

int elf__object(struct mo_elf *e, const char *name, struct mo_elf_func *out)
{
	return find_symbol(e, name, true, out);
}

size_t elf__read(struct mo_elf *e, uint64_t offset, void *buf, size_t len)
{
	ssize_t n = pread(e->fd, buf, len, offset);

	return n > 0 ? (size_t)n : 0;
}

bool elf__is_static(struct mo_elf *e)
{
	char buf[8];

	return elf__interp(e, buf, sizeof(buf)) == -ENOENT;
}

bool elf__has_section(struct mo_elf *e, const char *name)
{
	size_t strndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(e->elf, &strndx))
		return false;
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		const char *s;

		if (gelf_getshdr(scn, &sh) && (s = elf_strptr(e->elf, strndx, sh.sh_name)) && !strcmp(s, name))
			return true;
	}
	return false;
}

int elf__interp(struct mo_elf *e, char *buf, size_t buflen)
{
	size_t n;

	if (elf_getphdrnum(e->elf, &n))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		size_t len;

		if (!gelf_getphdr(e->elf, i, &ph) || ph.p_type != PT_INTERP)
			continue;
		len = ph.p_filesz < buflen ? ph.p_filesz : buflen - 1;
		len = elf__read(e, ph.p_offset, buf, len);
		buf[len] = 0;
		return 0;
	}
	return -ENOENT;
}

/* Call fn on each note of the sections of type SHT_NOTE; stop when it
 * returns true. */
static bool each_note(struct mo_elf *e, bool (*fn)(const GElf_Nhdr *, const char *, const char *, void *),
		      void *arg)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			const char *base = data->d_buf;

			if (fn(&nh, base + name_off, base + desc_off, arg))
				return true;
		}
	}
	return false;
}

/* A stapsdt note's desc: pc, base, semaphore (3 addresses), then
 * "provider\0name\0args\0". */
static bool is_provider(const GElf_Nhdr *nh, const char *name, const char *desc, void *provider)
{
	size_t skip = 3 * sizeof(uint64_t);

	if (nh->n_type != 3 || nh->n_namesz != sizeof("stapsdt") || strcmp(name, "stapsdt"))
		return false;
	if (nh->n_descsz <= skip)
		return false;
	return strnlen(desc + skip, nh->n_descsz - skip) < nh->n_descsz - skip &&
	       !strcmp(desc + skip, provider);
}

bool elf__has_usdt(struct mo_elf *e, const char *provider)
{
	return each_note(e, is_provider, (void *)provider);
}

/* Address of the section named name, 0 without one. */
static uint64_t section_addr(struct mo_elf *e, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e->elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		const char *sname;

		if (gelf_getshdr(scn, &sh) && (sname = elf_strptr(e->elf, shstrndx, sh.sh_name)) &&
		    !strcmp(sname, name))
			return sh.sh_addr;
	}
	return 0;
}

struct usdt_walk {
	struct mo_elf *e;
	uint64_t base;		/* .stapsdt.base's address: prelink moves it and the notes' pcs */
	int (*fn)(const struct mo_usdt_note *, void *);
	void *arg;
	int ret;
};

/* Parse one stapsdt note (the layout sys/sdt.h writes) and pass it on. */
static bool usdt_note(const GElf_Nhdr *nh, const char *name, const char *desc, void *arg)
{
	struct usdt_walk *w = arg;
	size_t skip = 3 * sizeof(uint64_t), left;
	struct mo_usdt_note note = {};
	const char **fields[] = { &note.provider, &note.name, &note.args };
	uint64_t addr[3];
	const char *s;

	if (nh->n_type != 3 || nh->n_namesz != sizeof("stapsdt") || strcmp(name, "stapsdt") || nh->n_descsz <= skip)
		return false;
	memcpy(addr, desc, sizeof(addr));
	s = desc + skip;
	left = nh->n_descsz - skip;
	/* provider, name and arguments: three strings, each terminated inside the note */
	for (size_t i = 0; i < 3; i++) {
		size_t len = strnlen(s, left);

		if (len == left)
			return false;
		*fields[i] = s;
		s += len + 1;
		left -= len + 1;
	}
	note.addr = addr[0];
	if (w->base && addr[1])
		note.addr += w->base - addr[1];
	if (vaddr_to_offset(w->e->elf, note.addr, &note.offset))
		return false;
	if (addr[2] && vaddr_to_offset(w->e->elf, addr[2], &note.sema_offset))
		return false;
	w->ret = w->fn(&note, w->arg);
	return w->ret != 0;
}

int elf__usdt_notes(struct mo_elf *e, int (*fn)(const struct mo_usdt_note *note, void *arg), void *arg)
{
	struct usdt_walk w = { e, section_addr(e, ".stapsdt.base"), fn, arg, 0 };

	each_note(e, usdt_note, &w);
	return w.ret;
}

struct build_id_out {
	char *buf;
	size_t len;
};

static bool take_build_id(const GElf_Nhdr *nh, const char *name, const char *desc, void *arg)
{
	struct build_id_out *out = arg;

	if (nh->n_type != NT_GNU_BUILD_ID || strcmp(name, "GNU") || !nh->n_descsz ||
	    nh->n_descsz * 2 + 1 > out->len)
		return false;
	for (size_t i = 0; i < nh->n_descsz; i++)
		snprintf(out->buf + 2 * i, 3, "%02x", (unsigned char)desc[i]);
	return true;
}

int elf__build_id(struct mo_elf *e, char *buf, size_t buflen)
{
	struct build_id_out out = { buf, buflen };

	return each_note(e, take_build_id, &out) ? 0 : -ENOENT;
}

int elf__machine(struct mo_elf *e, int *elfclass, int *machine)
{
	GElf_Ehdr eh;

	if (!gelf_getehdr(e->elf, &eh))
		return -EINVAL;
	*elfclass = eh.e_ident[EI_CLASS];
	*machine = eh.e_machine;
	return 0;
}

static bool is_string_tag(int64_t tag)
{
	return tag == DT_NEEDED || tag == DT_SONAME || tag == DT_RPATH || tag == DT_RUNPATH;
}

int elf__dyn_strings(struct mo_elf *e, void (*fn)(int64_t tag, const char *str, void *arg), void *arg)
{
	uint64_t strtab = 0, strsz = 0, stroff;
	Elf_Data *dyn = NULL, *str;
	size_t n, count;
	GElf_Dyn d;
	int found = 0;

	if (elf_getphdrnum(e->elf, &n))
		return 0;
	for (size_t i = 0; i < n && !dyn; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e->elf, i, &ph) && ph.p_type == PT_DYNAMIC)
			dyn = elf_getdata_rawchunk(e->elf, ph.p_offset, ph.p_filesz, ELF_T_DYN);
	}
	if (!dyn)
		return 0;
	count = dyn->d_size / gelf_fsize(e->elf, ELF_T_DYN, 1, EV_CURRENT);
	for (size_t i = 0; i < count && gelf_getdyn(dyn, i, &d) && d.d_tag != DT_NULL; i++) {
		if (d.d_tag == DT_STRTAB)
			strtab = d.d_un.d_ptr;
		else if (d.d_tag == DT_STRSZ)
			strsz = d.d_un.d_val;
	}
	if (!strtab || !strsz || vaddr_to_offset(e->elf, strtab, &stroff))
		return 0;
	str = elf_getdata_rawchunk(e->elf, stroff, strsz, ELF_T_BYTE);
	if (!str)
		return 0;
	for (size_t i = 0; i < count && gelf_getdyn(dyn, i, &d) && d.d_tag != DT_NULL; i++) {
		const char *s = (const char *)str->d_buf + d.d_un.d_val;

		if (!is_string_tag(d.d_tag) || d.d_un.d_val >= str->d_size ||
		    !memchr(s, 0, str->d_size - d.d_un.d_val))
			continue;
		fn(d.d_tag, s, arg);
		found++;
	}
	return found;
}
