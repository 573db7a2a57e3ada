/*
 * stepv.c - threads calling a probed function in a loop, for a tracer
 * that grabs them with return probes and lets them go while some are
 * inside a trampoline (tests/core/ctl_release_step.c).  A SIGTRAP is
 * what we test for: its handler reports it, and the victim exits 99.
 *
 * sv_caller calls sv_target; the return site (sv_caller + 5) is inside
 * a function, so its trampoline saves and restores the flags (pushfq,
 * popfq): a thread stepped out of it runs them under a single step.
 * sv_flags pushes and pops the flags, then returns them as pushed
 * again: a tracer stepping it must leave no trap flag in either image
 * (tests/core/stepflag.c).
 * Prints "ready <pid> target=<sv_target> ret=<site> flags=<sv_flags>",
 * then for each line:
 *	s	every worker finishes two more rounds of calls: "steady n=<N>"
 *		(a thread let go with the trap flag set traps at once, so
 *		it has reported by then)
 *	f	"flags <sv_flags()>"
 *	q	exit 0
 * argv[1]: the number of workers (4).
 */
#include "victim.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <ucontext.h>

long sv_caller(long x);
long sv_target(long x);
unsigned long sv_flags(void);
__asm__(".text\n"
    ".globl sv_target\n"
    ".type sv_target, @function\n"
    "sv_target:\n"
    "	lea 1(%rdi,%rdi,2), %rax\n"
    "	ret\n"
    ".size sv_target, .-sv_target\n"
    ".globl sv_caller\n"
    ".type sv_caller, @function\n"
    "sv_caller:\n"
    "	call sv_target\n"
    "	add $1, %rax\n"
    "	nop\n	nop\n	nop\n	nop\n	nop\n	nop\n"
    "	ret\n"
    ".size sv_caller, .-sv_caller\n"
    ".globl sv_flags\n"
    ".type sv_flags, @function\n"
    "sv_flags:\n"
    "	pushfq\n"
    "	popfq\n"
    "	pushfq\n"
    "	pop %rax\n"
    "	ret\n"
    ".size sv_flags, .-sv_flags\n");

#define SV_MAXW		16
#define SV_CALLS	200

static atomic_long rounds[SV_MAXW];
static volatile long sink;

static void
on_trap(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *u = uc;
	char b[128];
	int n;

	(void) sig;
	n = snprintf(b, sizeof (b), "sigtrap code=%d pc=%#llx\n", si->si_code,
	    (unsigned long long)u->uc_mcontext.gregs[REG_RIP]);
	(void) write(1, b, (size_t)n);
	_exit(99);
}

static void *
worker(void *arg)
{
	long i = (long)(intptr_t)arg;
	/* pacing only: untraced, the workers need not eat a whole CPU */
	struct timespec pace = { 0, 100000 };

	for (;;) {
		long s = 0;

		for (long k = 0; k < SV_CALLS; k++)
			s += sv_caller(k);
		sink = s;
		atomic_fetch_add(&rounds[i], 1);
		nanosleep(&pace, NULL);
	}
	return NULL;
}

/* Every worker through two more rounds: any of them let go trapping
   has trapped by then. */
static long
steady(int nw)
{
	long from[SV_MAXW], total = 0;

	for (int i = 0; i < nw; i++)
		from[i] = atomic_load(&rounds[i]);
	for (int i = 0; i < nw; i++) {
		while (atomic_load(&rounds[i]) < from[i] + 2)
			sched_yield();
		total += atomic_load(&rounds[i]);
	}
	return total;
}

int
main(int argc, char **argv)
{
	int nw = argc > 1 ? atoi(argv[1]) : 4;
	struct sigaction sa;
	char line[64];
	pthread_t t;

	v_init();
	if (nw < 1 || nw > SV_MAXW)
		nw = 4;
	memset(&sa, 0, sizeof (sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGTRAP, &sa, NULL) != 0)
		v_die("sigaction");
	for (int i = 0; i < nw; i++) {
		if (pthread_create(&t, NULL, worker, (void *)(intptr_t)i) != 0)
			v_die("pthread_create");
	}
	printf("ready %d target=%p ret=%#lx flags=%p\n", (int)getpid(),
	    (void *)sv_target, (unsigned long)((uintptr_t)sv_caller + 5),
	    (void *)sv_flags);
	while (v_getline(line, sizeof (line)) >= 0) {
		if (strcmp(line, "s") == 0)
			printf("steady n=%ld\n", steady(nw));
		else if (strcmp(line, "f") == 0)
			printf("flags %#lx\n", sv_flags());
		else if (strcmp(line, "q") == 0)
			break;
	}
	return 0;
}
