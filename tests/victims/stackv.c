/*
 * stackv - known call chains for the unwinder (src/unwind), built at -O2
 * without frame pointers (VICTIM_FLAGS_stackv), so only CFI can walk it.
 *
 *	stackv MODE [LIB]
 *
 * Prints "ready <pid> ..." and then blocks in read(0) at a known depth:
 *	chain	main -> a -> ns::b(int) -> c -> read
 *	qsort	main -> a -> qsort -> ... -> cmp_block -> read
 *	signal	main -> a -> ns::b -> c -> kill; SIGUSR1's handler on_sig
 *		-> read (across the signal frame, __restore_rt)
 *	dl	main -> LIB's dl_a -> dl_b -> dl_c -> read (dlopen'd)
 *	dllater	as chain; after one byte, dlopen LIB, print "dl", then
 *		LIB's chain blocks in read
 *	threads	three threads, each its own chain to thr_leaf -> read,
 *		"ready <pid> t1=TID t2=TID t3=TID"; main joins them
 *	bp	waits for a "g" line, then runs the chain without blocking
 *	jit	main -> a -> ns::b -> c -> JIT code (anonymous memory, with a
 *		frame pointer, no CFI) -> jit_block -> read
 * Each read takes one byte; then it prints "done N" and exits 0.
 * ns::b is C's b with a C++ mangled name (_ZN2ns1bEi), for demangling.
 */
#include "victim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define NOINL __attribute__((noinline, noclone))
#define BARRIER() __asm__ volatile("" ::: "memory")

enum { M_CHAIN, M_QSORT, M_SIGNAL, M_DL, M_DLLATER, M_THREADS, M_BP,
    M_JIT };
static volatile int mode;
static const char *lib;

static int
block(void)
{
	char ch;
	ssize_t r;

	do
		r = read(0, &ch, 1);
	while (r < 0 && errno == EINTR);
	return (int)r;
}

NOINL void
on_sig(int sig)
{
	char ch;

	/* read directly: the handler's own frame must be the caller */
	while (read(0, &ch, 1) < 0 && errno == EINTR)
		;
	BARRIER();
	(void) sig;
}

NOINL int
cmp_block(const void *x, const void *y)
{
	static int blocked;
	char ch;

	if (!blocked) {
		blocked = 1;
		while (read(0, &ch, 1) < 0 && errno == EINTR)
			;
	}
	BARRIER();
	return *(const int *)x - *(const int *)y;
}

NOINL int
jit_block(void)
{
	char ch;
	int r = (int)read(0, &ch, 1);

	BARRIER();
	return r;
}

/* JIT code: push %rbp; mov %rsp,%rbp; call *%rdi; pop %rbp; ret */
NOINL int
jit_call(void)
{
	static const unsigned char code[] = { 0x55, 0x48, 0x89, 0xe5, 0xff,
	    0xd7, 0x5d, 0xc3 };
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int (*fn)(int (*)(void));

	if (p == MAP_FAILED)
		v_die("mmap");
	memcpy(p, code, sizeof (code));
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
		v_die("mprotect");
	*(void **)&fn = p;
	return fn(jit_block);
}

NOINL int
c(int x)
{
	char ch;
	int r = 0;

	if (mode == M_JIT)
		r = jit_call();
	else if (mode == M_SIGNAL)
		r = kill(getpid(), SIGUSR1);
	else if (mode != M_BP)
		r = (int)read(0, &ch, 1);
	BARRIER();
	return r + x;
}

NOINL int b(int x) __asm__("_ZN2ns1bEi");
NOINL int
b(int x)
{
	int r = c(x + 1);

	BARRIER();
	return r * 3;
}

NOINL int
a(int x)
{
	int r;

	if (mode == M_QSORT) {
		int v[4] = { 4, 2, 3, 1 };

		qsort(v, 4, sizeof (int), cmp_block);
		r = v[0];
	} else {
		r = b(x + 1);
	}
	BARRIER();
	return r - 1;
}

static int
dl_call(void)
{
	void *h = dlopen(lib, RTLD_NOW);
	int (*fn)(int);

	if (h == NULL) {
		fprintf(stderr, "stackv: %s\n", dlerror());
		exit(111);
	}
	*(void **)&fn = dlsym(h, "dl_a");
	if (fn == NULL)
		exit(111);
	return fn(1);
}

/* ---- threads: three chains, none shared ---- */

static pid_t tids[3];
static pthread_barrier_t bar;

NOINL int
thr_leaf(int x)
{
	int r = block();

	BARRIER();
	return r + x;
}

NOINL int
one_top(int x)
{
	int r = thr_leaf(x);

	BARRIER();
	return r + 1;
}

NOINL int
two_low(int x)
{
	int r = thr_leaf(x);

	BARRIER();
	return r + 2;
}

NOINL int
two_top(int x)
{
	int r = two_low(x);

	BARRIER();
	return r + 2;
}

NOINL int
three_low(int x)
{
	int r = thr_leaf(x);

	BARRIER();
	return r + 3;
}

NOINL int
three_mid(int x)
{
	int r = three_low(x);

	BARRIER();
	return r + 3;
}

NOINL int
three_top(int x)
{
	int r = three_mid(x);

	BARRIER();
	return r + 3;
}

static void *
thr_main(void *arg)
{
	long i = (long)arg;
	static int (*const tops[3])(int) = { one_top, two_top, three_top };

	tids[i] = (pid_t)syscall(SYS_gettid);
	(void) pthread_barrier_wait(&bar);
	return (void *)(long)tops[i]((int)i);
}

int
main(int argc, char **argv)
{
	static const char *modes[] = { "chain", "qsort", "signal", "dl",
	    "dllater", "threads", "bp", "jit" };
	struct sigaction sa;
	pthread_t th[3];
	int r = 0;

	v_init();
	(void) prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	if (argc < 2)
		return 2;
	mode = -1;
	for (int i = 0; i < (int)(sizeof (modes) / sizeof (*modes)); i++)
		if (strcmp(argv[1], modes[i]) == 0)
			mode = i;
	if (mode < 0 || ((mode == M_DL || mode == M_DLLATER) && argc < 3))
		return 2;
	lib = argv[2];
	memset(&sa, 0, sizeof (sa));
	sa.sa_handler = on_sig;
	(void) sigaction(SIGUSR1, &sa, NULL);

	switch (mode) {
	case M_THREADS:
		(void) pthread_barrier_init(&bar, NULL, 4);
		for (long i = 0; i < 3; i++)
			(void) pthread_create(&th[i], NULL, thr_main,
			    (void *)i);
		(void) pthread_barrier_wait(&bar);
		printf("ready %d t1=%d t2=%d t3=%d\n", (int)getpid(),
		    (int)tids[0], (int)tids[1], (int)tids[2]);
		for (int i = 0; i < 3; i++) {
			void *rv;

			(void) pthread_join(th[i], &rv);
			r += (int)(long)rv;
		}
		break;
	case M_DL:
		printf("ready %d\n", (int)getpid());
		r = dl_call();
		break;
	case M_BP: {
		char line[64];

		printf("ready %d\n", (int)getpid());
		if (v_getline(line, sizeof (line)) < 0)
			return 3;
		r = a(argc);
		break;
	}
	default:
		printf("ready %d\n", (int)getpid());
		r = a(argc);
		if (mode == M_DLLATER) {
			printf("dl\n");
			r += dl_call();
		}
		break;
	}
	printf("done %d\n", r);
	return 0;
}
