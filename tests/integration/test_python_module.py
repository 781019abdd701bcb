"""The Python marker module (emitters/python/memobs.py) without the tracer:
which library it loads, that it never raises into the caller, and that a
phase ends even when its body raises. Library lookups run in a subprocess
with a controlled environment, because the module loads once per process."""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile

from harness import BUILD, ROOT, Skip, run_tests

MODULE_DIR = os.path.join(ROOT, "emitters", "python")
LIB = os.path.join(BUILD, "libmemobs.so")
SYMBOLS = ["memobs_items", "memobs_mark", "memobs_phase_begin", "memobs_phase_end"]

sys.path.insert(0, MODULE_DIR)
import memobs  # noqa: E402  (the checkout's module, for the in-process tests)

# Every call form a user could write, with arguments of every kind; run in
# the child, it must print nothing and raise nothing.
EXERCISE = r"""
import asyncio, memobs
memobs.phase_begin("discovery"); memobs.items(3); memobs.phase_end("discovery")
for name in ("x" * 200, b"bytes", bytearray(b"ba"), 42, 1.5, None, "", "caf\u00e9",
             "\udcff", "\ud800", "nul\0inside", object()):
    memobs.phase_begin(name); memobs.mark(name); memobs.phase_end(name)
    with memobs.phase(name):
        pass
for n in (0, 1, 2**64 - 1, 2**64, -1, None, "7", "x", 3.9, float("nan"), float("inf")):
    memobs.items(n)
@memobs.phase("deco")
def f(x):
    return x + 1
assert f(1) == 2
@memobs.phase("adeco")
async def g():
    return 5
assert asyncio.run(g()) == 5
try:
    with memobs.phase("boom"):
        raise KeyError("k")
except KeyError:
    pass
else:
    raise SystemExit("exception swallowed")
"""


def child(code, env_extra, module_dir=MODULE_DIR):
    """Run code after `import memobs` (from module_dir) in a fresh python3 with
    only PATH and env_extra set; return the JSON the code printed last."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": module_dir}
    env.update(env_extra)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, "child exited %d\nstderr:\n%s" % (proc.returncode, proc.stderr)
    assert proc.stderr == "", "child wrote to stderr:\n" + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(find_library=None):
    """Child prelude + epilogue: find_library replaced (the host's lookup is not
    ours to control), then the exercise, then what the module loaded."""
    return ("import ctypes.util, json\n"
            "ctypes.util.find_library = lambda name: %r\n" % find_library
            + EXERCISE
            + "print(json.dumps({'path': memobs.library_path(), 'fns': sorted(memobs._fns)}))\n")


def need_lib():
    if not os.path.exists(LIB):
        raise Skip("%s is not built (make %s)" % (LIB, os.path.relpath(LIB, ROOT)))


def checkout_copy(tmp, with_lib):
    """A checkout-shaped copy: tmp/emitters/python/memobs.py (+ tmp/build/libmemobs.so)."""
    mod = os.path.join(tmp, "emitters", "python")
    os.makedirs(mod)
    shutil.copy(os.path.join(MODULE_DIR, "memobs.py"), mod)
    if with_lib:
        os.makedirs(os.path.join(tmp, "build"))
        shutil.copy(LIB, os.path.join(tmp, "build", "libmemobs.so"))
    return mod


def test_no_library_all_calls_are_noops():
    with tempfile.TemporaryDirectory() as tmp:
        mod = checkout_copy(tmp, with_lib=False)
        got = child(report(), {"MEMOBS_LIB": os.path.join(tmp, "nonexistent.so")}, mod)
    assert got == {"path": None, "fns": []}, got


def test_unusable_libraries_are_noops():
    """A file that is not ELF, and a real library without the markers (libc)."""
    with tempfile.TemporaryDirectory() as tmp:
        mod = checkout_copy(tmp, with_lib=False)
        junk = os.path.join(tmp, "libjunk.so")
        with open(junk, "w") as f:
            f.write("not an ELF file\n")
        for lib in (junk, "libc.so.6"):
            got = child(report(), {"MEMOBS_LIB": lib}, mod)
            assert got == {"path": None, "fns": []}, (lib, got)
        got = child(report(find_library=junk), {}, mod)
        assert got == {"path": None, "fns": []}, got


def test_real_library_is_loaded_and_its_exports_used():
    need_lib()
    code = report(find_library="/nonexistent/by-find_library.so") + r"""
import ctypes
def mapped(addr):
    for line in open("/proc/self/maps"):
        f = line.split(None, 5)
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        if lo <= addr < hi:
            return f[5].strip() if len(f) == 6 else None
addr = lambda fn: ctypes.cast(fn, ctypes.c_void_p).value
lib = ctypes.CDLL(memobs.library_path())
print(json.dumps({s: [addr(memobs._fns[s]) == addr(getattr(lib, s)), mapped(addr(memobs._fns[s]))]
                  for s in memobs._fns}))
"""
    got = child(code, {"MEMOBS_LIB": LIB})
    real = os.path.realpath(LIB)
    assert got == {s: [True, real] for s in SYMBOLS}, got


def test_lookup_order_env_then_checkout_then_find_library():
    need_lib()
    with tempfile.TemporaryDirectory() as tmp:
        mod = checkout_copy(tmp, with_lib=True)
        repo_lib = os.path.realpath(os.path.join(tmp, "build", "libmemobs.so"))
        other = os.path.join(tmp, "other", "libmemobs.so")
        os.makedirs(os.path.dirname(other))
        shutil.copy(LIB, other)
        bogus = "/nonexistent/by-find_library.so"

        got = child(report(bogus), {"MEMOBS_LIB": other}, mod)
        assert got["path"] == os.path.realpath(other), got
        got = child(report(bogus), {"MEMOBS_LIB": os.path.join(tmp, "missing.so")}, mod)
        assert got["path"] == repo_lib, got
        got = child(report(bogus), {"MEMOBS_LIB": "libc.so.6"}, mod)
        assert got["path"] == repo_lib, got
        got = child(report(bogus), {}, mod)
        assert got["path"] == repo_lib, got
        os.unlink(repo_lib)
        got = child(report(other), {}, mod)
        assert got == {"path": os.path.realpath(other), "fns": SYMBOLS}, got


def test_import_does_not_load_the_library():
    need_lib()
    code = r"""
import json, memobs
maps = lambda: "libmemobs.so" in open("/proc/self/maps").read()
before = [memobs._loaded, maps()]
memobs.mark("first")
print(json.dumps(before + [memobs._loaded, maps()]))
"""
    got = child(code, {"MEMOBS_LIB": LIB})
    assert got == [False, False, True, True], got


class Recorder:
    """Stands in for the library's function table: records (symbol, arg)."""

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def table(self):
        def fn(sym):
            def call(arg):
                self.calls.append((sym[len("memobs_"):], arg))
                if self.fail:
                    raise OSError("library failure")
            return call
        return {sym: fn(sym) for sym in SYMBOLS}


def recording(test, fail=False):
    """Run test(recorder) with the module's function table patched in-process."""
    saved = memobs._loaded, memobs._fns, memobs._path
    rec = Recorder(fail)
    memobs._loaded, memobs._fns, memobs._path = True, rec.table(), "/recorder"
    try:
        test(rec)
    finally:
        memobs._loaded, memobs._fns, memobs._path = saved
    return rec.calls


def test_phase_ends_when_body_raises():
    class Boom(Exception):
        pass

    def body(rec):
        err = Boom("from the body")
        try:
            with memobs.phase("render"):
                memobs.items(7)
                raise err
        except Boom as caught:
            assert caught is err
        else:
            raise AssertionError("exception swallowed")

    calls = recording(body)
    assert calls == [("phase_begin", b"render"), ("items", 7), ("phase_end", b"render")], calls


def test_decorator_ends_phase_on_raise_and_nests():
    @memobs.phase("walk")
    def walk(depth):
        if depth == 0:
            raise ValueError("bottom")
        return walk(depth - 1)

    @memobs.phase("fetch")
    async def fetch():
        memobs.mark("awaiting")
        await asyncio.sleep(0)
        return "body"

    def body(rec):
        try:
            walk(2)
        except ValueError as e:
            assert str(e) == "bottom"
        else:
            raise AssertionError("exception swallowed")
        assert asyncio.run(fetch()) == "body"
        assert walk.__name__ == "walk" and fetch.__name__ == "fetch"

    calls = recording(body)
    assert calls == [("phase_begin", b"walk")] * 3 + [("phase_end", b"walk")] * 3 + [
        ("phase_begin", b"fetch"), ("mark", b"awaiting"), ("phase_end", b"fetch")], calls


def test_arguments_are_converted_not_rejected():
    long_name = "p" * 100

    def body(rec):
        for name in ("caf\u00e9", b"raw\xff", bytearray(b"ba"), 42, long_name, None, "\udcff"):
            memobs.mark(name)
        for n in (5, True, 2**64 - 1, 2**64, -1, None, "x", 2.0):
            memobs.items(n)

    calls = recording(body)
    assert calls == [("mark", "caf\u00e9".encode()), ("mark", b"raw\xff"), ("mark", b"ba"),
                     ("mark", b"42"), ("mark", long_name.encode()), ("mark", b"\xff"),
                     ("items", 5), ("items", 1), ("items", 2**64 - 1), ("items", 2)], calls


def test_library_failure_does_not_reach_the_caller():
    def body(rec):
        with memobs.phase("x"):
            memobs.items(1)
            memobs.mark("y")

    calls = recording(body, fail=True)
    assert [c[0] for c in calls] == ["phase_begin", "items", "mark", "phase_end"], calls


def test_all_call_forms_without_a_tracer():
    """The checkout's module against the real library: nothing raises, nothing printed."""
    need_lib()
    got = child(report(), {"MEMOBS_LIB": LIB})
    assert got == {"path": os.path.realpath(LIB), "fns": SYMBOLS}, got


run_tests(globals())
