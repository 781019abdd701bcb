#!/usr/bin/env python3
"""What stacks cost and what they give (issue 16; issue 15's default-mode budget).

1. The cost of a sample: tests/progs/grower (C++ -O2 without frame pointers, 7 frames walked
   through CFI tables in BPF) touches 512 MiB page by page under memobs with
   --rss-sample-bytes 4096 (a sample at every page fault) and 0 (none), alternating; the
   program's own system time grows by what BPF spends at its samples (the walk runs in the
   faulting task). Per sample: the difference over the number of samples.
2. make -j2 of Lua (LUA_SRC=DIR, a checkout, copied into --build): bare, under memobs (stacks
   on, the default), under memobs --rss-sample-bytes 0, alternating, each after make clean;
   wall and CPU (the build's and memobs's own: every child's rusage); from memobs's run: the
   share of sampled RSS-growth bytes in stacks of >= 5 frames, frames that are sentinels or
   data symbols, unwind tables (files, rows = 8 bytes of kernel memory each) and the CPU time
   memobs spent compiling them.

Writes BENCH_OUT (default bench/stacks_results.json), prints Markdown. BENCH_ROUNDS=N (3).
Run as root. Usage: stacks.py --memobs BIN --build DIR [--grower BIN]
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import run
import workloads

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = re.compile(r"^\[unknown|0xffffffff|^main_arena$|^_PyRuntime$")


def log(msg):
    sys.stderr.write(f"bench-stacks: {msg}\n")
    sys.stderr.flush()


def timed(cmd, cwd=None):
    """Wall seconds and CPU seconds (user + system) of cmd and all its descendants."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    subprocess.run(cmd, cwd=cwd, check=True, env=run.clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def sample_cost(memobs, grower, rounds, tmp):
    """System time of grower per sample: (sys with a sample per page - sys without) / samples."""
    per = []
    for i in range(rounds):
        sys_s, samples = {}, 0
        for period in (["4096", "0"] if i % 2 == 0 else ["0", "4096"]):
            out = os.path.join(tmp, "grower.json")
            tfile = os.path.join(tmp, "time")
            subprocess.run([memobs, "-q", "--rss-sample-bytes", period, "-o", out, "--", "/usr/bin/time", "-f",
                            "%S", "-o", tfile, grower, "512"], check=True, env=run.clean_env(), stdout=subprocess.DEVNULL)
            sys_s[period] = float(open(tfile).read().split()[-1])
            if period != "0":
                doc = json.load(open(out))
                samples = sum(s["faults"] for s in doc["rss_growth_sites"])
        per.append((sys_s["4096"] - sys_s["0"]) / max(samples, 1) * 1e6)
        log(f"sample cost round {i + 1}: {per[-1]:.2f} us ({samples} samples)")
    return {"us_per_sample": statistics.median(per), "rounds_us": per}


def stack_quality(doc):
    sites = doc["rss_growth_sites"]
    total = sum(s["bytes"] for s in sites)
    deep = sum(s["bytes"] for s in sites if len(s["frames"]) >= 5)
    bad = sorted({f for s in sites for f in s["frames"] if BAD.search(f)})
    st = doc["stacks"]
    return {"deep_share": deep / total if total else 0.0, "bad_frames": bad, "stacks": st["stacks"],
            "unwind_tables": st.get("unwind_tables"), "unwind_rows": st.get("unwind_rows"),
            "unwind_cpu_s": st.get("unwind_cpu_s")}


def lua(memobs, src, build, rounds, tmp):
    tree = workloads.lua_tree(src, build, "lua-stacks")
    modes = {"bare": ["make", "-j2"],
             "memobs": [memobs, "-q", "-o", os.path.join(tmp, "lua.json"), "--", "make", "-j2"],
             "memobs_no_stacks": [memobs, "-q", "--rss-sample-bytes", "0", "-o", os.path.join(tmp, "lua0.json"),
                                  "--", "make", "-j2"]}
    res = {m: [] for m in modes}
    quality = []
    for i in range(rounds):
        order = list(modes)[i % 3:] + list(modes)[:i % 3]
        for m in order:
            subprocess.run(["make", "-s", "clean"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
            res[m].append(timed(modes[m], cwd=tree))
            if m == "memobs":
                quality.append(stack_quality(json.load(open(os.path.join(tmp, "lua.json")))))
        log(f"lua round {i + 1}: " + ", ".join(f"{m} {res[m][-1][0]:.2f} s {res[m][-1][1]:.2f} cpu-s" for m in modes))
    out = {}
    for m in ("memobs", "memobs_no_stacks"):
        out[m] = {"wall_ratio": statistics.median(x[0] / b[0] for x, b in zip(res[m], res["bare"])),
                  "cpu_ratio": statistics.median(x[1] / b[1] for x, b in zip(res[m], res["bare"])),
                  "wall_ratios": [x[0] / b[0] for x, b in zip(res[m], res["bare"])],
                  "cpu_ratios": [x[1] / b[1] for x, b in zip(res[m], res["bare"])]}
    out["stacks_vs_no_stacks_cpu_s"] = statistics.median(x[1] - y[1] for x, y in
                                                         zip(res["memobs"], res["memobs_no_stacks"]))
    out["bare_median"] = {"wall_s": statistics.median(x[0] for x in res["bare"]),
                          "cpu_s": statistics.median(x[1] for x in res["bare"])}
    out["quality"] = quality
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memobs", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--grower", default=None)
    a = ap.parse_args()
    rounds = max(int(os.environ.get("BENCH_ROUNDS", "3")), 1)
    grower = a.grower or os.path.join(os.path.dirname(a.memobs), "tests", "progs", "grower")
    result = {"rounds": rounds}
    with tempfile.TemporaryDirectory() as tmp:
        result["sample"] = sample_cost(a.memobs, grower, rounds, tmp)
        if os.environ.get("LUA_SRC"):
            result["lua"] = lua(a.memobs, os.environ["LUA_SRC"], a.build, rounds, tmp)
        else:
            log("LUA_SRC is not set: the Lua build was not measured")
    with open(os.environ.get("BENCH_OUT", os.path.join(HERE, "stacks_results.json")), "w") as f:
        json.dump(result, f, indent=1)
    print("| stacks | figure |\n|---|---|")
    print(f"| BPF time per RSS-growth sample (7-frame CFI walk, median) | {result['sample']['us_per_sample']:.2f} us |")
    if "lua" in result:
        lu = result["lua"]
        q = lu["quality"][-1]
        for m in ("memobs", "memobs_no_stacks"):
            print(f"| make -j2 of Lua, {m}: wall / CPU of bare (median) | {lu[m]['wall_ratio']:.3f} / "
                  f"{lu[m]['cpu_ratio']:.3f} |")
        print(f"| CPU of stacks (memobs - memobs --rss-sample-bytes 0, median) | {lu['stacks_vs_no_stacks_cpu_s']:.3f} s"
              f" of {lu['bare_median']['cpu_s']:.2f} s bare |")
        print(f"| RSS-growth bytes in stacks of >= 5 frames | "
              + ", ".join(f"{x['deep_share'] * 100:.1f}%" for x in lu["quality"]) + " |")
        print(f"| sentinel or data frames | {len(q['bad_frames'])} |")
        print(f"| unwind tables: files, rows (8 B each), memobs CPU compiling | {q['unwind_tables']}, "
              f"{q['unwind_rows']}, {q['unwind_cpu_s']:.3f} s |")


if __name__ == "__main__":
    main()
