/*
 * stackvictim - the process bench/stack unwinds: 16 threads, thread i
 * recursing to depth 8 + i through a non-inlined, non-tail-recursive
 * function, then blocked in read(2) on a pipe nobody writes; built -O2
 * without frame pointers, so only CFI walks it.  The main thread prints
 * "ready <pid> t0=TID ..." once every thread is at its depth, then waits
 * for SIGUSR1 (sigwait) and calls hot() at depth 10 HOT times (argv[1],
 * default 2000): the target of the in-process breakpoint measurement.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 16
#define NOINL __attribute__((noinline, noclone))

static int pfd[2];
static pid_t tids[NTHREADS];
static pthread_barrier_t bar;
static volatile long sink;

NOINL void
hot(int i)
{
	sink += i;
	__asm__ volatile("" ::: "memory");
}

NOINL int
descend(int depth, int i)
{
	int r;

	if (depth == 0) {
		char c;

		if (i < 0) {
			hot(i);
			return 0;
		}
		(void) pthread_barrier_wait(&bar);
		r = (int)read(pfd[0], &c, 1);	/* forever */
	} else {
		r = descend(depth - 1, i);
	}
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

static void *
thr(void *arg)
{
	long i = (long)arg;

	tids[i] = (pid_t)syscall(SYS_gettid);
	return (void *)(long)descend(8 + (int)i, (int)i);
}

int
main(int argc, char **argv)
{
	int hot_n = argc > 1 ? atoi(argv[1]) : 2000;
	pthread_t th[NTHREADS];
	sigset_t set;
	int sig;

	setvbuf(stdout, NULL, _IOLBF, 0);
	(void) prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (pipe(pfd) != 0)
		return 1;
	(void) pthread_barrier_init(&bar, NULL, NTHREADS + 1);
	for (long i = 0; i < NTHREADS; i++)
		(void) pthread_create(&th[i], NULL, thr, (void *)i);
	(void) pthread_barrier_wait(&bar);
	printf("ready %d", (int)getpid());
	for (int i = 0; i < NTHREADS; i++)
		printf(" t%d=%d", i, (int)tids[i]);
	printf("\n");
	(void) sigwait(&set, &sig);
	for (int k = 0; k < hot_n; k++)
		descend(10, -1 - k);
	printf("hot done\n");
	for (;;)
		pause();
}
