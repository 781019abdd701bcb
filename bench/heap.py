#!/usr/bin/env python3
"""What heap tracing costs (issue 14): memobs's in-process `--heap` beside its uprobe path
(`--heap=uprobes`), bpftrace and heaptrack, in one run, rows alternating (every round runs every
row once, in a rotated order); ratios are per round, then the median.

  churn      build/bench/malloc_pairs 400000 (malloc+free pairs of mixed sizes, bench workload a):
             bare / memobs --heap / memobs --heap=uprobes / bpftrace counting malloc, its return
             and free (bench/bpftrace/malloc_ret_count.bt) / heaptrack; ns per pair over bare,
             from the program's own loop timing, and the heap counts against the program's own
  lua        make -j2 of Lua (LUA_SRC=DIR, a checkout, copied into --build): bare / memobs without
             --heap (what any session costs) / --heap / --heap=uprobes (the last in the first
             BENCH_HEAP_UPROBE_ROUNDS rounds only: several times bare); wall and CPU (the build's
             and memobs's own) over bare; the processes of the run document against a count by
             strace -f of one more build (untimed), and how many had their heap counted
  bystander  malloc_pairs started by the bench, outside any session: bare, and while memobs
             --heap -- sleep, memobs --heap -p PID (of a sleep the bench started) or memobs
             --heap=uprobes -- sleep runs; its speed as a fraction of the same round's bare run
  startstop  memobs --heap -- true beside bpftrace with malloc, malloc's return and free probed
             (the same script, -c /bin/true); wall, median of the rounds

Writes BENCH_OUT (default bench/heap_results.json) and prints Markdown. Environment: BENCH_ROUNDS
(default 5; the Lua rows take at most 3), BENCH_QUICK=1 (1 round of each, fewer pairs),
BENCH_HEAP_UPROBE_ROUNDS (default 1), BENCH_QUIET_WAIT (default 20 s: before each churn run, wait
that long at most for other processes' libc uprobes to go away). Run as root.
Usage: heap.py --memobs BIN --build DIR
"""
import argparse
import collections
import datetime
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import observers
import run
import startstop
import workloads
from stacks import timed

HERE = os.path.dirname(os.path.abspath(__file__))
BT_SCRIPT = os.path.join(HERE, "bpftrace", observers.BpftraceMallocRet.script)
CHURN_OBSERVERS = [observers.Bare, observers.MemobsHeap, observers.MemobsHeapUprobes,
                   observers.BpftraceMallocRet, observers.Heaptrack]
# The bystander runs long enough to time well bare (~0.1 s), and about 1 s where it traps; the
# best of BYSTANDER_TRIES: on the shared VM, others' load only ever adds time.
BYSTANDER_PAIRS = 2000000
BYSTANDER_TRAPPED_S = 1.0
BYSTANDER_TRIES = 3
READY = "bench: session started"


def log(msg):
    sys.stderr.write(f"bench-heap: {msg}\n")
    sys.stderr.flush()


def settle():
    """Wait (BENCH_QUIET_WAIT at most) for other processes' host-wide libc uprobes to go away: while
    they are in place, every malloc on the host traps, the bare runs' too. Says what it waited for."""
    waited = run.wait_quiet(run.QUIET_WAIT_S)
    return {"waited_for_quiet_s": waited, "foreign_libc_uprobe_pids": sorted(run.libc_uprobe_pids(set()))}


def rotated(names, r):
    return names[r % len(names):] + names[:r % len(names)]


def median_ratio(xs, ys):
    pairs = [(x, y) for x, y in zip(xs, ys) if x is not None and y]
    return statistics.median(x / y for x, y in pairs) if pairs else None


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def churn(cfg, build, rounds, pairs):
    """The churn rows through run.run_one (foreign libc uprobes flagged), summarized by run.summarize."""
    wl = workloads.MallocPairs(os.path.join(build, "work-heap"), {"pairs": pairs}, build)
    wl.prepare()
    obs = [c(cfg) for c in CHURN_OBSERVERS]
    runs_dir = os.path.join(build, "runs-heap")
    os.makedirs(runs_dir, exist_ok=True)
    runs = []
    for r in range(rounds):
        for o in rotated(obs, r):
            base = os.path.join(runs_dir, f"churn-{o.name}-{r}")
            files = {k: f"{base}.{k}" for k in ("time", "json", "bpftrace", "heaptrack", "stdout", "stderr")}
            rec = run.run_one(o, wl, files)
            rec["round"] = r
            runs.append(rec)
            log(f"churn round {r + 1}/{rounds} {o.name:20} {rec['truth'].get('ns_per_pair')} ns/pair"
                + (f"  exit {rec['exit']}" if rec["exit"] else ""))
    names = [o.name for o in obs]
    summary = run.summarize(runs, wl, names)
    over = {n: {} for n in names}
    bare = {r["round"]: r["truth"].get("ns_per_pair") for r in runs if r["observer"] == "bare"}
    for rec in runs:
        ns = rec["truth"].get("ns_per_pair")
        if ns is not None and bare.get(rec["round"]) is not None:
            over[rec["observer"]][rec["round"]] = ns - bare[rec["round"]]
    rounds_ = sorted(bare)

    def vs(a, b):
        return median_ratio([over[a].get(k) for k in rounds_], [over[b].get(k) for k in rounds_])
    return {"pairs": pairs, "command": wl.command(), "summary": summary,
            "over_bare_ns_per_round": {n: [over[n].get(k) for k in rounds_] for n in names},
            "heap_over_bpftrace": vs("memobs-heap", "bpftrace-malloc-ret"),
            "heap_over_heaptrack": vs("memobs-heap", "heaptrack"),
            "uprobes_over_bpftrace": vs("memobs-heap-uprobes", "bpftrace-malloc-ret"),
            "runs": runs}


def strace_processes(tree):
    """Processes of one `make -j2` (after make clean) by strace -f: pids, and execs by program."""
    subprocess.run(["make", "-s", "clean"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=execve,exit_group", "-e", "signal=none",
                        "-o", out.name, "make", "-j2"], cwd=tree, check=True, env=run.clean_env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = out.read().splitlines()
    execs = collections.Counter(os.path.basename(l.split('"')[1]) for l in lines
                                if "execve(" in l and l.rstrip().endswith("= 0"))
    return {"processes": len({l.split()[0] for l in lines}), "execs": dict(execs)}


def followed(doc):
    """What the run document says of the build's processes and their heap."""
    procs = doc.get("processes", [])
    by = collections.Counter((p.get("heap") or {}).get("counted_by") for p in procs)
    return {"processes": len(procs), "counted_by": {str(k): v for k, v in by.items()},
            "programs": dict(collections.Counter(p.get("comm") for p in procs)),
            "unobserved": [{"pid": p["pid"], "comm": p.get("comm"), "why": p["heap"]["unobserved"]}
                           for p in procs if (p.get("heap") or {}).get("unobserved")],
            "heap": (doc.get("totals") or {}).get("heap"), "drops": {k: v for k, v in
                                                                    (doc.get("drops") or {}).items() if v}}


def lua(memobs, src, build, rounds, uprobe_rounds, tmp):
    tree = workloads.lua_tree(src, build, "lua-heap")
    out = os.path.join(tmp, "lua.json")
    modes = {"bare": ["make", "-j2"],
             "memobs": [memobs, "-q", "-o", out, "--", "make", "-j2"],
             "heap": [memobs, "-q", "--heap", "-o", out, "--", "make", "-j2"],
             "heap_uprobes": [memobs, "-q", "--heap=uprobes", "-o", out, "--", "make", "-j2"]}
    res = {m: [] for m in modes}
    docs = {m: [] for m in modes}
    quiet = {m: [] for m in modes}
    for r in range(rounds):
        for m in rotated(list(modes), r):
            if m == "heap_uprobes" and r >= uprobe_rounds:
                continue
            subprocess.run(["make", "-s", "clean"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
            quiet[m].append(settle())
            res[m].append(timed(modes[m], cwd=tree))
            if m != "bare":
                with open(out) as f:
                    docs[m].append(followed(json.load(f)))
        log(f"lua round {r + 1}/{rounds}: " + ", ".join(f"{m} {res[m][-1][0]:.2f} s {res[m][-1][1]:.2f} cpu-s"
                                                        for m in modes if len(res[m]) > r))
    result = {"commands": {m: " ".join(v) for m, v in modes.items()},
              "wall_s": {m: [x[0] for x in v] for m, v in res.items()},
              "cpu_s": {m: [x[1] for x in v] for m, v in res.items()},
              "strace": strace_processes(tree), "runs": docs, "before_each_run": quiet,
              "lua_commit": subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True,
                                           text=True).stdout.strip() or None}
    for m in ("memobs", "heap", "heap_uprobes"):
        result[m] = {"wall_ratio": median_ratio(result["wall_s"][m], result["wall_s"]["bare"]),
                     "cpu_ratio": median_ratio(result["cpu_s"][m], result["cpu_s"]["bare"])}
    return result


class Session:
    """memobs observing beside the bench until stop(); ready once attached: it says so with -v
    (-p), or the launched command has started (memobs starts it after attaching)."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     env=run.clean_env())
        self.err = []
        for line in self.proc.stderr:
            self.err.append(line)
            if "memobs: observing" in line or READY in line:
                return
        raise RuntimeError(f"{argv[:4]}... did not start: exit {self.proc.wait()}: {''.join(self.err)[-300:]}")

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=600)
        return self.proc.returncode, (''.join(self.err) + err)[-300:]


def bystander_ns(prog):
    """malloc_pairs's ns per pair (its loop's wall time) and CPU ns per pair (its user + system time,
    traps included, waiting for a CPU not), each the best of BYSTANDER_TRIES runs; the number of
    pairs from a short run first, so that a run that traps takes about BYSTANDER_TRAPPED_S."""
    def once(pairs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([prog, str(pairs)], capture_output=True, text=True, check=True).stdout
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        return json.loads(out.strip().splitlines()[-1])["ns_per_pair"], cpu * 1e9 / pairs
    probe, _ = once(BYSTANDER_PAIRS // 40)
    pairs = min(BYSTANDER_PAIRS, max(BYSTANDER_PAIRS // 40, int(BYSTANDER_TRAPPED_S * 1e9 / probe)))
    tries = [once(pairs) for _ in range(BYSTANDER_TRIES)]
    return {"ns_per_pair": min(t[0] for t in tries), "cpu_ns_per_pair": min(t[1] for t in tries), "pairs": pairs}


def bystander(memobs, build, rounds, tmp):
    prog = os.path.join(build, "malloc_pairs")
    target = subprocess.Popen(["sleep", "100000"])
    out = os.path.join(tmp, "bystander.json")
    launched = ["--", "sh", "-c", f"echo '{READY}' >&2; exec sleep 100000"]
    conds = {"bare": None,
             "heap_launched": [memobs, "-q", "--heap", "-o", out] + launched,
             "heap_pid": [memobs, "-q", "-v", "--heap", "-p", str(target.pid), "-o", out],
             "heap_uprobes_launched": [memobs, "-q", "--heap=uprobes", "-o", out] + launched}
    labels = {"bare": "nothing (bare)", "heap_launched": "memobs --heap -- sleep",
              "heap_pid": "memobs --heap -p PID (a sleep)", "heap_uprobes_launched": "memobs --heap=uprobes -- sleep"}
    ns = {c: [] for c in conds}
    cpu = {c: [] for c in conds}
    rows = []
    try:
        for r in range(rounds):
            row = {"round": r + 1}
            for c in rotated(list(conds), r):
                row[c] = settle()
                session = Session(conds[c]) if conds[c] else None
                try:
                    mine = run.observer_pids(session.proc.pid) if session else set()
                    row[c]["foreign_libc_uprobe_pids"] += sorted(run.libc_uprobe_pids(mine))
                    cpu0 = run.proc_cpu_s(session.proc.pid) if session else None
                    row[c].update(bystander_ns(prog))
                    if session:     # memobs's own CPU meanwhile: what it took from the 2 vCPUs
                        row[c]["memobs_cpu_s_meanwhile"] = run.proc_cpu_s(session.proc.pid) - cpu0
                finally:
                    if session:
                        # SIGINT ends a launched session with 130 (the command's signal), -p with 0.
                        row[c]["memobs_exit"], err = session.stop()
                        if row[c]["memobs_exit"] not in (0, 130):
                            row[c]["memobs_stderr"] = err
                if session:
                    with open(out) as f:
                        doc = json.load(f)
                    row[c]["session_programs"] = sorted({p.get("comm") for p in doc.get("processes", [])})
                ns[c].append(row[c]["ns_per_pair"])
                cpu[c].append(row[c]["cpu_ns_per_pair"])
            rows.append(row)
            log(f"bystander round {r + 1}/{rounds}: " + ", ".join(f"{c} {row[c]['ns_per_pair']} ns" for c in conds))
    finally:
        target.kill()
        target.wait()
    # Rounds in which someone else's libc uprobes trapped the bystander say nothing of memobs's.
    clean = [i for i, row in enumerate(rows) if not any(row[c]["foreign_libc_uprobe_pids"] for c in conds)] \
        or list(range(len(rows)))
    speed = {c: median_ratio([ns["bare"][i] for i in clean], [ns[c][i] for i in clean]) for c in conds if c != "bare"}
    cpu_speed = {c: median_ratio([cpu["bare"][i] for i in clean], [cpu[c][i] for i in clean])
                 for c in conds if c != "bare"}
    return {"rounds_used": [i + 1 for i in clean], "program": f"{prog} N (N: {BYSTANDER_PAIRS}, or fewer so that a trapped run takes ~1 s), "
            f"best of {BYSTANDER_TRIES}",
            "commands": {c: " ".join(v) if v else "-" for c, v in conds.items()}, "labels": labels,
            "ns_per_pair": ns, "cpu_ns_per_pair": cpu, "speed_of_bare": speed, "cpu_speed_of_bare": cpu_speed,
            "rounds": rows}


def start_stop(memobs, rounds):
    rows = {"memobs": [memobs, "-q", "--", "/bin/true"],
            "memobs-heap": [memobs, "-q", "--heap", "--", "/bin/true"],
            "memobs-heap-uprobes": [memobs, "-q", "--heap=uprobes", "--", "/bin/true"],
            "bpftrace-malloc-ret": ["bpftrace", "-q", BT_SCRIPT, "-c", "/bin/true"]}
    times = {k: [] for k in rows}
    for name in rows:       # untimed: caches warm
        startstop.wall(rows[name])
    for r in range(rounds):
        for name in rotated(list(rows), r):
            s, rc, err = startstop.wall(rows[name])
            if rc:
                raise RuntimeError(f"startstop: {name} exited {rc}: {err}")
            times[name].append(s)
    bt = times["bpftrace-malloc-ret"]
    return {"commands": {k: " ".join(v) for k, v in rows.items()}, "seconds": times,
            "median_s": {k: statistics.median(v) for k, v in times.items()},
            "over_bpftrace": {k: median_ratio(v, bt) for k, v in times.items() if k.startswith("memobs")}}


def target(what, goal, measured, met, today):
    return {"what": what, "target": goal, "measured": measured, "met": met, "issue_14_before": today}


def targets(doc):
    """Issue 14's "done when", next to what this run measured."""
    out = []
    c = doc.get("churn")
    if c:
        for key, goal, today in (("heap_over_bpftrace", 0.01, "0.49x"), ("heap_over_heaptrack", 0.5, "~7x")):
            v = c[key]
            out.append(target(f"--heap ns per malloc+free pair over bare, / {key.split('_')[-1]}'s", f"<= {goal}",
                              v, v is not None and v <= goal, today))
    lu = doc.get("lua")
    if lu:
        v = lu["heap"]["wall_ratio"]
        out.append(target("make -j2 of Lua under --heap, wall / bare", "<= 1.3", v, v is not None and v <= 1.3,
                          "10.3x"))
        want = lu["strace"]["processes"]
        seen = [(r["processes"], r["counted_by"].get("in-process", 0)) for r in lu["runs"]["heap"]]
        out.append(target("every child followed: processes in the run document / counted in process / by strace -f",
                          f"= {want}", seen, all(p == want and n == want for p, n in seen), "-"))
    b = doc.get("bystander")
    if b:
        for c_ in ("heap_launched", "heap_pid"):
            for kind, key in (("wall", "speed_of_bare"), ("CPU", "cpu_speed_of_bare")):
                v = b[key][c_]
                out.append(target(f"bystander's speed / bare ({kind} per pair) while {b['labels'][c_]} runs",
                                  ">= 0.95", v, v is not None and v >= 0.95, "0.004"))
    s = doc.get("startstop")
    if s:
        v = s["over_bpftrace"]["memobs-heap"]
        out.append(target("memobs --heap -- true / bpftrace (malloc, its return, free), wall", "<= 0.5", v,
                          v is not None and v <= 0.5, "~4x"))
    return out


def short(cmd, doc):
    """cmd as a reader would type it: memobs and bench/ by name, no output file."""
    cmd = cmd.replace(doc["machine"]["memobs_binary"]["path"], "memobs").replace(HERE + "/", "bench/")
    return re.sub(r" -o \S+", "", cmd)


def fmt(v, spec=".3f"):
    return "-" if v is None else format(v, spec)


def markdown(doc):
    lines = [f"Load (uptime) before: {doc['uptime_start']}; after: {doc['uptime_end']}", ""]
    c = doc.get("churn")
    if c:
        lines += [f"Churn: `{' '.join(c['command'])}`, {doc['rounds']['churn']} rounds", "",
                  "| row | ns/pair | +ns/pair over bare (median) | per round | allocs counted | rounds with foreign libc uprobes |",
                  "|---|---|---|---|---|---|"]
        for name, s in c["summary"].items():
            per = c["over_bare_ns_per_round"][name]
            lines.append(f"| {name} | {fmt(s.get('ns_per_pair'), '.0f')} | {fmt(s.get('ns_per_pair_over_bare'), '.0f')}"
                         f" | {', '.join(fmt(x, '.0f') for x in per)} | {(s.get('heap') or {}).get('alloc_count', '-')}"
                         f" | {', '.join(str(k + 1) for k in s['rounds_with_foreign_libc_uprobes']) or '-'} |")
        lines.append("")
    lu = doc.get("lua")
    if lu:
        bare = lu["wall_s"]["bare"]
        lines += [f"make -j2 of Lua (`{lu['lua_commit']}`), bare median {fmt(statistics.median(bare), '.2f')} s wall, "
                  f"{fmt(statistics.median(lu['cpu_s']['bare']), '.2f')} CPU-s; strace -f counts "
                  f"{lu['strace']['processes']} processes", "",
                  "| row | wall / bare | CPU / bare | processes in the run document (counted in process) |",
                  "|---|---|---|---|"]
        flagged = {m: [i + 1 for i, q in enumerate(v) if q["foreign_libc_uprobe_pids"]]
                   for m, v in lu["before_each_run"].items()}
        for m in ("memobs", "heap", "heap_uprobes"):
            procs = ", ".join(f"{r['processes']} ({r['counted_by'].get('in-process', 0)})" for r in lu["runs"][m])
            lines.append(f"| `{short(lu['commands'][m], doc)}` | {fmt(lu[m]['wall_ratio'])} | {fmt(lu[m]['cpu_ratio'])} | {procs} |")
        lines += ["", "Runs that began with foreign libc uprobes on the host: "
                  + (", ".join(f"{m} run {i}" for m, v in flagged.items() for i in v) or "none"), ""]
    b = doc.get("bystander")
    if b:
        left = len(b["rounds"]) - len(b["rounds_used"])
        lines += ["Bystander (malloc_pairs outside the session): speed as a fraction of bare"
                  + (f"; medians of rounds {b['rounds_used']} ({left} saw foreign libc uprobes)" if left else ""), "",
                  "| while | ns/pair per round (best of each round's runs) | speed / bare (median) | "
                  "CPU ns/pair per round | CPU speed / bare | memobs's CPU meanwhile |", "|---|---|---|---|---|---|"]
        for cond, label in b["labels"].items():
            own = [r[cond]["memobs_cpu_s_meanwhile"] for r in b["rounds"] if "memobs_cpu_s_meanwhile" in r[cond]]
            lines.append(f"| {label} | {', '.join(fmt(x, '.0f') for x in b['ns_per_pair'][cond])} | "
                         f"{fmt(b['speed_of_bare'].get(cond)) if cond != 'bare' else '1'} | "
                         f"{', '.join(fmt(x, '.0f') for x in b['cpu_ns_per_pair'][cond])} | "
                         f"{fmt(b['cpu_speed_of_bare'].get(cond)) if cond != 'bare' else '1'} | "
                         f"{', '.join(fmt(x, '.2f') for x in own) + ' s' if own else '-'} |")
        lines.append("")
    s = doc.get("startstop")
    if s:
        lines += ["Start and stop (`-- /bin/true`)", "", "| row | median s | / bpftrace |", "|---|---|---|"]
        for k, v in s["median_s"].items():
            lines.append(f"| `{short(s['commands'][k], doc)}` | {v:.3f} | {fmt(s['over_bpftrace'].get(k), '.2f')} |")
        lines.append("")
    lines += ["| issue 14: done when | target | measured | met | before |", "|---|---|---|---|---|"]
    for t in doc["targets"]:
        m = t["measured"]
        lines.append(f"| {t['what']} | {t['target']} | {fmt(m) if isinstance(m, float) else m} | "
                     f"{'yes' if t['met'] else 'no'} | {t['issue_14_before']} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memobs", required=True)
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    rounds = 1 if quick else max(1, int(os.environ.get("BENCH_ROUNDS") or 5))
    run.QUIET_WAIT_S = float(os.environ.get("BENCH_QUIET_WAIT", "20"))
    cfg = {"memobs": os.path.abspath(args.memobs)}
    build = os.path.abspath(args.build)
    run.check_tools(CHURN_OBSERVERS, cfg)
    out_path = os.environ.get("BENCH_OUT") or (os.path.join(build, "heap-quick.json") if quick
                                               else os.path.join(HERE, "heap_results.json"))
    doc = {"what": "heap tracing's cost (issue 14): in-process --heap, --heap=uprobes, bpftrace, heaptrack;"
                   " ratios from one run, rows alternating", "quick": quick,
           "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": run.machine_info(cfg), "uptime_start": uptime(), "loadavg_start": os.getloadavg(),
           "rounds": {"churn": rounds, "lua": min(rounds, 3), "bystander": rounds, "startstop": max(rounds, 3)}}
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="memobs-bench-heap-") as tmp:
        doc["startstop"] = start_stop(cfg["memobs"], doc["rounds"]["startstop"])
        doc["bystander"] = bystander(cfg["memobs"], build, rounds, tmp)
        doc["churn"] = churn(cfg, build, rounds, 100000 if quick else 400000)
        if os.environ.get("LUA_SRC"):
            doc["lua"] = lua(cfg["memobs"], os.environ["LUA_SRC"], build, doc["rounds"]["lua"],
                             int(os.environ.get("BENCH_HEAP_UPROBE_ROUNDS") or 1), tmp)
        else:
            log("LUA_SRC is not set: the Lua build was not measured")
    doc["uptime_end"] = uptime()
    doc["loadavg_end"] = os.getloadavg()
    doc["bench_s"] = round(time.monotonic() - t0, 1)
    doc["targets"] = targets(doc)
    run.write_doc(doc, out_path)
    sys.stdout.write(markdown(doc))
    log(f"wrote {out_path} ({doc['bench_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
