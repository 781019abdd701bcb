# memobs — see README.md. `make V=1` shows the commands.
.DELETE_ON_ERROR:
.SUFFIXES:

BUILD     ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION   := 0.1.0

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS      := libbpf libcjson libdw libelf capstone ncursesw
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers \
             -Wno-format-truncation \
             -Iinclude -Iuser -I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
             -DMEMOBS_VERSION='"$(VERSION)"' -MMD -MP
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lz -lm

# maps.bpf.c defines the shared maps: it goes first (libbpf 1.1 linker)
BPF_SRCS  := bpf/maps.bpf.c $(filter-out bpf/maps.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
# Include dirs clang would search for the host, so that <bpf/usdt.bpf.h> and
# <sys/sdt.h> resolve under -target bpf (Debian's libbpf 1.1 needs this).
BPF_SYS_INCS := $(shell $(CLANG) -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Iinclude $(BPF_SYS_INCS) -MMD -MP

# Modules without libbpf: the pure logic that unit tests link on their own.
PURE_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
PURE_SRCS := $(filter-out $(shell grep -l 'memobs.skel.h\|bpf/libbpf.h' user/*.c),$(PURE_SRCS))
BPF_USER_SRCS := $(shell grep -l 'memobs.skel.h\|bpf/libbpf.h' user/*.c)
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
PURE_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(PURE_SRCS))

all: deps-check $(BUILD)/memobs $(BUILD)/libmemobs.so

deps-check:
	@for p in $(PKGS); do pkg-config --exists $$p || { \
		case $$p in libbpf) d=libbpf-dev;; libcjson) d=libcjson-dev;; libdw) d=libdw-dev;; \
		libelf) d=libelf-dev;; capstone) d=libcapstone-dev;; ncursesw) d=libncurses-dev;; esac; \
		echo "memobs: missing $$p (Debian package $$d): run sudo scripts/install-deps.sh" >&2; exit 1; }; done
	@for t in $(CLANG) $(BPFTOOL); do command -v $$t >/dev/null || { \
		echo "memobs: missing $$t (Debian packages clang, bpftool): run sudo scripts/install-deps.sh" >&2; exit 1; }; done
	@echo '#include <sys/sdt.h>' | $(CC) -E -x c - >/dev/null 2>&1 || { \
		echo "memobs: missing <sys/sdt.h> (Debian package systemtap-sdt-dev): run sudo scripts/install-deps.sh" >&2; exit 1; }

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/memobs.bpf.o: $(BPF_OBJS)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(BUILD)/memobs.skel.h: $(BUILD)/memobs.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name memobs_bpf > $@

$(patsubst user/%.c,$(BUILD)/obj/%.o,$(BPF_USER_SRCS)): $(BUILD)/memobs.skel.h

$(BUILD)/obj/%.o: user/%.c | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/memobs: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The marker emitters as plain functions, for FFI (Python ctypes, cgo, Rust).
$(BUILD)/libmemobs.so: emitters/libmemobs.c include/memobs/markers.h | $(BUILD)
	$(call msg,LIB,$@)
	$(Q)$(CC) -O2 -g -fPIC -shared -Wall -Wextra -Werror -Iinclude $< -o $@

$(BUILD) $(BUILD)/bpf $(BUILD)/obj:
	$(Q)mkdir -p $@

# The bundled demo: a static-site build in Python with phase markers.
DEMO_PAGES ?= 1000
demo: install-deps
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/memobs -o $(BUILD)/demo-run.json -- python3 demo/sitebuild.py --pages $(DEMO_PAGES)
	@echo "run document: $(BUILD)/demo-run.json"

vmlinux:
	$(call msg,GEN,vmlinux/vmlinux.h)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

include tests/tests.mk

clean:
	$(Q)rm -rf $(BUILD)

.PHONY: all deps-check demo vmlinux clean

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/bpf/*.d)
