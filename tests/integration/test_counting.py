"""Counting at the edges (issue 21): what BPF keeps for --heap is in proportion
to what it tracks; concurrent frees, stack hash collisions and compare-and-swap
give-ups are counted, never merged or lost; host-mode totals stay the sum over
the live processes. Needs root."""
import re

from harness import memobs, prog, run_tests

# The kernel's struct bucket (a list head and a lock) per slot of a hash map.
BUCKET_BYTES = 16


def test_heap_block_table_grows_with_the_blocks_it_tracks():
    # hold_blocks prints memobs's BPF maps as the kernel accounts them
    # (fdinfo memlock) while it holds its blocks. The block table (key
    # mo_alloc_key, value mo_alloc) must cost its buckets plus about one
    # element per tracked block, not max_entries elements from the start.
    held = 20000
    proc, doc = memobs(["-q", "--heap"], [prog("hold_blocks"), str(held)], check_rc=0)
    maps = [tuple(map(int, m)) for m in re.findall(
        r"map key_size 16 value_size 32 max_entries (\d+) memlock (\d+)", proc.stdout)]
    assert len(maps) == 1, proc.stdout
    max_entries, memlock = maps[0]
    per_block = (memlock - BUCKET_BYTES * max_entries) / held
    print("# block table: %d slots, %.1f MiB locked holding %d blocks: %.0f bytes a block beyond the buckets"
          % (max_entries, memlock / 2**20, held, per_block))
    assert 40 <= per_block <= 256, "%.0f bytes a block: not in proportion to the blocks" % per_block
    holder = [p for p in doc["processes"] if p["comm"] == "hold_blocks"]
    assert holder and holder[0]["heap"]["alloc_count"] >= held, holder


if __name__ == "__main__":
    run_tests(globals())
