/*
 * usdtv - sys/sdt.h probes (USDT), built -O2 so that the notes carry
 * every operand form gcc gives: registers and their parts (-4@%edi,
 * 8@%rdx, 1@%dil, -2@%ax), constants (-4@$5, -4@$-1), the stack
 * (-8@-48(%rsp), and -4@-20(%rbp) from a function built -O0), an
 * indexed element (-4@-40(%rsp,%rax,4)) and a global (counter(%rip)).
 *
 * Probes: usdtv:plain, usdtv:small, usdtv:slow (no semaphore),
 * usdtv:bad (its spec names %xmm0, which no USDT reader takes), and
 * usdtv:gated, whose arguments are set up only while its semaphore is
 * raised (if (USDTV_GATED_ENABLED()) DTRACE_PROBE...); the library
 * libusdtlib.so has its own pair (usdtlib:tick, usdtlib:gtick).
 *
 * Lines on stdin:
 *   r N      N rounds, each firing plain, small, slow, gated (and the
 *            library's tick, gtick when it is open), every firing
 *            announced first by a line with the values its arguments
 *            have: "plain i=.. big=.. s=0x.. five=5 onstack=.. elem=..",
 *            "small c=.. sh=.. m1=-1", "slow i=.. x=..", "gated i=..
 *            counter=.." (only when the semaphore lets it fire), "bad
 *            i=..",
 *            "tick i=.. p=0x..", "gtick i=.."; then "done n=N
 *            setups=<gated set-ups so far> lsetups=<the library's>"
 *   s        "sema gated=<usdtv_gated_semaphore> lib=<the library's,
 *            or -1 when it is not open>"
 *   o PATH   dlopen(PATH): "opened"
 *   c        dlclose: "closed"
 *   f        fork a child that prints "child gated=<its semaphore>" and
 *            exits; then "forked"
 *   x        exec itself (a new image: its ready line again)
 *   q        exit 0
 * First line: "ready <pid> sema=<&usdtv_gated_semaphore>".
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#include "victim.h"

#include <dlfcn.h>
#include <sys/wait.h>

unsigned short usdtv_gated_semaphore __attribute__((section(".probes"),
    used));
#define USDTV_GATED_ENABLED() __builtin_expect(usdtv_gated_semaphore != 0, 0)

volatile int counter = 42;
static long gated_setups;

__attribute__((noinline)) static void
gated(int i)
{
	if (USDTV_GATED_ENABLED()) {
		gated_setups++;
		printf("gated i=%d counter=%d\n", i, counter);
		DTRACE_PROBE2(usdtv, gated, i, counter);
		counter++;
	}
}

/* The probes below have no semaphore (sys/sdt.h's choice is per file:
 * its two macros are expanded where a probe is, so redefine them). */
#undef _SDT_SEMAPHORE
#define _SDT_SEMAPHORE(p, n)	_SDT_ASM_1(_SDT_ASM_ADDR 0)
#undef _SDT_NOTE_SEMAPHORE_USE
#define _SDT_NOTE_SEMAPHORE_USE(p, n)

__attribute__((noinline)) static void
plain(int i, long big, const char *s)
{
	volatile long onstack = big * 3;
	int arr[8];

	for (int k = 0; k < 8; k++)
		arr[k] = k * 100 + i;
	__asm__ volatile("" :: "r"(arr) : "memory");
	printf("plain i=%d big=%ld s=%p five=5 onstack=%ld elem=%d\n", i, big,
	    (const void *)s, (long)onstack, arr[i & 7]);
	DTRACE_PROBE6(usdtv, plain, i, big, s, 5, onstack, arr[i & 7]);
}

__attribute__((noinline)) static void
small(int i)
{
	unsigned char c = (unsigned char)(200 + i);
	short sh = (short)-i;

	printf("small c=%u sh=%d m1=-1\n", (unsigned)c, (int)sh);
	DTRACE_PROBE3(usdtv, small, c, sh, -1);
}

__attribute__((noinline, optimize("O0"))) static void
slow(int i, long l)
{
	long x = l + i;

	printf("slow i=%d x=%ld\n", i, x);
	DTRACE_PROBE2(usdtv, slow, i, x);
}

/* A note we cannot read the arguments of: a vector register. */
__attribute__((noinline)) static void
bad(int i)
{
	printf("bad i=%d\n", i);
	__asm__ volatile(STAP_PROBE_ASM(usdtv, bad, %%edi %%xmm0) :: "D"(i));
}

int
main(void)
{
	static const char hello[] = "hello";
	void (*lib_run)(int) = NULL;
	unsigned short *lib_sema = NULL;
	long *lib_setups = NULL;
	void *lib = NULL;
	char line[4096];

	v_init();
	printf("ready %d sema=%p\n", (int)getpid(),
	    (void *)&usdtv_gated_semaphore);
	while (v_getline(line, sizeof (line)) >= 0) {
		if (line[0] == 'r') {
			int n = atoi(line + 2);

			for (int i = 0; i < n; i++) {
				plain(i, (1L << 40) + i, hello);
				small(i);
				slow(i, -7);
				gated(i);
				bad(i);
				if (lib_run != NULL)
					lib_run(i);
			}
			printf("done n=%d setups=%ld lsetups=%ld\n", n,
			    gated_setups, lib_setups != NULL ? *lib_setups :
			    -1L);
		} else if (line[0] == 's') {
			printf("sema gated=%u lib=%d\n",
			    (unsigned)usdtv_gated_semaphore, lib_sema != NULL ?
			    (int)*lib_sema : -1);
		} else if (line[0] == 'o') {
			if ((lib = dlopen(line + 2, RTLD_NOW)) == NULL) {
				fprintf(stderr, "usdtv: %s\n", dlerror());
				return 1;
			}
			lib_run = (void (*)(int))dlsym(lib, "usdtlib_run");
			lib_sema = dlsym(lib, "usdtlib_gtick_semaphore");
			lib_setups = dlsym(lib, "usdtlib_setups");
			if (lib_run == NULL || lib_sema == NULL ||
			    lib_setups == NULL)
				return 1;
			printf("opened\n");
		} else if (line[0] == 'c') {
			lib_run = NULL;
			lib_sema = NULL;
			lib_setups = NULL;
			dlclose(lib);
			printf("closed\n");
		} else if (line[0] == 'f') {
			pid_t c = fork();

			if (c == 0) {
				printf("child gated=%u\n",
				    (unsigned)usdtv_gated_semaphore);
				_exit(0);
			}
			if (c < 0 || waitpid(c, NULL, 0) != c)
				v_die("fork");
			printf("forked\n");
		} else if (line[0] == 'x') {
			char *av[] = { "usdtv", NULL };

			execv("/proc/self/exe", av);
			v_die("execv");
		} else if (line[0] == 'q') {
			return 0;
		}
	}
	return 0;
}
