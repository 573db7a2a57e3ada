/*
 * trace.c - `dtproc trace`: count (and stack) the calls of functions.
 *
 * DTrace's pid provider on the public API.  Each PROBE names functions
 * by glob; a site is armed at the entry of each match, now and whenever
 * the program's objects change: at dlopen (the dynamic-linker activity
 * callback, as the reference's dt_pid_create_probes_module), at dlclose
 * (sites in the object are withdrawn), and after exec (the control layer
 * forgot the old image's sites; the new one's are armed at its exec and
 * at its preinit).  Every table here is touched by the control thread,
 * in callbacks run with the handle locked, or by the main thread holding
 * that lock, or after the process is released.
 *
 * Counts are kept per site and summed per object`function at the end, so
 * that an object loaded twice, or an exec loop, gives one line per name.
 * A site is one address: aliases share it (armed once, under the first
 * probe's name; every probe naming it has matched), and namesakes (two
 * local functions of one name in one object) are lines apart, labelled
 * with their offset in the object.  An IFUNC is probed at the function
 * its resolver chose, labelled "strlen (__strlen_evex)".
 * With -U each hit also stacks the thread (dtproc_stack) and counts per
 * distinct stack; a new stack is named once, when first seen, while its
 * objects are surely still there.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <search.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char trace_usage[] =
"usage: dtproc trace (-c 'CMD ARGS' | -p PID | -- CMD ARGS...) -f PROBE\n"
"                    [-f PROBE ...] [-d SECONDS] [-s WHEN] [-U [--folded]]\n"
"                    [--json]\n"
"\n"
"Count the calls of functions, as DTrace's pid provider does: a probe at\n"
"the entry of each function matching PROBE, in every object loaded now\n"
"or later, on every thread, one stop per call.  At the end, hits per\n"
"object`function, most first.\n"
"\n"
"  -f PROBE       [OBJECT`]FUNCTION, globs allowed in both parts:\n"
"                 malloc, libc.so.6`malloc, 'libz*`inflate*', 'a.out`*'\n"
"  -c 'CMD ARGS'  run CMD (split as a shell would, nothing expanded);\n"
"                 exit with its status\n"
"  -p PID         grab the running process PID; trace until Ctrl-C, -d\n"
"                 or its end, then let it run on unharmed\n"
"  -- CMD ARGS    run CMD with ARGS as given\n"
"  -d SECONDS     stop tracing after SECONDS (a command we started is\n"
"                 then killed, a grabbed process runs on)\n"
"  -s WHEN        where a created process is armed: create, preinit (the\n"
"                 default: constructors and main are counted), postinit\n"
"                 or main\n"
"  -U             count per user stack too (DTrace's ustack())\n"
"  --folded       with -U: one 'frame;frame;frame count' line per stack,\n"
"                 outermost first, for FlameGraph\n"
"  --depth N      -U: at most N frames per stack (default 64)\n"
"  --json         the counts as one JSON document\n"
"\n"
"Children of fork, vfork and posix_spawn are let go clean, not counted.\n";

typedef struct trace_stack {
	uint64_t tk_hash;
	int tk_depth;
	uintptr_t *tk_pcs;
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
	unsigned long long ts_hits;
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
	uintptr_t *tr_pcs;	/* -U scratch */
	unsigned long long tr_stack_err;
	cli_session_t tr_sess;
	bool tr_live;		/* armed at the -s stop: callbacks re-arm */
} trace_t;

static int
trace_site_cmp(const void *a, const void *b)
{
	uintptr_t x = ((const trace_site_t *)a)->ts_addr;
	uintptr_t y = ((const trace_site_t *)b)->ts_addr;

	return x < y ? -1 : x > y;
}

static trace_site_t *
trace_find(const trace_t *tr, uintptr_t addr)
{
	trace_site_t key = { .ts_addr = addr };
	void *const *n = tfind(&key, &tr->tr_armed, trace_site_cmp);

	return n != NULL ? *n : NULL;
}

/* The site is no longer armed (its address may be armed anew). */
static void
trace_unarm(trace_t *tr, trace_site_t *s)
{
	(void) tdelete(s, &tr->tr_armed, trace_site_cmp);
	s->ts_armed = false;
}

static uint64_t
trace_pcs_hash(const uintptr_t *pcs, int n)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < n; i++)
		h = (h ^ pcs[i]) * 1099511628211ULL;
	return h;
}

/* -U: count this hit under its stack. */
static void
trace_stack_hit(trace_t *tr, dtproc_proc_t *pr, pid_t tid, trace_site_t *s)
{
	int n = dtproc_stack(tr->tr_dtp, pr, tid, tr->tr_pcs, tr->tr_depth);
	uint64_t h;
	trace_stack_t *k;

	if (n <= 0) {
		tr->tr_stack_err++;
		return;
	}
	h = trace_pcs_hash(tr->tr_pcs, n);
	for (k = s->ts_stacks; k != NULL; k = k->tk_next) {
		if (k->tk_hash == h && k->tk_depth == n &&
		    memcmp(k->tk_pcs, tr->tr_pcs, n * sizeof (uintptr_t)) == 0) {
			k->tk_hits++;
			return;
		}
	}
	if ((k = calloc(1, sizeof (*k))) == NULL ||
	    (k->tk_pcs = malloc(n * sizeof (uintptr_t))) == NULL ||
	    (k->tk_names = calloc(n, sizeof (char *))) == NULL) {
		if (k != NULL) {
			free(k->tk_pcs);
			free(k);
		}
		tr->tr_stack_err++;
		return;
	}
	memcpy(k->tk_pcs, tr->tr_pcs, n * sizeof (uintptr_t));
	k->tk_depth = n;
	k->tk_hash = h;
	k->tk_hits = 1;
	for (int i = 0; i < n; i++) {
		char name[512];

		if (dtproc_frame_name(tr->tr_dtp, pr, k->tk_pcs[i], i > 0,
		    name, sizeof (name)) < 0)
			snprintf(name, sizeof (name), "%#lx",
			    (unsigned long)k->tk_pcs[i]);
		k->tk_names[i] = strdup(name);
	}
	k->tk_next = s->ts_stacks;
	s->ts_stacks = k;
}

/* A breakpoint callback: control thread, handle locked, TID stopped. */
static void
trace_hit(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	trace_site_t *s = arg;

	(void) dtp;
	(void) addr;
	s->ts_hits++;
	if (s->ts_tr->tr_ustack)
		trace_stack_hit(s->ts_tr, pr, tid, s);
}

typedef struct trace_arm {
	trace_t *ta_tr;
	dtproc_proc_t *ta_pr;
	trace_probe_t *ta_probe;
} trace_arm_t;

static void
trace_site_free(trace_site_t *s)
{
	while (s->ts_stacks != NULL) {
		trace_stack_t *k = s->ts_stacks;

		s->ts_stacks = k->tk_next;
		for (int i = 0; i < k->tk_depth; i++)
			free(k->tk_names[i]);
		free(k->tk_names);
		free(k->tk_pcs);
		free(k);
	}
	free(s->ts_obj);
	free(s->ts_path);
	free(s->ts_func);
	free(s->ts_impl);
	free(s);
}

/* A string formatted into new memory, or NULL. */
static char *
trace_fmt(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : p;
}

static int
trace_arm_one(const dtproc_sym_t *sym, void *arg)
{
	trace_arm_t *ta = arg;
	trace_t *tr = ta->ta_tr;
	trace_site_t *s;

	if (trace_find(tr, sym->ds_addr) != NULL) {
		ta->ta_probe->tp_matched++;	/* an alias of an armed site */
		return 0;
	}
	if ((s = calloc(1, sizeof (*s))) == NULL)
		return -ENOMEM;
	s->ts_addr = sym->ds_addr;
	s->ts_tr = tr;
	s->ts_obj = strdup(sym->ds_object != NULL ? sym->ds_object : "?");
	s->ts_path = strdup(sym->ds_path != NULL ? sym->ds_path : "");
	/* printed without its version unless it is not the default */
	if (sym->ds_name == NULL)
		s->ts_func = strdup("?");
	else if ((sym->ds_flags & DTPROC_SYM_COMPAT) && sym->ds_version != NULL)
		s->ts_func = trace_fmt("%.*s@%s", (int)strcspn(sym->ds_name,
		    "@"), sym->ds_name, sym->ds_version);
	else
		s->ts_func = strndup(sym->ds_name, strcspn(sym->ds_name, "@"));
	s->ts_lmid = sym->ds_lmid;
	s->ts_off = sym->ds_addr - sym->ds_bias;
	if ((sym->ds_flags & DTPROC_SYM_IFUNC) && sym->ds_impl != NULL &&
	    (s->ts_impl = strdup(sym->ds_impl)) == NULL) {
		trace_site_free(s);
		return -ENOMEM;
	}
	if (s->ts_obj == NULL || s->ts_path == NULL || s->ts_func == NULL ||
	    tsearch(s, &tr->tr_armed, trace_site_cmp) == NULL) {
		trace_site_free(s);
		return -ENOMEM;
	}
	if (dtproc_bkpt_add(tr->tr_dtp, ta->ta_pr, s->ts_addr, trace_hit,
	    s) != 0) {
		if (tr->tr_failed++ == 0)
			snprintf(tr->tr_fail_msg, sizeof (tr->tr_fail_msg),
			    "%s`%s: %s", s->ts_obj, s->ts_func,
			    dtproc_errmsg(tr->tr_dtp));
		(void) tdelete(s, &tr->tr_armed, trace_site_cmp);
		trace_site_free(s);
		return 0;
	}
	s->ts_armed = true;
	tr->tr_nsites++;
	s->ts_all = tr->tr_all;
	tr->tr_all = s;
	ta->ta_probe->tp_matched++;
	return 0;
}

/* Arm every probe on whatever matches now (idempotent). */
static void
trace_arm_all(trace_t *tr, dtproc_proc_t *pr)
{
	for (int i = 0; i < tr->tr_nprobes; i++) {
		trace_arm_t ta = { tr, pr, &tr->tr_probes[i] };

		(void) dtproc_sym_iter(tr->tr_dtp, pr, tr->tr_probes[i].tp_obj,
		    tr->tr_probes[i].tp_func, trace_arm_one, &ta);
	}
}

static int
trace_dlact(dtproc_t *dtp, dtproc_proc_t *pr, void *arg)
{
	trace_t *tr = arg;

	(void) dtp;
	if (tr->tr_live)
		trace_arm_all(tr, pr);
	return 0;
}

static void
trace_event(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	trace_t *tr = arg;

	(void) dtp;
	/* before the -s stop nothing is armed: that is where tracing starts */
	if (!tr->tr_live && ev->de_kind != DTPROC_EV_EXIT &&
	    ev->de_kind != DTPROC_EV_LOST)
		return;
	switch (ev->de_kind) {
	case DTPROC_EV_EXEC:
		/* the control layer forgot the old image's sites */
		for (trace_site_t *s = tr->tr_all; s != NULL; s = s->ts_all)
			if (s->ts_armed)
				trace_unarm(tr, s);
		trace_arm_all(tr, pr);
		break;
	case DTPROC_EV_PREINIT:
		trace_arm_all(tr, pr);
		break;
	case DTPROC_EV_OBJ_REMOVE:
		/*
		 * The event names the object as it was dlopen'd (relative,
		 * a symlink...); a site is withdrawn when its address is no
		 * longer in the object it was armed in.
		 */
		for (trace_site_t *s = tr->tr_all; s != NULL; s = s->ts_all) {
			dtproc_sym_t sym;

			if (!s->ts_armed)
				continue;
			if (dtproc_sym_addr(dtp, pr, s->ts_addr, &sym) == 0 &&
			    sym.ds_path != NULL && sym.ds_lmid == s->ts_lmid &&
			    strcmp(sym.ds_path, s->ts_path) == 0)
				continue;
			(void) dtproc_bkpt_del(dtp, pr, s->ts_addr);
			trace_unarm(tr, s);
		}
		break;
	case DTPROC_EV_EXIT:
	case DTPROC_EV_LOST:
		cli_session_poke(&tr->tr_sess, 0);
		break;
	default:
		break;
	}
}

/* "[OBJECT`]FUNCTION": 0, or -1 with *WHY set. */
static int
trace_parse_probe(const char *spec, trace_probe_t *p, const char **why)
{
	const char *tick = strchr(spec, '`');

	memset(p, 0, sizeof (*p));
	p->tp_spec = spec;
	if (*spec == '\0') {
		*why = "empty probe";
		return -1;
	}
	if (tick != NULL && strchr(tick + 1, '`') != NULL) {
		*why = "more than one '`' (the form is [OBJECT`]FUNCTION)";
		return -1;
	}
	if (tick == spec) {
		*why = "empty object before '`'";
		return -1;
	}
	if (tick != NULL && tick[1] == '\0') {
		*why = "empty function after '`'";
		return -1;
	}
	if (tick != NULL) {
		p->tp_obj = strndup(spec, (size_t)(tick - spec));
		p->tp_func = strdup(tick + 1);
	} else {
		p->tp_func = strdup(spec);
	}
	if (p->tp_func == NULL || (tick != NULL && p->tp_obj == NULL)) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

static int
trace_args(int argc, char **argv, trace_t *tr, cli_target_t *t,
    double *secs)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "folded", no_argument, NULL, 'F' },
		{ "depth", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *err;
	char *end;
	int c, rv;
	long d;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:p:s:f:d:Uh", opts, NULL))
	    != -1) {
		if ((rv = cli_target_opt(t, "trace", c, optarg)) == -2)
			continue;
		if (rv >= 0)
			return rv;
		switch (c) {
		case 'f': {
			trace_probe_t *p = realloc(tr->tr_probes,
			    (tr->tr_nprobes + 1) * sizeof (*p));

			if (p == NULL)
				return cli_usage_err("trace", "%s", "out of memory");
			tr->tr_probes = p;
			if (trace_parse_probe(optarg, &p[tr->tr_nprobes],
			    &err) != 0) {
				fprintf(stderr, "%s: trace: bad probe '%s': "
				    "%s\n", cli_progname, optarg, err);
				return 2;
			}
			tr->tr_nprobes++;
			break;
		}
		case 'd':
			errno = 0;
			*secs = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(*secs >= 0) || isinf(*secs))
				return cli_usage_err("trace", "-d: '%s' is not a "
				    "number of seconds", optarg);
			break;
		case 'U':
			tr->tr_ustack = 1;
			break;
		case 'F':
			tr->tr_folded = 1;
			break;
		case 'D':
			errno = 0;
			d = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || d < 1 ||
			    d > DTPROC_STACK_MAX)
				return cli_usage_err("trace", "--depth: '%s' is not "
				    "a depth from 1 to 1024", optarg);
			tr->tr_depth = (int)d;
			break;
		case 'j':
			tr->tr_json = 1;
			break;
		default:
			return cli_opt_other(c, trace_usage);
		}
	}
	if ((rv = cli_target_done(t, "trace", trace_usage, argc, argv)) >= 0)
		return rv;
	if (tr->tr_nprobes == 0)
		return cli_usage_err("trace", "%s", "no probe: give -f PROBE");
	if (tr->tr_folded)
		tr->tr_ustack = 1;
	if (tr->tr_folded && tr->tr_json)
		return cli_usage_err("trace", "%s", "--folded and --json exclude "
		    "each other");
	return -1;
}

/* One line of the result: an object`function and its hits. */
typedef struct trace_line {
	const char *tl_obj, *tl_func;
	const char *tl_impl;		/* an IFUNC's implementation */
	uintptr_t tl_off;		/* the function's offset in the file */
	bool tl_namesake;		/* another line has its name */
	char tl_label[512];		/* the function as printed */
	unsigned long long tl_hits;
} trace_line_t;

/* The line's sites: one function (by offset) of one object's name. */
static bool
trace_line_has(const trace_line_t *l, const trace_site_t *s)
{
	return l->tl_off == s->ts_off && strcmp(l->tl_obj, s->ts_obj) == 0 &&
	    strcmp(l->tl_func, s->ts_func) == 0;
}

/*
 * The function as printed: its name; "strlen (__strlen_evex)" for an
 * IFUNC; "check_match [0x1a2b0]" for one of namesakes, by its offset.
 */
static void
trace_label(trace_line_t *l)
{
	int n = snprintf(l->tl_label, sizeof (l->tl_label), "%s", l->tl_func);

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
	return x->tl_off < y->tl_off ? -1 : x->tl_off > y->tl_off;
}

static int
trace_stack_cmp(const void *a, const void *b)
{
	const trace_stack_t *x = *(trace_stack_t *const *)a;
	const trace_stack_t *y = *(trace_stack_t *const *)b;

	if (x->tk_hits != y->tk_hits)
		return x->tk_hits > y->tk_hits ? -1 : 1;
	return 0;
}

/* Sum the sites per object`function (namesakes apart); most hits first. */
static trace_line_t *
trace_lines(trace_t *tr, size_t *np)
{
	size_t n = 0, cap = 64;
	trace_line_t *l = malloc(cap * sizeof (*l));

	if (l == NULL)
		return NULL;
	for (trace_site_t *s = tr->tr_all; s != NULL; s = s->ts_all) {
		size_t i;

		if (s->ts_hits == 0)
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
			n++;
		}
		l[i].tl_hits += s->ts_hits;
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

/* The stacks of every site named like L, merged by names, sorted. */
static trace_stack_t **
trace_line_stacks(trace_t *tr, const trace_line_t *l, size_t *np)
{
	size_t n = 0;
	trace_stack_t **v = NULL;

	for (trace_site_t *s = tr->tr_all; s != NULL; s = s->ts_all) {
		if (!trace_line_has(l, s))
			continue;
		for (trace_stack_t *k = s->ts_stacks; k != NULL;
		    k = k->tk_next) {
			trace_stack_t **m = realloc(v, (n + 1) * sizeof (*v));
			if (m == NULL)
				break;
			v = m;
			v[n++] = k;
		}
	}
	if (n > 0)
		qsort(v, n, sizeof (*v), trace_stack_cmp);
	*np = n;
	return v;
}

static void
trace_print(trace_t *tr, pid_t pid, int have_status, int status)
{
	size_t n, nk;
	trace_line_t *l = trace_lines(tr, &n);
	unsigned long long total = 0;

	if (l == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		total += l[i].tl_hits;
	if (tr->tr_json) {
		printf("{\"pid\":%d,", (int)pid);
		if (have_status)
			printf("\"status\":%d,", status);
		printf("\"probes\":[");
		for (size_t i = 0; i < n; i++) {
			printf("%s{\"object\":", i ? "," : "");
			cli_json_str(stdout, l[i].tl_obj);
			printf(",\"function\":");
			cli_json_str(stdout, l[i].tl_func);
			if (l[i].tl_impl != NULL) {
				printf(",\"implementation\":");
				cli_json_str(stdout, l[i].tl_impl);
			}
			if (l[i].tl_namesake)
				printf(",\"offset\":%lu",
				    (unsigned long)l[i].tl_off);
			printf(",\"hits\":%llu", l[i].tl_hits);
			if (tr->tr_ustack) {
				trace_stack_t **v = trace_line_stacks(tr,
				    &l[i], &nk);
				printf(",\"stacks\":[");
				for (size_t j = 0; j < nk; j++) {
					printf("%s{\"hits\":%llu,\"frames\":[",
					    j ? "," : "", v[j]->tk_hits);
					for (int f = 0; f < v[j]->tk_depth;
					    f++) {
						if (f)
							putchar(',');
						cli_json_str(stdout,
						    v[j]->tk_names[f] ?
						    v[j]->tk_names[f] : "?");
					}
					printf("]}");
				}
				printf("]");
				free(v);
			}
			printf("}");
		}
		printf("],\"total\":%llu,\"armed\":%zu}\n", total,
		    tr->tr_nsites);
	} else if (tr->tr_folded) {
		for (size_t i = 0; i < n; i++) {
			trace_stack_t **v = trace_line_stacks(tr, &l[i], &nk);

			for (size_t j = 0; j < nk; j++) {
				for (int f = v[j]->tk_depth - 1; f >= 0; f--)
					printf("%s%s", v[j]->tk_names[f] ?
					    v[j]->tk_names[f] : "?",
					    f ? ";" : "");
				printf(" %llu\n", v[j]->tk_hits);
			}
			free(v);
		}
	} else {
		printf("%12s  %s\n", "HITS", "PROBE");
		for (size_t i = 0; i < n; i++) {
			printf("%12llu  %s`%s\n", l[i].tl_hits, l[i].tl_obj,
			    l[i].tl_label);
			if (!tr->tr_ustack)
				continue;
			trace_stack_t **v = trace_line_stacks(tr, &l[i], &nk);
			for (size_t j = 0; j < nk; j++) {
				for (int f = 0; f < v[j]->tk_depth; f++)
					printf("%14s%s\n", "",
					    v[j]->tk_names[f] ?
					    v[j]->tk_names[f] : "?");
				printf("%12llu\n\n", v[j]->tk_hits);
			}
			free(v);
		}
	}
	fflush(stdout);
	free(l);
}

static void
trace_noop(void *p)
{
	(void) p;
}

static void
trace_free(trace_t *tr)
{
	tdestroy(tr->tr_armed, trace_noop);	/* the sites are on tr_all */
	tr->tr_armed = NULL;
	while (tr->tr_all != NULL) {
		trace_site_t *s = tr->tr_all;

		tr->tr_all = s->ts_all;
		trace_site_free(s);
	}
	for (int i = 0; i < tr->tr_nprobes; i++) {
		free(tr->tr_probes[i].tp_obj);
		free(tr->tr_probes[i].tp_func);
	}
	free(tr->tr_probes);
	free(tr->tr_pcs);
}

int
cmd_trace(int argc, char **argv)
{
	trace_t tr = { .tr_depth = DTPROC_STACK_DEFAULT };
	cli_target_t t = { .ct_stop = DTPROC_STOP_PREINIT };
	cli_session_t *s = &tr.tr_sess;
	double secs = -1;	/* -d: < 0, no limit */
	dtproc_proc_t *pr;
	int rv, quit;

	if ((rv = trace_args(argc, argv, &tr, &t, &secs)) >= 0) {
		trace_free(&tr);
		cli_target_free(&t);
		return rv;
	}
	if ((tr.tr_pcs = calloc(DTPROC_STACK_MAX, sizeof (uintptr_t))) ==
	    NULL) {
		fprintf(stderr, "%s: trace: cannot set up: out of memory\n",
		    cli_progname);
		rv = 1;
	} else {
		rv = cli_session_open(s, "trace", CLI_SESS_SIGNALS);
	}
	if (rv != 0) {
		trace_free(&tr);
		cli_target_free(&t);
		return 1;
	}
	tr.tr_dtp = s->cs_dtp;
	dtproc_set_event(tr.tr_dtp, trace_event, &tr);
	dtproc_set_dlactivity(tr.tr_dtp, trace_dlact, &tr);
	if (cli_session_start(s, &t, 0) != 0) {
		cli_session_close(s);
		trace_free(&tr);
		cli_target_free(&t);
		return 1;
	}
	pr = s->cs_proc;

	/* it rests at the rendezvous: arm what is there */
	dtproc_lock(tr.tr_dtp, pr);
	trace_arm_all(&tr, pr);
	tr.tr_live = true;
	dtproc_unlock(tr.tr_dtp, pr);
	for (int i = 0; i < tr.tr_nprobes; i++)
		if (tr.tr_probes[i].tp_matched == 0)
			fprintf(stderr, "%s: warning: probe '%s' matches no "
			    "function in pid %d yet\n", cli_progname,
			    tr.tr_probes[i].tp_spec, (int)s->cs_pid);
	if (tr.tr_failed > 0)
		fprintf(stderr, "%s: warning: %u function%s could not be "
		    "probed, the first %s\n", cli_progname, tr.tr_failed,
		    tr.tr_failed > 1 ? "s" : "", tr.tr_fail_msg);
	dtproc_continue(tr.tr_dtp, pr);

	quit = cli_session_wait(s, secs);
	cli_session_release(s, quit);
	rv = cli_session_status(s);
	trace_print(&tr, s->cs_pid, s->cs_created &&
	    s->cs_state == DTPROC_PS_DEAD, rv);
	if (tr.tr_stack_err > 0)
		fprintf(stderr, "%s: warning: %llu hit%s could not be "
		    "stacked\n", cli_progname, tr.tr_stack_err,
		    tr.tr_stack_err > 1 ? "s" : "");
	if (quit > 0 && s->cs_created)
		rv = 128 + quit;
	cli_session_close(s);
	trace_free(&tr);
	cli_target_free(&t);
	return rv;
}
