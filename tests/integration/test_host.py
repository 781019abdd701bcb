"""Host-wide mode (-a) for real: the cgroup and uid each process runs under,
the groupings by cgroup and by user, the --comm/--uid/--cgroup filters, -p
with several pids, the per-cgroup Prometheus series, and bad filters. Ground
truth is what the kernel says to the processes themselves: /proc/self/cgroup,
their VmHWM, the uid setpriv gave them. Workloads get unique names or cgroups
because other processes (other tests) run on the host at the same time."""
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import MEMOBS, FreshCgroup, MiB, Observer, assert_near, free_port, prog, run_tests  # noqa: E402

NOBODY = 65534


def run_touch(mib, hold_ms, prefix=None, exe=None):
    """Run alloc_touch (or a copy of it) through sh, after prefix commands;
    (pid, the shell's printed lines, VmHWM in bytes)."""
    exe = exe or prog("alloc_touch")
    script = "%s; exec %s %d %d" % (prefix or "true", exe, mib, hold_ms)
    p = subprocess.run(["sh", "-c", "echo PID $$; " + script], capture_output=True, text=True, check=True)
    pid = int(re.search(r"^PID (\d+)$", p.stdout, re.M).group(1))
    hwm = int(re.search(r"^VmHWM_kB (\d+)$", p.stdout, re.M).group(1)) * 1024
    return pid, p.stdout, hwm


def proc_of(doc, pid):
    found = [p for p in doc["processes"] if p["pid"] == pid]
    assert found, "pid %d not in the run document (%d processes)" % (pid, len(doc["processes"]))
    return found[-1]


def test_cgroup_path_in_processes_and_by_cgroup():
    with FreshCgroup() as cg:
        obs = Observer(["-a", "--duration", "3"])
        pid, out, hwm = run_touch(24, 300, "echo $$ > %s/cgroup.procs; cat /proc/$$/cgroup" % cg.dir())
        doc = obs.doc()
    kernel = re.search(r"^0::(.*)$", out, re.M).group(1)
    assert kernel == cg.path, (kernel, cg.path)
    p = proc_of(doc, pid)
    assert p["cgroup"] == kernel, (p["cgroup"], kernel)
    assert_near(p["rss"]["peak"], hwm, rel=0.05, abs_=MiB, what="peak RSS vs VmHWM")
    # memobs and what it runs are the observer, not the host's workload.
    assert not [q for q in doc["processes"] if obs.proc.pid in (q["pid"], q["ppid"])], obs.proc.pid
    assert obs.report.startswith("memobs: all processes  ("), obs.report
    group = [g for g in doc["by_cgroup"] if g["cgroup"] == cg.path]
    assert len(group) == 1, doc["by_cgroup"]
    members = [q for q in doc["processes"] if q["cgroup"] == cg.path]
    assert group[0]["processes"] == len(members) >= 1, (group, members)
    assert group[0]["rss_peak_max"] == max(q["rss"]["peak"] for q in members)
    assert group[0]["rss_peak_sum"] == sum(q["rss"]["peak"] for q in members)


def test_cgroup_move_of_a_running_process_is_seen():
    with FreshCgroup() as cg:
        obs = Observer(["-a", "--duration", "3"])
        child = subprocess.Popen([prog("alloc_touch"), "8", "1500"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        with open(cg.dir() + "/cgroup.procs", "w") as f:
            f.write(str(child.pid))
        with open("/proc/%d/cgroup" % child.pid) as f:
            kernel = re.search(r"^0::(.*)$", f.read(), re.M).group(1)
        child.communicate()
        doc = obs.doc()
    assert kernel == cg.path
    assert proc_of(doc, child.pid)["cgroup"] == cg.path


def test_other_uid_in_processes_and_by_user():
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv not found (util-linux)"
    name = pwd.getpwuid(NOBODY).pw_name
    obs = Observer(["-a", "--duration", "3"])
    pid, out, hwm = run_touch(16, 300, "exec %s --reuid=%d --regid=%d --clear-groups sh -c 'grep ^Uid: /proc/$$/status; "
                              "exec %s 16 300'" % (setpriv, NOBODY, NOBODY, prog("alloc_touch")))
    doc = obs.doc()
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", out, re.M)
    assert int(uids.group(2)) == NOBODY, out
    p = proc_of(doc, pid)
    assert p["uid"] == NOBODY and p["user"] == name, (p["uid"], p["user"])
    group = [g for g in doc["by_user"] if g["uid"] == NOBODY]
    assert len(group) == 1 and group[0]["user"] == name, doc["by_user"]
    members = [q for q in doc["processes"] if q["uid"] == NOBODY]
    assert group[0]["processes"] == len(members) >= 1


def test_uid_filter_observes_only_that_user():
    obs = Observer(["-a", "--uid", str(NOBODY), "--duration", "3"])
    theirs = run_touch(12, 300, "exec setpriv --reuid=%d --regid=%d --clear-groups sh -c 'exec %s 12 300'"
                       % (NOBODY, NOBODY, prog("alloc_touch")))
    mine = run_touch(12, 300)
    doc = obs.doc()
    assert doc["processes"], "nothing observed"
    assert {p["uid"] for p in doc["processes"]} == {NOBODY}, {p["uid"] for p in doc["processes"]}
    assert_near(proc_of(doc, theirs[0])["rss"]["peak"], theirs[2], rel=0.05, abs_=MiB, what="peak vs VmHWM")
    assert not [p for p in doc["processes"] if p["pid"] == mine[0]]


def unique_copy(tmp, name):
    path = os.path.join(tmp, name)
    shutil.copy(prog("alloc_touch"), path)
    return path


def test_comm_filter_observes_only_that_name():
    tmp = tempfile.mkdtemp(prefix="memobs-comm-")
    name = "mo_c%d" % (os.getpid() % 100000)
    exe = unique_copy(tmp, name)
    obs = Observer(["-a", "--comm", name, "--duration", "3"])
    pid, _, hwm = run_touch(32, 300, exe=exe)
    other = run_touch(8, 100)
    doc = obs.doc()
    shutil.rmtree(tmp)
    comms = {p["comm"] for p in doc["processes"]}
    assert comms == {name}, comms
    assert not [p for p in doc["processes"] if p["pid"] == other[0]]
    assert_near(proc_of(doc, pid)["rss"]["peak"], hwm, rel=0.05, abs_=MiB, what="peak RSS vs VmHWM")
    assert doc["filters"] == "--comm " + name
    assert obs.report.startswith("memobs: processes matching --comm %s  (" % name), obs.report


def test_comm_filter_lets_go_of_a_child_that_execs_another_name():
    """A shell copy named X forks (the child is X too) and the child execs
    alloc_touch: it stops being observed there, flagged filtered_out."""
    tmp = tempfile.mkdtemp(prefix="memobs-comm-")
    name = "mo_s%d" % (os.getpid() % 100000)
    sh = os.path.join(tmp, name)
    shutil.copy(os.path.realpath(shutil.which("sh")), sh)
    obs = Observer(["-a", "--comm", name, "--duration", "3"])
    out = subprocess.run([sh, "-c", "echo SH $$; %s 8 100; echo done" % prog("alloc_touch")],
                         capture_output=True, text=True, check=True).stdout
    doc = obs.doc()
    shutil.rmtree(tmp)
    shell = int(re.search(r"^SH (\d+)$", out, re.M).group(1))
    assert {p["comm"] for p in doc["processes"]} == {name}, {p["comm"] for p in doc["processes"]}
    children = [p for p in doc["processes"] if p["ppid"] == shell]
    assert children and all(c.get("filtered_out") and c["exit_status"] is None for c in children), children
    assert not proc_of(doc, shell).get("filtered_out")


def test_cgroup_filter_takes_the_cgroup_and_below():
    with FreshCgroup(sub="inner") as cg:
        obs = Observer(["-a", "--cgroup", cg.path, "--duration", "3"])
        inner = run_touch(16, 300, "echo $$ > %s/cgroup.procs" % cg.dir(1))
        top = run_touch(12, 300, "echo $$ > %s/cgroup.procs" % cg.dir(0))
        outside = run_touch(8, 100)
        doc = obs.doc()
    assert doc["processes"], "nothing observed"
    cgroups = {p["cgroup"] for p in doc["processes"]}
    assert cgroups <= {cg.path, cg.path + "/inner"}, cgroups
    assert proc_of(doc, inner[0])["cgroup"] == cg.path + "/inner"
    assert proc_of(doc, top[0])["cgroup"] == cg.path
    assert_near(proc_of(doc, inner[0])["rss"]["peak"], inner[2], rel=0.05, abs_=MiB, what="peak vs VmHWM")
    assert not [p for p in doc["processes"] if p["pid"] == outside[0]]


def test_several_pids_each_with_descendants():
    """-p A,B: both followed, and what each starts; the run ends when both are gone."""
    tmp = tempfile.mkdtemp(prefix="memobs-pids-")
    go = os.path.join(tmp, "go")
    wait = "while [ ! -e %s ]; do sleep 0.05; done" % go
    a = subprocess.Popen(["sh", "-c", "%s; %s 20 200; exec %s 10 200" % (wait, prog("alloc_touch"), prog("alloc_touch"))],
                         stdout=subprocess.PIPE, text=True)
    b = subprocess.Popen(["sh", "-c", "%s; exec %s 14 200" % (wait, prog("alloc_touch"))], stdout=subprocess.PIPE, text=True)
    obs = Observer(["-p", "%d,%d" % (a.pid, b.pid)])
    open(go, "w").close()
    outs = [a.communicate()[0], b.communicate()[0]]
    doc = obs.doc()
    shutil.rmtree(tmp)
    hwm = [[int(v) * 1024 for v in re.findall(r"^VmHWM_kB (\d+)$", o, re.M)] for o in outs]
    assert doc["target_pids"] == [a.pid, b.pid], doc["target_pids"]
    assert obs.report.startswith("memobs: pids %d, %d  (" % (a.pid, b.pid)), obs.report
    child = [p for p in doc["processes"] if p["ppid"] == a.pid and p["comm"] == "alloc_touch"]
    assert len(child) == 1, [(p["pid"], p["ppid"], p["comm"]) for p in doc["processes"]]
    assert_near(child[0]["rss"]["peak"], hwm[0][0], rel=0.05, abs_=MiB, what="A's child")
    assert_near(proc_of(doc, a.pid)["rss"]["peak"], hwm[0][1], rel=0.05, abs_=MiB, what="A after exec")
    assert_near(proc_of(doc, b.pid)["rss"]["peak"], hwm[1][0], rel=0.05, abs_=MiB, what="B after exec")
    assert {p["pid"] for p in doc["processes"]} == {a.pid, b.pid, child[0]["pid"]}


def test_prometheus_cgroup_series():
    port = free_port()
    with FreshCgroup() as cg:
        obs = Observer(["-a", "--cgroup", cg.path, "--duration", "6", "--serve", str(port)])
        child = subprocess.Popen(["sh", "-c", "echo $$ > %s/cgroup.procs; exec %s 24 4000" % (cg.dir(), prog("alloc_touch"))],
                                 stdout=subprocess.PIPE, text=True)
        series = re.compile(r'^memobs_cgroup_rss_bytes\{cgroup="%s",kind="anon"\} (\d+)$' % re.escape(cg.path), re.M)
        procs = re.compile(r'^memobs_cgroup_processes\{cgroup="%s"\} (\d+)$' % re.escape(cg.path), re.M)
        seen = None
        for _ in range(60):
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30) as r:
                text = r.read().decode()
            m = series.search(text)
            if m and int(m.group(1)) >= 24 * MiB:
                seen = (int(m.group(1)), int(procs.search(text).group(1)))
                break
            time.sleep(0.2)
        child.communicate()
        obs.doc()
    assert seen, "no memobs_cgroup_rss_bytes series for %s reached 24 MiB of anon" % cg.path
    assert seen[1] == 1, seen


def test_bad_filters_are_one_line_errors():
    cases = [
        (["-a", "--uid", "no-such-user-memobs"], 125, "no such user"),
        (["-a", "--cgroup", "/no-such-cgroup-memobs"], 125, "no cgroup /no-such-cgroup-memobs"),
        (["-a", "--cgroup", "/a/../b"], 2, "'..'"),
        (["-a", "--comm", "a-name-longer-than-15"], 2, "longer than 15 bytes"),
        (["-a", "--comm", "a,,b"], 2, "empty name"),
        (["-p", "1", "--comm", "x"], 2, "use them with -a"),
        (["-p", "1,x"], 2, "not a process id"),
        (["-p", "0"], 2, "not a process id"),
    ]
    for args, rc, words in cases:
        p = subprocess.run([MEMOBS] + args, capture_output=True, text=True, timeout=60)
        assert p.returncode == rc, (args, p.returncode, p.stderr)
        lines = p.stderr.strip().splitlines()
        if rc == 2:	# a usage error: its line, then the pointer to the help
            assert lines[1:] == ["Try 'memobs --help' for more information."], (args, p.stderr)
            lines = lines[:1]
        assert len(lines) == 1 and lines[0].startswith("memobs: ") and words in lines[0], (args, p.stderr)


if __name__ == "__main__":
    run_tests(globals())
