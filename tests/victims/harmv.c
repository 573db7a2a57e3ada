/*
 * harmv MODE ... - victims for "never harm": objects replaced under a
 * site, dlopen/dlclose cycles, a vfork in progress at the grab, and a
 * process sharing the victim's memory made before the grab.
 *
 * reopen LIBA LIBB: ready <pid>; (go); dlopen(LIBA):
 *		opened fn=<harm_fn>; (go); called r=<harm_fn(7)>; dlclose:
 *		closed; (go); dlopen(LIBB) (mapped where LIBA was):
 *		opened fn=<harm_fn>; (go); called r=<harm_fn(7)>; a fork
 *		child calls it too: child r=<its result> st=<exit status>;
 *		(go); exits 0.
 * cycle N W LIB: ready <pid>; (go); N times: a page reserved (PROT_NONE,
 *		kept: each cycle's LIB lands one page lower, at a new
 *		address), dlopen(LIB), harm_fn(i), dlclose; after W cycles
 *		warm (go); at the end done (go); exits 0.
 * vfork:	ready <pid>; vfork: the child prints child <pid>, reads a
 *		line (the test holds the parent in vfork meanwhile), then
 *		execs /bin/true; the parent: back; (go); exits 0.
 * sibling:	a sibling sharing our memory, clone(CLONE_VM|SIGCHLD), then
 *		ready <pid> sibling=<pid> target=<harmv_target>; (go); the
 *		sibling calls harmv_target and exits 0; the parent waits
 *		for it: sibling <wait status in hex> r=<its result>; (go);
 *		exits 0.
 */
#include "victim.h"

#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

typedef int harm_fn_t(int);

static void
go(void)
{
	if (v_wait_go() < 0)
		exit(98);
}

static harm_fn_t *
open_fn(const char *lib, void **hp)
{
	void *h = dlopen(lib, RTLD_NOW);
	harm_fn_t *fn;

	if (h == NULL) {
		fprintf(stderr, "victim: dlopen %s: %s\n", lib, dlerror());
		exit(111);
	}
	if ((fn = (harm_fn_t *)dlsym(h, "harm_fn")) == NULL) {
		fprintf(stderr, "victim: dlsym harm_fn: %s\n", dlerror());
		exit(111);
	}
	*hp = h;
	return fn;
}

static int
reopen(const char *liba, const char *libb)
{
	harm_fn_t *fn;
	void *h;
	int st;
	pid_t c;

	printf("ready %d\n", (int)getpid());
	go();
	fn = open_fn(liba, &h);
	printf("opened fn=%p\n", (void *)fn);
	go();
	printf("called r=%d\n", fn(7));
	if (dlclose(h) != 0)
		v_die("dlclose");
	printf("closed\n");
	go();
	fn = open_fn(libb, &h);
	printf("opened fn=%p\n", (void *)fn);
	go();
	printf("called r=%d\n", fn(7));
	fflush(stdout);
	if ((c = fork()) < 0)
		v_die("fork");
	if (c == 0)
		_exit(fn(7) & 0xff);
	if (waitpid(c, &st, 0) != c)
		v_die("waitpid");
	printf("child r=%d st=%#x\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	    st);
	go();
	return 0;
}

static int
cycle(int n, int warm, const char *lib)
{
	long sum = 0;

	printf("ready %d\n", (int)getpid());
	go();
	for (int i = 0; i < n; i++) {
		harm_fn_t *fn;
		void *h;

		if (mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0) == MAP_FAILED)
			v_die("mmap");
		fn = open_fn(lib, &h);
		sum += fn(i);
		if (dlclose(h) != 0)
			v_die("dlclose");
		if (i + 1 == warm) {
			printf("warm\n");
			go();
		}
	}
	printf("done sum=%ld\n", sum);
	go();
	return 0;
}

static int
vforker(void)
{
	pid_t c;

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if ((c = vfork()) < 0)
		v_die("vfork");
	if (c == 0) {
		char buf[64];
		int len;

		len = snprintf(buf, sizeof (buf), "child %d\n", (int)getpid());
		if (write(1, buf, (size_t)len) != len)
			_exit(111);
		if (v_getline(buf, sizeof (buf)) < 0)
			_exit(98);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	printf("back\n");
	go();
	return 0;
}

__attribute__((noinline)) int
harmv_target(int x)
{
	return x * 5 + 2;
}

static int sib_pipe[2];
static volatile int sib_result;

static int
sibling_main(void *arg)
{
	char c;

	(void) arg;
	if (read(sib_pipe[0], &c, 1) != 1)
		_exit(98);
	sib_result = harmv_target(8);
	_exit(0);
}

static int
sibling(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	pid_t s;
	int st;

	if (pipe(sib_pipe) != 0)
		v_die("pipe");
	s = clone(sibling_main, stack + sizeof (stack), CLONE_VM | SIGCHLD,
	    NULL);
	if (s < 0)
		v_die("clone");
	printf("ready %d sibling=%d target=%p\n", (int)getpid(), (int)s,
	    (void *)harmv_target);
	go();
	if (write(sib_pipe[1], "g", 1) != 1)
		v_die("write");
	if (waitpid(s, &st, 0) != s)
		v_die("waitpid");
	printf("sibling %#x r=%d\n", st, sib_result);
	go();
	return 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	v_init();
	if (strcmp(mode, "reopen") == 0 && argc == 4)
		return reopen(argv[2], argv[3]);
	if (strcmp(mode, "cycle") == 0 && argc == 5)
		return cycle(atoi(argv[2]), atoi(argv[3]), argv[4]);
	if (strcmp(mode, "vfork") == 0)
		return vforker();
	if (strcmp(mode, "sibling") == 0)
		return sibling();
	fprintf(stderr, "usage: harmv reopen LIBA LIBB | cycle N W LIB | "
	    "vfork | sibling\n");
	return 2;
}
