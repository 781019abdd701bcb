// SPDX-License-Identifier: GPL-2.0
/* Which allocators a process will call: the dynamic linker's search replayed
 * (ldsearch) over a fake root of tiny libraries built here with the
 * compiler, glibc's ld.so.cache format, and the Debian-packaged allocators
 * (jemalloc, tcmalloc, mimalloc, musl) as they are installed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "probe/allocators.h"
#include "check.h"
#include "probe/ldcache.h"
#include "probe/ldsearch.h"

static char root[64];

/* A path whose file is gone when looked at again after its open, as
 * /proc/PID/exe is when its process exits in between: stat fails for it. */
static const char *gone_after_open;

int stat(const char *path, struct stat *st)
{
	if (gone_after_open && !strcmp(path, gone_after_open)) {
		errno = ENOENT;
		return -1;
	}
	return fstatat(AT_FDCWD, path, st, 0);
}

/* Run a shell command built like printf; true when it exits 0. Output is
 * kept for the log. */
static bool sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		printf("#   command failed (%d): %s\n", rc, cmd);
	return rc == 0;
}

static bool have(const char *path)
{
	return !access(path, R_OK);
}

/* A shared library with these function names, each `void *name(void)`:
 * only their symbols matter, nothing here runs them. */
static bool lib(const char *path, const char *funcs, const char *link)
{
	char src[4096] = "", one[128];
	const char *p = funcs;

	while (*p) {
		size_t n = strcspn(p, " ");

		snprintf(one, sizeof(one), "void *%.*s(void) { return 0; }\n", (int)n, p);
		strcat(src, one);
		p += n + (p[n] == ' ');
	}
	return sh("mkdir -p $(dirname %s) && printf '%%s' '%s' > %s.c && cc -shared -fPIC -fno-builtin -o %s %s.c %s",
		  path, src, path, path, path, link ? link : "");
}

/* A program (never run) linked with these flags. */
static bool prog(const char *path, const char *flags)
{
	return sh("mkdir -p $(dirname %s) && printf 'int main(void) { return 0; }\\n' > %s.c && cc -o %s %s.c %s",
		  path, path, path, path, flags);
}

static int resolve(struct mo_alloc_files *out, const char *exe, const char *exe_path, const char *llp,
		   const char *pre, bool secure)
{
	struct mo_ld_query q = {
		.root = root, .exe = exe, .exe_path = exe_path, .library_path = llp, .preload = pre, .secure = secure,
	};
	char err[512] = "";
	int ret = allocators_resolve(&q, out, err, sizeof(err));

	if (ret)
		printf("#   allocators_resolve(%s): %s\n", exe, err);
	return ret;
}

static const char *under_root(const char *path)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s%s", root, path);
	return buf[k];
}

/* The fake root: an application under /opt with RUNPATH $ORIGIN/../lib, a
 * library there that is an absolute symlink into the root's /usr/lib, and
 * an allocator found only through the system directories (no ld.so.cache). */
static bool build_root(void)
{
	const char *t = "x86_64-linux-gnu";
	char flags[1024];

	ASSERT_TRUE(mkdtemp(strcpy(root, "/tmp/mo-test-alloc.XXXXXX")), "mkdtemp: %s", strerror(errno));
	chmod(root, 0755);
	ASSERT_TRUE(lib(under_root("/build/libplain.so"), "malloc free calloc realloc", NULL), "%s", "");
	ASSERT_TRUE(sh("mkdir -p %s/usr/lib/%s && cp %s %s/usr/lib/%s/", root, t, under_root("/build/libplain.so"),
		       root, t), "%s", "");
	ASSERT_TRUE(sh("ln -s usr/lib %s/lib", root), "%s", "");
	/* libnoalloc needs libplain by its file name (no soname) */
	snprintf(flags, sizeof(flags), "-Wl,--no-as-needed -L%s/build -lplain -Wl,-soname,libnoalloc.so", root);
	ASSERT_TRUE(lib(under_root("/build/libnoalloc.so"), "helper", flags), "%s", "");
	ASSERT_TRUE(sh("mkdir -p %s/opt/app/lib && cp %s/build/libnoalloc.so %s/opt/app/lib/", root, root, root), "%s", "");
	/* libabs.so: an absolute symlink, to be followed inside the root */
	ASSERT_TRUE(sh("ln -s /usr/lib/%s/libplain.so %s/opt/app/lib/libabs.so", t, root), "%s", "");
	ASSERT_TRUE(sh("cd %s/build && cp libplain.so libabs.so", root), "%s", "");
	snprintf(flags, sizeof(flags),
		 "-Wl,--no-as-needed -L%s/build -Wl,-rpath-link,%s/build -lnoalloc -labs "
		 "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'", root, root);
	ASSERT_TRUE(prog(under_root("/opt/app/bin/prog"), flags), "%s", "");
	ASSERT_TRUE(lib(under_root("/build/libjepfx.so"), "je_malloc je_free je_calloc je_realloc", NULL), "%s", "");
	ASSERT_TRUE(lib(under_root("/build/libmionly.so"), "mi_malloc mi_free", NULL), "%s", "");
	ASSERT_TRUE(lib(under_root("/build/libtc.so"), "malloc free tc_malloc", NULL), "%s", "");
	ASSERT_TRUE(sh("mkdir -p %s/pre && cp %s/build/libjepfx.so %s/build/libmionly.so %s/build/libtc.so %s/pre/",
		       root, root, root, root, root), "%s", "");
	return true;
}

static bool test_runpath_origin_and_symlinks_in_root(void)
{
	struct mo_alloc_files out;
	char want[512];

	ASSERT_EQ(resolve(&out, under_root("/opt/app/bin/prog"), "/opt/app/bin/prog", NULL, NULL, false), 0);
	/* prog, libnoalloc, libabs (= libplain: one object), libc.so.6 not in the root */
	ASSERT_EQ(out.nobjects, 3);
	ASSERT_STR_EQ(out.missing, "libc.so.6");
	ASSERT_EQ(out.count, 1);
	snprintf(want, sizeof(want), "%s/usr/lib/x86_64-linux-gnu/libplain.so", root);
	ASSERT_STR_EQ(out.files[0].path, want);
	ASSERT_STR_EQ(out.files[0].prefix, "");
	ASSERT_STR_EQ(out.files[0].name, "other");
	ASSERT_TRUE(out.files[0].wins && !out.files[0].in_exe, "%s", "");
	return true;
}

static bool test_preload_order_and_prefixes(void)
{
	struct mo_alloc_files out;

	/* Preloads come right after the executable, before its DT_NEEDED. */
	ASSERT_EQ(resolve(&out, under_root("/opt/app/bin/prog"), "/opt/app/bin/prog", "/pre",
			  "libtc.so libjepfx.so:libmionly.so", false), 0);
	ASSERT_EQ(out.nobjects, 6);
	ASSERT_EQ(out.count, 4);
	ASSERT_STR_EQ(out.files[0].name, "tcmalloc");
	ASSERT_TRUE(out.files[0].wins, "%s", "");
	ASSERT_STR_EQ(out.files[1].prefix, "je_");
	ASSERT_STR_EQ(out.files[1].name, "jemalloc");
	ASSERT_TRUE(!out.files[1].wins, "%s", "");
	ASSERT_STR_EQ(out.files[2].prefix, "mi_");
	ASSERT_STR_EQ(out.files[2].name, "mimalloc");
	ASSERT_STR_EQ(out.files[3].name, "other");
	ASSERT_TRUE(!out.files[3].wins, "%s", "");
	/* A path with a slash, relative to nothing but the root. */
	ASSERT_EQ(resolve(&out, under_root("/opt/app/bin/prog"), "/opt/app/bin/prog", NULL, "/pre/libtc.so", false), 0);
	ASSERT_EQ(out.count, 2);
	ASSERT_STR_EQ(out.files[0].name, "tcmalloc");
	/* A set-user-ID run: no LD_LIBRARY_PATH, no preload path with a slash. */
	ASSERT_EQ(resolve(&out, under_root("/opt/app/bin/prog"), "/opt/app/bin/prog", "/pre", "libtc.so", true), 0);
	ASSERT_STR_EQ(out.missing, "libtc.so");
	ASSERT_EQ(out.count, 1);
	ASSERT_STR_EQ(out.files[0].name, "other");
	return true;
}

/* glibc: DT_RPATH before LD_LIBRARY_PATH, DT_RUNPATH after it. Two
 * libsame.so: /dira's defines malloc, /dirb's je_malloc. */
static bool test_rpath_before_and_runpath_after_library_path(void)
{
	struct mo_alloc_files out;
	char flags[512];

	ASSERT_TRUE(lib(under_root("/dira/libsame.so"), "malloc free", "-Wl,-soname,libsame.so"), "%s", "");
	ASSERT_TRUE(lib(under_root("/dirb/libsame.so"), "je_malloc je_free", "-Wl,-soname,libsame.so"), "%s", "");
	snprintf(flags, sizeof(flags), "-Wl,--no-as-needed -L%s/dira -lsame -Wl,--disable-new-dtags,-rpath,/dira", root);
	ASSERT_TRUE(prog(under_root("/bin/rpath"), flags), "%s", "");
	snprintf(flags, sizeof(flags), "-Wl,--no-as-needed -L%s/dira -lsame -Wl,--enable-new-dtags,-rpath,/dira", root);
	ASSERT_TRUE(prog(under_root("/bin/runpath"), flags), "%s", "");
	ASSERT_EQ(resolve(&out, under_root("/bin/rpath"), "/bin/rpath", "/dirb", NULL, false), 0);
	ASSERT_EQ(out.count, 1);
	ASSERT_STR_EQ(out.files[0].prefix, "");
	ASSERT_EQ(resolve(&out, under_root("/bin/runpath"), "/bin/runpath", "/dirb", NULL, false), 0);
	ASSERT_EQ(out.count, 1);
	ASSERT_STR_EQ(out.files[0].prefix, "je_");
	ASSERT_EQ(resolve(&out, under_root("/bin/runpath"), "/bin/runpath", NULL, NULL, false), 0);
	ASSERT_STR_EQ(out.files[0].prefix, "");
	return true;
}

/* musl: the interpreter is the C library and answers libc.so and its
 * siblings; other names come from /etc/ld-musl-ARCH.path. The interpreter
 * is an absolute symlink, followed inside the root. */
static bool test_musl_interp_is_libc(void)
{
	struct mo_alloc_files out;
	char flags[512];

	ASSERT_TRUE(sh("mkdir -p %s/usr/lib/musl %s/custom %s/etc && cp %s/build/libplain.so %s/usr/lib/musl/libc.so",
		       root, root, root, root, root), "%s", "");
	ASSERT_TRUE(sh("ln -s /usr/lib/musl/libc.so %s/lib/ld-musl-x86_64.so.1", root), "%s", "");
	ASSERT_TRUE(sh("cp %s/build/libmionly.so %s/custom/ && printf '/nowhere\\n/custom\\n' > %s/etc/ld-musl-x86_64.path",
		       root, root, root), "%s", "");
	snprintf(flags, sizeof(flags), "-Wl,--no-as-needed -L%s/build -lmionly -lm -Wl,--dynamic-linker=/lib/ld-musl-x86_64.so.1",
		 root);
	ASSERT_TRUE(prog(under_root("/bin/muslish"), flags), "%s", "");
	ASSERT_EQ(resolve(&out, under_root("/bin/muslish"), "/bin/muslish", NULL, NULL, false), 0);
	ASSERT_STR_EQ(out.missing, "");
	ASSERT_EQ(out.nobjects, 3);	/* muslish, libmionly, the interpreter (libm, libc: itself) */
	ASSERT_EQ(out.count, 2);
	ASSERT_STR_EQ(out.files[0].prefix, "mi_");
	ASSERT_STR_EQ(out.files[1].path, under_root("/usr/lib/musl/libc.so"));
	ASSERT_STR_EQ(out.files[1].name, "musl");
	ASSERT_TRUE(out.files[1].wins, "%s", "");
	return true;
}

static bool test_bad_executables(void)
{
	struct mo_alloc_files out;
	struct mo_ld_query q = { .root = "", .exe = "/no/such/file" };
	char err[512];

	ASSERT_EQ(allocators_resolve(&q, &out, err, sizeof(err)), -ENOENT);
	ASSERT_STR_EQ(err, "cannot read /no/such/file: No such file or directory");
	ASSERT_TRUE(sh("printf 'not elf' > %s/text", root), "%s", "");
	q.exe = under_root("/text");
	ASSERT_EQ(allocators_resolve(&q, &out, err, sizeof(err)), -ENOEXEC);
	ASSERT_TRUE(strstr(err, "not an ELF file"), "%s", err);
	ASSERT_EQ(out.count, 0);
	return true;
}

/* A process that exits while memobs reads its /proc/PID/exe (its exec seen
 * late) is gone, which the callers pass over, not "not an ELF file", which
 * they put in the run's warnings. */
static bool test_exe_gone_while_read(void)
{
	struct mo_alloc_files out;
	struct mo_ld_query q = { .root = "", .exe = "/proc/self/exe" };
	char err[512];
	int ret;

	gone_after_open = q.exe;
	ret = allocators_resolve(&q, &out, err, sizeof(err));
	gone_after_open = NULL;
	ASSERT_EQ(ret, -ENOENT);
	ASSERT_TRUE(!strstr(err, "not an ELF file"), "%s", err);
	return true;
}

/* A glibc-style cache: old table first, then the new format at 8-byte
 * alignment; strings count from the new header. */
static bool write_cache(const char *path, bool old_first)
{
	char buf[512] = { 0 };
	size_t base = 0, at;
	uint32_t v;
	FILE *f;

	if (old_first) {
		memcpy(buf, "ld.so-1.7.0", 11);
		v = 1;
		memcpy(buf + 12, &v, 4);
		base = (16 + 12 + 7) & ~7;
	}
	memcpy(buf + base, "glibc-ld.so.cache1.1", 20);
	v = 3;
	memcpy(buf + base + 20, &v, 4);
	at = base + 48;
	/* flags, key, value, osversion, hwcap: the hwcaps entry is skipped */
	{
		uint32_t e[3][4] = { { 0x303, 200, 210, 0 }, { 0x303, 200, 230, 0 }, { 0x303, 250, 260, 0 } };
		uint64_t hw[3] = { 1ull << 62, 0, 0 };

		for (int i = 0; i < 3; i++) {
			memcpy(buf + at, e[i], 16);
			memcpy(buf + at + 16, &hw[i], 8);
			at += 24;
		}
	}
	strcpy(buf + base + 200, "libx.so.1");
	strcpy(buf + base + 210, "/hw/libx.so.1");
	strcpy(buf + base + 230, "/lib/libx.so.1");
	strcpy(buf + base + 250, "liby.so");
	strcpy(buf + base + 260, "/usr/lib/liby.so");
	f = fopen(path, "w");
	if (!f)
		return false;
	fwrite(buf, 1, base + 280, f);
	return !fclose(f);
}

static bool test_ldcache_formats(void)
{
	for (int old = 0; old < 2; old++) {
		struct mo_ldcache *c;
		size_t it = 0;

		ASSERT_TRUE(write_cache(under_root("/cache"), old), "%s", "");
		c = ldcache__open(under_root("/cache"));
		ASSERT_TRUE(c, "old=%d: %s", old, strerror(errno));
		ASSERT_STR_EQ(ldcache__find(c, "libx.so.1", &it), "/lib/libx.so.1");
		ASSERT_TRUE(!ldcache__find(c, "libx.so.1", &it), "%s", "");
		it = 0;
		ASSERT_STR_EQ(ldcache__find(c, "liby.so", &it), "/usr/lib/liby.so");
		it = 0;
		ASSERT_TRUE(!ldcache__find(c, "libz.so", &it), "%s", "");
		ldcache__free(c);
	}
	ASSERT_TRUE(sh("head -c 60 %s/cache > %s/cache.short", root, root), "%s", "");
	ASSERT_TRUE(!ldcache__open(under_root("/cache.short")) && errno == EINVAL, "%s", "");
	ASSERT_TRUE(!ldcache__open(under_root("/no-cache")) && errno == ENOENT, "%s", "");
	return true;
}

static bool test_ldcache_of_this_system(void)
{
	struct mo_ldcache *c = ldcache__open("/etc/ld.so.cache");
	const char *libc;
	size_t it = 0;

	ASSERT_TRUE(c, "/etc/ld.so.cache: %s", strerror(errno));
	libc = ldcache__find(c, "libc.so.6", &it);
	ASSERT_TRUE(libc && have(libc), "libc.so.6 -> %s", libc ? libc : "(none)");
	ldcache__free(c);
	return true;
}

#define JE "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"

struct real_case {
	const char *what, *cc, *flags, *preload;
	const char *names[3];	/* expected allocators, in lookup order */
	bool in_exe;		/* the first one is linked into the executable */
	const char *needs;	/* a file the case needs installed */
};

/* Debian's allocators as installed (scripts/install-deps.sh). */
static bool test_debian_allocators(void)
{
	static const struct real_case cases[] = {
		{ "glibc", "cc", "", NULL, { "glibc" }, false, NULL },
		{ "glibc static", "cc", "-static", NULL, { "glibc" }, true, NULL },
		{ "jemalloc", "cc", "-ljemalloc", NULL, { "jemalloc", "glibc" }, false, JE },
		{ "jemalloc preloaded", "cc", "", "libjemalloc.so.2", { "jemalloc", "glibc" }, false, JE },
		{ "jemalloc static", "cc", "-Wl,-Bstatic -ljemalloc_pic -Wl,-Bdynamic -lstdc++ -lm",
		  NULL, { "jemalloc", "glibc" }, true, "/usr/lib/x86_64-linux-gnu/libjemalloc_pic.a" },
		{ "tcmalloc", "cc", "-ltcmalloc_minimal", NULL, { "tcmalloc", "glibc" }, false,
		  "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so" },
		{ "mimalloc", "cc", "-lmimalloc", NULL, { "mimalloc", "glibc" }, false,
		  "/usr/lib/x86_64-linux-gnu/libmimalloc.so" },
		{ "musl", "musl-gcc", "", NULL, { "musl" }, false, "/usr/bin/musl-gcc" },
		{ "musl static", "musl-gcc", "-static", NULL, { "musl" }, true, "/usr/bin/musl-gcc" },
	};
	char exe[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct real_case *c = &cases[i];
		struct mo_ld_query q = { .root = "", .exe = exe, .preload = c->preload };
		struct mo_alloc_files out;
		char err[512];
		size_t n = 0;

		ASSERT_TRUE(!c->needs || have(c->needs), "%s: %s missing: run scripts/install-deps.sh", c->what, c->needs);
		snprintf(exe, sizeof(exe), "%s/real%zu", root, i);
		ASSERT_TRUE(sh("printf '#include <stdlib.h>\\nint main(void) { free(malloc(1)); return 0; }\\n' > %s.c && "
			       "%s -o %s %s.c %s", exe, c->cc, exe, exe, c->flags), "%s", c->what);
		ASSERT_EQ(allocators_resolve(&q, &out, err, sizeof(err)), 0);
		ASSERT_STR_EQ(out.missing, "");
		while (n < 3 && c->names[n])
			n++;
		ASSERT_TRUE(out.count == n, "%s: %zu allocators, expected %zu", c->what, out.count, n);
		for (size_t k = 0; k < n; k++) {
			ASSERT_STR_EQ(out.files[k].name, c->names[k]);
			ASSERT_STR_EQ(out.files[k].prefix, "");
			ASSERT_TRUE(out.files[k].wins == (k == 0), "%s: %s wins", c->what, out.files[k].name);
			ASSERT_TRUE(out.files[k].in_exe == (k == 0 && c->in_exe), "%s: %s in_exe", c->what,
				    out.files[k].name);
		}
		ASSERT_TRUE(!c->in_exe || !strcmp(out.files[0].path, exe), "%s: %s", c->what, out.files[0].path);
	}
	ASSERT_STR_EQ(allocators_family(JE, "", false), "jemalloc");
	return true;
}

/* A live process: environment, cwd and root read from /proc. */
static bool test_for_exe_reads_proc(void)
{
	char *argv[] = { "sleep", "30", NULL };
	char *envp[] = { "LD_PRELOAD=libjemalloc.so.2", "LD_LIBRARY_PATH=/nowhere", NULL };
	struct mo_alloc_files out;
	char exe[64], link[256], err[512];
	bool ok = true;
	pid_t pid;
	int ret = -1;

	ASSERT_TRUE(have(JE), "%s missing: run scripts/install-deps.sh", JE);
	pid = fork();
	if (pid == 0) {
		execve("/bin/sleep", argv, envp);
		_exit(127);
	}
	ASSERT_TRUE(pid > 0, "%s", "");
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	for (int i = 0; i < 500; i++) {
		ssize_t n = readlink(exe, link, sizeof(link) - 1);

		link[n > 0 ? n : 0] = 0;
		if (strstr(link, "sleep"))
			break;
		usleep(10000);
	}
	ret = allocators_for_exe(pid, exe, &out, err, sizeof(err));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ASSERT_TRUE(ret == 0, "%s", err);
	ok = out.count == 2 && !strcmp(out.files[0].name, "jemalloc") && !strcmp(out.files[0].path, JE) &&
	     out.files[0].wins && !strcmp(out.files[1].name, "glibc");
	ASSERT_TRUE(ok, "%zu allocators, first %s", out.count, out.count ? out.files[0].path : "-");
	return true;
}

int main(void)
{
	bool built = build_root();

	printf("%s - build_root\n", built ? "ok" : "not ok");
	if (!built)
		return 1;
	RUN(test_runpath_origin_and_symlinks_in_root);
	RUN(test_preload_order_and_prefixes);
	RUN(test_rpath_before_and_runpath_after_library_path);
	RUN(test_musl_interp_is_libc);
	RUN(test_bad_executables);
	RUN(test_exe_gone_while_read);
	RUN(test_ldcache_formats);
	RUN(test_ldcache_of_this_system);
	RUN(test_debian_allocators);
	RUN(test_for_exe_reads_proc);
	if (!check_failed)
		sh("rm -rf %s", root);
	return check_summary();
}
