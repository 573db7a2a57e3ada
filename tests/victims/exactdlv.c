/*
 * exactdlv LIB - dlopens LIB (tests/libs/libexactdl.so), calls its
 * exactdl_fn once and prints "calls=<n>" (exactdl_probe's own count: 3),
 * then exits 0.  Runs straight through: a trace from its exec counts
 * every call, the ones dlopen makes (IFUNC resolver, constructor) too.
 */
#include "victim.h"

#include <dlfcn.h>

int
main(int argc, char **argv)
{
	void *h;
	int (*fn)(int);
	int *calls;

	if (argc < 2)
		return 2;
	if ((h = dlopen(argv[1], RTLD_NOW)) == NULL) {
		fprintf(stderr, "exactdlv: %s\n", dlerror());
		return 1;
	}
	fn = (int (*)(int))dlsym(h, "exactdl_fn");
	calls = (int *)dlsym(h, "exactdl_calls");
	if (fn == NULL || calls == NULL)
		return 1;
	(void) fn(3);
	printf("calls=%d\n", *calls);
	return 0;
}
