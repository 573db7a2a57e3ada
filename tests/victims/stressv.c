/*
 * stressv MODE ... - the victim of the stress run (tests/stress/run.sh,
 * issue 11): programs that check their own results, so that a tracer
 * that harms them, or dies and leaves them harmed, shows in what they
 * print and how they end.
 *
 * Probed functions (the run arms 'stress_*'):
 *	stress_fn(x)	C, push %rbp first (-O0)
 *	stress_r13(x)	asm, push %r13 (41 55) first, returns x + 1; a
 *			thread resumed at its second byte pushes %rbp and
 *			pops it into %r13: stress_call_r13 sees the caller's
 *			%r13 clobbered and returns -1
 *	stress_ret1()	asm, a one-byte ret followed by ud2: resumed at its
 *			second byte, a thread dies of SIGILL
 *	stress_on_trap	the SIGTRAP handler of mode trapsig
 * A wrong result is printed at once ("wrong WHAT ..."), before anything
 * else can kill the process; no SIGTRAP/SIGILL/SIGSEGV handler is set
 * (but trapsig's), so a breakpoint left behind kills with that signal.
 *
 * Modes (each first prints "ready <pid> ..." once it is set up; "q" on
 * stdin ends it, after each worker has done 1000 more rounds, with
 * "done ... wrong=W" and exit 0, or 3 when W > 0):
 *   busy T [repair]	T worker threads calling the probed functions; with
 *			"repair", a SIGTRAP handler (v_on_int3, not probed)
 *			takes an int3 a dead tracer left at the entry of one
 *			of them: puts the byte back, rewinds the thread to the
 *			entry and counts it, so the run goes on and only a
 *			thread resumed mid-instruction (wrong result, SIGILL)
 *			shows: "done trapped=N wrong=W"
 *   spawn T		T threads posix_spawn /bin/true and reap it without
 *			end (each exit is a SIGCHLD, caught), main calls the
 *			probed functions; "done spawned=N bad=B sigchld=S"
 *   trapsig T		SIGTRAP caught by stress_on_trap; T workers block
 *			every signal and call the probed functions.  "c"
 *			checks, while traced or not, that the handler is
 *			still ours and runs (raise), and that no worker saw
 *			its mask change: "check ok" or "check bad WHY"; "d"
 *			the same without the raise
 *   clonevm		a sibling made with clone(CLONE_VM|SIGCHLD) (another
 *			process sharing our memory) and one worker call the
 *			probed functions; ready ... sibling=<pid>.  "c":
 *			"sibling ok" or "sibling dead status=0x..."
 *   vforkwait		a worker calls the probed functions while main
 *			vforks over and over; each child prints "child
 *			waiting <pid>" and waits for a line: "q" ends it with
 *			1 (and main, "done"), anything else with 0 (main
 *			prints "child exit=0" and vforks again)
 *   traceme N		N times: vfork, PTRACE_TRACEME in the child, exec
 *			/bin/true; the parent takes its exec stop and lets it
 *			go: "traceme ok=O failed=F" (exit 0 if F is 0, else 4)
 *   dlswap N LIBA LIBB	N rounds: dlopen LIBA, check stress_lib_fn(x) is
 *			x + 3, dlclose; dlopen LIBB (same address: counted),
 *			check 5 * x, fork a child that checks it too,
 *			dlclose: "dlswap rounds=N same=S wrong=W"
 *   dlloop LIB		"r N": N cycles of dlopen LIB, one call of
 *			stress_lib_fn, dlclose, then "done N"
 *   dlbusy T LIB	T workers, each round a dlopen of LIB (libstressa),
 *			a check of stress_lib_fn(x) = x + 3, dlclose, then the
 *			probed functions, as busy's: the library comes and
 *			goes under the tracer's feet without end
 *   forks		SIGUSR1 handled, SIGUSR2 blocked; a worker forks
 *			children without end, each checking that its mask and
 *			handler are its parent's, doing 10 rounds and exiting
 *			with a status of its own (k % 50 + 10), which the
 *			worker checks: a child a dead tracer left stuck (a -F
 *			hand-off) hangs the worker, one it harmed shows in the
 *			status; "done forked=N wrong=W"
 */
#define V_SIGNALS
#define V_THREADS
#include "victim.h"

#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <ucontext.h>

extern char **environ;

#define MAXW	16
#define TAIL	1000	/* rounds each worker does after "q" */

int stress_r13(int), stress_call_r13(int);
void stress_ret1(void);

asm(".text\n"
    ".globl stress_r13\n"
    ".type stress_r13, @function\n"
    "stress_r13:\n"
    "	pushq %r13\n"			/* 41 55 */
    "	leaq 1(%rdi), %r13\n"
    "	movl %r13d, %eax\n"
    "	popq %r13\n"
    "	ret\n"
    ".size stress_r13, .-stress_r13\n"
    ".globl stress_call_r13\n"
    ".type stress_call_r13, @function\n"
    "stress_call_r13:\n"		/* %r13 must survive stress_r13 */
    "	pushq %r13\n"
    "	movabsq $0x5eed5eed5eed5eed, %r13\n"
    "	call stress_r13\n"
    "	movabsq $0x5eed5eed5eed5eed, %rcx\n"
    "	cmpq %rcx, %r13\n"
    "	popq %r13\n"
    "	jne 1f\n"
    "	ret\n"
    "1:	movl $-1, %eax\n"
    "	ret\n"
    ".size stress_call_r13, .-stress_call_r13\n"
    ".globl stress_ret1\n"
    ".type stress_ret1, @function\n"
    "stress_ret1:\n"
    "	ret\n"
    ".size stress_ret1, .-stress_ret1\n"
    "	ud2\n");

__attribute__((noipa)) int
stress_fn(int x)
{
	return (int)((unsigned)x * 2654435761u + 11u);
}

static atomic_int stop;		/* workers end now */
static atomic_int quitting;	/* workers end after TAIL more rounds */
static atomic_ulong wrong;
static atomic_ulong rounds[MAXW];
static pthread_t workers[MAXW];
static int nworkers;

static void
say_wrong(const char *what, long got, long want)
{
	char buf[128];
	int n = snprintf(buf, sizeof (buf), "wrong %s got=%ld want=%ld\n",
	    what, got, want);

	atomic_fetch_add(&wrong, 1);
	(void) !write(1, buf, (size_t)n);
}

/* The wait status of child C, reaped. */
static int
reap(pid_t c)
{
	int st;

	while (waitpid(c, &st, 0) < 0)
		if (errno != EINTR)
			v_die("waitpid");
	return st;
}

/* One round of the probed functions, each result checked. */
static void
round_once(int i)
{
	int r;

	if ((r = stress_call_r13(i)) != i + 1)
		say_wrong("r13", r, i + 1);
	stress_ret1();
	if ((r = stress_fn(i)) != (int)((unsigned)i * 2654435761u + 11u))
		say_wrong("fn", r, (int)((unsigned)i * 2654435761u + 11u));
}

static void *
worker(void *arg)
{
	atomic_ulong *n = arg;
	int i = 0, tail = -1;

	while (!atomic_load_explicit(&stop, memory_order_relaxed) &&
	    tail != 0) {
		round_once(i);
		i = (i + 1) & 0xffff;
		atomic_fetch_add_explicit(n, 1, memory_order_relaxed);
		if (tail > 0)
			tail--;
		else if (tail < 0 && atomic_load_explicit(&quitting,
		    memory_order_relaxed))
			tail = TAIL;
	}
	return NULL;
}

static void
start_workers(int t, void *(*fn)(void *))
{
	if (t < 1 || t > MAXW) {
		fprintf(stderr, "stressv: 1 to %d threads\n", MAXW);
		exit(2);
	}
	nworkers = t;
	for (int i = 0; i < t; i++)
		if ((errno = pthread_create(&workers[i], NULL, fn,
		    &rounds[i])) != 0)
			v_die("pthread_create");
}

/*
 * Wait for "q" (or EOF), then join the workers once each has done TAIL
 * more rounds (a spawner: TAIL more children), so that every probed
 * function runs again after whatever the test did last (killed the
 * tracer, released it).
 */
static void
wait_quit(void)
{
	char line[64];

	while (v_getline(line, sizeof (line)) >= 0 && line[0] != 'q')
		;
	atomic_store(&quitting, 1);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
}

static int
done(const char *extra)
{
	unsigned long w = atomic_load(&wrong);

	printf("done%s wrong=%lu\n", extra, w);
	return w > 0 ? 3 : 0;
}

/* ---- busy */

static struct {
	unsigned char *entry;	/* a probed function */
	unsigned char orig;	/* its first byte, read before any tracer */
} sites[4];
static atomic_ulong trapped;

/*
 * An int3 left at a probed entry: put the byte back (another thread may
 * have done it already) and run the entry again.  Any other SIGTRAP is
 * said and kills us.
 */
static void
v_on_int3(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	unsigned char *at = (unsigned char *)uc->uc_mcontext.gregs[REG_RIP] - 1;
	long pg = sysconf(_SC_PAGESIZE);
	char buf[96];
	int n;

	for (size_t i = 0; si->si_code == SI_KERNEL &&
	    i < sizeof (sites) / sizeof (sites[0]); i++) {
		if (sites[i].entry != at)
			continue;
		if (*at == 0xcc && mprotect((void *)((uintptr_t)at &
		    ~(uintptr_t)(pg - 1)), (size_t)pg * 2, PROT_READ |
		    PROT_WRITE | PROT_EXEC) == 0)
			*at = sites[i].orig;
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)at;
		atomic_fetch_add(&trapped, 1);
		return;
	}
	n = snprintf(buf, sizeof (buf), "trap code=%d pc=%p\n", si->si_code,
	    (void *)(at + 1));
	(void) !write(1, buf, (size_t)n);
	signal(sig, SIG_DFL);
	raise(sig);	/* taken when we return */
}

static int
busy(int t, int repair)
{
	char extra[64] = "";

	if (repair) {
		sites[0].entry = (unsigned char *)stress_r13;
		sites[1].entry = (unsigned char *)stress_call_r13;
		sites[2].entry = (unsigned char *)stress_ret1;
		sites[3].entry = (unsigned char *)stress_fn;
		for (int i = 0; i < 4; i++)
			sites[i].orig = *sites[i].entry;
		v_catch_info(SIGTRAP, v_on_int3, 0);
	}
	start_workers(t, worker);
	printf("ready %d\n", (int)getpid());
	wait_quit();
	if (repair)
		snprintf(extra, sizeof (extra), " trapped=%lu",
		    atomic_load(&trapped));
	return done(extra);
}

/* ---- spawn */

static atomic_ulong spawned, spawn_bad, sigchld;

static void
on_chld(int sig)
{
	(void)sig;
	atomic_fetch_add(&sigchld, 1);
}

static void *
spawner(void *arg)
{
	char *av[] = { "true", NULL };
	atomic_ulong *n = arg;
	int tail = -1;

	while (tail != 0) {
		pid_t c;
		int st;

		if ((errno = posix_spawn(&c, "/bin/true", NULL, NULL, av,
		    environ)) != 0)
			v_die("posix_spawn");
		if (!WIFEXITED(st = reap(c)) || WEXITSTATUS(st) != 0) {
			printf("child status 0x%x\n", st);
			atomic_fetch_add(&spawn_bad, 1);
		}
		atomic_fetch_add(&spawned, 1);
		atomic_fetch_add(n, 1);
		round_once((int)atomic_load(n));
		if (tail > 0)
			tail -= tail > 10 ? 10 : tail;	/* TAIL / 10 children */
		else if (tail < 0 && atomic_load(&quitting))
			tail = TAIL;
	}
	return NULL;
}

static int
spawn(int t)
{
	char extra[96];

	v_catch(SIGCHLD, on_chld, SA_RESTART);
	start_workers(t, spawner);
	printf("ready %d\n", (int)getpid());
	wait_quit();
	snprintf(extra, sizeof (extra), " spawned=%lu bad=%lu sigchld=%lu",
	    atomic_load(&spawned), atomic_load(&spawn_bad),
	    atomic_load(&sigchld));
	if (atomic_load(&spawn_bad) > 0)
		atomic_fetch_add(&wrong, 1);
	return done(extra);
}

/* ---- trapsig */

static atomic_ulong traps;
static atomic_ulong mask_lost;		/* times a worker found it changed */
static atomic_int mask_bad[MAXW];	/* a worker's mask is wrong now */

void
stress_on_trap(int sig)
{
	(void)sig;
	atomic_fetch_add(&traps, 1);
}

static void *
trap_worker(void *arg)
{
	atomic_int *bad = &mask_bad[(atomic_ulong *)arg - rounds];
	sigset_t all, cur;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int now;

		round_once(0);
		atomic_fetch_add_explicit((atomic_ulong *)arg, 1,
		    memory_order_relaxed);
		/* not put back here: the tracer must */
		pthread_sigmask(SIG_BLOCK, NULL, &cur);
		now = !sigismember(&cur, SIGTRAP) || !sigismember(&cur, SIGUSR1);
		if (now && !atomic_load(bad))
			atomic_fetch_add(&mask_lost, 1);
		atomic_store(bad, now);
	}
	return NULL;
}

/*
 * What "c" and "d" say (not counted as wrong: the test judges): the
 * handler lost now, a worker's mask wrong now, or changed and put back
 * since the last check.
 */
static void
trap_check(int raise_too)
{
	static unsigned long seen;
	unsigned long before = atomic_load(&traps), lost;
	struct sigaction sa;

	if (sigaction(SIGTRAP, NULL, &sa) != 0)
		v_die("sigaction");
	if (sa.sa_handler != stress_on_trap) {
		printf("check bad handler lost (%s)\n",
		    sa.sa_handler == SIG_DFL ? "SIG_DFL" : "other");
		return;
	}
	for (int i = 0; i < nworkers; i++) {
		if (atomic_load(&mask_bad[i])) {
			printf("check bad worker mask lost\n");
			return;
		}
	}
	if ((lost = atomic_load(&mask_lost)) != seen) {
		printf("check bad worker mask changed %lu times, put back\n",
		    lost - seen);
		seen = lost;
		return;
	}
	if (raise_too)
		raise(SIGTRAP);
	if (raise_too && atomic_load(&traps) != before + 1) {
		printf("check bad handler did not run\n");
		return;
	}
	printf("check ok\n");
}

static int
trapsig(int t)
{
	char line[64];

	v_catch(SIGTRAP, stress_on_trap, 0);
	start_workers(t, trap_worker);
	printf("ready %d\n", (int)getpid());
	while (v_getline(line, sizeof (line)) >= 0 && line[0] != 'q')
		if (line[0] == 'c' || line[0] == 'd')
			trap_check(line[0] == 'c');
	atomic_store(&stop, 1);
	return done("");
}

/* ---- clonevm */

static int
sibling(void *arg)
{
	(void)arg;
	/* no libc: our TLS is the parent's */
	for (int i = 0; !atomic_load(&stop); i = (i + 1) & 0xffff) {
		if (stress_call_r13(i) != i + 1 ||
		    stress_fn(i) != (int)((unsigned)i * 2654435761u + 11u))
			atomic_fetch_add(&wrong, 1);
		stress_ret1();
	}
	return 0;
}

static int
clonevm(void)
{
	size_t sz = 256 * 1024;
	char *stk, line[64];
	pid_t sib;
	int st;

	stk = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stk == MAP_FAILED)
		v_die("mmap");
	if ((sib = clone(sibling, stk + sz, CLONE_VM | SIGCHLD, NULL)) < 0)
		v_die("clone");
	start_workers(1, worker);
	printf("ready %d sibling=%d\n", (int)getpid(), (int)sib);
	while (v_getline(line, sizeof (line)) >= 0 && line[0] != 'q') {
		if (waitpid(sib, &st, WNOHANG) == sib) {
			printf("sibling dead status=0x%x\n", st);
			atomic_fetch_add(&wrong, 1);
			atomic_store(&stop, 1);
			return done("");
		}
		printf("sibling ok wrong=%lu\n", atomic_load(&wrong));
	}
	atomic_store(&stop, 1);
	if (!WIFEXITED(st = reap(sib)) || WEXITSTATUS(st) != 0) {
		printf("sibling dead status=0x%x\n", st);
		atomic_fetch_add(&wrong, 1);
	}
	return done("");
}

/* ---- vforkwait */

static int
vforkwait(void)
{
	start_workers(1, worker);
	printf("ready %d\n", (int)getpid());
	for (;;) {
		pid_t c;
		int st;

		if ((c = vfork()) < 0)
			v_die("vfork");
		if (c == 0) {
			char buf[64];
			int n = snprintf(buf, sizeof (buf),
			    "child waiting %d\n", (int)getpid());

			(void) !write(1, buf, (size_t)n);
			_exit(v_getline(buf, sizeof (buf)) < 0 ||
			    buf[0] == 'q' ? 1 : 0);
		}
		if (!WIFEXITED(st = reap(c))) {
			printf("child status=0x%x\n", st);
			atomic_fetch_add(&wrong, 1);
			break;
		}
		if (WEXITSTATUS(st) != 0)
			break;
		printf("child exit=0\n");
	}
	atomic_store(&stop, 1);
	return done("");
}

/* ---- traceme */

static int
traceme(int n)
{
	char *av[] = { "true", NULL };
	int ok = 0, failed = 0;

	printf("ready %d\n", (int)getpid());
	for (int i = 0; i < n; i++) {
		pid_t c;
		int st;

		if ((c = vfork()) < 0)
			v_die("vfork");
		if (c == 0) {
			if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
				_exit(3);
			execve("/bin/true", av, environ);
			_exit(4);
		}
		if (waitpid(c, &st, 0) != c)
			v_die("waitpid");
		if (WIFSTOPPED(st)) {	/* its exec stop: we trace it */
			(void) ptrace(PTRACE_DETACH, c, NULL, NULL);
			if (waitpid(c, &st, 0) != c)
				v_die("waitpid");
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
				ok++;
				continue;
			}
		}
		failed++;
	}
	printf("traceme ok=%d failed=%d\n", ok, failed);
	return failed > 0 ? 4 : 0;
}

/* ---- dlswap, dlloop */

typedef int (*libfn_t)(int);

static libfn_t
lib_open(const char *path, void **h)
{
	libfn_t fn;

	if ((*h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "stressv: %s\n", dlerror());
		exit(5);
	}
	if ((fn = (libfn_t)dlsym(*h, "stress_lib_fn")) == NULL) {
		fprintf(stderr, "stressv: %s\n", dlerror());
		exit(5);
	}
	return fn;
}

static void
lib_close(const char *path, void *h)
{
	dlclose(h);
	if (dlopen(path, RTLD_NOW | RTLD_NOLOAD) != NULL) {
		fprintf(stderr, "stressv: %s still loaded\n", path);
		exit(5);
	}
}

static int
dlswap(int n, const char *liba, const char *libb)
{
	unsigned long same = 0;

	printf("ready %d\n", (int)getpid());
	for (int i = 0; i < n; i++) {
		void *h;
		libfn_t fa = lib_open(liba, &h), fb;
		pid_t c;
		int r, st;

		if ((r = fa(i)) != i + 3)
			say_wrong("liba", r, i + 3);
		lib_close(liba, h);
		fb = lib_open(libb, &h);
		same += fb == fa;
		if ((r = fb(i)) != 5 * i)
			say_wrong("libb", r, 5 * i);
		if ((c = fork()) < 0)
			v_die("fork");
		if (c == 0)
			_exit(fb(i) == 5 * i ? 0 : 1);
		if (!WIFEXITED(st = reap(c)) || WEXITSTATUS(st) != 0)
			say_wrong("child-status", st, 0);
		lib_close(libb, h);
	}
	printf("dlswap rounds=%d same=%lu wrong=%lu\n", n, same,
	    atomic_load(&wrong));
	return atomic_load(&wrong) > 0 ? 3 : 0;
}

static int
dlloop(const char *lib)
{
	char line[64];

	printf("ready %d\n", (int)getpid());
	while (v_getline(line, sizeof (line)) >= 0 && line[0] == 'r') {
		long n = strtol(line + 1, NULL, 10);

		for (long i = 0; i < n; i++) {
			void *h;
			libfn_t fn = lib_open(lib, &h);
			int r;

			if ((r = fn((int)i)) != (int)i + 3)
				say_wrong("lib", r, i + 3);
			dlclose(h);
		}
		printf("done %ld\n", n);
	}
	return done("");
}

static const char *dl_lib;

/* busy's worker with a load and unload of dl_lib each round */
static void *
dl_worker(void *arg)
{
	atomic_ulong *n = arg;
	int i = 0, tail = -1;

	while (tail != 0) {
		void *h;
		libfn_t fn = lib_open(dl_lib, &h);
		int r;

		if ((r = fn(i)) != i + 3)
			say_wrong("lib", r, i + 3);
		dlclose(h);
		round_once(i);
		i = (i + 1) & 0xffff;
		atomic_fetch_add_explicit(n, 1, memory_order_relaxed);
		if (tail > 0)
			tail--;
		else if (tail < 0 && atomic_load_explicit(&quitting,
		    memory_order_relaxed))
			tail = TAIL;
	}
	return NULL;
}

static int
dlbusy(int t, const char *lib)
{
	dl_lib = lib;
	start_workers(t, dl_worker);
	printf("ready %d\n", (int)getpid());
	wait_quit();
	return done("");
}

/* ---- forks */

static atomic_ulong forked;

static void
on_usr1(int sig)
{
	(void) sig;
}

/* A fork child: what it inherited checked, then its rounds. */
static int
fork_child(int k)
{
	unsigned long w0 = atomic_load(&wrong);	/* our parent's, copied */
	struct sigaction sa;
	sigset_t m;

	if (sigprocmask(SIG_BLOCK, NULL, &m) != 0 ||
	    !sigismember(&m, SIGUSR2) || sigismember(&m, SIGUSR1))
		return 1;
	if (sigaction(SIGUSR1, NULL, &sa) != 0 || sa.sa_handler != on_usr1)
		return 2;
	for (int i = 0; i < 10; i++)
		round_once(k + i);
	return atomic_load(&wrong) > w0 ? 3 : k % 50 + 10;
}

static void *
fork_worker(void *arg)
{
	int tail = -1;

	(void) arg;
	for (int k = 0; tail != 0; k = (k + 1) & 0xffff) {
		pid_t c;
		int st;

		if ((c = fork()) < 0)
			v_die("fork");
		if (c == 0)
			_exit(fork_child(k));
		st = reap(c);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != k % 50 + 10)
			say_wrong("child-status", st, (k % 50 + 10) << 8);
		atomic_fetch_add(&forked, 1);
		if (tail > 0)
			tail--;
		else if (tail < 0 && atomic_load(&quitting))
			tail = 20;
	}
	return NULL;
}

static int
forks(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t m;
	char extra[48];

	sigemptyset(&sa.sa_mask);
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) != 0 ||
	    pthread_sigmask(SIG_BLOCK, &m, NULL) != 0)
		v_die("signals");
	start_workers(1, fork_worker);
	printf("ready %d\n", (int)getpid());
	wait_quit();
	snprintf(extra, sizeof (extra), " forked=%lu", atomic_load(&forked));
	return done(extra);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int a = argc > 2 ? atoi(argv[2]) : 2;

	v_init();
	if (strcmp(mode, "busy") == 0)
		return busy(a, argc > 3 && strcmp(argv[3], "repair") == 0);
	if (strcmp(mode, "spawn") == 0)
		return spawn(a);
	if (strcmp(mode, "trapsig") == 0)
		return trapsig(a);
	if (strcmp(mode, "clonevm") == 0)
		return clonevm();
	if (strcmp(mode, "vforkwait") == 0)
		return vforkwait();
	if (strcmp(mode, "traceme") == 0)
		return traceme(a);
	if (strcmp(mode, "dlswap") == 0 && argc == 5)
		return dlswap(a, argv[3], argv[4]);
	if (strcmp(mode, "dlloop") == 0 && argc == 3)
		return dlloop(argv[2]);
	if (strcmp(mode, "dlbusy") == 0 && argc == 4)
		return dlbusy(a, argv[3]);
	if (strcmp(mode, "forks") == 0)
		return forks();
	fprintf(stderr, "stressv: bad mode '%s' (%d arguments)\n"
	    "usage: stressv busy T [repair] | spawn|trapsig T | clonevm | "
	    "vforkwait | traceme N | dlswap N LIBA LIBB | dlloop LIB | "
	    "dlbusy T LIB | forks\n",
	    mode, argc - 1);
	return 2;
}
