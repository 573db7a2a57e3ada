/*
 * dtproc.h - DTrace's process-control layer for Linux.
 *
 * The only installed header of libdtproc.  Every exported name carries the
 * dtproc_ prefix; handles are opaque.  The process-control API of
 * dt_proc.c (dtproc_open, dtproc_create, dtproc_grab, ...) is built on the
 * internal ptrace core and arrives with the control layer; this release
 * exports the version and the error vocabulary every later call reports
 * through.
 */
#ifndef DTPROC_H
#define DTPROC_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DTPROC_API __attribute__((visibility("default")))
#else
#define DTPROC_API
#endif

#define DTPROC_VERSION_MAJOR 0
#define DTPROC_VERSION_MINOR 1
#define DTPROC_VERSION_PATCH 0

/* "0.1.0": the version of the library actually loaded. */
DTPROC_API const char *dtproc_version(void);

/*
 * dtproc's own error codes, above the errno range.  Calls return a
 * negative errno or one of these, negated.
 */
enum {
	DTPROC_EBASE = 1000,
	DTPROC_ENOTELF = DTPROC_EBASE,	/* file is not an ELF object */
	DTPROC_EZOMBIE,			/* process is a zombie */
	DTPROC_EKTHREAD,		/* process is a kernel thread */
	DTPROC_ESELF,			/* process is dtproc itself */
	DTPROC_ETRACED,			/* process is traced by another */
	DTPROC_ELOST,			/* control of the process was lost */
	DTPROC_EDEAD,			/* the process has exited */
	DTPROC_EMAX
};

/* A sentence for an error code, positive or negative, errno or dtproc's. */
DTPROC_API const char *dtproc_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* DTPROC_H */
