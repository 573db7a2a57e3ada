/*
 * exceptv - the C++ victim of the function-probe tests (tests/core/fprobe.c):
 * an exception thrown through probed functions and caught by the
 * thrower's caller's caller.
 *
 * cx_catch calls cx_mid inside a try; cx_mid calls cx_throw, which throws
 * when its argument is positive.  Both cx_mid and cx_throw hold a guard
 * whose destructor counts (cleanups run during the unwinding), and
 * cx_catch's landing pad follows its call of cx_mid within a few bytes
 * (at -O0: the call, a 2-byte jmp over the handler, the handler), inside
 * any jump written over the instructions after that return address.
 *
 * Prints "ready <pid>", then for each line read:
 *	x N	cx_catch(N): caught r=<cx_mid's result, -1 if it threw>
 *		c=<caught so far> d=<destructors so far>
 *	q	bye; exits 0 (EOF as well)
 * cx_throw(x) = x + 1 or throws 2x; cx_mid(x) = cx_throw(x) + 1.
 */
#include "victim.h"

#define NOINL __attribute__((noinline))

extern "C" {
long cx_result, cx_caught, cx_dtors;

struct cx_guard {
	~cx_guard() { cx_dtors++; }
};

NOINL long
cx_throw(long x)
{
	cx_guard g;

	if (x > 0)
		throw x * 2;
	return x + 1;
}

NOINL long
cx_mid(long x)
{
	cx_guard g;

	cx_result = cx_throw(x) + 1;
	return cx_result;
}

NOINL void
cx_catch(long x)
{
	try {
		cx_mid(x);
	} catch (long e) {
		cx_result = -1;
		cx_caught += e;
	}
}
}

int
main(void)
{
	char line[256];

	v_init();
	printf("ready %d\n", (int)getpid());
	while (v_getline(line, sizeof (line)) >= 0) {
		if (line[0] == 'x' && line[1] == ' ') {
			cx_catch(atol(line + 2));
			printf("caught r=%ld c=%ld d=%ld\n", cx_result,
			    cx_caught, cx_dtors);
		} else if (strcmp(line, "q") == 0) {
			break;
		}
	}
	printf("bye\n");
	return 0;
}
