/*
 * demangle.c - a name demangled into a caller's buffer, for the tests and
 * any caller without a symbol table entry at hand.  The work is the
 * symbols layer's (sym/demangle.c: libiberty, C++ and Rust); frames take
 * the demangled names it caches per table entry.
 */
#include "unwind.h"

#include <stdio.h>
#include <stdlib.h>

const char *
unw_demangle(const char *name, char *buf, size_t len)
{
	char *d;

	if (len == 0 || (d = sym_demangle(name)) == NULL)
		return name;
	snprintf(buf, len, "%s", d);
	free(d);
	return buf;
}
