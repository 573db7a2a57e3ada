/*
 * bp [T [K]] - T threads (default 8) each call bp_target() K times
 * (default 1000) once the go line arrives.
 *
 *	ready <pid> bp_target=<addr> threads=<T> iters=<K>
 *	(go line)
 *	sum=<S>		S = sum over threads and i < K of bp_target(i)
 *			  = T * K * K
 * Exits 0.
 */
#define V_THREADS
#include "victim.h"

static struct v_gate gate = V_GATE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int iters;
static long total;

__attribute__((noinline)) int
bp_target(int x)
{
	return 2 * x + 1;
}

static void *
worker(void *arg)
{
	long s = 0;

	(void)arg;
	v_gate_arrive(&gate);
	for (int i = 0; i < iters; i++)
		s += bp_target(i);
	pthread_mutex_lock(&mu);
	total += s;
	pthread_mutex_unlock(&mu);
	return NULL;
}

int
main(int argc, char **argv)
{
	int nthr = argc > 1 ? atoi(argv[1]) : 8;
	pthread_t tids[256];

	v_init();
	iters = argc > 2 ? atoi(argv[2]) : 1000;
	if (nthr < 1 || nthr > 256)
		nthr = 8;
	for (int i = 0; i < nthr; i++) {
		if ((errno = pthread_create(&tids[i], NULL, worker,
		    NULL)) != 0)
			v_die("pthread_create");
	}
	v_gate_wait(&gate, nthr);

	printf("ready %d bp_target=%p threads=%d iters=%d\n", (int)getpid(),
	    (void *)bp_target, nthr, iters);
	if (v_wait_go() < 0)
		return 98;
	v_gate_open(&gate);
	for (int i = 0; i < nthr; i++)
		pthread_join(tids[i], NULL);
	printf("sum=%ld\n", total);
	return 0;
}
