/*
 * libexactdl.so - an object whose own code runs while dlopen loads it:
 * its IFUNC resolver (at relocation) and its constructor each call
 * exactdl_probe, and the resolver also calls libc's getpid.  Traced
 * exactly (-s create), exactdl_probe counts 3 (resolver, constructor,
 * the implementation the victim calls), as a kernel uprobe does.
 */
#include <unistd.h>

int exactdl_calls;

__attribute__((noinline)) int
exactdl_probe(int why)
{
	exactdl_calls++;
	__asm__ volatile("" ::: "memory");
	return why;
}

__attribute__((noinline)) static int
exactdl_impl(int x)
{
	return exactdl_probe(x) + 1;
}

static int (*exactdl_resolve(void))(int)
{
	(void) getpid();
	(void) exactdl_probe(1);
	return exactdl_impl;
}

int exactdl_fn(int) __attribute__((ifunc("exactdl_resolve")));

__attribute__((constructor)) static void
exactdl_init(void)
{
	(void) exactdl_probe(2);
}
