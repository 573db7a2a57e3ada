/*
 * trace.h - `dtproc trace`'s records, shared by trace.c (arming, the
 * probes' lifetime, the session) and trace_report.c (the tables, -l,
 * --interval).  Every record is touched by the control thread in
 * callbacks run with the handle locked, by the main thread holding that
 * lock, or after the process is released.
 */
#ifndef DTPROC_CLI_TRACE_H
#define DTPROC_CLI_TRACE_H

#include "cli.h"
#include "desc.h"
#include "where.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct trace_stack {
	uint64_t tk_hash;	/* of tk_key */
	size_t tk_keylen;
	unsigned char *tk_key;	/* per frame: object, symbol, offset */
	int tk_depth;
	char **tk_names;	/* named when first seen */
	unsigned long long tk_hits;
	struct trace_stack *tk_next;
} trace_stack_t;

typedef struct trace_site {
	uintptr_t ts_addr;	/* the function's entry */
	int ts_kind;		/* DTPROC_FP_ENTRY, _RETURN or _OFFSET */
	size_t ts_poff;		/* _OFFSET: bytes from the entry */
	bool ts_fp;		/* armed by dtproc_fprobe_add, not as a
				   dtproc_probe (return, offset, --where) */
	char *ts_obj;		/* basename, as printed */
	char *ts_path;		/* object's path (dlclose matches it) */
	char *ts_func;
	char *ts_impl;		/* an IFUNC's implementation, or NULL */
	uintptr_t ts_off;	/* address in the object's file */
	int ts_lmid;
	bool ts_armed;
	unsigned long long ts_hits;	/* read from the probe, or folded */
	unsigned long long ts_missed;	/* stops it skipped (in ts_hits) */
	unsigned long long ts_shown;	/* --interval: hits printed so far */
	unsigned long long ts_unwound;	/* return: entries that never returned */
	int ts_how;			/* dpi_how when last read */
	const char *ts_why;		/* dpi_why: the library's text */
	trace_stack_t *ts_stacks;	/* -U: this site's stacks */
	struct trace *ts_tr;		/* the trace it counts for */
	struct trace_site *ts_all;	/* every site ever, newest first */
} trace_site_t;

typedef struct trace_probe {
	const char *tp_spec;
	desc_t tp_desc;		/* what -f said (desc.c) */
	unsigned tp_matched;	/* sites armed for it, ever */
} trace_probe_t;

typedef struct trace {
	dtproc_t *tr_dtp;
	trace_probe_t *tr_probes;
	int tr_nprobes;
	void *tr_armed;		/* armed sites by address (tsearch) */
	size_t tr_nsites;	/* sites ever armed */
	trace_site_t *tr_all;
	unsigned tr_failed;	/* sites that could not be armed */
	char tr_fail_msg[512];
	int tr_ustack, tr_folded, tr_json, tr_depth;
	int tr_stopprobes, tr_list;	/* --stop-probes, -l */
	double tr_interval;		/* --interval, or < 0 */
	uintptr_t *tr_pcs;	/* -U scratch: a hit's pcs */
	unsigned char *tr_key;	/* -U scratch: their key */
	size_t tr_keycap;
	FILE *tr_out;		/* the report: stderr or -o FILE */
	unsigned long long tr_stack_err;
	cli_session_t tr_sess;
	bool tr_live;		/* armed at the -s stop: callbacks re-arm */
	const char *tr_where_expr;	/* --where, as given */
	where_t *tr_where;	/* compiled, or NULL */
	unsigned long long tr_filtered;	/* firings --where turned away */
	unsigned long long tr_noval;	/* of those, without a value */
	const char *tr_noval_why;	/* the first one's reason */
	const char *tr_bad_spec;	/* a probe the library refused at the */
	char tr_bad_msg[512];		/* first arming (offset): why */
} trace_t;

/* trace.c: S's counts and mechanism read from its probe (handle held). */
void trace_read(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s);
/* -U: count this hit of S under TID's stack (TID stopped). */
void trace_stack_hit(trace_t *tr, dtproc_proc_t *pr, pid_t tid,
    trace_site_t *s);

/*
 * trace_fp.c: the sites armed through dtproc_fprobe_add (return and
 * offset probes, and every probe under --where), and the filter.
 */
bool trace_fp_wanted(const trace_t *tr, int kind);
/* Arm S: 0, or -errno with dtproc_errmsg saying why. */
int trace_fp_arm(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s);
void trace_fp_read(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s);
void trace_fp_del(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s);
/* --where EXPR compiled into TR: 0, or -2 with the usage error told. */
int trace_where_set(trace_t *tr, cli_target_t *t, const char *expr);

/* trace_fp.c's firing, also a USDT probe's (with a hit built for it). */
void trace_fp_hit(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_hit_t *hit,
    void *arg);

/*
 * trace_usdt.c: USDT probes (DESC_USDT).  The walk gives FN each probe
 * D matches as a function would be given (ds_name "PROVIDER:NAME").
 */
int trace_usdt_walk(trace_t *tr, dtproc_proc_t *pr, const desc_t *d,
    int (*fn)(const dtproc_sym_t *, void *), void *arg);
int trace_usdt_arm(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s);
void trace_usdt_read(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s);
void trace_usdt_del(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s);
/*
 * -e's hook: a firing's arguments, "arg0=1 arg1=\"str\"", into BUF (the
 * arguments whose bit is set in STRMASK read as strings); from the
 * site's callback only (TID stopped there).  As snprintf.
 */
int trace_usdt_format(trace_t *tr, dtproc_proc_t *pr, pid_t tid,
    const trace_site_t *s, unsigned strmask, char *buf, size_t len);
/*
 * The listing (-l, --elf): the probes D matches, in PR, or (PR NULL) in
 * the ELF file ELF, one line each (object`provider:name, address,
 * semaphore, argument spec) or JSON objects, nothing armed.  How many,
 * or -errno (dtproc_errmsg).
 */
int trace_usdt_list(FILE *o, dtproc_t *dtp, dtproc_proc_t *pr,
    const char *elf, const desc_t *d, bool json);

/* trace_report.c */
/* The table (or --json, --folded) of the whole run. */
void trace_print(trace_t *tr, pid_t pid, int have_status, int status);
/* --interval: the hits since the last one (takes the handle's lock). */
void trace_print_interval(trace_t *tr, dtproc_proc_t *pr);
/* -l: the armed sites, how each is carried, a summary. */
void trace_list(trace_t *tr, FILE *o, pid_t pid);

#endif /* DTPROC_CLI_TRACE_H */
