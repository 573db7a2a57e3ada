/*
 * trace_report.c - what `dtproc trace` prints: the table of hits per
 * object`function (text, --json, -U stacks, --folded), the tables of
 * --interval, and -l's list of sites.
 *
 * A line sums the sites of one function (object, name, offset in the
 * file): an object loaded twice, or an exec loop, gives one line per
 * name.  Each site's hits are what trace_read() last read from its
 * probe; --interval shows the part not shown yet (ts_shown).
 */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

/* One line of the result: an object`function and its hits. */
typedef struct trace_line {
	const char *tl_obj, *tl_func;
	const char *tl_impl;		/* an IFUNC's implementation */
	uintptr_t tl_off;		/* the function's offset in the file */
	int tl_kind;			/* DTPROC_FP_*: entry, return, offset */
	size_t tl_poff;			/* an offset probe's offset */
	bool tl_namesake;		/* another line has its name */
	char tl_label[512];		/* the function as printed */
	unsigned long long tl_hits;
	unsigned long long tl_missed;	/* stops skipped, in tl_hits */
	int tl_how;			/* the newest site's mechanism */
	const char *tl_why;		/* and why it is an int3 */
} trace_line_t;

/* The line's sites: one function (by offset) of one object's name. */
static bool
trace_line_has(const trace_line_t *l, const trace_site_t *s)
{
	return l->tl_off == s->ts_off && l->tl_kind == s->ts_kind &&
	    l->tl_poff == s->ts_poff && strcmp(l->tl_obj, s->ts_obj) == 0 &&
	    strcmp(l->tl_func, s->ts_func) == 0;
}

/*
 * The function as printed: its name, with ":return" or "+0x4" for a
 * return or offset probe (desc_label); "strlen (__strlen_evex)" for an
 * IFUNC; "check_match [0x1a2b0]" for one of namesakes, by its offset.
 */
static void
trace_label(trace_line_t *l)
{
	int n = desc_label(l->tl_label, sizeof (l->tl_label), l->tl_func,
	    l->tl_kind, l->tl_poff, 0);

	if (l->tl_impl != NULL && n >= 0 && (size_t)n < sizeof (l->tl_label))
		n += snprintf(l->tl_label + n, sizeof (l->tl_label) - n,
		    " (%s)", l->tl_impl);
	if (l->tl_namesake && n >= 0 && (size_t)n < sizeof (l->tl_label))
		snprintf(l->tl_label + n, sizeof (l->tl_label) - n, " [%#lx]",
		    (unsigned long)l->tl_off);
}

static int
trace_line_cmp(const void *a, const void *b)
{
	const trace_line_t *x = a, *y = b;
	int c;

	if (x->tl_hits != y->tl_hits)
		return x->tl_hits > y->tl_hits ? -1 : 1;
	if ((c = strcmp(x->tl_obj, y->tl_obj)) != 0)
		return c;
	if ((c = strcmp(x->tl_func, y->tl_func)) != 0)
		return c;
	if (x->tl_off != y->tl_off)
		return x->tl_off < y->tl_off ? -1 : 1;
	if (x->tl_kind != y->tl_kind)
		return x->tl_kind < y->tl_kind ? -1 : 1;
	return x->tl_poff < y->tl_poff ? -1 : x->tl_poff > y->tl_poff;
}

/*
 * Sum the sites per object`function; the lines, most hits first.  DELTA:
 * the hits not shown yet (--interval), lines without any left out.
 */
static trace_line_t *
trace_lines(trace_t *tr, size_t *np, bool delta)
{
	size_t n = 0, cap = 64;
	trace_line_t *l = malloc(cap * sizeof (*l));

	if (l == NULL)
		return NULL;
	for (trace_site_t *s = tr->tr_all; s != NULL; s = s->ts_all) {
		unsigned long long hits = delta ? s->ts_hits - s->ts_shown :
		    s->ts_hits;
		size_t i;

		/* a half armed for --time only is no probe of the user's */
		if (hits == 0 || s->ts_quiet)
			continue;
		for (i = 0; i < n; i++)
			if (trace_line_has(&l[i], s))
				break;
		if (i == n) {
			if (n == cap) {
				trace_line_t *m = realloc(l, 2 * cap *
				    sizeof (*l));
				if (m == NULL)
					break;
				l = m;
				cap *= 2;
			}
			memset(&l[n], 0, sizeof (l[n]));
			l[n].tl_obj = s->ts_obj;
			l[n].tl_func = s->ts_func;
			l[n].tl_impl = s->ts_impl;
			l[n].tl_off = s->ts_off;
			l[n].tl_kind = s->ts_kind;
			l[n].tl_poff = s->ts_poff;
			l[n].tl_how = s->ts_how;
			l[n].tl_why = s->ts_why;
			n++;
		}
		l[i].tl_hits += hits;
		l[i].tl_missed += s->ts_missed;
	}
	/* a namesake among the sites, hit or not, needs its offset */
	for (size_t i = 0; i < n; i++) {
		for (trace_site_t *s = tr->tr_all; s != NULL &&
		    !l[i].tl_namesake; s = s->ts_all)
			l[i].tl_namesake = s->ts_off != l[i].tl_off &&
			    strcmp(l[i].tl_func, s->ts_func) == 0 &&
			    strcmp(l[i].tl_obj, s->ts_obj) == 0;
		trace_label(&l[i]);
	}
	qsort(l, n, sizeof (*l), trace_line_cmp);
	*np = n;
	return l;
}

/* A stack of a line: the stacks of its sites with one key, summed. */
typedef struct trace_sum {
	const trace_stack_t *tm_k;	/* the first seen: its names */
	unsigned long long tm_hits;
} trace_sum_t;

static int
trace_key_cmp(const void *a, const void *b)
{
	const trace_stack_t *x = ((const trace_sum_t *)a)->tm_k;
	const trace_stack_t *y = ((const trace_sum_t *)b)->tm_k;

	if (x->tk_keylen != y->tk_keylen)
		return x->tk_keylen < y->tk_keylen ? -1 : 1;
	return memcmp(x->tk_key, y->tk_key, x->tk_keylen);
}

static int
trace_sum_cmp(const void *a, const void *b)
{
	const trace_sum_t *x = a, *y = b;

	if (x->tm_hits != y->tm_hits)
		return x->tm_hits > y->tm_hits ? -1 : 1;
	return trace_key_cmp(a, b);
}

/*
 * The stacks of every site named like L (an object loaded again, an exec
 * loop: one site each), those with one key merged, most hits first.
 */
static trace_sum_t *
trace_line_stacks(trace_t *tr, const trace_line_t *l, size_t *np)
{
	size_t n = 0, m = 0;
	trace_sum_t *v = NULL;

	for (trace_site_t *s = tr->tr_all; s != NULL; s = s->ts_all) {
		if (!trace_line_has(l, s))
			continue;
		for (trace_stack_t *k = s->ts_stacks; k != NULL;
		    k = k->tk_next) {
			trace_sum_t *nv = realloc(v, (n + 1) * sizeof (*v));
			if (nv == NULL)
				break;
			v = nv;
			v[n].tm_k = k;
			v[n++].tm_hits = k->tk_hits;
		}
	}
	if (n > 0) {
		qsort(v, n, sizeof (*v), trace_key_cmp);
		for (size_t i = 1; i < n; i++) {
			if (trace_key_cmp(&v[m], &v[i]) == 0)
				v[m].tm_hits += v[i].tm_hits;
			else
				v[++m] = v[i];
		}
		n = m + 1;
		qsort(v, n, sizeof (*v), trace_sum_cmp);
	}
	*np = n;
	return v;
}

static const char *
trace_frame(const trace_stack_t *k, int f)
{
	return k->tk_names[f] != NULL ? k->tk_names[f] : "?";
}

/* dpi_how as -l and --json say it. */
static const char *
trace_how(int how)
{
	return how == DTPROC_PROBE_TRAMP ? "trampoline" :
	    how == DTPROC_PROBE_TRAP ? "int3" : "pending";
}

/* --json's "name": DTrace's probe name, entry, return or a hex offset. */
static void
trace_json_name(FILE *o, int kind, size_t poff)
{
	if (kind == DTPROC_FP_OFFSET)
		fprintf(o, ",\"name\":\"%zx\"", poff);
	else if (kind == DESC_USDT)
		fprintf(o, ",\"name\":\"usdt\"");
	else
		fprintf(o, ",\"name\":\"%s\"", kind == DTPROC_FP_RETURN ?
		    "return" : "entry");
}

/*
 * --json's members of a table: "probes":[...],"total":N (a process's
 * or the run's; trace_proc.c writes the object around them).
 */
static void
trace_print_json(trace_t *tr, const trace_line_t *l, size_t n,
    unsigned long long total)
{
	FILE *o = tr->tr_out;
	size_t nk;

	fprintf(o, "\"probes\":[");
	for (size_t i = 0; i < n; i++) {
		fprintf(o, "%s{\"object\":", i ? "," : "");
		cli_json_str(o, l[i].tl_obj);
		fprintf(o, ",\"function\":");
		cli_json_str(o, l[i].tl_func);
		if (l[i].tl_impl != NULL) {
			fprintf(o, ",\"implementation\":");
			cli_json_str(o, l[i].tl_impl);
		}
		if (l[i].tl_namesake)
			fprintf(o, ",\"offset\":%lu", (unsigned long)l[i].tl_off);
		fprintf(o, ",\"hits\":%llu", l[i].tl_hits);
		fprintf(o, ",\"how\":\"%s\",\"why\":", trace_how(l[i].tl_how));
		if (l[i].tl_how == DTPROC_PROBE_TRAP && l[i].tl_why != NULL)
			cli_json_str(o, l[i].tl_why);
		else
			fprintf(o, "null");
		fprintf(o, ",\"missed\":%llu", l[i].tl_missed);
		if (tr->tr_ustack) {
			trace_sum_t *v = trace_line_stacks(tr, &l[i], &nk);

			fprintf(o, ",\"stacks\":[");
			for (size_t j = 0; j < nk; j++) {
				fprintf(o, "%s{\"hits\":%llu,\"frames\":[",
				    j ? "," : "", v[j].tm_hits);
				for (int f = 0; f < v[j].tm_k->tk_depth; f++) {
					if (f)
						fputc(',', o);
					cli_json_str(o, trace_frame(v[j].tm_k, f));
				}
				fprintf(o, "]}");
			}
			fprintf(o, "]");
			free(v);
		}
		trace_json_name(o, l[i].tl_kind, l[i].tl_poff);
		fprintf(o, "}");
	}
	fprintf(o, "],\"total\":%llu", total);
}

/* --folded: "outer;...;inner count", or the table with -U stacks. */
static void
trace_print_text(trace_t *tr, const trace_line_t *l, size_t n)
{
	FILE *o = tr->tr_out;
	size_t nk;

	if (!tr->tr_folded)
		fprintf(o, "%12s  %s\n", "HITS", "PROBE");
	for (size_t i = 0; i < n; i++) {
		trace_sum_t *v = NULL;

		if (!tr->tr_folded)
			fprintf(o, "%12llu  %s`%s\n", l[i].tl_hits,
			    l[i].tl_obj, l[i].tl_label);
		if (!tr->tr_ustack)
			continue;
		v = trace_line_stacks(tr, &l[i], &nk);
		for (size_t j = 0; j < nk; j++) {
			const trace_stack_t *k = v[j].tm_k;

			if (tr->tr_folded) {
				for (int f = k->tk_depth - 1; f >= 0; f--)
					fprintf(o, "%s%s", trace_frame(k, f),
					    f ? ";" : "");
				fprintf(o, " %llu\n", v[j].tm_hits);
				continue;
			}
			for (int f = 0; f < k->tk_depth; f++)
				fprintf(o, "%14s%s\n", "", trace_frame(k, f));
			fprintf(o, "%12llu\n\n", v[j].tm_hits);
		}
		free(v);
	}
}

unsigned long long
trace_print(trace_t *tr)
{
	size_t n;
	trace_line_t *l = trace_lines(tr, &n, false);
	unsigned long long total = 0;

	if (l == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		total += l[i].tl_hits;
	if (tr->tr_json)
		trace_print_json(tr, l, n, total);
	else
		trace_print_text(tr, l, n);
	/*
	 * Hits a trampoline counted without the stop -U asked for: say so,
	 * or the stacks would seem to add up to less than the hits.
	 */
	unsigned long long missed = 0;
	for (size_t i = 0; i < n; i++)
		missed += l[i].tl_missed;
	if (missed > 0 && !tr->tr_json)
		fprintf(tr->tr_out, "dtproc: %llu of %llu hits counted but "
		    "not stopped at (the thread blocked or handled SIGURG, "
		    "or was a vfork child): no stack for them\n", missed,
		    total);
	free(l);
	return total;
}

/* The hits of TR's lines, printed or not (a table replaced by --time). */
unsigned long long
trace_total(trace_t *tr)
{
	size_t n;
	trace_line_t *l = trace_lines(tr, &n, false);
	unsigned long long total = 0;

	for (size_t i = 0; l != NULL && i < n; i++)
		total += l[i].tl_hits;
	free(l);
	return total;
}

/*
 * --interval: the hits since the last interval, headed by the time since
 * the start (a JSON line each with --json).  Read and printed with the
 * handle held: a callback may retire (free) a site meanwhile otherwise.
 * The process is not stopped: patched sites are read from shared memory.
 */
void
trace_print_interval(trace_t *tr, dtproc_proc_t *pr)
{
	FILE *o = tr->tr_out;
	trace_line_t *l;
	size_t n;

	dtproc_lock(tr->tr_dtp, pr);
	for (trace_site_t *s = tr->tr_all; s != NULL; s = s->ts_all)
		trace_read(tr, pr, s);
	if ((l = trace_lines(tr, &n, true)) != NULL) {
		if (tr->tr_json) {
			fprintf(o, "{\"elapsed\":%.3f,\"probes\":[",
			    cli_elapsed());
			for (size_t i = 0; i < n; i++) {
				fprintf(o, "%s{\"object\":", i ? "," : "");
				cli_json_str(o, l[i].tl_obj);
				fprintf(o, ",\"function\":");
				cli_json_str(o, l[i].tl_label);
				fprintf(o, ",\"hits\":%llu}", l[i].tl_hits);
			}
			fprintf(o, "]}\n");
		} else {
			fprintf(o, "-- %.3f s\n%12s  %s\n", cli_elapsed(),
			    "HITS", "PROBE");
			for (size_t i = 0; i < n; i++)
				fprintf(o, "%12llu  %s`%s\n", l[i].tl_hits,
				    l[i].tl_obj, l[i].tl_label);
			fputc('\n', o);
		}
		free(l);
	}
	for (trace_site_t *s = tr->tr_all; s != NULL; s = s->ts_all)
		s->ts_shown = s->ts_hits;
	dtproc_unlock(tr->tr_dtp, pr);
	(void) fflush(o);
}

/* -l: a reason and how many int3 sites have it. */
typedef struct trace_why {
	const char *tw_why;
	unsigned tw_n;
} trace_why_t;

static int
trace_why_cmp(const void *a, const void *b)
{
	const trace_why_t *x = a, *y = b;

	if (x->tw_n != y->tw_n)
		return x->tw_n > y->tw_n ? -1 : 1;
	return strcmp(x->tw_why, y->tw_why);
}

/* Count WHY among the N reasons in W (room for one more). */
static void
trace_why_add(trace_why_t *w, size_t *n, const char *why)
{
	size_t i;

	for (i = 0; i < *n && strcmp(w[i].tw_why, why) != 0; i++)
		;
	if (i == *n) {
		w[i].tw_why = why;
		w[i].tw_n = 0;
		(*n)++;
	}
	w[i].tw_n++;
}

static void
trace_list_json(trace_t *tr, FILE *o, trace_site_t **v, size_t n, pid_t pid)
{
	fprintf(o, "{\"pid\":%d,\"sites\":[", (int)pid);
	for (size_t i = 0; i < n; i++) {
		fprintf(o, "%s{\"object\":", i ? "," : "");
		cli_json_str(o, v[i]->ts_obj);
		fprintf(o, ",\"function\":");
		cli_json_str(o, v[i]->ts_func);
		fprintf(o, ",\"address\":%lu,\"size\":%lu,\"how\":\"%s\","
		    "\"why\":", (unsigned long)(v[i]->ts_addr +
		    (v[i]->ts_kind == DTPROC_FP_OFFSET ? v[i]->ts_poff : 0)),
		    (unsigned long)v[i]->ts_size, trace_how(v[i]->ts_how));
		if (v[i]->ts_how == DTPROC_PROBE_TRAP && v[i]->ts_why != NULL)
			cli_json_str(o, v[i]->ts_why);
		else
			fprintf(o, "null");
		trace_json_name(o, v[i]->ts_kind, v[i]->ts_poff);
		fprintf(o, "}");
	}
	fprintf(o, "]");
	trace_usdt_list_armed(tr, o, tr->tr_sess.cs_proc);
	fprintf(o, ",\"armed\":%zu,\"failed\":%u}\n", tr->tr_nsites,
	    tr->tr_failed);
}

/*
 * -l: the armed sites in the order they were armed (object by object,
 * by address), how each is carried, and a summary line.
 */
void
trace_list(trace_t *tr, FILE *o, pid_t pid)
{
	trace_site_t **v = calloc(tr->tr_nsites + 1, sizeof (*v));
	trace_why_t *w = calloc(tr->tr_nsites + 1, sizeof (*w));
	size_t n = 0, nw = 0, patched = 0, int3 = 0, pending = 0;

	if (v == NULL || w == NULL) {
		free(v);
		free(w);
		return;
	}
	for (trace_site_t *s = tr->tr_all; s != NULL && n < tr->tr_nsites;
	    s = s->ts_all)
		if (s->ts_armed)
			v[n++] = s;
	for (size_t i = 0; i < n / 2; i++) {	/* oldest first */
		trace_site_t *t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	if (tr->tr_json) {
		trace_list_json(tr, o, v, n, pid);
		free(v);
		free(w);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char name[600], fn[512];
		const trace_site_t *s = v[i];

		(void) desc_label(fn, sizeof (fn), s->ts_func, s->ts_kind,
		    s->ts_poff, 0);
		snprintf(name, sizeof (name), "%s`%.300s%s%s%s", s->ts_obj,
		    fn, s->ts_impl != NULL ? " (" : "",
		    s->ts_impl != NULL ? s->ts_impl : "",
		    s->ts_impl != NULL ? ")" : "");
		fprintf(o, "%-48s %#14lx %8lu  ", name, (unsigned long)(s->ts_addr +
		    (s->ts_kind == DTPROC_FP_OFFSET ? s->ts_poff : 0)),
		    (unsigned long)s->ts_size);
		if (s->ts_how == DTPROC_PROBE_TRAMP) {
			fprintf(o, "trampoline\n");
			patched++;
		} else if (s->ts_how == DTPROC_PROBE_TRAP) {
			const char *why = s->ts_why != NULL ? s->ts_why :
			    "no reason given";

			fprintf(o, "int3: %s\n", why);
			trace_why_add(w, &nw, why);
			int3++;
		} else {
			fprintf(o, "pending: a vfork child runs on its memory\n");
			pending++;
		}
	}
	qsort(w, nw, sizeof (*w), trace_why_cmp);
	fprintf(o, "%zu site%s: %zu patched, %zu int3", n, n == 1 ? "" : "s",
	    patched, int3);
	for (size_t i = 0; i < nw; i++)
		fprintf(o, "%s%u %s", i ? "; " : " (", w[i].tw_n, w[i].tw_why);
	fprintf(o, "%s", nw > 0 ? ")" : "");
	if (pending > 0)
		fprintf(o, ", %zu pending", pending);
	fprintf(o, "\n");
	trace_usdt_list_armed(tr, o, tr->tr_sess.cs_proc);
	free(v);
	free(w);
}

