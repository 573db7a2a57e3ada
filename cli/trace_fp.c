/*
 * trace_fp.c - `dtproc trace`'s function probes (dtproc_fprobe_add) and
 * its --where filter.
 *
 * An entry probe stays what it always was (dtproc_probe_add: a counting
 * trampoline, no stop) unless a filter is given: to judge a firing the
 * filter needs the firing (its thread, arguments, return value), which
 * only a stop with the hit record gives.  Return and offset probes are
 * function probes always.  A function probe's callback runs on the
 * control thread with the handle locked and the thread stopped, so the
 * strings the filter compares are read from the process as it is at the
 * firing.
 *
 * Counts: without a filter the library's count (dfi_hits) is the line's,
 * as dpi_hits is for entries; with one, the callback counts the firings
 * that passed, and the ones turned away are summed for a closing note
 * (those that had no value apart: a variable the firing lacks, an
 * unreadable string), so a filter that never holds is seen to be why.
 */
#include "trace.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define TRACE_NPARAMS	32	/* parameters looked at for a name */

bool
trace_fp_wanted(const trace_t *tr, int kind)
{
	/* a USDT probe has no function: trace_usdt.c arms it */
	return kind != DESC_USDT &&
	    (kind != DTPROC_FP_ENTRY || tr->tr_where != NULL);
}

/* What a --where variable reads at one firing. */
typedef struct trace_firing {
	trace_t *tf_tr;
	dtproc_proc_t *tf_pr;
	const dtproc_hit_t *tf_hit;
} trace_firing_t;

/* A parameter by name from the function's DWARF (entry only: at an
 * offset the registers may hold something else by then). */
static int
trace_param(trace_firing_t *f, const char *name, uint64_t *val)
{
	dtproc_param_t p[TRACE_NPARAMS];
	int n;

	if (f->tf_hit->dh_kind != DTPROC_HIT_ENTRY ||
	    (n = dtproc_fn_params(f->tf_tr->tr_dtp, f->tf_pr,
	    f->tf_hit->dh_func, p, TRACE_NPARAMS, NULL)) < 0)
		return -1;
	for (int i = 0; i < n && i < TRACE_NPARAMS; i++) {
		if (p[i].dp_name != NULL && strcmp(p[i].dp_name, name) == 0 &&
		    p[i].dp_arg >= 0 && p[i].dp_arg < DTPROC_HIT_NARGS) {
			*val = f->tf_hit->dh_args[p[i].dp_arg];
			return 0;
		}
	}
	return -1;
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
		if (v->wv_index >= DTPROC_HIT_NARGS)
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

/* A firing: control thread, handle locked, the thread stopped. */
void
trace_fp_hit(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_hit_t *hit,
    void *arg)
{
	trace_site_t *s = arg;
	trace_t *tr = s->ts_tr;

	(void) dtp;
	if (tr->tr_where != NULL) {
		trace_firing_t f = { tr, pr, hit };
		char probe[512];
		where_env_t env = { trace_var, trace_str, probe, &f };
		const char *why = NULL;
		int r;

		(void) desc_label(probe, sizeof (probe), s->ts_func, s->ts_kind,
		    s->ts_poff, 1);
		if ((r = where_eval(tr->tr_where, &env, &why)) != 1) {
			tr->tr_filtered++;
			if (r < 0 && tr->tr_noval++ == 0)
				tr->tr_noval_why = why;
			return;
		}
		s->ts_hits++;
	}
	if (tr->tr_ustack)
		trace_stack_hit(tr, pr, hit->dh_tid, s);
}

int
trace_fp_arm(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	return dtproc_fprobe_add(tr->tr_dtp, pr, s->ts_addr, s->ts_poff,
	    s->ts_kind, trace_fp_hit, s);
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
	s->ts_how = fi.dfi_how;
	s->ts_why = NULL;
}

void
trace_fp_del(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	(void) dtproc_fprobe_del(tr->tr_dtp, pr, s->ts_addr, s->ts_poff,
	    s->ts_kind);
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
