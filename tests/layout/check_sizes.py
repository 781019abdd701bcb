"""Sizes in user/: no file over 600 lines, no function over 100 (from its
opening brace to its closing one, kernel style: both alone at column 0).
Printed as "ok - NAME" / "not ok - NAME" for tests/run.sh."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER = os.path.join(ROOT, "user")
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 100


def sources():
    for dirpath, _, files in os.walk(USER):
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                yield os.path.join(dirpath, name)


def long_functions(path, lines):
    """(name, length) of each function longer than MAX_FUNCTION_LINES."""
    found, start = [], None
    for i, line in enumerate(lines):
        if line == "{" and i:
            start = i
        elif line == "}" and start is not None:
            head = next((lines[j] for j in range(start - 1, -1, -1) if "(" in lines[j]), "")
            m = re.search(r"(\w+)\s*\(", head)
            length = i - start + 1
            if length > MAX_FUNCTION_LINES:
                found.append((m.group(1) if m else "?", length))
            start = None
    return found


def main():
    big_files, big_functions = [], []
    for path in sources():
        with open(path, errors="replace") as f:
            lines = f.read().split("\n")
        rel = os.path.relpath(path, ROOT)
        if len(lines) - 1 > MAX_FILE_LINES:
            big_files.append("%s: %d lines" % (rel, len(lines) - 1))
        if path.endswith(".c"):
            big_functions += ["%s: %s, %d lines" % (rel, name, n) for name, n in long_functions(path, lines)]
    print("%s - no file of user/ over %d lines" % ("not ok" if big_files else "ok", MAX_FILE_LINES))
    for b in big_files:
        print("#   " + b)
    print("%s - no function of user/ over %d lines" % ("not ok" if big_functions else "ok", MAX_FUNCTION_LINES))
    for b in big_functions:
        print("#   " + b)
    return 1 if big_files or big_functions else 0


if __name__ == "__main__":
    sys.exit(main())
