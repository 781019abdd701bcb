# SPDX-License-Identifier: MIT
"""memobs phase markers for Python: stdlib only, over libmemobs.so (ctypes).

    import memobs
    with memobs.phase("render"):
        ...
        memobs.items(len(pages))
    memobs.mark("cache warm")

Each call fires a USDT probe of provider "memobs" in libmemobs.so (see
DESIGN.md, "Phases: the marker ABI"); with no observer attached it is a nop.
Markers never raise into the caller: without a library they do nothing.
"""
import ctypes
import ctypes.util
import functools
import inspect
import os
import threading

__all__ = ["phase", "phase_begin", "phase_end", "items", "mark", "library_path"]

_SYMBOLS = ("memobs_phase_begin", "memobs_phase_end", "memobs_items", "memobs_mark")
_U64_MAX = (1 << 64) - 1

_lock = threading.Lock()
_loaded = False
_fns = {}  # C symbol name -> callable; empty when no library could be loaded
_path = None


def _candidates():
    """Where to look, in order. MEMOBS_LIB first: uprobes are attached per
    file, so only the exact library the tracer probed can be observed."""
    env = os.environ.get("MEMOBS_LIB")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", "..", "build", "libmemobs.so"))
    if os.path.exists(repo):
        yield repo
    # make install: PREFIX/lib/python3.X/dist-packages/memobs.py beside PREFIX/lib/libmemobs.so
    installed = os.path.normpath(os.path.join(here, "..", "..", "libmemobs.so"))
    if os.path.exists(installed):
        yield installed
    # Last, because it may spawn ldconfig/gcc, which an observer would see.
    found = ctypes.util.find_library("memobs")
    if found:
        yield found


def _mapped_file(addr):
    """The file mapped at addr (/proc/self/maps), i.e. the inode uprobes see."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split(None, 5)
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                if lo <= addr < hi and len(fields) == 6:
                    return fields[5].rstrip("\n")
    except (OSError, ValueError):
        pass
    return None


def _open(path):
    """Load path and bind the four markers; None if it is not libmemobs."""
    try:
        lib = ctypes.CDLL(path)
        fns = {}
        for sym in _SYMBOLS:
            fn = getattr(lib, sym)
            fn.argtypes = [ctypes.c_uint64] if sym == "memobs_items" else [ctypes.c_char_p]
            fn.restype = None
            fns[sym] = fn
    except (OSError, AttributeError):
        return None
    addr = ctypes.cast(fns["memobs_phase_begin"], ctypes.c_void_p).value
    return fns, _mapped_file(addr) or path


def _load():
    """Load the library once, on first use, so importing memobs costs nothing."""
    global _loaded, _fns, _path
    with _lock:
        if _loaded:
            return
        try:
            for cand in _candidates():
                got = _open(cand)
                if got:
                    _fns, _path = got
                    break
        except Exception:  # a marker must never break the build it observes
            pass
        _loaded = True


def _call(sym, arg):
    if not _loaded:
        _load()
    fn = _fns.get(sym)
    if fn is None or arg is None:
        return
    try:
        fn(arg)
    except Exception:
        pass


def _name(name):
    """bytes for a C string: str as UTF-8, bytes-like as is, else str(obj).
    None stays None (no-op). Long names pass unchanged: the tracer cuts and flags them."""
    if name is None or isinstance(name, bytes):
        return name
    try:
        if isinstance(name, (bytearray, memoryview)):
            return bytes(name)
        if not isinstance(name, str):
            name = str(name)
        try:
            return name.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates, e.g. from os.fsdecode()
            try:
                return name.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                return name.encode("utf-8", "replace")
    except Exception:
        return None


def _count(n):
    """An item count as a uint64, or None (no-op) when it is not one."""
    try:
        n = int(n)
    except Exception:
        return None
    return n if 0 <= n <= _U64_MAX else None


def phase_begin(name):
    """Open phase `name` for the whole observed session (nesting allowed)."""
    _call("memobs_phase_begin", _name(name))


def phase_end(name):
    """Close the innermost open phase called `name`."""
    _call("memobs_phase_end", _name(name))


def items(n):
    """Count n work items (pages, files) in the current phase; gives bytes per item.
    Negative or non-integer counts are ignored."""
    _call("memobs_items", _count(n))


def mark(label):
    """An instant annotation on the timeline."""
    _call("memobs_mark", _name(label))


def library_path():
    """The file the markers fire in (what a tracer must probe), or None."""
    if not _loaded:
        _load()
    return _path


class phase:
    """`with phase("render"):` or `@phase("render")`: begin on entry, end on
    exit even when the body raises (the exception propagates). A decorated
    generator function is only timed while it creates the generator."""

    __slots__ = ("_bname",)

    def __init__(self, name):
        self._bname = _name(name)  # encoded once; begin and end pass the same bytes

    def __enter__(self):
        _call("memobs_phase_begin", self._bname)
        return self

    def __exit__(self, exc_type, exc, tb):
        _call("memobs_phase_end", self._bname)
        return False

    def __call__(self, func):
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args, **kwargs):
                with self:
                    return await func(*args, **kwargs)
            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper
