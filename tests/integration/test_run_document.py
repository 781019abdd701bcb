"""The run document against its schema (docs/run-document.schema.json): a
fresh run with --heap, phases, items, a mark and sampled stacks validates
(harness.memobs checks every document it reads), and the schema refuses
what it does not describe, so that the check can fail."""
import copy

from harness import assert_valid_run, memobs, prog, run_tests

_run = {}


def fresh():
    """One run for every test: tests/progs/phases (three phases with items, a
    leak, a mark) under --heap, stacks sampled at their default rate."""
    if not _run:
        _, _run["doc"] = memobs(["--heap", "-q"], [prog("phases"), "50"], check_rc=0)
    return _run["doc"]


def test_fresh_document_with_heap_phases_and_stacks_validates():
    doc = fresh()	# memobs() validated it
    names = [p["name"] for p in doc["phases"]]
    assert names == ["main", "big", "small", "leak"], names
    assert doc["phases"][1]["items"] == 64 and "per_item" in doc["phases"][1], doc["phases"][1]
    assert any(p["heap"].get("live_sites") for p in doc["phases"]), "no phase live sites to validate"
    assert doc["top_allocators"] and doc["rss_growth_sites"], "stacks missing"
    # in process: no uprobe (test_core's --heap=uprobes run validates heap_probes)
    assert {p["heap"]["counted_by"] for p in doc["processes"]} == {"in-process"}, doc["processes"]
    assert doc["marks"] and doc["marks"][0]["label"] == "done", doc["marks"]
    assert doc["heap_traced"] and doc["by_command"] and doc["timeline"], doc["by_command"]


def refused(doc, what):
    try:
        assert_valid_run(doc, what)
    except AssertionError as e:
        return str(e)
    raise AssertionError("the schema accepted %s" % what)


def test_the_schema_refuses_what_it_does_not_describe():
    doc = fresh()
    cases = []
    d = copy.deepcopy(doc)
    d["surprise"] = 1
    cases.append((d, "a member the schema does not describe", "surprise"))
    d = copy.deepcopy(doc)
    d["processes"][0]["heap"]["surprise"] = 1
    cases.append((d, "an undescribed member of a shared shape", "surprise"))
    d = copy.deepcopy(doc)
    del d["phases"][1]["rss"]["peak"]
    cases.append((d, "a required figure left out", "'peak' is a required property"))
    d = copy.deepcopy(doc)
    d["totals"]["rss"]["peak"] = 1.5
    cases.append((d, "a size that is not an integer", "is not of type 'integer'"))
    for d, what, needle in cases:
        assert needle in refused(d, what), what


run_tests(globals())
