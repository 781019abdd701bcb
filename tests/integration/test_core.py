"""The tracer against real processes, checked with what the kernel says on
its own (VmHWM, wait4's ru_maxrss via /usr/bin/time). Needs root."""
import os
import re
import subprocess
import tempfile
import time

from harness import MEMOBS, MEMOBS_ASAN, MiB, assert_near, gnu_time_maxrss, memobs, prog, procs_by_comm, run_tests


def vmhwm_from(stdout):
    return [int(m) * 1024 for m in re.findall(r"VmHWM_kB (\d+)", stdout)]


def test_peak_rss_matches_vmhwm_and_time():
    proc, doc = memobs([], [prog("alloc_touch"), "64"], check_rc=0)
    hwm = vmhwm_from(proc.stdout)[0]
    p = procs_by_comm(doc, "alloc_touch")[0]
    assert_near(p["rss"]["peak"], hwm, rel=0.05, abs_=MiB, what="peak RSS vs the process's own VmHWM")
    assert_near(p["rss"]["peak"], gnu_time_maxrss([prog("alloc_touch"), "64"]), rel=0.05, abs_=MiB,
                what="peak RSS vs /usr/bin/time %M")
    assert p["rss"]["peak_anon"] >= 64 * MiB, p["rss"]
    assert doc["totals"]["rss"]["peak"] >= p["rss"]["peak"]
    assert doc["exit_status"] == 0 and p["exit_status"] == 0


def test_every_child_seen_with_its_own_peak():
    proc, doc = memobs([], [prog("children"), "6", "8"], check_rc=0)
    truth = {int(pid): int(kb) * 1024 for pid, kb in re.findall(r"child (\d+) (\d+)", proc.stdout)}
    assert len(truth) == 6, proc.stdout
    root = procs_by_comm(doc, "children")
    by_pid = {p["pid"]: p for p in doc["processes"]}
    parent = [p for p in root if p["pid"] not in truth][0]
    for i, (pid, hwm) in enumerate(sorted(truth.items())):
        assert pid in by_pid, "child %d missing" % pid
        child = by_pid[pid]
        assert child["ppid"] == parent["pid"], child
        assert_near(child["rss"]["peak"], hwm, rel=0.05, abs_=MiB, what="child %d peak RSS" % pid)
    # exit statuses 0..5 in fork order
    statuses = sorted(by_pid[pid]["exit_status"] for pid in truth)
    assert statuses == list(range(6)), statuses


def test_a_burst_of_short_children_all_recorded():
    # Fork and exit events that wake no one (lazy_events) are read later in
    # a batch: none may be lost or left without its exit.
    n = 1500
    proc, doc = memobs(["-q"], [prog("children"), str(n), "0"], check_rc=0)
    truth = {int(pid) for pid, _ in re.findall(r"child (\d+) (\d+)", proc.stdout)}
    assert len(truth) == n, proc.stdout[-500:]
    by_pid = {p["pid"]: p for p in doc["processes"]}
    missing = sorted(truth - set(by_pid))
    assert not missing, "%d children missing, e.g. %s" % (len(missing), missing[:5])
    statuses = sorted(by_pid[pid]["exit_status"] for pid in truth)
    assert statuses == sorted(i % 256 for i in range(n)), statuses[:20]
    assert doc["drops"]["events"] == 0 and doc["drops"]["processes"] == 0, doc["drops"]


def test_pid_run_ends_with_the_exits_it_saw():
    # A loop of short children observed with -p for a second: every child
    # but the one running when memobs stops is recorded with its end. Exit
    # events that woke no one (lazy_events) are read at the end too.
    loop = subprocess.Popen(["sh", "-c", "while :; do /bin/sleep 0.01; done"])
    try:
        time.sleep(0.2)
        _, doc = memobs(["-q", "-p", str(loop.pid), "--duration", "1"], check_rc=0)
    finally:
        loop.kill()
        loop.wait()
    sleeps = procs_by_comm(doc, "sleep")
    unended = [p["pid"] for p in sleeps if p["end_s"] is None]
    assert len(sleeps) > 10 and len(unended) <= 1, (len(sleeps), unended)


def test_children_that_exec_are_followed():
    _, doc = memobs([], [prog("children"), "3", "10", "exec"], check_rc=0)
    touched = procs_by_comm(doc, "alloc_touch")
    assert len(touched) == 3, [p["comm"] for p in doc["processes"]]
    peaks = sorted(p["rss"]["peak"] for p in touched)
    for i, peak in enumerate(peaks):
        assert_near(peak, (i + 1) * 10 * MiB, rel=0.10, abs_=2 * MiB, what="exec'd child %d" % i)
    for p in touched:
        assert p["argv"][0].endswith("alloc_touch") and p["exe"].endswith("alloc_touch"), p


def test_concurrent_tree_peak_is_the_sum():
    # Two processes hold 24 and 40 MiB at the same time (hold 600 ms each).
    cmd = ["sh", "-c", "%s 24 600 & %s 40 600; wait" % (prog("alloc_touch"), prog("alloc_touch"))]
    _, doc = memobs([], cmd, check_rc=0)
    peaks = sum(p["rss"]["peak"] for p in procs_by_comm(doc, "alloc_touch"))
    session = doc["totals"]["rss"]["peak"]
    assert session >= 64 * MiB, session
    assert session <= peaks + 8 * MiB, (session, peaks)


def test_heap_figures_are_exact():
    """In process (the default for a command): the library's counts; its
    free and live bytes are the allocator's usable sizes, a few bytes above
    the requested ones, which stay within the start-up noise here."""
    proc, doc = memobs(["--heap"], [prog("heap_shape"), "20000"], check_rc=0)
    m = re.search(r"expect_alloc_bytes (\d+) expect_alloc_count (\d+) expect_live (\d+)", proc.stdout)
    want_bytes, want_count, want_live = map(int, m.groups())
    p = procs_by_comm(doc, "heap_shape")[0]
    assert p["heap_probed"] is True
    assert p["heap"]["counted_by"] == "in-process" and p["heap"]["basis"] == "usable", p["heap"]
    assert re.search(r"/libc\.so\.6$", p["heap"]["allocator"]), p["heap"]
    # start-up noise (stdio buffers) under 64 KiB and a handful of calls
    assert 0 <= p["heap"]["alloc_bytes"] - want_bytes < 64 * 1024, (p["heap"], want_bytes)
    assert 0 <= p["heap"]["alloc_count"] - want_count <= 8, (p["heap"], want_count)
    assert 0 <= p["heap"]["live"] - want_live < 64 * 1024, (p["heap"], want_live)
    assert p["heap"]["peak_live"] >= want_live
    assert p["heap"]["free_unknown_count"] == 0
    assert doc["totals"]["heap"]["alloc_bytes"] == p["heap"]["alloc_bytes"]
    assert doc["heap_probes"] == [], doc["heap_probes"]


def test_heap_uprobes_sit_on_emulated_instructions():
    """--heap=uprobes: today's path, the comparison row of the bench."""
    _, doc = memobs(["--heap=uprobes"], [prog("heap_shape"), "100"], check_rc=0)
    p = procs_by_comm(doc, "heap_shape")[0]
    assert p["heap"]["counted_by"] == "uprobes" and p["heap"]["basis"] == "requested", p["heap"]
    probes = {h["function"]: h for h in doc["heap_probes"] if h["allocator"] == "glibc"}
    # free's first instruction is stepped by the kernel: the probe must sit on an emulated one
    assert probes["free"]["emulated"] and not probes["free"]["uretprobe"], probes["free"]
    assert probes["malloc"]["emulated"] and probes["malloc"]["uretprobe"] and probes["malloc"]["skipped_bytes"] == 0


def test_without_heap_no_heap_figures():
    _, doc = memobs([], [prog("heap_shape"), "100"], check_rc=0)
    assert doc["heap_traced"] is False
    assert doc["totals"]["heap"]["alloc_count"] == 0


def test_exit_status_passes_through():
    for code in (0, 3, 42):
        proc, _ = memobs(["-q"], ["sh", "-c", "exit %d" % code])
        assert proc.returncode == code, (code, proc.returncode, proc.stderr)
    proc, doc = memobs(["-q"], ["sh", "-c", "kill -9 $$"])
    assert proc.returncode == 137, proc.returncode
    assert doc["exit_status"] == 137
    assert procs_by_comm(doc, "sh")[0]["exit_status"] == 137


def test_killed_descendant_recorded():
    cmd = ["sh", "-c", "%s 16 5000 & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid; exit 0" % prog("alloc_touch")]
    _, doc = memobs(["-q"], cmd, check_rc=0)
    victim = procs_by_comm(doc, "alloc_touch")[0]
    assert victim["exit_status"] == 128 + 15, victim
    assert victim["rss"]["peak"] >= 16 * MiB


def test_attach_to_running_pid():
    with tempfile.TemporaryDirectory() as d:
        go = os.path.join(d, "go")
        target = subprocess.Popen([prog("wait_alloc"), go, "48", "300"])
        try:
            out = os.path.join(d, "run.json")
            observer = subprocess.Popen([MEMOBS, "-q", "-o", out, "-p", str(target.pid)],
                                        stderr=subprocess.PIPE, text=True)
            time.sleep(2.0)  # let memobs load and attach before the target allocates
            open(go, "w").close()
            target.wait(timeout=30)
            _, err = observer.communicate(timeout=60)
            assert observer.returncode == 0, err
            import json
            with open(out) as f:
                doc = json.load(f)
        finally:
            target.kill()
    p = [p for p in doc["processes"] if p["pid"] == target.pid][0]
    assert p["rss"]["peak"] >= 48 * MiB, p["rss"]
    assert_near(p["rss"]["peak"], 48 * MiB + p["rss"]["peak_file"], rel=0.05, abs_=2 * MiB, what="attached peak")
    assert doc["mode"] == "pid" and doc["target_pid"] == target.pid
    assert p["comm"] == "wait_alloc" and p["argv"][0].endswith("wait_alloc") and p["exe"].endswith("wait_alloc"), p


def test_unknown_pid_is_a_clear_error():
    proc = subprocess.run([MEMOBS, "-p", "4194303"], capture_output=True, text=True)
    assert proc.returncode == 125, proc.returncode
    assert proc.stderr.strip() == "memobs: cannot attach to pid 4194303: no such process", proc.stderr


def test_command_not_found_and_not_executable():
    proc = subprocess.run([MEMOBS, "--", "no-such-command-xyz"], capture_output=True, text=True)
    assert proc.returncode == 127, proc.returncode
    assert "cannot run 'no-such-command-xyz': No such file or directory" in proc.stderr, proc.stderr
    with tempfile.NamedTemporaryFile(suffix=".txt") as plain:
        os.chmod(plain.name, 0o644)
        proc = subprocess.run([MEMOBS, "--", plain.name], capture_output=True, text=True)
    assert proc.returncode == 126, proc.returncode
    assert "cannot run '%s': Permission denied" % plain.name in proc.stderr, proc.stderr


def test_usage_errors_exit_2():
    for args in ([], ["-p", "x"], ["--interval", "0", "--", "true"], ["-p", "1", "--", "true"]):
        proc = subprocess.run([MEMOBS] + args, capture_output=True, text=True)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        assert proc.stderr.startswith("memobs: ") or proc.stderr.startswith("usage"), proc.stderr


def make_project(d, nfiles):
    for i in range(nfiles):
        with open(os.path.join(d, "f%d.c" % i), "w") as f:
            for j in range(40 + 20 * i):
                f.write("int fn%d_%d(int x) { int a[16]; for (int k = 0; k < 16; k++) a[k] = x * k + %d;"
                        " int s = 0; for (int k = 0; k < 16; k++) s += a[k] * a[(k * 7) %% 16]; return s; }\n"
                        % (i, j, j))
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write("OBJS = %s\nall: $(OBJS)\n%%.o: %%.c\n\tgcc -O2 -c $< -o $@\n" %
                " ".join("f%d.o" % i for i in range(nfiles)))


def test_make_j2_every_compile_seen():
    nfiles = 12
    with tempfile.TemporaryDirectory() as d:
        make_project(d, nfiles)
        _, doc = memobs(["-q"], ["make", "-C", d, "-j2"], check_rc=0, timeout=900)
        jobs = procs_by_comm(doc, "cc1")
        assert len(jobs) == nfiles, len(jobs)
        biggest = max(jobs, key=lambda p: p["rss"]["peak"])
        source = [a for a in biggest["argv"] if a.endswith(".c")][0]
        truth = gnu_time_maxrss(["gcc", "-O2", "-c", os.path.join(d, os.path.basename(source)),
                                 "-o", os.path.join(d, "x.o")])
        assert_near(biggest["rss"]["peak"], truth, rel=0.10, what="largest cc1 vs /usr/bin/time of the same compile")
        assert len(procs_by_comm(doc, "as")) == nfiles
        groups = {g["comm"]: g for g in doc["by_command"]}
        assert groups["cc1"]["processes"] == nfiles and groups["cc1"]["rss_peak_max"] == biggest["rss"]["peak"]
        assert doc["drops"]["events"] == 0 and doc["drops"]["processes"] == 0, doc["drops"]


def test_asan_build_runs_clean():
    proc, doc = memobs(["--heap"], [prog("children"), "3", "4", "exec"], binary=MEMOBS_ASAN, check_rc=0)
    assert "ERROR: AddressSanitizer" not in proc.stderr and "runtime error" not in proc.stderr, proc.stderr
    assert "LeakSanitizer" not in proc.stderr, proc.stderr
    assert len(procs_by_comm(doc, "alloc_touch")) == 3


if __name__ == "__main__":
    run_tests(globals())
