"""Phases from USDT markers: per-phase figures are about the phase, from C,
from a child process, from a shell script (memobs mark) and from Python.
Needs root."""
import os
import shutil
import subprocess
import tempfile

from harness import MEMOBS, ROOT, MiB, assert_near, memobs, phase, procs_by_comm, prog, run_tests


def test_known_phases_peak_over_their_own_baseline():
    _, doc = memobs(["--heap"], [prog("phases")], check_rc=0)
    big, small, leak = phase(doc, "big"), phase(doc, "small"), phase(doc, "leak")
    assert_near(big["heap"]["peak_live"] - big["heap"]["baseline_live"], 64 * MiB, rel=0.02, what="big heap")
    assert_near(small["heap"]["peak_live"] - small["heap"]["baseline_live"], 16 * MiB, rel=0.02, what="small heap")
    assert_near(big["rss"]["peak_over_baseline"], 64 * MiB, rel=0.10, what="big RSS")
    # small must not inherit big's peak: its window starts after big freed
    assert_near(small["rss"]["peak_over_baseline"], 16 * MiB, rel=0.10, what="small RSS")
    assert_near(leak["heap"]["end_live"] - leak["heap"]["baseline_live"], 8 * MiB, rel=0.02, what="leak kept")
    assert_near(leak["rss"]["delta"], 8 * MiB, rel=0.10, what="leak RSS delta")
    assert (big["items"], small["items"], leak["items"]) == (64, 16, 8)
    assert_near(big["per_item"]["alloc_bytes"], MiB, rel=0.02, what="big bytes per item")
    assert big["heap"]["alloc_bytes"] == 64 * MiB and small["heap"]["alloc_bytes"] == 16 * MiB
    assert big["end_s"] <= small["start_s"] and small["end_s"] <= leak["start_s"]
    top = big["top_processes"][0]
    assert top["comm"] == "phases" and top["rss_peak"] >= 64 * MiB, big["top_processes"]
    root = phase(doc, "main")
    assert root["rss"]["peak"] == doc["totals"]["rss"]["peak"]
    assert [m["label"] for m in doc["marks"]] == ["done"]
    # <memobs/markers.h> touches its strings: BPF read every one
    assert doc["drops"]["marker_reads_in_bpf"] == 0


def test_sites_grown_in_a_phase_and_live_at_its_end():
    """Issue 20, item 4: a phase's sites are what grew while it was open; what
    was live at its end (earlier phases' leaks included) is the other view."""
    proc, doc = memobs(["--heap", "--sample-bytes", "1"], [prog("phase_cases"), "growth"], check_rc=0)
    leak, churn = phase(doc, "leak")["heap"], phase(doc, "churn")["heap"]
    assert leak["grown_sites"] and "keep_leaked" in leak["grown_sites"][0]["frames"], leak
    assert_near(leak["grown_sites"][0]["grown_bytes"], 8 * MiB, rel=0.02, what="grown in leak")
    assert_near(leak["live_sites"][0]["live_bytes"], 8 * MiB, rel=0.02, what="live at the end of leak")
    # churn freed all it allocated: nothing grew there, though the leak is live at its end
    assert churn["grown_sites"] == [], churn["grown_sites"]
    assert churn["live_sites"] and "keep_leaked" in churn["live_sites"][0]["frames"], churn["live_sites"]
    assert_near(churn["live_sites"][0]["live_bytes"], 8 * MiB, rel=0.02, what="live at the end of churn")
    table = proc.stderr.split("heap site that grew most in each phase")[1].split("\n\n")[0].splitlines()
    rows = {l.split()[0]: l for l in table[1:]}
    assert "phase_cases" in rows["leak"] and "keep_leaked (phase_cases.c:" in rows["leak"], proc.stderr
    assert "churn" not in rows, proc.stderr
    # the run's own end: the leak is still live (what top_allocators says)
    assert "keep_leaked" in phase(doc, "main")["heap"]["live_sites"][0]["frames"]
    assert doc["drops"]["phase_sites"] == 0


def test_phase_figures_repeat_within_one_percent():
    _, a = memobs(["--heap", "-q"], [prog("phases")], check_rc=0)
    _, b = memobs(["--heap", "-q"], [prog("phases")], check_rc=0)
    for name in ("big", "small", "leak"):
        for path in (("rss", "peak_over_baseline"), ("heap", "peak_live"), ("heap", "alloc_bytes")):
            va, vb = phase(a, name)[path[0]][path[1]], phase(b, name)[path[0]][path[1]]
            assert_near(vb, va, rel=0.01, what="%s %s run to run" % (name, ".".join(path)))


def test_nested_phases_are_inclusive():
    _, doc = memobs(["--heap", "-q"], [prog("phase_cases"), "nested"], check_rc=0)
    outer, a, b, c = (phase(doc, n) for n in ("outer", "a", "b", "c"))
    ids = {p["name"]: p["id"] for p in doc["phases"]}
    assert a["parent"] == ids["outer"] and c["parent"] == ids["b"] and b["parent"] == ids["outer"]
    assert (outer["depth"], a["depth"], c["depth"]) == (1, 2, 3)
    assert_near(a["heap"]["peak_live"] - a["heap"]["baseline_live"], 8 * MiB, rel=0.02, what="a")
    assert_near(c["heap"]["peak_live"] - c["heap"]["baseline_live"], 16 * MiB, rel=0.02, what="c")
    # b contains c; outer contains both: their peaks include their children's
    assert b["heap"]["peak_live"] >= c["heap"]["peak_live"]
    assert outer["rss"]["peak"] >= max(a["rss"]["peak"], c["rss"]["peak"])
    # allocations are exclusive to the innermost phase
    assert outer["heap"]["alloc_bytes"] == 0 and b["heap"]["alloc_bytes"] == 0
    assert c["heap"]["alloc_bytes"] == 16 * MiB


def test_unmatched_end_is_counted_and_warned():
    proc, doc = memobs([], [prog("phase_cases"), "unmatched"], check_rc=0)
    assert doc["drops"]["unmatched_phase_ends"] == 1
    assert any('phase_end("nope")' in w for w in doc["warnings"]), doc["warnings"]
    assert 'phase_end("nope") matched no open phase' in proc.stderr
    assert_near(phase(doc, "ok")["rss"]["peak_over_baseline"], 4 * MiB, rel=0.10, what="ok after unmatched end")


def test_unclosed_phase_closed_at_end_and_flagged():
    _, doc = memobs([], [prog("phase_cases"), "unclosed"], check_rc=0)
    p = phase(doc, "open")
    assert p.get("unclosed") is True, p
    assert p["end_s"] > p["start_s"]
    assert_near(p["rss"]["peak_over_baseline"], 12 * MiB, rel=0.10, what="unclosed phase peak")
    assert "unclosed" not in phase(doc, "main")


def test_markers_from_a_child_process():
    _, doc = memobs(["--heap", "-q"], [prog("phase_cases"), "child"], check_rc=0)
    parent, work = phase(doc, "parent"), phase(doc, "work")
    assert work["parent"] == parent["id"]
    assert_near(work["heap"]["alloc_bytes"], 12 * MiB, rel=0.01, what="child's phase heap")
    assert_near(work["rss"]["peak_over_baseline"], 12 * MiB, rel=0.10, what="child's phase RSS")
    workers = [p for p in work["top_processes"] if p["comm"] == "phase_cases"]
    assert workers and workers[0]["rss_peak"] >= 12 * MiB, work["top_processes"]


def test_parallel_jobs_each_phase_its_own():
    """Issue 17, item 7: make -j2, each job one shell with its markers. The
    jobs' phases overlap (a stack per process tree); ending one closes nothing
    of the other; each phase's processes are its job's; its RSS peak is the
    session's while it was open (README, Phases). The files keep the jobs in
    step: job_a begins, job_b begins, both hold memory, job_a ends, job_b ends."""
    d = tempfile.mkdtemp(prefix="memobs-j2-")
    recipe = {"m": MEMOBS, "h": prog("hold_alloc")}
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write(("all: a b\n"
                 "a:\n\t%(m)s mark begin job_a; touch a.begun; %(h)s 40 b.begun a.held b.held; "
                 "%(m)s mark end job_a; touch a.ended\n"
                 "b:\n\t%(h)s 0 a.begun; %(m)s mark begin job_b; touch b.begun; %(h)s 80 a.held b.held a.ended; "
                 "%(m)s mark end job_b\n") % recipe)
    try:
        _, doc = memobs(["-q"], ["make", "-s", "-j2", "-C", d], check_rc=0)
    finally:
        shutil.rmtree(d)
    a, b = phase(doc, "job_a"), phase(doc, "job_b")
    for p in (a, b):
        assert p["parent"] == 0 and p["depth"] == 1, p
        assert not p.get("implicit_end") and not p.get("unclosed"), p
    assert a["start_s"] < b["start_s"] < a["end_s"] < b["end_s"], (a, b)
    holders = {p["argv"][1]: p["pid"] for p in procs_by_comm(doc, "hold_alloc")}
    in_a = [t["pid"] for t in a["top_processes"]]
    in_b = [t["pid"] for t in b["top_processes"]]
    assert holders["40"] in in_a and holders["80"] not in in_a, (holders, a["top_processes"])
    assert holders["80"] in in_b and holders["40"] not in in_b, (holders, b["top_processes"])
    # both jobs held their memory at once inside each window
    for p in (a, b):
        assert_near(p["rss"]["peak_over_baseline"], 120 * MiB, rel=0.05, what=p["name"] + " RSS over baseline")


def test_long_name_truncated_and_flagged():
    _, doc = memobs(["-q"], [prog("phase_cases"), "longname"], check_rc=0)
    p = [p for p in doc["phases"] if p["name"].startswith("xxx")][0]
    assert p["name"] == "x" * 63 and p.get("name_truncated") is True, p


def test_shell_script_marks_phases():
    script = ("%s mark begin shellphase; %s 20; %s mark items 20; %s mark end shellphase; %s mark mark finished"
              % (MEMOBS, prog("alloc_touch"), MEMOBS, MEMOBS, MEMOBS))
    _, doc = memobs(["-q"], ["sh", "-c", script], check_rc=0)
    p = phase(doc, "shellphase")
    assert p["items"] == 20
    assert_near(p["rss"]["peak_over_baseline"], 20 * MiB, rel=0.10, abs_=2 * MiB, what="shell phase RSS")
    assert [m["label"] for m in doc["marks"]] == ["finished"]
    assert doc["drops"]["marker_reads_in_bpf"] == 0


def test_mark_without_observer_is_a_quiet_no_op():
    for args in (["begin", "x"], ["end", "x"], ["items", "3"], ["mark", "y"]):
        proc = subprocess.run([MEMOBS, "mark"] + args, capture_output=True, text=True)
        assert proc.returncode == 0 and proc.stderr == "" and proc.stdout == "", (args, proc)
    proc = subprocess.run([MEMOBS, "mark", "items", "-3"], capture_output=True, text=True)
    assert proc.returncode == 2 and "not a count" in proc.stderr, proc.stderr


def test_python_module_phases():
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write("import sys\nsys.path.insert(0, %r)\nimport memobs\n"
                "with memobs.phase('load'):\n    data = [bytearray(1024) for _ in range(40 * 1024)]\n"
                "    memobs.items(len(data))\n"
                "with memobs.phase('drop'):\n    del data\n"
                "memobs.mark('py-done')\n" % os.path.join(ROOT, "emitters", "python"))
        script = f.name
    try:
        _, doc = memobs(["-q"], ["python3", script], check_rc=0)
    finally:
        os.unlink(script)
    load, drop = phase(doc, "load"), phase(doc, "drop")
    assert load["items"] == 40 * 1024
    assert load["rss"]["peak_over_baseline"] >= 40 * MiB, load["rss"]
    assert drop["start_s"] >= load["end_s"]
    assert [m["label"] for m in doc["marks"]] == ["py-done"]
    assert doc["drops"]["marker_reads_in_bpf"] == 0


def test_no_markers_one_main_phase():
    _, doc = memobs(["-q"], [prog("alloc_touch"), "8"], check_rc=0)
    assert [p["name"] for p in doc["phases"]] == ["main"]
    assert_near(doc["phases"][0]["rss"]["peak"], doc["totals"]["rss"]["peak"], what="main peak")


if __name__ == "__main__":
    run_tests(globals())
