"""The -p exec gate never leaves a process stopped (issue 17, items 1 and 3):
BPF stops a process at an exec memobs has to look at, and memobs - or its
watchdog, if memobs is killed - continues it, whatever the end (--duration,
Ctrl-C, SIGTERM, an error exit, kill -9 at a random moment); a job of a
job-control shell is not stopped (counted and said); two memobs observing
the same process continue it only once both have looked. Needs root."""
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from harness import MEMOBS, prog, run_tests


def state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def exec_loop(d, name):
    """A shell that execs a file with markers (every exec of it is stopped
    for a look) in a loop, in a session of its own."""
    target = shutil.copy(prog("layout_a"), os.path.join(d, name))
    return subprocess.Popen(["sh", "-c", "while :; do %s >/dev/null; sleep 0.01; done" % target],
                            start_new_session=True, stdout=subprocess.DEVNULL)


def stopped(loop):
    """The loop or a child of it in state T (a stop nobody continued)."""
    return [p for p in [loop.pid] + children(loop.pid) if state(p) == "T"]


def left_stopped(loops):
    """What memobs (or, killed, its watchdog) stopped is continued at once:
    what is still stopped 5 s on, continued here (never left so)."""
    deadline = time.time() + 5
    while any(stopped(loop) for loop in loops) and time.time() < deadline:
        time.sleep(0.02)
    left = [p for loop in loops for p in stopped(loop)]
    for p in left:
        os.kill(p, signal.SIGCONT)
    return left


def in_lanes(lane, nlanes, runs):
    """lane(d, index, runs, failures) in nlanes threads at once; what failed."""
    failures = []
    with tempfile.TemporaryDirectory() as d:
        lanes = [threading.Thread(target=lane, args=(d, i, runs, failures)) for i in range(nlanes)]
        for t in lanes:
            t.start()
        for t in lanes:
            t.join()
    return failures


def one_run(loop, mode, rng):
    pids = "%d,999999" % loop.pid if mode == "error" else str(loop.pid)
    # Only the gate is under test: no stacks to unwind or name, no PSS sweeps.
    argv = [MEMOBS, "-q", "--rss-sample-bytes", "0", "--physical", "off", "-p", pids]
    if mode == "duration":
        argv += ["--duration", "%.2f" % rng.uniform(0.05, 0.4)]
    m = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if mode in ("sigint", "sigterm", "kill"):
        time.sleep(rng.uniform(0.05, 0.6))
        m.send_signal({"sigint": signal.SIGINT, "sigterm": signal.SIGTERM, "kill": signal.SIGKILL}[mode])
    rc = m.wait(timeout=120)
    return rc


def lane(d, index, runs, failures):
    rng = random.Random(1700 + index)
    loop = exec_loop(d, "m%d" % index)
    modes = ["duration", "sigint", "kill", "sigterm", "error"]
    try:
        for i in range(runs):
            mode = modes[(i + index) % len(modes)]
            rc = one_run(loop, mode, rng)
            if mode == "error" and rc != 125:
                failures.append("lane %d run %d: -p PID,999999 exited %d" % (index, i, rc))
            left = left_stopped([loop])
            if left:
                failures.append("lane %d run %d (%s): left stopped: %s" % (index, i, mode, left))
    finally:
        os.killpg(loop.pid, signal.SIGKILL)
        loop.wait()


def test_no_process_left_stopped_after_100_runs():
    # Issue 17, item 1: an exec loop under `memobs -p PID --duration 1` had a
    # process left in state T in 6 of 6 runs; Ctrl-C 2 of 3; -p PID,999999 8
    # of 8. Four lanes of 25 runs at once (so several instances share the
    # host's holds), the end of each chosen in turn.
    failures = in_lanes(lane, 4, 25)
    assert not failures, "\n".join(failures)


def fresh_loop(d, name):
    """A shell that copies a program to a new file (a new inode) and runs it,
    again and again: each exec is of content the gate has not seen, so each
    is stopped and let go of (a program without markers: only that)."""
    sub = os.path.join(d, name)
    os.mkdir(sub)
    script = 'i=0; while :; do f=%s/x$((i %% 20)); cp --remove-destination /bin/true $f; $f; i=$((i + 1)); done'
    return subprocess.Popen(["sh", "-c", script % sub], start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def kill_while_gating(loops, rng):
    """memobs -p on the loops, killed (SIGKILL) at a random moment while its
    gate stops and lets go of their fresh executables."""
    argv = [MEMOBS, "-v", "-q", "--rss-sample-bytes", "0", "--physical", "off", "-o", os.devnull,
            "-p", ",".join(str(loop.pid) for loop in loops)]
    m = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in m.stderr:
        if line.startswith("memobs: observing"):
            break
    time.sleep(rng.uniform(0, 0.5))
    m.kill()
    m.communicate(timeout=60)


def fresh_lane(d, index, runs, failures):
    rng = random.Random(1800 + index)
    loops = [fresh_loop(d, "f%d.%d" % (index, i)) for i in range(2)]
    try:
        for i in range(runs):
            kill_while_gating(loops, rng)
            left = left_stopped(loops)
            if left:
                failures.append("fresh lane %d run %d: left stopped: %s" % (index, i, left))
    finally:
        for loop in loops:
            os.killpg(loop.pid, signal.SIGKILL)
            loop.wait()


def test_fresh_executables_never_left_stopped_by_kill_9():
    # Issue 17 audit: kill -9 of memobs -p during a loop over fresh
    # executables left one in state T for good (about 1 round in 30): memobs
    # had let go of its hold and was killed before its SIGCONT, and its
    # watchdog continues only what still carries memobs's bit. Here every
    # exec is of a new file, so memobs is killed while it lets go of them.
    failures = in_lanes(fresh_lane, 2, 6)
    assert not failures, "\n".join(failures)


def gated_target(d, script):
    """A shell running script once d/go exists (a session of its own)."""
    go = os.path.join(d, "go")
    return subprocess.Popen(["bash", "-c", "while [ ! -e %s ]; do sleep 0.02; done; %s" % (go, script)],
                            stdout=subprocess.PIPE, text=True, start_new_session=True), go


def observe(pid, out):
    m = subprocess.Popen([MEMOBS, "-v", "-o", out, "-p", str(pid)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    for line in m.stderr:
        if line.startswith("memobs: observing"):
            break
    return m


def test_job_control_shell_sees_no_stop():
    # Issue 17, item 3: `set -m` made bash report the gate's SIGSTOP ($? 147).
    with tempfile.TemporaryDirectory() as d:
        fresh = shutil.copy(prog("layout_a"), os.path.join(d, "fresh"))
        target, go = gated_target(d, "set -m; %s >/dev/null; echo $?" % fresh)
        out = os.path.join(d, "run.json")
        m = observe(target.pid, out)
        open(go, "w").close()
        stdout, _ = target.communicate(timeout=60)
        m.communicate(timeout=60)
        assert stdout == "0\n", stdout
        with open(out) as f:
            doc = json.load(f)
        said = [w for w in doc["warnings"] if "job-control jobs" in w]
        assert len(said) == 1, doc["warnings"]


def test_two_instances_continue_only_once_both_looked():
    # Issue 17, item 3: two instances continued each other's gated processes
    # early, and one lost a phase. Each must see the phase of a program with
    # markers the target execs (each attaches them while it holds it).
    with tempfile.TemporaryDirectory() as d:
        for round_ in range(3):
            fresh = shutil.copy(prog("layout_a"), os.path.join(d, "fresh%d" % round_))
            target, go = gated_target(d, "exec %s" % fresh)
            outs = [os.path.join(d, "run%d.%d.json" % (round_, i)) for i in range(2)]
            ms = [observe(target.pid, o) for o in outs]
            open(go, "w").close()
            stdout, _ = target.communicate(timeout=60)
            for m in ms:
                m.communicate(timeout=60)
            os.unlink(go)
            assert stdout == "a\n", stdout
            for o in outs:
                with open(o) as f:
                    doc = json.load(f)
                a = [p for p in doc["phases"] if p["name"] == "a"]
                assert len(a) == 1 and a[0]["items"] == 1, (round_, o, doc["phases"])


if __name__ == "__main__":
    run_tests(globals())
