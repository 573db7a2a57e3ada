/*
 * followv MODE - children for `trace -F` (tests/cli/follow.sh).  Every
 * process calls fv_work() a number of times known from its arguments,
 * so the count per process is exact.
 *
 *   work K      call fv_work() K times, exit 0
 *   fork N      call fv_work() 10 times; fork N children, child i
 *               (from 1) calls it i times and _exits; wait for them
 *   exec N      call fv_work() 10 times; fork N children, child i execs
 *               "followv work i"; wait for them
 *   vfork       call fv_work() 10 times; vfork a child that execs
 *               "followv work 3"; the parent then calls fv_work() 5 more
 *               times and checks its stack (a local) survived the child
 *   wait N      print "ready <pid>", wait for a go line, then as exec N
 *   park        print "ready <pid>", wait for a go line; handle SIGUSR1,
 *               block SIGUSR2, call fv_work() 10 times, fork a child
 *               that checks its mask and handler are its parent's,
 *               calls fv_work() 3 times, says what it found ("kid
 *               mask=ok handler=ok"), waits for a go line, raises SIGUSR1 ("kid done sig=ok")
 *               and exits 7; print "reaped N" (its exit status) and
 *               exit 0 if it was 7 (tests/cli/follow.sh: a child handed
 *               over, or left by a dtproc killed in the hand-off)
 * Each parent prints "child <pid> <i>" per child and exits 0 when every
 * child exited 0, else 1.
 */
#define V_CHILDREN
#include "victim.h"

#include <signal.h>
#include <sys/wait.h>

static volatile int fv_sink;

__attribute__((noinline)) void
fv_work(int x)
{
	fv_sink += x;
	__asm__ volatile("" ::: "memory");
}

static void
fv_calls(int n)
{
	for (int i = 0; i < n; i++)
		fv_work(i);
}

static volatile sig_atomic_t fv_usr1;

static void
fv_on_usr1(int sig)
{
	(void) sig;
	fv_usr1 = 1;
}

/* The park child: everything it inherited, as its parent left it. */
static void
fv_park_kid(void)
{
	struct sigaction sa;
	sigset_t cur;
	int mask_ok = 1;

	if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0)
		v_die("sigprocmask");
	for (int s = 1; s < SIGRTMIN; s++)
		if (sigismember(&cur, s) != (s == SIGUSR2))
			mask_ok = 0;
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		if (sigismember(&cur, s))
			mask_ok = 0;
	if (sigaction(SIGUSR1, NULL, &sa) != 0)
		v_die("sigaction");
	/* the calls first: a test that reads the line knows they are made */
	fv_calls(3);
	printf("kid mask=%s handler=%s\n", mask_ok ? "ok" : "bad",
	    sa.sa_handler == fv_on_usr1 ? "ok" : "bad");
	if (v_wait_go() < 0)
		_exit(98);
	(void) raise(SIGUSR1);
	printf("kid done sig=%s\n", fv_usr1 ? "ok" : "bad");
	_exit(7);
}

static int
fv_park(void)
{
	struct sigaction sa = { .sa_handler = fv_on_usr1 };
	sigset_t set;
	pid_t c;
	int st;

	printf("ready %d\n", (int)getpid());
	if (v_wait_go() < 0)
		return 98;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) != 0 ||
	    sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		v_die("signals");
	fv_calls(10);
	if ((c = fork()) < 0)
		v_die("fork");
	if (c == 0)
		fv_park_kid();
	printf("child %d 1\n", (int)c);
	while (waitpid(c, &st, 0) < 0) {
		if (errno != EINTR)
			v_die("waitpid");
	}
	printf("reaped %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return !(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

static int
fv_reap(int n)
{
	int bad = 0, st;

	for (int i = 0; i < n; i++) {
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	}
	return bad;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "work";
	int n = argc > 2 ? atoi(argv[2]) : 1;
	char self[4096];
	ssize_t len;

	v_init();
	if (strcmp(mode, "work") == 0) {
		fv_calls(n);
		return 0;
	}
	if (strcmp(mode, "park") == 0)
		return fv_park();
	if (strcmp(mode, "wait") == 0) {
		printf("ready %d\n", (int)getpid());
		if (v_wait_go() < 0)
			return 98;
		mode = "exec";
	}
	if ((len = readlink("/proc/self/exe", self, sizeof (self) - 1)) < 0)
		v_die("readlink");
	self[len] = '\0';
	fv_calls(10);
	if (strcmp(mode, "vfork") == 0) {
		volatile int guard = 12345;
		char *av[] = { "followv", "work", "3", NULL };
		pid_t c = vfork();

		if (c == 0) {
			execv(self, av);
			_exit(127);
		}
		if (c < 0)
			v_die("vfork");
		printf("child %d 1\n", (int)c);
		fv_calls(5);
		return fv_reap(1) || guard != 12345;
	}
	for (int i = 1; i <= n; i++) {
		pid_t c = fork();

		if (c < 0)
			v_die("fork");
		if (c == 0) {
			char k[16];
			char *av[] = { "followv", "work", k, NULL };

			if (strcmp(mode, "fork") == 0) {
				fv_calls(i);
				_exit(0);
			}
			snprintf(k, sizeof (k), "%d", i);
			execv(self, av);
			_exit(127);
		}
		printf("child %d %d\n", (int)c, i);
	}
	return fv_reap(n);
}
