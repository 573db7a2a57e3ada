/*
 * probev MODE ... - the function-probe victim: calls known functions a
 * known number of times, so `dtproc trace` counts can be checked exactly
 * (and against the kernel's uprobes).
 *
 * One "round" of work(i) calls, in this order:
 *	probe_target(i)		C; its first instruction depends on the build:
 *				push %rbp (probev, -O0), imul (probev_o2),
 *				endbr64 (probev_cet)
 *	probe_other(i)		C, only when i is odd (so N/2 per N rounds)
 *	probe_rip(i)		asm; starts with a RIP-relative load
 *	probe_jmp(i)		asm; starts with a jmp rel32 over a ud2
 *	probe_call(i)		asm; starts with a call rel32 to a helper
 * The asm functions fault (ud2) or return a wrong value if the tracer
 * carries a thread past their first instruction wrongly; every result is
 * summed and printed, so a wrong value changes the output.
 *
 * Modes (each prints what it did, nothing run-dependent, except busy):
 *   loop N		N rounds:
 *			loop target=N other=N/2 rip=N jmp=N call=N sum=S
 *   threads T N	T threads, released together by a barrier, N rounds
 *			each: threads T rounds=T*N sum=S
 *   dlopen LIB N	dlopen(LIB), N calls of its probelib_fn, dlclose (and
 *			check it is gone), dlopen again, N more calls:
 *			dlopen first calls=N unloaded=yes / dlopen second ...
 *   fork N | vfork N | spawn N
 *			N rounds; a child (fork, vfork, or posix_spawn of
 *			ourselves as "child N") does N rounds and exits 42;
 *			the parent checks that, then does N more rounds.
 *			Exits 0 if the child exited 42, else 3.
 *   exec K N		N rounds, then exec ourselves as "exec K-1 N" until
 *			K is 0: K+1 images, (K+1)*N rounds.
 *   signals N M	main does N rounds while a second thread sends it M
 *			SIGUSR1s, one at a time (each waits for the last to
 *			be handled); the handler does one round, so probes
 *			are hit inside handlers that land mid-hit:
 *			signals rounds=N+M handled=M sum=S
 *   churn K N		K times: 4 threads do N rounds each and are joined,
 *			so threads come and go while probes fire:
 *			churn rounds=4*K*N sum=S
 *   execthr N		3 threads call probe_target and probe_other without
 *			end; a 4th does 100 rounds and execs us as "exec 0 N"
 *			from that non-leader thread while they run:
 *			image 0 rounds=N sum=S (probe_rip, _jmp and _call:
 *			100+N calls in all)
 *   spawnloop		posix_spawn /bin/true and reap it, over and over,
 *			until SIGTERM: ready <pid>, then "spawned ok" and
 *			exit 0, or exit 6 at the first child that did not
 *			exit 0 (its status printed).  The child runs libc
 *			code in our memory (CLONE_VFORK) before its exec.
 *   busy [T]		T threads (default 2, main included) doing rounds
 *			until SIGTERM: ready <pid>, then on SIGTERM
 *			"stopped" and exit 0; a line "p" on stdin: one round
 *			more, begun after it, by a thread of its own, then
 *			"worked sum=S" (so a tracer armed before the line
 *			has counted something by then).
 * Every image: the constructor calls probe_ctor 3 times, before main.
 * Every mode: SIGTRAP exits 77, SIGSEGV 78, SIGILL 79, SIGBUS 80 (a
 * breakpoint or bad instruction left behind must show in the status).
 */
#include "victim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sys/wait.h>

extern char **environ;

#define CHILD_STATUS 42

/* Never written: probe_rip's first instruction reads it. */
volatile int rip_base = 5;

int probe_rip(int), probe_jmp(int), probe_call(int);

/*
 * Hand-written so the first instruction is the same whatever the flags.
 * probe_rip(x) = rip_base + x; probe_jmp(x) = x + 1; probe_call(x) = x + 3.
 * The jmp is forced to rel32 ({disp32}) and skips a ud2: falling through
 * it means the jump was not taken.  probe_call's helper returns 3 in eax;
 * a wrong return address lands anywhere but the add.
 */
asm(".text\n"
    ".globl probe_rip\n"
    ".type probe_rip, @function\n"
    "probe_rip:\n"
    "	movl rip_base(%rip), %eax\n"
    "	addl %edi, %eax\n"
    "	ret\n"
    ".size probe_rip, .-probe_rip\n"
    ".globl probe_jmp\n"
    ".type probe_jmp, @function\n"
    "probe_jmp:\n"
    "	{disp32} jmp 1f\n"
    "	ud2\n"
    "1:	leal 1(%rdi), %eax\n"
    "	ret\n"
    ".size probe_jmp, .-probe_jmp\n"
    ".globl probe_call\n"
    ".type probe_call, @function\n"
    "probe_call:\n"
    "	call .Lprobe_call_helper\n"
    "	addl %edi, %eax\n"
    "	ret\n"
    ".Lprobe_call_helper:\n"
    "	movl $3, %eax\n"
    "	ret\n"
    ".size probe_call, .-probe_call\n");

/* noipa: no inlining, cloning or constant propagation across the call. */
__attribute__((noipa)) int
probe_target(int x)
{
	return (int)((unsigned)x * 0x9E3779B1u + 7u);
}

__attribute__((noipa)) int
probe_other(int x)
{
	return (x << 3) - x;
}

/*
 * Called 3 times by our constructor and never again, so a trace armed at
 * preinit counts 3 and one armed at postinit or main counts 0.
 */
__attribute__((noipa)) int
probe_ctor(int x)
{
	return x + 1;
}

__attribute__((constructor)) static void
ctor(void)
{
	for (int i = 0; i < 3; i++)
		probe_ctor(i);
}

static unsigned long
work(int n)
{
	unsigned long s = 0;

	for (int i = 0; i < n; i++) {
		s += (unsigned)probe_target(i);
		if (i & 1)
			s += (unsigned)probe_other(i);
		s += (unsigned)probe_rip(i);
		s += (unsigned)probe_jmp(i);
		s += (unsigned)probe_call(i);
	}
	return s;
}

static void
on_fault(int sig)
{
	static const char msg[] = "probev: fatal signal\n";

	(void)!write(2, msg, sizeof (msg) - 1);
	_exit(sig == SIGTRAP ? 77 : sig == SIGSEGV ? 78 : sig == SIGILL ? 79 :
	    80);
}

static atomic_int stop;

static void
on_term(int sig)
{
	(void)sig;
	atomic_store(&stop, 1);
}

static void
handle(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof (sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		v_die("sigaction");
}

static int
arg(int argc, char **argv, int i)
{
	if (i >= argc) {
		fprintf(stderr, "probev: missing argument\n");
		exit(2);
	}
	return atoi(argv[i]);
}

/* ---- threads */

static pthread_barrier_t barrier;
static int rounds;

static void *
worker(void *arg)
{
	pthread_barrier_wait(&barrier);
	*(unsigned long *)arg = work(rounds);
	return NULL;
}

static int
threads(int t, int n)
{
	pthread_t tids[64];
	unsigned long sums[64], s = 0;

	if (t < 1 || t > 64)
		return 2;
	rounds = n;
	if ((errno = pthread_barrier_init(&barrier, NULL, (unsigned)t)) != 0)
		v_die("pthread_barrier_init");
	for (int i = 0; i < t; i++)
		if ((errno = pthread_create(&tids[i], NULL, worker,
		    &sums[i])) != 0)
			v_die("pthread_create");
	for (int i = 0; i < t; i++) {
		pthread_join(tids[i], NULL);
		s += sums[i];
	}
	printf("threads %d rounds=%d sum=%lu\n", t, t * n, s);
	return 0;
}

/* ---- signals */

static atomic_int handled;
static atomic_ulong handler_sum;
static pthread_t sig_target;
static sem_t handled_sem;	/* posted by each handler run */
static int sig_count;

static void
on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handler_sum, work(1));
	atomic_fetch_add(&handled, 1);
	sem_post(&handled_sem);		/* async-signal-safe */
}

static void *
sender(void *arg)
{
	(void)arg;
	for (int j = 0; j < sig_count; j++) {
		if ((errno = pthread_kill(sig_target, SIGUSR1)) != 0)
			v_die("pthread_kill");
		/* the next signal once this one was handled */
		while (sem_wait(&handled_sem) != 0)
			if (errno != EINTR)
				v_die("sem_wait");
	}
	return NULL;
}

static int
signals(int n, int m)
{
	pthread_t tid;
	unsigned long s;

	if (sem_init(&handled_sem, 0, 0) != 0)
		v_die("sem_init");
	handle(SIGUSR1, on_usr1);
	sig_target = pthread_self();
	sig_count = m;
	if ((errno = pthread_create(&tid, NULL, sender, NULL)) != 0)
		v_die("pthread_create");
	s = work(n);
	pthread_join(tid, NULL);
	printf("signals rounds=%d handled=%d sum=%lu\n", n + m,
	    atomic_load(&handled), s + atomic_load(&handler_sum));
	return 0;
}

/* ---- churn, execthr */

static int
churn(int k, int n)
{
	pthread_t tids[4];
	unsigned long sums[4], s = 0;

	rounds = n;
	if ((errno = pthread_barrier_init(&barrier, NULL, 1)) != 0)
		v_die("pthread_barrier_init");
	for (int j = 0; j < k; j++) {
		for (int i = 0; i < 4; i++)
			if ((errno = pthread_create(&tids[i], NULL, worker,
			    &sums[i])) != 0)
				v_die("pthread_create");
		for (int i = 0; i < 4; i++) {
			pthread_join(tids[i], NULL);
			s += sums[i];
		}
	}
	printf("churn rounds=%d sum=%lu\n", 4 * k * n, s);
	return 0;
}

/* only probe_target and probe_other: the asm probes' counts stay exact */
static void *
spinner(void *arg)
{
	(void)arg;
	for (;;) {
		probe_target(1);
		probe_other(1);
	}
	return NULL;
}

static char *exec_self, *exec_rounds;

static void *
execer(void *arg)
{
	char *av[] = { exec_self, "exec", "0", exec_rounds, NULL };

	(void)arg;
	work(100);
	execv("/proc/self/exe", av);
	v_die("execv");
}

static int
execthr(char *self, char *n)
{
	pthread_t tid;

	exec_self = self;
	exec_rounds = n;
	for (int i = 0; i < 3; i++)
		if ((errno = pthread_create(&tid, NULL, spinner, NULL)) != 0)
			v_die("pthread_create");
	if ((errno = pthread_create(&tid, NULL, execer, NULL)) != 0)
		v_die("pthread_create");
	pthread_join(tid, NULL);	/* the exec ends us first */
	return 5;
}

/* ---- spawnloop */

static int
spawnloop(void)
{
	char *av[] = { "true", NULL };
	unsigned long n = 0;

	handle(SIGTERM, on_term);
	printf("ready %d\n", (int)getpid());
	while (!atomic_load(&stop)) {
		pid_t c;
		int st;

		work(1);
		if ((errno = posix_spawn(&c, "/bin/true", NULL, NULL, av,
		    environ)) != 0)
			v_die("posix_spawn");
		while (waitpid(c, &st, 0) < 0)
			if (errno != EINTR)
				v_die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("child status 0x%x after %lu\n", st, n);
			return 6;
		}
		n++;
	}
	printf("spawned ok\n");
	return 0;
}

/* ---- busy */

static void *
busy_worker(void *arg)
{
	unsigned long *s = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		*s += work(2);
	return NULL;
}

static void *
busy_reader(void *arg)
{
	char line[64];

	(void) arg;
	while (v_getline(line, sizeof (line)) >= 0)
		if (strcmp(line, "p") == 0)
			printf("worked sum=%lu\n", work(1));
	return NULL;
}

static int
busy(int t)
{
	pthread_t tids[64], rd;
	unsigned long sums[64];

	if (t < 1 || t > 64)
		return 2;
	handle(SIGTERM, on_term);
	for (int i = 1; i < t; i++)
		if ((errno = pthread_create(&tids[i], NULL, busy_worker,
		    &sums[i])) != 0)
			v_die("pthread_create");
	if ((errno = pthread_create(&rd, NULL, busy_reader, NULL)) != 0)
		v_die("pthread_create");
	(void) pthread_detach(rd);
	printf("ready %d\n", (int)getpid());
	busy_worker(&sums[0]);
	for (int i = 1; i < t; i++)
		pthread_join(tids[i], NULL);
	printf("stopped\n");
	return 0;
}

/* ---- dlopen */

static int
dl_round(const char *lib, int n, const char *which)
{
	void *h = dlopen(lib, RTLD_NOW);
	int (*fn)(int);
	unsigned long s = 0;

	if (h == NULL) {
		fprintf(stderr, "probev: dlopen %s: %s\n", lib, dlerror());
		exit(111);
	}
	if ((fn = (int (*)(int))dlsym(h, "probelib_fn")) == NULL) {
		fprintf(stderr, "probev: dlsym: %s\n", dlerror());
		exit(111);
	}
	for (int i = 0; i < n; i++)
		s += (unsigned)fn(i);
	if (dlclose(h) != 0)
		v_die("dlclose");
	/* nothing else holds it: its text must really be unmapped now */
	h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
	printf("dlopen %s calls=%d sum=%lu unloaded=%s\n", which, n, s,
	    h == NULL ? "yes" : "no");
	return h == NULL ? 0 : 4;
}

/* ---- children */

static int
reap(pid_t c, const char *mode)
{
	int st;

	if (c < 0)
		v_die(mode);
	while (waitpid(c, &st, 0) < 0)
		if (errno != EINTR)
			v_die("waitpid");
	if (WIFEXITED(st))
		printf("%s child exit=%d\n", mode, WEXITSTATUS(st));
	else
		printf("%s child signal=%d\n", mode, WTERMSIG(st));
	return WIFEXITED(st) && WEXITSTATUS(st) == CHILD_STATUS ? 0 : 3;
}

static int
family(const char *mode, const char *self, int n)
{
	unsigned long s = work(n);
	int rc;
	pid_t c;

	if (strcmp(mode, "fork") == 0) {
		if ((c = fork()) == 0) {
			work(n);
			_exit(CHILD_STATUS);
		}
	} else if (strcmp(mode, "vfork") == 0) {
		/* shares our memory, breakpoints included, until _exit */
		if ((c = vfork()) == 0) {
			work(n);
			_exit(CHILD_STATUS);
		}
	} else {
		char num[16];
		char *av[] = { (char *)self, "child", num, NULL };

		snprintf(num, sizeof (num), "%d", n);
		if ((errno = posix_spawn(&c, "/proc/self/exe", NULL, NULL,
		    av, environ)) != 0)
			v_die("posix_spawn");
	}
	rc = reap(c, mode);
	s += work(n);
	printf("%s rounds=%d sum=%lu\n", mode, 2 * n, s);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	v_init();
	handle(SIGTRAP, on_fault);
	handle(SIGSEGV, on_fault);
	handle(SIGILL, on_fault);
	handle(SIGBUS, on_fault);

	if (strcmp(mode, "loop") == 0) {
		int n = arg(argc, argv, 2);
		unsigned long s = work(n);

		printf("loop target=%d other=%d rip=%d jmp=%d call=%d "
		    "sum=%lu\n", n, n / 2, n, n, n, s);
		return 0;
	}
	if (strcmp(mode, "threads") == 0)
		return threads(arg(argc, argv, 2), arg(argc, argv, 3));
	if (strcmp(mode, "churn") == 0)
		return churn(arg(argc, argv, 2), arg(argc, argv, 3));
	if (strcmp(mode, "execthr") == 0 && argc == 3)
		return execthr(argv[0], argv[2]);
	if (strcmp(mode, "signals") == 0)
		return signals(arg(argc, argv, 2), arg(argc, argv, 3));
	if (strcmp(mode, "spawnloop") == 0)
		return spawnloop();
	if (strcmp(mode, "busy") == 0)
		return busy(argc > 2 ? arg(argc, argv, 2) : 2);
	if (strcmp(mode, "dlopen") == 0 && argc == 4) {
		int n = arg(argc, argv, 3);

		if (dl_round(argv[2], n, "first") != 0)
			return 4;
		return dl_round(argv[2], n, "second");
	}
	if (strcmp(mode, "fork") == 0 || strcmp(mode, "vfork") == 0 ||
	    strcmp(mode, "spawn") == 0)
		return family(mode, argv[0], arg(argc, argv, 2));
	if (strcmp(mode, "child") == 0) {
		work(arg(argc, argv, 2));
		return CHILD_STATUS;
	}
	if (strcmp(mode, "exec") == 0) {
		int k = arg(argc, argv, 2), n = arg(argc, argv, 3);
		unsigned long s = work(n);
		char kbuf[16];

		printf("image %d rounds=%d sum=%lu\n", k, n, s);
		if (k <= 0)
			return 0;
		snprintf(kbuf, sizeof (kbuf), "%d", k - 1);
		char *av[] = { argv[0], "exec", kbuf, argv[3], NULL };
		execv("/proc/self/exe", av);
		v_die("execv");
	}
	fprintf(stderr, "usage: probev loop N | threads T N | dlopen LIB N | "
	    "fork|vfork|spawn N | exec K N | busy [T]\n");
	return 2;
}
