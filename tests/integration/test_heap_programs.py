"""Which BPF programs `memobs --heap -- CMD` loads (issue 15's start): the
in-process path verifies the allocator uprobe programs (mo_alloc_entry,
mo_alloc_ret: the biggest of memobs's) only once a static executable with
its own malloc is met, held at its exec; before that the session has the
in-process sample program alone. ONE session: a shell waits on a FIFO, runs
tests/progs/own_malloc_static, waits on a second FIFO; the programs memobs
holds (its file descriptors, by name through bpftool) are read at each wait.
Needs root."""
import errno
import json
import os
import subprocess
import time

from harness import MEMOBS, in_tmp, prog, read_run, run_tests

UPROBE_PROGS = {"mo_alloc_entry", "mo_alloc_ret"}


def held_programs(pid):
    """The names of the BPF programs process pid holds a descriptor of."""
    ids = set()
    fddir = "/proc/%d/fd" % pid
    for fd in os.listdir(fddir):
        try:
            if os.readlink(os.path.join(fddir, fd)) != "anon_inode:bpf-prog":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                ids.update(int(line.split()[1]) for line in f if line.startswith("prog_id:"))
        except FileNotFoundError:
            continue    # closed meanwhile
    shown = json.loads(subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True,
                                      check=True).stdout)
    return {p.get("name") for p in shown if p["id"] in ids}


def wait_reader(fifo, proc, timeout=60):
    """Open fifo for writing once the shell reads it (memobs still running)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:
                raise
        assert proc.poll() is None, "memobs exited %d: %s" % (proc.returncode, proc.stderr.read())
        assert time.monotonic() < deadline, "the command never reached " + fifo
        time.sleep(0.02)


@in_tmp
def test_uprobe_programs_load_at_the_first_static_allocator(tmp):
    fifos = [os.path.join(tmp, name) for name in ("before", "after")]
    for fifo in fifos:
        os.mkfifo(fifo, 0o666)
    out = os.path.join(tmp, "run.json")
    script = "read a < %s && %s && read b < %s" % (fifos[0], prog("own_malloc_static"), fifos[1])
    proc = subprocess.Popen([MEMOBS, "-q", "--heap", "-o", out, "--", "sh", "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for fifo in fifos:
            fd = wait_reader(fifo, proc)
            seen.append(held_programs(proc.pid))
            os.write(fd, b"\n")
            os.close(fd)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    before, after = seen
    # the in-process path is the one running (its sample program), the uprobe ones not yet
    assert "mo_heap_usdt" in before and "mo_rss_stat" in before, before
    assert not before & UPROBE_PROGS, before
    assert after >= UPROBE_PROGS, after
    assert "ok 10" in stdout, stdout
    doc = read_run(out)
    static = [p for p in doc["processes"] if p["comm"] == "own_malloc_static"[:15]]
    assert len(static) == 1, [p["comm"] for p in doc["processes"]]
    heap = static[0]["heap"]
    # its 10 malloc+free pairs (and stdio's buffer) counted by the programs loaded for it
    assert heap["counted_by"] == "uprobes", heap
    assert heap["alloc_count"] >= 10 and heap["free_count"] >= 10, heap
    assert heap["alloc_bytes"] >= sum(range(100, 110)), heap


run_tests(globals())
