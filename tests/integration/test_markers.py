"""Markers that must not harm (issue 17): a name BPF could not read is never
read from another program; under -a only root's and --marker-uid's
processes among those observed fire markers; a marker flood leaves memobs
small, every mark it did not keep counted. Needs root."""
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import BUILD, MEMOBS, MiB, Observer, memobs, prog, run_tests

LIBMEMOBS = os.path.join(BUILD, "libmemobs.so")
# README, Phases: memobs's own peak RSS under a marker flood (idle: ~25 MiB).
FLOOD_RSS_BOUND = 64 * MiB

SECRET = "memobs-test-root-only-secret"


def wait_for(cond, what, timeout=10):
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "timed out waiting for " + what
        time.sleep(0.005)


def test_unread_name_never_read_from_a_setuid_program():
    """A user's process fires a marker whose name is on a page never touched
    (BPF cannot read it) and execs a setuid-root program with a secret at that
    address. memobs is held (SIGSTOP) until the exec is done, so that a late
    read of the name would read the new program: it must count the name as
    unread instead. Observed with -p: a launched command's exec waits at the
    exec gate for memobs, which this test holds, so only the -p gate (which
    stops the new program after its exec) lets the exec happen first."""
    d = tempfile.mkdtemp(prefix="memobs-leak-")
    marker = None
    try:
        os.chmod(d, 0o777)
        secret_prog = os.path.join(d, "marker_secret_nopie")
        shutil.copy(prog("marker_secret_nopie"), secret_prog)
        os.chmod(secret_prog, 0o4755)
        addr = subprocess.run([secret_prog, "--address"], capture_output=True, text=True, check=True).stdout.strip()
        out = os.path.join(d, "run.json")

        def as_nobody():
            os.setgid(65534)
            os.setuid(65534)

        marker = subprocess.Popen([prog("marker_leak"), addr, d, secret_prog], preexec_fn=as_nobody)
        ready = os.path.join(d, "ready")
        wait_for(lambda: os.path.exists(ready) and open(ready).read().endswith("\n"), "the marker process")
        pid = int(open(ready).read())
        m = subprocess.Popen([MEMOBS, "-v", "-o", out, "-p", str(pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        for line in m.stderr:
            if line.startswith("memobs: observing"):
                break
        os.kill(m.pid, signal.SIGSTOP)
        try:
            open(os.path.join(d, "go"), "w").close()
            wait_for(lambda: os.readlink("/proc/%d/exe" % pid) == secret_prog, "the exec of the setuid program")
        finally:
            os.kill(m.pid, signal.SIGCONT)
        _, err = m.communicate(timeout=60)
        assert m.returncode == 0, err
        assert marker.wait(timeout=60) == 0
        with open(out) as f:
            text = f.read()
        doc = json.loads(text)
        assert SECRET not in text and SECRET not in err, "the setuid program's secret leaked into the run"
        assert doc["drops"]["marker_names_unread"] == 1, doc["drops"]
        unread = [p for p in doc["phases"] if p.get("name_unread")]
        assert len(unread) == 1 and unread[0]["name"] == "", doc["phases"]
    finally:
        if marker and marker.poll() is None:
            marker.kill()
        shutil.rmtree(d)


def test_marker_flood_keeps_memobs_small_and_counts_drops():
    """200,000 marks, 5,000 phases, 50,000 phase_ends that match nothing, as
    fast as one process fires them: memobs stays under FLOOD_RSS_BOUND (it
    took 272 MiB and wrote 27 MB for 300,000 marks before marks were capped)."""
    marks, pairs, ends = 200000, 5000, 50000
    with tempfile.TemporaryDirectory(prefix="memobs-flood-") as d:
        out, rss = os.path.join(d, "run.json"), os.path.join(d, "rss")
        proc = subprocess.run(["/usr/bin/time", "-o", rss, "-f", "%M", MEMOBS, "-q", "-o", out, "--max-marks", "500",
                               "--", prog("marker_flood"), LIBMEMOBS, str(marks), str(pairs), str(ends)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        with open(rss) as f:
            peak = int(f.read().split()[-1]) * 1024
        size = os.path.getsize(out)
        with open(out) as f:
            doc = json.load(f)
    assert peak < FLOOD_RSS_BOUND, "memobs peaked at %.1f MiB" % (peak / MiB)
    assert size < 4 * MiB, size
    drops = doc["drops"]
    assert len(doc["marks"]) == 500 and drops["marks"] == marks - 500, (len(doc["marks"]), drops)
    opened = [p for p in doc["phases"] if p["name"] == "flood"]
    assert len(opened) + drops["phases"] == pairs and len(opened) == 4095, (len(opened), drops)
    # the ends of the phases not opened matched nothing either
    assert drops["unmatched_phase_ends"] == ends + drops["phases"], drops
    assert len(doc["warnings"]) <= 101, len(doc["warnings"])


def test_mark_rate_cap_keeps_at_most_the_rate_each_second():
    """--max-mark-rate: BPF keeps at most RATE marks in each second of its
    clock (README "Who may mark, and how much"), the rest in drops.marks."""
    rate, fired = 100, 300000
    _, doc = memobs(["-q", "--max-marks", "1000000", "--max-mark-rate", str(rate)],
                    [prog("marker_flood"), LIBMEMOBS, str(fired)], check_rc=0)
    kept = [m["t"] for m in doc["marks"]]
    assert len(kept) + doc["drops"]["marks"] == fired, (len(kept), doc["drops"])
    # The flood ran within its process's life: at most that many seconds of
    # the clock, plus the one it straddles into.
    flood = [p for p in doc["processes"] if p["comm"] == "marker_flood"]
    assert len(flood) == 1 and flood[0]["end_s"] is not None, flood
    seconds = math.ceil(flood[0]["end_s"] - flood[0]["start_s"]) + 1
    assert len(kept) <= rate * seconds, (len(kept), seconds)
    # Some second saw more than the rate (fired / seconds of them): it kept the rate.
    assert fired / seconds > rate and len(kept) >= rate, (len(kept), seconds)
    # No window of a second holds more than two seconds' worth.
    kept.sort()
    j = 0
    for i, t in enumerate(kept):
        while kept[j] <= t - 1.0:
            j += 1
        assert i - j + 1 <= 2 * rate, (t, i - j + 1)


def test_host_markers_from_root_and_marker_uid_only():
    """-a: phases and marks come from the processes the filters observe, and
    of them from root's and --marker-uid's; the others' are counted."""
    with tempfile.TemporaryDirectory(prefix="memobs-scope-") as d:
        unobserved = os.path.join(d, "unobserved")
        shutil.copy(prog("marker_flood"), unobserved)
        obs = Observer(["-a", "--comm", "marker_flood", "--marker-uid", "daemon"])
        try:
            def fire(uid, binary, marks, pairs):
                pre = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] if uid else []
                p = subprocess.run(pre + [binary, LIBMEMOBS, str(marks), str(pairs)], capture_output=True, text=True)
                assert p.returncode == 0, p.stderr
            fire(65534, prog("marker_flood"), 7, 2)  # nobody: observed, refused
            fire(1, prog("marker_flood"), 3, 1)  # daemon: --marker-uid
            fire(0, prog("marker_flood"), 2, 1)  # root
            fire(0, unobserved, 5, 1)  # root, but not what --comm observes
        finally:
            obs.proc.send_signal(signal.SIGINT)
        doc = obs.doc()
    users = {p["pid"]: p["user"] for p in doc["processes"] if p["comm"] == "marker_flood"}
    by_user = {}
    for m in doc["marks"]:
        by_user[users.get(m["pid"], "?")] = by_user.get(users.get(m["pid"], "?"), 0) + 1
    assert by_user == {"daemon": 3, "root": 2}, (by_user, users)
    assert [p["name"] for p in doc["phases"]].count("flood") == 2, doc["phases"]
    assert doc["drops"]["markers_refused"] == 7 + 2 * 2, doc["drops"]


def test_marker_argument_forms():
    """Every argument form sys/sdt.h writes on x86-64 (a global as
    8@counter(%rip), a constant, 16- and 32-bit registers, a frame slot at
    -O0) is fetched in BPF from the probe's cookie alone: the items add up."""
    _, doc = memobs(["-q"], [prog("marker_args")], check_rc=0)
    args = [p for p in doc["phases"] if p["name"] == "args"]
    assert len(args) == 1 and args[0]["items"] == 1332, doc["phases"]
    assert doc["warnings"] == [], doc["warnings"]


if __name__ == "__main__":
    run_tests(globals())
