/*
 * libfpcall.so - for the function-probe tests (fprobev's "d"): a
 * library function that calls back into the program, so that a return
 * address of a probed call lies in an object the program then closes.
 */
__attribute__((noinline)) int
fpc_call(int (*fn)(int), int x)
{
	return fn(x) + 1;
}
