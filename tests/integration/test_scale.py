"""memobs scale against known shapes (needs root): programs whose memory is
exactly linear (N x 64 KiB), quadratic (N^2 x 1 KiB) and constant in N must
be classified so and their coefficients recovered within 5%; a prediction
for a size outside the sweep, run for real, must be within 10%. Items
markers replace the size; a failing run stops the sweep at its size; bad
input exits 2 with one line. Sizes are small: each run is a whole memobs
observation (about 1.5 s here, 3 s with --heap)."""
import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

from harness import MEMOBS, MEMOBS_ASAN, prog, run_tests

KiB = 1024
MiB = 1024 * KiB
TMP = tempfile.mkdtemp(prefix="memobs-scale-")
os.chmod(TMP, 0o711)  # the invoking user's files are written below it
atexit.register(shutil.rmtree, TMP, True)
SVG_NS = "{http://www.w3.org/2000/svg}"

_sweeps = {}


def scale(args, cmd, binary=MEMOBS, check_rc=0, timeout=120):
    p = subprocess.run([binary, "scale"] + args + ["--"] + cmd, capture_output=True, text=True, timeout=timeout)
    if check_rc is not None:
        assert p.returncode == check_rc, "memobs scale exited %d, expected %d\nstdout:\n%s\nstderr:\n%s" % (
            p.returncode, check_rc, p.stdout, p.stderr)
    return p


def start(name, args, cmd):
    """Start a sweep in the background: each run waits mostly on the kernel
    loading BPF, so sweeps side by side keep this test within a minute.
    Peaks are per session: a neighbour does not change them."""
    out = os.path.join(TMP, name + ".json")
    argv = [MEMOBS, "scale"] + args + ["-o", out, "--svg", os.path.join(TMP, name + ".svg"), "--"] + cmd
    _sweeps[name] = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def sweep(name):
    """The sweep's (stdout, stderr, run set), waited for once."""
    if isinstance(_sweeps[name], subprocess.Popen):
        p = _sweeps[name]
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, "memobs scale (%s) exited %d\nstdout:\n%s\nstderr:\n%s" % (
            name, p.returncode, out, err)
        with open(os.path.join(TMP, name + ".json")) as f:
            _sweeps[name] = (out, err, json.load(f))
    return _sweeps[name]


start("linear", ["--heap", "--sizes", "40,160,640", "--predict", "1280", "--budget", "1GiB"],
      [prog("scale_linear"), "{}"])
start("quadratic", ["--sizes", "32,96,192", "--predict", "256", "--budget", "48MiB"], [prog("scale_quadratic"), "{}"])
# The size reaches the program through $SCALE_N only.
start("const", ["--env", "SCALE_N", "--sizes", "100,1000,100000", "-q"],
      ["sh", "-c", 'exec "$0" "$SCALE_N"', prog("scale_const")])


def settle():
    """Wait for every background sweep (before counting directories they make)."""
    for name in list(_sweeps):
        sweep(name)


def linear():
    return sweep("linear")


def quadratic():
    return sweep("quadratic")


def metric(runset, name):
    found = [m for m in runset["metrics"] if m["name"] == name]
    assert found, "no metric %s in %s" % (name, [m["name"] for m in runset["metrics"]])
    return found[0]


def near(actual, expected, rel, what):
    print("# %s: %.6g vs %.6g (%+.2f%%)" % (what, actual, expected, 100.0 * (actual - expected) / expected))
    assert abs(actual - expected) <= rel * abs(expected), "%s: %.6g vs expected %.6g (off by %.2f%%, allowed %g%%)" % (
        what, actual, expected, 100.0 * (actual - expected) / expected, 100 * rel)


def observed_peak(cmd):
    out = os.path.join(TMP, "single.json")
    p = subprocess.run([MEMOBS, "-q", "-o", out, "--"] + cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    with open(out) as f:
        return json.load(f)["totals"]["rss"]["peak"]


def test_linear_recovered():
    out, err, rs = linear()
    for name in ("peak_rss", "peak_heap", "alloc_bytes"):
        m = metric(rs, name)
        assert m["fit"]["shape"] == "linear", "%s: %s" % (name, m["fit"])
        assert abs(m["fit"]["k_free"] - 1) <= 0.1, m["fit"]
        near(m["fit"]["per_unit"], 64 * KiB, 0.05, name + " per unit")
    assert "linear" in out and "64.0 KiB*N" in out, out
    assert err.count("memobs scale: size ") == 3, err


def test_linear_by_items():
    # Phase "build" counts 2N items: fitted against them, it costs 32 KiB each.
    _, _, rs = linear()
    m = metric(rs, "phase.build.rss.peak_over_baseline")
    assert m["n"] == "items", m
    assert [pt["n"] for pt in m["points"]] == [80, 320, 1280], m["points"]
    assert m["fit"]["shape"] == "linear", m["fit"]
    near(m["fit"]["per_unit"], 32 * KiB, 0.05, "per item")
    near(m["items_fit"]["b"], 2, 0.001, "items per unit of N")
    assert m["prediction"]["n"] == 2560, m["prediction"]
    assert metric(rs, "peak_rss")["n"] == "size"


def test_linear_prediction():
    _, _, rs = linear()
    predicted = metric(rs, "peak_rss")["prediction"]["value"]
    actual = observed_peak([prog("scale_linear"), "1280"])
    near(predicted, actual, 0.10, "peak RSS predicted at 1280 (2x the sweep) vs observed")
    budget = rs["budget"]
    assert budget["fits"] is True and budget["bytes"] == 1 << 30, budget
    assert budget["margin"] == budget["bytes"] - budget["predicted"], budget


def test_quadratic_recovered():
    out, _, rs = quadratic()
    m = metric(rs, "peak_rss")
    assert m["fit"]["shape"] == "super-linear", m["fit"]
    assert abs(m["fit"]["k_free"] - 2) <= 0.1 and m["fit"]["k"] == 2, m["fit"]
    near(m["fit"]["b"], 1 * KiB, 0.05, "bytes per N^2")
    assert m["fit"]["per_unit"] is None, "per-unit bytes are for linear fits"
    assert "super-linear" in out, out


def test_quadratic_prediction_and_budget():
    out, _, rs = quadratic()
    predicted = metric(rs, "peak_rss")["prediction"]["value"]
    actual = observed_peak([prog("scale_quadratic"), "256"])
    near(predicted, actual, 0.10, "peak RSS predicted at 256 (1.33x the sweep, 1.8x the memory) vs observed")
    assert rs["budget"]["fits"] is False and rs["budget"]["margin"] < 0, rs["budget"]
    words = " ".join(out.split())
    assert "budget: peak_rss at size 256 is predicted at" in words and "it does NOT fit" in words, out


def test_text_fits_and_says_how_sure():
    """Issue 18, item 8: 100 columns, no 0 ns*N^k, no negative intercept, the
    budget's share said as used, each prediction with its interval or why
    it is not reliable."""
    for name in ("linear", "quadratic"):
        out, _, rs = sweep(name)
        assert not [l for l in out.splitlines() if len(l) > 100], out
        assert " 0 ns*" not in out and " 0 B*" not in out, out
        for m in rs["metrics"]:
            assert m["fit"] is None or m["fit"]["a"] >= 0, m
            p = m.get("prediction")
            if p:
                assert p["interval_95"] is None or p["interval_95"] >= 0, p
        duration = [l for l in out.split("prediction at size")[1].splitlines() if l.strip().startswith("duration")]
        assert duration and ("+-" in duration[0] or "not reliable" in duration[0]), out
    out, _, rs = linear()
    used = 100.0 * rs["budget"]["predicted"] / rs["budget"]["bytes"]
    assert "%.1f%% of the 1.00 GiB budget: it fits, " % used in " ".join(out.split()), out


def test_constant_recovered_via_env():
    # It touches 32 MiB whatever N, on top of the process baseline that the
    # linear fit found (the same libc, the same start-up).
    _, _, rs = sweep("const")
    assert rs["env"] == "SCALE_N" and rs["command"][-1] == prog("scale_const"), rs["command"]
    m = metric(rs, "peak_rss")
    assert m["fit"]["shape"] == "constant", m["fit"]
    assert m["fit"]["b"] == 0 and m["fit"]["r2"] is None, m["fit"]
    baseline = metric(linear()[2], "peak_rss")["fit"]["a"]
    near(m["fit"]["a"] - baseline, 32 * MiB, 0.05, "constant memory over the process baseline")


def test_svg():
    _, _, rs = linear()
    root = ET.parse(os.path.join(TMP, "linear.svg")).getroot()
    panels = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "metric"]
    assert len(panels) == len(rs["metrics"]), (len(panels), len(rs["metrics"]))
    text = "".join(root.itertext())
    for m in rs["metrics"]:
        assert m["name"] in text, m["name"]
    assert "budget 1.00 GiB" in text and "N (items)" in text, text[:400]
    assert len(root.findall(".//" + SVG_NS + "circle")) == 3 * len(rs["metrics"])


def test_failing_size_stops():
    p = scale(["--sizes", "100,200,300"], ["sh", "-c", "[ {} -lt 200 ] || exit 3"], check_rc=1)
    lines = p.stderr.strip().splitlines()
    assert lines[-1] == "memobs scale: size 200: the command exited with status 3; stopping", p.stderr
    assert "size 300" not in p.stderr and p.stdout == "", (p.stdout, p.stderr)


def test_failure_under_asan():
    # The whole path - child memobs, run document, cleanup - leak-free.
    settle()
    tmp = os.environ.get("TMPDIR") or "/tmp"
    before = {d for d in os.listdir(tmp) if d.startswith("memobs-scale.")}
    p = scale(["-q", "--sizes", "7,8,9"], ["sh", "-c", "exit {}"], binary=MEMOBS_ASAN, check_rc=1)
    assert p.stderr.strip() == "memobs scale: size 7: the command exited with status 7; stopping", p.stderr
    left = {d for d in os.listdir(tmp) if d.startswith("memobs-scale.")} - before
    assert not left, "run documents left behind: %s" % left


def test_signal_stops():
    # Sent to memobs scale alone (kill, timeout): passed on, the sweep stops.
    settle()
    tmp = os.environ.get("TMPDIR") or "/tmp"
    before = {d for d in os.listdir(tmp) if d.startswith("memobs-scale.")}
    p = subprocess.Popen([MEMOBS, "scale", "-q", "--sizes", "1,2,3", "--", "sh", "-c", "sleep 5; true {}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 128 + signal.SIGTERM, (p.returncode, err)
    assert err.strip().splitlines()[-1] == \
        "memobs scale: size 1: stopped by signal 15 (Terminated); the sweep is incomplete", err
    assert out == "" and not {d for d in os.listdir(tmp) if d.startswith("memobs-scale.")} - before


def test_not_found():
    p = scale(["--sizes", "1,2,3"], ["/nonexistent/prog", "{}"], check_rc=127)
    assert p.stderr.strip().splitlines()[-1] == "memobs scale: size 1: the command was not found; stopping", p.stderr


def test_bad_input():
    cases = [
        ([], ["true", "{}"], "--sizes is required"),
        (["--sizes", "100,1000"], ["true", "{}"], "2 sizes: fitting a + b*N^k needs at least 3 distinct sizes"),
        (["--sizes", "100,1000,1000"], ["true", "{}"], "size 1000 is given twice"),
        (["--sizes", "100,1k,5000"], ["true", "{}"], "'1k' is not a size"),
        (["--sizes", "1,2,3"], ["true"], "the command has no {} and no --env NAME"),
        (["--sizes", "1,2,3", "--predict", "9", "--budget", "2XB"], ["true", "{}"], "unknown size unit 'XB'"),
        (["--sizes", "1,2,3", "--budget", "2GiB"], ["true", "{}"], "--budget needs --predict N"),
        (["--sizes", "1,2,3", "--env", "1X"], ["true"], "is not a variable name"),
        (["--sizes", "1,2,3", "--repeat", "0"], ["true", "{}"], "--repeat '0'"),
    ]
    for args, cmd, want in cases:
        p = scale(args, cmd, binary=MEMOBS_ASAN, check_rc=2, timeout=30)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 2 and lines[0].startswith("memobs scale: ") and want in lines[0], (args, p.stderr)
        assert lines[1] == "Try 'memobs scale --help' for more information.", p.stderr


run_tests(globals())
