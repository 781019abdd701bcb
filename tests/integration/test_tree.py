"""What a process tree really holds: each program's own peak from its exec
(not the fork copy of its parent it held before), and the tree's physical
memory beside the ps-style RSS sum, checked against the kernel's own figures
(VmHWM of the exec'd program read while it runs; the memory cgroup's charge
read by the workload itself). Needs root."""
import os
import re
import subprocess

from harness import MiB, assert_near, memobs, procs_by_comm, run_tests

PYTHON = "/usr/bin/python3"

# A Python parent holds 300 MiB and forks a child that execs sleep; the
# parent reads the child's VmHWM while sleep runs (the kernel's hiwater_rss
# of the new mm), and at the end its own memory cgroup's peak charge.
FORK_EXEC = r"""
import os, sys, time
buf = bytearray(300 << 20)
for i in range(0, len(buf), 4096):
    buf[i] = 1
pid = os.fork()
if pid == 0:
    os.execvp("sleep", ["sleep", "0.4"])
for _ in range(500):
    try:
        if os.readlink("/proc/%d/exe" % pid).endswith("/sleep"):
            break
    except OSError:
        pass
    time.sleep(0.01)
time.sleep(0.15)
with open("/proc/%d/status" % pid) as f:
    hwm = [l.split()[1] for l in f if l.startswith("VmHWM:")][0]
print("child", pid, "VmHWM_kB", hwm)
os.waitpid(pid, 0)
"""


def fork_exec_run():
    proc, doc = memobs(["-q"], [PYTHON, "-c", FORK_EXEC], check_rc=0)
    m = re.search(r"child (\d+) VmHWM_kB (\d+)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    return proc, doc, int(m.group(1)), int(m.group(2)) * 1024


def test_fork_then_exec():
    proc, doc, child_pid, hwm = fork_exec_run()
    by_pid = {p["pid"]: p for p in doc["processes"]}
    child = by_pid[child_pid]
    parent = procs_by_comm(doc, "python3")[0]
    assert child["comm"] == "sleep", child
    # the program's own peak, not the 300 MiB copy of its parent it held before exec
    assert_near(child["rss"]["peak"], hwm, rel=0.05, what="sleep's peak RSS vs its VmHWM")
    assert child["rss"]["pre_exec_peak"] >= 300 * MiB, child["rss"]
    assert parent["rss"]["pre_exec_peak"] == 0, parent["rss"]   # memobs's copy is not counted
    main = doc["phases"][0]
    assert all(t["rss_peak"] < 300 * MiB for t in main["top_processes"] if t["pid"] == child_pid), main
    # the ps-style sum counts the shared copy in both processes between fork and exec
    assert doc["totals"]["rss"]["peak"] >= 2 * 300 * MiB, doc["totals"]


run_tests(globals())
