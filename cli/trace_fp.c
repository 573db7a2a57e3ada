/*
 * trace_fp.c - `dtproc trace`'s function probes (dtproc_fprobe_add): the
 * one path by which a site (function, kind, offset) that must stop the
 * thread is armed, and the one callback of its firings, which applies
 * --where and feeds everything else: the counts, -U's stacks, the calls'
 * times (trace_time.c) and -e's lines (trace_events.c).
 *
 * An entry probe stays what it always was (dtproc_probe_add: a counting
 * trampoline, no stop) unless a firing is needed: to judge it (--where:
 * its thread, arguments, return value), to time it or to print it
 * (--time, --hist, -e).  Return and offset probes are function probes
 * always.  The callback runs on the control thread with the handle
 * locked and the thread stopped, so the strings the filter compares are
 * read from the process as it is at the firing.
 *
 * Calls.  Under -e, --time or --hist a plain FUNC traces whole calls:
 * its entry and its return (ts_call); --time and --hist add the half a
 * FUNC:entry or FUNC:return lacks, quiet (ts_quiet: no line, no count),
 * since a time is an entry and its return.  An entry whose return is
 * traced opens a frame in its thread's calls in progress (trace_time.c,
 * the one record of them); its return closes it.
 *
 * --where is judged at each firing on that firing's values.  Where it
 * has no value at a return (a named parameter; at a call's return also
 * arg0..arg7, which DTrace's FUNC:return has as the return site and
 * value) the return takes its entry's verdict; where it has none at a
 * call's entry (retval) the call is judged at its return, the entry then
 * neither counted nor shown.  A firing judged false or without a value
 * is not counted, stacked, printed or timed: a call is timed when its
 * entry passed, or, judged at its return, when the return passed.
 * Firings turned away are summed for a closing note (those without a
 * value apart), so a filter that never holds is seen to be why.
 *
 * Counts: without a filter the library's count (dfi_hits) is the line's,
 * as dpi_hits is for entries; with one, the callback counts the firings
 * that passed.
 */
#include "trace_time.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define TRACE_NPARAMS	32	/* parameters looked at for a name */

bool
trace_fp_wanted(const trace_t *tr, int kind)
{
	/* a USDT probe has no function: trace_usdt.c arms it */
	return kind != DESC_USDT && (kind != DTPROC_FP_ENTRY ||
	    tr->tr_where != NULL || tx_wanted(tr));
}

/* What a --where variable reads at one firing. */
typedef struct trace_firing {
	trace_t *tf_tr;
	dtproc_proc_t *tf_pr;
	trace_site_t *tf_site;
	const dtproc_hit_t *tf_hit;
} trace_firing_t;

/*
 * A parameter by name from the function's DWARF (entry only: at an
 * offset the registers may hold something else by then).  Each name's
 * argN is asked of the library once per site and kept (ts_pname: the
 * expression's own strings, so a pointer compare finds them).
 */
static int
trace_param(trace_firing_t *f, const char *name, uint64_t *val)
{
	trace_site_t *s = f->tf_site;
	dtproc_param_t p[TRACE_NPARAMS];
	int n, arg = -1, k;

	if (f->tf_hit->dh_kind != DTPROC_HIT_ENTRY)
		return -1;
	for (k = 0; k < TRACE_PCACHE && s->ts_pname[k] != NULL; k++) {
		if (s->ts_pname[k] == name) {
			arg = s->ts_parg[k];
			goto found;
		}
	}
	if ((n = dtproc_fn_params(f->tf_tr->tr_dtp, f->tf_pr,
	    f->tf_hit->dh_func, p, TRACE_NPARAMS, NULL)) < 0)
		return -1;	/* not kept: the debug file may come later */
	for (int i = 0; i < n && i < TRACE_NPARAMS; i++) {
		if (p[i].dp_name != NULL && strcmp(p[i].dp_name, name) == 0 &&
		    p[i].dp_arg >= 0 && p[i].dp_arg < DTPROC_HIT_NARGS) {
			arg = p[i].dp_arg;
			break;
		}
	}
	if (k < TRACE_PCACHE) {
		s->ts_pname[k] = name;
		s->ts_parg[k] = arg;
	}
found:
	if (arg < 0)
		return -1;
	*val = f->tf_hit->dh_args[arg];
	return 0;
}

static int
trace_var(void *arg, const where_var_t *v, uint64_t *val)
{
	trace_firing_t *f = arg;
	const dtproc_hit_t *h = f->tf_hit;

	switch (v->wv_kind) {
	case WHERE_V_PID:
		*val = (uint64_t)dtproc_pid(f->tf_pr);
		return 0;
	case WHERE_V_TID:
		*val = (uint64_t)h->dh_tid;
		return 0;
	case WHERE_V_ARG:
		/* a call's return: its arguments are the entry's business */
		if (v->wv_index >= DTPROC_HIT_NARGS ||
		    (h->dh_kind == DTPROC_HIT_RETURN && f->tf_site->ts_call))
			return -1;
		*val = h->dh_args[v->wv_index];
		return 0;
	case WHERE_V_RETVAL:
		if (h->dh_kind != DTPROC_HIT_RETURN)
			return -1;
		*val = h->dh_retval;
		return 0;
	case WHERE_V_PARAM:
		return trace_param(f, v->wv_name, val);
	case WHERE_V_REG:
		return dtproc_hit_reg(h, v->wv_name, val) == 0 ? 0 : -1;
	default:
		return -1;
	}
}

/* A C string of the stopped process, read up to each page's end so
 * that one near the end of a mapping is still read. */
static int
trace_str(void *arg, uint64_t addr, char *buf, size_t len)
{
	trace_firing_t *f = arg;
	size_t got = 0;

	while (got + 1 < len) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		ssize_t n;

		if (chunk > len - 1 - got)
			chunk = len - 1 - got;
		n = dtproc_read(f->tf_tr->tr_dtp, f->tf_pr, (uintptr_t)(addr +
		    got), buf + got, chunk);
		if (n <= 0)
			return -1;
		if (memchr(buf + got, '\0', (size_t)n) != NULL)
			return 0;
		got += (size_t)n;
	}
	buf[got] = '\0';	/* cut at WHERE_STRMAX - 1 */
	return 0;
}

/* --where at firing H of S: 1 true, 0 false, -1 no value (*WHY). */
static int
trace_judge(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s,
    const dtproc_hit_t *h, const char **why)
{
	trace_firing_t f = { tr, pr, s, h };
	char probe[512];
	where_env_t env = { trace_var, trace_str, probe, &f };

	*why = NULL;
	if (tr->tr_where == NULL)
		return 1;
	(void) desc_label(probe, sizeof (probe), s->ts_func, s->ts_kind,
	    s->ts_poff, 1);
	return where_eval(tr->tr_where, &env, why);
}

/* The firing H of S, judged R (WHY): counted, stacked, printed, or not. */
static void
trace_fp_fire(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s,
    const dtproc_hit_t *h, int r, const char *why, uint64_t dur)
{
	if (r != 1) {
		tr->tr_filtered++;
		if (r < 0 && tr->tr_noval++ == 0)
			tr->tr_noval_why = why;
		return;
	}
	if (s->ts_quiet)
		return;
	if (tr->tr_where != NULL)
		s->ts_hits++;
	/* a call is stacked once, at its entry */
	if (tr->tr_ustack && !(s->ts_call && h->dh_kind == DTPROC_HIT_RETURN))
		trace_stack_hit(tr, pr, h->dh_tid, s);
	if (tr->tr_events)
		tx_event(tr, pr, s, h, dur);
}

/* A firing: control thread, handle locked, the thread stopped. */
void
trace_fp_hit(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_hit_t *h,
    void *arg)
{
	trace_site_t *s = arg;
	trace_t *tr = s->ts_tr;
	tx_thread_t *t = tx_thread(tr->tr_x, h->dh_tid);
	const char *why;
	int r = trace_judge(tr, pr, s, h, &why), i;
	uint64_t dur = 0;

	(void) dtp;
	if (h->dh_kind == DTPROC_HIT_ENTRY) {
		bool call = trace_find(tr, s->ts_addr, DTPROC_FP_RETURN, 0) !=
		    NULL;

		if (call && t != NULL)
			tx_call_entry(t, h, r);
		/* judged at its return: not turned away yet */
		if (r < 0 && call && s->ts_call)
			r = 2;
	} else if (h->dh_kind == DTPROC_HIT_RETURN) {
		int v;

		i = t != NULL ? tx_call_find(t, h) : -1;
		v = i >= 0 ? t->xt_f[i].xf_verdict : -1;
		if (r < 0 && v >= 0)
			r = v;		/* the entry's verdict */
		dur = tx_call_return(tr->tr_x, t, i, s, h, v >= 0 ? v == 1 :
		    r == 1);
	}
	if (r != 2)
		trace_fp_fire(tr, pr, s, h, r, why, dur);
}

/*
 * May returns be recorded without a stop (DTPROC_FP_NOSTOP: fired later,
 * with the return value and the thread's clock)?  Not when every return
 * must stop (--stop-returns, --stop-probes) or --where reads registers
 * or memory; the calibration helper is probed so too.
 */
bool
trace_fp_nostop_ok(const trace_t *tr)
{
	return !tr->tr_stopret && !tr->tr_stopprobes &&
	    !where_needs_stop(tr->tr_where);
}

/*
 * And S's: not where its return needs the thread stopped besides: a
 * stack (-U at a return of its own), -e showing a char * it returns.
 */
static bool
trace_fp_nostop(trace_t *tr, dtproc_proc_t *pr, const trace_site_t *s)
{
	dtproc_param_t ret;

	if (s->ts_kind != DTPROC_FP_RETURN || !trace_fp_nostop_ok(tr) ||
	    (tr->tr_ustack && !s->ts_call))
		return false;
	return !tr->tr_events || dtproc_fn_params(tr->tr_dtp, pr, s->ts_addr,
	    NULL, 0, &ret) < 0 || ret.dp_kind != DTPROC_T_STR;
}

int
trace_fp_arm(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	if (tx_wanted(tr) && tx_site(s) == NULL)
		return -ENOMEM;
	return dtproc_fprobe_add(tr->tr_dtp, pr, s->ts_addr, s->ts_poff,
	    s->ts_kind | (trace_fp_nostop(tr, pr, s) ? DTPROC_FP_NOSTOP : 0),
	    trace_fp_hit, s);
}

/* S's mechanism and, unfiltered, its count (handle held). */
void
trace_fp_read(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	dtproc_fprobe_info_t fi;

	if (!s->ts_armed || dtproc_fprobe_info(tr->tr_dtp, pr, s->ts_addr,
	    s->ts_poff, s->ts_kind, &fi) != 0)
		return;
	if (tr->tr_where == NULL)
		s->ts_hits = fi.dfi_hits;
	s->ts_unwound = fi.dfi_unwound;
	s->ts_overflow = fi.dfi_overflow;
	s->ts_how = fi.dfi_how;
	s->ts_why = NULL;
}

void
trace_fp_del(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	(void) dtproc_fprobe_del(tr->tr_dtp, pr, s->ts_addr, s->ts_poff,
	    s->ts_kind);
	/* -e's parameters: their strings go with the object */
	if (s->ts_x != NULL)
		s->ts_x->xs_nparams = -1;
	/* --where's: another object may come to this address */
	memset(s->ts_pname, 0, sizeof (s->ts_pname));
}

int
trace_where_set(trace_t *tr, cli_target_t *t, const char *expr)
{
	const char *msg;
	size_t col;
	char prefix[64];

	if (tr->tr_where != NULL) {
		return cli_target_usage(t, "trace", "only one --where (join "
		    "conditions with &&): '%s'", expr);
	}
	tr->tr_where_expr = expr;
	if ((tr->tr_where = where_compile(expr, &msg, &col)) != NULL)
		return 0;
	if (t->ct_err == 0) {
		snprintf(prefix, sizeof (prefix), "%s: trace: bad --where",
		    cli_progname);
		where_perror(stderr, prefix, expr, msg, col);
		t->ct_err = CLI_EXIT_USAGE;
		opterr = 0;
	}
	return -2;
}
