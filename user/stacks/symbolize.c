// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include "lib/grow.h"
#include "lib/invoker.h"
#include "stacks/buildids.h"
#include "stacks/debugcache.h"
#include "stacks/symbolize.h"

/* libstdc++'s Itanium C++ ABI demangler (the one every C++ toolchain on
 * Linux ships); declared here to keep C++ headers out of a C program. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* A function symbol: [addr, addr + size) in the module's addresses. */
struct func {
	GElf_Addr addr;
	GElf_Xword size;
	bool local;		/* STB_LOCAL: an alias the global name is preferred to */
	const char *name;	/* libdwfl's, valid while the module is */
};

struct module {
	char id[MO_BUILD_ID_HEX];
	Dwfl *dwfl;		/* NULL: no file for this id */
	Dwfl_Module *mod;
	const char *base;	/* file name for fallbacks */
	struct func *funcs;	/* sorted by address, read on the first lookup */
	size_t nfuncs;
	bool funcs_read;
	bool debug_asked;	/* its debug file was looked for (a later call is for a .dwz) */
};

/* One looked-up frame: (module, offset, return address) -> its names. */
struct cached {
	bool used;
	bool return_address;
	unsigned module;
	uint64_t offset;
	struct mo_sym sym;	/* strings malloc'd */
};

struct mo_symbolizer {
	const struct mo_buildids *ids;
	struct module *mods;
	size_t nmods, mods_alloc;
	struct cached *cache;	/* open addressing, a power of two in size */
	size_t ncache, cap_cache;
	size_t lookups, hits;
	struct mo_sym spare;	/* the last answer that found no room in the cache */
	char *debuginfo_path;
	Dwfl_Callbacks callbacks;
	struct mo_debugcache *debugcache;	/* NULL: none */
	const struct mo_invoker *reader;	/* NULL: root's reading rights */
};

/* A module's separate debug file: from the cache when it has it, or when
 * the installed one (by build id) has compressed sections (stored then);
 * else the standard search's (by build id under /usr/lib/debug/.build-id,
 * or by .gnu_debuglink). That search keeps the file it validated as the
 * module's, whatever is returned: it is not called for a cached one.
 * libdwfl asks again for a .gnu_debugaltlink file (dwz): that one is the
 * standard search's. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
			  const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			  char **debuginfo_file_name)
{
	struct mo_symbolizer *s = *userdata;
	struct module *m = NULL;
	const unsigned char *id = NULL;
	GElf_Addr vaddr;
	int len, fd;

	for (size_t i = 0; s && i < s->nmods && !m; i++)
		if (s->mods[i].mod == mod)
			m = &s->mods[i];
	len = m && !m->debug_asked && s->debugcache ? dwfl_module_build_id(mod, &id, &vaddr) : 0;
	if (m)
		m->debug_asked = true;
	if (len > 0 && ((fd = debugcache__find(s->debugcache, id, len, debuginfo_file_name)) >= 0 ||
			(fd = debugcache__add(s->debugcache, id, len, debuginfo_file_name)) >= 0))
		return fd;
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
					    debuginfo_file_name);
}

struct mo_symbolizer *symbolizer__new(const struct mo_buildids *ids)
{
	struct mo_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ids = ids;
	/* The standard search finds separate debuginfo by build id under
	 * /usr/lib/debug/.build-id and by .gnu_debuglink. */
	s->callbacks.find_elf = dwfl_build_id_find_elf;
	s->callbacks.find_debuginfo = find_debuginfo;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	return s;
}

static void free_sym(struct mo_sym *sym)
{
	free((char *)sym->name);
	free((char *)sym->source);
}

void symbolizer__read_as(struct mo_symbolizer *s, const struct mo_invoker *reader)
{
	s->reader = reader;
}

void symbolizer__use_cache(struct mo_symbolizer *s, struct mo_debugcache *cache)
{
	s->debugcache = cache;
}

void symbolizer__free(struct mo_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++) {
		if (s->mods[i].dwfl)
			dwfl_end(s->mods[i].dwfl);
		free(s->mods[i].funcs);
	}
	for (size_t i = 0; i < s->cap_cache; i++)
		if (s->cache[i].used)
			free_sym(&s->cache[i].sym);
	free_sym(&s->spare);
	free(s->cache);
	free(s->mods);
	free(s);
}

void symbolizer__counts(const struct mo_symbolizer *s, size_t *lookups, size_t *hits)
{
	*lookups = s->lookups;
	*hits = s->hits;
}

char *symbolize_demangle(const char *name)
{
	int status = -1;
	char *out;

	if (strncmp(name, "_Z", 2))
		return NULL;
	out = __cxa_demangle(name, NULL, NULL, &status);
	if (status) {
		free(out);
		return NULL;
	}
	return out;
}

/* The module of build id id: the file at path, or when NULL the one the
 * build-id table knows. */
static struct module *module_for(struct mo_symbolizer *s, const char *id, const char *path, unsigned *index)
{
	struct module *m;

	for (size_t i = 0; i < s->nmods; i++)
		if (!strcmp(s->mods[i].id, id)) {
			*index = i;
			return &s->mods[i];
		}
	if (GROW(s->mods, s->nmods + 1, s->mods_alloc))
		return NULL;
	*index = s->nmods;
	m = &s->mods[s->nmods++];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	path = path ?: buildids__find(s->ids, id);
	if (!path)
		return m;
	m->base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (s->reader && !invoker_can_read(s->reader, path))
		return m;
	m->dwfl = dwfl_begin(&s->callbacks);
	if (m->dwfl) {
		void **userdata;

		m->mod = dwfl_report_offline(m->dwfl, m->base, path, -1);
		dwfl_report_end(m->dwfl, NULL, NULL);
		/* find_debuginfo's: the symbolizer, its cache and modules. */
		if (m->mod && dwfl_module_info(m->mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL))
			*userdata = s;
	}
	return m;
}

/* File offset -> the module's address, through the executable PT_LOAD
 * holding it: an offset anywhere else (data, headers) is not code. */
static bool code_offset_to_addr(Dwfl_Module *mod, uint64_t offset, GElf_Addr *addr)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t n;

	if (!elf || elf_getphdrnum(elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (offset >= ph.p_offset && offset < ph.p_offset + ph.p_filesz) {
			*addr = ph.p_vaddr + (offset - ph.p_offset) + bias;
			return true;
		}
	}
	return false;
}

static int cmp_func(const void *a, const void *b)
{
	const struct func *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;	/* the larger first: it is kept */
	return x->local - y->local;	/* then a global name (__libc_start_main, not its _alias_2) */
}

/* The module's function symbols, sorted once: dwfl_module_addrinfo scans
 * every symbol at each call (cc1's 60,000: seconds for a build's frames). */
static void read_funcs(struct module *m)
{
	int n = dwfl_module_getsymtab(m->mod);
	size_t k = 0;

	m->funcs_read = true;
	m->funcs = n > 0 ? calloc(n, sizeof(*m->funcs)) : NULL;
	for (int i = 0; m->funcs && i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(m->mod, i, &sym, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);

		if (name && *name && sym.st_shndx != SHN_UNDEF && (type == STT_FUNC || type == STT_GNU_IFUNC))
			m->funcs[k++] = (struct func){ addr, sym.st_size, GELF_ST_BIND(sym.st_info) == STB_LOCAL, name };
	}
	qsort(m->funcs, k, sizeof(*m->funcs), cmp_func);
	m->nfuncs = k;
}

/* The function containing addr: the last one starting at or before it,
 * whose size covers it (a sizeless one covers up to the next). */
static const struct func *find_func(struct module *m, GElf_Addr addr)
{
	size_t lo = 0, hi;

	if (!m->funcs_read)
		read_funcs(m);
	hi = m->nfuncs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->funcs[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Among functions at one address the first (largest) stands for it. */
	while (lo > 1 && m->funcs[lo - 1].addr == m->funcs[lo - 2].addr)
		lo--;
	if (!lo)
		return NULL;
	if (m->funcs[lo - 1].size ? addr < m->funcs[lo - 1].addr + m->funcs[lo - 1].size
				  : lo == m->nfuncs || addr < m->funcs[lo].addr)
		return &m->funcs[lo - 1];
	return NULL;
}

/* The function symbol at addr, demangled, and its source line. */
static void name_code(struct module *m, GElf_Addr addr, struct mo_sym *out)
{
	const struct func *f = find_func(m, addr);
	Dwfl_Line *line;
	int lineno = 0;
	const char *file, *comp_dir;
	char *src;

	if (f) {
		/* .dynsym names carry their version ("__libc_start_main@@GLIBC_2.34"). */
		char *plain = strndup(f->name, strcspn(f->name, "@"));

		out->name = plain ? symbolize_demangle(plain) ?: plain : NULL;
		if (out->name != plain)
			free(plain);
		if (out->name)
			out->result = MO_SYM_FOUND;
	}
	line = dwfl_module_getsrc(m->mod, addr);
	file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	comp_dir = line ? dwfl_line_comp_dir(line) : NULL;
	if (!file || lineno <= 0)
		return;
	/* A relative name is relative to where its unit was compiled. */
	if (file[0] != '/' && comp_dir && comp_dir[0] == '/' ? asprintf(&src, "%s/%s:%d", comp_dir, file, lineno) >= 0
							      : asprintf(&src, "%s:%d", file, lineno) >= 0)
		out->source = src;
}

static void lookup(struct module *m, const char *id, uint64_t offset, bool return_address,
		   struct mo_sym *out)
{
	GElf_Addr addr;
	char *fallback;

	*out = (struct mo_sym){ .result = MO_SYM_FALLBACK };
	if (m && m->mod) {
		if (!code_offset_to_addr(m->mod, offset, &addr)) {
			out->result = MO_SYM_NOT_CODE;
			return;
		}
		name_code(m, return_address ? addr - 1 : addr, out);
		if (out->result == MO_SYM_FOUND)
			return;
	}
	if (asprintf(&fallback, m && m->base ? "%s+0x%llx" : "[build-id %.12s]+0x%llx", m && m->base ? m->base : id,
		     (unsigned long long)offset) < 0)
		fallback = NULL;
	out->name = fallback;
	out->result = MO_SYM_FALLBACK;
}

static size_t slot_hash(unsigned module, uint64_t offset, bool return_address)
{
	uint64_t h = (offset ^ ((uint64_t)module << 48) ^ return_address) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 17);
}

/* The cache slot of a key: its entry, or the free slot where it goes. */
static struct cached *slot(struct mo_symbolizer *s, unsigned module, uint64_t offset, bool return_address)
{
	size_t mask = s->cap_cache - 1, i = slot_hash(module, offset, return_address) & mask;

	while (s->cache[i].used && (s->cache[i].module != module || s->cache[i].offset != offset ||
				    s->cache[i].return_address != return_address))
		i = (i + 1) & mask;
	return &s->cache[i];
}

static bool grow_cache(struct mo_symbolizer *s)
{
	size_t old_cap = s->cap_cache, cap = old_cap ? old_cap * 2 : 1024;
	struct cached *old = s->cache;

	s->cache = calloc(cap, sizeof(*s->cache));
	if (!s->cache) {
		s->cache = old;
		return false;
	}
	s->cap_cache = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			*slot(s, old[i].module, old[i].offset, old[i].return_address) = old[i];
	free(old);
	return true;
}

void symbolizer__frame(struct mo_symbolizer *s, const char *id, uint64_t offset, bool return_address,
		       struct mo_sym *out)
{
	unsigned index = 0;
	struct module *m = module_for(s, id, NULL, &index);
	struct cached *c;

	s->lookups++;
	if (!m || (s->ncache + 1) * 2 > s->cap_cache) {
		if (!m || !grow_cache(s)) {
			/* Out of memory: an answer valid until the next one. */
			free_sym(&s->spare);
			lookup(m, id, offset, return_address, &s->spare);
			*out = s->spare;
			return;
		}
	}
	c = slot(s, index, offset, return_address);
	if (c->used) {
		s->hits++;
		*out = c->sym;
		return;
	}
	lookup(m, id, offset, return_address, &c->sym);
	c->used = true;
	c->module = index;
	c->offset = offset;
	c->return_address = return_address;
	s->ncache++;
	*out = c->sym;
}

void symbolizer__prepare(struct mo_symbolizer *s, const char *id, const char *path)
{
	unsigned index;
	struct module *m = module_for(s, id, path, &index);
	GElf_Addr bias;

	if (!m || !m->mod)
		return;
	if (!m->funcs_read)
		read_funcs(m);
	dwfl_module_getdwarf(m->mod, &bias);
}
