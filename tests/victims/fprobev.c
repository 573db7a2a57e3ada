/*
 * fprobev - the victim of the function-probe tests (tests/core/fprobe.c):
 * functions entered and left in every way a return probe must follow.
 *
 * Prints "ready <pid>", then for each line read:
 *	a A0 .. A7	fp_args(A0..A7): args r=<sum>
 *	r N		fp_rec(N) = N + ... + 1: rec r=<r>
 *	n N		fp_target(i), i < N, on the main thread:
 *			calls sum=<sum>
 *	t N		eight threads each call fp_target(i), i < N:
 *			threads sum=<sum>
 *	j		fp_jump longjmps out (of fp_jumper), then
 *			fp_target(5): jumped r=16
 *	u		fp_co swaps to a coroutine (its own mmap'd stack)
 *			whose fp_yield swaps back before returning; fp_co
 *			returns, the coroutine is resumed and ends:
 *			context r=<r>
 *	s		on a thread whose sigaltstack lies above its stack,
 *			fp_sig raises SIGUSR1, whose handler calls
 *			fp_rec(3): signal r=<r>
 *	l		fp_tail(21), a tail call of fp_leaf: tail r=42
 *	p		a thread calls fp_pexit, which calls pthread_exit:
 *			pexit
 *	f		fp_fork forks; the child calls fp_target(1) and
 *			exits 7 from main: forked st=<wait status>
 *	v		fp_vfork vforks; the child calls fp_target(1) and
 *			_exits 9: vforked st=<wait status>
 *	o X		fp_small(X) = (X + 1)^2: small r=<r>
 *	d LIB		dlopen(LIB); its fpc_call calls fp_cbjump, which
 *			longjmps out; LIB is closed with that call
 *			pending, then fp_target(5): dlclosed r=16
 *	b N		a thread blocking every signal calls fp_target(i),
 *			i < N, its mask checked after each call:
 *			blocked sum=<sum> bad=<mask changes + strays>
 *			own=-1
 *	B N		the same with a SIGURG of its own pending:
 *			own=<1: found once, as sent>
 *	e N		fp_exit(N): exit(N) from inside
 *	q		bye; exits 0 (EOF as well)
 * fp_target(x) = 3x + 1.
 */
#include "victim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>

#define NOINL __attribute__((noinline))

NOINL long
fp_target(long x)
{
	return 3 * x + 1;
}

NOINL long
fp_args(long a0, long a1, long a2, long a3, long a4, long a5, long a6,
    long a7)
{
	return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

NOINL long
fp_rec(long n)
{
	if (n <= 0)
		return 0;
	return n + fp_rec(n - 1);
}

static jmp_buf fp_jb;

NOINL void
fp_jump(int v)
{
	longjmp(fp_jb, v);
}

/*
 * fp_jump's return address is in here, which nothing reaches once it
 * jumped (in main, after the call, it would be where setjmp's second
 * return falls through to, in main's own frame: a return to the eye).
 */
NOINL static void
fp_jumper(void)
{
	fp_jump(1);
	abort();
}

NOINL int
fp_cbjump(int x)
{
	longjmp(fp_jb, x);
}

/* fp_leaf(x) = 2x; fp_tail jumps to it, its return is fp_leaf's. */
long fp_small(long x);
long fp_tail(long x);
__asm__(
"	.text\n"
"	.globl fp_leaf\n"
"	.type fp_leaf, @function\n"
"fp_leaf:\n"
"	leaq (%rdi,%rdi), %rax\n"
"	ret\n"
"	.size fp_leaf, .-fp_leaf\n"
"	.globl fp_tail\n"
"	.type fp_tail, @function\n"
"fp_tail:\n"
"	nop\n"
"	jmp fp_leaf\n"
"	.size fp_tail, .-fp_tail\n"
"	.globl fp_small\n"
"	.type fp_small, @function\n"
"fp_small:\n"
"	movq %rdi, %rax\n"		/* 0: 3 bytes */
"	addq $1, %rax\n"		/* 3: 4 bytes */
"	imulq %rax, %rax\n"		/* 7: 4 bytes */
"	ret\n"				/* 11: 1 byte */
"	.size fp_small, .-fp_small\n");

static ucontext_t fp_main_uc, fp_co_uc;

NOINL long
fp_yield(long x)
{
	if (swapcontext(&fp_co_uc, &fp_main_uc) != 0)
		v_die("swapcontext");
	return x + 1;
}

static long fp_co_r;

static void
fp_coroutine(void)
{
	fp_co_r = fp_yield(10);
}

NOINL long
fp_co(void)
{
	if (swapcontext(&fp_main_uc, &fp_co_uc) != 0)
		v_die("swapcontext");
	return 5;
}

static long fp_sig_r;

static void
fp_handler(int sig)
{
	(void) sig;
	fp_sig_r = fp_rec(3);
}

NOINL long
fp_sig(long x)
{
	raise(SIGUSR1);
	return x + fp_sig_r;
}

static void *fp_altstack;

static void *
fp_sig_thread(void *arg)
{
	stack_t ss = { .ss_sp = fp_altstack, .ss_size = 1 << 16 };
	struct sigaction sa = { .sa_handler = fp_handler,
	    .sa_flags = SA_ONSTACK };

	if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0)
		v_die("sigaltstack");
	*(long *)arg = fp_sig(100);
	return NULL;
}

NOINL void
fp_pexit(void)
{
	pthread_exit(NULL);
}

static void *
fp_pexit_thread(void *arg)
{
	(void) arg;
	fp_pexit();
	return NULL;
}

NOINL pid_t
fp_fork(void)
{
	return fork();
}

NOINL pid_t
fp_vfork(void)
{
	pid_t pid = vfork();

	if (pid == 0) {
		(void) fp_target(1);
		_exit(9);
	}
	return pid;
}

NOINL void
fp_exit(int st)
{
	exit(st);
}

static long fp_tn;

static void *
fp_worker(void *arg)
{
	long s = 0;

	for (long i = 0; i < fp_tn; i++)
		s += fp_target(i);
	*(long *)arg = s;
	return NULL;
}

/*
 * "b N" / "B N": a thread blocking every signal calls fp_target N
 * times, checking its mask after each call; with B a SIGURG of its own
 * is pending throughout (sent to itself first), and must be there once
 * after: one sigtimedwait takes it, from this process, and a second
 * finds nothing.
 */
static long fp_bn;
static int fp_bown;

static void *
fp_blocked(void *arg)
{
	sigset_t all, want, got;
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	long s = 0, bad = 0, own = -1;

	sigfillset(&all);
	if (pthread_sigmask(SIG_BLOCK, &all, NULL) != 0 ||
	    pthread_sigmask(SIG_BLOCK, NULL, &want) != 0)
		v_die("sigmask");
	/* sent as the gate sends its own: the tracer cannot tell them apart */
	if (fp_bown && syscall(SYS_tgkill, getpid(), gettid(), SIGURG) != 0)
		v_die("tgkill");
	for (long i = 0; i < fp_bn; i++) {
		s += fp_target(i);
		if (pthread_sigmask(SIG_BLOCK, NULL, &got) != 0)
			v_die("sigmask");
		for (int k = 1; k < SIGRTMAX; k++)
			bad += sigismember(&got, k) != sigismember(&want, k);
	}
	sigemptyset(&got);
	if (sigpending(&got) != 0)
		v_die("sigpending");
	/* anything pending but our own SIGURG is a stray */
	for (int k = 1; k < SIGRTMAX; k++)
		bad += k != SIGURG && sigismember(&got, k);
	if (fp_bown) {
		sigemptyset(&got);
		sigaddset(&got, SIGURG);
		/* (glibc shows SI_TKILL as SI_USER here) */
		own = sigtimedwait(&got, &si, &zero) == SIGURG &&
		    si.si_pid == getpid();
		own += sigtimedwait(&got, &si, &zero) == SIGURG;
	} else {
		bad += sigismember(&got, SIGURG);
	}
	((long *)arg)[0] = s;
	((long *)arg)[1] = bad;
	((long *)arg)[2] = own;
	return NULL;
}

int
main(void)
{
	char line[512];

	v_init();
	printf("ready %d\n", (int)getpid());
	while (v_getline(line, sizeof (line)) >= 0) {
		long a[8] = { 0 };

		if (line[0] == 'a' && line[1] == ' ') {
			char *p = line + 2;

			for (int i = 0; i < 8; i++)
				a[i] = strtol(p, &p, 0);
			printf("args r=%ld\n", fp_args(a[0], a[1], a[2], a[3],
			    a[4], a[5], a[6], a[7]));
		} else if (line[0] == 'r' && line[1] == ' ') {
			printf("rec r=%ld\n", fp_rec(atol(line + 2)));
		} else if (line[0] == 'n' && line[1] == ' ') {
			long n = atol(line + 2), sum = 0;

			for (long i = 0; i < n; i++)
				sum += fp_target(i);
			printf("calls sum=%ld\n", sum);
		} else if (line[0] == 't' && line[1] == ' ') {
			pthread_t t[8];
			long s[8], sum = 0;

			fp_tn = atol(line + 2);
			for (int i = 0; i < 8; i++)
				if (pthread_create(&t[i], NULL, fp_worker,
				    &s[i]) != 0)
					v_die("thread");
			for (int i = 0; i < 8; i++) {
				(void) pthread_join(t[i], NULL);
				sum += s[i];
			}
			printf("threads sum=%ld\n", sum);
		} else if ((line[0] == 'b' || line[0] == 'B') &&
		    line[1] == ' ') {
			pthread_t t;
			long r[3];

			fp_bn = atol(line + 2);
			fp_bown = line[0] == 'B';
			if (pthread_create(&t, NULL, fp_blocked, r) != 0)
				v_die("thread");
			(void) pthread_join(t, NULL);
			printf("blocked sum=%ld bad=%ld own=%ld\n", r[0], r[1],
			    r[2]);
		} else if (strcmp(line, "j") == 0) {
			if (setjmp(fp_jb) == 0)
				fp_jumper();
			printf("jumped r=%ld\n", fp_target(5));
		} else if (strcmp(line, "u") == 0) {
			size_t sz = 1 << 16;
			void *stk = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			long r;

			if (stk == MAP_FAILED || getcontext(&fp_co_uc) != 0)
				v_die("context");
			fp_co_uc.uc_stack.ss_sp = stk;
			fp_co_uc.uc_stack.ss_size = sz;
			fp_co_uc.uc_link = &fp_main_uc;
			makecontext(&fp_co_uc, fp_coroutine, 0);
			r = fp_co();
			/* resume it: fp_yield returns, the coroutine ends */
			if (swapcontext(&fp_main_uc, &fp_co_uc) != 0)
				v_die("swapcontext");
			printf("context r=%ld\n", r + fp_co_r);
		} else if (strcmp(line, "s") == 0) {
			/* the altstack first: the thread's stack maps below */
			size_t sz = 1 << 20;
			void *stk;
			pthread_attr_t at;
			pthread_t t;
			long r = 0;

			/*
			 * A guard page under it, as under a thread's stack:
			 * else the kernel merges the two mappings into one.
			 */
			char *alt = mmap(NULL, (1 << 16) + 4096, PROT_READ |
			    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (alt == MAP_FAILED ||
			    mprotect(alt, 4096, PROT_NONE) != 0)
				v_die("mmap");
			fp_altstack = alt + 4096;
			stk = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (stk == MAP_FAILED ||
			    (uintptr_t)stk > (uintptr_t)fp_altstack)
				v_die("mmap");
			(void) pthread_attr_init(&at);
			(void) pthread_attr_setstack(&at, stk, sz);
			if (pthread_create(&t, &at, fp_sig_thread, &r) != 0)
				v_die("thread");
			(void) pthread_join(t, NULL);
			printf("signal r=%ld\n", r);
		} else if (strcmp(line, "l") == 0) {
			printf("tail r=%ld\n", fp_tail(21));
		} else if (strcmp(line, "p") == 0) {
			pthread_t t;

			if (pthread_create(&t, NULL, fp_pexit_thread,
			    NULL) != 0)
				v_die("thread");
			(void) pthread_join(t, NULL);
			printf("pexit\n");
		} else if (strcmp(line, "f") == 0) {
			pid_t pid = fp_fork();
			int st = 0;

			if (pid == 0) {
				(void) fp_target(1);
				_exit(7);
			}
			(void) waitpid(pid, &st, 0);
			printf("forked st=%d\n", st);
		} else if (strcmp(line, "v") == 0) {
			int st = 0;

			(void) waitpid(fp_vfork(), &st, 0);
			printf("vforked st=%d\n", st);
		} else if (line[0] == 'o' && line[1] == ' ') {
			printf("small r=%ld\n", fp_small(atol(line + 2)));
		} else if (line[0] == 'd' && line[1] == ' ') {
			void *h = dlopen(line + 2, RTLD_NOW);
			int (*call)(int (*)(int), int);

			if (h == NULL || (call = (int (*)(int (*)(int), int))
			    dlsym(h, "fpc_call")) == NULL)
				v_die("dlopen");
			if (setjmp(fp_jb) == 0)
				(void) call(fp_cbjump, 2);
			if (dlclose(h) != 0)
				v_die("dlclose");
			printf("dlclosed r=%ld\n", fp_target(5));
		} else if (line[0] == 'e' && line[1] == ' ') {
			fp_exit(atoi(line + 2));
		} else if (strcmp(line, "q") == 0) {
			break;
		}
	}
	printf("bye\n");
	return 0;
}
