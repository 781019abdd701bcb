// SPDX-License-Identifier: GPL-2.0
/* ELF facts on this very test binary (/proc/self/exe): a function's file
 * offset holds the function's code, the build id is the one the loader
 * mapped, an interpreter, USDT markers of provider "memobs", the dynamic
 * section's strings; a static file made here; files that are no ELF or are
 * cut short. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <unistd.h>
#include <memobs/markers.h>
#include "check.h"
#include "probe/elfinfo.h"

static char tmpdir[64];

/* The function whose code the test finds in the file. */
__attribute__((noinline)) int elfinfo_target(int x)
{
	MEMOBS_MARK("elfinfo test");	/* a USDT note of provider memobs */
	return x * 7 + 3;
}

int elfinfo_data_object = 5;

static char *tmp_path(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static bool write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool test_func_offset_holds_its_code(void)
{
	struct mo_elf *e = elf__open("/proc/self/exe");
	struct mo_elf_func f;
	unsigned char file[32];
	Dl_info info;

	ASSERT_TRUE(e, "open self: %s", strerror(errno));
	ASSERT_EQ(elf__func(e, "elfinfo_target", &f), 0);
	ASSERT_TRUE(f.size >= 8, "size %llu", (unsigned long long)f.size);
	/* st_value is the address less the load bias. */
	ASSERT_TRUE(dladdr((void *)elfinfo_target, &info), "dladdr");
	ASSERT_EQ(f.addr, (uintptr_t)elfinfo_target - (uintptr_t)info.dli_fbase);
	/* The bytes at the file offset are the function's bytes in memory. */
	ASSERT_EQ(elf__read(e, f.offset, file, sizeof(file)), sizeof(file));
	ASSERT_TRUE(!memcmp(file, (const void *)elfinfo_target, sizeof(file)), "code at offset 0x%llx",
		    (unsigned long long)f.offset);
	ASSERT_EQ(elfinfo_target(1), 10);

	/* Not functions, or not defined here. */
	ASSERT_EQ(elf__func(e, "elfinfo_no_such_function", &f), -ENOENT);
	ASSERT_EQ(elf__func(e, "elfinfo_data_object", &f), -ENOENT);
	ASSERT_EQ(elf__func(e, "cJSON_Parse", &f), -ENOENT);	/* imported */
	ASSERT_EQ(elf__func(e, "elfinfo_targe", &f), -ENOENT);
	/* Reads past the end: nothing, or what there is. */
	ASSERT_EQ(elf__read(e, 1ull << 40, file, sizeof(file)), 0);
	elf__free(e);
	return true;
}

/* The build id as the loader mapped it: the main program's PT_NOTE. */
static int note_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	char *hex = arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;

		if (ph->p_type != PT_NOTE)
			continue;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const unsigned char *desc = (const unsigned char *)p + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u);

			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(p + sizeof(*nh), "GNU", 4)) {
				for (unsigned j = 0; j < nh->n_descsz; j++)
					sprintf(hex + 2 * j, "%02x", desc[j]);
				return 1;
			}
			p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 1;	/* the first object is the main program */
}

static bool test_build_id(void)
{
	struct mo_elf *e = elf__open("/proc/self/exe");
	char id[64], mapped[64] = "";

	ASSERT_TRUE(e, "open self");
	ASSERT_EQ(elf__build_id(e, id, sizeof(id)), 0);
	ASSERT_EQ(strlen(id), 40);
	ASSERT_EQ(strspn(id, "0123456789abcdef"), 40);
	dl_iterate_phdr(note_cb, mapped);
	ASSERT_STR_EQ(id, mapped);
	/* 41 bytes are needed; 40 is too few. */
	ASSERT_EQ(elf__build_id(e, id, 41), 0);
	ASSERT_EQ(elf__build_id(e, id, 40), -ENOENT);
	elf__free(e);
	return true;
}

static bool test_dynamic_program(void)
{
	struct mo_elf *e = elf__open("/proc/self/exe");
	char interp[256], small[8];
	int cls, mach;

	ASSERT_TRUE(e, "open self");
	ASSERT_TRUE(!elf__is_static(e), "dynamically linked");
	ASSERT_EQ(elf__interp(e, interp, sizeof(interp)), 0);
	ASSERT_TRUE(interp[0] == '/' && strstr(interp, "ld-linux"), "interpreter %s", interp);
	ASSERT_TRUE(!access(interp, X_OK), "the interpreter exists");
	/* A small buffer: cut, terminated. */
	ASSERT_EQ(elf__interp(e, small, sizeof(small)), 0);
	ASSERT_EQ(strlen(small), sizeof(small) - 1);
	ASSERT_TRUE(!strncmp(small, interp, sizeof(small) - 1), "prefix");
	ASSERT_EQ(elf__machine(e, &cls, &mach), 0);
	ASSERT_EQ(cls, ELFCLASS64);
	ASSERT_EQ(mach, EM_X86_64);
	elf__free(e);
	return true;
}

static void collect(int64_t tag, const char *str, void *arg)
{
	char *out = arg;

	if (tag == DT_NEEDED) {
		strcat(out, str);
		strcat(out, " ");
	}
}

static bool test_dyn_strings(void)
{
	struct mo_elf *e = elf__open("/proc/self/exe");
	char needed[4096] = "";
	int n;

	ASSERT_TRUE(e, "open self");
	n = elf__dyn_strings(e, collect, needed);
	ASSERT_TRUE(n >= 2, "%d entries", n);
	ASSERT_TRUE(strstr(needed, "libc.so.6 "), "needs libc: %s", needed);
	ASSERT_TRUE(strstr(needed, "libcjson.so"), "needs libcjson: %s", needed);
	elf__free(e);
	return true;
}

static bool test_usdt(void)
{
	struct mo_elf *e = elf__open("/proc/self/exe");

	ASSERT_TRUE(e, "open self");
	ASSERT_TRUE(elf__has_usdt(e, "memobs"), "the MEMOBS_MARK in this test");
	ASSERT_TRUE(!elf__has_usdt(e, "nope"), "no provider nope");
	ASSERT_TRUE(!elf__has_usdt(e, "memob"), "a prefix is another provider");
	ASSERT_TRUE(!elf__has_usdt(e, "memobsx"), "so is a longer name");
	ASSERT_TRUE(!elf__has_usdt(e, ""), "empty provider");
	elf__free(e);
	return true;
}

/* A minimal static executable: ELF header, one PT_LOAD, a ret; no
 * interpreter, no sections. */
static bool test_static_file(void)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
		unsigned char code[4];
	} f = { 0 };
	struct mo_elf_func fn;
	char buf[64];
	struct mo_elf *e;
	int cls, mach;

	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_ident[EI_VERSION] = EV_CURRENT;
	f.eh.e_type = ET_EXEC;
	f.eh.e_machine = EM_X86_64;
	f.eh.e_version = EV_CURRENT;
	f.eh.e_entry = 0x400000 + offsetof(typeof(f), code);
	f.eh.e_phoff = offsetof(typeof(f), ph);
	f.eh.e_ehsize = sizeof(f.eh);
	f.eh.e_phentsize = sizeof(f.ph);
	f.eh.e_phnum = 1;
	f.ph.p_type = PT_LOAD;
	f.ph.p_flags = PF_R | PF_X;
	f.ph.p_vaddr = 0x400000;
	f.ph.p_filesz = f.ph.p_memsz = sizeof(f);
	f.ph.p_align = 0x1000;
	f.code[0] = 0xc3;
	ASSERT_TRUE(write_file(tmp_path("static"), &f, sizeof(f)), "write");
	e = elf__open(tmp_path("static"));
	ASSERT_TRUE(e, "open: %s", strerror(errno));
	ASSERT_TRUE(elf__is_static(e), "no PT_INTERP: static");
	ASSERT_EQ(elf__interp(e, buf, sizeof(buf)), -ENOENT);
	ASSERT_EQ(elf__build_id(e, buf, sizeof(buf)), -ENOENT);
	ASSERT_TRUE(!elf__has_usdt(e, "memobs"), "no notes");
	ASSERT_EQ(elf__func(e, "main", &fn), -ENOENT);
	ASSERT_EQ(elf__dyn_strings(e, collect, buf), 0);
	ASSERT_EQ(elf__machine(e, &cls, &mach), 0);
	ASSERT_EQ(mach, EM_X86_64);
	elf__free(e);
	return true;
}

static bool test_not_elf(void)
{
	static const char text[] = "#!/bin/sh\necho not an ELF file\n";
	unsigned char head[200];
	struct mo_elf_func fn;
	char buf[64];
	struct mo_elf *e;
	int fd;

	ASSERT_TRUE(write_file(tmp_path("script"), text, sizeof(text) - 1), "write");
	errno = 0;
	ASSERT_TRUE(!elf__open(tmp_path("script")), "a script");
	ASSERT_EQ(errno, ENOEXEC);
	ASSERT_TRUE(write_file(tmp_path("empty"), "", 0), "write");
	errno = 0;
	ASSERT_TRUE(!elf__open(tmp_path("empty")), "an empty file");
	ASSERT_EQ(errno, ENOEXEC);
	errno = 0;
	ASSERT_TRUE(!elf__open(tmp_path("missing")), "no file");
	ASSERT_EQ(errno, ENOENT);
	elf__free(NULL);

	/* This binary cut after 200 bytes: headers that point past the end.
	 * Whatever opens answers "none", and nothing reads out of bounds. */
	fd = open("/proc/self/exe", O_RDONLY);
	ASSERT_TRUE(fd >= 0 && read(fd, head, sizeof(head)) == sizeof(head), "read self");
	close(fd);
	ASSERT_TRUE(write_file(tmp_path("cut"), head, sizeof(head)), "write");
	e = elf__open(tmp_path("cut"));
	ASSERT_TRUE(e, "the ELF header is whole");
	ASSERT_EQ(elf__func(e, "elfinfo_target", &fn), -ENOENT);
	ASSERT_EQ(elf__build_id(e, buf, sizeof(buf)), -ENOENT);
	ASSERT_TRUE(!elf__has_usdt(e, "memobs"), "no notes");
	elf__is_static(e);
	elf__interp(e, buf, sizeof(buf));
	elf__free(e);
	return true;
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_elfinfo.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	RUN(test_func_offset_holds_its_code);
	RUN(test_build_id);
	RUN(test_dynamic_program);
	RUN(test_dyn_strings);
	RUN(test_usdt);
	RUN(test_static_file);
	RUN(test_not_elf);
	unlink(tmp_path("static"));
	unlink(tmp_path("script"));
	unlink(tmp_path("empty"));
	unlink(tmp_path("cut"));
	rmdir(tmpdir);
	return check_summary();
}
