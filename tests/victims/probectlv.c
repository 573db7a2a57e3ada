/*
 * probectlv - the victim of the control layer's probe tests
 * (tests/core/ctl_probe.c) and of trace's trampoline tests: a function
 * to count, a thread to call it on, a library to load and unload.
 *
 * Prints "ready <pid> target=<pc_target>", then for each line read:
 *	c N	calls pc_target(i) for i < N: called n=<N> sum=<sum>
 *	t N	a new thread calls it N times: thread tid=<tid> sum=<sum>
 *	o LIB	dlopen(LIB), dyn_fn(3) twice: opened fn=<dyn_fn> r=<r>
 *	x	dlclose of it: closed
 *	k N	calls pc_loop(5) N times: looped n=<N> sum=<sum>
 *	l N	N rounds, each N calls then "round <i>" (a long run the
 *		test reads round by round, for trace --interval)
 *	q	bye; exits 0 (EOF as well)
 * pc_target(x) = 3x + 1.  pc_loop(x) = x + (x-1) + ... + 1 (x > 0), a
 * loop whose branch lands 2 bytes into the function: no jump can be
 * written over its first 5 bytes, it stays an int3.  Never sleeps.
 */
#include "victim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>

__attribute__((noinline)) long
pc_target(long x)
{
	return 3 * x + 1;
}

long pc_loop(long x);
__asm__(
"	.text\n"
"	.globl pc_loop\n"
"	.type pc_loop, @function\n"
"pc_loop:\n"
"	xorl %eax, %eax\n"
"1:	addl %edi, %eax\n"
"	decl %edi\n"
"	jnz 1b\n"
"	ret\n"
"	.size pc_loop, .-pc_loop\n");

static long
calls(long n)
{
	long s = 0;

	for (long i = 0; i < n; i++)
		s += pc_target(i);
	return s;
}

struct work {
	long n, sum;
	pid_t tid;
};

static void *
worker(void *arg)
{
	struct work *w = arg;

	w->tid = (pid_t)syscall(SYS_gettid);
	w->sum = calls(w->n);
	return NULL;
}

int
main(void)
{
	char line[512];
	void *h = NULL;

	v_init();
	printf("ready %d target=%p\n", (int)getpid(), (void *)pc_target);
	while (v_getline(line, sizeof (line)) >= 0) {
		if (line[0] == 'c' && line[1] == ' ') {
			long n = atol(line + 2);

			printf("called n=%ld sum=%ld\n", n, calls(n));
		} else if (line[0] == 't' && line[1] == ' ') {
			struct work w = { .n = atol(line + 2) };
			pthread_t t;

			if (pthread_create(&t, NULL, worker, &w) != 0 ||
			    pthread_join(t, NULL) != 0)
				v_die("thread");
			printf("thread tid=%d sum=%ld\n", (int)w.tid, w.sum);
		} else if (line[0] == 'o' && line[1] == ' ') {
			int (*fn)(int);
			int r;

			if ((h = dlopen(line + 2, RTLD_NOW)) == NULL ||
			    (fn = (int (*)(int))dlsym(h, "dyn_fn")) == NULL) {
				fprintf(stderr, "probectlv: %s\n", dlerror());
				return 111;
			}
			r = fn(3);
			if (fn(3) != r)
				return 99;
			printf("opened fn=%p r=%d\n", (void *)fn, r);
		} else if (strcmp(line, "x") == 0) {
			if (h == NULL || dlclose(h) != 0)
				return 97;
			h = NULL;
			printf("closed\n");
		} else if (line[0] == 'k' && line[1] == ' ') {
			long n = atol(line + 2), sum = 0;

			for (long i = 0; i < n; i++)
				sum += pc_loop(5);
			printf("looped n=%ld sum=%ld\n", n, sum);
		} else if (line[0] == 'l' && line[1] == ' ') {
			long n = atol(line + 2);

			for (long i = 0; i < n; i++) {
				(void) calls(n);
				printf("round %ld\n", i);
			}
		} else if (strcmp(line, "q") == 0) {
			break;
		}
	}
	printf("bye\n");
	return 0;
}
