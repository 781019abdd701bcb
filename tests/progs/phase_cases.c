// SPDX-License-Identifier: GPL-2.0
/* Marker edge cases, one per mode:
 *   nested     outer{ a{8 MiB} b{ c{16 MiB} } }   nesting and inclusive peaks
 *   unmatched  end("nope") with nothing open, then ok{4 MiB}
 *   unclosed   open{12 MiB} and exit without its end
 *   child      parent{ a child (fork and exec) runs work{12 MiB} }: session-wide phases
 *   longname   a 100-byte name: truncated to 63 and flagged
 *   growth     leak{keeps 8 MiB} churn{16 MiB allocated and freed}: what grew
 *              in each phase, and what was live at its end
 * Usage: phase_cases MODE */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <memobs/markers.h>

#define MiB (1024 * 1024)

/* Allocate, write every page (volatile: the stores are not dead), free. */
static void touch(size_t mib)
{
	volatile char *p = malloc(mib * MiB);

	for (size_t i = 0; p && i < mib * MiB; i += 4096)
		p[i] = 1;
	free((void *)p);
}

static void nested(void)
{
	MEMOBS_PHASE_BEGIN("outer");
	MEMOBS_PHASE_BEGIN("a");
	touch(8);
	MEMOBS_PHASE_END("a");
	MEMOBS_PHASE_BEGIN("b");
	MEMOBS_PHASE_BEGIN("c");
	touch(16);
	MEMOBS_PHASE_END("c");
	MEMOBS_PHASE_END("b");
	MEMOBS_PHASE_END("outer");
}

/* A function of its own, so that the leak's stack names it. */
__attribute__((noinline)) static char *keep_leaked(size_t mib)
{
	char *p = malloc(mib * MiB);

	if (p)
		memset(p, 1, mib * MiB);
	return p;
}

static void growth(void)
{
	char *leak;

	MEMOBS_PHASE_BEGIN("leak");
	leak = keep_leaked(8);
	MEMOBS_PHASE_END("leak");
	MEMOBS_PHASE_BEGIN("churn");
	touch(16);
	MEMOBS_PHASE_END("churn");
	if (!leak)
		exit(1);
}

static void child(void)
{
	pid_t pid;

	MEMOBS_PHASE_BEGIN("parent");
	pid = fork();
	if (pid == 0) {
		/* A new program gets its markers at its exec, before it runs (a
		 * child forked without exec gets them only once memobs saw the
		 * fork: README, "Phases"). */
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		self[n > 0 ? n : 0] = 0;
		execl(self, "phase_cases", "child-work", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	MEMOBS_PHASE_END("parent");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "nested";
	char name[101];

	if (!strcmp(mode, "nested")) {
		nested();
	} else if (!strcmp(mode, "unmatched")) {
		MEMOBS_PHASE_END("nope");
		MEMOBS_PHASE_BEGIN("ok");
		touch(4);
		MEMOBS_PHASE_END("ok");
	} else if (!strcmp(mode, "unclosed")) {
		MEMOBS_PHASE_BEGIN("open");
		touch(12);
	} else if (!strcmp(mode, "child")) {
		child();
	} else if (!strcmp(mode, "growth")) {
		growth();
	} else if (!strcmp(mode, "child-work")) {
		MEMOBS_PHASE_BEGIN("work");
		touch(12);
		MEMOBS_PHASE_END("work");
	} else if (!strcmp(mode, "longname")) {
		memset(name, 'x', 100);
		name[100] = 0;
		MEMOBS_PHASE_BEGIN(name);
		MEMOBS_PHASE_END(name);
	} else {
		return 2;
	}
	return 0;
}
