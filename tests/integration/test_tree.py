"""What a process tree really holds: each program's own peak from its exec
(not the fork copy of its parent it held before), and the tree's physical
memory beside the ps-style RSS sum, checked against the kernel's own figures
(VmHWM of the exec'd program read while it runs; the memory cgroup's charge
read by the workload itself, or by a cgroup the test makes around it).
Cgroups are named by pid, so that tests of others running at the same time
are not touched. Needs root, and a memory cgroup hierarchy (v1 here)."""
import os
import re
import signal
import subprocess
import tempfile
import time

from harness import MEMOBS, MiB, assert_near, in_tmp, memobs, prog, procs_by_comm, run_tests

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
# the peak of the memory cgroup this process runs in (memobs's for the command)
lines = open("/proc/self/cgroup").read().splitlines()
v1 = [l.split(":", 2)[2] for l in lines if "memory" in l.split(":")[1].split(",")]
peak = "/sys/fs/cgroup/memory%s/memory.max_usage_in_bytes" % v1[0] if v1 else \
    "/sys/fs/cgroup%s/memory.peak" % [l for l in lines if l.startswith("0::")][0][3:]
print("cgroup_peak", open(peak).read().strip())
"""


def own_memory_cgroup_path():
    """This process's memory cgroup, as /proc/self/cgroup names it."""
    with open("/proc/self/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return path
    return [l for l in lines if l.startswith("0::")][0][3:]


def mount_of(v1):
    return "/sys/fs/cgroup/memory" if v1 else "/sys/fs/cgroup"


def own_memory_cgroup():
    """This process's memory cgroup directory and whether it is v1 (a v1
    memory hierarchy is mounted)."""
    v1 = os.path.exists("/sys/fs/cgroup/memory/memory.usage_in_bytes")
    return mount_of(v1) + own_memory_cgroup_path(), v1


def test_fork_then_exec():
    cgdir, v1 = own_memory_cgroup()
    proc, doc = memobs([], [PYTHON, "-c", FORK_EXEC], check_rc=0)
    m = re.search(r"child (\d+) VmHWM_kB (\d+)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    child_pid, hwm = int(m.group(1)), int(m.group(2)) * 1024
    cgroup_peak = int(re.search(r"cgroup_peak (\d+)", proc.stdout).group(1))
    by_pid = {p["pid"]: p for p in doc["processes"]}
    child = by_pid[child_pid]
    parent = procs_by_comm(doc, "python3")[0]
    assert child["comm"] == "sleep", child
    # the program's own peak, not the 300 MiB copy of its parent it held before exec
    assert_near(child["rss"]["peak"], hwm, rel=0.05, what="sleep's peak RSS vs its VmHWM")
    assert child["rss"]["pre_exec_peak"] >= 300 * MiB, child["rss"]
    assert parent["rss"]["pre_exec_peak"] == 0, parent["rss"]   # memobs's copy is not counted
    # its command line passes the 512 bytes BPF copies at exec: the rest comes from /proc
    # (control characters, the newlines, are replaced in the document)
    assert len(FORK_EXEC) > 512 and parent["argv"] == [PYTHON, "-c", FORK_EXEC.replace("\n", "\ufffd")], parent["argv"]
    assert "argv_truncated" not in parent, parent
    main = doc["phases"][0]
    assert all(t["rss_peak"] < 300 * MiB for t in main["top_processes"] if t["pid"] == child_pid), main
    # the ps-style sum counts the shared copy in both processes between fork and exec;
    # the physical figure counts it once, as the kernel charges it
    phys = doc["totals"]["physical"]
    assert doc["totals"]["rss"]["peak"] >= 2 * 300 * MiB, doc["totals"]
    assert phys["source"] == ("cgroup-v1" if v1 else "cgroup-v2"), phys
    assert_near(phys["peak"], cgroup_peak, rel=0.10, what="physical peak vs the cgroup's own peak")
    assert 300 * MiB <= phys["peak"] < 400 * MiB, phys
    assert "session peak physical" in proc.stderr and "cgroup" in proc.stderr, proc.stderr
    print("# fork then exec: sleep %d (VmHWM %d, pre-exec %d); RSS sum %d, physical %d (cgroup peak %d)" % (
        child["rss"]["peak"], hwm, child["rss"]["pre_exec_peak"], doc["totals"]["rss"]["peak"], phys["peak"],
        cgroup_peak))
    assert phys["cgroup"].startswith(own_memory_cgroup_path() + "/memobs-"), phys
    assert not os.path.exists(mount_of(v1) + phys["cgroup"]), "the command's cgroup is left"


def tree_mem(tmp, wrap=None, args=()):
    """4 children touch 16, 32, 48 and 64 MiB and write 8 MiB of files each,
    all held at once; returns (proc, doc, held anon, held file, cgroup peak)."""
    os.chmod(tmp, 0o777)    # the command writes there, as the invoking user
    cmd = [prog("tree_mem"), "4", "16", "8", tmp, "600"]
    proc, doc = memobs(["-q"] + list(args), (wrap or []) + cmd, check_rc=0)
    held = re.search(r"held anon (\d+) file (\d+)", proc.stdout)
    peak = re.search(r"cgroup_peak (\d+)", proc.stdout)
    assert held and peak, proc.stdout + proc.stderr
    return proc, doc, int(held.group(1)), int(held.group(2)), int(peak.group(1))


@in_tmp
def test_physical_cgroup_of_a_process_tree(tmp):
    cgdir, v1 = own_memory_cgroup()
    _, doc, held_anon, held_file, cgroup_peak = tree_mem(tmp)
    phys = doc["totals"]["physical"]
    anon = (16 + 32 + 48 + 64) * MiB
    assert_near(phys["peak"], cgroup_peak, rel=0.10, what="physical peak vs the cgroup's own peak")
    assert_near(phys["at_peak"]["anon"], held_anon, rel=0.10, what="anon at the peak vs the cgroup's while held")
    assert phys["at_peak"]["anon"] >= anon, phys
    # the page cache the children wrote and read back (4 x 8 MiB) is the tree's too
    assert phys["max"]["file"] >= 0.9 * held_file >= 0.9 * 32 * MiB, (phys, held_file)
    assert phys["at_peak"]["kernel"] > 0, phys
    assert phys["peak"] >= anon + 32 * MiB, phys
    tl = [s["physical"] for s in doc["timeline"] if s.get("physical")]
    assert max(s["total"] for s in tl) == phys["at_peak"]["total"] and len(tl) == phys["samples"], phys
    assert not os.path.exists(mount_of(v1) + phys["cgroup"]), "the command's cgroup is left"


@in_tmp
def test_physical_pss_when_no_cgroup(tmp):
    # The test's own cgroup around the command (which moves itself in, out of
    # memobs's reach) is the independent reading; memobs samples PSS.
    cgdir, v1 = own_memory_cgroup()
    mine = os.path.join(cgdir, "memobs-test-%d" % os.getpid())
    os.mkdir(mine)
    try:
        wrap = ["sh", "-c", 'echo $$ > %s/cgroup.procs && exec "$@"' % mine, "sh"]
        _, doc, held_anon, held_file, cgroup_peak = tree_mem(tmp, wrap, ["--physical", "pss"])
    finally:
        os.rmdir(mine)
    phys = doc["totals"]["physical"]
    assert phys["source"] == "pss" and phys["cgroup"] is None, phys
    assert phys["at_peak"]["kernel"] is None and phys["samples"] >= 2, phys
    # PSS sees the anonymous memory the kernel charged, not the unmapped page cache
    assert_near(phys["at_peak"]["anon"], held_anon, rel=0.10, what="PSS anon vs the cgroup's anon while held")
    assert phys["peak"] < cgroup_peak, (phys, cgroup_peak)
    print("# pss: peak %d (anon %d); the test's cgroup: anon %d while held, peak %d" % (
        phys["peak"], phys["at_peak"]["anon"], held_anon, cgroup_peak))


def wait_for(cond, seconds):
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def exe_of(pid):
    try:
        return os.readlink("/proc/%s/exe" % pid)
    except OSError:
        return None


def killed_mid_run(tmp, also_its_reaper):
    """memobs -- (a command that runs 0.5 s) killed with SIGKILL while the
    command runs in its cgroup (and memobs's child that removes the cgroup
    when memobs cannot, if also_its_reaper). Returns the cgroup's directory
    once the command has finished."""
    cgdir, _ = own_memory_cgroup()
    done = os.path.join(tmp, "done.%s" % also_its_reaper)
    observer = subprocess.Popen([MEMOBS, "-q", "--", "sh", "-c", "sleep 0.5; touch %s" % done],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found = []

    def command_in_cgroup():
        # Past its exec: on cgroup v2 the parked child is born in the cgroup,
        # still memobs's program until memobs lets it go.
        found[:] = [d for d in os.listdir(cgdir) if d.startswith("memobs-%d-" % observer.pid)]
        if not found:
            return False
        with open(os.path.join(cgdir, found[0], "cgroup.procs")) as f:
            return any(exe_of(p) not in (None, os.path.realpath(MEMOBS)) for p in f.read().split())
    assert wait_for(command_in_cgroup, 60), "memobs made no cgroup for the command"
    time.sleep(0.1)   # past the exec gate: nothing of the command is stopped
    def reaper(c):
        # memobs's other children: the watchdog of the exec gate, its look at git
        try:
            return (os.readlink("/proc/%s/exe" % c) == os.path.realpath(MEMOBS)
                    and open("/proc/%s/comm" % c).read().strip() not in ("memobs-watchdog", "memobs-git"))
        except OSError:
            return False
    with open("/proc/%d/task/%d/children" % (observer.pid, observer.pid)) as f:
        reapers = [int(c) for c in f.read().split() if reaper(c)]
    assert len(reapers) == 1, reapers
    observer.send_signal(signal.SIGKILL)
    if also_its_reaper:
        os.kill(reapers[0], signal.SIGKILL)
    observer.wait()
    # the command runs on to its end, unharmed, in the cgroup memobs made
    assert wait_for(lambda: os.path.exists(done), 10), "the command did not finish after memobs was killed"
    return os.path.join(cgdir, found[0])


def test_cgroup_of_a_memobs_killed_with_sigkill_is_removed():
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        # memobs's child removes it once the command has left it
        left = killed_mid_run(tmp, False)
        assert wait_for(lambda: not os.path.exists(left), 10), "the cgroup of a killed memobs is still there"
        # that child killed too: the next memobs run in the same cgroup removes it
        left = killed_mid_run(tmp, True)
        assert os.path.isdir(left)
        memobs(["-q"], ["true"], check_rc=0)
        assert not os.path.exists(left), "the cgroup left by a killed memobs is still there"


def test_pid_mode_takes_the_targets_cwd_and_git():
    # A target running as another user in its own git tree, with a command
    # line longer than memobs keeps; memobs runs from this tree (another commit).
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "repo")
        os.chmod(tmp, 0o755)
        git = ["git", "-c", "user.email=t@t", "-c", "user.name=t", "-C", repo]
        subprocess.run(["git", "init", "-q", repo], check=True)
        subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "x"], check=True)
        head = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run(["chown", "-R", "nobody", repo], check=True)
        target = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                   "sh", "-c", "sleep 3", "x" * 40000], cwd=repo)
        try:
            time.sleep(0.3)
            _, doc = memobs(["-q", "-p", str(target.pid)], check_rc=0)
        finally:
            target.wait()
    assert doc["cwd"] == repo, doc["cwd"]
    assert doc["git"] and doc["git"]["commit"] == head, (doc["git"], head)
    sh = [p for p in doc["processes"] if p["pid"] == target.pid][0]
    # kept up to 32 KiB (the last argument cut, without its NUL), flagged
    assert sh["argv_truncated"] is True and sh["argv"][:3] == ["sh", "-c", "sleep 3"], sh["argv"][:3]
    assert sum(len(a) + 1 for a in sh["argv"]) - 1 == 32 * 1024, [len(a) for a in sh["argv"]]
    assert doc["totals"]["physical"]["source"] == "pss" and doc["totals"]["physical"]["peak"] > 0


run_tests(globals())
