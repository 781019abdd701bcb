"""In-process heap counting's hard cases (issue 14), in ONE memobs --heap
session: tests/progs/heap_cases counts its own calls on the library's basis
(requested bytes allocated, usable bytes freed and live) in fork children
(exact from their first call) and in base/work pairs (the difference is
exact); a lock-free allocator preloaded after memobs's library lets a signal
handler allocate while the loop it interrupts does; Python's
multiprocessing forks workers; processes that cannot load the library (a
scrubbed environment, a setuid program) and heaps the library cannot see
(Go's, pymalloc's) are said per process. Needs root."""
import atexit
import os
import re
import shutil
import subprocess
import tempfile

from harness import memobs, prog, run_tests

MiB = 1 << 20

# A lock-free allocator that never reuses memory: malloc is async-signal-safe.
BUMP = r"""
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
static char *arena;
static size_t used;
static char *take(size_t size, size_t align)
{
	size_t old, start;
	if (!arena) {
		char *a = mmap(NULL, 1ul << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		char *none = NULL;
		if (!__atomic_compare_exchange_n(&arena, &none, a, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			munmap(a, 1ul << 30);
	}
	if (align < 16)
		align = 16;
	old = __atomic_load_n(&used, __ATOMIC_RELAXED);
	do
		start = (old + 16 + align - 1) & ~(align - 1);
	while (!__atomic_compare_exchange_n(&used, &old, start + size, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	*(size_t *)(arena + start - 8) = size;
	return arena + start;
}
size_t malloc_usable_size(void *p) { return p ? *(size_t *)((char *)p - 8) : 0; }
void *malloc(size_t n) { return take(n, 16); }
void free(void *p) { (void)p; }
void *calloc(size_t n, size_t s) { return take(n * s, 16); }
void *realloc(void *p, size_t n)
{
	char *q = take(n, 16);
	size_t old = malloc_usable_size(p);
	if (p)
		memcpy(q, p, old < n ? old : n);
	return q;
}
int posix_memalign(void **pp, size_t a, size_t n) { *pp = take(n, a); return 0; }
void *aligned_alloc(size_t a, size_t n) { return take(n, a); }
void *memalign(size_t a, size_t n) { return take(n, a); }
"""

# multiprocessing's fork start method: workers are fork children (no exec).
POOL = r"""
import multiprocessing as mp
def work(i):
    blob = bytearray(8 << 20)
    return len(blob) + i
if __name__ == "__main__":
    mp.set_start_method("fork")
    with mp.Pool(2) as pool:
        print("pool", sum(pool.map(work, range(4))))
"""

_shared = {}


def cc(tmp, name, src, flags=()):
    path = os.path.join(tmp, name + ".c")
    with open(path, "w") as f:
        f.write(src)
    out = os.path.join(tmp, name)
    p = subprocess.run(["cc", "-O1", "-g", path, "-o", out] + list(flags), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return out


def shared():
    """The session, run once (a failure to run it fails every test at once)."""
    if "error" in _shared:
        raise AssertionError("the shared session failed: %s" % _shared["error"])
    if not _shared:
        try:
            run_session()
        except Exception as e:
            _shared["error"] = repr(e)
            raise
    return _shared


def run_session():
    tmp = tempfile.mkdtemp(prefix="memobs-test-")
    os.chmod(tmp, 0o755)
    atexit.register(shutil.rmtree, tmp, True)
    bump = cc(tmp, "libbump.so", BUMP, ["-shared", "-fPIC"])
    fake_go = cc(tmp, "fake_go", 'const char buildinfo[16] __attribute__((section(".go.buildinfo"))) = "\\xff Go buildinf:";\n'
                 "int main(void) { return buildinfo[0] == 0; }\n")
    nothing = cc(tmp, "allocates_nothing", "int main(void) { return 0; }\n")
    pool = os.path.join(tmp, "pool.py")
    with open(pool, "w") as f:
        f.write(POOL)
    # A setuid-root copy, run as nobody: a secure exec, LD_PRELOAD ignored.
    suid = os.path.join(tmp, "heap_cases_suid")
    shutil.copy2(prog("heap_cases"), suid)
    os.chown(suid, 0, 0)
    os.chmod(suid, 0o4755)
    hc = prog("heap_cases")
    script = " && ".join([
        "%s all" % hc, "%s spawn" % hc, "%s phases" % hc,
        'LD_PRELOAD="$LD_PRELOAD %s" %s signal 0' % (bump, hc),
        'LD_PRELOAD="$LD_PRELOAD %s" %s signal 200000' % (bump, hc),
        "env -i %s leaf 3" % hc,
        "setpriv --reuid=65534 --regid=65534 --clear-groups %s leaf 3" % suid,
        "python3 %s" % pool, fake_go, nothing,
    ])
    proc, doc = memobs(["-q", "--heap"], ["sh", "-c", script], check_rc=0, timeout=300)
    cases = {}
    for m in re.finditer(r"^case (\S+) pid (\d+) ab (\d+) ac (\d+) fb (\d+) fc (\d+) live (-?\d+)$", proc.stdout, re.M):
        name, pid = m.group(1), int(m.group(2))
        cases.setdefault(name, []).append((pid, dict(zip(("alloc_bytes", "alloc_count", "free_bytes", "free_count",
                                                          "live"), map(int, m.groups()[2:])))))
    _shared.update(out=proc.stdout, doc=doc, cases=cases, procs={p["pid"]: p for p in doc["processes"]})


CALLS = ("alloc_bytes", "alloc_count", "free_bytes", "free_count")


def case(name, i=0):
    return shared()["cases"][name][i]


def heap(pid):
    p = shared()["procs"][pid]
    assert p["heap"]["counted_by"] == "in-process", p
    return p["heap"]


def calls(h, keys=CALLS):
    return {k: h[k] for k in keys}


def diff(a, b, keys=CALLS):
    return {k: b[k] - a[k] for k in keys}


def test_the_librarys_own_start_is_not_the_programs():
    """A program that makes no call of the malloc family is counted none:
    what the library itself does to start (its dlsym calls) is not the
    program's."""
    procs = [p for p in shared()["doc"]["processes"] if p["comm"] == "allocates_nothi"]
    assert len(procs) == 1, [p["comm"] for p in shared()["doc"]["processes"]]
    h = procs[0]["heap"]
    assert h["counted_by"] == "in-process", h
    assert calls(h) == dict.fromkeys(CALLS, 0) and h["live"] == 0, h


def test_every_entry_point_exactly():
    """malloc, calloc, realloc (NULL, grow, shrink, 0), reallocarray,
    posix_memalign, aligned_alloc, memalign, valloc, pvalloc; a block from
    glibc's own entry point freed through free is counted as a free."""
    pid, want = case("api")
    assert calls(heap(pid)) == calls(want), (heap(pid), want)


def test_fork_child_counts_its_own_calls_from_its_parents_live_heap():
    ppid, parent = case("fork_parent")
    pid, kid = case("fork_child")
    assert calls(heap(pid)) == calls(kid), (heap(pid), kid)
    # its live bytes start where its parent's were at the fork (the parent did
    # nothing after it): the inherited 1 MiB freed is off them
    assert heap(pid)["live"] - kid["live"] == heap(ppid)["live"], (heap(pid), kid, heap(ppid))


def test_a_process_killed_loses_nothing():
    pid, want = case("killed")
    assert shared()["procs"][pid]["exit_status"] == 128 + 9, shared()["procs"][pid]
    got = heap(pid)
    assert calls(got) == calls(want), (got, want)
    assert got["live"] - want["live"] == heap(root_of("all"))["live"], (got, want, heap(root_of("all")))


def test_threads_count_without_losing_a_call():
    (_, base), (_, work) = case("threads_base"), case("threads_work")
    got = diff(heap(case("threads_base")[0]), heap(case("threads_work")[0]))
    assert got == diff(base, work), (got, diff(base, work))
    assert shared()["doc"]["drops"]["uncounted_calls"] == 0, shared()["doc"]["drops"]


def test_a_library_dlopened_later_allocates_through_the_library():
    got = diff(heap(case("dlopen_base")[0]), heap(case("dlopen_work")[0]))
    assert got == diff(case("dlopen_base")[1], case("dlopen_work")[1]) and got["alloc_count"] == 1, got


def test_a_program_that_closed_every_fd_still_counts_its_children():
    ppid, want = case("closefds_child_of")
    kids = [p for p in shared()["doc"]["processes"] if p["ppid"] == ppid]
    assert len(kids) == 1, kids
    assert calls(heap(kids[0]["pid"])) == calls(want), (kids[0]["heap"], want)


def leafs(parent_pid):
    """The leaf lines of the children of parent_pid, by their argument."""
    procs = shared()["procs"]
    out = {}
    for name, entries in shared()["cases"].items():
        for pid, want in entries:
            if name.startswith("leaf_") and procs[pid]["ppid"] == parent_pid:
                out[int(name[5:])] = (pid, want)
    return out


def root_of(arg):
    """The process run with this argument, not one of its fork children."""
    runs = [p for p in shared()["doc"]["processes"] if p["argv"] and p["argv"][1:] == [arg]]
    pids = {p["pid"] for p in runs}
    return [p["pid"] for p in runs if p["ppid"] not in pids][0]


def test_exec_counts_each_program_in_the_same_process():
    got = leafs(root_of("all"))
    assert set(got) == {0, 100}, got
    assert diff(heap(got[0][0]), heap(got[100][0])) == diff(got[0][1], got[100][1])


def test_posix_spawn_and_vfork_children():
    got = leafs(root_of("spawn"))
    assert set(got) == {0, 50, 100}, got
    for n in (50, 100):
        assert diff(heap(got[0][0]), heap(got[n][0])) == diff(got[0][1], got[n][1]), n


def test_a_signal_handler_allocating_loses_nothing():
    """Handlers allocate while the loop's calls are counted: neither the
    loop's counts nor the handler's are lost or doubled."""
    (bpid, base), (wpid, work) = case("signal_base"), case("signal_work")
    ran = int(re.findall(r"signal handler ran (\d+) times", shared()["out"])[-1])
    assert ran > 100, "the handler ran %d times" % ran
    assert diff(heap(bpid), heap(wpid)) == diff(base, work)
    assert re.search(r"/libbump\.so$", heap(wpid)["allocator"]), heap(wpid)


def phase(name):
    return [p for p in shared()["doc"]["phases"] if p["name"] == name][0]


def test_an_allocation_right_after_phase_begin_is_the_new_phases():
    inner = phase("hc_inner")["heap"]
    assert inner["alloc_bytes"] == 3 * MiB and inner["alloc_count"] == 1, inner


def test_a_phase_closed_by_another_process_ends_for_its_children_too():
    outer = phase("hc_outer")
    phases_pid = root_of("phases")
    kid = [p for p in shared()["doc"]["processes"] if p["ppid"] == phases_pid][0]
    by_phase = {ph["name"]: ph["heap"] for ph in kid["phases"]}
    assert by_phase["hc_outer"]["alloc_count"] == 1 and by_phase["hc_outer"]["alloc_bytes"] == 1000, by_phase
    assert by_phase["main"]["alloc_bytes"] == 2 * MiB and by_phase["main"]["alloc_count"] == 1, by_phase
    assert outer["heap"]["alloc_bytes"] == 1000, outer["heap"]


def test_multiprocessing_workers_forked_without_exec_are_counted():
    """Each worker made two bytearrays of 8 MiB (of the four, by two)."""
    parent = [p for p in shared()["doc"]["processes"] if p["argv"] and p["argv"][-1].endswith("pool.py")][0]
    workers = [p for p in shared()["doc"]["processes"] if p["ppid"] == parent["pid"] and p["comm"] == parent["comm"]
               and p["heap"]["alloc_bytes"] >= 8 * MiB]
    assert len(workers) >= 1, [(p["comm"], p["ppid"], p["heap"]) for p in shared()["doc"]["processes"]]
    assert sum(p["heap"]["alloc_bytes"] for p in workers) >= 4 * 8 * MiB, [p["heap"] for p in workers]
    for p in workers + [parent]:
        assert p["heap"]["counted_by"] == "in-process" and "pymalloc" in (p["heap"]["unseen"] or ""), p["heap"]


def unobserved(argv_tail):
    return [p for p in shared()["doc"]["processes"] if p["argv"] and p["argv"][1:] == argv_tail]


def test_scrubbed_environment_and_setuid_are_said():
    scrubbed = [p for p in unobserved(["leaf", "3"]) if not p["exe"].endswith("_suid")]
    suid = [p for p in unobserved(["leaf", "3"]) if p["exe"].endswith("_suid")]
    assert scrubbed and "environment dropped" in scrubbed[0]["heap"]["unobserved"], scrubbed
    assert suid and "secure execution" in suid[0]["heap"]["unobserved"], suid


def test_go_heap_is_said_to_be_unseen():
    go = [p for p in shared()["doc"]["processes"] if p["comm"] == "fake_go"]
    assert go and "Go runtime" in go[0]["heap"]["unseen"], go


if __name__ == "__main__":
    run_tests(globals())
