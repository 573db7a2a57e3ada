/*
 * libdyn.so - the test library the dl victim dlopens, dlmopens, copies
 * and unlinks, and opens and closes in a loop.  It needs libc (so that a
 * dlmopen into a new namespace loads a second libc there) and nothing else.
 */
#include <unistd.h>

int dyn_counter;

__attribute__((noinline)) int
dyn_fn(int x)
{
	int s = 0;

	for (int i = 0; i < x; i++)
		s += (i * 5) ^ x;
	dyn_counter++;
	return s;
}

__attribute__((noinline)) int
dyn_other(int x)
{
	return dyn_fn(x) + (getpid() > 0);
}
