/* SPDX-License-Identifier: GPL-2.0 */
/* The one way arrays grow (git's ALLOC_GROW): an array, the number of
 * elements it has room for, and GROW(arr, n, alloc) before writing element
 * n - 1. Growing by half again (16 at least) keeps appends amortised O(1). */
#ifndef MO_GROW_H
#define MO_GROW_H

#include <stddef.h>

/* *(T **)arrp has room for *alloc elements of elem bytes: make room for at
 * least nr. 0, or -ENOMEM with the array and *alloc unchanged. */
int grow_array(void *arrp, size_t nr, size_t *alloc, size_t elem);

#define GROW(arr, nr, alloc) grow_array(&(arr), (nr), &(alloc), sizeof(*(arr)))

#endif
