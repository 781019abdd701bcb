"""Who allocates and who grows RSS: sampled stacks, symbolized after the fact
(build-id frames), leaks by site, folded output. Needs root."""
import os
import re
import subprocess

from harness import MEMOBS, ROOT, MiB, assert_near, Skip, memobs, prog, run_tests


def leaf(site):
    return site["frames"][-1]


def run_sites(extra=()):
    _, doc = memobs(["--heap", "-q"] + list(extra), [prog("sites"), "child"], check_rc=0)
    return doc


def test_hot_function_tops_the_allocators():
    doc = run_sites()
    top = doc["top_allocators"]
    assert leaf(top[0]) == "hot_alloc", [leaf(s) for s in top[:5]]
    assert top[0]["frames"][-2] == "main", top[0]["frames"]
    # 9216 x 4 KiB, estimated from 512 KiB samples: within one period
    assert_near(top[0]["alloc_bytes"], 9216 * 4096, abs_=512 * 1024, what="hot_alloc bytes")
    cold = [s for s in top if leaf(s) == "cold_alloc"][0]
    share = top[0]["alloc_bytes"] / (top[0]["alloc_bytes"] + cold["alloc_bytes"])
    assert 0.85 <= share <= 0.95, share  # the program's 90/10 split, within a sample
    assert doc["drops"]["stacks"] == 0 and doc["drops"]["sites"] == 0, doc["drops"]


def test_leak_tops_the_live_bytes():
    doc = run_sites()
    by_live = sorted(doc["top_allocators"], key=lambda s: -s["live_bytes"])
    assert leaf(by_live[0]) == "leaky_alloc", [(leaf(s), s["live_bytes"]) for s in by_live[:4]]
    assert_near(by_live[0]["live_bytes"], 8 * MiB, abs_=512 * 1024, what="leaked bytes")
    hot = [s for s in doc["top_allocators"] if leaf(s) == "hot_alloc"][0]
    assert hot["live_bytes"] == 0, hot


def test_static_buffer_tops_rss_growth():
    doc = run_sites()
    top = doc["rss_growth_sites"][0]
    assert leaf(top) == "touch_static", [leaf(s) for s in doc["rss_growth_sites"][:5]]
    assert_near(top["bytes"], 48 * MiB, rel=0.05, what="touch_static growth")
    assert top["faults"] == top["bytes"] // 4096


def test_growth_while_an_exec_builds_the_image_is_the_execs():
    """Pages an exec faults into the new program's map before its first
    instruction (the user registers are still the old program's) are a site
    of their own, [exec], under the new program: no stack is dropped."""
    _, doc = memobs(["-q", "--rss-sample-bytes", "4096"], ["sh", "-c", "%s; /bin/true" % prog("sites")],
                    check_rc=0)
    assert doc["drops"]["stacks"] == 0, doc["drops"]
    execs = {s["comm"] for s in doc["rss_growth_sites"] if s["frames"] == ["[exec]"]}
    assert {"sites", "true"} <= execs, [(s["comm"], s["frames"][-2:]) for s in doc["rss_growth_sites"]]


def test_rss_growth_sites_without_heap():
    _, doc = memobs(["-q"], [prog("sites")], check_rc=0)
    assert doc["top_allocators"] == []
    assert leaf(doc["rss_growth_sites"][0]) == "touch_static"
    # Its pprof profile (issue 18, item 8): RSS growth samples only, every site's pages and bytes.
    types, samples = decode_pprof(doc)
    assert types == [("rss_growth_pages", "count"), ("rss_growth_space", "bytes")], types
    sites = doc["rss_growth_sites"]
    assert len(samples) == len(sites), (len(samples), len(sites))
    assert sum(s[1][0] for s in samples) == sum(s["faults"] for s in sites), samples
    assert sum(s[1][1] for s in samples) == sum(s["bytes"] for s in sites), samples
    top = max(samples, key=lambda s: s[1][1])
    assert top[0][0][0] == "touch_static" and top[1] == [sites[0]["faults"], sites[0]["bytes"]], (top, sites[0])
    assert top[2] == {"comm": "sites", "exe": prog("sites")}, top[2]


def test_short_lived_child_is_symbolized():
    doc = run_sites()
    child = [s for s in doc["top_allocators"] if leaf(s) == "child_alloc"]
    assert child, [leaf(s) for s in doc["top_allocators"]]
    assert_near(child[0]["alloc_bytes"], 4 * MiB, abs_=512 * 1024, what="child_alloc bytes")
    exe = [p for p in doc["processes"] if p["argv"] and "be-child" in p["argv"]]
    assert exe and exe[0]["end_s"] is not None, "the child must have exited before the report"


def test_every_allocation_sampled_with_sample_bytes_1():
    doc = run_sites(["--sample-bytes", "1"])
    hot = [s for s in doc["top_allocators"] if leaf(s) == "hot_alloc"][0]
    assert hot["alloc_bytes"] == 9216 * 4096 and hot["alloc_count"] == 9216, hot


def test_stack_table_bound_is_kept_and_overflow_counted():
    # python3 with a stack per allocation has hundreds of distinct stacks:
    # with room for 64, 64 are kept and the rest counted in drops.stacks
    # (and said in the summary); allocation counts do not depend on stacks.
    proc, doc = memobs(["--heap", "--sample-bytes", "1", "--max-stacks", "64"],
                       ["/usr/bin/python3", "-c", "import json; json.dumps([{'a': i} for i in range(10000)])"],
                       check_rc=0)
    assert doc["stacks"]["stacks"] == 64, doc["stacks"]
    assert doc["drops"]["stacks"] > 100, doc["drops"]
    assert "drops: stacks %d" % doc["drops"]["stacks"] in proc.stderr, proc.stderr[-2000:]
    assert doc["totals"]["heap"]["alloc_count"] > 1000, doc["totals"]["heap"]


def test_folded_output_parses():
    with_heap = run_sites()
    import json
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(with_heap, f)
        f.flush()
        for weight, top in (("alloc", "hot_alloc"), ("live", "leaky_alloc"), ("rss", "touch_static")):
            out = subprocess.run([MEMOBS, "report", f.name, "--folded", "--weight", weight],
                                 capture_output=True, text=True, check=True).stdout
            lines = out.splitlines()
            assert lines, weight
            parsed = []
            for line in lines:
                m = re.fullmatch(r"(\S.*) (\d+)", line)
                assert m and ";" not in m.group(2), line
                parsed.append((m.group(1).split(";"), int(m.group(2))))
            heaviest = max(parsed, key=lambda p: p[1])
            assert heaviest[0][-1] == top, (weight, heaviest)
            assert heaviest[0][0] == "sites", ("the program is the root frame", heaviest)
        out = subprocess.run([MEMOBS, "report", f.name, "--folded", "--weight", "rss", "--lines"],
                             capture_output=True, text=True, check=True).stdout
        heaviest = max(out.splitlines(), key=lambda l: int(l.rsplit(" ", 1)[1]))
        assert re.search(r";touch_static \(sites\.c:\d+\) \d+$", heaviest), heaviest
        bad = subprocess.run([MEMOBS, "report", f.name, "--folded", "--weight", "bogus"], capture_output=True,
                             text=True)
        assert bad.returncode == 2 and "alloc, live or rss" in bad.stderr, bad.stderr


def decode_pprof(doc):
    """The run's pprof profile decoded by protoc: strings, sample types, functions by id, locations by id
    (function id, line), samples (location ids leaf first, values, labels)."""
    import gzip
    import json
    import os
    import shutil
    import tempfile
    from harness import ROOT
    assert shutil.which("protoc"), "protoc not found: install the Debian package protobuf-compiler"
    with tempfile.TemporaryDirectory() as d:
        run = os.path.join(d, "run.json")
        with open(run, "w") as f:
            json.dump(doc, f)
        with open(os.path.join(d, "heap.pb.gz"), "wb") as out:
            subprocess.run([MEMOBS, "report", run, "--format", "pprof"], stdout=out, check=True)
        with open(os.path.join(d, "heap.pb.gz"), "rb") as f:
            raw = gzip.decompress(f.read())
    text = subprocess.run(["protoc", "--decode=perftools.profiles.Profile",
                           "--proto_path=" + os.path.join(ROOT, "user", "report", "proto"), "profile.proto"],
                          input=raw, capture_output=True, check=True).stdout.decode()
    strings = [s.encode().decode("unicode_escape") for s in re.findall(r'^string_table: "(.*)"$', text, re.M)]
    types = [(strings[int(t)], strings[int(u)]) for t, u in
             re.findall(r"^sample_type \{\n  type: (\d+)\n  unit: (\d+)\n\}", text, re.M)]
    functions = {}
    for body in re.findall(r"^function \{\n(.*?)^\}", text, re.M | re.S):
        fields = dict(re.findall(r"^  (\w+): (\d+)$", body, re.M))
        functions[int(fields["id"])] = (strings[int(fields["name"])], strings[int(fields.get("filename", 0))])
    locations = {}
    for body in re.findall(r"^location \{\n(.*?)^\}", text, re.M | re.S):
        loc = int(re.search(r"^  id: (\d+)$", body, re.M).group(1))
        fn = int(re.search(r"function_id: (\d+)", body).group(1))
        line = re.search(r"^    line: (\d+)$", body, re.M)
        locations[loc] = (functions[fn][0], functions[fn][1], int(line.group(1)) if line else 0)
    samples = []
    for body in re.findall(r"^sample \{\n(.*?)^\}", text, re.M | re.S):
        labels = {strings[int(k)]: strings[int(v)] for k, v in
                  re.findall(r"label \{\n    key: (\d+)\n    str: (\d+)", body)}
        samples.append(([locations[int(x)] for x in re.findall(r"location_id: (\d+)", body)],
                        [int(x) for x in re.findall(r"value: (-?\d+)", body)], labels))
    return types, samples


def test_pprof_profile_decodes_with_protoc():
    doc = run_sites()
    types, samples = decode_pprof(doc)
    assert types == [("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"),
                     ("inuse_space", "bytes"), ("rss_growth_pages", "count"), ("rss_growth_space", "bytes")], types
    top = max(samples, key=lambda s: s[1][1])
    assert top[0][0][0] == "hot_alloc" and top[1][:2] == [9216, 9216 * 4096], top
    # file:line from DWARF: the function's file, the line of its malloc call
    src = open(os.path.join(ROOT, "tests", "progs", "sites.c")).read().splitlines()
    call = [i + 1 for i, l in enumerate(src) if "malloc(4096)" in l][0]
    assert top[0][0][1].endswith("/tests/progs/sites.c") and top[0][0][2] == call, (top[0][0], call)
    # the program is the root frame and the labels (issue 16 item 3)
    assert top[0][-1][:2] == ("sites", prog("sites")), top[0][-1]
    assert top[2] == {"comm": "sites", "exe": prog("sites")}, top[2]
    leak = max(samples, key=lambda s: s[1][3])
    assert leak[0][0][0] == "leaky_alloc", leak
    growth = max(samples, key=lambda s: s[1][5])
    assert growth[0][0][0] == "touch_static" and growth[1][:4] == [0, 0, 0, 0], growth


def test_separate_debug_info_by_build_id():
    """A stripped program is named from its separate debug file under
    /usr/lib/debug/.build-id/xx/yyyy.debug (issue 16, item 2): function and
    file:line. Without that file the same frame is only program+0xoffset. The
    build id is random, so no other program's debug file is touched."""
    import shutil
    import tempfile
    build_id = os.urandom(20).hex()
    src = os.path.join(ROOT, "tests", "progs", "sites.c")
    line = [i + 1 for i, l in enumerate(open(src).read().splitlines()) if "[i] = 1;" in l][0]
    with tempfile.TemporaryDirectory(prefix="memobs-debuginfo-") as d:
        exe, symbols = os.path.join(d, "stripped"), os.path.join(d, "symbols")
        subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline", "-I" + os.path.join(ROOT, "include"),
                        "-Wl,--build-id=0x" + build_id, src, "-o", exe], check=True)
        subprocess.run(["objcopy", "--only-keep-debug", exe, symbols], check=True)
        subprocess.run(["strip", "--strip-all", exe], check=True)
        os.chmod(d, 0o755)
        _, bare = memobs(["-q"], [exe], check_rc=0)
        assert leaf(bare["rss_growth_sites"][0]).startswith("stripped+0x"), bare["rss_growth_sites"][0]
        where = os.path.join("/usr/lib/debug/.build-id", build_id[:2])
        made = not os.path.isdir(where)
        os.makedirs(where, exist_ok=True)
        debug = os.path.join(where, build_id[2:] + ".debug")
        try:
            shutil.copy(symbols, debug)
            _, doc = memobs(["-q"], [exe], check_rc=0)
        finally:
            os.unlink(debug)
            if made:
                os.rmdir(where)
    top = doc["rss_growth_sites"][0]
    assert leaf(top) == "touch_static" and top["frames"][-2] == "main", top
    assert top["sources"][-1].endswith("/tests/progs/sites.c:%d" % line), top["sources"]


def data_symbols(*files):
    """Names of the data objects (STT_OBJECT, TLS) of these ELF files and their separate debug files."""
    names = set()
    for f in files:
        out = subprocess.run(["readelf", "-sW", f], capture_output=True, text=True).stdout
        names |= {m.group(1) for m in re.finditer(r"\s(?:OBJECT|TLS)\s+\S+\s+\S+\s+\S+\s+(\S+)$", out, re.M)}
    return {n.split("@")[0] for n in names}


def test_cxx_without_frame_pointers():
    """C++ built -O2 without frame pointers (issue 16): the site is Grower::grow(unsigned long), demangled,
    at the line that touches the pages, under its real callers up to main (CFI unwound in BPF); no frame is
    a sentinel or a data symbol."""
    _, doc = memobs(["-q"], [prog("grower")], check_rc=0)
    top = doc["rss_growth_sites"][0]
    assert leaf(top) == "Grower::grow(unsigned long)", doc["rss_growth_sites"][:3]
    frames = top["frames"]
    assert frames[frames.index("main"):] == ["main", "run_phase(Grower&, int)", "build(Grower&, int)",
                                            "Grower::grow(unsigned long)"], frames
    assert frames[0] == "_start" and "__libc_start_main" in frames, frames
    assert_near(top["bytes"], 64 * MiB, rel=0.05, what="Grower::grow growth")
    src = open(os.path.join(ROOT, "tests", "progs", "grower.cc")).read().splitlines()
    line = [i + 1 for i, l in enumerate(src) if "RSS grows here" in l][0]
    assert top["sources"][-1].endswith("/tests/progs/grower.cc:%d" % line), top["sources"]
    assert top["comm"] == "grower" and top["exe"] == prog("grower"), top
    libc = "/lib/x86_64-linux-gnu/libc.so.6"
    data = data_symbols(prog("grower"), libc) | {"main_arena", "_PyRuntime"}
    frames = [f for s in doc["rss_growth_sites"] for f in s["frames"]]
    assert not [f for f in frames if f in data], [f for f in frames if f in data]
    assert not [f for f in frames if re.search(r"unknown|0xffffffff", f)], frames


def test_unwind_tables_from_the_cache():
    """The unwind tables a run compiles are kept by build id in the cache (MEMOBS_CACHE=DIR); the next run
    reads them instead (-v says "(cached)") and unwinds alike: grower's site under its callers up to main."""
    import shutil
    import tempfile
    cache = tempfile.mkdtemp(prefix="memobs-cfi-")
    try:
        env = dict(os.environ, MEMOBS_CACHE=cache)
        for run in range(2):
            proc, doc = memobs(["-v"], [prog("grower")], check_rc=0, env=env)
            lines = [l for l in proc.stderr.splitlines() if "unwind table of" in l]
            mine = [l for l in lines if prog("grower") in l]
            assert mine and all(l.endswith("(cached)") == (run == 1) for l in mine), (run, lines)
            frames = doc["rss_growth_sites"][0]["frames"]
            assert frames[frames.index("main"):] == ["main", "run_phase(Grower&, int)", "build(Grower&, int)",
                                                    "Grower::grow(unsigned long)"], (run, frames)
        build_id = subprocess.run(["readelf", "-n", prog("grower")], capture_output=True, text=True).stdout
        build_id = re.search(r"Build ID: ([0-9a-f]+)", build_id).group(1)
        assert build_id + ".v2.cfi" in os.listdir(os.path.join(cache, "cfi")), os.listdir(os.path.join(cache, "cfi"))
        # The tables' own subdirectory unusable (another user's): one line, and the run goes on.
        os.chown(os.path.join(cache, "cfi"), 1, 1)
        proc, _ = memobs(["-q"], ["true"], check_rc=0, env=env)
        warnings = [l for l in proc.stderr.splitlines() if "warning" in l]
        assert len(warnings) == 1 and "/cfi: owned by uid 1" in warnings[0] and \
            warnings[0].endswith("unwind tables are compiled without it"), proc.stderr
    finally:
        shutil.rmtree(cache)


# Two programs of one size and one build id (linked with a fixed one) whose unwind rows differ: framed's
# frame is 4000 bytes in one, 8000 in the other.
SAME_ID_SRC = r"""
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) void grow(volatile char *buf)
{ for (int i = 0; i < 48; i++) { char *p = malloc(1 << 20); memset(p, 1, 1 << 20); buf[i] = p[5]; } }
__attribute__((noinline)) void framed(void) { volatile char big[FRAME]; big[0] = 1; grow(big); }
int main(void) { framed(); return 0; }
"""


def test_cached_table_not_given_to_a_rebuilt_file():
    """A program rebuilt in place with the same build id and size but other code (a fixed --build-id) is not
    given its former unwind table from the cache: its growth site is unwound up to main as without a cache."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="memobs-test-")
    os.chmod(d, 0o755)
    try:
        cache, exe = os.path.join(d, "cache"), os.path.join(d, "prog")
        os.mkdir(cache, 0o700)
        builds = []
        for frame in (4000, 8000):
            src, out = os.path.join(d, "p%d.c" % frame), os.path.join(d, "p%d" % frame)
            open(src, "w").write(SAME_ID_SRC.replace("FRAME", str(frame)))
            subprocess.run(["gcc", "-O1", "-fomit-frame-pointer", "-fasynchronous-unwind-tables",
                            "-Wl,--build-id=0x" + "5a" * 20, src, "-o", out], check=True)
            builds.append(out)
        assert os.path.getsize(builds[0]) == os.path.getsize(builds[1]), "one size"
        env = dict(os.environ, MEMOBS_CACHE=cache)
        for build in builds:
            with open(build, "rb") as f, open(exe, "wb") as to:  # in place: the same inode
                to.write(f.read())
            os.chmod(exe, 0o755)
            _, doc = memobs(["-q", "--rss-sample-bytes", "1MiB"], [exe], check_rc=0, env=env)
            frames = max(doc["rss_growth_sites"], key=lambda s: s["bytes"])["frames"]
            assert "main" in frames and frames[frames.index("main"):][:3] == ["main", "framed", "grow"], \
                (build, frames)
    finally:
        shutil.rmtree(d)


def pythons():
    """CPython 3.11 as Debian builds it (the interpreter linked in), pyenv's 3.11 (libpython3.11.so, first on
    PATH) and pyenv's 3.12 where installed."""
    import glob
    import shutil
    found = ["/usr/bin/python3.11", shutil.which("python3")]
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))[:1]
    return [p for p in found if p and os.path.exists(p)]


def python_growth_sites(py, script, extra=()):
    """The RSS growth sites of pygrow under py, most of whose bytes must be Builder.fill's."""
    _, doc = memobs(["-q"] + list(extra), [py, script], check_rc=0)
    sites = doc["rss_growth_sites"]
    total = sum(s["bytes"] for s in sites)
    fill = sum(s["bytes"] for s in sites if "Builder.fill" in s["frames"])
    assert fill >= 0.5 * total, (py, extra, fill, total, [s["frames"][-6:] for s in sites[:4]])
    return sites


def test_python_frames():
    """Python functions in the stacks (issue 16 item 4): read from the interpreter at the sample, in place of
    its eval loop's native frame, with their file:line; most RSS growth is the allocating function's. The
    script runs ~0.1 s: libpython's table is there from its first sample (loaded at the exec, not beside it).
    Under --heap, memobs's own uretprobes on malloc replace the return addresses the walk reads (as anyone's
    uretprobe on the C library does): the walk still gets past malloc."""
    script = os.path.join(ROOT, "tests", "progs", "pygrow.py")
    line = [i + 1 for i, l in enumerate(open(script).read().splitlines()) if "RSS grows here" in l][0]
    for py in pythons():
        sites = python_growth_sites(py, script)
        chain = [s for s in sites if "<module>" in s["frames"] and "Builder.fill" in s["frames"]]
        assert chain, (py, [s["frames"] for s in sites[:4]])
        frames, sources = chain[0]["frames"], chain[0]["sources"]
        at = frames.index("<module>")
        assert frames[at:at + 4] == ["<module>", "main", "build_index", "Builder.fill"], (py, frames)
        assert sources[at + 3] == "%s:%d" % (script, line), (py, sources)
    assert len(pythons()) >= 2, pythons()
    python_growth_sites(pythons()[1], script, ["--heap"])


def test_unknown_python_said_once():
    """A CPython whose frames memobs does not read is said once, not guessed."""
    import glob
    newer = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    if not newer:
        raise Skip("no CPython 3.13 under ~/.pyenv/versions (pyenv install 3.13): nothing to check here")
    proc, doc = memobs([], [newer[0], os.path.join(ROOT, "tests", "progs", "pygrow.py"), "4096"], check_rc=0)
    said = [l for l in proc.stderr.splitlines() if "its frames are not read" in l]
    assert len(said) == 1 and "Python 3.13" in said[0], proc.stderr[-2000:]
    assert not [f for s in doc["rss_growth_sites"] for f in s["frames"] if f in ("main", "build_index")], doc


if __name__ == "__main__":
    run_tests(globals())
