#!/usr/bin/env python3
"""memobs benchmarks: overhead and accuracy against the tools users would pick instead (issue 8).

Runs each workload bare and under each observer, alternating (every round runs every observer
once, in a rotated order), several rounds; ratios are per round against that round's bare run,
then the median is taken. Writes a results document (JSON) and prints Markdown tables on stdout.
Then, unless BENCH_PROFILE=0, one extra run per BPF observer and workload with BPF run-time
statistics read while the probes are still loaded (how much of the cost is the BPF programs
and how much the uprobe traps).

Environment: BENCH_QUICK=1 (small sizes, 1 round), BENCH_ROUNDS=N (default 3),
BENCH_WORKLOADS=a,c  BENCH_OBSERVERS=bare,memobs,...  BENCH_OUT=FILE
BENCH_PROFILE=0 (no BPF run-time runs) or =all (also the heap observers on (b) and (c)),
BENCH_QUIET_WAIT=S (default 120: before each run, wait up to S s for other processes' uprobes
on libc to go away; runs that still saw some are flagged in the results).
Run as root (memobs and bpftrace load BPF programs). Usage: run.py --memobs BIN --build DIR
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

import observers
import workloads
from report import markdown, targets

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_TIMEOUT_S = 3600
POLL_S = 0.02
FOREIGN_SCAN_S = 2.0
QUIET_WAIT_S = float(os.environ.get("BENCH_QUIET_WAIT", "120"))


def log(msg):
    sys.stderr.write(f"bench: {msg}\n")
    sys.stderr.flush()


def clean_env(extra=None):
    # As root under sudo, memobs would run the command as the invoking user; the other observers
    # run it as root. Every observer runs it as the same user here.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
    env.update(extra or {})
    return env


def proc_status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def observer_pids(pid):
    """pid and its descendants (ours: their uprobes are the observer's)."""
    pids, frontier = {pid}, [pid]
    while frontier:
        p = frontier.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            continue
        pids.update(kids)
        frontier.extend(kids)
    return pids


def proc_cpu_s(pid):
    """utime + stime of pid itself (not its children), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, IndexError):
        return None


def prog_ids_of(pid):
    ids = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except (OSError, ValueError):
            continue
    return ids


def bpf_prog_stats(pid):
    """run_cnt and run_time_ns of the BPF programs pid holds (kernel.bpf_stats_enabled=1)."""
    ids = prog_ids_of(pid)
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True)
    progs = []
    for p in json.loads(out.stdout or "[]"):
        if p.get("id") in ids:
            progs.append({"id": p["id"], "name": p.get("name", ""), "type": p.get("type"),
                          "run_cnt": p.get("run_cnt", 0), "run_time_ns": p.get("run_time_ns", 0)})
    return sorted(progs, key=lambda p: -p["run_time_ns"])


def libc_uprobe_multi_pids():
    """Pids holding host-wide (pid 0) uprobe_multi links on libc, read from their links' fdinfo:
    bpftool 7.1 lists neither uprobe_multi links' files nor their holders."""
    pids = set()
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{p}/fd/{fd}") != "anon_inode:bpf_link":
                    continue
                with open(f"/proc/{p}/fdinfo/{fd}") as f:
                    info = dict(line.split(":", 1) for line in f if ":" in line)
            except OSError:
                continue
            if (info.get("link_type", "").strip() == "uprobe_multi" and info.get("pid", "").strip() == "0"
                    and "libc" in info.get("path", "")):
                pids.add(int(p))
                break
    return pids


def libc_uprobe_pids(exclude):
    """Pids other than `exclude` holding host-wide uprobes on libc: they trap in our runs too."""
    try:
        out = subprocess.run(["bpftool", "perf", "-j"], capture_output=True, text=True, timeout=30).stdout
        events = json.loads(out or "[]")
    except (OSError, ValueError, subprocess.SubprocessError):
        events = []
    pids = {e["pid"] for e in events if e.get("fd_type") in ("uprobe", "uretprobe")
            and "libc" in (e.get("filename") or "")}
    return (pids | libc_uprobe_multi_pids()) - set(exclude)


def scan_foreign(pid, found, stop):
    """Thread: add to `found` the pids, not pid's tree, holding libc uprobes, until stop is set."""
    while not stop.wait(FOREIGN_SCAN_S):
        found |= libc_uprobe_pids(observer_pids(pid))


def wait_quiet(limit_s):
    """Wait (at most limit_s) until no other process holds uprobes on libc. Returns the wait."""
    t0 = time.monotonic()
    while libc_uprobe_pids(set()) and time.monotonic() - t0 < limit_s:
        time.sleep(1)
    return round(time.monotonic() - t0, 1)


class Hold:
    """Makes the command wait, once done, until the bench has read the BPF statistics."""

    def __init__(self, d):
        self.dir = d
        for n in ("done", "go"):
            p = os.path.join(d, n)
            if os.path.exists(p):
                os.unlink(p)
            os.mkfifo(p)
        self.fd = os.open(os.path.join(d, "done"), os.O_RDONLY | os.O_NONBLOCK)
        self.seen = False

    def wrap(self, cmd):
        return ["/bin/sh", os.path.join(HERE, "hold.sh")] + cmd

    def poll(self):
        try:
            self.seen |= b"done" in os.read(self.fd, 64)
        except BlockingIOError:
            pass
        return self.seen

    def release(self):
        fd = os.open(os.path.join(self.dir, "go"), os.O_WRONLY)
        os.write(fd, b"go\n")
        os.close(fd)
        os.close(self.fd)


def run_one(obs, wl, files, hold=None):
    """Run wl under obs once. Returns the raw record."""
    cmd = wl.command()
    if hold:
        inner_time = files["time"]
        files = dict(files, time=files["time"] + ".outer")
        cmd = hold.wrap(observers.timed(cmd, {"time": inner_time}))
    argv = obs.command(cmd, files)
    env = clean_env(obs.env())
    if hold:
        env["BENCH_HOLD_DIR"] = hold.dir
    wl.reset()
    for k in ("time", "json", "bpftrace", "massif"):
        if k in files and os.path.exists(files[k]):
            os.unlink(files[k])
    rec = {"observer": obs.name, "workload": wl.key, "argv": argv,
           "waited_for_quiet_s": wait_quiet(QUIET_WAIT_S), "loadavg_before": os.getloadavg()[0]}
    foreign = libc_uprobe_pids(set())
    with open(files["stdout"], "w") as out, open(files["stderr"], "w") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=env, start_new_session=True)
        rec["pid"] = p.pid
        hwm = None
        bpf = None
        stop = threading.Event()
        scanner = threading.Thread(target=scan_foreign, args=(p.pid, foreign, stop), daemon=True)
        scanner.start()
        while True:
            if obs.own_process:
                v = proc_status_kib(p.pid, "VmHWM")
                hwm = v if hwm is None or (v or 0) > hwm else hwm
            if hold and bpf is None and hold.poll():
                bpf = bpf_prog_stats(p.pid)
                hold.release()
            # WNOWAIT: the exited process stays a zombie, so its own CPU time can still be read.
            if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                break
            if time.perf_counter() - t0 > RUN_TIMEOUT_S:
                os.killpg(p.pid, signal.SIGKILL)
            time.sleep(POLL_S)
        wall = time.perf_counter() - t0
        cpu = proc_cpu_s(p.pid) if obs.own_process else None
        stop.set()
        scanner.join()
        p.wait()
    if hold:
        files = dict(files, time=inner_time)
    rec["loadavg_after"] = os.getloadavg()[0]
    # Other processes' uprobes on libc (someone else's memobs --heap or bpftrace) make this run's
    # mallocs trap too: such runs are flagged, not dropped.
    rec["foreign_libc_uprobe_pids"] = sorted(foreign)
    rec["exit"] = p.returncode
    rec["wall_s"] = round(wall, 4)
    rec["observer_rss_peak"] = hwm * 1024 if hwm is not None else None
    rec["observer_cpu_s"] = cpu
    cmd_s, maxrss = observers.parse_time(files["time"]) if obs.wraps_time else (None, None)
    rec["cmd_s"] = cmd_s
    rec["maxrss"] = maxrss
    with open(files["stdout"]) as f:
        rec["truth"] = wl.truth(f.read())
    rec.update(obs.parse(files, wl))
    if rec.get("self_runtime_s") is not None and rec["cmd_s"] is None:
        rec["cmd_s"] = rec["self_runtime_s"]
    if bpf is not None:
        rec["bpf_progs"] = bpf
    return rec


def memobs_identity(path):
    import hashlib
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    commit = os.environ.get("BENCH_MEMOBS_COMMIT")
    repo = os.path.dirname(HERE)
    if not commit and os.path.abspath(path).startswith(repo + os.sep):
        try:
            head = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True,
                                  text=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True).stdout.strip()
            commit = head + ("-dirty" if dirty else "")
        except OSError:
            pass
    return {"path": os.path.abspath(path), "sha256": digest, "source_commit": commit}


def machine_info(cfg):
    def first_line(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return None

    cpu = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) * 1024
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        debian = None
    return {
        "host": platform.node(), "kernel": platform.release(), "arch": platform.machine(),
        "cpu": cpu, "cpus": os.cpu_count(), "mem_bytes": mem, "debian": debian,
        "bpf_stats_enabled": open("/proc/sys/kernel/bpf_stats_enabled").read().strip(),
        "memobs_binary": memobs_identity(cfg["memobs"]),
        "versions": {
            "memobs": first_line([cfg["memobs"], "--version"]),
            "gcc": first_line(["gcc", "--version"]),
            "python3": first_line([workloads.PYTHON, "--version"]),
            "glibc": first_line(["ldd", "--version"]),
            "bpftrace": first_line(["bpftrace", "--version"]),
            "heaptrack": first_line(["heaptrack", "--version"]),
            "valgrind": first_line(["valgrind", "--version"]),
        },
    }


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b else None


def summarize(runs, wl, obs_names):
    """Per observer: medians over rounds, ratios to the same round's bare run."""
    by = {}
    for r in runs:
        by.setdefault(r["observer"], {})[r["round"]] = r
    bare = by.get("bare", {})
    out = {}
    for name in obs_names:
        rs = by.get(name, {})
        if not rs:
            continue
        rounds = sorted(rs)
        s = {"rounds": len(rounds),
             "failed_rounds": [k for k in rounds if rs[k]["exit"] != 0],
             "wall_s": median(rs[k]["wall_s"] for k in rounds),
             "cmd_s": median(rs[k]["cmd_s"] for k in rounds)}
        s["wall_ratio"] = median(ratio(rs[k]["wall_s"], bare.get(k, {}).get("wall_s")) for k in rounds)
        s["cmd_ratio"] = median(ratio(rs[k]["cmd_s"], bare.get(k, {}).get("cmd_s")) for k in rounds)
        s["rounds_with_foreign_libc_uprobes"] = [k for k in rounds if rs[k].get("foreign_libc_uprobe_pids")]
        s["wall_s_all"] = [rs[k]["wall_s"] for k in rounds]
        s["cmd_s_all"] = [rs[k]["cmd_s"] for k in rounds]
        truth = [rs[k]["truth"] for k in rounds]
        if wl.key == "a":
            s["ns_per_pair"] = median(t.get("ns_per_pair") for t in truth)
            s["ns_per_pair_over_bare"] = median(
                (rs[k]["truth"].get("ns_per_pair") or 0) - (bare.get(k, {}).get("truth", {}).get("ns_per_pair") or 0)
                for k in rounds if rs[k]["truth"].get("ns_per_pair") is not None and bare.get(k))
        if any("self_s" in t for t in truth):
            s["self_s"] = median(t.get("self_s") for t in truth)
        for key in ("observer_rss_peak", "observer_cpu_s", "maxrss"):
            s[key] = median(rs[k].get(key) for k in rounds)
        if name.startswith("memobs"):
            s["duration_s"] = median(rs[k].get("duration_s") for k in rounds)
            s["drops"] = max((rs[k].get("drops") or 0) for k in rounds)
            s["drops_nonzero"] = [rs[k].get("drops_nonzero") for k in rounds if rs[k].get("drops_nonzero")]
            s["processes"] = median(rs[k].get("processes") for k in rounds)
            mine = [(rs[k].get("max_process_rss_peak"), rs[k].get("maxrss")) for k in rounds]
            errs = [100.0 * (m - t) / t for m, t in mine if m and t]
            s["rss_err_pct"] = median(errs)
            s["rss_err_pct_all"] = errs
            s["rss_err_bytes"] = median(m - t for m, t in mine if m and t)
        heaps = [rs[k].get("heap") for k in rounds if rs[k].get("heap")]
        if heaps:
            s["heap"] = {key: median(h.get(key) for h in heaps) for key in heaps[0]}
            cnt = median(ratio((rs[k].get("heap") or {}).get("alloc_count"), rs[k]["cmd_s"]) for k in rounds)
            s["allocs_per_s"] = cnt
            if wl.key == "a" and truth[0]:
                t = truth[0]
                keys = [k for k in ("alloc_count", "alloc_bytes", "peak_live") if k in t]
                s["heap_err_pct"] = {k: (100.0 * (s["heap"][k] - t[k]) / t[k]
                                         if s["heap"].get(k) is not None else None) for k in keys}
                s["heap_err"] = {k: (s["heap"][k] - t[k] if s["heap"].get(k) is not None else None)
                                 for k in keys}
        out[name] = s
    return out


def profile_summary(rec, wl, summary):
    progs = rec.get("bpf_progs") or []
    cnt = sum(p["run_cnt"] for p in progs)
    ns = sum(p["run_time_ns"] for p in progs)
    out = {"programs": progs, "run_cnt": cnt, "run_time_ns": ns,
           "avg_ns_per_run": ns / cnt if cnt else None,
           "cmd_s": rec.get("cmd_s"), "events_per_s": cnt / rec["cmd_s"] if rec.get("cmd_s") else None,
           "bpf_cpu_share_of_cmd": ns / 1e9 / rec["cmd_s"] if rec.get("cmd_s") else None}
    pairs = (rec.get("truth") or {}).get("pairs")
    if wl.key == "a" and pairs and rec["observer"] != "memobs":
        out["bpf_ns_per_pair"] = ns / pairs
        over = (summary.get(rec["observer"]) or {}).get("ns_per_pair_over_bare")
        if over is not None:
            out["trap_and_kernel_ns_per_pair"] = over - ns / pairs
    return out


def summarize_doc(doc):
    """(Re)compute summary, profile and targets from the raw runs of doc."""
    doc["summary"], doc["profile"] = {}, {}
    for key in doc["workloads"]:
        wl = next(c for c in workloads.ALL if c.key == key)
        names = list(doc["observers"])
        doc["summary"][key] = summarize([r for r in doc["runs"] if r["workload"] == key], wl, names)
    for rec in doc.get("profile_runs", []):
        wl = next(c for c in workloads.ALL if c.key == rec["workload"])
        doc["profile"].setdefault(rec["workload"], {})[rec["observer"]] = \
            profile_summary(rec, wl, doc["summary"][rec["workload"]])
    doc["targets"] = targets(doc)


def set_bpf_stats(value):
    path = "/proc/sys/kernel/bpf_stats_enabled"
    with open(path) as f:
        old = f.read().strip()
    if old != value:
        with open(path, "w") as f:
            f.write(value)
    return old


def check_tools(obs_classes, cfg):
    if os.geteuid() != 0:
        sys.exit("bench: run as root (memobs and bpftrace load BPF programs): sudo make bench")
    if not os.access(cfg["memobs"], os.X_OK):
        sys.exit(f"bench: {cfg['memobs']} not built: run make")
    need = {"/usr/bin/time": "time", "bpftool": "bpftool", "gcc": "gcc", "make": "make",
            workloads.PYTHON: "python3"}
    for o in obs_classes:
        if o.tool:
            need[o.tool] = o.package
    missing = sorted({pkg for tool, pkg in need.items() if not shutil.which(tool)})
    if missing:
        sys.exit(f"bench: missing {', '.join(missing)}: apt-get install {' '.join(missing)} "
                 f"(or leave observers out with BENCH_OBSERVERS=...)")


def pick(classes, env_name, attr):
    want = os.environ.get(env_name)
    if not want:
        return classes
    names = [w.strip() for w in want.split(",") if w.strip()]
    picked = [c for c in classes if getattr(c, attr) in names]
    unknown = set(names) - {getattr(c, attr) for c in classes}
    if unknown:
        sys.exit(f"bench: {env_name}: unknown {', '.join(sorted(unknown))} "
                 f"(known: {', '.join(getattr(c, attr) for c in classes)})")
    return picked


def write_doc(doc, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memobs")
    ap.add_argument("--build", help="directory for the bench's generated files")
    ap.add_argument("--resummarize", metavar="RESULTS", help="recompute the summary of a results file, "
                    "print its tables (no runs)")
    args = ap.parse_args()
    if args.resummarize:
        with open(args.resummarize) as f:
            doc = json.load(f)
        summarize_doc(doc)
        write_doc(doc, args.resummarize)
        sys.stdout.write(markdown(doc))
        return 0
    if not args.memobs or not args.build:
        ap.error("--memobs and --build are required")

    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    rounds = int(os.environ.get("BENCH_ROUNDS") or (1 if quick else 3))
    out_path = os.environ.get("BENCH_OUT") or (os.path.join(args.build, "results-quick.json") if quick
                                               else os.path.join(HERE, "results.json"))
    profile = os.environ.get("BENCH_PROFILE", "1")
    cfg = {"memobs": os.path.abspath(args.memobs)}
    obs_classes = pick(observers.ALL, "BENCH_OBSERVERS", "name")
    if "bare" not in [o.name for o in obs_classes]:
        obs_classes = [observers.Bare] + obs_classes
    wl_classes = pick(workloads.ALL, "BENCH_WORKLOADS", "key")
    check_tools(obs_classes, cfg)

    work = os.path.join(os.path.abspath(args.build), "work")
    runs_dir = os.path.join(os.path.abspath(args.build), "runs")
    os.makedirs(runs_dir, exist_ok=True)
    sizes = workloads.SIZES["quick" if quick else "full"]
    obs = [c(cfg) for c in obs_classes]
    not_run = {o.name: "this memobs build has no allocation stacks (no --sample-bytes option)"
               for o in obs if not o.supported()}
    obs = [o for o in obs if o.name not in not_run]
    wls = [c(work, sizes, os.path.abspath(args.build)) for c in wl_classes]
    for w in wls:
        w.prepare()

    doc = {"schema": 1, "what": "memobs make bench (issue 8)", "quick": quick, "rounds": rounds,
           "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": machine_info(cfg), "loadavg_start": os.getloadavg(), "sizes": sizes,
           "workloads": {w.key: {"name": w.name, "describe": w.describe, "command": w.command()}
                         for w in wls},
           "observers": {o.name: {"label": o.label, "sees": o.sees} for o in obs},
           "not_run": not_run, "runs": [], "profile_runs": [], "summary": {}, "profile": {}}
    t_start = time.monotonic()
    for w in wls:
        # Untimed: page cache and dentries warm (gcc's cc1 alone is 30 MB) before round 1.
        warm = {k: os.path.join(runs_dir, f"{w.key}-warmup.{k}") for k in ("time", "stdout", "stderr")}
        run_one(obs[0], w, warm)
    for r in range(rounds):
        for w in wls:
            order = obs[r % len(obs):] + obs[:r % len(obs)]
            for o in order:
                base = os.path.join(runs_dir, f"{w.key}-{o.name}-{r}")
                files = {k: f"{base}.{k}" for k in ("time", "json", "bpftrace", "heaptrack", "massif",
                                                      "stdout", "stderr")}
                rec = run_one(o, w, files)
                rec["round"] = r
                doc["runs"].append(rec)
                write_doc(doc, out_path + ".partial")
                log(f"round {r + 1}/{rounds} ({w.key}) {o.name:17} wall {rec['wall_s']:8.2f} s"
                    f"  cmd {rec['cmd_s'] if rec['cmd_s'] is not None else '-':>7} s"
                    + (f"  exit {rec['exit']}" if rec["exit"] else ""))
    if profile != "0":
        old = set_bpf_stats("1")
        try:
            for w in wls:
                for o in obs:
                    if not (o.name.startswith("memobs") or o.name.startswith("bpftrace")):
                        continue
                    # The heap observers on the compiles cost minutes a run: only with BENCH_PROFILE=all.
                    if profile != "all" and w.multiprocess and o.heap:
                        continue
                    base = os.path.join(runs_dir, f"{w.key}-{o.name}-profile")
                    files = {k: f"{base}.{k}" for k in ("time", "json", "bpftrace", "heaptrack",
                                                          "massif", "stdout", "stderr")}
                    rec = run_one(o, w, files, hold=Hold(runs_dir))
                    doc["profile_runs"].append(rec)
                    write_doc(doc, out_path + ".partial")
                    log(f"profile ({w.key}) {o.name:17} BPF runs {sum(p['run_cnt'] for p in rec.get('bpf_progs') or [])}")
        finally:
            set_bpf_stats(old)
    doc["loadavg_end"] = os.getloadavg()
    doc["bench_s"] = round(time.monotonic() - t_start, 1)
    summarize_doc(doc)
    write_doc(doc, out_path)
    os.unlink(out_path + ".partial")
    sys.stdout.write(markdown(doc))
    log(f"wrote {out_path} ({doc['bench_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
