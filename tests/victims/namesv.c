/*
 * namesv.c - functions with Rust-mangled names, for demangling and for
 * several processes traced at once.
 *
 * rust_v0 is named _RNvCs1234_7mycrate3foo (Rust's v0 scheme:
 * mycrate::foo), rust_legacy _ZN7mycrate3bar17h0123456789abcdefE (the
 * legacy scheme, Itanium-shaped with a hash: mycrate::bar), through asm
 * labels.  Prints "ready PID", then for each line "go N" read from stdin
 * calls names_plain N times, mycrate::foo N times and mycrate::bar 2N
 * times and prints "done N"; ends at end of input.
 */
#include "victim.h"

__attribute__((noinline)) int rust_v0(int x)
    __asm__("_RNvCs1234_7mycrate3foo");
__attribute__((noinline)) int rust_legacy(int x)
    __asm__("_ZN7mycrate3bar17h0123456789abcdefE");

volatile int names_sink;

__attribute__((noinline)) int
rust_v0(int x)
{
	return x + 1;
}

__attribute__((noinline)) int
rust_legacy(int x)
{
	return x * 2;
}

__attribute__((noinline)) int
names_plain(int x)
{
	return x - 1;
}

int
main(void)
{
	char line[64];
	int n;

	v_init();
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof (line), stdin) != NULL) {
		if (sscanf(line, "go %d", &n) != 1)
			continue;
		for (int i = 0; i < n; i++) {
			names_sink += names_plain(i) + rust_v0(i);
			names_sink += rust_legacy(i) + rust_legacy(i + 1);
		}
		printf("done %d\n", n);
	}
	return 0;
}
