# Tests: `make test` installs what is missing (as root), builds everything and
# runs tests/run.sh, which ends with "N passed, N failed".

ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_OBJS  := $(patsubst user/%.c,$(BUILD)/asan/obj/%.o,$(USER_SRCS)) $(BUILD)/asan/obj/profile.pb-c.o
ASAN_PURE  := $(patsubst user/%.c,$(BUILD)/asan/obj/%.o,$(PURE_SRCS)) $(BUILD)/asan/obj/profile.pb-c.o

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS  := $(wildcard tests/bpf/test_*.c)
BPFT_BINS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
PROG_SRCS  := $(wildcard tests/progs/*.c)
PROG_BINS  := $(patsubst tests/progs/%.c,$(BUILD)/tests/progs/%,$(PROG_SRCS))
# C++ targets are optimized as distro code is: -O2, no frame pointers.
PROG_CXX_SRCS := $(wildcard tests/progs/*.cc)
PROG_BINS  += $(patsubst tests/progs/%.cc,$(BUILD)/tests/progs/%,$(PROG_CXX_SRCS))
PROG_CXXFLAGS := -O2 -g -fomit-frame-pointer -Wall -Wextra -Werror
# Known-shape targets: frame pointers for stacks, no inlining surprises.
PROG_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-inline -Wall -Wextra -Werror -Iinclude

$(BUILD)/asan/obj/%.o: user/%.c | $(BUILD)/asan/obj
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) $(ASAN_FLAGS) -c $< -o $@

$(patsubst user/%.c,$(BUILD)/asan/obj/%.o,$(BPF_USER_SRCS)): $(SKELS)
$(BUILD)/asan/obj/report/report_pprof.o: $(BUILD)/gen/profile.pb-c.h

$(BUILD)/asan/obj/profile.pb-c.o: $(GEN_SRC) | $(BUILD)/asan/obj
	$(call msg,CC-ASAN,$@)
	$(Q)$(CC) $(filter-out -Werror -Wextra,$(CFLAGS)) $(ASAN_FLAGS) -c $< -o $@

$(BUILD)/asan/memobs: $(ASAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) $^ $(LDLIBS) -o $@

# An archive, so that a unit test pulls in only the modules it uses.
$(BUILD)/asan/libpure.a: $(ASAN_PURE)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/asan/libpure.a | $(BUILD)/tests/unit
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) -Itests $< $(BUILD)/asan/libpure.a $(LDLIBS) -o $@

$(BUILD)/tests/bpf/%: tests/bpf/%.c $(filter-out $(BUILD)/obj/main.o,$(USER_OBJS)) | $(BUILD)/tests/bpf
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(filter-out $(BUILD)/obj/main.o,$(USER_OBJS)) $(LDLIBS) -o $@

$(BUILD)/tests/progs/%: tests/progs/%.c | $(BUILD)/tests/progs
	$(call msg,PROG,$@)
	$(Q)$(CC) $(PROG_CFLAGS) $< -o $@ $(if $(findstring static,$*),-static,) $(if $(findstring nopie,$*),-no-pie,)

$(BUILD)/tests/progs/%: tests/progs/%.cc | $(BUILD)/tests/progs
	$(call msg,PROG,$@)
	$(Q)$(CXX) $(PROG_CXXFLAGS) $< -o $@

$(BUILD)/asan/obj $(BUILD)/tests/unit $(BUILD)/tests/bpf $(BUILD)/tests/progs:
	$(Q)mkdir -p $@

install-test-deps:
	$(Q)scripts/install-deps.sh --test

NPROC ?= $(shell nproc)

tests-build: all $(BUILD)/asan/memobs $(UNIT_BINS) $(BPFT_BINS) $(PROG_BINS)

test: install-test-deps
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) tests-build
	$(Q)BUILD=$(BUILD) tests/run.sh $(T)

.PHONY: install-test-deps tests-build test

-include $(wildcard $(BUILD)/asan/obj/*.d $(BUILD)/asan/obj/*/*.d $(BUILD)/tests/unit/*.d $(BUILD)/tests/bpf/*.d)

include tests/fuzz/fuzz.mk
