/*
 * trampv [T] - patched sites (tests/core/tramp.c): T worker threads
 * (default 0), driven by lines on stdin.
 *
 *	ready <pid> target=<a> target2=<a> block=<a> threads=<T>
 *
 * Commands (one a line; empty lines are ignored):
 *	c K	K calls tr_target(i, 7) here: "sum=<S> n=<K>"
 *	t K	K calls tr_target2(i) here: "sum2=<S>"
 *	busy	workers call tr_target (and every 256th time tr_target2)
 *		until "q", checking every result; then "busy calls=<N>
 *		bad=<B>", exit 0 if B=0
 *	s K	K calls of tr_target here (and more until 50 signals came)
 *		while a thread sends us SIGUSR1, whose handler calls it too:
 *		"sig calls=<N> handled=<H> bad=<B>"
 *	b	"blocking", then tr_block() reads one byte of stdin, its
 *		system call the window's 2nd instruction: "unblocked"
 *	f K	fork: the child calls tr_target K times, says "child
 *		pid=<P> sum=<S>", reads a line, exits 0; "child_exit=<E>"
 *	v	vfork: the child says "vchild tracer=<T> traceme=<R>"
 *		(TracerPid before PTRACE_TRACEME, its result), reads one
 *		byte, _exits 0; then "vfork_exit=<E>"
 *	e	exec ourselves again (the new image says ready)
 *	d LIB K	dlopen LIB, "lib fn=<a>", wait a line, K calls of its
 *		probelib_fn: "lsum=<S>", wait a line, dlclose: "closed"
 *	q	exit 0
 */
#define V_THREADS
#define V_CHILDREN
#define V_SIGNALS
#include "victim.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ptrace.h>

__attribute__((noinline)) long
tr_target(long a, long b)
{
	return a * 3 + b;
}

__attribute__((noinline)) long
tr_target2(long a)
{
	long r = a;

	for (int i = 0; i < 3; i++)
		r = r * 5 + 1;
	return r;
}

static long
want2(long a)
{
	return ((a * 5 + 1) * 5 + 1) * 5 + 1;
}

/*
 * read(2) with the system call as the second instruction: a thread
 * blocked in it has its pc inside a 5-byte window at tr_block.
 */
long tr_block(int fd, void *buf, size_t n);
__asm__(".text\n"
	".globl tr_block\n"
	".type tr_block, @function\n"
	"tr_block:\n"
	"	xorl %eax, %eax\n"
	"	syscall\n"
	"	ret\n"
	"	.byte 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90\n"
	".size tr_block, .-tr_block\n");

static int nthr;
static pthread_t workers[64];
static atomic_int stop;
static atomic_long calls, bad;
static volatile sig_atomic_t hcalls, hbad;

static void *
worker(void *arg)
{
	long i = (long)arg, n = 0, b = 0;

	while (!atomic_load(&stop)) {
		if (tr_target(i, 7) != i * 3 + 7)
			b++;
		/* the trap site sparsely: a stop costs tens of us */
		if ((n & 255) == 0 && tr_target2(i) != want2(i))
			b++;
		n++;
		i++;
	}
	atomic_fetch_add(&calls, n);
	atomic_fetch_add(&bad, b);
	return NULL;
}

static void
on_usr1(int sig)
{
	(void) sig;
	if (tr_target(5, 1) != 16)
		hbad++;
	hcalls++;
}

static void *
kicker(void *arg)
{
	pthread_t main_thread = *(pthread_t *)arg;

	/* one signal at a time: the next once the last was handled */
	while (!atomic_load(&stop)) {
		sig_atomic_t seen = hcalls;

		pthread_kill(main_thread, SIGUSR1);
		while (hcalls == seen && !atomic_load(&stop))
			sched_yield();
	}
	return NULL;
}

/* TracerPid, read without stdio (a vfork child must not allocate). */
static long
tracer_pid(void)
{
	char buf[4096], *p;
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof (buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "TracerPid:");
	return p != NULL ? atol(p + 10) : -1;
}

static void
cmd_sig(long k)
{
	pthread_t self = pthread_self(), kt;
	long b = 0, i;

	v_catch(SIGUSR1, on_usr1, SA_RESTART);
	atomic_store(&stop, 0);
	hcalls = hbad = 0;
	if ((errno = pthread_create(&kt, NULL, kicker, &self)) != 0)
		v_die("pthread_create");
	/* K calls at least, and on until 50 signals came */
	for (i = 0; i < k || hcalls < 50; i++) {
		if (tr_target(i, 2) != i * 3 + 2)
			b++;
	}
	atomic_store(&stop, 1);
	pthread_join(kt, NULL);
	signal(SIGUSR1, SIG_IGN);
	printf("sig calls=%ld handled=%ld bad=%ld\n", i + (long)hcalls,
	    (long)hcalls, b + (long)hbad);
}

static void
cmd_fork(long k)
{
	char buf[64];
	pid_t c = fork();

	if (c < 0)
		v_die("fork");
	if (c == 0) {
		long s = 0;

		for (long i = 0; i < k; i++)
			s += tr_target(i, 7);
		printf("child pid=%d sum=%ld\n", (int)getpid(), s);
		(void) v_getline(buf, sizeof (buf));
		_exit(0);
	}
	v_report_child(c);
}

static void
cmd_vfork(void)
{
	char line[128], b;
	int st;
	pid_t c;

	c = vfork();
	if (c < 0)
		v_die("vfork");
	if (c == 0) {
		long t = tracer_pid();
		long r = ptrace(PTRACE_TRACEME, 0, 0, 0);
		int n = snprintf(line, sizeof (line),
		    "vchild tracer=%ld traceme=%ld\n", t, r);

		(void) write(1, line, (size_t)n);
		(void) read(0, &b, 1);
		_exit(0);
	}
	while (waitpid(c, &st, 0) < 0) {
		if (errno != EINTR)
			v_die("waitpid");
	}
	printf("vfork_exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) :
	    128 + WTERMSIG(st));
}

static void
cmd_dl(const char *lib, long k)
{
	char buf[64];
	void *h = dlopen(lib, RTLD_NOW);
	int (*fn)(int);
	long s = 0;

	if (h == NULL || (fn = (int (*)(int))dlsym(h, "probelib_fn")) ==
	    NULL) {
		printf("dlerror %s\n", dlerror());
		return;
	}
	printf("lib fn=%p\n", (void *)fn);
	(void) v_getline(buf, sizeof (buf));
	for (long i = 0; i < k; i++)
		s += fn((int)i);
	printf("lsum=%ld\n", s);
	(void) v_getline(buf, sizeof (buf));
	dlclose(h);
	printf("closed\n");
}

int
main(int argc, char **argv)
{
	char line[4096], arg[4096];
	long k;

	v_init();
	nthr = argc > 1 ? atoi(argv[1]) : 0;
	if (nthr < 0 || nthr > 64)
		nthr = 0;
	printf("ready %d target=%p target2=%p block=%p threads=%d\n",
	    (int)getpid(), (void *)tr_target, (void *)tr_target2,
	    (void *)tr_block, nthr);
	while (v_getline(line, sizeof (line)) >= 0) {
		k = 0;
		arg[0] = '\0';
		if (line[0] == '\0')
			continue;
		if (line[0] == 'c' && sscanf(line + 1, "%ld", &k) == 1) {
			long s = 0;

			for (long i = 0; i < k; i++)
				s += tr_target(i, 7);
			printf("sum=%ld n=%ld\n", s, k);
		} else if (line[0] == 't' && sscanf(line + 1, "%ld", &k) == 1) {
			long s = 0;

			for (long i = 0; i < k; i++)
				s += tr_target2(i);
			printf("sum2=%ld\n", s);
		} else if (strcmp(line, "busy") == 0) {
			for (long i = 0; i < nthr; i++) {
				if ((errno = pthread_create(&workers[i], NULL,
				    worker, (void *)(i * 1000000))) != 0)
					v_die("pthread_create");
			}
			printf("busy started\n");
		} else if (line[0] == 's' && sscanf(line + 1, "%ld", &k) == 1) {
			cmd_sig(k);
		} else if (strcmp(line, "b") == 0) {
			char c;

			printf("blocking\n");
			(void) tr_block(0, &c, 1);
			printf("unblocked\n");
		} else if (line[0] == 'f' && sscanf(line + 1, "%ld", &k) == 1) {
			cmd_fork(k);
		} else if (strcmp(line, "v") == 0) {
			cmd_vfork();
		} else if (strcmp(line, "e") == 0) {
			char *av[] = { argv[0], NULL };

			execv("/proc/self/exe", av);
			v_die("execv");
		} else if (line[0] == 'd' &&
		    sscanf(line + 1, "%4095s %ld", arg, &k) == 2) {
			cmd_dl(arg, k);
		} else if (strcmp(line, "q") == 0) {
			break;
		} else {
			printf("unknown %s\n", line);
		}
	}
	if (nthr > 0 && workers[0] != 0) {
		atomic_store(&stop, 1);
		for (int i = 0; i < nthr; i++)
			pthread_join(workers[i], NULL);
		printf("busy calls=%ld bad=%ld\n", atomic_load(&calls),
		    atomic_load(&bad));
		return atomic_load(&bad) == 0 ? 0 : 3;
	}
	return 0;
}
