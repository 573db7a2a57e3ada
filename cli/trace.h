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
	uintptr_t ts_addr;
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
	int ts_how;			/* dpi_how when last read */
	const char *ts_why;		/* dpi_why: the library's text */
	trace_stack_t *ts_stacks;	/* -U: this site's stacks */
	struct trace *ts_tr;		/* the trace it counts for */
	struct trace_site *ts_all;	/* every site ever, newest first */
} trace_site_t;

typedef struct trace_probe {
	const char *tp_spec;
	char *tp_obj;		/* NULL: every object */
	char *tp_func;
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
} trace_t;

/* trace.c: S's counts and mechanism read from its probe (handle held). */
void trace_read(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s);

/* trace_report.c */
/* The table (or --json, --folded) of the whole run. */
void trace_print(trace_t *tr, pid_t pid, int have_status, int status);
/* --interval: the hits since the last one (takes the handle's lock). */
void trace_print_interval(trace_t *tr, dtproc_proc_t *pr);
/* -l: the armed sites, how each is carried, a summary. */
void trace_list(trace_t *tr, FILE *o, pid_t pid);

#endif /* DTPROC_CLI_TRACE_H */
