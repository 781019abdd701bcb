"""Markers that must not harm: a name BPF could not read is never read from
another program (issue 17, item 4). Needs root."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import MEMOBS, prog, run_tests

SECRET = "memobs-test-root-only-secret"


def wait_for(cond, what, timeout=10):
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "timed out waiting for " + what
        time.sleep(0.005)


def test_unread_name_never_read_from_a_setuid_program():
    """A user's process fires a marker whose name is on a page never touched
    (BPF cannot read it) and execs a setuid-root program with a secret at that
    address. memobs is held (SIGSTOP) until the exec is done, so that a late
    read of the name would read the new program: it must count the name as
    unread instead."""
    d = tempfile.mkdtemp(prefix="memobs-leak-")
    try:
        os.chmod(d, 0o777)
        secret_prog = os.path.join(d, "marker_secret_nopie")
        shutil.copy(prog("marker_secret_nopie"), secret_prog)
        os.chmod(secret_prog, 0o4755)
        addr = subprocess.run([secret_prog, "--address"], capture_output=True, text=True, check=True).stdout.strip()
        out = os.path.join(d, "run.json")
        env = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534", SUDO_USER="nobody")
        m = subprocess.Popen([MEMOBS, "-q", "-o", out, "--", prog("marker_leak"), addr, d, secret_prog],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        ready = os.path.join(d, "ready")
        wait_for(lambda: os.path.exists(ready) and open(ready).read().endswith("\n"), "the marker process")
        pid = int(open(ready).read())
        os.kill(m.pid, signal.SIGSTOP)
        try:
            open(os.path.join(d, "go"), "w").close()
            wait_for(lambda: os.readlink("/proc/%d/exe" % pid) == secret_prog, "the exec of the setuid program")
        finally:
            os.kill(m.pid, signal.SIGCONT)
        _, err = m.communicate(timeout=60)
        assert m.returncode == 0, err
        with open(out) as f:
            text = f.read()
        doc = json.loads(text)
        assert SECRET not in text and SECRET not in err, "the setuid program's secret leaked into the run"
        assert doc["drops"]["marker_names_unread"] == 1, doc["drops"]
        unread = [p for p in doc["phases"] if p.get("name_unread")]
        assert len(unread) == 1 and unread[0]["name"] == "", doc["phases"]
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    run_tests(globals())
