"""memobs --live for real, in tmux: the header and the observed process show,
q ends a -p run and the report is still written; under make -j2 in an 80x24
pane the command's output stays in a pane of its own (and in a log file it
names), with standard output redirected too. Needs root and tmux."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import MEMOBS, prog, run_tests

# Unique: others may run these tests at the same time on the same tmux server.
SESSION = "memobs-live-real-%d" % os.getpid()


def tmux(*args):
    return subprocess.run(["tmux"] + list(args), capture_output=True, text=True, check=True).stdout


def wait_for(text, timeout=20):
    deadline = time.time() + timeout
    screen = ""
    while time.time() < deadline:
        screen = tmux("capture-pane", "-p", "-t", SESSION)
        if text in screen:
            return screen
        time.sleep(0.3)
    raise AssertionError("%r not on screen:\n%s" % (text, screen))


def test_live_view_shows_processes_and_q_ends_a_pid_run():
    assert shutil.which("tmux"), "tmux not found: install the Debian package tmux"
    with tempfile.TemporaryDirectory() as d:
        target = subprocess.Popen([prog("wait_alloc"), os.path.join(d, "never"), "1"])
        out, done = os.path.join(d, "run.json"), os.path.join(d, "done")
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        try:
            tmux("new-session", "-d", "-s", SESSION, "-x", "110", "-y", "20",
                 "TERM=xterm-256color %s --live -q -o %s -p %d; echo $? > %s; sleep 30"
                 % (MEMOBS, out, target.pid, done))
            screen = wait_for("wait_alloc")
            assert "RSS" in screen and str(target.pid) in screen, screen
            # g: the rows become groups of processes, by name, user, cgroup.
            tmux("send-keys", "-t", SESSION, "g")
            screen = wait_for("(now: comm)")
            assert re.search(r"^\s+1\s.*MiB.*\swait_alloc$", screen, re.M), screen
            tmux("send-keys", "-t", SESSION, "g")
            screen = wait_for("(now: user)")
            assert re.search(r"\sroot$", screen, re.M), screen
            with open("/proc/%d/cgroup" % target.pid) as f:
                cgroup = [l[3:].strip() for l in f if l.startswith("0::")][0]
            tmux("send-keys", "-t", SESSION, "g")
            screen = wait_for("(now: cgroup)")
            assert re.search(r"\s%s$" % re.escape(cgroup), screen, re.M), (cgroup, screen)
            tmux("send-keys", "-t", SESSION, "q")
            deadline = time.time() + 30
            while not os.path.exists(done) and time.time() < deadline:
                time.sleep(0.2)
            with open(done) as f:
                assert f.read().strip() == "0"
            with open(out) as f:
                doc = json.load(f)
            assert any(p["pid"] == target.pid for p in doc["processes"])
            screen = tmux("capture-pane", "-p", "-t", SESSION)
            assert "wait_alloc" not in screen, "the terminal was not given back:\n" + screen
        finally:
            subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
            target.kill()


def test_live_needs_a_terminal():
    # A new session has no controlling terminal, whatever runs the tests.
    proc = subprocess.run([MEMOBS, "--live", "--", "true"], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          start_new_session=True)
    assert proc.returncode == 2 and "--live needs a terminal" in proc.stderr, proc.stderr


# Two jobs of make -j2 that print (one in colour, one also on stderr) every
# 50 ms until the file "stop" appears.
MAKEFILE = """all: a b
a:
	@i=0; while [ ! -e stop ]; do i=$$((i+1)); echo "job-a out $$i"; echo "job-a err $$i" >&2; sleep 0.05; done
b:
	@i=0; while [ ! -e stop ]; do i=$$((i+1)); printf '\\033[01;31mjob-b out %s\\033[0m\\n' $$i; sleep 0.05; done
"""


def live_make(d, redirect=""):
    """memobs --live -- make -j2 in an 80x24 pane, until its output shows in
    the pane: (the screen then, the screen at the end)."""
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write(MAKEFILE)
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    tmux("new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24",
         "cd %s && TMPDIR=%s TERM=xterm-256color %s --live -- make -j2 %s; echo MEMOBS-EXIT=$?; sleep 30"
         % (d, d, MEMOBS, redirect))
    try:
        deadline = time.time() + 30
        while True:
            screen = tmux("capture-pane", "-p", "-t", SESSION)
            pane = screen.split("output of the command")[-1]
            if pane.count("job-") >= 3 or time.time() > deadline:
                break
            time.sleep(0.3)
        open(os.path.join(d, "stop"), "w").close()
        return screen, wait_for("MEMOBS-EXIT=")
    finally:
        open(os.path.join(d, "stop"), "w").close()


def test_live_make_keeps_the_command_output_in_its_pane():
    with tempfile.TemporaryDirectory() as d:
        try:
            screen, end = live_make(d)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        rows = screen.splitlines()
        assert len(rows) <= 24 and all(len(r) <= 80 for r in rows), screen
        assert rows[0].startswith("memobs ") and "PEAK RSS" in rows[3], screen
        title = [i for i, r in enumerate(rows) if "output of the command (all of it in" in r]
        assert len(title) == 1, screen
        # Above the pane the view, untouched; in it the last lines, without escapes.
        assert not [r for r in rows[:title[0]] if "job-" in r], screen
        pane = rows[title[0] + 1:]
        assert sum("job-" in r for r in pane) >= 3 and "[01;31m" not in screen, screen
        log = re.search(r"the command's output is in (\S+)", end)
        assert log and "MEMOBS-EXIT=0" in end, end
        with open(log.group(1)) as f:
            text = f.read()
        for what in ("job-a out 1\n", "job-a err 1\n", "job-b out 1"):
            assert what in text, text[:400]


def test_live_view_usable_with_stdout_redirected():
    with tempfile.TemporaryDirectory() as d:
        try:
            screen, end = live_make(d, "> out.txt")
        finally:
            subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
        assert screen.splitlines()[0].startswith("memobs ") and "PEAK RSS" in screen, screen
        assert "MEMOBS-EXIT=0" in end, end
        with open(os.path.join(d, "out.txt")) as f:
            out = f.read()
        # The command's standard output, all of it and only it: none of the view.
        assert "job-a out 1\n" in out and "\033[01;31mjob-b out 1\033[0m\n" in out, out[:400]
        assert "job-a err" not in out and "PEAK RSS" not in out and "\033[?" not in out, out[:400]
        log = re.search(r"the command's output is in (\S+)", end)
        with open(log.group(1)) as f:
            assert "job-a err 1\n" in f.read()


if __name__ == "__main__":
    run_tests(globals())
