/*
 * pagev - the shared page's victim: counts into memory a test names, calls
 * a function a test may have patched, execs itself.
 *
 * ready <pid> target=<page_target's address> exec=<generation>
 * then one command a line on stdin:
 *	inc ADDR N	N times `lock incq` at ADDR; prints "inc done"
 *	call		page_target(20); prints "call ret=<its result>"
 *	exec		execs itself (generation + 1), which prints ready
 *	q		exits 0
 */
#include "victim.h"

#include <stdint.h>
#include <sys/prctl.h>

/* Not called until asked: a test may write over its first bytes. */
__attribute__((noinline)) int
page_target(int x)
{
	volatile int y = x;

	return y * 2 + 2;
}

int
main(int argc, char **argv)
{
	int gen = argc > 1 ? atoi(argv[1]) : 0;
	char line[256];

	v_init();
	/* a sibling of the test grabs us too (tracer death) */
	(void) prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	printf("ready %d target=%p exec=%d\n", (int)getpid(),
	    (void *)page_target, gen);
	while (v_getline(line, sizeof (line)) >= 0) {
		unsigned long addr, n;
		char next[16];

		if (sscanf(line, "inc %lx %lu", &addr, &n) == 2) {
			for (unsigned long i = 0; i < n; i++)
				__asm__ volatile("lock incq (%0)" : :
				    "r"(addr) : "memory");
			printf("inc done\n");
		} else if (strcmp(line, "call") == 0) {
			printf("call ret=%d\n", page_target(20));
		} else if (strcmp(line, "exec") == 0) {
			snprintf(next, sizeof (next), "%d", gen + 1);
			execl("/proc/self/exe", "pagev", next, (char *)NULL);
			v_die("execl");
		} else if (strcmp(line, "q") == 0) {
			return 0;
		}
	}
	return 0;
}
