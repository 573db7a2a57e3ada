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

#define TRACE_PCACHE	4	/* --where: names kept per site */

typedef struct trace_site {
	uintptr_t ts_addr;	/* the function's entry */
	int ts_kind;		/* DTPROC_FP_ENTRY, _RETURN or _OFFSET */
	size_t ts_poff;		/* _OFFSET: bytes from the entry */
	bool ts_fp;		/* armed by dtproc_fprobe_add, not as a
				   dtproc_probe (trace_fp_wanted) */
	bool ts_quiet;		/* armed for --time/--hist only (the other
				   half of a call): no line, no count */
	bool ts_call;		/* a half of a whole call traced (plain
				   FUNC under -e/--time/--hist, or quiet):
				   see trace_fp.c for --where */
	char *ts_obj;		/* basename, as printed */
	char *ts_path;		/* object's path (dlclose matches it) */
	char *ts_func;
	char *ts_impl;		/* an IFUNC's implementation, or NULL */
	uintptr_t ts_off;	/* address in the object's file */
	uint64_t ts_size;	/* the function's size (-l) */
	int ts_lmid;
	bool ts_armed;
	unsigned long long ts_hits;	/* read from the probe, or folded */
	unsigned long long ts_missed;	/* stops it skipped (in ts_hits) */
	unsigned long long ts_shown;	/* --interval: hits printed so far */
	unsigned long long ts_unwound;	/* return: entries that never returned */
	unsigned long long ts_overflow;	/* return: entries past the bound */
	int ts_how;			/* dpi_how when last read */
	const char *ts_why;		/* dpi_why: the library's text */
	trace_stack_t *ts_stacks;	/* -U: this site's stacks */
	struct trace *ts_tr;		/* the trace it counts for */
	struct tx_site *ts_x;		/* --time, -e: its measures */
	const char *ts_pname[TRACE_PCACHE];	/* --where: parameter names */
	int ts_parg[TRACE_PCACHE];		/* and their argN, -1 none */
	struct trace_site *ts_all;	/* every site ever, newest first */
} trace_site_t;

typedef struct trace_probe {
	const char *tp_spec;
	desc_t tp_desc;		/* what -f said (desc.c) */
	unsigned tp_matched;	/* sites armed for it, ever */
} trace_probe_t;

/*
 * One traced process and the options of the run: the one record of a
 * process, whether it is the command, a -p target or a -F child
 * (trace_proc.c).  The first process's record (the head) owns what every
 * process shares: the session (library handle, signals), the probes'
 * descriptions, --where, the calibration, the report's stream; each
 * other process has a copy of the head's prototype (trace_proc_new)
 * with its own sites, counts and scratch, so that two control threads
 * never share a table.
 */
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
	int tr_stopret;			/* --stop-returns */
	int tr_zmatch;		/* -Z: a probe may match nothing yet */
	int tr_mangled;		/* --mangled: names as the symbols spell
				   them, not demangled */
	const char *tr_elf;	/* -l --elf PATH: a file's probes */
	double tr_interval;		/* --interval, or < 0 */
	uintptr_t *tr_pcs;	/* -U scratch: a hit's pcs */
	unsigned char *tr_key;	/* -U scratch: their key */
	size_t tr_keycap;
	FILE *tr_out;		/* the report: stderr or -o FILE */
	unsigned long long tr_stack_err;
	cli_session_t tr_sess;
	bool tr_live;		/* armed at the -s stop: callbacks re-arm */
	bool tr_early_preinit;	/* a static program's PREINIT, told at
				   its exec: no later one to wait for */
	const char *tr_where_expr;	/* --where, as given */
	where_t *tr_where;	/* compiled, or NULL */
	unsigned long long tr_filtered;	/* firings --where turned away */
	unsigned long long tr_noval;	/* of those, without a value */
	const char *tr_noval_why;	/* the first one's reason */
	const char *tr_bad_spec;	/* a probe the library refused at the */
	char tr_bad_msg[512];		/* first arming (offset): why */
	struct trace *tr_head;	/* the first process's record (itself) */
	struct trace *tr_next;	/* the head's list: the other processes */
	struct trace *tr_proto;	/* the head's: what a new record copies */
	pid_t tr_pid;		/* this process (trace_proc.c) */
	char tr_pcmd[64];	/* its command's name, for the report */
	int tr_follow;		/* -F (the head's) */
	bool tr_child;		/* a followed child's, not a target's */
	int tr_time, tr_hist, tr_events;	/* --time, --hist, -e */
	const char *tr_svg;	/* --svg FILE, or NULL */
	struct tx *tr_x;	/* trace_time.c's state */
} trace_t;

/* trace.c: S's counts and mechanism read from its probe (handle held). */
void trace_read(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s);
/* -U: count this hit of S under TID's stack (TID stopped). */
void trace_stack_hit(trace_t *tr, dtproc_proc_t *pr, pid_t tid,
    trace_site_t *s);
/* The armed site of KIND at OFF in the function at ADDR, or NULL. */
trace_site_t *trace_find(const trace_t *tr, uintptr_t addr, int kind,
    size_t off);

/*
 * trace_fp.c: the one arming path of the sites that are function probes
 * (dtproc_fprobe_add): return and offset probes, and every probe under
 * --where, --time, --hist or -e; their callback (the filter, the counts,
 * -U, the calls' times, -e's lines).
 */
bool trace_fp_wanted(const trace_t *tr, int kind);
/* May returns go without a stop (the run's options; trace_fp.c)? */
bool trace_fp_nostop_ok(const trace_t *tr);
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
 * -e's arguments of a firing of S, stopped on TID (from S's callback
 * only): "arg0=\"str\", arg1=-3", or with JSON -e's argument objects
 * ({"name":"arg0","value":"-3"},...).  An argument whose bit is set in
 * STRMASK and that points at printable text is shown as that text.
 * As snprintf, cut to LEN - 1.
 */
int trace_usdt_format(trace_t *tr, dtproc_proc_t *pr, pid_t tid,
    const trace_site_t *s, unsigned strmask, bool json, char *buf,
    size_t len);
/*
 * The listing (-l, --elf): the probes D matches, in PR, or (PR NULL) in
 * the ELF file ELF, one line each (object`provider:name, address,
 * semaphore, argument spec) or JSON objects (a ',' first when BEFORE
 * objects precede them), nothing armed.  How many, or -errno
 * (dtproc_errmsg).
 */
int trace_usdt_list(FILE *o, dtproc_t *dtp, dtproc_proc_t *pr,
    const char *elf, const desc_t *d, bool json, size_t before);
/*
 * -l's end, for TR's USDT descriptions in process PR: their probes'
 * semaphores and arguments, lines headed "USDT probes", or JSON's
 * ,"usdt":[...] member; nothing without a USDT description.
 */
void trace_usdt_list_armed(trace_t *tr, FILE *o, dtproc_proc_t *pr);

/* trace.c: arm every probe on what matches now; read every site. */
void trace_arm_all(trace_t *tr, dtproc_proc_t *pr);
void trace_collect(trace_t *tr, dtproc_proc_t *pr);
void trace_free_tables(trace_t *tr);

/*
 * trace_proc.c: the processes of a run, one record type for the command,
 * the -p targets and the -F children.  HEAD is the first's record; every
 * other is a copy of its prototype with sites of its own, on HEAD's
 * list.  The list is walked by the main thread and by callbacks (each
 * process's control thread): additions, lookups and walks while
 * processes run take its lock (trace_proc_next).
 */
/* HEAD's record, set up for its process PR, and its prototype. */
void trace_proc_init(trace_t *head, dtproc_proc_t *pr);
/* A record for another process PR, on HEAD's list; NULL out of memory. */
trace_t *trace_proc_new(trace_t *head, dtproc_proc_t *pr);
/* PR's record (PR held), or NULL. */
trace_t *trace_proc_of(trace_t *head, const dtproc_proc_t *pr);
/* The record after TR on the list, read under the list's lock. */
trace_t *trace_proc_next(trace_t *tr);
/* How many processes the run has. */
int trace_proc_count(trace_t *head);
/* Every record but the head freed (the shared parts are the head's). */
void trace_proc_free_all(trace_t *head);
/* True while a target of the run (not a child) is neither dead nor lost. */
bool trace_proc_alive(trace_t *head);
/* TR's pid and command's name from its process PR as it is now. */
void trace_proc_rename(trace_t *tr, dtproc_proc_t *pr);
/* TR's counts read, if its process is still held (main thread). */
void trace_proc_collect(trace_t *tr);
/* TR's process let go (QUIT: why the run ends early), if held. */
void trace_proc_release(trace_t *tr, int quit);
/*
 * The report of the run: one process's, or a table (object) per process
 * headed by pid and command and the total; --svg of every process's
 * stacks.  0, or -1 if --svg's file could not be written.
 */
int trace_report(trace_t *head, int have_status, int status);
/*
 * -F: following starts (0, or 1 told why); a child's handle taken (its
 * parent's control thread: the child armed and continued); a notice
 * about a child (main thread: collected and released); the end (no new
 * child from here on).
 */
int follow_start(trace_t *tr, dtproc_proc_t *pr);
void follow_adopt(trace_t *head, dtproc_proc_t *child);
void follow_notice(void *arg, dtproc_proc_t *pr);
void follow_end(trace_t *tr);

/*
 * trace_time.c: the per-thread calls in progress, --time, --hist, the
 * calibration and --svg (trace_time.h has the records).
 */
/* Any of --time, --hist, -e: every probe is a function probe. */
bool tx_wanted(const trace_t *tr);
/* Before anything runs: the state, --svg's file (0, or -1 said why). */
int tx_open(trace_t *tr);
/* The calibration (own handle, own helper process); never fails. */
void tx_calibrate(trace_t *tr);
/* S's measures added to R's (S retired into R). */
void tx_retire(trace_site_t *r, trace_site_t *s);
void tx_site_free(trace_site_t *s);
/* Does the --time/--hist report take the place of the hits table? */
bool tx_replaces_table(const trace_t *tr);
/* The --time table and/or --hist histograms (or their --json members
 * "calibration","functions"). */
void tx_print(trace_t *tr);
/* The calls of TR's functions entered (their entries' hits). */
unsigned long long tx_calls(trace_t *tr);
/* --svg: the flame graph of the -U stacks: 0, or -1 said why. */
int tx_svg(trace_t *tr);
void tx_free(trace_t *tr);
/* `trace --calibration-helper`: the helper's run, or -1 if not asked. */
int tx_helper(int argc, char **argv);

/* trace_report.c */
/* The table (or --json's members "probes","total", or --folded) of TR's
 * sites: the total hits. */
unsigned long long trace_print(trace_t *tr);
/* The total hits of TR's sites, nothing printed. */
unsigned long long trace_total(trace_t *tr);
/* --interval: the hits since the last one (takes the handle's lock). */
void trace_print_interval(trace_t *tr, dtproc_proc_t *pr);
/* -l: the armed sites, how each is carried, a summary. */
void trace_list(trace_t *tr, FILE *o, pid_t pid);

/* trace_list.c: -l --elf PATH, no process: the exit status. */
int trace_list_elf(trace_t *tr, const cli_target_t *t);

#endif /* DTPROC_CLI_TRACE_H */
