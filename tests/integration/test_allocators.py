"""memobs --heap probes the allocator a program really calls: each one Debian
packages (jemalloc linked, preloaded, statically linked and je_-prefixed;
tcmalloc; mimalloc; musl dynamic and static), glibc's static malloc, and
libraries resolved inside another root and mount namespace.

tests/progs/alloc_shape.c is built here into a temp dir against each one and
run twice in one session: with N = 0 (start-up only) and with N. The second
process minus the first must be the program's exact shape (bytes, calls,
frees, live bytes); the first, the start-up noise, stays under 64 KiB, plus
the emergency exception pool libstdc++ takes with malloc when it loads
(jemalloc and tcmalloc depend on libstdc++). Needs root."""
import os
import re
import shutil
import subprocess

from harness import ROOT, in_tmp, memobs, run_tests

SRC = os.path.join(ROOT, "tests", "progs", "alloc_shape.c")
CFLAGS = ["-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline", "-Wall", "-Wextra", "-Werror"]
N = 2000            # 2 N malloc/calloc + 2 N free: 8000 traps at most, well under a second
KiB = 1024
NOISE = 64 * KiB
# GCC 12's libstdc++ (eh_alloc.cc) mallocs its emergency pool at load:
# 64 objects of 1 KiB + 64 dependent exceptions of 112 bytes.
EH_POOL = 64 * 1024 + 64 * 112
LIBDIR = "/usr/lib/x86_64-linux-gnu"

# A je_-prefixed jemalloc API over Debian's jemalloc (its *allocx calls are
# not probed, so the je_ probes alone see the program's calls).
JE_SHIM = r"""
#include <errno.h>
#include <jemalloc/jemalloc.h>
void *je_malloc(size_t n) { return mallocx(n, 0); }
void *je_calloc(size_t n, size_t s) { return mallocx(n * s, MALLOCX_ZERO); }
void *je_realloc(void *p, size_t n) { return p ? rallocx(p, n, 0) : mallocx(n, 0); }
int je_posix_memalign(void **pp, size_t a, size_t n)
{ *pp = mallocx(n, MALLOCX_ALIGN(a)); return *pp ? 0 : ENOMEM; }
void *je_aligned_alloc(size_t a, size_t n) { return mallocx(n, MALLOCX_ALIGN(a)); }
void je_free(void *p) { if (p) dallocx(p, 0); }
"""


def need(path, package):
    assert os.path.exists(path), "%s missing: install %s (scripts/install-deps.sh)" % (path, package)


def build(tmp, name, cc="cc", flags=(), extra=()):
    exe = os.path.join(tmp, name)
    proc = subprocess.run([cc] + CFLAGS + [SRC] + list(extra) + ["-o", exe] + list(flags),
                          capture_output=True, text=True)
    assert proc.returncode == 0, "cannot build %s: %s" % (name, proc.stderr)
    return exe


def observe(what, exe, launch="", cxx=False, malloc_from=None):
    """Run `launch exe 0; launch exe N` under memobs --heap and check the
    difference against the shape the program prints."""
    name = os.path.basename(exe)
    script = "%s %s 0 && %s %s %d" % (launch, exe, launch, exe, N)
    proc, doc = memobs(["-q", "--heap"], ["sh", "-c", script], check_rc=0, timeout=900)
    shapes = [tuple(map(int, m)) for m in
              re.findall(r"expect_alloc_bytes (\d+) expect_alloc_count (\d+) expect_live (\d+)", proc.stdout)]
    owners = re.findall(r"malloc_from (\S+)", proc.stdout)
    assert len(shapes) == 2 and shapes[0] == (0, 0, 0), proc.stdout
    want_bytes, want_count, want_live = shapes[1]
    if malloc_from:
        assert all(re.search(malloc_from, o) for o in owners), (owners, malloc_from)
    runs = {p["argv"][-1]: p for p in doc["processes"] if p["comm"] == name[:15] and p["argv"]}
    assert set(runs) >= {"0", str(N)}, [(p["comm"], p["argv"]) for p in doc["processes"]]
    base, run = runs["0"]["heap"], runs[str(N)]["heap"]
    got = {k: run[k] - base[k] for k in ("alloc_bytes", "alloc_count", "free_bytes", "free_count", "live")}
    print("# %s: alloc_bytes %d (expected %d), alloc_count %d (expected %d), live %d (expected %d); "
          "start-up noise %d bytes in %d calls" % (what, got["alloc_bytes"], want_bytes, got["alloc_count"],
                                                   want_count, got["live"], want_live, base["alloc_bytes"],
                                                   base["alloc_count"]))
    assert runs["0"]["heap_probed"] is True and runs[str(N)]["heap_probed"] is True
    assert got["alloc_bytes"] == want_bytes, (what, got, shapes[1])
    assert got["alloc_count"] == want_count, (what, got, shapes[1])
    # every block but the live one is freed: by free, or by the realloc that moves it
    assert got["free_bytes"] == want_bytes - want_live, (what, got)
    assert got["free_count"] == want_count - 1, (what, got)
    assert got["live"] == want_live, (what, got)
    assert run["free_unknown_count"] == 0 and base["free_unknown_count"] == 0, (run, base)
    assert 0 <= base["alloc_bytes"] < NOISE + (EH_POOL if cxx else 0), (what, "start-up noise", base)
    assert doc["drops"]["events"] == 0, doc["drops"]
    return doc


@in_tmp
def test_glibc(tmp):
    observe("glibc", build(tmp, "shape_glibc"), malloc_from=r"/libc\.so\.6$")


@in_tmp
def test_glibc_static(tmp):
    exe = build(tmp, "shape_glibc_st", flags=["-static"])
    doc = observe("glibc static", exe, malloc_from="^%s$" % re.escape(exe))
    # the probe names the binary itself, not the /proc/PID/exe link it was attached through
    files = {p["file"] for p in doc["heap_probes"]}
    assert exe in files and not any(f.startswith("/proc/") for f in files), files


@in_tmp
def test_musl_dynamic(tmp):
    need("/usr/bin/musl-gcc", "musl-tools")
    observe("musl", build(tmp, "shape_musl", cc="musl-gcc"), malloc_from=r"x86_64-linux-musl/libc\.so$")


@in_tmp
def test_musl_static(tmp):
    need("/usr/bin/musl-gcc", "musl-tools")
    exe = build(tmp, "shape_musl_st", cc="musl-gcc", flags=["-static"])
    observe("musl static", exe, malloc_from="^%s$" % re.escape(exe))


@in_tmp
def test_jemalloc_linked(tmp):
    need(LIBDIR + "/libjemalloc.so", "libjemalloc-dev")
    observe("jemalloc", build(tmp, "shape_je", flags=["-ljemalloc"]), cxx=True,
            malloc_from=r"/libjemalloc\.so\.2$")


@in_tmp
def test_jemalloc_preloaded(tmp):
    need(LIBDIR + "/libjemalloc.so.2", "libjemalloc2")
    observe("jemalloc LD_PRELOAD", build(tmp, "shape_je_pre"), launch="LD_PRELOAD=libjemalloc.so.2", cxx=True,
            malloc_from=r"/libjemalloc\.so\.2$")


@in_tmp
def test_jemalloc_static(tmp):
    need(LIBDIR + "/libjemalloc_pic.a", "libjemalloc-dev")
    exe = build(tmp, "shape_je_st", flags=["-Wl,-Bstatic", "-ljemalloc_pic", "-Wl,-Bdynamic", "-lstdc++", "-lm"])
    observe("jemalloc static", exe, cxx=True, malloc_from="^%s$" % re.escape(exe))


@in_tmp
def test_jemalloc_je_prefix(tmp):
    need(LIBDIR + "/libjemalloc.so", "libjemalloc-dev")
    shim = os.path.join(tmp, "je_shim.c")
    with open(shim, "w") as f:
        f.write(JE_SHIM)
    exe = build(tmp, "shape_je_pfx", flags=["-DALLOC_PREFIX=je_", "-ljemalloc"], extra=[shim])
    observe("jemalloc je_ prefix", exe, cxx=True, malloc_from="^%s$" % re.escape(exe))


@in_tmp
def test_tcmalloc(tmp):
    need(LIBDIR + "/libtcmalloc_minimal.so", "libgoogle-perftools-dev")
    observe("tcmalloc", build(tmp, "shape_tc", flags=["-ltcmalloc_minimal"]), cxx=True,
            malloc_from=r"/libtcmalloc_minimal\.so")


@in_tmp
def test_mimalloc(tmp):
    need(LIBDIR + "/libmimalloc.so", "libmimalloc-dev")
    observe("mimalloc", build(tmp, "shape_mi", flags=["-lmimalloc"]), malloc_from=r"/libmimalloc\.so")


def copy_libs(root, libs, libdir):
    os.makedirs(root + libdir, exist_ok=True)
    for lib in libs:
        shutil.copy2(os.path.realpath(os.path.join(libdir, lib)), root + libdir + "/" + lib)


@in_tmp
def test_other_mount_namespace(tmp):
    """A container: a new mount namespace rooted in a tree with its own copies
    of the libraries (other inodes than the host's), merged /lib, an absolute
    /lib64 symlink and no ld.so.cache. Only resolving inside /proc/PID/root
    finds the jemalloc the program really loads."""
    need(LIBDIR + "/libjemalloc.so", "libjemalloc-dev")
    root = os.path.join(tmp, "root")
    exe = build(tmp, "shape_ns", flags=["-ljemalloc"])
    copy_libs(root, ["libjemalloc.so.2", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1",
                     "ld-linux-x86-64.so.2"], LIBDIR)
    os.symlink("usr/lib", os.path.join(root, "lib"))
    os.makedirs(os.path.join(root, "lib64"))
    os.symlink(LIBDIR + "/ld-linux-x86-64.so.2", os.path.join(root, "lib64", "ld-linux-x86-64.so.2"))
    shutil.copy2(exe, os.path.join(root, "shape_ns"))
    observe("jemalloc in another mount namespace", "/shape_ns", launch="unshare -r -m --root=%s" % root,
            cxx=True)


@in_tmp
def test_chroot_musl(tmp):
    """A chroot (same mount namespace) where musl's interpreter is an absolute
    symlink to the root's own copy of musl's libc."""
    need("/usr/bin/musl-gcc", "musl-tools")
    root = os.path.join(tmp, "root")
    exe = build(tmp, "shape_chroot", cc="musl-gcc")
    musl = "/usr/lib/x86_64-linux-musl"
    copy_libs(root, ["libc.so"], musl)
    os.makedirs(os.path.join(root, "lib"))
    os.symlink(musl + "/libc.so", os.path.join(root, "lib", "ld-musl-x86_64.so.1"))
    shutil.copy2(exe, os.path.join(root, "shape_chroot"))
    observe("musl in a chroot", "/shape_chroot", launch="unshare -r --root=%s" % root)


if __name__ == "__main__":
    run_tests(globals())
