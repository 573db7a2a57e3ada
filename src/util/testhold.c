/*
 * testhold.c - a test's hold at one step of the library (testhold.h).
 */
#include "testhold.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
test_hold(const char *var, const char *tag, const char *fmt, ...)
{
	const char *env = getenv(var);
	char line[128], at[16] = "", b;
	va_list ap;
	int w, r, n;

	if (env == NULL || sscanf(env, "%d,%d,%15s", &w, &r, at) < 2 ||
	    strcmp(at, tag) != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof (line), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof (line) || write(w, line, (size_t)n) != n)
		return;
	while (read(r, &b, 1) < 0 && errno == EINTR)
		;
}
