/*
 * version.c - the library's version and error sentences, the part of the
 * public API that stands on no layer.
 */
#include "dtproc.h"

#include <string.h>

/* The version string, spelt from the header's macros: one source. */
#define VERSION_STR_(x)	#x
#define VERSION_STR(x)	VERSION_STR_(x)

DTPROC_API const char *
dtproc_version(void)
{
	return VERSION_STR(DTPROC_VERSION_MAJOR) "."
	    VERSION_STR(DTPROC_VERSION_MINOR) "."
	    VERSION_STR(DTPROC_VERSION_PATCH);
}

static const char *const dtproc_errstr[DTPROC_EMAX - DTPROC_EBASE] = {
	[DTPROC_ENOTELF - DTPROC_EBASE] = "file is not an ELF object",
	[DTPROC_EZOMBIE - DTPROC_EBASE] = "process is a zombie",
	[DTPROC_EKTHREAD - DTPROC_EBASE] = "process is a kernel thread",
	[DTPROC_ESELF - DTPROC_EBASE] = "process is dtproc itself",
	[DTPROC_ETRACED - DTPROC_EBASE] = "process is already traced",
	[DTPROC_ELOST - DTPROC_EBASE] = "control of the process was lost",
	[DTPROC_EDEAD - DTPROC_EBASE] = "process has exited",
};

DTPROC_API const char *
dtproc_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= DTPROC_EBASE && err < DTPROC_EMAX)
		return dtproc_errstr[err - DTPROC_EBASE];
	return strerror(err);
}
