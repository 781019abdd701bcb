"""Faults and bad input: each gets one line and a documented exit code, the
report is still written, and nothing memobs did not start is killed.
Needs root."""
import json
import os
import signal
import stat
import subprocess
import tempfile
import threading
import time

from harness import MEMOBS, MiB, memobs, phase, prog, run_tests


def start_memobs(args, **kw):
    return subprocess.Popen([MEMOBS] + args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, **kw)


def wait_running(comm, parent, timeout=20):
    """pid of parent's child named comm (the command under memobs; not
    another one of that name on a shared host)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = subprocess.run(["pgrep", "-n", "-x", "-P", str(parent), comm], capture_output=True,
                             text=True).stdout.strip()
        if out:
            return int(out)
        time.sleep(0.1)
    raise AssertionError("%s never started" % comm)


def test_sigterm_to_memobs_goes_to_the_command_and_the_report_is_written():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "run.json")
        m = start_memobs(["-q", "-o", out, "--", prog("alloc_touch"), "16", "20000"])
        victim = wait_running("alloc_touch", m.pid)
        time.sleep(0.5)
        m.send_signal(signal.SIGTERM)
        _, err = m.communicate(timeout=60)
        assert m.returncode == 128 + signal.SIGTERM, (m.returncode, err)
        with open(out) as f:
            doc = json.load(f)
        p = [p for p in doc["processes"] if p["pid"] == victim][0]
        assert p["exit_status"] == 128 + signal.SIGTERM and p["rss"]["peak"] >= 16 * MiB, p


def test_sigint_detaches_from_a_pid_and_leaves_it_running():
    with tempfile.TemporaryDirectory() as d:
        target = subprocess.Popen([prog("wait_alloc"), os.path.join(d, "never"), "1"])
        try:
            out = os.path.join(d, "run.json")
            m = start_memobs(["-q", "-o", out, "-p", str(target.pid)])
            time.sleep(2.0)
            m.send_signal(signal.SIGINT)
            _, err = m.communicate(timeout=60)
            assert m.returncode == 0, (m.returncode, err)
            assert target.poll() is None, "memobs killed a process it did not start"
            with open(out) as f:
                doc = json.load(f)
            assert [p for p in doc["processes"] if p["pid"] == target.pid]
        finally:
            target.kill()


def test_killed_mid_phase_leaves_the_phase_unclosed():
    script = "%s mark begin doomed; %s 12 100; kill -9 $$" % (MEMOBS, prog("alloc_touch"))
    proc, doc = memobs(["-q"], ["sh", "-c", script])
    assert proc.returncode == 137, proc.returncode
    p = phase(doc, "doomed")
    assert p.get("unclosed") is True and p["rss"]["peak_over_baseline"] >= 12 * MiB, p


def test_unwritable_output_fails_before_the_command_runs():
    with tempfile.TemporaryDirectory() as d:
        marker = os.path.join(d, "ran")
        proc = subprocess.run([MEMOBS, "-o", "/nonexistent-dir/run.json", "--", "touch", marker],
                              capture_output=True, text=True)
        assert proc.returncode == 125, proc.returncode
        assert proc.stderr == "memobs: cannot write /nonexistent-dir/run.json: No such file or directory\n", \
            proc.stderr
        assert not os.path.exists(marker), "the command ran although its report could not be kept"


def test_output_through_a_symlink_is_refused():
    with tempfile.TemporaryDirectory() as d:
        target, link = os.path.join(d, "precious"), os.path.join(d, "run.json")
        with open(target, "w") as f:
            f.write("keep me")
        os.symlink(target, link)
        proc = subprocess.run([MEMOBS, "-o", link, "--", "true"], capture_output=True, text=True)
        assert proc.returncode == 125 and "is a symbolic link" in proc.stderr, proc.stderr
        with open(target) as f:
            assert f.read() == "keep me"


def test_output_through_a_symlinked_directory_is_refused():
    # A link anywhere on the path, not only the last component: a user's
    # .memobs -> /root-only makes root (acting for the user, or root's own
    # run in the user's directory) write where the user may not.
    with tempfile.TemporaryDirectory() as d:
        private = os.path.join(d, "private")
        os.mkdir(private, 0o700)
        os.symlink(private, os.path.join(d, ".memobs"))
        out = os.path.join(d, ".memobs", "run.json")
        proc = subprocess.run([MEMOBS, "-o", out, "--", "true"], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 125, (proc.returncode, proc.stderr)
        assert proc.stderr == "memobs: refusing to write %s: %s is a symbolic link\n" % (out, os.path.dirname(out)), \
            proc.stderr
        proc = subprocess.run([MEMOBS, "-q", "--history", "--", "true"], capture_output=True, text=True,
                              timeout=300, cwd=d)
        assert proc.returncode == 125, (proc.returncode, proc.stderr)
        assert proc.stderr == ("memobs: refusing to write .memobs/history.jsonl: .memobs is a symbolic link\n"), \
            proc.stderr
        assert os.listdir(private) == [], os.listdir(private)


def test_output_to_a_fifo_without_a_reader_times_out():
    # open(2) of a FIFO for writing blocks until a reader comes, and memobs
    # holds the stop signals then: only SIGKILL would end it.
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        proc = subprocess.run([MEMOBS, "-o", fifo, "--", "true"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 125, (proc.returncode, proc.stderr)
        assert proc.stderr.splitlines()[-1] == ("memobs: cannot write %s: no process opened the FIFO for reading "
                                                "in 3 s; the summary above is all that was kept" % fifo), proc.stderr
        assert "session peak RSS" in proc.stderr


def test_stderr_closed_the_outputs_and_the_status_are_kept():
    # memobs -o r.json --history=h.jsonl -- CMD 2>&1 | head: the reader of
    # memobs's stderr is gone when the summary is printed. SIGPIPE must not
    # kill memobs before it writes -o and the history, nor take the
    # command's status; the command itself has SIGPIPE's default action.
    with tempfile.TemporaryDirectory() as d:
        out, history, ignored = (os.path.join(d, n) for n in ("r.json", "h.jsonl", "sigign"))
        rfd, wfd = os.pipe()
        os.close(rfd)
        try:
            proc = subprocess.run([MEMOBS, "-o", out, "--history=" + history, "--", "sh", "-c",
                                   "grep SigIgn /proc/self/status > %s; exit 3" % ignored],
                                  stderr=wfd, stdout=subprocess.DEVNULL, timeout=300)
        finally:
            os.close(wfd)
        assert proc.returncode == 3, proc.returncode
        with open(out) as f:
            assert json.load(f)["exit_status"] == 3
        with open(history) as f:
            assert len(f.read().splitlines()) == 1
        with open(ignored) as f:
            mask = int(f.read().split()[1], 16)
        assert not mask & (1 << (signal.SIGPIPE - 1)), "the command runs with SIGPIPE ignored: %#x" % mask


def test_output_to_a_device_or_a_fifo_is_written_into():
    # As root, a temporary file renamed over -o /dev/null would replace the
    # device itself. A private null device stands in for /dev/null here.
    with tempfile.TemporaryDirectory() as d:
        null = os.path.join(d, "null")
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        proc = subprocess.run([MEMOBS, "-q", "-o", null, "--", "true"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        st = os.stat(null)
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3), oct(st.st_mode)
        assert os.listdir(d) == ["null"], os.listdir(d)
        # A FIFO: the reader gets the whole run document.
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        got = []
        reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
        reader.start()
        proc = subprocess.run([MEMOBS, "-q", "-o", fifo, "--", "true"], capture_output=True, text=True, timeout=300)
        reader.join(timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
        assert got and json.loads(got[0])["command"] == ["true"], got


def test_output_file_belongs_to_the_invoking_user():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        out = os.path.join(d, "run.json")
        env = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534", SUDO_USER="nobody")
        proc = subprocess.run([MEMOBS, "-q", "-o", out, "--", "sh", "-c", "id -u > %s/uid" % d],
                              capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        st = os.stat(out)
        assert (st.st_uid, st.st_gid) == (65534, 65534), (st.st_uid, st.st_gid)
        with open(os.path.join(d, "uid")) as f:
            assert f.read().strip() == "65534", "the command must run as the invoking user"


def test_without_privileges_one_clear_line():
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        copy = os.path.join(d, "memobs")
        subprocess.run(["cp", MEMOBS, copy], check=True)
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", copy, "--", "true"],
                              capture_output=True, text=True)
    assert proc.returncode == 125, proc.returncode
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs root" in lines[0], proc.stderr


def test_fork_storm_is_bounded_and_counted():
    # 5000 short processes; a process table of 64 forces overflow, which
    # must be counted, never crash, and leave the big process's figure right.
    script = ("i=0; while [ $i -lt 5000 ]; do /bin/true & i=$((i+1)); "
              "[ $((i %% 200)) -eq 0 ] && wait; done; wait; %s 32 200" % prog("alloc_touch"))
    proc, doc = memobs(["-q", "--max-procs", "64"], ["sh", "-c", script], binary=None, timeout=600)
    assert proc.returncode == 0, proc.stderr
    seen = len(doc["processes"])
    dropped = doc["drops"]["processes"]
    assert seen + dropped >= 5000, (seen, dropped)
    big = [p for p in doc["processes"] if p["comm"] == "alloc_touch"]
    assert big and big[0]["rss"]["peak"] >= 32 * MiB, big


if __name__ == "__main__":
    run_tests(globals())
