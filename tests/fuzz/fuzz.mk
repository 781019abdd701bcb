# Fuzzing (libFuzzer, clang) of every parser of outside input, and the
# integration suite against the ASan+UBSan memobs. Included by tests/tests.mk.
#
#   make fuzz                  each target for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS=history
#   make test-asan             the integration tests with build/asan/memobs
#
# `make test` builds the targets and tests/run.sh runs each for a bounded
# time (FUZZ_TEST_SECONDS, default 10). Targets: tests/fuzz/fuzz_NAME.c,
# seeds: tests/fuzz/corpus/NAME/ (read only: new inputs go to build/fuzz/).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The pure modules as the fuzzer sees them: coverage and sanitizers, not the
# gcc ASan objects of build/asan (another compiler's runtime). gcc's -Werror
# build is the warnings gate; clang's warnings here are shown, not fatal.
FUZZ_CFLAGS  := -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
                $(filter-out -O2 -g -Wno-format-truncation,$(CFLAGS)) -Wno-error
FUZZ_ALL     := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_ALL))
FUZZ_PURE    := $(patsubst user/%.c,$(BUILD)/fuzz/obj/%.o,$(PURE_SRCS))

$(BUILD)/fuzz/obj/%.o: user/%.c | $(BUILD)/fuzz/obj
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/libpure.a: $(FUZZ_PURE)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/fuzz/libpure.a | $(BUILD)/fuzz/obj
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(filter-out -fsanitize=fuzzer-no-link,$(FUZZ_CFLAGS)) -fsanitize=fuzzer -Itests/fuzz \
		$< $(BUILD)/fuzz/libpure.a $(LDLIBS) -o $@

$(BUILD)/fuzz/obj:
	$(Q)mkdir -p $@

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)rc=0; for t in $(FUZZ_TARGETS); do \
		BUILD=$(BUILD) tests/fuzz/run.sh $(BUILD)/fuzz/fuzz_$$t $(FUZZ_SECONDS) || rc=1; done; exit $$rc

# tests/run.sh runs the fuzz targets that `make test` built.
tests-build: $(FUZZ_BINS)

# The integration suite against the sanitized binary. Sanitizer reports go to
# files, so that a report fails the test that caused it even when the test
# ignores memobs's exit status (tests/integration/harness.py looks after each
# test). Leaks are failures; tests/fuzz/lsan.supp says which are libraries'.
ASAN_LOGS := $(BUILD)/asan-logs
test-asan: install-deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS) && chmod 1777 $(ASAN_LOGS)
	$(Q)BUILD=$(BUILD) MEMOBS_BIN=$(abspath $(BUILD)/asan/memobs) \
		ASAN_OPTIONS=log_path=$(abspath $(ASAN_LOGS))/asan:detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=log_path=$(abspath $(ASAN_LOGS))/ubsan:print_stacktrace=1:halt_on_error=1 \
		LSAN_OPTIONS=suppressions=$(abspath tests/fuzz/lsan.supp):print_suppressions=0 \
		MEMOBS_ASAN_LOGS=$(abspath $(ASAN_LOGS)) tests/run.sh $(or $(T),integration/)

.PHONY: fuzz fuzz-build test-asan

-include $(wildcard $(BUILD)/fuzz/obj/*.d $(BUILD)/fuzz/obj/*/*.d $(BUILD)/fuzz/*.d)
