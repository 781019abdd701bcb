// SPDX-License-Identifier: GPL-2.0
/* The single definition of the shared maps and globals (see maps.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MO_DEFINE_MAPS
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "GPL";
