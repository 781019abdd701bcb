// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include "stacks/buildids.h"
#include "stacks/symbolize.h"

struct module {
	char id[MO_BUILD_ID_HEX];
	Dwfl *dwfl;		/* NULL: no file for this id */
	Dwfl_Module *mod;
	const char *base;	/* file name for fallbacks */
};

struct mo_symbolizer {
	const struct mo_buildids *ids;
	struct module *mods;
	size_t nmods;
	char *debuginfo_path;
	Dwfl_Callbacks callbacks;
};

struct mo_symbolizer *symbolizer__new(const struct mo_buildids *ids)
{
	struct mo_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ids = ids;
	s->callbacks.find_elf = dwfl_build_id_find_elf;
	s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	return s;
}

void symbolizer__free(struct mo_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++)
		if (s->mods[i].dwfl)
			dwfl_end(s->mods[i].dwfl);
	free(s->mods);
	free(s);
}

static struct module *module_for(struct mo_symbolizer *s, const char *id)
{
	const char *path;
	struct module *m;

	for (size_t i = 0; i < s->nmods; i++)
		if (!strcmp(s->mods[i].id, id))
			return &s->mods[i];
	m = realloc(s->mods, (s->nmods + 1) * sizeof(*m));
	if (!m)
		return NULL;
	s->mods = m;
	m = &s->mods[s->nmods++];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	path = buildids__find(s->ids, id);
	if (!path)
		return m;
	m->base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	m->dwfl = dwfl_begin(&s->callbacks);
	if (m->dwfl) {
		m->mod = dwfl_report_offline(m->dwfl, m->base, path, -1);
		dwfl_report_end(m->dwfl, NULL, NULL);
	}
	return m;
}

/* File offset -> the module's address, through the PT_LOAD holding it. */
static bool offset_to_addr(Dwfl_Module *mod, uint64_t offset, GElf_Addr *addr)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t n;

	if (!elf || elf_getphdrnum(elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (offset >= ph.p_offset && offset < ph.p_offset + ph.p_filesz) {
			*addr = ph.p_vaddr + (offset - ph.p_offset) + bias;
			return true;
		}
	}
	return false;
}

enum mo_sym_result symbolizer__name(struct mo_symbolizer *s, const char *id, uint64_t offset,
				    bool return_address, char *buf, size_t len)
{
	struct module *m = module_for(s, id);
	GElf_Addr addr;
	GElf_Off off;
	GElf_Sym sym;
	const char *name = NULL;

	if (m && m->mod) {
		if (!offset_to_addr(m->mod, offset, &addr))
			return MO_SYM_NOT_CODE;
		name = dwfl_module_addrinfo(m->mod, return_address ? addr - 1 : addr, &off, &sym, NULL, NULL, NULL);
	}
	if (name) {
		snprintf(buf, len, "%s", name);
		return MO_SYM_FOUND;
	}
	if (m && m->base)
		snprintf(buf, len, "%s+0x%llx", m->base, (unsigned long long)offset);
	else
		snprintf(buf, len, "[build-id %.12s]+0x%llx", id, (unsigned long long)offset);
	return MO_SYM_FALLBACK;
}
