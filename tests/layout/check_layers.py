"""The dependency direction of user/: every include of a user/ header must be
allowed by the table in user/README.md ("may include"); and the run model,
the reports, the history and the views of a running observation (serve)
never reach the kernel ABI (memobs_abi.h), not even through another header. One test per folder, printed as "ok - NAME" /
"not ok - NAME" for tests/run.sh."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER = os.path.join(ROOT, "user")


def allowed_table():
    table = {}
    with open(os.path.join(USER, "README.md")) as f:
        for line in f:
            m = re.match(r"\| `(\w+)` \|[^|]*\| ([^|]*) \|$", line.strip())
            if m:
                may = m.group(2).strip()
                table[m.group(1)] = None if may == "every folder" else set(may.split()) - {"—"}
    return table


# Folders that depend on the model's own types, never on the BPF side's layout.
WITHOUT_ABI = ("model", "report", "history", "serve")
ABI = "memobs_abi.h"


def quoted_includes(path):
    with open(path, errors="replace") as f:
        return re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.M)


def abi_chain(path, seen):
    """The chain of includes from path to memobs_abi.h, or None."""
    for inc in quoted_includes(path):
        if os.path.basename(inc) == ABI:
            return [inc]
        target = os.path.join(USER, inc)
        if os.path.isfile(target) and target not in seen:
            seen.add(target)
            chain = abi_chain(target, seen)
            if chain:
                return [inc] + chain
    return None


def check_no_abi(folder):
    bad = []
    for dirpath, _, files in os.walk(os.path.join(USER, folder)):
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                path = os.path.join(dirpath, name)
                chain = abi_chain(path, set())
                if chain:
                    bad.append("%s -> %s" % (os.path.relpath(path, ROOT), " -> ".join(chain)))
    print("%s - user/%s never reaches the kernel ABI (%s)" % ("not ok" if bad else "ok", folder, ABI))
    for b in bad:
        print("#   " + b)
    return bool(bad)


def main():
    table = allowed_table()
    folders = sorted(d for d in os.listdir(USER) if os.path.isdir(os.path.join(USER, d)))
    failed = 0
    missing = [d for d in folders if d not in table]
    print("%s - every folder of user/ is in the table" % ("not ok" if missing else "ok"))
    for d in missing:
        print("#   user/%s is not in user/README.md" % d)
    failed += bool(missing)
    for folder in folders:
        bad = []
        for dirpath, _, files in os.walk(os.path.join(USER, folder)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = re.match(r'\s*#\s*include\s+"(\w+)/[^"]+"', line)
                        if not m or m.group(1) == folder or m.group(1) not in table:
                            continue
                        if table.get(folder) is not None and m.group(1) not in table[folder]:
                            bad.append("%s:%d includes %s/" % (os.path.relpath(path, ROOT), n, m.group(1)))
        print("%s - user/%s includes only what it may" % ("not ok" if bad else "ok", folder))
        for b in bad:
            print("#   " + b)
        failed += bool(bad)
    for folder in WITHOUT_ABI:
        failed += check_no_abi(folder)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
