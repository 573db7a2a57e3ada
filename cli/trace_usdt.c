/*
 * trace_usdt.c - `dtproc trace`'s USDT (sys/sdt.h) probes.
 *
 * A description of DESC_USDT (desc.c: usdt:[OBJ`]PROVIDER:NAME, or
 * DTrace's python$target:::function-entry) is matched against the notes
 * of every object (dtproc_usdt_iter), at the same moments function
 * probes are (the -s stop, dlopen, exec), and each probe becomes a site
 * of kind DESC_USDT named PROVIDER:NAME, counted and reported like a
 * function's.  It is armed with dtproc_usdt_add, which raises its
 * semaphore while it is armed (the library lowers it at del and at
 * release, also when a signal ends the session), and counted without a
 * stop unless a firing is wanted: -U's stack, --stop-probes, --where.
 * Under --where a firing is judged as a function probe's is (trace_fp.c):
 * arg0..arg7 are the probe's arguments as its note describes them.
 *
 * For the listing (-l, --elf) and the event output (-e), which other
 * files own: trace_usdt_list prints the probes a description matches
 * without arming anything, and trace_usdt_format prints a firing's
 * arguments, strings read from the victim for the ones the caller names.
 */
#include "trace.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TRACE_USDT_STR	64	/* bytes of a string argument shown */

typedef struct trace_uwalk {
	dtproc_t *uw_dtp;
	dtproc_proc_t *uw_pr;
	const desc_t *uw_desc;
	int (*uw_fn)(const dtproc_sym_t *, void *);
	void *uw_arg;
	trace_t *uw_tr;
} trace_uwalk_t;

/* DTrace's FUNCTION field: the function around the probe matches. */
static bool
trace_usdt_func(trace_uwalk_t *w, const dtproc_usdt_t *u)
{
	dtproc_sym_t sym;
	const char *f = w->uw_desc->dd_func;

	if (f == NULL || strcmp(f, "*") == 0)
		return true;
	return dtproc_sym_addr(w->uw_dtp, w->uw_pr, u->du_addr, &sym) == 0 &&
	    sym.ds_name != NULL && fnmatch(f, sym.ds_name, 0) == 0;
}

static int
trace_usdt_one(const dtproc_usdt_t *u, void *arg)
{
	trace_uwalk_t *w = arg;
	dtproc_sym_t sym;
	char name[256];

	if (!trace_usdt_func(w, u))
		return 0;
	if (u->du_nargs < 0 && w->uw_tr->tr_where != NULL &&
	    !w->uw_tr->tr_live)
		fprintf(stderr, "%s: warning: %s`%s:%s: its arguments cannot be "
		    "read (%s): --where sees none\n", cli_progname,
		    u->du_object, u->du_provider, u->du_name, u->du_why);
	snprintf(name, sizeof (name), "%s:%s", u->du_provider, u->du_name);
	memset(&sym, 0, sizeof (sym));
	sym.ds_object = u->du_object;
	sym.ds_path = u->du_path;
	sym.ds_name = name;
	sym.ds_addr = u->du_addr;
	sym.ds_lmid = u->du_lmid;
	sym.ds_bias = u->du_bias;
	return w->uw_fn(&sym, w->uw_arg);
}

int
trace_usdt_walk(trace_t *tr, dtproc_proc_t *pr, const desc_t *d,
    int (*fn)(const dtproc_sym_t *, void *), void *arg)
{
	trace_uwalk_t w = { tr->tr_dtp, pr, d, fn, arg, tr };

	return dtproc_usdt_iter(tr->tr_dtp, pr, d->dd_obj, d->dd_uprov,
	    d->dd_uname, trace_usdt_one, &w);
}

/* A firing wanted (STOP): a control-thread callback, the thread stopped. */
static void
trace_usdt_hit(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	trace_site_t *s = arg;
	trace_t *tr = s->ts_tr;
	uint64_t vals[DTPROC_USDT_NARGS];
	dtproc_hit_t hit;
	int n;

	if (tr->tr_where == NULL) {
		if (tr->tr_ustack)
			trace_stack_hit(tr, pr, tid, s);
		return;
	}
	/* the function probes' filter, on a firing that has no function */
	memset(&hit, 0, sizeof (hit));
	hit.dh_kind = DTPROC_HIT_OFFSET;
	hit.dh_tid = tid;
	hit.dh_func = addr;
	hit.dh_pc = addr;
	n = dtproc_usdt_args(dtp, pr, tid, addr, vals, DTPROC_USDT_NARGS);
	for (int i = 0; i < n && i < DTPROC_HIT_NARGS; i++)
		hit.dh_args[i] = vals[i];
	trace_fp_hit(dtp, pr, &hit, s);
}

int
trace_usdt_arm(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	bool stop = tr->tr_ustack || tr->tr_stopprobes || tr->tr_where != NULL;

	return dtproc_usdt_add(tr->tr_dtp, pr, s->ts_addr, !stop ? 0 :
	    DTPROC_PROBE_STOP | (tr->tr_stopprobes ? DTPROC_PROBE_INT3 : 0),
	    stop ? trace_usdt_hit : NULL, stop ? s : NULL);
}

/* The count (the probe's, or the filter's under --where), the mechanism. */
void
trace_usdt_read(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	dtproc_probe_info_t pi;

	if (!s->ts_armed ||
	    dtproc_probe_info(tr->tr_dtp, pr, s->ts_addr, &pi) != 0)
		return;
	if (tr->tr_where == NULL)
		s->ts_hits = pi.dpi_hits;
	s->ts_missed = pi.dpi_missed;
	s->ts_how = pi.dpi_how;
	s->ts_why = pi.dpi_why;
}

void
trace_usdt_del(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	(void) dtproc_usdt_del(tr->tr_dtp, pr, s->ts_addr);
}

int
trace_usdt_format(trace_t *tr, dtproc_proc_t *pr, pid_t tid,
    const trace_site_t *s, unsigned strmask, char *buf, size_t len)
{
	uint64_t vals[DTPROC_USDT_NARGS];
	size_t o = 0;
	int n = dtproc_usdt_args(tr->tr_dtp, pr, tid, s->ts_addr, vals,
	    DTPROC_USDT_NARGS);

	if (n < 0)
		return snprintf(buf, len, "<%s>", dtproc_errmsg(tr->tr_dtp));
	if (len > 0)
		buf[0] = '\0';
	for (int i = 0; i < n && i < DTPROC_USDT_NARGS && o < len; i++) {
		char str[TRACE_USDT_STR + 1];
		ssize_t got;

		if ((strmask & (1u << i)) && vals[i] != 0 &&
		    (got = dtproc_read(tr->tr_dtp, pr, (uintptr_t)vals[i], str,
		    TRACE_USDT_STR)) > 0) {
			str[got] = '\0';
			o += (size_t)snprintf(buf + o, len - o, "%sarg%d=\"%s\"",
			    i > 0 ? " " : "", i, str);
		} else {
			o += (size_t)snprintf(buf + o, len - o, "%sarg%d=%" PRId64,
			    i > 0 ? " " : "", i, (int64_t)vals[i]);
		}
	}
	return (int)o;
}

/* ---- the listing ---- */

typedef struct trace_ulist {
	trace_uwalk_t ul_w;
	FILE *ul_out;
	int ul_n;
	bool ul_json;
} trace_ulist_t;

static int
trace_usdt_print(const dtproc_usdt_t *u, void *arg)
{
	trace_ulist_t *l = arg;

	if (l->ul_w.uw_pr != NULL && !trace_usdt_func(&l->ul_w, u))
		return 0;
	if (l->ul_json) {
		fprintf(l->ul_out, "%s{\"object\": \"%s\", \"provider\": \"%s\", "
		    "\"name\": \"%s\", \"address\": %" PRIuPTR ", \"semaphore\": "
		    "%" PRIuPTR ", \"args\": \"%s\"}", l->ul_n > 0 ? ",\n  " :
		    "", u->du_object, u->du_provider, u->du_name, u->du_addr,
		    u->du_sema, u->du_argspec);
	} else {
		char name[512];

		snprintf(name, sizeof (name), "%s`%s:%s", u->du_object,
		    u->du_provider, u->du_name);
		fprintf(l->ul_out, "%-48s %#14lx  ", name,
		    (unsigned long)u->du_addr);
		if (u->du_sema != 0)
			fprintf(l->ul_out, "semaphore %#lx  ",
			    (unsigned long)u->du_sema);
		if (u->du_nargs < 0)
			fprintf(l->ul_out, "%s  (cannot read: %s)\n",
			    u->du_argspec, u->du_why);
		else
			fprintf(l->ul_out, "%s\n", u->du_argspec);
	}
	l->ul_n++;
	return 0;
}

int
trace_usdt_list(FILE *o, dtproc_t *dtp, dtproc_proc_t *pr, const char *elf,
    const desc_t *d, bool json)
{
	trace_ulist_t l = { { dtp, pr, d, NULL, NULL, NULL }, o, 0, json };
	int rv;

	if (pr != NULL)
		rv = dtproc_usdt_iter(dtp, pr, d->dd_obj, d->dd_uprov,
		    d->dd_uname, trace_usdt_print, &l);
	else
		rv = dtproc_usdt_file_iter(dtp, elf, d->dd_uprov, d->dd_uname,
		    trace_usdt_print, &l);
	return rv < 0 ? rv : l.ul_n;
}
