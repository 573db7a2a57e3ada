/*
 * libprobelib.so - dlopened (and dlclosed, and opened again) by the probev
 * victim, so probes on a library that arrives after start, leaves, and
 * comes back at another address can be counted.
 */
__attribute__((noinline)) int
probelib_fn(int x)
{
	return x * 3 + 1;
}
