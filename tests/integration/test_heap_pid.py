"""memobs -p PID --heap traps only in the observed processes (issue 14 item
2), in ONE session: the allocator probes are pid-scoped links, so a
bystander running the very same allocator file has no breakpoint in its
malloc and is not counted, while the observed process and the child it forks
(held at fork until its own links are made: it allocates at once) are
counted exactly. Whether a
breakpoint is in a process's malloc is read by the process itself: its
malloc's bytes against those it kept at its start (tests/progs/heap_pid.c).
The C library is a private copy, so that no other memobs on the host
probes the file these processes run. Needs root."""
import os
import select
import shutil
import subprocess
import tempfile
import time

from harness import MEMOBS, prog, read_run, run_tests

STATE = {}
# malloc'd by a child before it execs, never freed: gone with the old program's memory.
KEPT_BEFORE_EXEC = 8 << 20


class Proc:
    """tests/progs/heap_pid under the private C library, driven line by line."""

    def __init__(self, libdir):
        env = dict(os.environ, LD_LIBRARY_PATH=libdir)
        self.p = subprocess.Popen([prog("heap_pid")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  env=env)
        assert self.ask(None) == "ready"

    def ask(self, cmd):
        """Its answer; a process left stopped would never give one: a bound, not a timing."""
        if cmd is not None:
            self.p.stdin.write(cmd + "\n")
            self.p.stdin.flush()
        ready, _, _ = select.select([self.p.stdout], [], [], 120)
        assert ready, "no answer to %r: is a process of it stopped?" % cmd
        return self.p.stdout.readline().strip()

    def quit(self):
        if self.p.poll() is None:
            self.p.stdin.write("q\n")
            self.p.stdin.flush()
            self.p.wait(timeout=30)


def observe():
    """One -p --heap session over a target, with a bystander beside it."""
    tmp = tempfile.mkdtemp(prefix="memobs-heap-pid-")
    os.chmod(tmp, 0o755)
    shutil.copy("/lib/x86_64-linux-gnu/libc.so.6", tmp)
    out = os.path.join(tmp, "run.json")
    target, bystander = Proc(tmp), Proc(tmp)
    m = None
    try:
        m = subprocess.Popen([MEMOBS, "-q", "--heap", "--rss-sample-bytes", "0", "--physical", "off", "-o", out,
                              "-p", str(target.p.pid)], stderr=subprocess.PIPE, text=True)
        # memobs is attached once the target's malloc holds its breakpoint (a bound, not a timing).
        deadline = time.time() + 120
        while target.ask("p") != "probed 1":
            assert m.poll() is None and time.time() < deadline, "memobs never probed the target"
            time.sleep(0.05)
        STATE["bystander_before"] = bystander.ask("p")
        assert bystander.ask("a 2000 100") == "done"
        STATE["bystander_after"] = bystander.ask("p")
        assert target.ask("a 1000 100") == "done"
        STATE["child"] = target.ask("f 500 200").split()
        STATE["execd"] = target.ask("e 300 50").split()
        STATE["kept"] = target.ask("x %d" % KEPT_BEFORE_EXEC).split()
        # Now like a job-control shell: its child is not held (the shell would report the stop).
        assert target.ask("j") == "ignoring SIGTTOU"
        STATE["unheld"] = target.ask("f 10 100").split()
        target.quit()
        _, STATE["stderr"] = m.communicate(timeout=120)
        STATE["rc"] = m.returncode
        STATE["doc"] = read_run(out)
        STATE["target"], STATE["bystander"] = target.p.pid, bystander.p.pid
    finally:
        target.quit()
        bystander.quit()
        if m and m.poll() is None:
            m.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def run():
    if "doc" not in STATE:
        observe()
    return STATE


def proc(doc, pid):
    found = [p for p in doc["processes"] if p["pid"] == pid]
    return found[0] if found else None


def test_bystander_of_the_same_allocator_file_has_no_breakpoint():
    s = run()
    assert s["rc"] == 0, s["stderr"]
    assert (s["bystander_before"], s["bystander_after"]) == ("probed 0", "probed 0"), s["bystander_after"]
    assert proc(s["doc"], s["bystander"]) is None, "the bystander is in the run"


def test_observed_process_is_counted_exactly():
    s = run()
    heap = proc(s["doc"], s["target"])["heap"]
    assert (heap["alloc_count"], heap["alloc_bytes"]) == (1000, 100000), heap
    assert (heap["free_count"], heap["free_bytes"]) == (1000, 100000), heap
    assert heap["counted_by"] == "uprobes", heap


def test_forked_child_is_held_until_linked_and_counted_exactly():
    """The child allocates at once: only a hold at fork gets its links in before its first call."""
    s = run()
    heap = proc(s["doc"], int(s["child"][1]))["heap"]
    assert (heap["alloc_count"], heap["alloc_bytes"]) == (500, 100000), heap


def test_a_child_that_execs_is_counted_exactly_in_its_new_program():
    s = run()
    heap = proc(s["doc"], int(s["execd"][1]))["heap"]
    assert (heap["alloc_count"], heap["alloc_bytes"]) == (300, 15000), heap


def test_a_block_kept_across_an_exec_is_not_live_after_it():
    """The exec takes the old program's memory, its blocks with it: the new program does not
    start with them live."""
    s = run()
    heap = proc(s["doc"], int(s["kept"][1]))["heap"]
    assert heap["alloc_bytes"] >= KEPT_BEFORE_EXEC, heap
    assert heap["live"] < KEPT_BEFORE_EXEC, heap


def test_a_child_not_held_is_counted_in_the_drops():
    """A job-control shell's child is not held at fork: it ran unlinked a while, which the run says
    (drops.unheld_forks), and it finished (nothing left stopped). The held ones are not counted there."""
    s = run()
    assert s["doc"]["drops"]["unheld_forks"] == 1, s["doc"]["drops"]
    assert proc(s["doc"], int(s["unheld"][1])) is not None, s["unheld"]


def test_host_wide_heap_says_every_process_traps():
    """Said before anything is loaded; run unprivileged, so that the test never puts host-wide
    allocator probes under the other processes of the host (it stops at the BPF load)."""
    proc_ = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MEMOBS, "-q", "-a",
                            "--heap", "--duration", "0.1", "-o", "/dev/null"],
                           capture_output=True, text=True, timeout=120)
    assert proc_.returncode == 125, (proc_.returncode, proc_.stderr)
    assert "every process on the host traps" in proc_.stderr.splitlines()[0], proc_.stderr


if __name__ == "__main__":
    run_tests(globals())
