"""What a terminal shows: the text summary, `report` and the messages on
stderr never pass a control character through (a comm with a newline and an
escape, phase names that retitle the window or clear the screen), an empty
phase name shows as "", and items that overflow 64 bits are flagged, never
printed negative (tests/progs/hostile_names.c)."""
import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import MEMOBS, MiB, memobs, prog, run_tests  # noqa: E402

_hostile = []


def hostile_run():
    """One run of hostile_names through a symlink whose name (its comm) holds
    a newline and ESC [2J: (completed process, run document, its file)."""
    if _hostile:
        return _hostile[0]
    d = tempfile.mkdtemp(prefix="memobs-text-")
    atexit.register(shutil.rmtree, d, True)
    link = os.path.join(d, "evil\nna\033[2J")
    os.symlink(prog("hostile_names"), link)
    proc, doc = memobs([], [link], check_rc=0)
    _hostile.append((proc, doc, keep(doc, d)))
    return _hostile[0]


def keep(doc, d):
    """The run document saved in d, for `memobs report`: its path."""
    path = os.path.join(d, "run.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def controls(text):
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0]


def test_no_control_character_reaches_the_terminal():
    proc, _, path = hostile_run()
    rep = subprocess.run([MEMOBS, "report", path], capture_output=True, text=True, timeout=60)
    for what, text in (("summary", proc.stderr), ("report", rep.stdout + rep.stderr)):
        assert not controls(text), "%s passes %r:\n%s" % (what, controls(text), text)
    assert "\\e]0;pwned\\x07title" in proc.stderr and "\\e[2Jclear" in proc.stderr, proc.stderr


def test_messages_escape_what_they_quote():
    p = subprocess.run([MEMOBS, "--", "/nonexistent/\033]0;pwned\007x\ny"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 127 and len(p.stderr.splitlines()) == 1, p.stderr
    assert not controls(p.stderr) and "\\e]0;pwned\\x07x\\ny" in p.stderr, p.stderr


def test_a_newline_in_a_name_keeps_the_row_whole():
    proc, doc, _ = hostile_run()
    pid = [p["pid"] for p in doc["processes"]][0]
    row = [l for l in proc.stderr.splitlines() if l.split()[:1] == [str(pid)]]
    assert len(row) == 1 and "evil\\nna\\e[2J" in row[0] and "MiB" in row[0], proc.stderr
    assert proc.stderr.splitlines()[0].startswith("memobs: ") and "(" in proc.stderr.splitlines()[0], proc.stderr


def test_items_overflow_is_flagged_never_negative():
    proc, doc, path = hostile_run()
    ph = [p for p in doc["phases"] if p["name"].endswith("title")][0]
    assert ph["items"] is None and ph["items_overflow"] is True and "per_item" not in ph, ph
    rep = subprocess.run([MEMOBS, "report", path], capture_output=True, text=True, timeout=60)
    for text in (proc.stderr, rep.stdout):
        row = [l for l in text.splitlines() if "title " in l]
        assert len(row) == 1 and row[0].split()[-1] == "overflow", text
        assert not re.search(r"(^|\s)-\d", text), text


def test_an_empty_phase_name_is_visible():
    proc, doc, _ = hostile_run()
    assert [p for p in doc["phases"] if p["name"] == ""], doc["phases"]
    rows = [l for l in proc.stderr.splitlines() if l.strip().startswith('""')]
    assert len(rows) == 1 and "MiB" in rows[0], proc.stderr


_peak = []


def peak_run():
    """tests/progs/phases under sh, after a /bin/true that exits before it and
    before one that starts after it: the session peaks in phase "big" (64 MiB).
    The script ends in a long comment, as long `sh -c` scripts do."""
    if not _peak:
        script = "/bin/true; %s; /bin/true # %s" % (prog("phases"), "x" * 200)
        _peak.append(memobs([], ["sh", "-c", script], check_rc=0))
    return _peak[0]


def test_session_peak_when_and_of_what():
    _, doc = peak_run()
    rss = doc["totals"]["rss"]
    big = [p for p in doc["phases"] if p["name"] == "big"][0]
    assert big["start_s"] <= rss["peak_s"] <= big["end_s"], (rss, big)
    at = rss["at_peak"]
    assert at["file"] + at["anon"] + at["shmem"] == rss["peak"], rss
    assert at["anon"] >= 64 * MiB, rss


def test_headline_says_when_the_session_peaked_and_who_was_alive():
    proc, doc = peak_run()
    lines = proc.stderr.splitlines()
    assert len(lines[0]) <= 100 and "...  (" in lines[0] and "exit 0)" in lines[0], lines[0]
    peak = lines[1]
    assert peak.startswith("  session peak RSS ") and "(in phase big)" in peak and "of it anon" in peak, peak
    assert "at %.2f s" % doc["totals"]["rss"]["peak_s"] in peak, (peak, doc["totals"]["rss"])
    alive = [l for l in lines if l.startswith("  alive then")][0]
    assert alive.startswith("  alive then") and " phases " in alive and " sh " in alive, alive
    assert "true" not in alive, alive


_build = []


def build_run():
    """make -j2 of a few C files under memobs --heap: a real multi-process
    build with long compiler command lines, heap columns and sites."""
    if not _build:
        d = tempfile.mkdtemp(prefix="memobs-build-")
        atexit.register(shutil.rmtree, d, True)
        for i in range(6):
            with open(os.path.join(d, "unit%d.c" % i), "w") as f:
                f.write("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                        "int f%d(int n) { char *p = malloc(n); memset(p, %d, n); int s = p[n / 2]; free(p); return s; }\n"
                        % (i, i))
        with open(os.path.join(d, "Makefile"), "w") as f:
            f.write("OBJS = %s\nlib.a: $(OBJS)\n\tar rcs $@ $^\n%%.o: %%.c\n\t$(CC) -O2 -g -Wall -Wextra "
                    "-fno-omit-frame-pointer -D_FORTIFY_SOURCE=2 -c $< -o $@\n"
                    % " ".join("unit%d.o" % i for i in range(6)))
        proc, doc = memobs(["--heap"], ["make", "-C", d, "-j2", "-s"], check_rc=0)
        _build.append((proc, doc, keep(doc, d)))
    return _build[0]


def too_wide(text):
    return [l for l in text.splitlines() if len(l) > 100]


def test_reports_fit_100_columns():
    for proc, path in ((build_run()[0], build_run()[2]), (peak_run()[0], None), (hostile_run()[0], hostile_run()[2])):
        assert not too_wide(proc.stderr), "\n".join(too_wide(proc.stderr))
        if path:
            rep = subprocess.run([MEMOBS, "report", path], capture_output=True, text=True, timeout=60)
            assert rep.returncode == 0 and not too_wide(rep.stdout), "\n".join(too_wide(rep.stdout))


def test_columns_without_figures_are_left_out():
    heap = build_run()[0].stderr
    plain = peak_run()[0].stderr
    procs = heap.split("top processes")[1].splitlines()[1].split()
    assert procs[-2:] == ["peak", "exit"] and "heap" in procs, procs
    assert "allocated" in heap.split("by command")[1].splitlines()[1], heap
    # Without --heap: no heap column anywhere (the headline's command line,
    # whose paths may hold the word, aside); with items, RSS per item is said to be that.
    figures = "\n".join(plain.splitlines()[1:])
    assert "heap" not in figures and "allocated" not in figures, plain
    assert "RSS/item" in plain and "divided by the items" in plain, plain


if __name__ == "__main__":
    try:
        run_tests(globals())
    finally:
        for _, _, path in _hostile + _build:
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
