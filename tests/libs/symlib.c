/*
 * libsymlib.so - the DT_NEEDED test library of the symv and nopie victims.
 *
 * It defines interposed_fn, which the victims define as well: the
 * executable's copy wins at run time and in an unqualified lookup, while
 * libsymlib.so`interposed_fn names this one.  Addresses of this library's
 * own definitions come from hidden aliases, so that neither interposition
 * nor a non-PIE executable's canonical PLT entries can stand in for them.
 * Its constructor sets symlib_ctor_ran (0 before constructors ran).
 */
int symlib_ctor_ran;
int symlib_data = 42;

__attribute__((constructor)) static void
symlib_ctor(void)
{
	symlib_ctor_ran = 1;
}

__attribute__((noinline)) int
symlib_fn(int x)
{
	int s = 0;

	for (int i = 0; i < x; i++)
		s += i * 3 + (x ^ i);
	return s;
}

__attribute__((noinline)) int
interposed_fn(int x)
{
	int s = x;

	for (int i = 0; i < 4; i++)
		s = s * 7 + 1000;
	return s;
}

extern __typeof(symlib_fn) symlib_fn_self
    __attribute__((alias("symlib_fn"), visibility("hidden")));
extern __typeof(interposed_fn) interposed_fn_self
    __attribute__((alias("interposed_fn"), visibility("hidden")));

void *
symlib_fn_addr(void)
{
	return (void *)symlib_fn_self;
}

void *
symlib_interposed_addr(void)
{
	return (void *)interposed_fn_self;
}

/* Calls whichever interposed_fn wins (the executable's). */
int
symlib_call_interposed(int x)
{
	return interposed_fn(x);
}
