"""docs/run-document.schema.json and its prose: every field says what it
means (description), since when (x-since) and, for numbers, in which unit
(x-unit); docs/run-document.md's field table is the one generated from it.
Printed as "ok - NAME" / "not ok - NAME" for tests/run.sh."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = [os.path.join(ROOT, "docs", n) for n in ("run-document.schema.json", "run-summary.schema.json")]


def undescribed(node, path, out):
    """Paths of the fields under node that lack a description, x-since or a unit."""
    for name, sub in node.get("properties", {}).items():
        where = path + "." + name if path else name
        missing = [k for k in ("description", "x-since") if k not in sub]
        types = sub.get("type") if isinstance(sub.get("type"), list) else [sub.get("type")]
        measured = "number" in types or sub.get("$ref", "").endswith(("/bytes", "/seconds", "/count"))
        if measured and "x-unit" not in sub:	# integers without a unit are ids: pid, uid, depth
            missing.append("x-unit")
        if missing:
            out.append("%s: no %s" % (where, ", ".join(missing)))
        for alt in sub.get("oneOf", []):
            undescribed(alt, where, out)
        undescribed(sub, where, out)
        if isinstance(sub.get("items"), dict):
            undescribed(sub["items"], where + "[]", out)
    return out


def main():
    failed = 0
    bad = []
    for path in SCHEMAS:
        with open(path) as f:
            schema = json.load(f)
        bad += ["%s: %s" % (os.path.basename(path), b) for b in undescribed(schema, "", [])]
        for name, shape in schema["$defs"].items():
            bad += undescribed(shape, "$defs." + name, [])
    print("%s - every field of the run document says what it means, since when, in which unit"
          % ("not ok" if bad else "ok"))
    for b in bad:
        print("#   " + b)
    failed += bool(bad)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "schema-doc.py"), "--check"],
                       capture_output=True, text=True)
    print("%s - docs/run-document.md's field table is generated from the schema" % ("not ok" if p.returncode else "ok"))
    for line in (p.stdout + p.stderr).splitlines():
        print("#   " + line)
    failed += bool(p.returncode)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
