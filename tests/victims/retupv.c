/*
 * retupv.c - a return site armed while a thread is "inside" its window
 * (tests/core/fprobe_up.c).
 *
 * ru_caller calls ru_target; its return site (ru_caller + 5) is followed
 * by a patchable window (an add and nops, no branch into it).  The
 * parker thread holds the word ru_ret + 2 in its frame while it blocks
 * on a pipe: what the core's stack scan finds of a thread interrupted
 * inside the window (a signal frame's pc, a return address), so the
 * site cannot be patched while it is parked.
 * Prints "ready <pid> caller=<ru_caller> target=<ru_target> ret=<site>",
 * then for each line:
 *	p	the parker parks: "parked"
 *	u	the parker leaves the window and ends: "unparked"
 *	c N	N calls of ru_caller(i): "called n=<N> sum=<sum>"
 *	q	exit 0
 * ru_caller(x) = 3x + 2.
 */
#include "victim.h"

#include <pthread.h>
#include <stdint.h>

long ru_caller(long x);
long ru_target(long x);
__asm__(".text\n"
    ".globl ru_target\n"
    ".type ru_target, @function\n"
    "ru_target:\n"
    "	lea 1(%rdi,%rdi,2), %rax\n"
    "	ret\n"
    ".size ru_target, .-ru_target\n"
    ".globl ru_caller\n"
    ".type ru_caller, @function\n"
    "ru_caller:\n"
    "	call ru_target\n"
    "	add $1, %rax\n"
    "	nop\n	nop\n	nop\n	nop\n	nop\n	nop\n"
    "	ret\n"
    ".size ru_caller, .-ru_caller\n");

#define RU_RET	((uintptr_t)ru_caller + 5)

static int park[2];
static pthread_t parker;

static void *
parked(void *arg)
{
	volatile uintptr_t inside = RU_RET + 2;
	char c;

	(void) arg;
	printf("parked\n");
	while (read(park[0], &c, 1) < 0 && errno == EINTR)
		;
	inside = 0;
	return (void *)inside;
}

int
main(void)
{
	char line[256];

	v_init();
	if (pipe(park) != 0)
		v_die("pipe");
	printf("ready %d caller=%p target=%p ret=%#lx\n", (int)getpid(),
	    (void *)ru_caller, (void *)ru_target, (unsigned long)RU_RET);
	while (v_getline(line, sizeof (line)) >= 0) {
		if (strcmp(line, "p") == 0) {
			if (pthread_create(&parker, NULL, parked, NULL) != 0)
				v_die("pthread_create");
		} else if (strcmp(line, "u") == 0) {
			if (write(park[1], "u", 1) != 1)
				v_die("write");
			pthread_join(parker, NULL);
			printf("unparked\n");
		} else if (line[0] == 'c' && line[1] == ' ') {
			long n = atol(line + 2), sum = 0;

			for (long i = 0; i < n; i++)
				sum += ru_caller(i);
			printf("called n=%ld sum=%ld\n", n, sum);
		} else if (strcmp(line, "q") == 0) {
			break;
		}
	}
	return 0;
}
