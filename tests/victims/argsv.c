/*
 * argsv - typed parameters from DWARF (tests/core/params.c): functions
 * whose parameters are of every kind dtproc_fn_params tells apart, called
 * once each, printing what they received.
 *
 *	ready <pid> global=<&argsv_global>
 *	mixed i=<raw> ul=<raw> c=<raw> b=<raw> col=<raw> s=<ptr> p=<ptr>
 *	    d=<double> pt=<x>,<y>
 *	many a=<a> g=<g> bg=<x> h=<h>
 *	sret x=<x> name=<ptr>
 *	sse a=<a> b=<b>
 *	spill f=<f>
 *	strs long=<ptr> exact=<ptr> bad=<ptr> ustr=<ptr>
 *	(go line), exits 0.
 *
 * <raw> is the value as the integer registers would carry it (the
 * parameter converted to a 64-bit unsigned); the test formats these with
 * dtproc_arg_format and compares with the texts it knows the values by.
 * bad is a page mapped and unmapped again: a pointer no read can follow
 * (a PROT_NONE page would not do: /proc/PID/mem reads it).
 */
#include "victim.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

enum color { RED, GREEN = 5, BLUE = -3 };

struct point {
	int x, y;
};

struct big {		/* 24 bytes: passed in memory */
	long x, y, z;
};

struct vec {		/* SSE, SSE: two xmm registers */
	double x, y;
};

struct mix {		/* SSE, INTEGER: an xmm and an integer register */
	double d;
	long l;
};

struct two {		/* INTEGER, INTEGER */
	long a, b;
};

int argsv_global;

static const char short_str[] = "tab\there \"q\" back\\ nl\n\x01";
static const char long_str[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXYZ";
static const char exact_str[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const unsigned char ustr[] = "u\xff";

__attribute__((noinline)) long
argsv_mixed(int i, struct point pt, unsigned long ul, double d, char c,
    bool b, enum color col, const char *s, void *p)
{
	printf("mixed i=%llu ul=%llu c=%llu b=%llu col=%llu s=%p p=%p "
	    "d=%g pt=%d,%d\n", (unsigned long long)(int64_t)i,
	    (unsigned long long)ul, (unsigned long long)(int64_t)c,
	    (unsigned long long)b, (unsigned long long)(int64_t)col,
	    (const void *)s, p, d, pt.x, pt.y);
	return i + (long)ul;
}

__attribute__((noinline)) long
argsv_many(long a, long b, long c, long d, long e, long f, long g,
    struct big bg, unsigned short h)
{
	printf("many a=%ld g=%ld bg=%ld h=%u\n", a, g, bg.x, h);
	return a + b + c + d + e + f + g + bg.x + h;
}

__attribute__((noinline)) struct big
argsv_sret(int x, const char *name)
{
	struct big r = { x, x, x };

	printf("sret x=%d name=%p\n", x, (const void *)name);
	return r;
}

__attribute__((noinline)) long
argsv_sse(struct vec v, long a, struct mix m, long b)
{
	printf("sse a=%ld b=%ld\n", a, b);
	return (long)(v.x + v.y + m.d) + a + m.l + b;
}

/* t needs two registers when one is left: all of it on the stack, and f
   takes the register */
__attribute__((noinline)) long
argsv_spill(long a, long b, long c, long d, long e, struct two t, long f)
{
	printf("spill f=%ld\n", f);
	return a + b + c + d + e + t.a + t.b + f;
}

__attribute__((noinline)) void
argsv_void(void)
{
	argsv_global++;
}

int
main(void)
{
	struct point pt = { 3, -4 };
	struct big bg = { 7, 8, 9 };
	struct vec vc = { 1.5, 2.5 };
	struct mix mx = { 0.5, 12 };
	struct two tw = { 13, 14 };
	void *bad;

	v_init();
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bad == MAP_FAILED || munmap(bad, 4096) != 0)
		v_die("mmap");
	printf("ready %d global=%p\n", (int)getpid(), (void *)&argsv_global);
	(void) argsv_mixed(-42, pt, ~0UL, 2.5, 'A', true, BLUE, short_str,
	    &argsv_global);
	(void) argsv_many(1, 2, 3, 4, 5, 6, 7, bg, 65535);
	(void) argsv_sret(11, "eleven");
	(void) argsv_sse(vc, 10, mx, 11);
	(void) argsv_spill(1, 2, 3, 4, 5, tw, 6);
	argsv_void();
	printf("strs long=%p exact=%p bad=%p ustr=%p\n", (const void *)long_str,
	    (const void *)exact_str, bad, (const void *)ustr);
	if (v_wait_go() < 0)
		return 1;
	return 0;
}
