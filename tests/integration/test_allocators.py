"""memobs --heap counts the allocator a program really calls: each one Debian
packages (jemalloc linked, preloaded, statically linked and je_-prefixed;
tcmalloc; mimalloc; musl dynamic and static), glibc's static malloc, and
libraries resolved inside another root and mount namespace.

tests/progs/alloc_shape.c is built here into a temp dir against each one and
run twice: with N = 0 (start-up only) and with N. The second process minus
the first must be the program's exact shape (bytes, calls, frees, live
bytes); the first, the start-up noise, stays under 64 KiB, plus the
emergency exception pool libstdc++ takes with malloc when it loads (jemalloc
and tcmalloc depend on libstdc++).

Every build runs in ONE memobs --heap session (its processes counted in
process by the preloaded library where it loads: freed and live bytes are
then the allocator's usable sizes, which the program computes itself too;
by uprobes on the executable where its malloc is linked into it), and the
two container cases again in one --heap=uprobes session, where resolving
inside /proc/PID/root finds the allocator to probe. Needs root."""
import atexit
import os
import re
import shutil
import subprocess
import tempfile

from harness import ROOT, memobs, run_tests

SRC = os.path.join(ROOT, "tests", "progs", "alloc_shape.c")
CFLAGS = ["-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline", "-Wall", "-Wextra", "-Werror"]
N = 2000            # 2 N malloc/calloc + 2 N free: 8000 traps at most where uprobes count
KiB = 1024
NOISE = 64 * KiB
# GCC 12's libstdc++ (eh_alloc.cc) mallocs its emergency pool at load:
# 64 objects of 1 KiB + 64 dependent exceptions of 112 bytes.
EH_POOL = 64 * 1024 + 64 * 112
LIBDIR = "/usr/lib/x86_64-linux-gnu"
HEAP_LIB = r"/libmemobs-heap\.so$"

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


class Case:
    """One build: how it is launched, and what counts it. counted_by: the
    run document's heap.counted_by; malloc_from: the file the program's own
    malloc is in; allocator: in process, where the library's calls go on."""

    def __init__(self, what, exe, counted_by, malloc_from, allocator=None, launch="", cxx=False,
                 path=None):
        self.what, self.exe, self.counted_by = what, exe, counted_by
        self.malloc_from, self.allocator, self.launch, self.cxx = malloc_from, allocator, launch, cxx
        self.name = os.path.basename(path or exe)

    def script(self):
        return "%s %s 0 && %s %s %d" % (self.launch, self.exe, self.launch, self.exe, N)


def session(args, cases, extra=""):
    """Run every case's script in one memobs session: (stdout, document)."""
    script = " && ".join(c.script() for c in cases) + extra
    proc, doc = memobs(["-q"] + args, ["sh", "-c", script], check_rc=0, timeout=900)
    assert doc["drops"]["events"] == 0, doc["drops"]
    return proc.stdout, doc


def check(case, out, doc):
    """The process with N minus the one with 0 is the program's shape, on the
    basis its heap was counted on."""
    name = case.name
    shapes = [tuple(map(int, m)) for m in re.findall(
        r"^%s: expect_alloc_bytes (\d+) expect_alloc_count (\d+) expect_live (\d+)$" % re.escape(name), out, re.M)]
    usable = [tuple(map(int, m)) for m in re.findall(
        r"^%s: expect_usable_free (\d+) expect_usable_live (\d+)$" % re.escape(name), out, re.M)]
    owners = re.findall(r"^%s: malloc_from (\S+)$" % re.escape(name), out, re.M)
    assert len(shapes) == 2 and shapes[0] == (0, 0, 0) and len(usable) == 2, (case.what, out)
    want_bytes, want_count, want_live = shapes[1]
    # (in another root, /proc may not be mounted for the program to look)
    if case.malloc_from:
        assert owners and all(re.search(case.malloc_from, o) for o in owners), (case.what, owners, case.malloc_from)
    runs = {p["argv"][-1]: p for p in doc["processes"] if p["comm"] == name[:15] and p["argv"]}
    assert set(runs) >= {"0", str(N)}, (case.what, [(p["comm"], p["argv"]) for p in doc["processes"]])
    base, run = runs["0"]["heap"], runs[str(N)]["heap"]
    # (the start-up run makes no call of an allocator linked in: nothing probed fires)
    assert run["counted_by"] == case.counted_by, (case.what, run)
    for h in (base, run):
        if case.allocator:
            assert re.search(case.allocator, h["allocator"] or ""), (case.what, h["allocator"])
    if run["basis"] == "usable":
        want_free, want_live = usable[1][0], usable[1][1]
    else:   # the program's calls went to uprobes: requested bytes
        assert run["basis"] in ("requested", "mixed"), (case.what, run)
        want_free = want_bytes - want_live
    got = {k: run[k] - base[k] for k in ("alloc_bytes", "alloc_count", "free_bytes", "free_count", "live")}
    print("# %s (%s, %s): alloc_bytes %d (expected %d), alloc_count %d (expected %d), free_bytes %d "
          "(expected %d), live %d (expected %d); start-up noise %d bytes in %d calls"
          % (case.what, run["counted_by"], run["basis"], got["alloc_bytes"], want_bytes, got["alloc_count"],
             want_count, got["free_bytes"], want_free, got["live"], want_live, base["alloc_bytes"],
             base["alloc_count"]))
    assert runs["0"]["heap_probed"] is True and runs[str(N)]["heap_probed"] is True
    assert got["alloc_bytes"] == want_bytes, (case.what, got, shapes[1])
    assert got["alloc_count"] == want_count, (case.what, got, shapes[1])
    # every block but the live one is freed: by free, or by the realloc that moves it
    assert got["free_bytes"] == want_free, (case.what, got, want_free)
    assert got["free_count"] == want_count - 1, (case.what, got)
    assert got["live"] == want_live, (case.what, got, want_live)
    assert run["free_unknown_count"] == 0 and base["free_unknown_count"] == 0, (run, base)
    assert 0 <= base["alloc_bytes"] < NOISE + (EH_POOL if case.cxx else 0), (case.what, "start-up noise", base)


def copy_libs(root, libs, libdir):
    os.makedirs(root + libdir, exist_ok=True)
    for lib in libs:
        shutil.copy2(os.path.realpath(os.path.join(libdir, lib)), root + libdir + "/" + lib)


def container_cases(tmp):
    """A container: a new mount namespace rooted in a tree with its own copies
    of the libraries (other inodes than the host's), merged /lib, an absolute
    /lib64 symlink and no ld.so.cache; and a chroot (same mount namespace)
    where musl's interpreter is an absolute symlink to the root's own copy of
    musl's libc. Only resolving inside /proc/PID/root finds what they load."""
    root = os.path.join(tmp, "root")
    ns_exe = build(tmp, "shape_ns", flags=["-ljemalloc"])
    copy_libs(root, ["libjemalloc.so.2", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1",
                     "ld-linux-x86-64.so.2"], LIBDIR)
    os.symlink("usr/lib", os.path.join(root, "lib"))
    os.makedirs(os.path.join(root, "lib64"))
    os.symlink(LIBDIR + "/ld-linux-x86-64.so.2", os.path.join(root, "lib64", "ld-linux-x86-64.so.2"))
    shutil.copy2(ns_exe, os.path.join(root, "shape_ns"))
    croot = os.path.join(tmp, "croot")
    musl = "/usr/lib/x86_64-linux-musl"
    copy_libs(croot, ["libc.so"], musl)
    os.makedirs(os.path.join(croot, "lib"))
    os.symlink(musl + "/libc.so", os.path.join(croot, "lib", "ld-musl-x86_64.so.1"))
    shutil.copy2(build(tmp, "shape_chroot", cc="musl-gcc"), os.path.join(croot, "shape_chroot"))
    return [Case("jemalloc in another mount namespace", "/shape_ns", "uprobes", None,
                 launch="unshare -r -m --root=%s" % root, cxx=True),
            Case("musl in a chroot", "/shape_chroot", "uprobes", None, launch="unshare -r --root=%s" % croot)]


_shared = {}


def shared():
    """Build everything once; one --heap session for the builds, one
    --heap=uprobes session for the containers."""
    if _shared:
        return _shared
    for path, package in ((LIBDIR + "/libjemalloc.so", "libjemalloc-dev"), (LIBDIR + "/libjemalloc_pic.a",
                          "libjemalloc-dev"), (LIBDIR + "/libtcmalloc_minimal.so", "libgoogle-perftools-dev"),
                          (LIBDIR + "/libmimalloc.so", "libmimalloc-dev"), ("/usr/bin/musl-gcc", "musl-tools")):
        need(path, package)
    tmp = tempfile.mkdtemp(prefix="memobs-test-")
    os.chmod(tmp, 0o755)
    atexit.register(shutil.rmtree, tmp, True)
    shim = os.path.join(tmp, "je_shim.c")
    with open(shim, "w") as f:
        f.write(JE_SHIM)
    st = build(tmp, "shape_glibc_st", flags=["-static"])
    musl_st = build(tmp, "shape_musl_st", cc="musl-gcc", flags=["-static"])
    je_st = build(tmp, "shape_je_st", flags=["-Wl,-Bstatic", "-ljemalloc_pic", "-Wl,-Bdynamic", "-lstdc++", "-lm"])
    je_pfx = build(tmp, "shape_je_pfx", flags=["-DALLOC_PREFIX=je_", "-ljemalloc"], extra=[shim])
    je = r"/libjemalloc\.so\.2$"
    cases = {
        "glibc": Case("glibc", build(tmp, "shape_glibc"), "in-process", HEAP_LIB, r"/libc\.so\.6$"),
        "glibc_static": Case("glibc static", st, "uprobes", "^%s$" % re.escape(st)),
        "musl": Case("musl", build(tmp, "shape_musl", cc="musl-gcc"), "in-process", HEAP_LIB,
                     r"x86_64-linux-musl/libc\.so$"),
        "musl_static": Case("musl static", musl_st, "uprobes", "^%s$" % re.escape(musl_st)),
        "jemalloc": Case("jemalloc", build(tmp, "shape_je", flags=["-ljemalloc"]), "in-process", HEAP_LIB, je,
                         cxx=True),
        # appended to the user's LD_PRELOAD, as a well-behaved script does
        "jemalloc_preloaded": Case("jemalloc LD_PRELOAD", build(tmp, "shape_je_pre"), "in-process", HEAP_LIB, je,
                                   launch='LD_PRELOAD="$LD_PRELOAD libjemalloc.so.2"', cxx=True),
        # its own malloc comes first in lookup order: the library loads, counts nothing
        "jemalloc_static": Case("jemalloc static", je_st, "in-process+uprobes", "^%s$" % re.escape(je_st),
                                cxx=True),
        # its je_ calls to uprobes, stdio's malloc to the library
        "je_prefix": Case("jemalloc je_ prefix", je_pfx, "in-process+uprobes", "^%s$" % re.escape(je_pfx),
                          cxx=True),
        "tcmalloc": Case("tcmalloc", build(tmp, "shape_tc", flags=["-ltcmalloc_minimal"]), "in-process", HEAP_LIB,
                         r"/libtcmalloc_minimal\.so", cxx=True),
        "mimalloc": Case("mimalloc", build(tmp, "shape_mi", flags=["-lmimalloc"]), "in-process", HEAP_LIB,
                         r"/libmimalloc\.so"),
    }
    replaced = build(tmp, "shape_replaced")
    containers = container_cases(tmp)
    # Not observed, and said why: LD_PRELOAD replaced, the library outside the root.
    extra = " && LD_PRELOAD=libjemalloc.so.2 %s 1" % replaced + "".join(
        " && %s %s 1" % (c.launch, c.exe) for c in containers)
    _shared["cases"] = cases
    _shared["out"], _shared["doc"] = session(["--heap"], list(cases.values()), extra)
    _shared["containers"] = containers
    _shared["cout"], _shared["cdoc"] = session(["--heap=uprobes"], containers)
    return _shared


def case_test(key):
    def test():
        s = shared()
        check(s["cases"][key], s["out"], s["doc"])
    test.__name__ = "test_" + key
    return test


for _key in ("glibc", "glibc_static", "musl", "musl_static", "jemalloc", "jemalloc_preloaded", "jemalloc_static",
             "je_prefix", "tcmalloc", "mimalloc"):
    globals()["test_" + _key] = case_test(_key)


def test_glibc_static_probe_names_the_binary():
    # the probe names the binary itself, not the /proc/PID/exe link it was attached through
    exe = shared()["cases"]["glibc_static"].exe
    files = {p["file"] for p in shared()["doc"]["heap_probes"]}
    assert exe in files and not any(f.startswith("/proc/") for f in files), files


def test_other_mount_namespace():
    s = shared()
    check(s["containers"][0], s["cout"], s["cdoc"])


def test_chroot_musl():
    s = shared()
    check(s["containers"][1], s["cout"], s["cdoc"])


def test_unobserved_processes_say_why():
    """In process: a process whose LD_PRELOAD was replaced, and ones whose
    root lacks the library, are listed as not observed, with the reason."""
    doc = shared()["doc"]
    why = {p["comm"]: p["heap"]["unobserved"] for p in doc["processes"]
           if p["comm"] in ("shape_replaced", "shape_ns", "shape_chroot")}
    assert "dropped memobs's LD_PRELOAD" in why["shape_replaced"], why
    assert "not in its root" in why["shape_ns"] and "not in its root" in why["shape_chroot"], why
    for p in doc["processes"]:
        if p["comm"].startswith("shape_") and p["comm"] not in why:
            assert p["heap"]["unobserved"] is None, p


if __name__ == "__main__":
    run_tests(globals())
