#!/usr/bin/env python3
"""The field tables of docs/run-document.md, generated from the schemas: one
row per field (path, type, unit, since, meaning), between the markers
<!-- fields:begin --> and <!-- fields:end --> for docs/run-document.schema.json,
<!-- summary-fields:begin --> and <!-- summary-fields:end --> for
docs/run-summary.schema.json (history lines).

  scripts/schema-doc.py           rewrite the tables in docs/run-document.md
  scripts/schema-doc.py --check   exit 1 when they differ from the schema
                                  (tests/layout/check_schema.py runs this)"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "run-document.md")
TABLES = (("run-document.schema.json", "fields"), ("run-summary.schema.json", "summary-fields"))


def resolve(schema, node):
    """node with its $ref merged in: properties and required of both."""
    if "$ref" not in node:
        return node
    name = node["$ref"].rsplit("/", 1)[1]
    base = resolve(schema, schema["$defs"][name])
    merged = dict(base)
    merged.update({k: v for k, v in node.items() if k != "$ref"})
    merged["properties"] = dict(base.get("properties", {}), **node.get("properties", {}))
    merged["required"] = list(base.get("required", [])) + list(node.get("required", []))
    return merged


def type_name(node):
    t = node.get("type", "")
    if "oneOf" in node:
        t = [type_name(alt) for alt in node["oneOf"]]
    if isinstance(t, list):
        return " or ".join(t)
    if t == "array" and node.get("items", {}).get("type") in ("string", "integer"):
        return "array of %ss" % node["items"]["type"]
    return t


def fields(schema, node, path, required, rows):
    """Rows (path, type, unit, since, meaning) of node and what it holds."""
    node = resolve(schema, node)
    obj = node
    if "oneOf" in node:
        obj = next((resolve(schema, a) for a in node["oneOf"] if "properties" in resolve(schema, a)), node)
    if path:
        meaning = node.get("description", "")
        if not required:
            meaning += " (optional)"
        rows.append((path, type_name(node), node.get("x-unit", ""), node.get("x-since", ""), meaning))
    items = resolve(schema, obj.get("items", {})) if obj.get("type") == "array" else None
    if items and "properties" in items:
        obj, path = items, path + "[]"
    for name, sub in obj.get("properties", {}).items():
        fields(schema, sub, (path + "." if path else "") + name, name in obj.get("required", []), rows)
    return rows


def tables(schema):
    rows = fields(schema, schema, "", True, [])
    out = ["| field | type | unit | since | meaning |", "|---|---|---|---|---|"]
    for path, typ, unit, since, meaning in rows:
        out.append("| `%s` | %s | %s | %s | %s |" % (path, typ, unit, since, meaning.replace("|", "\\|")))
    return "\n".join(out) + "\n"


def main():
    with open(DOC) as f:
        doc = f.read()
    new = doc
    for name, marker in TABLES:
        with open(os.path.join(ROOT, "docs", name)) as f:
            schema = json.load(f)
        begin, end = "<!-- %s:begin -->" % marker, "<!-- %s:end -->" % marker
        head, rest = new.split(begin + "\n", 1)
        _, tail = rest.split(end, 1)
        new = head + begin + "\n" + tables(schema) + end + tail
    if "--check" in sys.argv[1:]:
        if new != doc:
            print("docs/run-document.md is not up to date with the schema: run scripts/schema-doc.py")
            return 1
        return 0
    with open(DOC, "w") as f:
        f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
