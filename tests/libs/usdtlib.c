/*
 * usdtlib - sys/sdt.h probes in a dlopened library (tests/victims/
 * usdtv.c opens it): usdtlib:gtick behind its semaphore, usdtlib:tick
 * without one.  usdtlib_run(i) fires both, each announced by a line
 * with its arguments' values ("gtick i=..", "tick i=.. p=0x..").
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#include <stdio.h>

unsigned short usdtlib_gtick_semaphore __attribute__((section(".probes"),
    used));
long usdtlib_setups;

static int usdtlib_data[4];

__attribute__((noinline)) static void
usdtlib_gtick(int i)
{
	if (__builtin_expect(usdtlib_gtick_semaphore != 0, 0)) {
		usdtlib_setups++;
		printf("gtick i=%d\n", i);
		DTRACE_PROBE1(usdtlib, gtick, i);
	}
}

#undef _SDT_SEMAPHORE
#define _SDT_SEMAPHORE(p, n)	_SDT_ASM_1(_SDT_ASM_ADDR 0)
#undef _SDT_NOTE_SEMAPHORE_USE
#define _SDT_NOTE_SEMAPHORE_USE(p, n)

void
usdtlib_run(int i)
{
	int *p = &usdtlib_data[i & 3];

	printf("tick i=%d p=%p\n", i, (void *)p);
	DTRACE_PROBE2(usdtlib, tick, i, p);
	usdtlib_gtick(i);
}
