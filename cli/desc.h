/*
 * desc.h - `dtproc trace -f`'s probe descriptions (desc.c): the
 * pid provider's entry, return and offset probes, in dtproc's short form
 * ([OBJ`]FUNC, FUNC:return, FUNC+0x1a) and DTrace's own
 * (pid$target:libc.so.6:malloc:return).  Pure parsing: nothing here
 * touches a process, so the unit test links it alone.
 */
#ifndef DTPROC_CLI_DESC_H
#define DTPROC_CLI_DESC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct desc {
	char *dd_prov;	/* DTrace form: the provider as given, or NULL
			   (any traced process) */
	char *dd_obj;	/* object glob, or NULL: every object */
	char *dd_func;	/* function glob ("*" for an empty field) */
	int dd_kinds;	/* DTPROC_FP_ENTRY | _RETURN, or _OFFSET; or
			   DESC_USDT */
	size_t dd_off;	/* DTPROC_FP_OFFSET: bytes from the entry */
	int dd_plain;	/* [OBJ`]FUNC alone: no kind named (an entry,
			   or a whole call where trace wants one) */
	/* DESC_USDT: dd_obj as above, dd_func the function around the
	   probe (DTrace's form) or NULL, and */
	char *dd_uprov;	/* the provider glob */
	char *dd_uname;	/* the name glob, DTrace's '-' made '__' */
	pid_t dd_upid;	/* PROVIDER1234: that pid only (0: any) */
} desc_t;

/*
 * A USDT (sys/sdt.h) probe, as dd_kinds and as a site's kind: either
 * usdt:[OBJ`]PROVIDER:NAME, or DTrace's PROVIDER$target:MOD:FUNC:NAME
 * with a provider that is not pid (python$target:::function-entry).
 */
#define DESC_USDT	0x10

/*
 * Parse SPEC into D (its strings allocated; desc_free).  0, or -1 with
 * WHY (LEN bytes) saying what is wrong, D left empty.
 */
int desc_parse(const char *spec, desc_t *d, char *why, size_t len);
void desc_free(desc_t *d);

/*
 * Whether D's provider names process PID (pid$target, pidPID, a glob
 * matching pidPID, or none given): 0, or -1 with WHY.
 */
int desc_pid_check(const desc_t *d, pid_t pid, char *why, size_t len);

/*
 * A probe of KIND (DTPROC_FP_*) at OFF in FUNC as the report names it:
 * "malloc" for an entry, "malloc:return", "strlen+0x4"; with ENTRY_NAMED,
 * an entry is "malloc:entry" (--where's probe).  As snprintf.
 */
int desc_label(char *buf, size_t len, const char *func, int kind,
    size_t off, int entry_named);

#endif /* DTPROC_CLI_DESC_H */
