#!/usr/bin/env python3
"""Start and stop (issue 15): how long `memobs -- true` takes from start to exit, side by side with
bpftrace attaching one tracepoint to the same command, and what the exec gate costs an exec.

Alternating rounds (every round runs every row once, in a rotated order); the figures are medians
of the rounds, and the ratio memobs / bpftrace is the median of the per-round ratios:
  bare          /bin/true
  memobs        memobs -q -- /bin/true
  memobs-report memobs -- /bin/true (the report printed: the stacks named)
  memobs-rss0   memobs -q --rss-sample-bytes 0 -- /bin/true (no RSS-growth stacks to symbolize)
  bpftrace      bpftrace -e 'tracepoint:sched:sched_process_exit { @n = count(); }' -c /bin/true
  memobs-heap   memobs -q --heap -- /bin/true (the in-process heap path: issue 14's start and stop)
  bpftrace-heap bpftrace with libc's malloc, malloc's return and free probed, -c /bin/true
  before        BENCH_MEMOBS_BEFORE -q -- /bin/true, when given (a build to compare with)
  before-heap   BENCH_MEMOBS_BEFORE -q --heap -- /bin/true, the same
Then how long memobs's links outlive its exit (handed to the kernel to detach, issue 15): the
ids of the links memobs -q --heap holds while its command waits, then ms from its exit until
none exists (BPF_LINK_GET_FD_BY_ID polled), for it and the build before. Then the exec gate's
round trip: exec_fail N /etc/passwd (execve of a file that is not
executable: the kernel's checks, and under memobs one answer of the gate for a file it knows),
bare, under memobs and under the build before; (memobs - bare) / N. And what the verifier does
at every start, a count that does not depend on the load: the instructions it processed for each program memobs holds
while `memobs -q [--heap | --heap=uprobes] -- sleep 2` runs (prog_insns: the kernel's
bpf_prog_info.verified_insns), for memobs and the before build.

Environment: BENCH_ROUNDS (default 9), BENCH_MEMOBS_BEFORE, BENCH_OUT.
Usage: startstop.py --memobs BIN --build DIR   (root: memobs and bpftrace load BPF programs)
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import run

HERE = os.path.dirname(os.path.abspath(__file__))
TRUE = "/bin/true"
BPFTRACE = ["bpftrace", "-q", "-e", "tracepoint:sched:sched_process_exit { @n = count(); }", "-c", TRUE]
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
BPFTRACE_HEAP = ["bpftrace", "-q", "-e", f"uprobe:{LIBC}:malloc {{ @a = count(); }} "
                 f"uretprobe:{LIBC}:malloc {{ @b = count(); }} uprobe:{LIBC}:free {{ @c = count(); }}", "-c", TRUE]
EXECS = 20000


def wall(argv):
    """Seconds from start to exit of argv (its output discarded), and its exit status."""
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=run.clean_env(), timeout=600)
    return time.monotonic() - t0, p.returncode, p.stderr.decode(errors="replace")[-300:]


_libc = ctypes.CDLL(None, use_errno=True)
SYS_BPF, BPF_LINK_GET_FD_BY_ID = 321, 30     # x86_64


def link_exists(link_id):
    attr = (ctypes.c_uint32 * 3)(link_id, 0, 0)
    fd = _libc.syscall(SYS_BPF, BPF_LINK_GET_FD_BY_ID, ctypes.byref(attr), ctypes.sizeof(attr))
    if fd >= 0:
        os.close(fd)
    return fd >= 0


def held_links(pid):
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                ids |= {int(line.split()[1]) for line in f if line.startswith("link_id:")}
        except OSError:
            pass
    return ids


def links_outlive_exit(argv):
    """(ms from memobs's exit until its last link is gone, links it held)."""
    d = tempfile.mkdtemp(prefix="startstop-")
    go = os.path.join(d, "go")
    os.mkfifo(go, 0o666)
    os.chmod(d, 0o755)
    try:
        p = subprocess.Popen(argv + ["sh", "-c", "cat %s >/dev/null" % go], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        with open(go, "w"):
            links = held_links(p.pid)
        p.wait(timeout=600)
        t_exit = time.monotonic()
        while any(link_exists(i) for i in links):
            if time.monotonic() - t_exit > 30:
                sys.exit("startstop: links %s of %s outlived it by 30 s" % (links, argv[0]))
            time.sleep(0.0005)
        return (time.monotonic() - t_exit) * 1000, len(links)
    finally:
        os.unlink(go)
        os.rmdir(d)


def outlive(argv, rounds):
    ms = [links_outlive_exit(argv) for _ in range(rounds)]
    return {"median_ms": statistics.median(m for m, _ in ms), "max_ms": max(m for m, _ in ms),
            "links": ms[0][1], "ms": [round(m, 2) for m, _ in ms]}


def exec_round_trip(memobs, build, before=None):
    """ns per exec of exec_fail, bare, under memobs and under before (None without), alternating."""
    prog = os.path.join(build, "exec_fail")

    def ns(argv):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
        return json.loads(out.strip().splitlines()[-1])["ns_per_exec"]
    bare, gated, gated_before = [], [], []
    for _ in range(3):
        bare.append(ns([prog, str(EXECS), "/etc/passwd"]))
        gated.append(ns([memobs, "-q", "--", prog, str(EXECS), "/etc/passwd"]))
        if before:
            gated_before.append(ns([before, "-q", "--", prog, str(EXECS), "/etc/passwd"]))
    return (statistics.median(bare), statistics.median(gated),
            statistics.median(gated_before) if before else None)


def command_runs(pid, comm):
    """Whether a child of pid runs comm (memobs lets the command exec once it has loaded)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = f.read().split()
    except OSError:
        return False
    for child in children:
        try:
            with open(f"/proc/{child}/comm") as f:
                if f.read().strip() == comm:
                    return True
        except OSError:
            continue
    return False


INSN_MODES = {"default": [], "heap": ["--heap"], "heap_uprobes": ["--heap=uprobes"]}


def verified_insns(memobs, build):
    """{mode: {program: instructions verified}} of memobs -q MODE -- sleep 2."""
    tool = os.path.join(build, "prog_insns")
    out = {}
    for mode, args in INSN_MODES.items():
        p = subprocess.Popen([memobs, "-q"] + args + ["--", "sleep", "2"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not command_runs(p.pid, "sleep") and p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            lines = subprocess.run([tool, str(p.pid)], capture_output=True, text=True, timeout=60).stdout
        finally:
            p.wait()
        progs = {name: int(n) for name, n in (line.split() for line in lines.splitlines())}
        out[mode] = dict(progs, total=sum(progs.values()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memobs", required=True)
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    rounds = int(os.environ.get("BENCH_ROUNDS") or 9)
    memobs = os.path.abspath(args.memobs)
    rows = {
        "bare": [TRUE],
        "memobs": [memobs, "-q", "--", TRUE],
        "memobs-report": [memobs, "--", TRUE],
        "memobs-rss0": [memobs, "-q", "--rss-sample-bytes", "0", "--", TRUE],
        "bpftrace": BPFTRACE,
        "memobs-heap": [memobs, "-q", "--heap", "--", TRUE],
        "bpftrace-heap": BPFTRACE_HEAP,
    }
    before = os.environ.get("BENCH_MEMOBS_BEFORE")
    if before:
        rows["before"] = [os.path.abspath(before), "-q", "--", TRUE]
        rows["before-heap"] = [os.path.abspath(before), "-q", "--heap", "--", TRUE]
    times = {k: [] for k in rows}
    names = list(rows)
    for name in names:          # untimed: caches warm
        wall(rows[name])
    loads = []
    for r in range(rounds):
        loads.append(os.getloadavg()[0])
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            s, rc, err = wall(rows[name])
            if rc:
                sys.exit(f"startstop: {name} exited {rc}: {err}")
            times[name].append(s)
        sys.stderr.write("startstop: round %d/%d: %s\n" % (r + 1, rounds, "  ".join(
            f"{n} {times[n][-1]:.3f}" for n in names)))
    ratios = [m / b for m, b in zip(times["memobs"], times["bpftrace"])]
    report_ratios = [m / b for m, b in zip(times["memobs-report"], times["bpftrace"])]
    heap_ratios = [m / b for m, b in zip(times["memobs-heap"], times["bpftrace-heap"])]
    links_after_exit = {"memobs": outlive([memobs, "-q", "--heap", "--"], rounds)}
    if before:
        links_after_exit["before"] = outlive([os.path.abspath(before), "-q", "--heap", "--"], rounds)
    bare_ns, gated_ns, before_ns = exec_round_trip(memobs, os.path.abspath(args.build),
                                                   os.path.abspath(before) if before else None)
    insns = {"memobs": verified_insns(memobs, os.path.abspath(args.build))}
    if before:
        insns["before"] = verified_insns(os.path.abspath(before), os.path.abspath(args.build))
    doc = {
        "what": "memobs -- true vs bpftrace with one tracepoint (issue 15); the exec gate's round trip",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rounds": rounds, "loadavg": os.getloadavg(), "loadavg_before_rounds": loads,
        "commands": {k: " ".join(v) for k, v in rows.items()},
        "seconds": {k: v for k, v in times.items()},
        "median_s": {k: statistics.median(v) for k, v in times.items()},
        "memobs_over_bpftrace": statistics.median(ratios),
        "memobs_report_over_bpftrace": statistics.median(report_ratios),
        "memobs_heap_over_bpftrace_heap": statistics.median(heap_ratios),
        "target": "<= 0.5",
        "links_after_exit": links_after_exit,
        "exec_ns": {"bare": bare_ns, "under_memobs": gated_ns, "gate_round_trip": gated_ns - bare_ns,
                    "under_before": before_ns},
        "verified_insns": insns,
    }
    if before:
        doc["before_over_bpftrace"] = statistics.median(
            [b / t for b, t in zip(times["before"], times["bpftrace"])])
        doc["before_heap_over_bpftrace_heap"] = statistics.median(
            [b / t for b, t in zip(times["before-heap"], times["bpftrace-heap"])])
    out = os.environ.get("BENCH_OUT") or os.path.join(args.build, "startstop.json")
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    print("| row | command | median s |\n|---|---|---|")
    for k in names:
        print(f"| {k} | `{doc['commands'][k]}` | {doc['median_s'][k]:.3f} |")
    print(f"\nmemobs / bpftrace (median of per-round ratios): {doc['memobs_over_bpftrace']:.2f} (target <= 0.5); "
          f"with the report: {doc['memobs_report_over_bpftrace']:.2f}")
    print(f"memobs --heap / bpftrace with malloc, its return and free: {doc['memobs_heap_over_bpftrace_heap']:.2f} "
          "(target <= 0.5)")
    if before:
        print(f"before / bpftrace: {doc['before_over_bpftrace']:.2f}; before --heap / bpftrace with malloc, its "
              f"return and free: {doc['before_heap_over_bpftrace_heap']:.2f}")
    for who, modes in insns.items():
        for mode, progs in modes.items():
            print(f"verified instructions, {who} {mode}: " + ", ".join(f"{k} {v:,}" for k, v in progs.items()))
    for k, v in links_after_exit.items():
        print(f"{k} -q --heap: its {v['links']} links gone {v['median_ms']:.1f} ms after its exit "
              f"(median of {rounds}; max {v['max_ms']:.1f} ms)")
    print(f"exec gate round trip: {gated_ns - bare_ns:.0f} ns per exec (bare {bare_ns:.0f} ns, "
          f"under memobs {gated_ns:.0f} ns; exec_fail {EXECS} /etc/passwd, median of 3)")
    if before:
        print(f"exec gate round trip, before: {before_ns - bare_ns:.0f} ns per exec (under it {before_ns:.0f} ns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
