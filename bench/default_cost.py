#!/usr/bin/env python3
"""What the default mode costs a build (issue 15's targets), side by side in one run.

Two workloads, each bare and under `memobs --` (the default: RSS, tree, phases, stacks; the text
report on stderr; its cache warm), the same with an empty cache for every run (cold-cache), under
`memobs --rss-sample-bytes 0 --` (no stacks: what stacks cost, issue 16),
and under BENCH_MEMOBS_BEFORE when given (a build to compare with):
  lua    make -j2 of Lua (LUA_SRC=DIR, a checkout copied into --build), after make clean;
         target: <= 1.05x wall and <= 1.03x CPU of bare, memobs's own CPU included
  loop   a shell loop running /bin/true 2,000 times (BENCH_LOOP=N); target: <= 1.10x wall
Rounds alternate (every round runs every row once, in a rotated order); a ratio is the median
of the per-round ratios over that round's bare run. Then memobs's own CPU (user + system of the
memobs process, its threads included, read from /proc at the workload's end) under each observer,
beside the same for `-- true` (its start and stop), alternating, BENCH_ROUNDS rounds. CPU is user + system of every descendant
(the build's, memobs's own and its helpers', BPF run in the build's tasks included). The load
average is recorded before each round: the VM is shared.

Writes BENCH_OUT (default BUILD/default_cost.json), prints Markdown. BENCH_ROUNDS=N (5).
Run as root. Usage: default_cost.py --memobs BIN --build DIR
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

import run
import workloads
from stacks import timed


def log(msg):
    sys.stderr.write(f"default-cost: {msg}\n")
    sys.stderr.flush()


def measure(name, command, observers, rounds, cwd=None, before_each=None):
    """{observer: [(wall, cpu) per round]} for command bare and under each observer (argv prefix)."""
    rows = {"bare": []}
    rows.update({k: [] for k in observers})
    names = list(rows)
    loads = []
    for r in range(rounds):
        loads.append(os.getloadavg()[0])
        for k in names[r % len(names):] + names[:r % len(names)]:
            if before_each:
                before_each()
            rows[k].append(timed((observers.get(k) or []) + command, cwd=cwd))
        log(f"{name} round {r + 1}/{rounds} (load {loads[-1]:.2f}): " +
            ", ".join(f"{k} {rows[k][-1][0]:.2f} s {rows[k][-1][1]:.2f} cpu-s" for k in names))
    out = {"command": " ".join(command), "loadavg_before_rounds": loads, "raw": rows,
           "bare_median": {"wall_s": statistics.median(x[0] for x in rows["bare"]),
                           "cpu_s": statistics.median(x[1] for x in rows["bare"])}}
    for k in observers:
        wr = [x[0] / b[0] for x, b in zip(rows[k], rows["bare"])]
        cr = [x[1] / b[1] for x, b in zip(rows[k], rows["bare"])]
        out[k] = {"argv": " ".join(observers[k]), "wall_ratio": statistics.median(wr),
                  "cpu_ratio": statistics.median(cr), "wall_ratios": wr, "cpu_ratios": cr}
    return out


def own_cpu(observer, command, cwd=None):
    """CPU seconds (user + system) of the memobs process itself when command ends under it: the
    shell it runs reads its parent's /proc/PID/stat (memobs, all its threads)."""
    script = f"{shlex.join(command)} >/dev/null 2>&1; cat /proc/$PPID/stat"
    out = subprocess.run(observer + ["sh", "-c", script], cwd=cwd, check=True, capture_output=True,
                         text=True, env=run.clean_env()).stdout
    fields = out.strip().splitlines()[-1].rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_own(name, command, observers, rounds, cwd=None, before_each=None):
    """{observer: {"s": median own CPU s, "true_s": the same for `true`}} (own_cpu), alternating."""
    runs = {k: {"s": [], "true_s": []} for k in observers}
    names = list(observers)
    for r in range(rounds):
        for k in names[r % len(names):] + names[:r % len(names)]:
            if before_each:
                before_each()
            runs[k]["s"].append(own_cpu(observers[k], command, cwd))
            runs[k]["true_s"].append(own_cpu(observers[k], ["true"]))
        log(f"{name} own CPU round {r + 1}/{rounds}: " +
            ", ".join(f"{k} {runs[k]['s'][-1]:.2f} s (true {runs[k]['true_s'][-1]:.2f} s)" for k in names))
    return {k: {"s": statistics.median(v["s"]), "true_s": statistics.median(v["true_s"]), "raw": v}
            for k, v in runs.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memobs", required=True)
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    rounds = max(int(os.environ.get("BENCH_ROUNDS") or 5), 1)
    # The no-stacks row is issue 16's: what RSS-growth stacks add is its difference from memobs's.
    # memobs's cache (names and unwind tables by build id) is warm after its first run here; the
    # cold-cache row gives each run an empty one, as a host that keeps none between builds.
    cold = 'd=$(mktemp -d) && MEMOBS_CACHE=$d "$0" -- "$@"; rc=$?; rm -rf "$d"; exit $rc'
    observers = {"memobs": [os.path.abspath(a.memobs), "--"],
                 "cold-cache": ["sh", "-c", cold, os.path.abspath(a.memobs)],
                 "no-stacks": [os.path.abspath(a.memobs), "--rss-sample-bytes", "0", "--"]}
    if os.environ.get("BENCH_MEMOBS_BEFORE"):
        observers["before"] = [os.path.abspath(os.environ["BENCH_MEMOBS_BEFORE"]), "--"]
    result = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rounds": rounds}
    n = int(os.environ.get("BENCH_LOOP") or 2000)
    loop = ["sh", "-c", f"i=0; while [ $i -lt {n} ]; do /bin/true; i=$((i + 1)); done"]
    result["loop"] = measure("loop", loop, observers, rounds)
    result["loop"]["own_cpu"] = measure_own("loop", loop, observers, rounds)
    src = os.environ.get("LUA_SRC")
    if src:
        tree = workloads.lua_tree(src, a.build, "lua-default-cost")
        clean = lambda: subprocess.run(["make", "-s", "clean"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
        result["lua"] = measure("lua", ["make", "-j2"], observers, rounds, cwd=tree, before_each=clean)
        result["lua"]["own_cpu"] = measure_own("lua", ["make", "-j2"], observers, rounds, cwd=tree,
                                               before_each=clean)
    else:
        log("LUA_SRC is not set: the Lua build was not measured")
    out = os.environ.get("BENCH_OUT") or os.path.join(a.build, "default_cost.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print("| workload | bare wall s | bare CPU s | run | wall / bare | CPU / bare | target |")
    print("|---|---|---|---|---|---|---|")
    for w, target in (("lua", "<= 1.05x wall, <= 1.03x CPU"), ("loop", "<= 1.10x wall")):
        if w not in result:
            continue
        r = result[w]
        for k in observers:
            print(f"| {w} | {r['bare_median']['wall_s']:.2f} | {r['bare_median']['cpu_s']:.2f} | {k} | "
                  f"{r[k]['wall_ratio']:.3f} ({', '.join(f'{x:.2f}' for x in r[k]['wall_ratios'])}) | "
                  f"{r[k]['cpu_ratio']:.3f} ({', '.join(f'{x:.2f}' for x in r[k]['cpu_ratios'])}) | {target} |")
    print()
    print("| workload | run | memobs's own CPU s, median | its own CPU for `-- true`, median | the difference |")
    print("|---|---|---|---|---|")
    for w in ("lua", "loop"):
        for k, v in result.get(w, {}).get("own_cpu", {}).items():
            print(f"| {w} | {k} | {v['s']:.3f} | {v['true_s']:.3f} | {v['s'] - v['true_s']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
