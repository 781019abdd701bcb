"""memobs --live for real, in tmux: the header and the observed process show,
q ends a -p run and the report is still written. Needs root and tmux."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import MEMOBS, prog, run_tests

SESSION = "memobs-live-real"


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
    proc = subprocess.run([MEMOBS, "--live", "--", "true"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "--live needs a terminal" in proc.stderr, proc.stderr


if __name__ == "__main__":
    run_tests(globals())
