"""The cache of separate debug files (stacks/debugcache.c, lib/cachedir.c): a
debug file whose sections are compressed (as Debian's -dbg packages are) is
kept uncompressed by build id, so that naming frames no longer inflates it at
every run. A cold and a warm run name the same frames with the same file:line;
a damaged entry is never trusted but made again; a cache directory that is not
memobs's user's alone is refused with one line and the run names its frames
without it. Needs root (a debug file under /usr/lib/debug/.build-id, with a
random build id so that no other program's is touched)."""
import os
import shutil
import stat
import struct
import subprocess
import tempfile

from harness import ROOT, in_tmp, memobs, run_tests

SRC = os.path.join(ROOT, "tests", "progs", "sites.c")
LINE = [i + 1 for i, l in enumerate(open(SRC).read().splitlines()) if "[i] = 1;" in l][0]
_made = {}


def program():
    """A stripped sites program (built once) whose debug file, sections
    compressed, is installed by build id: (exe, build id, installed debug file)."""
    if not _made:
        build_id = os.urandom(20).hex()
        d = tempfile.mkdtemp(prefix="memobs-test-")
        os.chmod(d, 0o755)
        exe, symbols = os.path.join(d, "stripped"), os.path.join(d, "symbols")
        subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline",
                        "-I" + os.path.join(ROOT, "include"), "-Wl,--build-id=0x" + build_id, SRC, "-o", exe],
                       check=True)
        subprocess.run(["objcopy", "--only-keep-debug", "--compress-debug-sections=zlib", exe, symbols], check=True)
        subprocess.run(["strip", "--strip-all", exe], check=True)
        where = os.path.join("/usr/lib/debug/.build-id", build_id[:2])
        _made.update(dir=d, where=where, made_where=not os.path.isdir(where))
        os.makedirs(where, exist_ok=True)
        debug = os.path.join(where, build_id[2:] + ".debug")
        shutil.copy(symbols, debug)
        _made.update(exe=exe, id=build_id, debug=debug, symbols=symbols)
    return _made["exe"], _made["id"], _made["debug"]


def cleanup():
    if _made:
        os.unlink(_made["debug"])
        if _made["made_where"]:
            os.rmdir(_made["where"])
        shutil.rmtree(_made["dir"], ignore_errors=True)


def run(cache, expect_names=True):
    """One run with the cache at cache: (stderr, the top RSS-growth site's
    frames and sources)."""
    exe, _, _ = program()
    proc, doc = memobs(["-q"], [exe], check_rc=0, env=dict(os.environ, MEMOBS_CACHE=cache))
    top = doc["rss_growth_sites"][0]
    if expect_names:
        assert top["frames"][-1] == "touch_static" and top["frames"][-2] == "main", top
        assert top["sources"][-1].endswith("/tests/progs/sites.c:%d" % LINE), top["sources"]
    return proc.stderr, (top["frames"], top["sources"])


def entry(cache):
    return os.path.join(cache, "debuginfo", program()[1] + ".v1.debug")


def compressed_sections(path):
    """Indexes of the sections of ELF64 file path with SHF_COMPRESSED."""
    data = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
    return [i for i in range(shnum) if struct.unpack_from("<Q", data, shoff + i * shentsize + 8)[0] & 0x800]


@in_tmp
def test_cold_and_warm_runs_name_alike(cache):
    _, _, debug = program()
    assert compressed_sections(debug), "the installed debug file has compressed sections"
    _, cold = run(cache)
    path = entry(cache)
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.geteuid(), oct(st.st_mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert not compressed_sections(path), compressed_sections(path)
    _, warm = run(cache)
    assert warm == cold, (cold, warm)
    # Without the installed file, file:line can only come from the entry.
    os.rename(debug, debug + ".away")
    try:
        _, from_entry = run(cache)
    finally:
        os.rename(debug + ".away", debug)
    assert from_entry == cold, (cold, from_entry)


@in_tmp
def test_damaged_entry_is_made_again(cache):
    _, good = run(cache)
    path = entry(cache)
    size = os.path.getsize(path)
    damaged = {"truncated": lambda: os.truncate(path, size // 2),
               "another build id": lambda: shutil.copyfile("/bin/true", path),
               "not ELF": lambda: open(path, "r+b").write(b"garbage!")}
    for what, damage in damaged.items():
        damage()
        err, names = run(cache)
        assert names == good, (what, good, names)
        assert os.path.getsize(path) == size and not compressed_sections(path), what
        assert "cache" not in err, (what, err)


@in_tmp
def test_cache_not_the_users_alone_is_refused(cache):
    _, good = run(cache)
    sub = os.path.dirname(entry(cache))
    os.unlink(entry(cache))
    for what, change, undo, why in (
            ("owner", lambda: os.chown(sub, 65534, 65534), lambda: os.chown(sub, 0, 0), "owned by uid 65534"),
            ("mode", lambda: os.chmod(sub, 0o777), lambda: os.chmod(sub, 0o700), "writable by others")):
        change()
        try:
            err, names = run(cache)
        finally:
            undo()
        lines = [l for l in err.splitlines() if "cache" in l]
        assert len(lines) == 1 and why in lines[0] and sub in lines[0], (what, err)
        assert names == good, (what, names)
        assert not os.path.exists(entry(cache)), what


def test_cache_off_or_relative():
    with tempfile.TemporaryDirectory(prefix="memobs-test-") as d:
        err, _ = run("off")
        assert "cache" not in err, err
        cwd = os.getcwd()
        os.chdir(d)
        try:
            err, _ = run("relative/cache")
        finally:
            os.chdir(cwd)
        lines = [l for l in err.splitlines() if "cache" in l]
        assert len(lines) == 1 and "MEMOBS_CACHE=relative/cache: not an absolute path" in lines[0], err
        assert not os.listdir(d), os.listdir(d)


if __name__ == "__main__":
    try:
        run_tests(globals())
    finally:
        cleanup()
