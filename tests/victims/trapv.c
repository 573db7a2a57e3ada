/*
 * trapv MODE [N] - a program with its own SIGTRAP disposition that calls
 * trap_target() (which the test probes) N times (default 100):
 *
 *   blocked	a SIGTRAP handler; every signal blocked around the calls,
 *		then raise(SIGTRAP): "handled=1" (its handler survived)
 *   worker	the same, the calls made by a thread that blocks every
 *		signal from its start: "handled=1"
 *   inhandler	the handler itself calls trap_target(); raise(SIGTRAP)
 *		twice: "handled=2"
 *   ignored	SIGTRAP ignored, the calls, raise(SIGTRAP): "ignored"
 *
 *	ready <pid> trap_target=<addr>	disposition set, before the calls
 *	(go line)
 *	handled=<H> | ignored
 *	(a go line, or EOF)
 * Exits 0; killed by SIGTRAP where a hit reset the disposition.
 */
#include "victim.h"

#include <pthread.h>
#include <signal.h>

static volatile sig_atomic_t handled;
static int n = 100, inhandler;
static long sum;

__attribute__((noinline)) int
trap_target(int x)
{
	return x + 1;
}

static void
on_trap(int sig)
{
	(void) sig;
	handled++;
	if (inhandler)
		sum += trap_target(1);
}

static void
calls(void)
{
	for (int i = 0; i < n; i++)
		sum += trap_target(i);
}

static void *
worker(void *arg)
{
	sigset_t all;

	(void) arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	calls();
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "blocked";
	sigset_t all, old;

	v_init();
	if (argc > 2)
		n = atoi(argv[2]);
	inhandler = strcmp(mode, "inhandler") == 0;
	if (strcmp(mode, "ignored") == 0)
		signal(SIGTRAP, SIG_IGN);
	else
		signal(SIGTRAP, on_trap);
	printf("ready %d trap_target=%p\n", (int)getpid(),
	    (void *)trap_target);
	if (v_wait_go() != 0)
		return 3;
	if (strcmp(mode, "worker") == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, NULL) != 0)
			v_die("pthread_create");
		pthread_join(t, NULL);
	} else if (!inhandler) {
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		calls();
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	raise(SIGTRAP);
	if (inhandler)
		raise(SIGTRAP);
	if (strcmp(mode, "ignored") == 0)
		printf("ignored\n");
	else
		printf("handled=%d\n", (int)handled);
	/* exit only once let go: a traced exit is the tracer's to reap */
	(void) v_wait_go();
	return sum > 0 || inhandler ? 0 : 1;
}
