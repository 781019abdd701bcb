// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/procfs.h"
#include "observe/heapwhy.h"
#include "probe/allocators.h"
#include "probe/elfinfo.h"
#include "probe/probeset.h"


const char heapwhy_no_handshake[] = "memobs's library never reported (it exited before memobs could tell why)";
const char heapwhy_no_report[] = "memobs's library never reported (it could not load, or the program "
				 "exited before its constructors ran)";
const char heapwhy_secure[] =
	"secure execution (setuid, setgid or file capabilities): the dynamic loader ignores LD_PRELOAD";

static const char go_heap[] =
	"the Go runtime's heap: Go allocates without malloc (only cgo's C calls are counted)";
static const char pymalloc_heap[] =
	"CPython's pymalloc arenas: objects of up to 512 bytes are not malloc calls (PYTHONMALLOC=malloc counts them)";

static void find_libpython(int64_t tag, const char *str, void *arg)
{
	if (tag == DT_NEEDED && !strncmp(str, "libpython", 9))
		*(bool *)arg = true;
}

void heapwhy_exe(const char *path, struct mo_exe_heap *out)
{
	struct mo_elf *elf = elf__open(path);
	struct mo_elf_func f;
	int elfclass, machine;
	bool libpython = false;

	*out = (struct mo_exe_heap){ .own_allocator = allocators_in_file(path) };
	if (!elf)
		return;
	out->is_static = elf__is_static(elf);
	out->other_class = !elf__machine(elf, &elfclass, &machine) && (elfclass != ELFCLASS64 || machine != EM_X86_64);
	if (elf__has_section(elf, ".go.buildinfo") || elf__has_section(elf, ".gopclntab"))
		out->unseen = go_heap;
	else if (!elf__func(elf, "PyObject_Malloc", &f) ||
		 (elf__dyn_strings(elf, find_libpython, &libpython) > 0 && libpython))
		out->unseen = pymalloc_heap;
	elf__free(elf);
}

/* The last value of name= in a NUL-separated environment, NULL if none. */
static const char *env_value(const char *env, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *found = NULL;

	for (size_t at = 0; at < len; at += strlen(env + at) + 1)
		if (!strncmp(env + at, name, nlen) && env[at + nlen] == '=')
			found = env + at + nlen + 1;
	return found;
}

/* Does LD_PRELOAD (split at spaces and colons, as ld.so does) name lib? */
static bool preloads(const char *preload, const char *lib)
{
	size_t n = strlen(lib), t;

	for (const char *p = preload; p && *p; p += t) {
		p += strspn(p, " :");
		t = strcspn(p, " :");
		if (t == n && !strncmp(p, lib, n))
			return true;
	}
	return false;
}

/* The judgement on an environment (NUL-separated, NULL: unknown) of a
 * process of exe in the root and network namespace of tgid. */
static const char *judge(pid_t tgid, const struct mo_exe_heap *exe, const char *env, size_t len, const char *heap_lib,
			 const char **unseen, bool *will_report)
{
	char path[4200], ns[64];
	const char *pymalloc;

	*unseen = exe ? exe->unseen : NULL;
	*will_report = false;
	if (exe && exe->other_class)
		return "not an x86-64 program: memobs's library cannot load in it";
	if (exe && exe->is_static)
		return exe->own_allocator ? NULL :
		       "a static executable with no malloc of its own memobs knows: LD_PRELOAD does not apply";
	*will_report = true;
	if (!env)
		return NULL;
	pymalloc = env_value(env, len, "PYTHONMALLOC");
	if (*unseen == pymalloc_heap && pymalloc && !strncmp(pymalloc, "malloc", 6))
		*unseen = NULL;
	*will_report = false;
	if (!preloads(env_value(env, len, "LD_PRELOAD"), heap_lib) || !env_value(env, len, "MEMOBS_HEAP_SOCK"))
		return "its environment dropped memobs's LD_PRELOAD (or MEMOBS_HEAP_SOCK)";
	snprintf(path, sizeof(path), "/proc/%d/root%s", tgid, heap_lib);
	if (!file_id_same_path(path, heap_lib))
		return "memobs's library is not in its root (a chroot or a container)";
	snprintf(ns, sizeof(ns), "/proc/%d/ns/net", tgid);
	if (!file_id_same_path(ns, "/proc/self/ns/net"))
		return "another network namespace: the library cannot reach memobs's socket";
	*will_report = true;
	return NULL;
}

const char *heapwhy_held(pid_t tgid, const struct mo_exe_heap *exe, const char *env, size_t len, const char *heap_lib,
			 const char **unseen, bool *will_report)
{
	return judge(tgid, exe, env, len, heap_lib, unseen, will_report);
}

const char *heapwhy_process(pid_t pid, const struct mo_exe_heap *exe, const char *heap_lib, const char **unseen,
			    bool *will_report)
{
	size_t len;
	char *env = procfs_environ(pid, &len);
	const char *why = judge(pid, exe, env, len, heap_lib, unseen, will_report);

	free(env);
	return why;
}
