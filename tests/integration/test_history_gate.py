"""history, compare and check from the command line: the CI gate's exit codes
(0 pass, 1 regression, 2 bad input) and messages on synthetic history files
(no root needed), then end to end with the tracer (needs root)."""
import json
import os
import shutil
import statistics
import subprocess
import tempfile

from harness import MEMOBS, MiB, Skip, prog, run_tests

TMP = tempfile.mkdtemp(prefix="memobs-gate-")


def doc(peak_rss, label="L", command=("make", "-j8"), commit="0123456789abcdef0123456789abcdef01234567",
        peak_heap=None, phases=None, time_utc="2024-05-01T12:00:00Z", duration=1.5, exit_status=0, procs=None):
    """A run document of the shape run_json.c writes, with only what the gate reads."""
    heap = peak_heap is not None
    return {
        "schema": 1, "memobs_version": "0.1.0", "command": list(command), "label": label,
        "git": {"commit": commit, "branch": "main", "dirty": False}, "time_utc": time_utc,
        "host": "ci", "duration_s": duration, "exit_status": exit_status, "heap_traced": heap,
        "totals": {"rss": {"peak": peak_rss},
                   "heap": {"peak_live": peak_heap or 0, "alloc_bytes": 0, "alloc_count": 0,
                            "free_bytes": 0, "free_count": 0}},
        "phases": [{"name": "main", "duration_s": duration, "items": 0,
                    "rss": {"baseline": 0, "peak": peak_rss, "end": 0, "delta": 0, "peak_over_baseline": peak_rss},
                    "heap": {"baseline_live": 0, "peak_live": peak_heap or 0, "end_live": 0}}]
                  + [{"name": name, "duration_s": 0.5, "items": 10,
                      "rss": {"baseline": 0, "peak": peak, "end": 0, "delta": 0, "peak_over_baseline": peak},
                      "heap": {"baseline_live": 0, "peak_live": 0, "end_live": 0}}
                     for name, peak in (phases or {}).items()],
        "processes": [{"pid": i + 1, "comm": comm, "rss": {"peak": peak}} for i, (comm, peak) in
                      enumerate(procs or [("make", 0)])],
        "by_command": [{"comm": comm, "processes": 1, "rss_peak_max": peak, "rss_peak_sum": peak,
                        "heap_alloc_bytes": 0} for comm, peak in sorted(procs or [], key=lambda x: -x[1])],
        "timeline": [{"t": 0.1, "rss": peak_rss}],
    }


def history(name, docs, raw_lines=()):
    """Write docs as a JSONL history; raw_lines: {index: text} inserted before docs[index]."""
    path = os.path.join(TMP, name + ".jsonl")
    raw = dict(raw_lines)
    with open(path, "w") as f:
        for i, d in enumerate(docs):
            if i in raw:
                f.write(raw[i] + "\n")
            f.write(json.dumps(d, separators=(",", ":")) + "\n")
    return path


def memobs(*args):
    return subprocess.run([MEMOBS] + list(args), capture_output=True, text=True, timeout=120)


def check(path, *args):
    return memobs("check", "--history=" + path, *args)


def assert_rc(proc, rc, *needles, stream="stderr"):
    out = getattr(proc, stream)
    assert proc.returncode == rc, "exit %d, expected %d\nstdout:\n%s\nstderr:\n%s" % (
        proc.returncode, rc, proc.stdout, proc.stderr)
    for n in needles:
        assert n in out, "%r not in %s:\n%s" % (n, stream, out)


def one_line_error(proc):
    """Bad input: one line on stderr that says what ("memobs check: what: why"), and for a
    usage error the pointer to the help after it."""
    lines = [l for l in proc.stderr.splitlines() if not l.startswith("memobs check: warning:")]
    if len(lines) == 2:
        assert lines[1] == "Try 'memobs check --help' for more information.", proc.stderr
        lines = lines[:1]
    assert len(lines) == 1 and lines[0].startswith("memobs check: "), proc.stderr


BASE = [100 * MiB, 102 * MiB, 98 * MiB, 101 * MiB, 99 * MiB]	# median 100 MiB


def test_check_passes_exactly_at_the_bound():
    path = history("at_bound", [doc(v) for v in BASE] + [doc(110 * MiB)])
    p = check(path, "--max-growth", "peak_rss=10%")
    assert_rc(p, 0, "PASS", "median of 5 runs", "+10.0%", stream="stdout")


def test_check_fails_past_the_bound():
    path = history("past_bound", [doc(v) for v in BASE] + [doc(110 * MiB + 1)])
    p = check(path, "--max-growth", "peak_rss=10%")
    assert_rc(p, 1, "FAIL", "peak_rss", stream="stdout")
    assert p.stderr == "", p.stderr


def test_check_several_metrics_one_fails():
    runs = [doc(v, phases={"render": v // 2}) for v in BASE]
    runs.append(doc(100 * MiB, phases={"render": 60 * MiB}))
    path = history("phase_fail", runs)
    p = check(path, "--max-growth", "peak_rss=10%", "--max-growth", "phase.render.rss.peak=5%")
    assert_rc(p, 1, "phase.render.rss.peak", "FAIL: 1 of 2 metrics", stream="stdout")
    verdicts = [l.split()[-1] for l in p.stdout.splitlines() if l.startswith(("peak_rss ", "phase.render"))]
    assert verdicts == ["PASS", "FAIL"], p.stdout


def test_check_fails_when_the_command_failed():
    # Issue 18, item 1: a build that crashed early used less memory and passed.
    path = history("failed", [doc(v) for v in BASE] + [doc(50 * MiB, exit_status=3)])
    p = check(path, "--max-growth", "peak_rss=10%")
    assert_rc(p, 1, "FAIL", "the command of the run checked exited with status 3", stream="stdout")
    # A failed run is no baseline either: it would pull the median down.
    path = history("failed_base", [doc(v) for v in BASE[:4]] + [doc(10 * MiB, exit_status=2), doc(110 * MiB)])
    p = check(path, "--max-growth", "peak_rss=10%")
    assert_rc(p, 0, "median of 4 runs (history lines 1, 2, 3, 4)", "PASS", stream="stdout")
    # Killed by a signal, said so too.
    path = history("killed", [doc(v) for v in BASE] + [doc(100 * MiB, exit_status=137)])
    assert_rc(check(path, "--max-growth", "peak_rss=10%"), 1, "killed by signal 9", stream="stdout")


def test_median_of_the_previous_five_same_label():
    # Older runs, other labels and runs after the current one do not count.
    runs = [doc(500 * MiB)] + [doc(v) for v in BASE] + [doc(900 * MiB, label="other"), doc(109 * MiB)]
    path = history("series", runs)
    assert_rc(check(path, "--max-growth", "peak_rss=10%"), 0, "median of 5 runs", stream="stdout")
    # --label picks the series: the newest "other" run has no earlier one.
    p = check(path, "--label", "other", "--max-growth", "peak_rss=10%")
    assert_rc(p, 2, "no baseline", "'other'")
    one_line_error(p)


def test_unlabelled_runs_match_on_the_command_line():
    runs = [doc(100 * MiB, label=None), doc(300 * MiB, label=None, command=["make", "-j2"]),
            doc(100 * MiB, label="L"), doc(105 * MiB, label=None)]
    path = history("unlabelled", runs)
    p = check(path, "--max-growth", "peak_rss=5%")
    assert_rc(p, 0, "median of 1 run (history line 1)", stream="stdout")


def test_fewer_than_five_runs():
    path = history("few", [doc(100 * MiB), doc(120 * MiB), doc(111 * MiB)])
    p = check(path, "--max-growth", "peak_rss=1%")
    assert_rc(p, 0, "median of 2 runs", stream="stdout")	# median 110 MiB


def test_bad_input_exits_2_with_one_clear_line():
    path = history("bad_input", [doc(v) for v in BASE] + [doc(100 * MiB)])
    cases = [
        (["--max-growth", "peak_rs=10%"], ["unknown metric 'peak_rs'", "peak_rss"]),
        (["--max-growth", "peak_rss=ten"], ["'ten' is not a percentage"]),
        (["--max-growth", "peak_rss=-5%"], ["cannot be negative"]),
        (["--max-growth", "peak_rss"], ["expected METRIC=PCT"]),
        (["--max-growth", "phase.render=5%"], ["phase.NAME.FIELD"]),
        ([], ["no --max-growth given"]),
        (["--max-growth", "phase.render.rss.peak=5%"], ["the run checked lacks", "no phase 'render'"]),
        (["--max-growth", "peak_heap=5%"], ["the run checked lacks", "without --heap"]),
        (["--label", "nope", "--max-growth", "peak_rss=5%"], ["no run labelled 'nope'"]),
        (["--baseline", "@-9", "--max-growth", "peak_rss=5%"], ["the history has 6 runs"]),
        (["--run", os.path.join(TMP, "missing.json"), "--max-growth", "peak_rss=5%"], ["missing.json"]),
        (["stray", "--max-growth", "peak_rss=5%"], ["unexpected argument 'stray'"]),
    ]
    for args, needles in cases:
        p = check(path, *args)
        assert_rc(p, 2, *needles)
        one_line_error(p)
        assert p.stdout == "", (args, p.stdout)


def test_no_history_and_no_runs():
    missing = os.path.join(TMP, "nope", "history.jsonl")
    p = check(missing, "--max-growth", "peak_rss=10%")
    assert_rc(p, 2, "no history at " + missing, "--history")
    one_line_error(p)
    empty = history("empty", [])
    p = check(empty, "--max-growth", "peak_rss=10%")
    assert_rc(p, 2, "holds no run")
    one_line_error(p)
    only = history("only", [doc(100 * MiB)])
    p = check(only, "--max-growth", "peak_rss=10%")
    assert_rc(p, 2, "no baseline", "--baseline")
    one_line_error(p)


def test_corrupt_lines_are_skipped_with_a_warning():
    runs = [doc(v) for v in BASE] + [doc(104 * MiB)]
    path = history("corrupt", runs, {2: '{"schema":1,"totals":{"rss"', 4: "", 5: "[1,2]"})
    with open(path, "a") as f:
        f.write('{"schema":1,"tota')	# a torn last append
    p = check(path, "--max-growth", "peak_rss=5%")
    assert_rc(p, 0, ":3: not valid JSON", ":6: blank line", ":8: valid JSON but not a run document",
              ":10: truncated line")
    assert "median of 5 runs" in p.stdout, p.stdout
    size = os.path.getsize(path)
    memobs("history", "--history=" + path)
    assert os.path.getsize(path) == size, "the history was rewritten"


def test_run_file_and_baseline_file_without_history():
    base, cur = os.path.join(TMP, "base.json"), os.path.join(TMP, "cur.json")
    with open(base, "w") as f:
        json.dump(doc(100 * MiB), f, indent=2)
    with open(cur, "w") as f:
        json.dump(doc(120 * MiB), f, indent=2)
    missing = os.path.join(TMP, "none.jsonl")
    assert_rc(check(missing, "--run", cur, "--baseline", base, "--max-growth", "peak_rss=10%"), 1,
              "FAIL", stream="stdout")
    assert_rc(check(missing, "--run", cur, "--baseline", base, "--max-growth", "peak_rss=20%"), 0,
              "PASS", stream="stdout")


def test_run_file_already_in_history_is_not_its_own_baseline():
    runs = [doc(v) for v in BASE] + [doc(150 * MiB)]
    path = history("self", runs)
    cur = os.path.join(TMP, "self.json")
    with open(cur, "w") as f:
        json.dump(runs[-1], f, indent=2)
    p = check(path, "--run", cur, "--max-growth", "peak_rss=10%")
    assert_rc(p, 1, "median of 5 runs (history lines 1, 2, 3, 4, 5)", stream="stdout")


def test_baseline_reference():
    runs = [doc(100 * MiB, commit="aaaa" + "0" * 36), doc(200 * MiB, commit="bbbb" + "0" * 36),
            doc(210 * MiB, commit="cccc" + "0" * 36)]
    path = history("ref", runs)
    assert_rc(check(path, "--baseline", "@-2", "--max-growth", "peak_rss=10%"), 0, stream="stdout")
    assert_rc(check(path, "--baseline", "aaaa", "--max-growth", "peak_rss=10%"), 1, stream="stdout")


def test_history_table_and_json():
    runs = [doc(100 * MiB + i * MiB, phases={"parse": 10 * MiB, "render": 50 * MiB}, peak_heap=20 * MiB,
                commit="%04x" % (0xabc0 + i) + "0" * 36) for i in range(25)]
    runs.append(doc(90 * MiB, label="other"))
    path = history("hist", runs)
    p = memobs("history", "--history=" + path, "--label", "L", "-n", "3")
    assert_rc(p, 0, "render", "parse", "abd6000", "trend over 3 runs (first -> last): peak_rss +1.6%", stream="stdout")
    rows = [l for l in p.stdout.splitlines() if l[:1].isdigit()]
    assert len(rows) == 3 and rows[0].startswith("23 "), p.stdout
    p = memobs("history", "--history=" + path, "--format", "json")
    assert_rc(p, 0)
    arr = json.loads(p.stdout)
    assert len(arr) == 20 and arr[-1]["label"] == "other" and arr[-1]["line"] == 26, arr[-1]
    assert arr[0]["peak_rss"] == 106 * MiB and arr[0]["peak_heap"] == 20 * MiB, arr[0]
    assert [ph["name"] for ph in arr[0]["phases"]] == ["parse", "render"], arr[0]
    assert arr[0]["phases"][1]["rss_peak"] == 50 * MiB
    # Many phases, long ones, a long label: the phases' peaks on a line under each run, 100 columns.
    many = history("many", [doc(MiB, label="a-label-much-longer-than-sixteen-columns",
                                phases={"phase-with-a-long-name-%d" % i: i * MiB for i in range(1, 9)})] * 2)
    p = memobs("history", "--history=" + many)
    assert_rc(p, 0, "phase peaks: phase-with-a-long-name-1 1.0 MiB, phase-with-a-long-name-2 2.0 MiB",
              "a-label-much-...", stream="stdout")
    assert not [l for l in p.stdout.splitlines() if len(l) > 100], p.stdout
    assert "peak heap" not in p.stdout, "no run traced the heap: no column"
    assert "phase-with-a-long-name-8 8.0 MiB" in " ".join(p.stdout.split()), p.stdout
    long_metric = "phase.phase-with-a-long-name-1.rss.peak_over_baseline"
    gate = memobs("check", "--history=" + many, "--baseline", "@-2", "--max-growth", long_metric + "=10%",
                  "--max-growth", "peak_rss=10%")
    for p in (gate, memobs("compare", "--history=" + many, "@-2", "@-1")):
        assert p.returncode == 0 and not [l for l in p.stdout.splitlines() if len(l) > 100], p.stdout + p.stderr
    assert "\n%s\n" % long_metric in gate.stdout, gate.stdout
    p = memobs("history", "--history=" + os.path.join(TMP, "nope.jsonl"))
    assert_rc(p, 2, "no history at")
    assert_rc(memobs("history", "--history=" + path, "-n", "0"), 2, "-n '0'")


def test_history_and_compare_show_command_and_exit_status():
    runs = [doc(100 * MiB, command=("make", "-j8")), doc(101 * MiB, command=("make", "-j8"), exit_status=2)]
    path = history("cmd_exit", runs)
    p = memobs("history", "--history=" + path)
    assert p.stdout.startswith("command: make -j8\n"), p.stdout	# once, above the table
    rows = [l.split() for l in p.stdout.splitlines() if l[:1].isdigit()]
    header = [l for l in p.stdout.splitlines() if l.startswith("line")][0].split()
    exit_col = header.index("exit")
    assert [r[exit_col] for r in rows] == ["0", "2"], p.stdout	# "time (UTC)" is two words, as are times
    arr = json.loads(memobs("history", "--history=" + path, "--format", "json").stdout)
    assert [(r["command"], r["exit_status"]) for r in arr] == [(["make", "-j8"], 0), (["make", "-j8"], 2)], arr
    # Different commands: each under its run, and compare warns.
    path = history("cmd_differ", [doc(100 * MiB, command=("make", "-j8")),
                                  doc(120 * MiB, command=("make", "-j2"), exit_status=0)])
    p = memobs("history", "--history=" + path)
    assert_rc(p, 0, "make -j8", "make -j2", stream="stdout")
    p = memobs("compare", "--history=" + path, "@-2", "@-1")
    assert_rc(p, 0, "make -j8", "make -j2", "exit 0", stream="stdout")
    assert "warning: A and B ran different commands" in p.stderr, p.stderr
    out = json.loads(memobs("compare", "--history=" + path, "--format", "json", "@-2", "@-1").stdout)
    assert out["a"]["command"] == ["make", "-j8"] and out["b"]["exit_status"] == 0, out
    assert out["same_command"] is False, out
    p = memobs("compare", "--history=" + path, "@-1", "@-1")
    assert "different commands" not in p.stderr, p.stderr


def test_gate_on_the_largest_process_and_one_command():
    # Issue 20: one cc1 grew 30% while the session peak moved +3.3%: peak_rss passes.
    def run(cc1, session):
        return doc(session, procs=[("ld", 40 * MiB), ("cc1", cc1), ("as", 5 * MiB)],
                   phases={"compile": session - 100 * MiB})
    path = history("one_job", [run(71 * MiB, 300 * MiB)] * 3 + [run(int(92.3 * MiB), 310 * MiB)])
    assert_rc(check(path, "--max-growth", "peak_rss=10%"), 0, "PASS", stream="stdout")
    for metric in ("max_process.peak_rss=10%", "by_command.cc1.rss_peak_max=10%"):
        p = check(path, "--max-growth", metric)
        assert_rc(p, 1, "FAIL", "cc1", "+30.0%", stream="stdout")
    assert "process: cc1 (pid 2)" in check(path, "--max-growth", "max_process.peak_rss=10%").stdout
    # Per phase, peak_over_baseline alone is RSS's.
    p = check(path, "--max-growth", "phase.compile.peak_over_baseline=1%")
    assert_rc(p, 1, "phase.compile.peak_over_baseline", "+5.0%", stream="stdout")
    p = check(path, "--max-growth", "by_command.cc2.rss_peak_max=10%")
    assert_rc(p, 2, "no process named 'cc2'")
    # compare: the commands that changed most, and the largest changes first.
    p = memobs("compare", "--history=" + path, "@-2", "@-1")
    assert_rc(p, 0, "largest changes", "by_command.cc1.rss_peak_max", "max_process.peak_rss", stream="stdout")
    lines = p.stdout.splitlines()
    first = lines.index("largest changes (commands and phases)")
    assert "by_command.cc1.rss_peak_max" in lines[first + 1], p.stdout
    out = json.loads(memobs("compare", "--history=" + path, "--format", "json", "@-2", "@-1").stdout)
    assert out["commands"][0]["metric"] == "cc1" and out["largest_changes"], out


def test_compare_rows_stay_in_their_columns_with_long_names():
    long_phase = "link-and-strip-every-shared-library-of-the-tree"
    a = doc(100 * MiB, phases={long_phase: 40 * MiB, "cc": 10 * MiB}, procs=[("cc1plus-wrapper", 50 * MiB)])
    b = doc(130 * MiB, phases={long_phase: 70 * MiB, "cc": 12 * MiB}, procs=[("cc1plus-wrapper", 80 * MiB)])
    p = memobs("compare", "--history=" + history("longnames", [a, b]), "@-2", "@-1")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert not [l for l in lines if len(l) > 100], p.stdout
    header = next(l for l in lines if l.startswith("metric "))
    # Every row's figures end where the header's do, and each metric name is there in full.
    rows = [l for l in lines if l.endswith("%") or l.endswith("only in A") or l.endswith("only in B")]
    assert len(rows) >= 8, p.stdout
    assert not [l for l in rows if len(l) != len(header)], p.stdout
    for name in ("phase.%s.rss.peak" % long_phase, "by_command.cc1plus-wrapper.rss_peak_max"):
        assert any(l.strip().startswith(name) for l in lines), (name, p.stdout)


def test_summary_lines_and_whole_documents_read_together():
    # An old history (a whole document per line) gets summary lines appended.
    full = doc(100 * MiB, phases={"render": 50 * MiB})
    summary = {"schema": 1, "summary": True, "memobs_version": "0.2", "time_utc": "2024-05-02T12:00:00Z",
               "host": "ci", "label": "L", "command": ["make", "-j8"], "exit_status": 0, "git": None,
               "heap_traced": False, "duration_s": 1.5, "totals": {"rss": {"peak": 104 * MiB}},
               "phases": [{"name": "main", "windows": 1, "rss": {"peak": 104 * MiB}},
                          {"name": "render", "windows": 2, "rss": {"peak": 60 * MiB}}],
               "by_command": [], "max_process": {"peak_rss": None, "peak_heap": None}}
    path = history("mixed", [full, summary])
    p = check(path, "--max-growth", "peak_rss=5%", "--max-growth", "phase.render.rss.peak=10%")
    assert_rc(p, 1, "phase.render.rss.peak", "+20.0%", stream="stdout")
    p = memobs("report", "--history=" + path, "@-1")
    assert p.returncode == 2 and "keeps the run's summary only" in p.stderr, p.stderr


def test_compare_phases_in_one_run_only():
    a = doc(100 * MiB, phases={"parse": 10 * MiB, "render": 50 * MiB})
    b = doc(120 * MiB, phases={"render": 60 * MiB, "link": 30 * MiB})
    path = history("cmp", [a, b])
    p = memobs("compare", "--history=" + path, "@-2", "@-1")
    assert_rc(p, 0, "phase parse (only in A)", "phase link (only in B)", "+20.0%", stream="stdout")
    p = memobs("compare", "--history=" + path, "--format", "json", "@-2", "@-1")
    assert_rc(p, 0)
    out = json.loads(p.stdout)
    assert out["a"]["line"] == 1 and out["b"]["line"] == 2, out
    totals = {r["metric"]: r for r in out["totals"]}
    assert totals["peak_rss"]["a"] == 100 * MiB and totals["peak_rss"]["change"] == 20 * MiB, totals
    phases = {ph["name"]: ph for ph in out["phases"]}
    assert phases["parse"]["in_a"] and not phases["parse"]["in_b"], phases["parse"]
    assert not phases["link"]["in_a"] and phases["link"]["in_b"], phases["link"]
    rss = [m for m in phases["link"]["metrics"] if m["metric"] == "rss.peak"][0]
    assert rss["a"] is None and rss["b"] == 30 * MiB and rss["change_pct"] is None, rss
    assert_rc(memobs("compare", "--history=" + path, "@-1", "@-3"), 2, "the history has 2 runs")
    assert_rc(memobs("compare", "--history=" + path, "@-1"), 2, "give two runs",
              "Try 'memobs compare --help' for more information.")


# --- end to end: the real tracer appends the runs the gate reads -------------


def traced_run(hist, mib, label="gate"):
    if os.geteuid() != 0:
        raise Skip("needs root to trace (run the tests with sudo)")
    p = subprocess.run([MEMOBS, "--history=" + hist, "--label", label, "--", prog("alloc_touch"), str(mib)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "memobs exited %d\n%s" % (p.returncode, p.stderr)


def test_end_to_end_gate_with_the_tracer():
    hist = os.path.join(TMP, "e2e", "history.jsonl")
    for _ in range(3):
        traced_run(hist, 32)
    with open(hist) as f:
        peaks = [json.loads(l)["totals"]["rss"]["peak"] for l in f]
    spread = (max(peaks) - min(peaks)) / statistics.median(peaks) * 100
    print("# peak_rss of 3 runs of alloc_touch 32: %s (spread %.2f%%)" % (peaks, spread))
    p = check(hist, "--max-growth", "peak_rss=10%")
    assert_rc(p, 0, "PASS", "median of 2 runs", stream="stdout")
    traced_run(hist, 64)
    p = check(hist, "--max-growth", "peak_rss=10%")
    assert_rc(p, 1, "FAIL", stream="stdout")
    p = memobs("history", "--history=" + hist)
    assert_rc(p, 0, "trend over 4 runs", stream="stdout")


def test_git_metadata_leaves_the_users_index_alone():
    # `git status` refreshes .git/index and rewrites it when it can take
    # index.lock: mid-build, the user's own git commands then fail on the
    # lock. memobs asks with --no-optional-locks.
    with tempfile.TemporaryDirectory() as repo:
        git = ["git", "-c", "user.email=t@t", "-c", "user.name=t", "-C", repo]
        subprocess.run(["git", "init", "-q", repo], check=True)
        with open(os.path.join(repo, "f"), "w") as f:
            f.write("x")
        subprocess.run(git + ["add", "f"], check=True)
        subprocess.run(git + ["commit", "-q", "-m", "x"], check=True)
        # the same content, other stat data: a refresh would rewrite the index
        os.utime(os.path.join(repo, "f"), (1, 1))
        index = os.path.join(repo, ".git", "index")
        before = os.stat(index)
        out = os.path.join(repo, ".git", "run.json")
        proc = subprocess.run([MEMOBS, "-q", "-o", out, "--", "true"], cwd=repo, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        after = os.stat(index)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "memobs rewrote .git/index"
        with open(out) as f:
            assert json.load(f)["git"]["dirty"] is False


def test_end_to_end_one_job_regresses():
    """A build of 40 processes: 10 `ld` of 40 MiB and one `cc1` at once. cc1 grows 30%, the
    session peak less than 5%: peak_rss passes, the largest process and cc1's command fail,
    naming cc1. The history keeps a summary line of a few KB, the whole document beside it."""
    if os.geteuid() != 0:
        raise Skip("needs root to trace (run the tests with sudo)")
    d = os.path.join(TMP, "onejob")
    os.makedirs(d)
    for name in ("ld", "cc1"):
        shutil.copy(prog("alloc_touch"), os.path.join(d, name))
    hist = os.path.join(d, "history.jsonl")
    for cc1 in (60, 78):
        script = ("for i in $(seq 27); do /bin/true; done; for i in $(seq 10); do ./ld 40 3000 >/dev/null & done; "
                  "./cc1 %d 3000 >/dev/null & wait" % cc1)
        p = subprocess.run([MEMOBS, "-q", "--history-full=" + hist, "--label", "onejob", "--", "sh", "-c", script],
                           capture_output=True, text=True, timeout=120, cwd=d)
        assert p.returncode == 0, "memobs exited %d\n%s" % (p.returncode, p.stderr)
    with open(hist) as f:
        lines = f.read().splitlines()
    sizes = [len(l) for l in lines]
    runs = [json.loads(l) for l in lines]
    print("# history lines of a 40-process run: %s bytes" % sizes)
    assert all(s < 8192 for s in sizes), sizes
    assert [r["max_process"]["peak_rss"]["comm"] for r in runs] == ["cc1", "cc1"], runs
    peaks = [r["totals"]["rss"]["peak"] for r in runs]
    assert peaks[1] < peaks[0] * 1.05, peaks
    assert_rc(check(hist, "--max-growth", "peak_rss=5%"), 0, "PASS", stream="stdout")
    for metric in ("max_process.peak_rss=10%", "by_command.cc1.rss_peak_max=10%"):
        assert_rc(check(hist, "--max-growth", metric), 1, "FAIL", "cc1", stream="stdout")
    # The whole document was kept beside the history: report reads it again.
    p = memobs("report", "--history=" + hist, "@-1", "--format", "json")
    assert p.returncode == 0, p.stderr
    again = json.loads(p.stdout)
    assert len(again["processes"]) >= 40 and again["time_utc"] == runs[1]["time_utc"], len(again["processes"])


try:
    run_tests(globals())
finally:
    shutil.rmtree(TMP, ignore_errors=True)
