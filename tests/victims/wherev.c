/*
 * wherev N - the --where victim: known arguments, so a filter's count is
 * known.  For i in 0..N-1:
 *	where_add(i, 2 * i)		returns 3 * i
 *	where_name(names[i % 4])	names: "alpha" "beta" "gamma"
 *					"alphabet"; returns the length
 *	where_swap(i, 3)		parameters (b, a): the same name
 *					in another place; returns b - a
 * and prints "wherev calls=N sum=S".  Built -O0 -g like every victim, so
 * the parameters have DWARF names (a, b; name).  Expected counts for N:
 * arg0 < 3 on where_add: min(N, 3); name == "alpha": ceil(N / 4);
 * name ~ "alpha*": ceil(N / 4) + ceil((N - 3) / 4); b == 4: once in
 * where_add (arg1) and once in where_swap (arg0).
 */
#include "victim.h"

__attribute__((noipa)) long
where_add(long a, long b)
{
	return a + b;
}

__attribute__((noipa)) size_t
where_name(const char *name)
{
	return strlen(name);
}

__attribute__((noipa)) long
where_swap(long b, long a)
{
	return b - a;
}

int
main(int argc, char **argv)
{
	static const char *names[] = { "alpha", "beta", "gamma", "alphabet" };
	unsigned long sum = 0;
	long n;

	v_init();
	if (argc != 2 || (n = atol(argv[1])) < 0) {
		fprintf(stderr, "usage: wherev N\n");
		return 2;
	}
	for (long i = 0; i < n; i++) {
		sum += (unsigned long)where_add(i, 2 * i);
		sum += where_name(names[i % 4]);
		sum += (unsigned long)where_swap(i, 3);
	}
	printf("wherev calls=%ld sum=%lu\n", n, sum);
	return 0;
}
