"""memobs report: a real run (needs root) shown again as the summary, its
JSON, the benchmark exports, an SVG timeline that rsvg-convert renders and an
HTML page that headless Chromium loads and draws; bad input exits 2 with one
line, an unwritable output 125. Needs the Debian packages librsvg2-bin and
chromium: this test installs nothing, and fails naming the package when a
tool is missing."""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

from harness import MEMOBS, ROOT, MiB, read_run, run_tests

TMP = tempfile.mkdtemp(prefix="memobs-report-")
os.chmod(TMP, 0o711)  # the invoking user's files are written below it
SVG_NS = "{http://www.w3.org/2000/svg}"
PHASES = ("load", "build", "compile", "link")

# Nested phases, a mark, a child process, touched memory, heap traced.
WORKLOAD = """import subprocess, sys, time
sys.path.insert(0, %r)
import memobs
keep = []
with memobs.phase("load"):
    keep.append(b"\\x01" * (24 << 20))
    time.sleep(0.3)
with memobs.phase("build"):
    with memobs.phase("compile"):
        subprocess.run([sys.executable, "-c", "import time; b = b'\\\\x01' * (40 << 20); time.sleep(0.4)"],
                       check=True)
    memobs.mark("linked")
    with memobs.phase("link"):
        keep.append(b"\\x02" * (16 << 20))
        time.sleep(0.3)
""" % os.path.join(ROOT, "emitters", "python")

_run = {}


def run_file():
    """The run document of the workload, observed once for all the tests."""
    if not _run:
        script = os.path.join(TMP, "workload.py")
        with open(script, "w") as f:
            f.write(WORKLOAD)
        path = os.path.join(TMP, "run.json")
        p = subprocess.run([MEMOBS, "--heap", "-q", "--interval", "20", "-o", path, "--", "python3", script],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, "memobs exited %d:\n%s" % (p.returncode, p.stderr)
        _run["doc"] = read_run(path)
        _run["path"] = path
    return _run["path"], _run["doc"]


def report(*args, **kw):
    return subprocess.run([MEMOBS, "report"] + list(args), capture_output=True, text=True, timeout=120, **kw)


def ok(p):
    assert p.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout[-2000:], p.stderr)
    return p


def tool(name, package):
    path = shutil.which(name)
    assert path, "%s not found: install the Debian package %s (scripts/install-deps.sh)" % (name, package)
    return path


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG: %s" % path
    pos, idat, head = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = head
    assert depth == 8 and color in (2, 6) and not interlace, "unexpected PNG format %s" % (head,)
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) if bpp == 3 or line[x * bpp + 3] else (255, 255, 255)
                     for x in range(width)])
        prev = line
    return width, height, rows


def pixel_counts(path):
    """(pixels, non-white pixels, pixels of the anon RSS blue) of a PNG."""
    w, h, rows = read_png(path)
    ink = blue = 0
    for row in rows:
        for r, g, b in row:
            if min(r, g, b) < 235:
                ink += 1
            # #4c72b0 at 85% over the pale phase bands stays clearly blue
            if b > 140 and b - r > 50 and b - g > 25:
                blue += 1
    return w * h, ink, blue


def test_text_summary_is_the_default():
    path, doc = run_file()
    p = ok(report(path))
    assert "session peak RSS" in p.stdout and "heap: peak live" in p.stdout, p.stdout
    for name in PHASES:
        assert name in p.stdout, (name, p.stdout)
    assert p.stdout == ok(report(path, "--format", "text")).stdout


def test_site_tables_name_the_program_and_the_line():
    """Issue 16, item 3 and item 2: each row of the text and HTML site tables
    names its program (comm; the executable on hover in HTML) and the
    file:line of its frames (the workload's own line 6 took 24 MiB)."""
    path, doc = run_file()
    text = ok(report(path)).stdout.splitlines()
    page = os.path.join(TMP, "sites.html")
    ok(report(path, "--html", page))
    with open(page) as f:
        html_rows = f.read().split("\n")
    for kind, title, section in (("top_allocators", "top allocation sites", "top-allocators"),
                                 ("rss_growth_sites", "code that made RSS grow", "rss-growth-sites")):
        mine = [s for s in doc[kind] if any((src or "").endswith("/workload.py:6") for src in s.get("sources", []))]
        assert mine, (kind, [s.get("sources") for s in doc[kind][:5]])
        site = mine[0]
        frame = site["frames"][[(src or "").endswith("/workload.py:6") for src in site["sources"]].index(True)]
        assert site["comm"] and site["exe"], site
        # Text: "  BYTES COUNT  PROGRAM  leaf (file:line) <- ... <- <module> (workload.py:6)".
        start = [i for i, l in enumerate(text) if l.strip().startswith(title)][0]
        rows = [l for l in text[start + 1:] if l.startswith("  ") and "(workload.py:6)" in l]
        assert rows, (kind, text[start:start + 12])
        cells = rows[0].split()
        assert cells[3] == site["comm"] and "%s (workload.py:6)" % frame in rows[0], (kind, rows[0], site["comm"])
        # HTML: the row of that site in its section.
        first = html_rows.index([l for l in html_rows if l.startswith('<section id="%s"' % section)][0])
        row = [l for l in html_rows[first:] if l.startswith("<tr>") and "workload.py:6" in l][0]
        assert '<td title="%s">%s</td>' % (site["exe"], site["comm"]) in row, (kind, row[:600])
        assert '<span title="%s">%s</span>' % (site["sources"][site["frames"].index(frame)],
                                               frame.replace("<", "&lt;").replace(">", "&gt;")) in row, row
        leaf = site["sources"][-1]
        if leaf:
            assert "<small>%s</small>" % leaf.rsplit("/", 1)[-1] in row, (leaf, row[-600:])


def test_json_is_the_document_again():
    path, doc = run_file()
    again = json.loads(ok(report(path, "--format", "json")).stdout)
    assert again == doc
    assert len(again["timeline"]) > 20 and again["processes"], "the whole run, not its history summary"


def test_gh_benchmark_and_bencher_carry_the_figures():
    path, doc = run_file()
    gh = {e["name"]: e for e in json.loads(ok(report(path, "--format", "gh-benchmark")).stdout)}
    assert abs(gh["peak_rss"]["value"] - doc["totals"]["rss"]["peak"] / MiB) < 1e-3, gh["peak_rss"]
    assert gh["peak_rss"]["unit"] == "MiB"
    compile_phase = [p for p in doc["phases"] if p["name"] == "compile"][0]
    assert abs(gh["phase.compile.rss.peak"]["value"] - compile_phase["rss"]["peak"] / MiB) < 1e-3
    bench = json.loads(ok(report(path, "--format", "bencher")).stdout)
    name = " ".join(doc["command"])
    assert bench[name]["peak-rss"]["value"] == doc["totals"]["rss"]["peak"], bench[name]
    assert bench[name + "/phase/compile"]["peak-rss"]["value"] == compile_phase["rss"]["peak"]


def test_svg_is_well_formed_labelled_and_renders():
    path, doc = run_file()
    svg, png = os.path.join(TMP, "t.svg"), os.path.join(TMP, "t.png")
    p = ok(report(path, "--svg", svg, "--processes", "2"))
    assert p.stdout == "", "only the file is asked for"
    texts = ["".join(t.itertext()) for t in ET.parse(svg).getroot().iter(SVG_NS + "text")]
    for name in PHASES + ("linked", "live heap", "anon RSS"):
        assert name in texts, (name, texts)
    assert any(t.startswith("memobs: python3 ") for t in texts), texts
    # each phase's peak is marked with its value (MiB with one decimal)
    assert sum(1 for t in texts if t.endswith(" MiB") and "." in t) >= len(PHASES), texts
    subprocess.run([tool("rsvg-convert", "librsvg2-bin"), "-o", png, svg], check=True, timeout=60)
    total, ink, blue = pixel_counts(png)
    assert ink > total * 0.05, "the chart is nearly blank: %d of %d pixels drawn" % (ink, total)
    assert blue > total * 0.01, "no RSS area drawn: %d blue pixels of %d" % (blue, total)


def chromium(*args):
    user_dir = tempfile.mkdtemp(prefix="chromium-", dir=TMP)
    argv = [tool("chromium", "chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + user_dir] + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=180)


def test_html_loads_in_chromium_and_shows_the_chart():
    path, doc = run_file()
    page, shot = os.path.join(TMP, "t.html"), os.path.join(TMP, "shot.png")
    ok(report(path, "--html", page, "--processes", "2"))
    with open(page) as f:
        html = f.read()
    assert "src=" not in html and "href=" not in html, "self-contained: nothing to fetch"
    p = chromium("--screenshot=" + shot, "--window-size=1200,1600", "file://" + page)
    assert os.path.exists(shot), "no screenshot: %s" % p.stderr[-2000:]
    total, ink, blue = pixel_counts(shot)
    assert ink > total * 0.05, "the page is nearly blank: %d of %d pixels" % (ink, total)
    assert blue > 5000, "the chart is not drawn: %d blue pixels" % blue
    p = chromium("--dump-dom", "file://" + page)
    dom = p.stdout
    assert "<svg" in dom and 'id="timeline"' in dom, dom[:2000]
    for name in PHASES:
        assert ">%s</td>" % name in dom and ">%s</text>" % name in dom, name
    procs = dom.split('id="processes"')[1].split("</table>")[0]
    assert procs.count("<tr>") == len(doc["processes"]) + 1, "a row per process and the header"
    assert 'id="by-command"' in dom and 'id="drops"' in dom


def test_html_tables_sort_on_click():
    path, doc = run_file()
    page, clicked = os.path.join(TMP, "sort.html"), os.path.join(TMP, "clicked.html")
    ok(report(path, "--html", page))
    with open(page) as f:
        html = f.read()
    # Click "peak RSS": largest first; again: smallest first. Then "comm": A to Z.
    column = ("function col(i) { return Array.from(document.querySelectorAll('#processes tbody tr'))"
              ".map(function (r) { return r.cells[i].dataset.v || r.cells[i].textContent; }).join(','); }")
    click = ("<script>%s var h = document.querySelectorAll('#processes th'), out = [];"
             "h[7].click(); out.push(col(7)); h[7].click(); out.push(col(7)); h[2].click(); out.push(col(2));"
             "document.body.setAttribute('data-sorted', out.join(';'));</script></body>" % column)
    with open(clicked, "w") as f:
        f.write(html.replace("</body>", click))
    dom = chromium("--dump-dom", "file://" + clicked).stdout
    down, up, comms = [c.split(",") for c in dom.split('data-sorted="')[1].split('"')[0].split(";")]
    peaks = sorted(p["rss"]["peak"] for p in doc["processes"])
    assert [int(v) for v in down] == peaks[::-1], down
    assert [int(v) for v in up] == peaks, up
    assert comms == sorted(p["comm"] for p in doc["processes"]), comms


_crowded = []


def crowded_page():
    """The real run with 300 more processes (compiler command lines of 2,000
    bytes) and 120 more RSS growth sites, as HTML: what a big build gives."""
    if _crowded:
        return _crowded[0]
    path, doc = run_file()
    big = json.loads(json.dumps(doc))
    proto = big["processes"][0]
    for i in range(300):
        p = json.loads(json.dumps(proto))
        p["pid"], p["comm"] = 100000 + i, "cc1"
        p["argv"] = ["/usr/lib/gcc/x86_64-linux-gnu/12/cc1"] + ["-Wsome-warning-%d" % k for k in range(100)]
        p["rss"]["peak"] = (i + 1) * 4096
        big["processes"].append(p)
    site = big["rss_growth_sites"][0]
    for i in range(120):
        s = json.loads(json.dumps(site))
        s["frames"] = s["frames"] + ["leaf_%d" % i]
        s["bytes"] = 4096 * (i + 1)
        big["rss_growth_sites"].append(s)
    src, page = os.path.join(TMP, "crowded.json"), os.path.join(TMP, "crowded.html")
    with open(src, "w") as f:
        json.dump(big, f)
    ok(report(src, "--html", page))
    _crowded.append((big, page))
    return big, page


def probe(page, script, width=1400):
    """Load page in Chromium at width, run script (which sets `out`, a list
    of strings) after the page's own, return out."""
    with open(page) as f:
        html = f.read()
    probed = page + ".probe.html"
    with open(probed, "w") as f:
        f.write(html.replace("</body>", "<script>var out = []; %s\n"
                             "document.body.setAttribute('data-probe', out.join('|'));</script></body>" % script))
    dom = chromium("--window-size=%d,900" % width, "--dump-dom", "file://" + probed).stdout
    assert 'data-probe="' in dom, dom[-2000:]
    return dom.split('data-probe="')[1].split('"')[0].replace("&gt;", ">").split("|")


def test_html_fits_1400_pixels_and_folds_long_tables():
    """Issue 18, item 5: no sideways scroll at 1400 px; processes by peak RSS,
    the first 50 shown and the rest behind a button; long command lines
    folded; the sites table shows its first 20."""
    doc, page = crowded_page()
    out = probe(page, """
        function shown(sel) {
          return Array.from(document.querySelectorAll(sel)).filter(function (r) {
            return getComputedStyle(r).display !== 'none'; });
        }
        document.querySelectorAll('section').forEach(function (s) {
          if (s.scrollWidth > s.clientWidth + 1) out.push('wide ' + s.id + ' ' + s.scrollWidth + '>' + s.clientWidth);
        });
        out.push('doc ' + (document.documentElement.scrollWidth <= window.innerWidth));
        var rows = shown('#processes tbody tr');
        out.push('procs ' + rows.length + ' ' + rows[0].cells[7].dataset.v);
        out.push('tallest ' + Math.max.apply(null, rows.map(function (r) { return r.offsetHeight; })));
        out.push('sites ' + shown('#rss-growth-sites tbody tr').length);
        document.querySelector('#processes button.fold').click();
        out.push('all ' + shown('#processes tbody tr').length);
    """)
    assert not [o for o in out if o.startswith("wide")] and "doc true" in out, out
    peak = max(p["rss"]["peak"] for p in doc["processes"])
    assert "procs 50 %d" % peak in out, (out, peak)
    tallest = int([o for o in out if o.startswith("tallest")][0].split()[1])
    assert tallest < 60, "a folded command line is a line or two high: %d px" % tallest
    assert "sites 20" in out and "all %d" % len(doc["processes"]) in out, out


def test_html_flame_graph_zooms_and_tells_bytes():
    """The flame graph of the sites: drawn from inline data, hover says a
    frame's bytes and share, a click zooms it to the whole width."""
    _, page = crowded_page()
    with open(page) as f:
        html = f.read()
    assert "src=" not in html and "href=" not in html and 'id="flame-data"' in html
    out = probe(page, """
        var svg = document.getElementById('flame-svg');
        var gs = Array.from(svg.querySelectorAll('g[data-i]'));
        out.push('frames ' + gs.length);
        var width = parseFloat(svg.getAttribute('width'));
        // A frame of the second row or below, narrower than the whole.
        var g = gs.filter(function (g) { var r = g.firstChild;
          return +r.getAttribute('y') >= 36 && +r.getAttribute('width') < width / 2 && +r.getAttribute('width') > 20; })[0];
        var y = g.firstChild.getAttribute('y'), name = g.textContent;
        g.firstChild.dispatchEvent(new MouseEvent('mousemove', { bubbles: true }));
        out.push('hover ' + document.getElementById('flame-info').textContent);
        g.firstChild.dispatchEvent(new MouseEvent('click', { bubbles: true }));
        var after = Array.from(svg.querySelectorAll('rect')).filter(function (r) {
          return r.getAttribute('y') === y && +r.getAttribute('width') > width - 2; });
        out.push('zoomed ' + after.length);
        out.push('info ' + document.getElementById('flame-info').textContent);
    """)
    frames = int([o for o in out if o.startswith("frames")][0].split()[1])
    hover = [o for o in out if o.startswith("hover")][0]
    assert frames > 10, out
    assert re.search(r": [0-9.]+ (B|KiB|MiB|GiB), [0-9.]+% of all", hover), out
    assert "zoomed 1" in out, out


def test_history_reference_gives_the_whole_run():
    path, doc = run_file()
    history = os.path.join(TMP, "history.jsonl")
    with open(history, "w") as f:
        f.write(json.dumps(doc, separators=(",", ":")) + "\n")
        f.write("{torn line\n")
        f.write(json.dumps(dict(doc, label="second"), separators=(",", ":")) + "\n")
    p = ok(report("--history=" + history, "@-2", "--format", "json"))
    assert json.loads(p.stdout) == doc
    assert "history.jsonl:2" in p.stderr, "the skipped line is named"
    p = ok(report("--history=" + history, "second", "--format", "json"))
    assert json.loads(p.stdout)["timeline"] == doc["timeline"]


def one_line(p, rc):
    assert p.returncode == rc, "exit %d, expected %d: %s" % (p.returncode, rc, p.stderr)
    lines = p.stderr.splitlines()
    if len(lines) == 2:	# a usage error points to the help
        assert lines[1] == "Try 'memobs report --help' for more information.", p.stderr
        lines = lines[:1]
    assert len(lines) == 1 and lines[0].startswith("memobs report: "), p.stderr
    return lines[0]


def test_bad_input_exits_2_with_one_line():
    path, _ = run_file()
    corrupt, other = os.path.join(TMP, "corrupt.json"), os.path.join(TMP, "other.json")
    with open(corrupt, "w") as f:
        f.write('{"schema": 1, "totals": ')
    with open(other, "w") as f:
        json.dump({"hello": "world"}, f)
    nohist = "--history=" + os.path.join(TMP, "none.jsonl")
    assert "No such file" in one_line(report(os.path.join(TMP, "missing.json"), nohist), 2)
    assert "not valid JSON" in one_line(report(corrupt, nohist), 2)
    assert "not a run document" in one_line(report(other, nohist), 2)
    assert "no history" in one_line(report("@-1", nohist), 2)
    assert "unknown format" in one_line(report(path, "--format", "xml", nohist), 2)
    assert "--processes" in one_line(report(path, "--processes", "two", "--svg", "x.svg", nohist), 2)
    assert "one run" in one_line(report(nohist), 2)


def test_unwritable_output_exits_125():
    path, _ = run_file()
    line = one_line(report(path, "--svg", os.path.join(TMP, "no", "such", "dir.svg")), 125)
    assert "cannot write" in line
    target, link = os.path.join(TMP, "target.svg"), os.path.join(TMP, "link.svg")
    with open(target, "w") as f:
        f.write("keep")
    os.symlink(target, link)
    assert "symbolic link" in one_line(report(path, "--html", link), 125)
    with open(target) as f:
        assert f.read() == "keep"


def test_files_belong_to_the_invoking_user():
    path, _ = run_file()
    out = tempfile.mkdtemp(prefix="owned-", dir=TMP)
    os.chmod(out, 0o1777)
    env = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534")
    ok(report(path, "--svg", os.path.join(out, "t.svg"), "--html", os.path.join(out, "t.html"), env=env))
    # -o: what would go to standard output, into a file (issue 18, item 8); pprof too.
    for name, args in (("t.json", ["--format", "json"]), ("t.pb.gz", ["--format", "pprof"]),
                       ("t.folded", ["--folded"]), ("t.txt", [])):
        p = ok(report(path, "-o", os.path.join(out, name), *args, env=env))
        assert p.stdout == "", p.stdout[:200]
    with open(os.path.join(out, "t.json")) as f:
        assert json.load(f) == read_run(path)
    with open(os.path.join(out, "t.pb.gz"), "rb") as f:
        assert zlib.decompress(f.read(), 31)[:1] == b"\n", "a gzipped protobuf"
    with open(os.path.join(out, "t.txt")) as f:
        assert f.read().startswith("memobs: python3 ")
    for name in ("t.svg", "t.html", "t.json", "t.pb.gz", "t.folded", "t.txt"):
        st = os.stat(os.path.join(out, name))
        assert (st.st_uid, st.st_gid) == (65534, 65534), (name, st.st_uid, st.st_gid)


def test_same_run_same_pictures():
    path, _ = run_file()
    a, b = os.path.join(TMP, "a.svg"), os.path.join(TMP, "b.svg")
    ok(report(path, "--svg", a, "--processes", "3"))
    ok(report(path, "--svg", b, "--processes", "3"))
    with open(a, "rb") as fa, open(b, "rb") as fb:
        assert fa.read() == fb.read()


if __name__ == "__main__":
    try:
        run_tests(globals())
    finally:
        if "KEEP" not in os.environ:
            shutil.rmtree(TMP, ignore_errors=True)
