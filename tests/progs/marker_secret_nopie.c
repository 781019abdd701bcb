// SPDX-License-Identifier: GPL-2.0
/* The setuid side of marker_leak: a secret at a fixed address (no PIE), in
 * the image from exec on. Stays a second, so that a late reader of the old
 * program's memory would find it. Usage: marker_secret_nopie [--address] */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

char secret[64] __attribute__((aligned(4096))) = "memobs-test-root-only-secret";

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--address")) {
		printf("%p\n", (void *)secret);
		return 0;
	}
	sleep(1);
	return secret[0] ? 0 : 1;
}
