# `make bench` (issue 8): overhead and accuracy of memobs against bpftrace, heaptrack and
# massif on four workloads; writes bench/results.json and prints Markdown tables. Not part
# of `make test`. Needs root and the Debian packages bpftrace heaptrack valgrind time
# (`make bench-deps`). BENCH_QUICK=1 for a smoke run of a few minutes; see BENCHMARKS.md.

BENCH_PY  ?= /usr/bin/python3
BENCH_MEMOBS ?= $(BUILD)/memobs
BENCH_DIR := $(BUILD)/bench

$(BENCH_DIR)/malloc_pairs: bench/workloads/malloc_pairs.c | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror $< -o $@

$(BENCH_DIR)/exec_fail: bench/workloads/exec_fail.c | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror $< -o $@

$(BENCH_DIR)/prog_insns: bench/workloads/prog_insns.c | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror $< -o $@ $(shell pkg-config --libs libbpf)

$(BENCH_DIR):
	$(Q)mkdir -p $@

bench-deps:
	$(Q)missing=; for p in bpftrace heaptrack valgrind time bpftool strace; do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] || { echo "bench: installing$$missing" >&2; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; }

bench: bench-deps all $(BENCH_DIR)/malloc_pairs $(BENCH_DIR)/exec_fail $(BENCH_DIR)/prog_insns
	$(Q)$(BENCH_PY) bench/run.py --memobs $(BENCH_MEMOBS) --build $(BENCH_DIR)
	$(Q)$(BENCH_PY) bench/startstop.py --memobs $(BENCH_MEMOBS) --build $(BENCH_DIR)
	$(Q)LUA_SRC=$(LUA_SRC) $(BENCH_PY) bench/default_cost.py --memobs $(BENCH_MEMOBS) --build $(BENCH_DIR)
	$(Q)$(MAKE) --no-print-directory bench-heap

# What heap tracing costs (issue 14): the churn program, make -j2 of Lua (with LUA_SRC), a bystander
# outside the session and start/stop, in-process --heap beside --heap=uprobes, bpftrace and
# heaptrack, alternating; bench/heap_results.json.
bench-heap: bench-deps all $(BENCH_DIR)/malloc_pairs
	$(Q)LUA_SRC=$(LUA_SRC) $(BENCH_PY) bench/heap.py --memobs $(BENCH_MEMOBS) --build $(BENCH_DIR)

# What the default mode costs a build (issue 15): make -j2 of Lua (with LUA_SRC) and a
# 2,000-process shell loop, bare and under memobs --, alternating; BENCH_MEMOBS_BEFORE=BIN
# adds a build to compare with.
bench-default: all | $(BENCH_DIR)
	$(Q)LUA_SRC=$(LUA_SRC) $(BENCH_PY) bench/default_cost.py --memobs $(BENCH_MEMOBS) --build $(BENCH_DIR)

# Start and stop (issue 15): memobs -- true beside bpftrace with one tracepoint, alternating;
# the exec gate's round trip; the instructions the verifier processes per program and mode. BENCH_MEMOBS_BEFORE=BIN adds a build to compare with.
bench-startstop: bench-deps all $(BENCH_DIR)/exec_fail $(BENCH_DIR)/prog_insns
	$(Q)$(BENCH_PY) bench/startstop.py --memobs $(BENCH_MEMOBS) --build $(BENCH_DIR)
	$(Q)if [ -n "$(LUA_SRC)" ]; then $(MAKE) --no-print-directory bench-physical; \
	else echo "bench: LUA_SRC is not set: the physical-memory bench (make bench-physical) did not run" >&2; fi
	$(Q)$(MAKE) --no-print-directory bench-stacks

# What stacks cost (issue 16): BPF time per sample; with LUA_SRC, make -j2 of Lua bare, under
# memobs and under memobs --rss-sample-bytes 0, and the stacks' quality; bench/stacks_results.json.
bench-stacks: all $(BUILD)/tests/progs/grower | $(BENCH_DIR)
	$(Q)LUA_SRC=$(LUA_SRC) $(BENCH_PY) bench/stacks.py --memobs $(BENCH_MEMOBS) --build $(BENCH_DIR) \
		--grower $(BUILD)/tests/progs/grower

# The tree's physical memory on make -j2 of Lua (issue 20) against the memory cgroup's own
# figures; LUA_SRC=DIR names a Lua checkout (git clone https://github.com/lua/lua).
bench-physical: all | $(BENCH_DIR)
	$(Q)LUA_SRC=$(LUA_SRC) $(BENCH_PY) bench/physical.py --memobs $(BENCH_MEMOBS) --build $(BENCH_DIR)

# Host-wide observation's cost on the build (issue 7): bare / memobs -- make / bare under
# memobs -a, alternating; writes bench/host_results.json.
bench-host: all
	$(Q)$(BENCH_PY) bench/host_overhead.py --memobs $(BENCH_MEMOBS) --build $(BENCH_DIR)

.PHONY: bench bench-deps bench-heap bench-host bench-startstop bench-physical bench-stacks bench-default

# memobs's own cost per RSS change with many threads at once (issue 15): the real BPF
# programs in-process, BPF_ENABLE_STATS run time of mo_rss_stat per event.
$(BENCH_DIR)/rss_contention: bench/contention/rss_contention.c $(filter-out $(BUILD)/obj/main.o,$(USER_OBJS)) | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(filter-out $(BUILD)/obj/main.o,$(USER_OBJS)) $(LDLIBS) -o $@

bench-contention: all $(BENCH_DIR)/rss_contention
	$(Q)for t in 1 2 4 8 16; do $(BENCH_DIR)/rss_contention $$t 256 $$((400 / $$t)); done

# memobs's own CPU a second observing 2,000 processes (issue 15), against BASELINE=BIN if given.
bench-self: all
	$(Q)$(BENCH_PY) bench/self_cpu.py --memobs $(BENCH_MEMOBS) $(if $(BASELINE),--baseline $(BASELINE))

.PHONY: bench-contention bench-self
