#!/usr/bin/env python3
"""memobs's own CPU while it observes (issue 15): N sleeping processes in a cgroup of their
own, observed by `memobs -a --cgroup` (and with --serve, scraped every second), for a short
and a long --duration; the difference over the difference in seconds is the CPU of one
second of observing (the harvest tick, the timeline samples, the views), start-up removed.
Two memobs binaries (before/after a change) alternate in each round; medians are reported.
A run under `perf stat -e syscalls:sys_enter_bpf` of each counts bpf() calls a second the same
way (strace is no good here: a uretprobe another observer put on the C library makes a
ptraced process crash on this kernel).

Run as root. Usage: self_cpu.py --memobs BIN [--baseline BIN] [--procs N] [--rounds R]
Writes a JSON document (BENCH_OUT, default bench/self_cpu_results.json) and prints a table.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SHORT, LONG = 2.0, 12.0


def log(msg):
    sys.stderr.write(f"bench-self: {msg}\n")
    sys.stderr.flush()


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.split()[0] == "cgroup2":
                return pre.split()[4]
    raise RuntimeError("no cgroup2 mount")


class Sleepers:
    """N `sleep` processes in a fresh cgroup: what memobs observes."""

    def __init__(self, n):
        self.path = "/memobs-bench-self-%d" % os.getpid()
        self.dir = cgroup2_mount() + self.path
        os.mkdir(self.dir)
        self.shell = subprocess.Popen(["sh", "-c", "echo $$ > %s/cgroup.procs; i=0; while [ $i -lt %d ]; do "
                                       "sleep 3600 & i=$((i+1)); done; wait" % (self.dir, n)])
        while len(open(self.dir + "/cgroup.procs").read().split()) < n + 1:
            time.sleep(0.2)

    def close(self):
        for pid in open(self.dir + "/cgroup.procs").read().split():
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
        self.shell.wait()
        for _ in range(100):
            try:
                os.rmdir(self.dir)
                return
            except OSError:
                time.sleep(0.1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape_every_second(port, stop):
    while not stop.wait(1.0):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
        except OSError:
            pass


def observe(memobs, cgroup, duration, serve, count_bpf=False):
    """CPU seconds (user + system) of one memobs run, or its bpf() calls (perf stat)."""
    argv = [memobs, "-q", "-a", "--cgroup", cgroup, "--duration", str(duration)]
    stop, scraper = threading.Event(), None
    if serve:
        port = free_port()
        argv += ["--serve", str(port)]
        scraper = threading.Thread(target=scrape_every_second, args=(port, stop))
    with tempfile.NamedTemporaryFile(mode="r") as out:
        if count_bpf:
            argv = ["perf", "stat", "-x,", "-e", "syscalls:sys_enter_bpf", "-o", out.name] + argv
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if scraper:
            scraper.start()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        if scraper:
            scraper.join()
        text = out.read()
    if proc.returncode:
        raise RuntimeError("%s exited %d" % (" ".join(argv), proc.returncode))
    if count_bpf:
        m = re.search(r"^(\d+),,syscalls:sys_enter_bpf", text, re.M)
        if not m:
            raise RuntimeError("no count in perf stat's output:\n" + text)
        return int(m.group(1))
    return usage.ru_utime + usage.ru_stime


def per_second(memobs, cgroup, serve, count_bpf=False):
    short = observe(memobs, cgroup, SHORT, serve, count_bpf)
    long = observe(memobs, cgroup, LONG, serve, count_bpf)
    return (long - short) / (LONG - SHORT)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memobs", required=True)
    ap.add_argument("--baseline", help="another memobs to compare with, alternating")
    ap.add_argument("--procs", type=int, default=int(os.environ.get("BENCH_PROCS", 2000)))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    args = ap.parse_args()
    binaries = {"memobs": args.memobs}
    if args.baseline:
        binaries = {"baseline": args.baseline, "memobs": args.memobs}
    log("starting %d sleeping processes" % args.procs)
    sleepers = Sleepers(args.procs)
    results = {}
    try:
        for serve in (False, True):
            mode = "-a --serve (scraped each second)" if serve else "-a"
            for r in range(args.rounds):
                for name, binary in binaries.items():
                    cpu = per_second(binary, sleepers.path, serve)
                    results.setdefault(mode, {}).setdefault(name, {"cpu_s_per_s": []})["cpu_s_per_s"].append(cpu)
                    log("%s %s round %d: %.4f CPU s per second" % (name, mode, r + 1, cpu))
            if shutil.which("perf"):
                for name, binary in binaries.items():
                    calls = per_second(binary, sleepers.path, serve, count_bpf=True)
                    results[mode][name]["bpf_calls_per_s"] = calls
                    log("%s %s: %.0f bpf() calls per second" % (name, mode, calls))
    finally:
        sleepers.close()
    doc = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "host": platform.node(),
           "kernel": platform.release(), "ncpus": os.cpu_count(), "procs": args.procs,
           "durations_s": [SHORT, LONG], "binaries": binaries, "results": results}
    out = os.environ.get("BENCH_OUT", os.path.join(HERE, "self_cpu_results.json"))
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print("| mode | memobs | CPU ms per second observed (median, min..max) | bpf() calls per second |")
    print("|---|---|---|---|")
    for mode, by_name in results.items():
        for name, r in by_name.items():
            v = r["cpu_s_per_s"]
            print("| %s | %s | %.1f (%.1f..%.1f) | %s |" % (mode, name, 1000 * statistics.median(v), 1000 * min(v),
                                                        1000 * max(v), "%.0f" % r["bpf_calls_per_s"]
                                                        if "bpf_calls_per_s" in r else "-"))


if __name__ == "__main__":
    main()
