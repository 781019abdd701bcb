// SPDX-License-Identifier: GPL-2.0
/* own_malloc_static.c with its malloc moved (a function of 0x35 bytes first). */
#define PAD "0x35"
#include "own_malloc_static.c"
