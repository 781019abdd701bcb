#!/usr/bin/env python3
"""The tree's physical memory on a real build (issue 20): `make -j2` of Lua, three ways,
alternating, each after `make clean`:

  bare       - the build alone in a memory cgroup the bench makes (no memobs): the kernel's
               watermark (memory.max_usage_in_bytes / memory.peak) and anon + file polled
               every 20 ms from memory.stat by the bench
  cgroup     - memobs -- make -j2 (the default: a memory cgroup of the command's own); the
               build also reads that cgroup's watermark itself when it ends
  pss        - memobs --physical pss, the build moving itself into a cgroup the bench makes:
               sampled PSS against that cgroup's readings in the same run

Ratios are memobs's figure over the cgroup's, per round; medians and min..max over the rounds.
Writes BENCH_OUT (default bench/physical_results.json) and prints a Markdown table.
Lua is not in this repository: LUA_SRC=DIR names a checkout (git clone
https://github.com/lua/lua); it is copied into --build and built there.
Environment: BENCH_ROUNDS=N (default 3). Run as root. Usage: physical.py --memobs BIN --build DIR
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

import workloads

HERE = os.path.dirname(os.path.abspath(__file__))
MODES = ["bare", "cgroup", "pss"]


def log(msg):
    sys.stderr.write(f"bench-physical: {msg}\n")
    sys.stderr.flush()


def memory_cgroup():
    """(directory of this process's memory cgroup, v1?)"""
    with open("/proc/self/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return "/sys/fs/cgroup/memory" + path, True
    return "/sys/fs/cgroup" + [l for l in lines if l.startswith("0::")][0][3:], False


class BenchCgroup:
    """A memory cgroup of the bench's (a child of its own), polled for anon + file."""

    def __init__(self, name):
        parent, self.v1 = memory_cgroup()
        self.dir = os.path.join(parent, name)
        os.mkdir(self.dir)
        self.max_anon_file = 0
        self.stop = threading.Event()
        self.poller = threading.Thread(target=self.poll, daemon=True)
        self.poller.start()

    def stat(self):
        with open(os.path.join(self.dir, "memory.stat")) as f:
            kv = dict(line.split() for line in f)
        if self.v1:
            return int(kv["total_rss"]), int(kv["total_cache"])
        return int(kv["anon"]), int(kv["file"])

    def poll(self):
        while not self.stop.is_set():
            self.max_anon_file = max(self.max_anon_file, sum(self.stat()))
            time.sleep(0.02)

    def peak(self):
        with open(os.path.join(self.dir, "memory.max_usage_in_bytes" if self.v1 else "memory.peak")) as f:
            return int(f.read())

    def enter(self):
        """A shell prefix that moves the command into this cgroup before it execs."""
        return ["sh", "-c", 'echo $$ > %s/cgroup.procs && exec "$@"' % self.dir, "sh"]

    def close(self):
        self.stop.set()
        self.poller.join()
        readings = {"peak": self.peak(), "max_anon_file": self.max_anon_file}
        os.rmdir(self.dir)
        return readings


# The build's own reading of the cgroup it ran in (memobs's), after make.
SELF_PEAK = r'''make -j2 >/dev/null 2>&1 || exit 1
p=$(sed -n 's/^[0-9]*:memory:\(.*\)/\1/p' /proc/self/cgroup)
if [ -n "$p" ]; then cat /sys/fs/cgroup/memory$p/memory.max_usage_in_bytes
else cat /sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)/memory.peak; fi'''


def run_mode(mode, memobs, src, out):
    subprocess.run(["make", "clean"], cwd=src, check=True, stdout=subprocess.DEVNULL)
    if mode == "cgroup":
        p = subprocess.run([memobs, "-q", "-o", out, "--", "sh", "-c", SELF_PEAK], cwd=src, check=True,
                           capture_output=True, text=True)
        with open(out) as f:
            phys = json.load(f)["totals"]["physical"]
        assert phys["source"].startswith("cgroup"), phys
        return {"memobs": phys, "cgroup": {"peak": int(p.stdout.split()[-1])}}
    cg = BenchCgroup("memobs-bench-%d" % os.getpid())
    try:
        if mode == "bare":
            subprocess.run(cg.enter() + ["make", "-j2"], cwd=src, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            return {"cgroup": cg.close()}
        subprocess.run([memobs, "-q", "-o", out, "--physical", "pss", "--"] + cg.enter() + ["make", "-j2"], cwd=src,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            doc = json.load(f)
        return {"memobs": doc["totals"]["physical"], "rss_sum_peak": doc["totals"]["rss"]["peak"],
                "cgroup": cg.close()}
    finally:
        if os.path.isdir(cg.dir):
            cg.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memobs", required=True)
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    lua = os.environ.get("LUA_SRC")
    rounds = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
    out_path = os.environ.get("BENCH_OUT", os.path.join(HERE, "physical_results.json"))
    memobs = os.path.abspath(args.memobs)
    src = workloads.lua_tree(lua, args.build, "lua")
    out = os.path.join(os.path.abspath(args.build), "physical-run.json")
    rows = []
    for r in range(rounds):
        row = {"round": r + 1, "loadavg_before": os.getloadavg()}
        for mode in MODES[r % 3:] + MODES[:r % 3]:
            row[mode] = run_mode(mode, memobs, src, out)
            log(f"round {r + 1}: {mode} {json.dumps(row[mode])}")
        bare, cgm, pss = row["bare"]["cgroup"], row["cgroup"], row["pss"]
        row["ratio_cgroup_vs_own_watermark"] = cgm["memobs"]["peak"] / cgm["cgroup"]["peak"]
        row["ratio_cgroup_vs_bare_watermark"] = cgm["memobs"]["peak"] / bare["peak"]
        row["ratio_cgroup_vs_bare_anon_file"] = cgm["memobs"]["peak"] / bare["max_anon_file"]
        row["ratio_pss_vs_same_run_watermark"] = pss["memobs"]["peak"] / pss["cgroup"]["peak"]
        row["ratio_pss_vs_same_run_anon_file"] = pss["memobs"]["peak"] / pss["cgroup"]["max_anon_file"]
        row["ratio_rss_sum_vs_same_run_watermark"] = pss["rss_sum_peak"] / pss["cgroup"]["peak"]
        rows.append(row)
    summary = {k: {"median": round(statistics.median(r[k] for r in rows), 4),
                   "min": round(min(r[k] for r in rows), 4), "max": round(max(r[k] for r in rows), 4)}
               for k in rows[0] if k.startswith("ratio_")}
    commit = subprocess.run(["git", "-C", lua, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    doc = {"what": "make -j2 of Lua: memobs's physical peak against the memory cgroup's own figures",
           "time_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "kernel": platform.release(), "cpus": os.cpu_count(), "lua_commit": commit or None,
           "rounds": rounds, "summary": summary, "runs": rows}
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("| memobs figure / the cgroup's | median | min..max |")
    print("|---|---|---|")
    for k, s in summary.items():
        print(f"| {k[6:]} | {s['median']:.3f} | {s['min']:.3f}..{s['max']:.3f} |")
    log(f"results in {out_path}")


if __name__ == "__main__":
    main()
