#!/usr/bin/env python3
"""What host-wide observation costs (issue 7): the bench's make -j2 build (workload c) run
  bare                     - nothing observes it
  memobs -- make           - memobs observes the build's tree
  bare, under memobs -a    - memobs -a observes the whole host in the background
in one run, alternating (each round runs the three once, in a rotated order). Ratios are per
round against that round's bare run; the median and the spread (min..max) over the rounds are
reported. Writes a JSON document (BENCH_OUT, default bench/host_results.json) and prints a table.

Environment: BENCH_QUICK=1 (the quick project size), BENCH_ROUNDS=N (default 5, at least 3).
Run as root. Usage: host_overhead.py --memobs BIN --build DIR
"""
import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import run
import workloads

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = ["bare", "memobs_tree", "bare_under_memobs_a"]


def log(msg):
    sys.stderr.write(f"bench-host: {msg}\n")
    sys.stderr.flush()


def timed(cmd):
    t = time.monotonic()
    subprocess.run(cmd, check=True, env=run.clean_env(), stdout=subprocess.DEVNULL)
    return time.monotonic() - t


class HostObserver:
    """memobs -a in the background; started (BPF loaded, processes read) before the build."""

    def __init__(self, memobs, out):
        self.proc = subprocess.Popen([memobs, "-a", "-v", "-q", "-o", out], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=run.clean_env())
        for line in self.proc.stderr:
            if "memobs: observing" in line:
                return
        raise RuntimeError("memobs -a did not start: exit %s" % self.proc.wait())

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=600)
        if self.proc.returncode != 0:
            raise RuntimeError("memobs -a exited %d" % self.proc.returncode)


def run_mode(mode, wl, memobs, tmp):
    wl.reset()
    out = os.path.join(tmp, "run.json")
    if mode == "bare":
        return timed(wl.command()), None
    if mode == "memobs_tree":
        # memobs's start-up and report are outside the build's own time: time -f %e measures the build.
        tfile = os.path.join(tmp, "time")
        subprocess.run([memobs, "-q", "-o", out, "--", "/usr/bin/time", "-f", "%e", "-o", tfile] + wl.command(),
                       check=True, env=run.clean_env(), stdout=subprocess.DEVNULL)
        with open(tfile) as f:
            return float(f.read().split()[-1]), None
    obs = HostObserver(memobs, out)
    try:
        wall = timed(wl.command())
    finally:
        obs.stop()
    with open(out) as f:
        doc = json.load(f)
    return wall, {"processes_seen": len(doc["processes"]), "drops": doc["drops"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memobs", required=True)
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    rounds = max(3, int(os.environ.get("BENCH_ROUNDS", "5")))
    out_path = os.environ.get("BENCH_OUT", os.path.join(HERE, "host_results.json"))
    memobs = os.path.abspath(args.memobs)
    sizes = workloads.SIZES["quick" if quick else "full"]
    wl = workloads.MakeProject(os.path.abspath(os.path.join(args.build, "work-host")), sizes, os.path.abspath(args.build))
    wl.prepare()
    tmp = tempfile.mkdtemp(prefix="memobs-bench-host-")
    rows = []
    load_start = os.getloadavg()
    for r in range(rounds):
        order = MODES[r % 3:] + MODES[:r % 3]
        row = {"round": r + 1, "order": order}
        for mode in order:
            wall, extra = run_mode(mode, wl, memobs, tmp)
            row[mode] = round(wall, 3)
            if extra:
                row["memobs_a"] = extra
            log(f"round {r + 1}: {mode} {wall:.2f} s")
        row["ratio_memobs_tree"] = round(row["memobs_tree"] / row["bare"], 4)
        row["ratio_bare_under_memobs_a"] = round(row["bare_under_memobs_a"] / row["bare"], 4)
        rows.append(row)
    summary = {}
    for key in ("bare", "memobs_tree", "bare_under_memobs_a", "ratio_memobs_tree", "ratio_bare_under_memobs_a"):
        vals = [row[key] for row in rows]
        summary[key] = {"median": round(statistics.median(vals), 4), "min": min(vals), "max": max(vals)}
    doc = {
        "what": "make -j2 build (bench workload c): bare, under memobs -- make, bare while memobs -a runs",
        "time_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kernel": platform.release(), "cpus": os.cpu_count(), "quick": quick, "rounds": rounds,
        "describe": wl.describe, "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
        "summary": summary, "runs": rows,
    }
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("| run | median wall | min..max | ratio to bare (median) | ratio min..max |")
    print("|---|---|---|---|---|")
    for key, ratio in (("bare", None), ("memobs_tree", "ratio_memobs_tree"),
                       ("bare_under_memobs_a", "ratio_bare_under_memobs_a")):
        s = summary[key]
        rs = summary[ratio] if ratio else {"median": 1, "min": 1, "max": 1}
        print(f"| {key} | {s['median']:.2f} s | {s['min']:.2f}..{s['max']:.2f} s | "
              f"{rs['median']:.3f} | {rs['min']:.3f}..{rs['max']:.3f} |")
    log(f"results in {out_path}")


if __name__ == "__main__":
    main()
