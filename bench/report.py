"""Markdown tables and target checks from a bench results document (bench/results.json).

  python3 bench/report.py [bench/results.json]    prints the tables again
"""
import json
import sys

MIB = 1024 * 1024


def _f(v, fmt="{:.2f}", none="-"):
    return none if v is None else fmt.format(v)


def _pct(v):
    if v is None:
        return "?"
    return f"{v:+.2f}%" if abs(v) >= 0.005 else "0.00%"


def _rate(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.0f} k"
    return f"{v:.0f}"


def _bytes(v):
    a = abs(v)
    sign = "+" if v > 0 else "-" if v < 0 else ""
    if a >= MIB:
        return f"{sign}{a / MIB:.1f} MiB"
    if a >= 1024:
        return f"{sign}{a / 1024:.1f} KiB"
    return f"{sign}{a:.0f} B"


def accuracy(wkey, name, s):
    parts = []
    err, pct = s.get("heap_err"), s.get("heap_err_pct") or {}
    if err:
        known = []
        if err.get("alloc_count") is not None:
            known.append(f"allocs {err['alloc_count']:+.0f}")
        if err.get("alloc_bytes") is not None:
            known.append(f"bytes {_bytes(err['alloc_bytes'])}")
        if err.get("peak_live") is not None:
            known.append(f"peak {_bytes(err['peak_live'])} ({_pct(pct.get('peak_live'))})")
        parts.append("heap vs known: " + ", ".join(known))
    if s.get("rss_err_pct") is not None:
        parts.append(f"max-process RSS vs maxrss: {_bytes(s['rss_err_bytes'])} ({_pct(s['rss_err_pct'])})")
    if name in ("heaptrack", "massif") and wkey in ("b", "c"):
        parts.append("traces only " + ("the gcc driver" if wkey == "b" else "make") + ", not its children")
    return "; ".join(parts) or "-"


def workload_table(doc, wkey):
    w = doc["workloads"][wkey]
    summ = doc["summary"].get(wkey, {})
    bare = summ.get("bare", {})
    lines = [f"### ({wkey}) {w['name']}: {w['describe']}", "",
             f"Bare: {_f(bare.get('wall_s'))} s wall"
             + (f", {_f(bare.get('ns_per_pair'), '{:.0f}')} ns per malloc+free pair" if wkey == "a" else "")
             + (f", kernel maxrss {bare['maxrss'] / MIB:.1f} MiB" if bare.get("maxrss") else ""), ""]
    head = ["observer", "wall s", "x bare", "cmd s", "x bare"]
    if wkey == "a":
        head += ["ns/pair", "+ns/pair"]
    head += ["allocs/s", "drops", "obs RSS MiB", "obs CPU s", "accuracy"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join("---" for _ in head) + "|")
    for name, s in summ.items():
        label = doc["observers"][name]["label"]
        fail = f" ({len(s['failed_rounds'])} failed)" if s.get("failed_rounds") else ""
        if s.get("rounds_with_foreign_libc_uprobes"):
            fail += f" [{len(s['rounds_with_foreign_libc_uprobes'])}/{s['rounds']} rounds with foreign libc uprobes]"
        row = [label + fail, _f(s.get("wall_s")), _f(s.get("wall_ratio"), "{:.2f}x"),
               _f(s.get("cmd_s")), _f(s.get("cmd_ratio"), "{:.2f}x")]
        if wkey == "a":
            row += [_f(s.get("ns_per_pair"), "{:.0f}"),
                    "-" if name == "bare" else _f(s.get("ns_per_pair_over_bare"), "{:.0f}")]
        row += [_rate(s.get("allocs_per_s")),
                str(s["drops"]) if "drops" in s else "-",
                _f(s["observer_rss_peak"] / MIB if s.get("observer_rss_peak") else None, "{:.1f}"),
                _f(s.get("observer_cpu_s")),
                accuracy(wkey, name, s)]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    return lines


def profile_table(doc):
    if not doc.get("profile"):
        return []
    lines = ["### BPF run time (one extra run each, kernel.bpf_stats_enabled=1)", "",
             "| workload | observer | BPF program runs | avg ns/run | runs/s | BPF ns/pair | trap+kernel ns/pair |",
             "|---|---|---|---|---|---|---|"]
    for wkey, per in doc["profile"].items():
        for name, p in per.items():
            lines.append(f"| ({wkey}) | {doc['observers'][name]['label']} | {p['run_cnt']} | "
                         f"{_f(p.get('avg_ns_per_run'), '{:.0f}')} | {_rate(p.get('events_per_s'))} | "
                         f"{_f(p.get('bpf_ns_per_pair'), '{:.0f}')} | "
                         f"{_f(p.get('trap_and_kernel_ns_per_pair'), '{:.0f}')} |")
    lines.append("")
    return lines


def targets(doc):
    """Issue 8's targets: [(name, measured text, met: bool|None)]."""
    S = doc["summary"]
    out = []
    c = S.get("c", {}).get("memobs")
    if c:
        out.append({"target": "default mode <= 1.02x on (c)", "measured":
                    f"{_f(c.get('cmd_ratio'), '{:.3f}x')} command only, {_f(c.get('wall_ratio'), '{:.3f}x')} "
                    "including memobs start-up/tear-down",
                    "met": c.get("cmd_ratio") is not None and c["cmd_ratio"] <= 1.02})
    a = S.get("a", {}).get("memobs-heap")
    if a:
        v = a.get("ns_per_pair_over_bare")
        out.append({"target": "--heap <= 2.2 us per malloc+free pair on (a)",
                    "measured": f"{_f(v / 1000 if v is not None else None, '{:.1f}')} us per pair over bare",
                    "met": v is not None and v <= 2200})
    b = S.get("b", {}).get("memobs-heap")
    if b:
        out.append({"target": "--heap <= 4x on (b)", "measured":
                    f"{_f(b.get('cmd_ratio'), '{:.2f}x')} command only, {_f(b.get('wall_ratio'), '{:.2f}x')} "
                    "including start-up/tear-down",
                    "met": b.get("cmd_ratio") is not None and b["cmd_ratio"] <= 4})
    rss = [s.get("observer_rss_peak") for per in S.values() for n, s in per.items()
           if n.startswith("memobs") and s.get("observer_rss_peak")]
    if rss:
        out.append({"target": "memobs's own peak RSS <= 32 MiB", "measured": f"max {max(rss) / MIB:.1f} MiB",
                    "met": max(rss) <= 32 * MIB})
    drops = [(n, s.get("drops")) for n, s in S.get("c", {}).items() if n.startswith("memobs")]
    if drops:
        out.append({"target": "zero drops on (c)", "measured": ", ".join(f"{n}: {d}" for n, d in drops),
                    "met": all(d == 0 for _, d in drops)})
    return out


def markdown(doc):
    m = doc["machine"]
    lines = [f"## memobs bench, {doc['date_utc']}" + (" (QUICK sizes)" if doc.get("quick") else ""), "",
             f"{m['cpus']} vCPU {m['cpu']}, {m['mem_bytes'] / 1024 ** 3:.0f} GiB, kernel {m['kernel']}, "
             f"Debian {m['debian']}; {doc['rounds']} rounds, medians; load average at start "
             f"{doc['loadavg_start'][0]:.2f}, at end {doc['loadavg_end'][0]:.2f}; bench took "
             f"{doc['bench_s'] / 60:.1f} min.", "",
             "wall: the whole observer command, including its start-up and tear-down. cmd: the command's own "
             "duration (/usr/bin/time inside the observer; heaptrack's and massif's own run time). "
             "x bare: median over rounds of the ratio to the same round's bare run.", ""]
    for wkey in doc["summary"]:
        lines += workload_table(doc, wkey)
    lines += profile_table(doc)
    t = doc.get("targets") or targets(doc)
    if t:
        lines += ["### Targets (issue 8)", "", "| target | measured | met |", "|---|---|---|"]
        lines += [f"| {x['target']} | {x['measured']} | {'yes' if x['met'] else 'NO'} |" for x in t]
        lines.append("")
    if doc.get("not_run"):
        lines += [f"Not run: {k}: {v}." for k, v in doc["not_run"].items()] + [""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    with open(sys.argv[1] if len(sys.argv) > 1 else "bench/results.json") as f:
        sys.stdout.write(markdown(json.load(f)))
