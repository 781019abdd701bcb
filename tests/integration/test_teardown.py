"""How memobs lets go of its BPF links when it stops: they are handed to the
kernel to detach (pinned in bpffs, fds closed, pin removed: the last reference
goes through bpf_link_put, which detaches from a kworker), so that memobs's
exit does not wait for their RCU grace periods. Checked without timing: the
final put of every link memobs held is queued to the kernel's workqueue from
memobs itself (workqueue:workqueue_queue_work of bpf_link_put_deferred, by
memobs's pid; closing the last fd instead detaches in the closing thread and
queues nothing), every one of its links is gone soon after it exits, no pin is
left, the pin directory of a dead memobs is removed at start, and the exit
status is the command's. RSS changes come through a raw tracepoint link, not
a perf event on the classic kmem:rss_stat event (whose summing every process
of the host would pay for). One run of memobs --heap (raw tracepoint and
uprobe_multi links). Needs root, bpftrace and bpftool."""
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import MEMOBS, run_tests

PINS = "/sys/fs/bpf/memobs"
QUEUED = ('tracepoint:workqueue:workqueue_queue_work /comm == "memobs"/ '
          '{ @q[pid, ksym(args->function)] = count(); } BEGIN { printf("ready\\n"); }')


def memobs_links(pid):
    """The BPF links whose fds pid holds: {link_id: (link_type, tp_name)} from
    its fdinfo, and how many of its fds are perf events."""
    links, perf_events = {}, 0
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            perf_events += os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[perf_event]"
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue
        if "link_id" in info:
            links[int(info["link_id"])] = (info.get("link_type"), info.get("tp_name"))
    return links, perf_events


def live_links():
    out = subprocess.run(["bpftool", "-j", "link", "list"], capture_output=True, text=True, check=True).stdout
    return {link["id"] for link in json.loads(out or "[]")}


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def stale_pin_dir():
    """What a memobs killed in the middle of a handoff leaves: its directory with a pin."""
    os.makedirs(PINS, mode=0o700, exist_ok=True)
    d = os.path.join(PINS, "%d-%016x" % (dead_pid(), int.from_bytes(os.urandom(8), "little")))
    os.mkdir(d, 0o700)
    subprocess.run(["bpftool", "map", "create", os.path.join(d, "0"), "type", "array", "key", "4", "value", "4",
                    "entries", "1", "name", "mo_stale_test"], check=True, capture_output=True)
    return d


def open_when_read(fifo, mo):
    """The fifo opened for writing once the command opened it to read (memobs runs it)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            if mo.poll() is not None or time.monotonic() > deadline:
                mo.kill()
                raise AssertionError("the command did not start under memobs (exit %s): %s"
                                     % (mo.wait(), mo.stderr.read()))
            time.sleep(0.01)


def observe():
    """memobs --heap around a command held until its links are read; what the
    workqueue saw, memobs's links, its pid and exit status."""
    for tool in ("bpftrace", "bpftool"):
        assert shutil.which(tool), "%s is needed (Debian package %s: scripts/install-deps.sh)" % (tool, tool)
    stale = stale_pin_dir()
    tmp = tempfile.mkdtemp(prefix="memobs-teardown-")
    os.chmod(tmp, 0o755)
    go = os.path.join(tmp, "go")
    os.mkfifo(go, 0o666)
    tracer = subprocess.Popen(["bpftrace", "-f", "json", "-e", QUEUED], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        for line in tracer.stdout:     # bpftrace exits (EOF) if it cannot attach
            if "ready" in line:
                break
        assert tracer.poll() is None, "bpftrace could not trace the workqueue"
        mo = subprocess.Popen([MEMOBS, "-q", "--heap", "-o", os.path.join(tmp, "run.json"), "--",
                               "sh", "-c", "cat %s >/dev/null; exit 3" % go],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        fd = open_when_read(go, mo)
        kinds, perf_events = memobs_links(mo.pid)   # the command runs: every up-front link is made
        links = set(kinds)
        os.close(fd)
        stale_left = os.path.exists(stale)
        _, err = mo.communicate(timeout=120)
        deadline = time.monotonic() + 5
        while links & live_links() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = links & live_links()
        pins = glob.glob(os.path.join(PINS, "%d-*" % mo.pid))
    finally:
        tracer.send_signal(signal.SIGINT)
        out, _ = tracer.communicate(timeout=60)
        shutil.rmtree(tmp)
        if os.path.exists(stale):
            os.unlink(os.path.join(stale, "0"))
            os.rmdir(stale)
    queued = 0
    for line in out.splitlines():
        doc = json.loads(line) if line.startswith("{") else {}
        if doc.get("type") == "map" and "@q" in doc.get("data", {}):
            queued = sum(n for key, n in doc["data"]["@q"].items()
                         if key == "%d,bpf_link_put_deferred" % mo.pid)
    return {"rc": mo.returncode, "err": err, "links": links, "kinds": kinds, "perf_events": perf_events,
            "left": left, "pins": pins, "queued": queued,
            "stale_left": stale_left}


_seen = None


def seen():
    global _seen
    if _seen is None:
        _seen = observe()
    return _seen


def test_exit_status_is_the_commands():
    assert seen()["rc"] == 3, seen()["err"]


def test_rss_changes_come_through_a_raw_tracepoint_not_a_perf_event():
    s = seen()
    assert ("raw_tracepoint", "rss_stat") in s["kinds"].values(), s["kinds"]
    assert not [k for k in s["kinds"].values() if k[0] == "perf_event"], s["kinds"]
    assert s["perf_events"] == 0, "memobs holds %d perf events" % s["perf_events"]


def test_links_are_detached_by_the_kernel_not_by_memobs():
    s = seen()
    # raw tracepoints (process tree, rss_stat) and uprobe_multi (markers, the heap library)
    assert len(s["links"]) >= 6, s["links"]
    assert s["queued"] >= len(s["links"]), \
        "%d of memobs's %d links were handed to the kernel's worker; the rest were detached by memobs's own " \
        "close, which its exit waits for" % (s["queued"], len(s["links"]))


def test_every_link_is_gone_after_exit():
    assert not seen()["left"], "links of memobs still attached 5 s after it exited: %s" % sorted(seen()["left"])


def test_no_pin_is_left():
    assert not seen()["pins"], seen()["pins"]


def test_a_dead_memobs_pins_are_removed_at_start():
    assert not seen()["stale_left"], "the pin directory of a dead memobs was still there while memobs ran"


run_tests(globals())
