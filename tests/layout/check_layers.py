"""The dependency direction of user/: every include of a user/ header must be
allowed by the table in user/README.md ("may include"). One test per folder,
printed as "ok - NAME" / "not ok - NAME" for tests/run.sh."""
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
