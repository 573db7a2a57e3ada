/*
 * staticv - a statically linked program (VICTIM_FLAGS_staticv): no
 * interpreter, no link maps, so the rtld agent has nothing to walk and the
 * objects come from the mappings.
 *
 *	ready <pid> main=<addr> func=<addr>
 *	(go line)
 * Exits 0.
 */
#include "victim.h"

__attribute__((noinline)) int
staticv_func(int x)
{
	int s = 0;

	for (int i = 0; i < x; i++)
		s += i ^ x;
	return s;
}

int
main(void)
{
	v_init();
	printf("ready %d main=%p func=%p\n", (int)getpid(), (void *)main,
	    (void *)staticv_func);
	if (v_wait_go() < 0)
		return 98;
	return staticv_func(0);
}
