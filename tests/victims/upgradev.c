/*
 * upgradev.c - a thread that spends its time inside a probe's window.
 *
 * up_fn(p) is two pauses, a load from p and a ret: a 6-byte window of
 * its own, with no branch into it, patchable, where the pauses (long)
 * keep the spinner most of its time; an interrupt lands at the end of
 * one, at fn+2 or fn+4, both inside.  A second thread calls it in a
 * loop, so a stop of the process usually finds that thread's pc inside
 * the window, at the start of one of its instructions (the test stops
 * it there with SIGSTOP, reading the pc from /proc): moved into the
 * trampoline as the site is patched.
 *
 * A thread that must keep the site an int3 holds a pc inside the window
 * on its stack: the faulter calls up_fn(NULL), whose load faults, and
 * its SIGSEGV handler blocks on a pipe until told, with that pc in its
 * signal frame; then it jumps out of the handler and ends.
 *
 * Prints "ready <pid> fn=<up_fn> tid=<spinner> counter=<&calls>" (the
 * spinner's calls, a long), then for each line:
 *	n K	K calls of up_fn here: "called n=<K>"
 *	w K	once the spinner has made K more calls (counted from the
 *		command on; one may have begun before it): "waited
 *		calls=<N>" (its calls then)
 *	s	the spinner stopped: "calls=<N>" (its calls)
 *	f	the faulter faults in up_fn and blocks in its handler:
 *		"faulted"
 *	r	the faulter let go, gone: "released"
 *	q	exit 0
 */
#include "victim.h"

#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>

void up_fn(const int *p);
__asm__(".text\n"
    ".globl up_fn\n"
    ".type up_fn, @function\n"
    "up_fn:\n"
    "	pause\n	pause\n	movl (%rdi), %eax\n"
    "	ret\n"
    ".size up_fn, .-up_fn\n");

static const int word = 1;
static sem_t faulted;		/* posted by the faulter's handler */
static int park[2];		/* the handler waits for a byte here */
static sigjmp_buf out;

static void
on_segv(int sig)
{
	char c;

	(void) sig;
	(void) sem_post(&faulted);
	while (read(park[0], &c, 1) < 0 && errno == EINTR)
		;
	siglongjmp(out, 1);
}

static void *
fault(void *arg)
{
	(void) arg;
	if (sigsetjmp(out, 1) == 0)
		up_fn(NULL);
	return NULL;
}

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

		up_fn(&word);
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
	struct sigaction sa;
	char line[256];
	pthread_t t, ft;

	v_init();
	(void) sem_init(&reached, 0, 0);
	(void) sem_init(&faulted, 0, 0);
	if (pipe(park) != 0)
		v_die("pipe");
	memset(&sa, 0, sizeof (sa));
	sa.sa_handler = on_segv;
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		v_die("sigaction");
	(void) pthread_barrier_init(&started, NULL, 2);
	if (pthread_create(&t, NULL, spin, NULL) != 0)
		v_die("pthread_create");
	(void) pthread_barrier_wait(&started);	/* its tid is known */
	printf("ready %d fn=%p tid=%d counter=%p\n", (int)getpid(),
	    (void *)up_fn, atomic_load(&spinner), (void *)&calls);
	while (v_getline(line, sizeof (line)) >= 0) {
		if (line[0] == 'n' && line[1] == ' ') {
			long n = atol(line + 2);

			for (long i = 0; i < n; i++)
				up_fn(&word);
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
		} else if (strcmp(line, "f") == 0) {
			if (pthread_create(&ft, NULL, fault, NULL) != 0)
				v_die("pthread_create");
			while (sem_wait(&faulted) != 0)
				;	/* EINTR */
			printf("faulted\n");
		} else if (strcmp(line, "r") == 0) {
			if (write(park[1], "r", 1) != 1)
				v_die("write");
			pthread_join(ft, NULL);
			printf("released\n");
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
