/* SPDX-License-Identifier: GPL-2.0 */
/* What memobs needs to know of an executable or library, read with libelf:
 * function symbols as file offsets (what uprobes take), whether it is
 * statically linked, whether it carries memobs's USDT markers, its build id. */
#ifndef MO_ELFINFO_H
#define MO_ELFINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libelf.h>

struct mo_elf;

struct mo_elf_func {
	uint64_t addr;		/* st_value */
	uint64_t size;
	uint64_t offset;	/* file offset of the first instruction */
};

/* Open path; NULL+errno (ENOEXEC: not an ELF file). Free with elf__free. */
struct mo_elf *elf__open(const char *path);
/* The same of a file open at fd, which stays the caller's: elf__free leaves it open. */
struct mo_elf *elf__open_fd(int fd);
void elf__free(struct mo_elf *elf);

/* libelf's handle of the file, for readers of what this module does not
 * read (call frame information); valid until elf__free. */
Elf *elf__libelf(struct mo_elf *elf);

/* A defined function named `name` (.symtab, else .dynsym). 0 or -ENOENT. */
int elf__func(struct mo_elf *elf, const char *name, struct mo_elf_func *out);

/* A defined data object named `name` (.symtab, else .dynsym); offset is
 * where its initial value is in the file. 0 or -ENOENT. */
int elf__object(struct mo_elf *elf, const char *name, struct mo_elf_func *out);

/* Up to len bytes of the file at offset; returns the count read (0 on error). */
size_t elf__read(struct mo_elf *elf, uint64_t offset, void *buf, size_t len);

/* No PT_INTERP: nothing else will be mapped for it (static or static-pie). */
bool elf__is_static(struct mo_elf *elf);

/* Does .note.stapsdt hold a probe of this provider? */
bool elf__has_usdt(struct mo_elf *elf, const char *provider);

/* One USDT probe (.note.stapsdt), strings valid until elf__free. */
struct mo_usdt_note {
	const char *provider;
	const char *name;
	const char *args;	/* "8@%rdi -4@$5", as sys/sdt.h wrote them */
	uint64_t addr;		/* link-time address of its nop (prelink-adjusted) */
	uint64_t offset;	/* file offset of that nop: where the uprobe goes */
	uint64_t sema_offset;	/* file offset of its semaphore, 0: none */
};

/* fn(note, arg) for each USDT probe of the file in note order, until fn
 * returns nonzero; a probe whose address no PT_LOAD maps is skipped.
 * Returns fn's nonzero value, else 0. */
int elf__usdt_notes(struct mo_elf *elf, int (*fn)(const struct mo_usdt_note *note, void *arg), void *arg);

/* The GNU build id as lowercase hex into buf; 0, or -ENOENT without one. */
int elf__build_id(struct mo_elf *elf, char *buf, size_t buflen);

/* Has it a section of this name (Go's .go.buildinfo)? */
bool elf__has_section(struct mo_elf *elf, const char *name);

/* PT_INTERP's path into buf; 0, or -ENOENT for a static file. */
int elf__interp(struct mo_elf *elf, char *buf, size_t buflen);

/* The file's ELF class (ELFCLASS32/64) and e_machine; 0 or -EINVAL. */
int elf__machine(struct mo_elf *elf, int *elfclass, int *machine);

/* The string entries of the dynamic section in file order (DT_NEEDED,
 * DT_SONAME, DT_RPATH, DT_RUNPATH): fn(tag, string, arg) for each, read
 * through PT_DYNAMIC (section headers may be stripped). Returns how many,
 * 0 without a dynamic section. The string lives until elf__free. */
int elf__dyn_strings(struct mo_elf *elf, void (*fn)(int64_t tag, const char *str, void *arg), void *arg);

#endif
