/*
 * regress MODE - victims of tests/core/regress.c, one per reviewed bug.
 *
 * fork:	ready <pid> bp_target=<addr>
 *		(go line) bp_target(1), then fork(); the child waits for
 *		a go line, calls bp_target(2) and _exits 42 (99 if the
 *		result is wrong)
 *		child=<pid>
 *		child_exit=<status> | child_signal=<signo>
 *		Exits 0.
 *
 * loop N:	SA_SIGINFO handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and
 *		SIGTRAP count the signals and check they came from our
 *		parent by tgkill().
 *		ready <pid> bp_target=<addr>
 *		(go line) bp_target(i) for i < N, then
 *		report sum=<S> blocked=<mask> segv=<n> bus=<n> ill=<n>
 *		    fpe=<n> trap=<n> sender_ok=<1|0>
 *		S = sum of bp_target(i) = N * N; mask: the signal mask
 *		(bit s-1 for signal s) after the loop; sender_ok=0 if any
 *		signal had another si_code or si_pid.  Exits 0.
 *
 * clonevm:	ready <pid>
 *		(go line) clone(CLONE_VM | SIGCHLD) without CLONE_VFORK:
 *		the child shares our memory, blocks reading a line from
 *		stdin and exits 7 (raw system calls only: it shares our
 *		TLS too).
 *		child=<pid>
 *		child_exit=<status> | child_signal=<signo>
 *		Exits 0.
 *
 * zleader:	a worker thread is started, then
 *		ready <pid>
 *		(go line) the main thread calls pthread_exit(); the worker
 *		joins it (so it is past its exit stop), raises SIGUSR1
 *		(handled, counted), and prints
 *		leader_gone usr1=<n>
 *		(go line) worker_exit, and exit(7).
 *
 * exec:	prints "ran <pid>" and exits 0 at once: a test sees whether
 *		any of it ran before it was told to.
 */
#define V_CHILDREN
#include "victim.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>

__attribute__((noinline)) int
bp_target(int x)
{
	return 2 * x + 1;
}

/* ---- fork ---- */

static int
mode_fork(void)
{
	pid_t c;

	printf("ready %d bp_target=%p\n", (int)getpid(), (void *)bp_target);
	if (v_wait_go() < 0)
		return 98;
	if (bp_target(1) != 3)
		return 99;
	if ((c = fork()) < 0)
		v_die("fork");
	if (c == 0) {
		if (v_wait_go() < 0)
			_exit(98);
		_exit(bp_target(2) == 5 ? 42 : 99);
	}
	v_report_child(c);
	return 0;
}

/* ---- loop ---- */

static volatile sig_atomic_t nsig[NSIG];
static volatile sig_atomic_t sender_bad;

static void
on_sync_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig > 0 && sig < NSIG)
		nsig[sig]++;
	if (si->si_code != SI_TKILL || si->si_pid != getppid())
		sender_bad = 1;
}

static unsigned long long
blocked_mask(void)
{
	unsigned long long m = 0;
	sigset_t cur;

	if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0)
		v_die("sigprocmask");
	for (int s = 1; s <= 64 && s < NSIG; s++) {
		if (sigismember(&cur, s) == 1)
			m |= 1ULL << (s - 1);
	}
	return m;
}

static int
mode_loop(int n)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
	struct sigaction sa;
	long sum = 0;

	memset(&sa, 0, sizeof (sa));
	sa.sa_sigaction = on_sync_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	for (size_t i = 0; i < sizeof (sigs) / sizeof (sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) != 0)
			v_die("sigaction");
	}
	printf("ready %d bp_target=%p\n", (int)getpid(), (void *)bp_target);
	if (v_wait_go() < 0)
		return 98;
	for (int i = 0; i < n; i++)
		sum += bp_target(i);
	printf("report sum=%ld blocked=%#llx segv=%d bus=%d ill=%d fpe=%d "
	    "trap=%d sender_ok=%d\n", sum, blocked_mask(), (int)nsig[SIGSEGV],
	    (int)nsig[SIGBUS], (int)nsig[SIGILL], (int)nsig[SIGFPE],
	    (int)nsig[SIGTRAP], !sender_bad);
	return 0;
}

/* ---- clonevm ---- */

static char clone_stack[256 * 1024] __attribute__((aligned(64)));

/* Shares our memory and TLS: nothing but raw system calls here. */
static int
clone_child(void *arg)
{
	char c;

	(void)arg;
	for (;;) {
		long r = syscall(SYS_read, 0, &c, 1);

		if (r == 1 && c == '\n')
			break;
		if (r == 0 || (r < 0 && errno != EINTR))
			syscall(SYS_exit, 98);
	}
	syscall(SYS_exit, 7);
	return 0;
}

static int
mode_clonevm(void)
{
	pid_t c;

	printf("ready %d\n", (int)getpid());
	if (v_wait_go() < 0)
		return 98;
	c = clone(clone_child, clone_stack + sizeof (clone_stack),
	    CLONE_VM | SIGCHLD, NULL);
	if (c < 0)
		v_die("clone");
	v_report_child(c);
	return 0;
}

/* ---- zleader ---- */

static pthread_mutex_t zmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t zcv = PTHREAD_COND_INITIALIZER;
static int zleaving;
static pthread_t zmain;
static volatile sig_atomic_t nusr1;

static void
on_usr1(int sig)
{
	(void)sig;
	nusr1++;
}

static void *
zworker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&zmu);
	while (!zleaving)
		pthread_cond_wait(&zcv, &zmu);
	pthread_mutex_unlock(&zmu);
	/* Returns once the kernel has cleared the leader's tid: past its
	   exit stop, a zombie (or nearly). */
	if ((errno = pthread_join(zmain, NULL)) != 0)
		v_die("pthread_join");
	raise(SIGUSR1);
	printf("leader_gone usr1=%d\n", (int)nusr1);
	if (v_wait_go() < 0)
		exit(98);
	printf("worker_exit\n");
	exit(7);
}

static int
mode_zleader(void)
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof (sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	zmain = pthread_self();
	if ((errno = pthread_create(&t, NULL, zworker, NULL)) != 0)
		v_die("pthread_create");
	printf("ready %d\n", (int)getpid());
	if (v_wait_go() < 0)
		return 98;
	pthread_mutex_lock(&zmu);
	zleaving = 1;
	pthread_cond_signal(&zcv);
	pthread_mutex_unlock(&zmu);
	pthread_exit(NULL);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	v_init();
	if (strcmp(mode, "fork") == 0)
		return mode_fork();
	if (strcmp(mode, "loop") == 0)
		return mode_loop(argc > 2 ? atoi(argv[2]) : 10);
	if (strcmp(mode, "clonevm") == 0)
		return mode_clonevm();
	if (strcmp(mode, "zleader") == 0)
		return mode_zleader();
	if (strcmp(mode, "exec") == 0) {
		printf("ran %d\n", (int)getpid());
		return 0;
	}
	fprintf(stderr, "regress: unknown mode \"%s\"\n", mode);
	return 2;
}
