"""Shared helpers for integration tests: run memobs for real, read its run
document, compare with the kernel's own figures. Each test file calls
run_tests(globals()); every function named test_* is one test and prints
"ok - name" or "not ok - name" (tests/run.sh counts them)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
# MEMOBS_BIN: the memobs under test (make test-asan: build/asan/memobs).
MEMOBS = os.environ.get("MEMOBS_BIN") or os.path.join(BUILD, "memobs")
MEMOBS_ASAN = os.path.join(BUILD, "asan", "memobs")
PROGS = os.path.join(BUILD, "tests", "progs")
MiB = 1 << 20
VALIDATOR = os.path.join(ROOT, "tests", "integration", "validate_run.py")


class Skip(Exception):
    """Raised by a test that cannot run here; reported as a failure with the reason,
    because a skipped check is a check that cannot fail."""


def prog(name):
    return os.path.join(PROGS, name)


_validator = None


def _start_validator():
    """A validate_run.py --serve kept running: docs/run-document.schema.json
    checked by python3-jsonschema, with /usr/bin/python3 when the python3
    running the tests lacks it (pyenv)."""
    global _validator
    if _validator is None or _validator.poll() is not None:
        python = sys.executable
        if subprocess.run([python, "-c", "import jsonschema"], capture_output=True).returncode:
            python = "/usr/bin/python3"
        _validator = subprocess.Popen([python, VALIDATOR, "--serve"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
    return _validator


def assert_valid_run(doc, what="run document"):
    """Fail unless doc (a parsed run document or history summary) matches the schema."""
    v = _start_validator()
    v.stdin.write(json.dumps(doc) + "\n")
    v.stdin.flush()
    answer = v.stdout.readline().strip()
    if not answer:
        raise AssertionError("the schema validator died (needs the Debian package python3-jsonschema: "
                             "scripts/install-deps.sh)")
    assert answer == "ok", "%s does not match docs/run-document.schema.json: %s" % (what, answer)


def read_run(path):
    """The run document at path, checked against the schema."""
    with open(path) as f:
        doc = json.load(f)
    assert_valid_run(doc, path)
    return doc


def memobs(args, cmd=None, check_rc=None, binary=None, timeout=300, env=None):
    """Run memobs with args (and `-- cmd`), write the run document to a temp
    file and return (completed process, document or None). The document is
    checked against the schema."""
    out = tempfile.NamedTemporaryFile(prefix="memobs-", suffix=".json", delete=False)
    out.close()
    os.unlink(out.name)
    argv = [binary or MEMOBS, "-o", out.name] + list(args)
    if cmd is not None:
        argv += ["--"] + list(cmd)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    doc = None
    if os.path.exists(out.name):
        try:
            doc = read_run(out.name)
        finally:
            os.unlink(out.name)
    if check_rc is not None and proc.returncode != check_rc:
        raise AssertionError("memobs exited %d, expected %d\nstderr:\n%s" % (proc.returncode, check_rc, proc.stderr))
    return proc, doc


def in_tmp(fn):
    """The test fn(tmp) in a fresh directory the command can read (memobs runs it as
    the invoking user), removed afterwards."""
    def wrapped():
        tmp = tempfile.mkdtemp(prefix="memobs-test-")
        os.chmod(tmp, 0o755)
        try:
            fn(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    wrapped.__name__ = fn.__name__
    return wrapped


def procs_by_comm(doc, comm):
    return [p for p in doc["processes"] if p["comm"] == comm]


def phase(doc, name):
    found = [p for p in doc["phases"] if p["name"] == name]
    assert found, "no phase %r in %s" % (name, [p["name"] for p in doc["phases"]])
    return found[0]


def gnu_time_maxrss(cmd):
    """Peak RSS in bytes of cmd as /usr/bin/time -f %M reports it (KiB)."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".time") as t:
        subprocess.run(["/usr/bin/time", "-o", t.name, "-f", "%M"] + list(cmd), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(t.read().strip().splitlines()[-1]) * 1024


def assert_near(actual, expected, rel=0.0, abs_=0, what="value"):
    tol = max(abs(expected) * rel, abs_)
    assert abs(actual - expected) <= tol, "%s: %d vs expected %d (tolerance %d, off by %.2f%%)" % (
        what, actual, expected, tol, 100.0 * (actual - expected) / expected if expected else 0)


def free_port():
    """A loopback TCP port nothing listens on now (for --serve)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.split()[0] == "cgroup2":
                return pre.split()[4]
    raise AssertionError("no cgroup2 mount on this host")


class FreshCgroup:
    """A new cgroup v2 directory (path relative to the mount in .path),
    removed at the end once its processes are gone."""

    def __init__(self, sub=None):
        self.mount = cgroup2_mount()
        self.path = "/memobs-test-%d-%d" % (os.getpid(), time.monotonic_ns() % 1000000)
        self.dirs = [self.mount + self.path]
        if sub:
            self.dirs.append(self.dirs[0] + "/" + sub)

    def dir(self, i=0):
        return self.dirs[i]

    def __enter__(self):
        for d in self.dirs:
            os.mkdir(d)
        return self

    def __exit__(self, *exc):
        for d in reversed(self.dirs):
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)


class Observer:
    """memobs -a (or -p) in the background, writing its run document; the
    workload starts once memobs says it observes."""

    def __init__(self, args):
        fd, self.out = tempfile.mkstemp(prefix="memobs-host-", suffix=".json")
        os.close(fd)
        os.unlink(self.out)
        self.proc = subprocess.Popen([MEMOBS, "-v", "-q", "-o", self.out] + list(args),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.stderr = []
        for line in self.proc.stderr:
            self.stderr.append(line)
            if "memobs: observing" in line:
                return
        raise AssertionError("memobs never started observing (exit %s):\n%s" % (self.proc.wait(), "".join(self.stderr)))

    def doc(self, timeout=120):
        rest = self.proc.communicate(timeout=timeout)[1]
        assert self.proc.returncode == 0, "memobs exited %d:\n%s" % (self.proc.returncode, "".join(self.stderr) + rest)
        with open(self.out) as f:
            doc = json.load(f)
        # The text summary of the same run, for what it says of it.
        self.report = subprocess.run([MEMOBS, "report", self.out], capture_output=True, text=True, timeout=60).stdout
        os.unlink(self.out)
        return doc


# MEMOBS_ASAN_LOGS: where the sanitizers write their reports (make test-asan
# sets ASAN_OPTIONS/UBSAN_OPTIONS log_path there). A report fails the test
# during which it appeared, whatever memobs's exit status was.
ASAN_LOGS = os.environ.get("MEMOBS_ASAN_LOGS")


class SanitizerReport(AssertionError):
    pass


def sanitizer_reports():
    if not ASAN_LOGS or not os.path.isdir(ASAN_LOGS):
        return set()
    return {os.path.join(ASAN_LOGS, f) for f in os.listdir(ASAN_LOGS)}


def check_sanitizer_reports(before):
    new = sorted(sanitizer_reports() - before)
    if not new:
        return
    lines = []
    for path in new:
        with open(path, errors="replace") as f:
            lines += ["%s:" % path] + f.read().splitlines()[:40]
    raise SanitizerReport("sanitizer report(s):\n" + "\n".join(lines))


def run_tests(namespace):
    names = sorted(n for n in namespace if n.startswith("test_") and callable(namespace[n]))
    failed = 0
    for name in names:
        before = sanitizer_reports()
        try:
            namespace[name]()
            check_sanitizer_reports(before)
            print("ok - %s" % name)
        except Exception as e:  # every failure is reported, the run goes on
            failed += 1
            print("not ok - %s" % name)
            for line in ("".join(traceback.format_exception(e))).rstrip().splitlines():
                print("#   " + line)
            try:
                if not isinstance(e, SanitizerReport):
                    check_sanitizer_reports(before)
            except SanitizerReport as report:
                for line in str(report).splitlines():
                    print("#   " + line)
        sys.stdout.flush()
    sys.exit(1 if failed else 0)
