/*
 * threads [N [churn]] - N worker threads (default 16) blocked on a
 * condition variable.
 *
 *	ready <pid> n=<N>		once all N workers are started
 *	(go line)
 *	result=<sum of (i+1)^2, i < N>	workers done and joined
 *
 * With "churn", the main thread keeps creating and joining short-lived
 * threads until the go line arrives (read by a separate thread), so that
 * threads appear and vanish while the test grabs; it then also prints
 * churned=<count>.  Exits 0.
 */
#define V_THREADS
#include "victim.h"

#include <stdatomic.h>

static struct v_gate gate = V_GATE_INIT;
static long results[4096];
static atomic_int stop;
static atomic_long churn_work;

static void *
worker(void *arg)
{
	long i = (long)arg;

	v_gate_arrive(&gate);
	results[i] = (i + 1) * (i + 1);
	return NULL;
}

static void *
short_lived(void *arg)
{
	(void)arg;
	atomic_fetch_add(&churn_work, 1);
	return NULL;
}

static void *
reader(void *arg)
{
	(void)arg;
	v_wait_go();
	atomic_store(&stop, 1);
	return NULL;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 16;
	int churn = argc > 2 && strcmp(argv[2], "churn") == 0;
	pthread_t *tids;
	long sum = 0, churned = 0;

	v_init();
	if (n < 0 || n > 4096)
		n = 16;
	tids = calloc(n + 1, sizeof (pthread_t));
	for (long i = 0; i < n; i++) {
		if ((errno = pthread_create(&tids[i], NULL, worker,
		    (void *)i)) != 0)
			v_die("pthread_create");
	}
	v_gate_wait(&gate, n);

	if (churn) {
		pthread_t rd;

		if ((errno = pthread_create(&rd, NULL, reader, NULL)) != 0)
			v_die("pthread_create");
		printf("ready %d n=%d churn\n", (int)getpid(), n);
		while (!atomic_load(&stop)) {
			pthread_t t;

			if ((errno = pthread_create(&t, NULL, short_lived,
			    NULL)) != 0)
				v_die("pthread_create");
			pthread_join(t, NULL);
			churned++;
		}
		pthread_join(rd, NULL);
	} else {
		printf("ready %d n=%d\n", (int)getpid(), n);
		v_wait_go();
	}

	v_gate_open(&gate);
	for (int i = 0; i < n; i++) {
		pthread_join(tids[i], NULL);
		sum += results[i];
	}
	printf("result=%ld\n", sum);
	if (churn)
		printf("churned=%ld work=%ld\n", churned,
		    (long)atomic_load(&churn_work));
	return 0;
}
