"""The four bench workloads (issue 8): how to prepare each, the command, and what it knows.

A workload is prepared once (sources generated, binaries built) into the work directory; before
every run its outputs are removed (outside the timed window) so that every run does the same work.
`truth(stdout)` turns what the workload printed about itself into ground truth (known heap bytes
and counts for (a)) and its own timing (the loop of (a), the script of (d)).
"""
import json
import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"

# Sizes: the bare run of each is a few seconds on the 2-vCPU bench VM (the heap observers
# multiply that 10-40x on (a)-(c)); QUICK sizes are for a smoke run of the whole bench.
SIZES = {
    "full": {"pairs": 1000000, "unit_funcs": 280, "proj_files": 16, "proj_funcs": 16, "py_batches": 60},
    "quick": {"pairs": 100000, "unit_funcs": 40, "proj_files": 6, "proj_funcs": 6, "py_batches": 8},
}


def lua_tree(src, build, name):
    """A copy of the Lua checkout src (LUA_SRC) in build/name, for the bench to build there: Lua is
    not in this repository (git clone https://github.com/lua/lua), and its checkout stays clean."""
    if not src or not os.path.isfile(os.path.join(src, "lua.c")):
        raise SystemExit("bench: set LUA_SRC to a Lua source tree (git clone https://github.com/lua/lua)")
    tree = os.path.abspath(os.path.join(build, name))
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(src, tree, ignore=shutil.ignore_patterns(".git"))
    return tree


def _last_json_line(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


class Workload:
    key = ""          # a, b, c, d
    name = ""
    describe = ""
    multiprocess = False

    def __init__(self, work, sizes, build):
        self.work = os.path.join(work, self.key)
        self.sizes = sizes
        self.build = build

    def prepare(self):
        os.makedirs(self.work, exist_ok=True)

    def reset(self):
        """Remove the previous run's outputs (not timed)."""

    def command(self):
        raise NotImplementedError

    def truth(self, stdout):
        return {}


class MallocPairs(Workload):
    key = "a"
    name = "malloc_pairs"
    describe = "C program: malloc+free pairs of mixed sizes (16 B-32 KiB), 64 live blocks"

    def prepare(self):
        super().prepare()
        self.binary = os.path.join(self.build, "malloc_pairs")
        if not os.path.exists(self.binary):
            raise RuntimeError(f"{self.binary} missing: run `make bench` (it builds it)")

    def command(self):
        return [self.binary, str(self.sizes["pairs"])]

    def truth(self, stdout):
        out = _last_json_line(stdout)
        if not out:
            return {}
        return {"pairs": out["pairs"], "alloc_count": out["alloc_count"],
                "alloc_bytes": out["alloc_bytes"], "peak_live": out["peak_live"],
                "self_s": out["loop_s"], "ns_per_pair": out["ns_per_pair"]}


class Compile(Workload):
    key = "b"
    name = "gcc_O1_unit"
    describe = "gcc -O1 -c of one generated C file (gcc driver -> cc1 -> as)"
    multiprocess = True

    def prepare(self):
        super().prepare()
        self.src = os.path.join(self.work, "unit.c")
        subprocess.run([PYTHON, os.path.join(HERE, "workloads", "gen_c.py"), "unit", self.src,
                        str(self.sizes["unit_funcs"])], check=True)
        self.describe += f", {self.sizes['unit_funcs']} functions, {os.path.getsize(self.src) // 1024} KiB"

    def reset(self):
        try:
            os.unlink(os.path.join(self.work, "unit.o"))
        except FileNotFoundError:
            pass

    def command(self):
        return ["gcc", "-O1", "-c", self.src, "-o", os.path.join(self.work, "unit.o")]


class MakeProject(Workload):
    key = "c"
    name = "make_j2"
    describe = "make -j2 of a generated C project (gcc -O2 -g per file, then link)"
    multiprocess = True

    def prepare(self):
        super().prepare()
        shutil.rmtree(self.work)
        subprocess.run([PYTHON, os.path.join(HERE, "workloads", "gen_c.py"), "project", self.work,
                        str(self.sizes["proj_files"]), str(self.sizes["proj_funcs"])], check=True)
        self.describe += f", {self.sizes['proj_files']} files x {self.sizes['proj_funcs']} functions"

    def reset(self):
        subprocess.run(["make", "-s", "-C", self.work, "clean"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def command(self):
        return ["make", "-s", "-j2", "-C", self.work]


class PythonAlloc(Workload):
    key = "d"
    name = "python_alloc"
    describe = "python3 script: dicts/lists/strings/bytes of mixed sizes, JSON round trips"

    def command(self):
        return [PYTHON, os.path.join(HERE, "workloads", "alloc_heavy.py"), str(self.sizes["py_batches"])]

    def truth(self, stdout):
        out = _last_json_line(stdout)
        return {"self_s": out["run_s"]} if out else {}


ALL = [MallocPairs, Compile, MakeProject, PythonAlloc]
