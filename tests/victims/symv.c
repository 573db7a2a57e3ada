/*
 * symv - symbols by name and by address: a PIE executable linked against
 * libsymlib.so (tests/libs/symlib.c), whose copy of interposed_fn it
 * interposes.  nopie.c builds the same source as a non-PIE executable and
 * the Makefile strips a copy of this one (symv-stripped).
 *
 *	ready <pid> main=<addr> func=<addr> interposed=<addr> lib_fn=<addr>
 *	    lib_interposed=<addr> malloc=<addr> heap=<addr> stack=<addr>
 *	    anon=<addr> vdso=<addr> ehdr=<addr> ctor_ran=<addr>
 *	    main_ran=<addr> via_lib=<n> want_via_lib=<n>
 *	(go line)
 * Exits 0.
 *
 * main and func are this executable's functions, interposed its copy of
 * interposed_fn, lib_fn and lib_interposed the library's own functions,
 * malloc libc's; heap, stack and anon are addresses in the [heap], the
 * [stack] and an anonymous mapping; ehdr is __ehdr_start, the first
 * mapped byte of the executable (its load bias when it is PIE).  A
 * constructor sets ctor_ran, main's first statement sets main_ran: both
 * are 0 when the run-time linker has just finished loading (PREINIT), and
 * only ctor_ran is 1 at main's first instruction.  via_lib is what the
 * library gets calling interposed_fn: this executable's copy's result.
 */
#include "victim.h"

#include <dlfcn.h>
#include <sys/auxv.h>
#include <sys/mman.h>

int ctor_ran;
int main_ran;

extern int symlib_fn(int);
extern int symlib_call_interposed(int);
extern void *symlib_fn_addr(void);
extern void *symlib_interposed_addr(void);
extern const char __ehdr_start[];

__attribute__((constructor)) static void
symv_ctor(void)
{
	ctor_ran = 1;
}

/* Long enough that func+0x12 is still inside it. */
__attribute__((noinline)) int
symv_func(int x)
{
	int s = 0;

	for (int i = 0; i < x; i++) {
		s += i * x;
		s ^= i << 3;
	}
	return s;
}

/* The executable's copy wins over libsymlib.so's. */
__attribute__((noinline)) int
interposed_fn(int x)
{
	return x + 1;
}

int
main(void)
{
	int local = 0;
	char *heap;
	void *anon;

	main_ran = 1;
	v_init();
	if ((heap = malloc(64)) == NULL)
		v_die("malloc");
	anon = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		v_die("mmap");
	printf("ready %d main=%p func=%p interposed=%p lib_fn=%p "
	    "lib_interposed=%p malloc=%p heap=%p stack=%p anon=%p vdso=%p "
	    "ehdr=%p ctor_ran=%p main_ran=%p via_lib=%d want_via_lib=%d "
	    "lib_calc=%d\n", (int)getpid(), (void *)main, (void *)symv_func,
	    (void *)interposed_fn, symlib_fn_addr(), symlib_interposed_addr(),
	    dlsym(RTLD_DEFAULT, "malloc"), (void *)heap, (void *)&local,
	    (char *)anon + 4096, (void *)getauxval(AT_SYSINFO_EHDR),
	    (void *)__ehdr_start, (void *)&ctor_ran, (void *)&main_ran,
	    symlib_call_interposed(5), interposed_fn(5), symlib_fn(3));
	if (v_wait_go() < 0)
		return 98;
	free(heap);
	return symv_func(local) + local;
}
