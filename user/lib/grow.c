// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/grow.h"

int grow_array(void *arrp, size_t nr, size_t *alloc, size_t elem)
{
	size_t want = *alloc + *alloc / 2;
	void *arr, *grown;

	if (nr <= *alloc)
		return 0;
	if (want < 16)
		want = 16;
	if (want < nr)
		want = nr;
	if (!elem || want > SIZE_MAX / elem)
		return -ENOMEM;
	/* arrp is a T **: its pointer is read and written as bytes, whatever T. */
	memcpy(&arr, arrp, sizeof(arr));
	grown = realloc(arr, want * elem);
	if (!grown)
		return -ENOMEM;
	memcpy(arrp, &grown, sizeof(grown));
	*alloc = want;
	return 0;
}
