#!/usr/bin/python3
"""Validate run documents against docs/run-document.schema.json, and history
summary lines ("summary": true) against docs/run-summary.schema.json (Debian
package python3-jsonschema, run with /usr/bin/python3 when the python3 on
PATH lacks it).

  validate_run.py FILE...   each file is a run document (memobs -o) or a
                            history (one JSON document per line); prints
                            what is wrong, exits 1 when anything is
  validate_run.py --serve   reads one JSON document per line on stdin and
                            answers each with one line: "ok" or the errors
                            (tests/integration/harness.py keeps one running)"""
import json
import os
import sys

import jsonschema

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")
MAX_ERRORS = 5


def validator():
    """The validators: of documents, and of summary lines."""
    v = []
    for name in ("run-document.schema.json", "run-summary.schema.json"):
        with open(os.path.join(DOCS, name)) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        v.append(jsonschema.Draft202012Validator(schema))
    return v


def errors(v, doc):
    """The first MAX_ERRORS problems of doc, each "path: message"."""
    v = v[1] if isinstance(doc, dict) and doc.get("summary") is True else v[0]
    found = sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(document)", e.message[:300])
            for e in found[:MAX_ERRORS]]


def serve(v):
    for line in sys.stdin:
        try:
            problems = errors(v, json.loads(line))
        except ValueError as e:
            problems = ["not JSON: %s" % e]
        print("; ".join(problems) if problems else "ok", flush=True)


def check_files(v, paths):
    bad = 0
    for path in paths:
        with open(path) as f:
            text = f.read()
        try:
            docs = [(path, json.loads(text))]
        except ValueError:
            docs = [("%s:%d" % (path, n), json.loads(l)) for n, l in enumerate(text.splitlines(), 1) if l.strip()]
        for where, doc in docs:
            for problem in errors(v, doc):
                print("%s: %s" % (where, problem))
                bad = 1
    return bad


def main():
    v = validator()
    if sys.argv[1:] == ["--serve"]:
        serve(v)
        return 0
    if not sys.argv[1:]:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return check_files(v, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
