/*
 * probevictim N - the bench victim of bench/probe: N calls of probe_target,
 * nothing else (no output, no library calls in the loop), so the time a
 * tool adds per call is the time of one probe hit.  bench/probe builds it
 * three ways to change probe_target's first instruction (imul, endbr64,
 * push %rbp).
 */
#include <stdlib.h>

/* noipa: a real call every time, never inlined, cloned or folded. */
__attribute__((noipa)) int
probe_target(int x)
{
	return (int)((unsigned)x * 0x9E3779B1u + 7u);
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	unsigned s = 0;

	for (long i = 0; i < n; i++)
		s += (unsigned)probe_target((int)i);
	/* use the sum so the loop stays; never 1 in practice */
	return s == 1 ? 3 : 0;
}
