/*
 * upgradev.c - a thread that spends its time inside a probe's window.
 *
 * up_fn is a nop, two pauses and a ret: a 5-byte window of its own,
 * with no branch into it, patchable, where the pauses (long, and where
 * an interrupt lands) keep the spinner most of its time.  A second thread calls it in a loop, so a
 * stop of the process usually finds that thread's pc inside the window
 * (the test stops it there with SIGSTOP, reading the pc from /proc).
 * Prints "ready <pid> fn=<up_fn> tid=<spinner>", then for each line:
 *	n K	K calls of up_fn here: "called n=<K>"
 *	w K	once the spinner has made K more calls (counted from the
 *		command on; one may have begun before it): "waited
 *		calls=<N>" (its calls then)
 *	s	the spinner stopped: "calls=<N>" (its calls)
 *	q	exit 0
 */
#include "victim.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/syscall.h>

void up_fn(void);
__asm__(".text\n"
    ".globl up_fn\n"
    ".type up_fn, @function\n"
    "up_fn:\n"
    "	nop\n	pause\n	pause\n"
    "	ret\n"
    ".size up_fn, .-up_fn\n");

static atomic_int stop;
static atomic_long calls;
static atomic_int spinner;
static atomic_long want;	/* "w": its call count to reach, or 0 */
static sem_t reached;		/* posted when it is reached */
static pthread_barrier_t started;

static void *
spin(void *arg)
{
	(void) arg;
	atomic_store(&spinner, (int)syscall(SYS_gettid));
	(void) pthread_barrier_wait(&started);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		long n, w;

		up_fn();
		n = atomic_fetch_add_explicit(&calls, 1,
		    memory_order_relaxed) + 1;
		w = atomic_load_explicit(&want, memory_order_relaxed);
		if (w != 0 && n >= w &&
		    atomic_compare_exchange_strong(&want, &w, 0))
			(void) sem_post(&reached);
	}
	return NULL;
}

int
main(void)
{
	char line[256];
	pthread_t t;

	v_init();
	(void) sem_init(&reached, 0, 0);
	(void) pthread_barrier_init(&started, NULL, 2);
	if (pthread_create(&t, NULL, spin, NULL) != 0)
		v_die("pthread_create");
	(void) pthread_barrier_wait(&started);	/* its tid is known */
	printf("ready %d fn=%p tid=%d\n", (int)getpid(), (void *)up_fn,
	    atomic_load(&spinner));
	while (v_getline(line, sizeof (line)) >= 0) {
		if (line[0] == 'n' && line[1] == ' ') {
			long n = atol(line + 2);

			for (long i = 0; i < n; i++)
				up_fn();
			printf("called n=%ld\n", n);
		} else if (line[0] == 'w' && line[1] == ' ' &&
		    !atomic_load(&stop)) {
			atomic_store(&want, atomic_load(&calls) +
			    atol(line + 2));
			while (sem_wait(&reached) != 0)
				;	/* EINTR */
			printf("waited calls=%ld\n", atomic_load(&calls));
		} else if (strcmp(line, "s") == 0 && !atomic_load(&stop)) {
			atomic_store(&stop, 1);
			pthread_join(t, NULL);
			printf("calls=%ld\n", atomic_load(&calls));
		} else if (strcmp(line, "q") == 0) {
			break;
		}
	}
	if (!atomic_load(&stop)) {
		atomic_store(&stop, 1);
		pthread_join(t, NULL);
	}
	return 0;
}
