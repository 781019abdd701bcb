"""--serve end to end: tests/serve/serve_demo.c runs user/serve/serve.c and
user/serve/prom.c as the run loop does, on a made-up session whose RSS changes
with every scrape, and logs what it served. A real Prometheus (Debian
package prometheus) scrapes it every second on loopback; its HTTP API must
give back exactly the values one scrape served, with the hostile comms
intact, under the cardinality bound. promtool checks the exposition.
Plain HTTP clients check the rest: 404/405/400/431, HEAD, slow and stuck
clients that never block a scrape. Generous timeouts: the machine is shared."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, MEMOBS, MiB, ROOT, free_port, prog, run_tests  # noqa: E402

DEMO = os.path.join(BUILD, "serve_demo")
LISTED = 64     # MO_PROM_MAX_PROCS
NPROCS = 70     # serve_demo's processes
_built = []
_demo = {}


def build_demo():
    if _built:
        return
    user = os.path.join(ROOT, "user")
    srcs = [os.path.join(ROOT, "tests", "serve", "serve_demo.c")] + \
        [os.path.join(user, f) for f in ("serve/serve.c", "serve/prom.c", "serve/prom_view.c", "model/drops.c",
                                         "lib/utf8.c")]
    os.makedirs(BUILD, exist_ok=True)
    subprocess.run(["cc", "-std=gnu11", "-D_GNU_SOURCE", "-g", "-Wall", "-Wextra", "-Werror",
                    "-Wno-missing-field-initializers", "-fsanitize=address,undefined",
                    "-fno-sanitize-recover=undefined", '-DMEMOBS_VERSION="test"', "-I" + user,
                    "-I" + os.path.join(ROOT, "include")] + srcs + ["-o", DEMO], check=True)
    _built.append(DEMO)


def demo():
    """The running driver (started once for all tests): (process, address, log path)."""
    if _demo:
        return _demo["proc"], _demo["addr"], _demo["log"]
    build_demo()
    tmp = tempfile.mkdtemp(prefix="memobs-serve-")
    log = os.path.join(tmp, "served.jsonl")
    proc = subprocess.Popen([DEMO, "127.0.0.1:0", log], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("listening on 127.0.0.1:"), "serve_demo: %r %s" % (line, proc.stderr.read())
    _demo.update(proc=proc, addr=line.split()[2], log=log, tmp=tmp)
    return proc, _demo["addr"], log


def served():
    """Every generation the driver answered: {gen: {pid: anon bytes}}."""
    with open(_demo["log"]) as f:
        return {d["gen"]: {int(p): v for p, v in d["anon"].items()} for d in map(json.loads, f)}


def http(addr, raw, timeout=60):
    """Send raw bytes, read until the server closes; the whole response."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(raw)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def get_metrics(addr):
    with urllib.request.urlopen("http://%s/metrics" % addr, timeout=60) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8", r.headers
        return r.read()


def wait_until(what, fn, timeout=180, every=0.5):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = fn()
            if last:
                return last
        except (OSError, urllib.error.URLError, ValueError, KeyError) as e:
            last = e
        time.sleep(every)
    raise AssertionError("%s: not within %d s (last: %r)" % (what, timeout, last))


class Prometheus:
    """A real Prometheus server scraping addr every second, in a temp dir."""

    def __init__(self, target):
        self.bin = shutil.which("prometheus")
        assert self.bin, "prometheus not found: install the Debian package prometheus (scripts/install-deps.sh)"
        self.dir = tempfile.mkdtemp(prefix="memobs-prom-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: memobs\n    static_configs:\n"
                    "      - targets: ['%s']\n" % target)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [self.bin, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def api(self, path, **params):
        url = "http://127.0.0.1:%d/api/v1/%s?%s" % (self.port, path, urllib.parse.urlencode(params))
        with urllib.request.urlopen(url, timeout=60) as r:
            doc = json.load(r)
        assert doc["status"] == "success", doc
        return doc["data"]

    def query(self, q):
        return self.api("query", query=q)["result"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def logtail(self):
        with open(os.path.join(self.dir, "prometheus.log")) as f:
            return f.read()[-3000:]


def test_promtool_accepts_the_exposition():
    _, addr, _ = demo()
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: install the Debian package prometheus"
    body = get_metrics(addr)
    p = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=120)
    assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), (p, body[:2000])
    text = body.decode("utf-8")     # valid UTF-8 whatever the comms
    assert text.count('memobs_process_rss_bytes{') == 3 * LISTED, text
    assert "\nmemobs_processes_other %d\n" % (NPROCS - LISTED) in text


def test_prometheus_scrapes_and_gives_the_served_values_back():
    proc, addr, _ = demo()
    prom = Prometheus(addr)
    try:
        wait_until("prometheus ready", lambda: urllib.request.urlopen(
            "http://127.0.0.1:%d/-/ready" % prom.port, timeout=30).status == 200)

        # A few scrapes: the anon series of the first process has changed at least 3 times.
        def changed():
            r = prom.query('memobs_process_rss_bytes{kind="anon",pid="1010"}[5m]')
            return r and len({v for _, v in r[0]["values"]}) >= 3
        wait_until("three different scraped values", changed)
        target = prom.api("targets")["activeTargets"]
        assert [t["health"] for t in target] == ["up"], target

        # One instant query: all 64 series come from one scrape, and that
        # scrape's values are exactly one generation the driver served.
        res = prom.query('memobs_process_rss_bytes{kind="anon"}')
        assert len(res) == LISTED, [r["metric"] for r in res]
        got = {int(r["metric"]["pid"]): int(r["value"][1]) for r in res}
        log = served()
        matches = [g for g, anon in log.items() if all(anon[p] == v for p, v in got.items())]
        assert len(matches) == 1, (got, sorted(log)[-5:])
        # The listed ones are the largest: pids 1006..1069; the rest summed.
        assert sorted(got) == list(range(1000 + NPROCS - LISTED, 1000 + NPROCS)), sorted(got)
        other = prom.query("memobs_processes_other")
        assert int(other[0]["value"][1]) == NPROCS - LISTED, other

        # Every sample of a range matches what was served for that pid, and grows.
        rng = prom.query('memobs_process_rss_bytes{kind="anon",pid="1010"}[5m]')[0]["values"]
        values = [int(v) for _, v in rng]
        all_served = {anon[1010] for anon in served().values()}
        assert set(values) <= all_served, (values, sorted(all_served)[-5:])
        assert values == sorted(values) and len(set(values)) >= 3, values

        # Kinds add up: listed + other = session, in the same scrape.
        diff = prom.query("sum(memobs_process_rss_bytes) + sum(memobs_processes_other_rss_bytes)"
                          " - sum(memobs_session_rss_bytes)")
        assert float(diff[0]["value"][1]) == 0, diff

        # Hostile comms come back as the driver set them.
        comms = {int(r["metric"]["pid"]): r["metric"]["comm"] for r in res}
        assert comms[1066] == 'q"u\\o\ne', repr(comms[1066])
        assert comms[1067] == "bad\ufffd\ufffd utf8", repr(comms[1067])
        assert comms[1068] == "tab\tesc\x1b", repr(comms[1068])
        assert comms[1069] == "caf\u00e9", repr(comms[1069])
        assert comms[1010] == "worker-10"

        # The other families, by name.
        def one(q):
            r = prom.query(q)
            assert len(r) == 1, (q, r)
            return float(r[0]["value"][1])
        assert one('memobs_phase_current{phase="link"}') == 1
        assert one('memobs_phase_open{phase="render"}') == 0
        assert one('memobs_phase_rss_peak_over_baseline_bytes{phase="main"}') == 6 << 20
        assert one('memobs_cgroup_processes{cgroup="/system.slice/build.service"}') == NPROCS // 2
        assert one('memobs_cgroup_rss_peak_bytes{cgroup="/user.slice/user-1000.slice"}') >= \
            one('sum(memobs_cgroup_rss_bytes{cgroup="/user.slice/user-1000.slice"})')
        assert one('memobs_drops_total{kind="events"}') >= 0
        assert one('memobs_build_info{version="test"}') == 1
        assert one("memobs_session_processes") == NPROCS
        assert one('up{job="memobs"}') == 1
    except AssertionError:
        print("# prometheus log:\n" + "\n".join("#   " + l for l in prom.logtail().splitlines()))
        raise
    finally:
        prom.stop()
    assert proc.poll() is None, "serve_demo died"


def test_other_paths_methods_and_bad_requests():
    _, addr, _ = demo()
    r = http(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 404 Not Found\r\n"), r
    r = http(addr, b"GET /metricsx HTTP/1.1\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 404 "), r
    r = http(addr, b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")
    assert r.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n") and b"\r\nAllow: GET, HEAD\r\n" in r, r
    r = http(addr, b"garbage\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 400 "), r
    r = http(addr, b"GET /metrics HTTP/2.0\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 400 "), r
    # A request head past 8 KiB is refused, not buffered without end.
    r = http(addr, b"GET /metrics HTTP/1.1\r\nX-Junk: " + b"a" * 20000 + b"\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 431 "), r[:200]
    # HEAD: the headers of a GET, no body.
    r = http(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n")
    head, _, body = r.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and body == b"" and int(
        head.split(b"Content-Length: ")[1].split(b"\r\n")[0]) > 1000, r
    # A query string, and HTTP/1.0 with bare newlines.
    r = http(addr, b"GET /metrics?x=1 HTTP/1.0\n\n")
    assert r.startswith(b"HTTP/1.1 200 OK\r\n") and b"\nmemobs_session_processes 70\n" in r, r[:300]


def test_slow_and_stuck_clients_never_block_a_scrape():
    proc, addr, _ = demo()
    host, port = addr.rsplit(":", 1)
    # 20 connections that never send: more than the 16 slots. The oldest
    # are closed to make room; a scrape still gets through at once.
    idle = [socket.create_connection((host, int(port)), timeout=60) for _ in range(20)]
    try:
        body = get_metrics(addr)
        assert b"\nmemobs_session_processes 70\n" in body
        # The first idle connection was closed by the server (EOF).
        assert idle[0].recv(1) == b""
        # A request sent a byte at a time is answered too.
        with socket.create_connection((host, int(port)), timeout=60) as s:
            for b in b"GET /metrics HTTP/1.1\r\n\r\n":
                s.send(bytes([b]))
                time.sleep(0.01)
            assert s.recv(15) == b"HTTP/1.1 200 OK"
        # A client that sends and leaves without reading does not take the
        # server down (no SIGPIPE).
        for _ in range(5):
            with socket.create_connection((host, int(port)), timeout=60) as s:
                s.send(b"GET /metrics HTTP/1.1\r\n\r\n")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        assert get_metrics(addr)
        # Idle connections are closed after their 10 s, whatever they do.
        idle[-1].settimeout(120)
        assert idle[-1].recv(1) == b""
    finally:
        for s in idle:
            s.close()
    assert proc.poll() is None, "serve_demo died"


def test_memobs_serve_shows_the_observed_process():
    port = free_port()
    addr = "127.0.0.1:%d" % port
    with tempfile.TemporaryDirectory() as d:
        m = subprocess.Popen([MEMOBS, "-q", "-o", os.path.join(d, "run.json"), "--serve", addr, "--",
                              prog("alloc_touch"), "40", "6000"], stderr=subprocess.PIPE, text=True)
        try:
            def anon_of_target():
                try:
                    text = get_metrics(addr).decode()
                except (OSError, urllib.error.URLError):
                    return None
                for line in text.splitlines():
                    if line.startswith("memobs_process_rss_bytes{") and 'comm="alloc_touch"' in line \
                            and 'kind="anon"' in line and float(line.split()[-1]) >= 40 * MiB:
                        return line
                return None
            line = wait_until("alloc_touch's 40 MiB on /metrics", anon_of_target, timeout=120)
            assert 'pid="' in line, line
        finally:
            _, err = m.communicate(timeout=120)
        assert m.returncode == 0, err


def test_zz_clean_exit_under_asan():
    # Runs last (by name): the driver ends on SIGTERM, with no leak or error.
    proc, _, _ = demo()
    proc.terminate()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "scrapes answered" in out, (proc.returncode, out, err[-3000:])
    shutil.rmtree(_demo["tmp"], ignore_errors=True)


def test_refuses_a_bad_address_and_a_busy_port():
    build_demo()
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log")
        p = subprocess.run([DEMO, "example.com:80", log], capture_output=True, text=True, timeout=60)
        assert p.returncode == 1 and "not a numeric address" in p.stderr, p
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            p = subprocess.run([DEMO, "127.0.0.1:%d" % busy.getsockname()[1], log], capture_output=True,
                               text=True, timeout=60)
        assert p.returncode == 1 and "cannot listen on 127.0.0.1:" in p.stderr and "in use" in p.stderr, p


if __name__ == "__main__":
    run_tests(globals())
