"""What a terminal shows: the text summary, `report` and the messages on
stderr never pass a control character through (a comm with a newline and an
escape, phase names that retitle the window or clear the screen), an empty
phase name shows as "", and items that overflow 64 bits are flagged, never
printed negative (tests/progs/hostile_names.c)."""
import os
import json
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
    link = os.path.join(d, "evil\nna\033[2J")
    os.symlink(prog("hostile_names"), link)
    proc, doc = memobs([], [link], check_rc=0)
    path = os.path.join(d, "run.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    _hostile.append((proc, doc, path))
    return _hostile[0]


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
        assert "overflow" in text and "/item" not in text, text
        assert "-2" not in text.replace("2^53", ""), text


def test_an_empty_phase_name_is_visible():
    proc, doc, _ = hostile_run()
    assert [p for p in doc["phases"] if p["name"] == ""], doc["phases"]
    rows = [l for l in proc.stderr.splitlines() if l.strip().startswith('""')]
    assert len(rows) == 1 and "MiB" in rows[0], proc.stderr


_peak = []


def peak_run():
    """tests/progs/phases under sh, after a /bin/true that exits before it and
    before one that starts after it: the session peaks in phase "big" (64 MiB)."""
    if not _peak:
        _peak.append(memobs([], ["sh", "-c", "/bin/true; %s; /bin/true" % prog("phases")], check_rc=0))
    return _peak[0]


def test_session_peak_when_and_of_what():
    _, doc = peak_run()
    rss = doc["totals"]["rss"]
    big = [p for p in doc["phases"] if p["name"] == "big"][0]
    assert big["start_s"] <= rss["peak_s"] <= big["end_s"], (rss, big)
    at = rss["at_peak"]
    assert at["file"] + at["anon"] + at["shmem"] == rss["peak"], rss
    assert at["anon"] >= 64 * MiB, rss


if __name__ == "__main__":
    try:
        run_tests(globals())
    finally:
        for _, _, path in _hostile:
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
