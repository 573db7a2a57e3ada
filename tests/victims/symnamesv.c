/*
 * symnamesv - names that are not one symbol at one address: IFUNCs
 * (libc's strlen, memcpy), symbol versions (pthread_cond_signal/_wait,
 * a default and a compat version), an alias (names_alias is
 * names_target) and namesakes (two local functions named twin, this
 * file's and symnamesv_twin.inc's, which the Makefile compiles in).
 * Built with -fno-builtin: every strlen and memcpy is a call into libc.
 *
 *	symnamesv            ready <pid> strlen=<addr> memcpy=<addr>
 *	                         signal=<addr> signal_compat=<addr>
 *	                         wait=<addr> wait_compat=<addr> target=<addr>
 *	                         twin_a=<addr> twin_b=<addr>
 *	    then per input line "c N": N calls of each of strlen, memcpy,
 *	    pthread_cond_signal, names_target, names_alias (so 2N of the
 *	    site), twin (this file's) and 2N of the other twin, then "done"
 *	    by write(2) alone; at EOF exits 0.
 *	symnamesv run N      the same N calls once, from main, then _exit(0):
 *	    no other call into libc after main's first line.
 *
 * The addresses are what the program itself calls: a function pointer to
 * an IFUNC is the implementation the resolver chose, to a versioned name
 * its default version; the compat ones come from dlvsym.
 */
#include "victim.h"

#include <dlfcn.h>
#include <pthread.h>

extern int twin_b_call(int x);
extern void *twin_b_addr(void);

__attribute__((noinline)) int
names_target(int x)
{
	return x + 3;
}

extern int names_alias(int x) __attribute__((alias("names_target")));

__attribute__((noinline)) static int
twin(int x)
{
	return x * 2;
}

static pthread_cond_t names_cond = PTHREAD_COND_INITIALIZER;
static char names_src[64] = "the quick brown fox";
static char names_dst[64];
static volatile size_t names_len = 19;
static volatile int names_sink;

/* N calls of each; nothing else reaches libc. */
static void
names_calls(long n)
{
	for (long i = 0; i < n; i++) {
		names_sink += (int)strlen(names_src + (i & 3));
		memcpy(names_dst, names_src, names_len);
		pthread_cond_signal(&names_cond);
		names_sink += names_target((int)i) + names_alias((int)i);
		names_sink += twin((int)i) + twin_b_call((int)i);
	}
}

int
main(int argc, char **argv)
{
	char line[64];

	if (argc == 3 && strcmp(argv[1], "run") == 0) {
		names_calls(atol(argv[2]));
		_exit(0);
	}
	v_init();
	printf("ready %d strlen=%p memcpy=%p signal=%p signal_compat=%p "
	    "wait=%p wait_compat=%p target=%p twin_a=%p twin_b=%p\n",
	    (int)getpid(), (void *)strlen, (void *)memcpy,
	    (void *)pthread_cond_signal,
	    dlvsym(RTLD_DEFAULT, "pthread_cond_signal", "GLIBC_2.2.5"),
	    (void *)pthread_cond_wait,
	    dlvsym(RTLD_DEFAULT, "pthread_cond_wait", "GLIBC_2.2.5"),
	    (void *)names_target, (void *)twin, twin_b_addr());
	while (v_getline(line, sizeof (line)) >= 0) {
		if (line[0] != 'c')
			continue;
		names_calls(atol(line + 2));
		if (write(1, "done\n", 5) != 5)
			return 1;
	}
	return 0;
}
