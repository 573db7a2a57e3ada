/*
 * demangle.c - C++ names for frames, through libstdc++'s __cxa_demangle.
 *
 * Why that one: it is the Itanium C++ ABI's own entry point, shipped in
 * libstdc++6 (present wherever C++ runs, and what eu-stack uses), always
 * a shared library, and kept current with the compiler's mangling.
 * libiberty's cplus_demangle is the same code but Debian ships it only as
 * a static archive (libiberty-dev), not built for a shared library.
 * Names are demangled as they are printed, never stored; a name that is
 * not mangled ("_Z" prefix) costs one comparison.
 */
#include "unwind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* <cxxabi.h>, the C++ ABI's demangler (libstdc++). */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len,
    int *status);

const char *
unw_demangle(const char *name, char *buf, size_t len)
{
	char *d;
	int status = -1;

	if (name == NULL || strncmp(name, "_Z", 2) != 0 || len == 0)
		return name;
	/* a versioned name (dynsym "f@@V1") is demangled without it */
	const char *at = strchr(name, '@');
	char base[512];
	if (at != NULL) {
		size_t n = (size_t)(at - name);
		if (n >= sizeof (base))
			return name;
		memcpy(base, name, n);
		base[n] = '\0';
	}
	d = __cxa_demangle(at != NULL ? base : name, NULL, NULL, &status);
	if (d == NULL || status != 0) {
		free(d);
		return name;
	}
	snprintf(buf, len, "%s", d);
	free(d);
	return buf;
}
