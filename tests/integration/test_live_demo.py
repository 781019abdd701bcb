"""The ncurses live view (user/serve/live.c) driven in tmux through
tests/live/live_demo.c: the header and the processes by RSS show, the order
follows RSS as it changes, q and SIGINT both give the terminal back, a small
window says how many processes did not fit, and without a terminal it
refuses. Builds the demo against ncursesw (Debian libncurses-dev) and needs
tmux. test_live.py drives memobs --live itself."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, ROOT, run_tests  # noqa: E402

DEMO = os.path.join(BUILD, "live_demo")
# Unique: others may run these tests at the same time on the same tmux server.
SESSION = "memobs-live-test-%d" % os.getpid()
_built = []


def build_demo():
    if _built:
        return
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "ncursesw"], capture_output=True, text=True)
    assert flags.returncode == 0, "ncursesw not found: install the Debian package libncurses-dev"
    user = os.path.join(ROOT, "user")
    srcs = [os.path.join(ROOT, "tests", "live", "live_demo.c")] + \
        [os.path.join(user, f) for f in ("serve/live_view.c", "serve/status.c", "lib/units.c", "lib/json_util.c",
                                         "lib/utf8.c", "lib/termesc.c", "lib/users.c", "lib/grow.c",
                                         "serve/live.c")]
    cflags = subprocess.run(["pkg-config", "--cflags", "libcjson"], capture_output=True, text=True).stdout.split()
    subprocess.run(["cc", "-std=gnu11", "-D_GNU_SOURCE", "-g", "-Wall", "-Wextra", "-Werror",
                    "-Wno-missing-field-initializers", "-fsanitize=address,undefined",
                    "-I" + user, "-I" + os.path.join(ROOT, "include")] + cflags + srcs +
                   ["-o", DEMO] + flags.stdout.split() + ["-lcjson", "-lm"], check=True)
    _built.append(DEMO)


def tmux(*args):
    return subprocess.run(["tmux"] + list(args), capture_output=True, text=True, check=True).stdout


def start(width=90, height=14):
    assert shutil.which("tmux"), "tmux not found: install the Debian package tmux"
    build_demo()
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    # ASan would report on the demo's own exit; the shell line after shows the end.
    tmux("new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height),
         "TERM=xterm-256color %s; echo DEMO-EXIT=$?; sleep 60" % DEMO)


def screen():
    return tmux("capture-pane", "-p", "-t", SESSION)


def wait_for(text, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        s = screen()
        if text in s:
            return s
        time.sleep(0.1)
    raise AssertionError("%r never showed; screen:\n%s" % (text, screen()))


def stop():
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


def rows(s):
    return [l.split() for l in s.splitlines() if l.strip() and l.split()[0].isdigit()]


def test_header_and_processes_by_rss_then_q():
    start()
    try:
        s = wait_for("PEAK RSS")
        assert s.splitlines()[0].startswith("memobs ") and "phase render" in s and "drops 0" in s, s
        assert "q: quit" in s
        # ld grows by 2 MiB a refresh and overtakes cc1 (10 MiB): the order follows.
        s = wait_for("25.0 MiB")
        pids = [r[0] for r in rows(s)]
        assert pids[:2] == ["303", "202"] and len(pids) == 5, s
        tmux("send-keys", "-t", SESSION, "q")
        s = wait_for("DEMO-EXIT=0")
        assert "closed by q" in s and "PEAK RSS" not in s, "the screen is given back:\n" + s
    finally:
        stop()


def test_sigint_gives_the_terminal_back():
    start()
    try:
        wait_for("PEAK RSS")
        tmux("send-keys", "-t", SESSION, "C-c")
        s = wait_for("DEMO-EXIT=0")
        assert "closed by SIGINT" in s and "PEAK RSS" not in s, s
    finally:
        stop()


def test_small_window_says_what_does_not_fit():
    start(height=7)
    try:
        s = wait_for("more")
        assert "... 3 more" in s and len(rows(s)) == 2, s
        tmux("send-keys", "-t", SESSION, "q")
        wait_for("DEMO-EXIT=0")
    finally:
        stop()


def test_refuses_without_a_terminal():
    build_demo()
    # A new session has no controlling terminal, whatever runs the tests.
    p = subprocess.run([DEMO], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                       start_new_session=True)
    assert p.returncode == 1 and "Inappropriate ioctl" in p.stderr and p.stdout == "", p


if __name__ == "__main__":
    run_tests(globals())
