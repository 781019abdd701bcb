"""The exec gate of a launched command (issue 17, items 1-3 and 6): a seccomp
user notification holds each exec while memobs looks, then lets it go on
(no signal: job-control shells see nothing); markers are attached per
process on the content it runs (an executable overwritten in place runs
fine, under memobs and beside it); setuid programs in the tree keep their
privileges; phases are seen after hundreds of executables; and if memobs is
killed, its watchdog answers the rest of the tree and leaves with it,
and a command it had not released yet never runs. Needs root."""
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

from harness import MEMOBS, cgroup2_mount, memobs, phase, prog, run_tests


def fresh_copy(src, d, name):
    """A file memobs has never seen (a new inode: it is inspected at its exec)."""
    path = os.path.join(d, name)
    shutil.copy(src, path)
    os.chmod(path, 0o755)
    return path


def layout_b_output():
    """What layout_b prints run bare: its sum of immediates, untouched."""
    return subprocess.run([prog("layout_b")], capture_output=True, text=True, check=True).stdout


def test_memobs_inside_memobs_observes_without_its_own_gate():
    # The kernel allows one seccomp listener in a filter chain: a launched
    # command's exec gate cannot be installed in a command that already runs
    # under one (memobs -- make test, where the tests run memobs). The inner
    # memobs observes all the same, its command's execs let through by the
    # outer gate, and says once what it cannot hold.
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        inner_out = os.path.join(d, "inner.json")
        proc, outer = memobs(["-q"], [MEMOBS, "-q", "-o", inner_out, "--", "sh", "-c", "%s 8; exit 3"
                                      % prog("alloc_touch")])
        warned = [l for l in proc.stderr.splitlines() if "another seccomp notifier" in l]
        assert proc.returncode == 3 and len(warned) == 1, (proc.returncode, proc.stderr)
        assert warned[0].startswith("memobs: warning:"), warned
        with open(inner_out) as f:
            inner = json.load(f)
    assert inner["exit_status"] == 3 and outer["exit_status"] == 3, (inner["exit_status"], outer["exit_status"])
    toucher = [p for p in inner["processes"] if p["comm"] == "alloc_touch"]
    assert toucher and toucher[0]["rss"]["peak"] >= 8 << 20 and toucher[0]["exit_status"] == 0, toucher


def test_job_control_shell_sees_no_stop():
    # Issue 17, item 3: `set -m` made bash report the SIGSTOP of the old gate
    # ("Stopped (signal)", $? 147) for every new executable.
    with tempfile.TemporaryDirectory() as d:
        fresh = fresh_copy(prog("layout_a"), d, "fresh")
        proc, _ = memobs(["-q", "--heap"], ["bash", "-c", "set -m; %s; echo $?" % fresh], check_rc=0)
        assert proc.stdout == "a\n0\n", (proc.stdout, proc.stderr)


def test_overwrite_in_place_under_memobs():
    # Issue 17, item 2: probes placed for layout_a's code trapped in the
    # middle of layout_b's once cp wrote it over the same inode (exit 139).
    with tempfile.TemporaryDirectory() as d:
        t = os.path.join(d, "t")
        script = "cp %s %s && %s && cp %s %s && %s" % (prog("layout_a"), t, t, prog("layout_b"), t, t)
        proc, doc = memobs(["-q"], ["sh", "-c", script], check_rc=0)
        assert proc.stdout == "a\n" + layout_b_output(), (proc.stdout, proc.stderr)
        assert phase(doc, "a")["items"] == 1 and phase(doc, "b")["items"] == 2, doc["phases"]
        assert doc["warnings"] == [], doc["warnings"]


def overwrite_beside(options, first, second):
    """memobs OPTIONS -- a session that runs t (a copy of first), then, while
    it observes, a process outside the session writes second over t (the
    same inode) and runs it: what it ran, the session's output and document."""
    with tempfile.TemporaryDirectory() as d:
        t, ready, go = os.path.join(d, "t"), os.path.join(d, "ready"), os.path.join(d, "go")
        out = os.path.join(d, "run.json")
        shutil.copy(first, t)
        script = "%s && touch %s && while [ ! -e %s ]; do sleep 0.02; done" % (t, ready, go)
        m = subprocess.Popen([MEMOBS, "-q", "-o", out] + options + ["--", "sh", "-c", script],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 60
            while not os.path.exists(ready):
                assert time.time() < deadline and m.poll() is None, "the session's run of t"
                time.sleep(0.02)
            shutil.copy(second, t)
            outsider = subprocess.run([t], capture_output=True, text=True, timeout=60)
        finally:
            open(go, "w").close()
        stdout, stderr = m.communicate(timeout=60)
        assert m.returncode == 0, (stdout, stderr)
        with open(out) as f:
            return outsider, stdout, json.load(f)


def test_overwrite_in_place_beside_memobs():
    # The same file, written over and run by a process outside the session
    # while memobs observes one that ran its old content: outsiders never get
    # memobs's breakpoints.
    outsider, stdout, doc = overwrite_beside([], prog("layout_a"), prog("layout_b"))
    assert outsider.returncode == 0 and outsider.stdout == layout_b_output(), outsider
    assert stdout == "a\n", stdout
    assert phase(doc, "a")["items"] == 1 and not [p for p in doc["phases"] if p["name"] == "b"], doc["phases"]


def test_overwrite_in_place_beside_memobs_heap():
    # Issue 17 audit: with --heap, a static program's own malloc had uprobes
    # for every process on its file: written over with a build whose malloc
    # sits elsewhere, it crashed outside the session (SIGSEGV, exit 139).
    outsider, stdout, doc = overwrite_beside(["--heap"], prog("own_malloc_pad_static"), prog("own_malloc_static"))
    assert outsider.returncode == 0 and outsider.stdout == "ok 10\n", outsider
    assert stdout == "ok 10\n", stdout
    # the session's run was counted by the probes on its file: 10 mallocs at least
    ran = [p for p in doc["processes"] if p["comm"] == "t"]
    assert len(ran) == 1 and ran[0]["heap"]["alloc_count"] >= 10, ran
    assert any(p["file"].endswith("/t") for p in doc["heap_probes"]), doc["heap_probes"]


def test_setuid_program_in_the_tree_keeps_its_privileges():
    # The gate is installed while the command is still root, without
    # no_new_privs: a setuid-root program run by the user's command is root.
    d = tempfile.mkdtemp()
    try:
        os.chmod(d, 0o755)
        setuid_id = fresh_copy("/usr/bin/id", d, "id")
        os.chmod(setuid_id, 0o4755)
        env = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534", SUDO_USER="nobody")
        proc = subprocess.run([MEMOBS, "-q", "--", "sh", "-c", "id -u; %s -u" % setuid_id], capture_output=True,
                              text=True, env=env, timeout=120)
        assert proc.returncode == 0 and proc.stdout == "65534\n0\n", (proc.stdout, proc.stderr)
    finally:
        shutil.rmtree(d)


def test_phases_after_500_executables():
    # Issue 17, item 6: the probed-file tables were full after 64 executables
    # (markers of the next ones lost: "Argument list too long").
    with tempfile.TemporaryDirectory() as d:
        for i in range(500):
            fresh_copy("/bin/true", d, "t%03d" % i)
        script = "for f in %s/t*; do $f || exit 1; done; %s 10" % (d, prog("phases"))
        proc, doc = memobs(["-q"], ["sh", "-c", script], check_rc=0)
        assert [p["name"] for p in doc["phases"]] == ["main", "big", "small", "leak"], doc["phases"]
        assert len([p for p in doc["processes"] if p["comm"].startswith("t")]) >= 500
        assert doc["warnings"] == [], doc["warnings"]


def test_run_loop_is_not_woken_per_exec():
    # Issue 15: each exec woke memobs's run loop (the gate's listener was one
    # of its descriptors): its wakeup, its reading of the ring buffer and its
    # poll of every descriptor, ~2,000 times for a shell loop of 2,000 short
    # commands. The gate's own thread answers them; the run loop wakes for
    # its timers. Its voluntary context switches over 600 execs of a file
    # already seen (the command's parent is memobs; its main thread's id is
    # its pid), and every one of them observed.
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        counts = os.path.join(d, "switches")
        read = "grep voluntary_ctxt_switches /proc/$PPID/task/$PPID/status | head -1 >> %s" % counts
        script = "/bin/true; %s; i=0; while [ $i -lt 600 ]; do /bin/true; i=$((i + 1)); done; %s" % (read, read)
        _, doc = memobs(["-q"], ["sh", "-c", script], check_rc=0)
        with open(counts) as f:
            before, after = [int(line.split()[1]) for line in f]
    assert len([p for p in doc["processes"] if p["comm"] == "true"]) == 601, len(doc["processes"])
    assert after - before < 300, (before, after)


def test_watchdog_answers_when_memobs_is_killed():
    # kill -9 of memobs at random moments while its tree execs files it has
    # not seen (each a look and a link): the tree runs to its end, and the
    # watchdog leaves with it.
    with tempfile.TemporaryDirectory() as d:
        for i in range(60):
            fresh_copy(prog("layout_a"), d, "m%02d" % i)
        started, done = os.path.join(d, "started"), os.path.join(d, "done")
        script = "touch %s; for f in %s/m*; do $f >/dev/null || exit 1; done; touch %s" % (started, d, done)
        rng = random.Random(17)
        for round_ in range(6):
            for f in (started, done):
                if os.path.exists(f):
                    os.unlink(f)
            m = subprocess.Popen([MEMOBS, "-q", "--", "sh", "-c", script], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            deadline = time.time() + 60
            while not os.path.exists(started):
                assert time.time() < deadline and m.poll() is None, "round %d: the command did not start" % round_
                time.sleep(0.01)
            # By pid: its renamed command line needs CAP_SYS_RESOURCE, which a
            # container may not give, and once memobs is gone it is not its child.
            watchdog = [c for c, name, _ in children_of(m.pid) if name == "memobs-watchdog"]
            assert len(watchdog) == 1, "round %d: memobs has no watchdog while its command runs" % round_
            time.sleep(rng.uniform(0, 0.4))
            m.send_signal(signal.SIGKILL)
            m.wait()
            deadline = time.time() + 60
            while not os.path.exists(done):
                assert time.time() < deadline, "round %d: the tree did not finish after memobs was killed" % round_
                time.sleep(0.05)
            while proc_field(watchdog[0], "Name") == "memobs-watchdog" and not gone(watchdog[0]):
                assert time.time() < deadline, "round %d: the watchdog outlived the tree" % round_
                time.sleep(0.05)


def proc_field(pid, name):
    """A line of /proc/PID/status (None when the process is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def children_of(pid):
    """pid's children (pid, status Name, Seccomp_filters)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and proc_field(int(entry), "PPid") == str(pid):
            found.append((int(entry), proc_field(int(entry), "Name"),
                          int(proc_field(int(entry), "Seccomp_filters") or 0)))
    return found


def parked_child_of(pid):
    """The command memobs PID forked, parked before its exec (its child with
    one seccomp filter more than memobs: the exec gate), and its watchdog;
    None for either not there yet."""
    own = int(proc_field(pid, "Seccomp_filters") or 0)
    children = children_of(pid)
    parked = [c for c, _, filters in children if filters > own]
    watchdog = [c for c, name, _ in children if name == "memobs-watchdog"[:15]]
    return parked[0] if parked else None, watchdog[0] if watchdog else None


def gone(pid):
    return (proc_field(pid, "State") or "Z")[0] == "Z"


def blocked_in(pid):
    """The syscall pid is blocked in and its first argument, or None
    (running, or gone)."""
    try:
        with open("/proc/%d/syscall" % pid) as f:
            words = f.read().split()
    except OSError:
        return None
    return (int(words[0]), int(words[1], 16)) if words and words[0].isdigit() else None


def cgroups_of(pid):
    """The memory cgroups memobs PID made (memobs-PID-START) still there."""
    with open("/proc/self/cgroup") as f:
        lines = f.read().splitlines()
    v1 = [l.split(":", 2)[2] for l in lines if l.split(":")[1] == "memory"]
    parent = "/sys/fs/cgroup/memory" + v1[0] if v1 else \
        cgroup2_mount() + [l for l in lines if l.startswith("0::")][0][3:]
    return [e for e in os.listdir(parent) if e.startswith("memobs-%d-" % pid)]


def holds_listener(pid):
    """Does pid hold a seccomp listener (the watchdog, once memobs gave it
    the exec gate's)?"""
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return False
    for fd in fds:
        try:
            if "seccomp" in os.readlink("/proc/%d/fd/%s" % (pid, fd)):
                return True
        except OSError:
            pass
    return False


def stop(pid):
    """SIGSTOP pid and wait until it is stopped: it writes nothing more."""
    os.kill(pid, signal.SIGSTOP)
    while (proc_field(pid, "State") or "T")[0] not in "TZ":
        time.sleep(0.001)


# Where the parked command waits: the exec gate's first notification (an
# execve of nothing), or the read of its release.
SYS_READ, SYS_EXECVE = 0, 59
PARKED = ((SYS_READ, None), (SYS_EXECVE, 0))


def test_parked_command_never_runs_when_memobs_is_killed():
    # The command is forked before the BPF side loads (it moves into its
    # memory cgroup meanwhile) and waits, parked, for the release. memobs
    # is stopped at moments of its start (even rounds: after the fork;
    # odd: once its watchdog holds the exec gate, which answers it after
    # memobs, so that only the release holds the command), and killed: a
    # command still parked (in its gate's first notification, or reading
    # its release) never runs, its process exits (never stopped), and the
    # watchdog and the command's memory cgroup go too.
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as d:
        ran = os.path.join(d, "ran")
        parked_rounds = 0
        name = os.path.basename(MEMOBS)[:15]  # the parked command's, before its exec
        for round_ in range(6):
            m = subprocess.Popen([MEMOBS, "-q", "--", "sh", "-c", "touch %s" % ran], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            deadline = time.time() + 60
            child = watchdog = None
            while child is None or watchdog is None:
                assert time.time() < deadline and m.poll() is None, "round %d: no parked command" % round_
                child, watchdog = parked_child_of(m.pid)
            if round_ % 2:
                while not holds_listener(watchdog):
                    assert time.time() < deadline and m.poll() is None, "round %d: no watchdog" % round_
            else:
                time.sleep(0 if round_ == 0 else rng.uniform(0, 0.15))
            stop(m.pid)
            # memobs stopped: the command settles where it waits (or ran).
            while proc_field(child, "Name") == name and blocked_in(child) is None:
                assert time.time() < deadline, "round %d: the command neither waited nor ran" % round_
                time.sleep(0.001)
            where = blocked_in(child) if proc_field(child, "Name") == name else None
            parked = where is not None and any(where[0] == nr and arg in (None, where[1]) for nr, arg in PARKED)
            m.send_signal(signal.SIGKILL)
            m.wait()
            while not gone(child):
                state = proc_field(child, "State") or "Z"
                assert state[0] != "T", "round %d: the command is left stopped" % round_
                assert time.time() < deadline, "round %d: the command outlived memobs (%s)" % (round_, state)
                time.sleep(0.01)
            while not gone(watchdog) or cgroups_of(m.pid):
                assert time.time() < deadline, "round %d: the watchdog or the cgroup outlived memobs" % round_
                time.sleep(0.05)
            if parked:
                parked_rounds += 1
                assert not os.path.exists(ran), "round %d: the command ran after memobs was killed" % round_
            elif os.path.exists(ran):
                os.unlink(ran)
        # The first round stops memobs as soon as the command is forked,
        # long before the BPF side is loaded.
        assert parked_rounds >= 1, parked_rounds



def test_a_stop_signal_while_parked_is_the_commands():
    # Ctrl-C while memobs starts: the terminal signals the whole group, the
    # parked command too. It is the command's, as it would be a moment
    # later: it ends of it before it runs anything, and the report says so
    # (128+2), not "cannot start the command". memobs is stopped meanwhile,
    # so that the command is still parked when the signal comes.
    with tempfile.TemporaryDirectory() as d:
        ran, out = os.path.join(d, "ran"), os.path.join(d, "run.json")
        # As from a terminal: a suite started in the background (nohup, &)
        # ignores SIGINT, and an ignored signal stays ignored in children.
        m = subprocess.Popen([MEMOBS, "-q", "-o", out, "--", "sh", "-c", "touch %s" % ran],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 60
        child = None
        while child is None:
            assert time.time() < deadline and m.poll() is None, "no parked command"
            child, _ = parked_child_of(m.pid)
        stop(m.pid)
        while blocked_in(child) is None:
            assert time.time() < deadline, "the command neither waited nor ran"
            time.sleep(0.001)
        where = blocked_in(child)
        assert any(where[0] == nr and arg in (None, where[1]) for nr, arg in PARKED), where
        os.kill(child, signal.SIGINT)
        m.send_signal(signal.SIGCONT)
        _, err = m.communicate(timeout=120)
        assert m.returncode == 130, (m.returncode, err)
        assert not os.path.exists(ran), "the command ran"
        with open(out) as f:
            assert json.load(f)["exit_status"] == 130


if __name__ == "__main__":
    run_tests(globals())
