// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include "lib/cachedir.h"
#include "stacks/debugcache.h"

#define ENTRY_FORMAT "v1"	/* in each entry's name: another layout gets another name */
#define MAX_ID_BYTES 64
#define DEBUG_ROOT "/usr/lib/debug"

struct mo_debugcache {
	struct mo_cachedir dir;
	char error[256];	/* the first failure to store an entry */
};

struct mo_debugcache *debugcache__open(char *err, size_t errlen)
{
	struct mo_debugcache *c = calloc(1, sizeof(*c));

	*err = 0;
	if (!c) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	elf_version(EV_CURRENT);
	if (cachedir_open(&c->dir, "debuginfo", err, errlen)) {
		free(c);
		return NULL;
	}
	return c;
}

void debugcache__free(struct mo_debugcache *c)
{
	if (!c)
		return;
	cachedir_close(&c->dir);
	free(c);
}

const char *debugcache__error(const struct mo_debugcache *c)
{
	return c->error;
}

/* The id in hex (hex[2 * MAX_ID_BYTES + 1]) and its entry's name. */
static bool entry_name(const unsigned char *id, size_t len, char *hex, char *out, size_t outlen)
{
	if (!len || len > MAX_ID_BYTES)
		return false;
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	return snprintf(out, outlen, "%s." ENTRY_FORMAT ".debug", hex) < (int)outlen;
}

static char *entry_path(const struct mo_debugcache *c, const char *name)
{
	char *path;

	return asprintf(&path, "%s/%s", c->dir.path, name) < 0 ? NULL : path;
}

/* An entry as written here: whole (the file ends where its section header
 * table does, which is written last), nothing compressed left, its build
 * id the one it is named for. */
static bool entry_valid(int fd, const unsigned char *id, size_t len)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *note_id;
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	struct stat st;
	size_t shnum;
	bool ok = elf && elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh) && !elf_getshdrnum(elf, &shnum) &&
		  !fstat(fd, &st) && eh.e_shoff &&
		  (unsigned long long)st.st_size == eh.e_shoff + (unsigned long long)shnum * eh.e_shentsize &&
		  dwelf_elf_gnu_build_id(elf, &note_id) == (ssize_t)len && !memcmp(note_id, id, len);

	while (ok && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		ok = gelf_getshdr(scn, &sh) && !(sh.sh_flags & SHF_COMPRESSED) &&
		     (sh.sh_type == SHT_NOBITS || sh.sh_offset + sh.sh_size <= (unsigned long long)st.st_size);
	}
	elf_end(elf);
	return ok;
}

int debugcache__find(struct mo_debugcache *c, const unsigned char *id, size_t len, char **path)
{
	char hex[2 * MAX_ID_BYTES + 1], name[2 * MAX_ID_BYTES + 16];
	int fd;

	if (!entry_name(id, len, hex, name, sizeof(name)) || (fd = cachedir_read(&c->dir, name)) < 0)
		return -1;
	if (!entry_valid(fd, id, len)) {
		/* Truncated, damaged or not ours: made again from the original. */
		close(fd);
		cachedir_remove(&c->dir, name);
		return -1;
	}
	*path = entry_path(c, name);
	if (!*path) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool has_compressed(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED))
			return true;
	return false;
}

static GElf_Off align_up(GElf_Off off, GElf_Xword align)
{
	return align > 1 ? (off + align - 1) / align * align : off;
}

/* The sections of src into dst in order, compressed ones inflated. Those
 * before the first compressed one keep their offsets (notes stay where
 * the program headers say); from there on each follows the one before.
 * The end of the last section, or 0. */
static GElf_Off copy_sections(Elf *src, Elf *dst, GElf_Off end)
{
	bool moved = false;
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(src, scn))) {
		Elf_Scn *out = elf_newscn(dst);
		Elf_Data *in, *data;
		GElf_Shdr sh;

		if (!out || !gelf_getshdr(scn, &sh))
			return 0;
		if (sh.sh_flags & SHF_COMPRESSED) {
			if (elf_compress(scn, 0, 0) < 0 || !gelf_getshdr(scn, &sh))
				return 0;
			moved = true;
		}
		in = elf_getdata(scn, NULL);
		if (in) {
			if (!(data = elf_newdata(out)))
				return 0;
			*data = *in;
			data->d_off = 0;
		}
		if (sh.sh_type != SHT_NOBITS) {
			if (moved)
				sh.sh_offset = align_up(end, sh.sh_addralign);
			if (sh.sh_offset + sh.sh_size > end)
				end = sh.sh_offset + sh.sh_size;
		}
		if (!gelf_update_shdr(out, &sh))
			return 0;
	}
	return end;
}

/* src, its compressed sections inflated, written to fd. 0/-1. */
static int write_inflated(Elf *src, int fd)
{
	Elf *dst = elf_begin(fd, ELF_C_WRITE, NULL);
	size_t phnum, shstrndx;
	GElf_Ehdr eh;
	GElf_Off end;
	int ret = -1;

	if (!dst || !gelf_getehdr(src, &eh) || elf_getphdrnum(src, &phnum) || elf_getshdrstrndx(src, &shstrndx) ||
	    shstrndx >= SHN_LORESERVE || !gelf_newehdr(dst, gelf_getclass(src)) || (phnum && !gelf_newphdr(dst, phnum)))
		goto out;
	/* The layout is this file's: libelf's own would move the notes. */
	elf_flagelf(dst, ELF_C_SET, ELF_F_LAYOUT);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(src, i, &ph) || !gelf_update_phdr(dst, i, &ph))
			goto out;
	}
	end = eh.e_ehsize;
	if (phnum && eh.e_phoff + phnum * eh.e_phentsize > end)
		end = eh.e_phoff + phnum * eh.e_phentsize;
	end = copy_sections(src, dst, end);
	if (!end)
		goto out;
	eh.e_shoff = align_up(end, 8);
	if (gelf_update_ehdr(dst, &eh) && elf_update(dst, ELF_C_WRITE) >= 0)
		ret = 0;
out:
	elf_end(dst);
	return ret;
}

static void store_failed(struct mo_debugcache *c, const char *why)
{
	if (!c->error[0])
		snprintf(c->error, sizeof(c->error), "%s: %s", c->dir.path, why);
}

/* The debug file of build id hex where packages install it (Debian's
 * -dbg and -dbgsym): /usr/lib/debug/.build-id/xx/yyyy.debug, opened. */
static int open_installed(const char *hex, char **path)
{
	int fd;

	if (asprintf(path, "%s/.build-id/%.2s/%s.debug", DEBUG_ROOT, hex, hex + 2) < 0)
		return -1;
	fd = open(*path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(*path);
		*path = NULL;
	}
	return fd;
}

int debugcache__add(struct mo_debugcache *c, const unsigned char *id, size_t len, char **path)
{
	char hex[2 * MAX_ID_BYTES + 1], name[2 * MAX_ID_BYTES + 16], tmp[MO_CACHE_TMP_LEN], *orig_path = NULL;
	const void *orig_id;
	Elf *elf = NULL;
	int fd, out, ret, cached = -1;

	if (c->error[0] || !entry_name(id, len, hex, name, sizeof(name)) || (fd = open_installed(hex, &orig_path)) < 0)
		return -1;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	/* Not the file of this build id, or nothing to inflate: libdwfl's. */
	if (!elf || elf_kind(elf) != ELF_K_ELF || dwelf_elf_gnu_build_id(elf, &orig_id) != (ssize_t)len ||
	    memcmp(orig_id, id, len) || !has_compressed(elf))
		goto out;
	out = cachedir_begin(&c->dir, tmp);
	if (out < 0) {
		store_failed(c, strerror(-out));
		goto out;
	}
	ret = write_inflated(elf, out);
	if (ret) {
		int elf_err = elf_errno();

		cachedir_abort(&c->dir, out, tmp);
		store_failed(c, elf_err ? elf_errmsg(elf_err) : "cannot write an entry");
		goto out;
	}
	ret = cachedir_commit(&c->dir, out, tmp, name);
	if (ret)
		store_failed(c, strerror(-ret));
	else if ((cached = debugcache__find(c, id, len, path)) < 0)
		store_failed(c, "an entry just written does not read back");
out:
	elf_end(elf);
	close(fd);
	free(orig_path);
	return cached;
}
