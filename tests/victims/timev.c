/*
 * timev MODE ... - the victim of `dtproc trace --time`, `--hist` and
 * `-e`: functions whose time it measures itself, with its own clock
 * (CLOCK_MONOTONIC, read inside the function), so that a test can hold
 * dtproc's figures against the victim's.
 *
 *   busy N US		N calls of tv_busy(US), which spins until US
 *			microseconds have passed by its own clock:
 *			busy calls=N p50_ns=P avg_ns=A
 *			(the victim's own median and mean per call)
 *   parent K N US	K calls of tv_parent(N, US), which N times spins US
 *			microseconds itself and calls tv_child(US) (which
 *			spins US): parent calls=K self_ns=S child_ns=C, S
 *			the parent's own spinning per call as measured by
 *			it, C the children's per call
 *   seq		tv_outer(3, "abc") calls tv_inner(1) and
 *			tv_inner(2) (x * 2 each), returns their sum + 1 (7);
 *			tv_void() once: seq result=7
 *
 * Built -O0 -g (every victim is): the DWARF names the parameters.
 */
#include "victim.h"

#include <stdint.h>
#include <time.h>

static uint64_t
tv_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* Spin US microseconds: the time spun, by our clock. */
static uint64_t
tv_spin(int us)
{
	uint64_t t0 = tv_now(), t;

	while ((t = tv_now()) - t0 < (uint64_t)us * 1000)
		;
	return t - t0;
}

static uint64_t tv_last;	/* the last tv_busy/tv_child's own time */

__attribute__((noipa)) void
tv_busy(int us)
{
	tv_last = tv_spin(us);
}

__attribute__((noipa)) void
tv_child(int us)
{
	tv_last = tv_spin(us);
}

/* The parent's own spinning, by its clock (its callees' left out). */
static uint64_t tv_self, tv_kids;

__attribute__((noipa)) void
tv_parent(int n, int us)
{
	for (int i = 0; i < n; i++) {
		tv_self += tv_spin(us);
		tv_child(us);
		tv_kids += tv_last;
	}
}

__attribute__((noipa)) int
tv_inner(int x)
{
	return x * 2;
}

__attribute__((noipa)) void
tv_void(void)
{
}

__attribute__((noipa)) long
tv_outer(int n, const char *s)
{
	return tv_inner(1) + tv_inner(2) + (long)(n - (int)strlen(s)) + 1;
}

static int
tv_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	v_init();
	if (argc == 4 && strcmp(argv[1], "busy") == 0) {
		int n = atoi(argv[2]), us = atoi(argv[3]);
		uint64_t *v = calloc((size_t)n, sizeof (*v)), sum = 0;

		if (v == NULL || n <= 0)
			return 2;
		for (int i = 0; i < n; i++) {
			tv_busy(us);
			v[i] = tv_last;
			sum += tv_last;
		}
		qsort(v, (size_t)n, sizeof (*v), tv_cmp);
		printf("busy calls=%d p50_ns=%llu avg_ns=%llu\n", n,
		    (unsigned long long)v[(n - 1) / 2],
		    (unsigned long long)(sum / (uint64_t)n));
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "parent") == 0) {
		int k = atoi(argv[2]), n = atoi(argv[3]), us = atoi(argv[4]);

		if (k <= 0)
			return 2;
		for (int i = 0; i < k; i++)
			tv_parent(n, us);
		printf("parent calls=%d self_ns=%llu child_ns=%llu\n", k,
		    (unsigned long long)(tv_self / (uint64_t)k),
		    (unsigned long long)(tv_kids / (uint64_t)k));
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "seq") == 0) {
		long r = tv_outer(3, "abc");

		tv_void();
		printf("seq result=%ld\n", r);
		return 0;
	}
	fprintf(stderr, "usage: timev busy N US | parent K N US | seq\n");
	return 2;
}
