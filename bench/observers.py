"""The observers the bench compares: how each runs a command, and what its output says.

Every observer gets the workload's command. Where it does not change what is observed, the
command is wrapped in `/usr/bin/time -f %e,%M -o FILE`: that gives, in the same run, the
command's own wall time (excluding the observer's start-up and tear-down) and the kernel's
maxrss of the largest process of the tree (ground truth for per-process peak RSS). heaptrack and
massif observe the process they start, so they get the bare command; their own reports give the
traced process's run time.
"""
import json
import os
import re

TIME = "/usr/bin/time"
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd, files):
    return [TIME, "-f", "%e,%M", "-o", files["time"]] + cmd


def parse_time(path):
    """(wall s, maxrss bytes) from `/usr/bin/time -f %e,%M`, or (None, None)."""
    try:
        with open(path) as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return None, None
    for line in reversed(lines):     # "Command exited with non-zero status" may precede it
        m = re.fullmatch(r"([\d.]+),(\d+)", line)
        if m:
            return float(m.group(1)), int(m.group(2)) * 1024
    return None, None


class Observer:
    name = ""
    label = ""
    tool = None            # executable that must exist
    package = None         # Debian package that provides it
    wraps_time = True
    heap = False           # sees malloc-family calls
    sees = ""              # what it observes, for the table
    own_process = True     # the process we start is the observer (its own RSS/CPU are meaningful)

    def __init__(self, cfg):
        self.cfg = cfg

    def supported(self):
        return True

    def command(self, cmd, files):
        raise NotImplementedError

    def env(self):
        return {}

    def parse(self, files, workload):
        """Figures from the observer's own output (dict)."""
        return {}


class Bare(Observer):
    name = "bare"
    label = "none (bare)"
    sees = "-"
    own_process = False

    def command(self, cmd, files):
        return timed(cmd, files)


class Memobs(Observer):
    name = "memobs"
    label = "memobs (default: RSS, tree, phases)"
    sees = "RSS of every process of the tree (kernel mm counters)"
    extra = []

    def command(self, cmd, files):
        return [self.cfg["memobs"], "-q", *self.extra, "-o", files["json"], "--"] + timed(cmd, files)

    def parse(self, files, workload):
        try:
            with open(files["json"]) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            return {"error": f"no run document: {e}"}
        procs = [p for p in doc.get("processes", []) if os.path.basename(p.get("exe") or "") != "time"
                 and p.get("comm") != "time"]
        drops = doc.get("drops", {})
        heap = doc.get("totals", {}).get("heap", {})
        out = {
            "duration_s": doc.get("duration_s"),
            "processes": len(procs),
            "max_process_rss_peak": max((p["rss"]["peak"] for p in procs), default=None),
            "session_rss_peak": doc.get("totals", {}).get("rss", {}).get("peak"),
            "drops": sum(v for v in drops.values() if isinstance(v, int)),
            "drops_nonzero": {k: v for k, v in drops.items() if v},
            "warnings": doc.get("warnings", []),
            "stacks_config": {k: v for k, v in (doc.get("stacks") or {}).items() if k.endswith("sample_bytes")},
        }
        if self.heap:
            out["heap"] = {k: heap.get(k) for k in ("alloc_count", "alloc_bytes", "free_count",
                                                     "free_bytes", "peak_live")}
            out["heap_processes"] = sum(1 for p in procs if p.get("heap_probed"))
        return out


class MemobsHeap(Memobs):
    name = "memobs-heap"
    label = "memobs --heap"
    heap = True
    extra = ["--heap"]
    sees = ("+ every malloc-family call of every process of the tree (counted in process by a "
            "preloaded library; uprobes only where it cannot reach)")


class MemobsHeapUprobes(MemobsHeap):
    name = "memobs-heap-uprobes"
    label = "memobs --heap=uprobes"
    extra = ["--heap=uprobes"]
    sees = "+ every malloc-family call of every process of the tree (uprobes on libc: host-wide traps)"


class MemobsHeapStacks(MemobsHeap):
    name = "memobs-heap-stacks"
    label = "memobs --heap, a stack per allocation"
    extra = ["--heap", "--sample-bytes", "1"]
    sees = "+ the user stack of every allocation (memleak-style)"

    def supported(self):
        """Only memobs builds that have allocation stacks (--sample-bytes) run this row."""
        import subprocess
        out = subprocess.run([self.cfg["memobs"], "--help"], capture_output=True, text=True)
        return "--sample-bytes" in out.stdout + out.stderr


class Bpftrace(Observer):
    tool = "bpftrace"
    package = "bpftrace"
    heap = True
    script = ""
    keys_max = "65536"

    def command(self, cmd, files):
        # bpftrace -c splits the string at spaces itself (no shell): the bench's paths have none.
        return ["bpftrace", "-q", "-f", "json", "-o", files["bpftrace"],
                os.path.join(HERE, "bpftrace", self.script), "-c", " ".join(timed(cmd, files))]

    def env(self):
        return {"BPFTRACE_MAP_KEYS_MAX": self.keys_max}

    def parse(self, files, workload):
        maps = {}
        try:
            with open(files["bpftrace"]) as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("type") == "map":
                        maps.update(rec.get("data", {}))
        except OSError as e:
            return {"error": str(e)}
        out = {k.lstrip("@"): v for k, v in maps.items() if isinstance(v, int)}
        heap = {}
        if "malloc_calls" in out:
            heap["alloc_count"] = out["malloc_calls"]
        if "alloc_calls" in out:
            heap["alloc_count"] = out["alloc_calls"]
        for k in ("alloc_bytes", "free_bytes"):
            if k in out:
                heap[k] = out[k]
        if "free_calls" in out:
            heap["free_count"] = out["free_calls"]
        if "peak_live_bytes" in out:
            heap["peak_live"] = out["peak_live_bytes"]
        return {"heap": heap, "maps": out}


class BpftraceCount(Bpftrace):
    name = "bpftrace-count"
    label = "bpftrace: count malloc+free"
    script = "malloc_count.bt"
    sees = "malloc/free call counts of the tree (uprobes at entry; free is single-stepped)"


class BpftraceMallocRet(Bpftrace):
    name = "bpftrace-malloc-ret"
    label = "bpftrace: count malloc, its return, free"
    script = "malloc_ret_count.bt"
    sees = "malloc/free call counts of the tree (uprobe and uretprobe on malloc, uprobe on free)"


class BpftraceMemleak(Bpftrace):
    name = "bpftrace-memleak"
    label = "bpftrace: memleak-like live map"
    script = "memleak_live.bt"
    keys_max = "1048576"
    sees = "malloc/free of the tree: bytes, live map, peak (uretprobe on malloc; free single-stepped)"


def _heaptrack_size(s):
    m = re.fullmatch(r"([\d.]+)([KMGT]?)B?", s.strip())
    if not m:
        return None
    mult = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m.group(2)]
    return int(float(m.group(1)) * mult)


class Heaptrack(Observer):
    name = "heaptrack"
    label = "heaptrack"
    tool = "heaptrack"
    package = "heaptrack"
    wraps_time = False
    heap = True
    own_process = False
    sees = "malloc family of the started process only (LD_PRELOAD; children are not traced)"

    def command(self, cmd, files):
        return ["heaptrack", "-o", files["heaptrack"]] + cmd

    def parse(self, files, workload):
        import subprocess
        data = files["heaptrack"] + ".zst"
        if not os.path.exists(data):
            data = files["heaptrack"] + ".gz"
        try:
            text = subprocess.run(["heaptrack_print", "-f", data, "-p", "0", "-a", "0", "-T", "0",
                                   "-l", "0", "-n", "0"], capture_output=True, text=True,
                                  timeout=600).stdout
        except (OSError, subprocess.SubprocessError) as e:
            return {"error": str(e)}
        out = {"heap": {}}
        m = re.search(r"total runtime: ([\d.]+)s", text)
        if m:
            out["self_runtime_s"] = float(m.group(1))
        m = re.search(r"calls to allocation functions: (\d+)", text)
        if m:
            out["heap"]["alloc_count"] = int(m.group(1))
        m = re.search(r"peak heap memory consumption: (\S+)", text)
        if m:
            out["heap"]["peak_live"] = _heaptrack_size(m.group(1))
        m = re.search(r"peak RSS \(including heaptrack overhead\): (\S+)", text)
        if m:
            out["peak_rss_with_overhead"] = _heaptrack_size(m.group(1))
        for f in (data,):
            try:
                os.unlink(f)
            except OSError:
                pass
        return out


class Massif(Observer):
    name = "massif"
    label = "valgrind massif"
    tool = "valgrind"
    package = "valgrind"
    wraps_time = False
    heap = True
    own_process = False
    sees = "heap of the started process only (valgrind's malloc; no --trace-children)"

    def command(self, cmd, files):
        return ["valgrind", "-q", "--tool=massif", "--time-unit=ms",
                "--massif-out-file=" + files["massif"]] + cmd

    def parse(self, files, workload):
        try:
            with open(files["massif"]) as f:
                text = f.read()
        except OSError as e:
            return {"error": str(e)}
        heap = [int(x) for x in re.findall(r"mem_heap_B=(\d+)", text)]
        times = [int(x) for x in re.findall(r"^time=(\d+)", text, re.M)]
        os.unlink(files["massif"])
        return {"heap": {"peak_live": max(heap, default=None)},
                "self_runtime_s": times[-1] / 1000 if times else None}


ALL = [Bare, Memobs, MemobsHeap, MemobsHeapStacks, BpftraceCount, BpftraceMemleak, Heaptrack, Massif]
