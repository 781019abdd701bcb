// SPDX-License-Identifier: GPL-2.0
/* The output of `git rev-parse HEAD --abbrev-ref HEAD` (meta_parse_git): the
 * first byte is the length of `git status --porcelain`, the rest the text. */
#include "fuzz.h"
#include "history/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mo_git git;
	size_t status_len;
	char *s;

	if (!size)
		return 0;
	status_len = data[0];
	s = fuzz_cstr(data + 1, size - 1);
	memset(&git, 0xa5, sizeof(git));
	meta_parse_git(s, status_len, &git);
	if (git.present) {
		FUZZ_ASSERT(strlen(git.commit) == 40);
		FUZZ_ASSERT(memchr(git.branch, 0, sizeof(git.branch)));
		FUZZ_ASSERT(git.dirty == (status_len > 0));
	}
	free(s);
	return 0;
}
