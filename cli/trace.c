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
 * With -U each hit also stacks the thread (dtproc_stack) and counts per
 * distinct stack; a new stack is named once, when first seen, while its
 * objects are surely still there.
 */
#include "cli.h"
#include "dtproc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

#define TRACE_HASH_MIN	1024

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
	int ts_lmid;
	bool ts_armed;
	unsigned long long ts_hits;
	trace_stack_t *ts_stacks;	/* -U: this site's stacks */
	struct trace *ts_tr;		/* the trace it counts for */
	struct trace_site *ts_next;	/* hash chain, while armed */
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
	trace_site_t **tr_hash;	/* armed sites by address */
	size_t tr_hashlen, tr_narmed;
	size_t tr_nsites;	/* sites ever armed */
	trace_site_t *tr_all;
	unsigned tr_failed;	/* sites that could not be armed */
	char tr_fail_msg[512];
	int tr_ustack, tr_folded, tr_json, tr_depth;
	uintptr_t *tr_pcs;	/* -U scratch */
	unsigned long long tr_stack_err;
	int tr_poke[2];		/* a callback wakes the main thread */
	bool tr_live;		/* armed at the -s stop: callbacks re-arm */
} trace_t;

static size_t
trace_bucket(const trace_t *tr, uintptr_t addr)
{
	return (size_t)(((uint64_t)addr * 0x9e3779b97f4a7c15ULL) >> 32) &
	    (tr->tr_hashlen - 1);
}

static trace_site_t *
trace_find(const trace_t *tr, uintptr_t addr)
{
	for (trace_site_t *s = tr->tr_hash[trace_bucket(tr, addr)]; s != NULL;
	    s = s->ts_next)
		if (s->ts_addr == addr)
			return s;
	return NULL;
}

static void
trace_hash_grow(trace_t *tr)
{
	size_t n = tr->tr_hashlen * 2, old = tr->tr_hashlen;
	trace_site_t **h = calloc(n, sizeof (*h)), **oh = tr->tr_hash;

	if (h == NULL)
		return;
	tr->tr_hash = h;
	tr->tr_hashlen = n;
	for (size_t i = 0; i < old; i++) {
		while (oh[i] != NULL) {
			trace_site_t *s = oh[i];
			size_t k = trace_bucket(tr, s->ts_addr);

			oh[i] = s->ts_next;
			s->ts_next = h[k];
			h[k] = s;
		}
	}
	free(oh);
}

static void
trace_unhash(trace_t *tr, trace_site_t *s)
{
	for (trace_site_t **sp = &tr->tr_hash[trace_bucket(tr, s->ts_addr)];
	    *sp != NULL; sp = &(*sp)->ts_next) {
		if (*sp == s) {
			*sp = s->ts_next;
			s->ts_next = NULL;
			s->ts_armed = false;
			tr->tr_narmed--;
			return;
		}
	}
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

static void
trace_hit(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	trace_site_t *s = arg;

	(void) dtp;
	(void) pr;
	(void) tid;
	(void) addr;
	s->ts_hits++;
}

typedef struct trace_arm {
	trace_t *ta_tr;
	dtproc_proc_t *ta_pr;
	trace_probe_t *ta_probe;
} trace_arm_t;

static void
trace_hit_stack(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	trace_site_t *s = arg;

	(void) dtp;
	(void) addr;
	s->ts_hits++;
	trace_stack_hit(s->ts_tr, pr, tid, s);
}

static int
trace_arm_one(const dtproc_sym_t *sym, void *arg)
{
	trace_arm_t *ta = arg;
	trace_t *tr = ta->ta_tr;
	trace_site_t *s;

	if (trace_find(tr, sym->ds_addr) != NULL)
		return 0;
	if ((s = calloc(1, sizeof (*s))) == NULL)
		return -ENOMEM;
	s->ts_addr = sym->ds_addr;
	s->ts_tr = tr;
	s->ts_obj = strdup(sym->ds_object != NULL ? sym->ds_object : "?");
	s->ts_path = strdup(sym->ds_path != NULL ? sym->ds_path : "");
	/* printed without its version, as the probe names it */
	s->ts_func = sym->ds_name != NULL ? strndup(sym->ds_name,
	    strcspn(sym->ds_name, "@")) : strdup("?");
	s->ts_lmid = sym->ds_lmid;
	if (s->ts_obj == NULL || s->ts_path == NULL || s->ts_func == NULL) {
		free(s->ts_obj);
		free(s->ts_path);
		free(s->ts_func);
		free(s);
		return -ENOMEM;
	}
	if (dtproc_bkpt_add(tr->tr_dtp, ta->ta_pr, s->ts_addr,
	    tr->tr_ustack ? trace_hit_stack : trace_hit, s) != 0) {
		if (tr->tr_failed++ == 0)
			snprintf(tr->tr_fail_msg, sizeof (tr->tr_fail_msg),
			    "%s`%s: %s", s->ts_obj, s->ts_func,
			    dtproc_errmsg(tr->tr_dtp));
		free(s->ts_obj);
		free(s->ts_path);
		free(s->ts_func);
		free(s);
		return 0;
	}
	if (tr->tr_narmed >= tr->tr_hashlen)
		trace_hash_grow(tr);
	size_t k = trace_bucket(tr, s->ts_addr);
	s->ts_next = tr->tr_hash[k];
	tr->tr_hash[k] = s;
	s->ts_armed = true;
	tr->tr_narmed++;
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
				trace_unhash(tr, s);
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
			trace_unhash(tr, s);
		}
		break;
	case DTPROC_EV_EXIT:
	case DTPROC_EV_LOST:
		if (write(tr->tr_poke[1], "x", 1) < 0) {
			/* the notice wakes the main thread all the same */
		}
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

typedef struct trace_opts {
	cli_target_t to_t;
	int to_stop;
	double to_secs;		/* < 0: no limit */
} trace_opts_t;

static int
trace_usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: trace: ", cli_progname);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 2;
}

static int
trace_args(int argc, char **argv, trace_t *tr, trace_opts_t *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "folded", no_argument, NULL, 'F' },
		{ "depth", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = NULL, *err;
	char *end;
	int c, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:p:s:f:d:Uh", opts, NULL))
	    != -1) {
		switch (c) {
		case 'c':
			cmd = optarg;
			break;
		case 'p':
			if (cli_parse_pid(optarg, &o->to_t.ct_pid) != 0)
				return trace_usage_err("invalid pid '%s'",
				    optarg);
			break;
		case 's':
			if ((o->to_stop = cli_parse_when(optarg)) < 0)
				return trace_usage_err("-s: '%s' is not create, "
				    "preinit, postinit or main", optarg);
			break;
		case 'f': {
			trace_probe_t *p = realloc(tr->tr_probes,
			    (tr->tr_nprobes + 1) * sizeof (*p));

			if (p == NULL)
				return trace_usage_err("%s", "out of memory");
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
			o->to_secs = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(o->to_secs >= 0) || isinf(o->to_secs))
				return trace_usage_err("-d: '%s' is not a "
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
			long d = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || d < 1 ||
			    d > DTPROC_STACK_MAX)
				return trace_usage_err("--depth: '%s' is not "
				    "a depth from 1 to 1024", optarg);
			tr->tr_depth = (int)d;
			break;
		case 'j':
			tr->tr_json = 1;
			break;
		case 'h':
			fputs(trace_usage, stdout);
			return 0;
		default:
			fputs(trace_usage, stderr);
			return 2;
		}
	}
	if (optind < argc)
		o->to_t.ct_argv = &argv[optind];
	if ((cmd != NULL) + (o->to_t.ct_pid != 0) +
	    (o->to_t.ct_argv != NULL) != 1) {
		fprintf(stderr, "%s: trace: give exactly one of -c CMD, -p PID "
		    "or -- CMD ARGS\n", cli_progname);
		fputs(trace_usage, stderr);
		return 2;
	}
	if (tr->tr_nprobes == 0)
		return trace_usage_err("%s", "no probe: give -f PROBE");
	if (tr->tr_folded)
		tr->tr_ustack = 1;
	if (tr->tr_folded && tr->tr_json)
		return trace_usage_err("%s", "--folded and --json exclude "
		    "each other");
	if (cmd != NULL) {
		if ((n = cli_split_words(cmd, &o->to_t.ct_words, &err)) < 0)
			return trace_usage_err("-c: %s", err);
		if (n == 0)
			return trace_usage_err("%s", "-c: empty command");
		o->to_t.ct_argv = o->to_t.ct_words;
	}
	return -1;
}

/* One line of the result: an object`function and its hits. */
typedef struct trace_line {
	const char *tl_obj, *tl_func;
	unsigned long long tl_hits;
	trace_site_t *tl_first;		/* sites sharing the name follow */
} trace_line_t;

static int
trace_line_cmp(const void *a, const void *b)
{
	const trace_line_t *x = a, *y = b;
	int c;

	if (x->tl_hits != y->tl_hits)
		return x->tl_hits > y->tl_hits ? -1 : 1;
	if ((c = strcmp(x->tl_obj, y->tl_obj)) != 0)
		return c;
	return strcmp(x->tl_func, y->tl_func);
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

/* Sum the sites per object`function; the lines, most hits first. */
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
			if (strcmp(l[i].tl_obj, s->ts_obj) == 0 &&
			    strcmp(l[i].tl_func, s->ts_func) == 0)
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
			l[n].tl_obj = s->ts_obj;
			l[n].tl_func = s->ts_func;
			l[n].tl_hits = 0;
			n++;
		}
		l[i].tl_hits += s->ts_hits;
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
		if (strcmp(s->ts_obj, l->tl_obj) != 0 ||
		    strcmp(s->ts_func, l->tl_func) != 0)
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
			    l[i].tl_func);
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
trace_free(trace_t *tr)
{
	while (tr->tr_all != NULL) {
		trace_site_t *s = tr->tr_all;

		tr->tr_all = s->ts_all;
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
		free(s);
	}
	for (int i = 0; i < tr->tr_nprobes; i++) {
		free(tr->tr_probes[i].tp_obj);
		free(tr->tr_probes[i].tp_func);
	}
	free(tr->tr_probes);
	free(tr->tr_hash);
	free(tr->tr_pcs);
}

static double
trace_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Until the process is gone (0), a signal came (its number), or -d (-1). */
static int
trace_wait(dtproc_t *dtp, trace_t *tr, int sigfd, double secs)
{
	double end = secs >= 0 ? trace_now() + secs : 0;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = dtproc_notify_fd(dtp), .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = tr->tr_poke[0], .events = POLLIN },
		};
		struct signalfd_siginfo si;
		int ms = -1;

		if (secs >= 0) {
			double left = end - trace_now();

			if (left <= 0)
				return -1;
			ms = (int)ceil(left * 1000);
		}
		if (poll(p, 3, ms) < 0) {
			if (errno == EINTR)
				continue;
			return SIGTERM;
		}
		if (p[1].revents & POLLIN &&
		    read(sigfd, &si, sizeof (si)) == sizeof (si))
			return (int)si.ssi_signo;
		if ((p[0].revents & POLLIN) &&
		    dtproc_handle_notify(dtp, NULL, NULL) > 0)
			return 0;
		if (p[2].revents & POLLIN) {
			char b;

			if (read(tr->tr_poke[0], &b, 1) < 0) {
				/* only a wake-up */
			}
		}
	}
}

int
cmd_trace(int argc, char **argv)
{
	trace_t tr = { .tr_depth = DTPROC_STACK_DEFAULT,
	    .tr_poke = { -1, -1 } };
	trace_opts_t o = { .to_stop = DTPROC_STOP_PREINIT, .to_secs = -1 };
	dtproc_proc_t *pr;
	int rv, quit, sigfd, err;
	sigset_t set;
	dtproc_t *dtp;

	if ((rv = trace_args(argc, argv, &tr, &o)) >= 0) {
		trace_free(&tr);
		cli_target_free(&o.to_t);
		return rv;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
	tr.tr_hashlen = TRACE_HASH_MIN;
	tr.tr_hash = calloc(tr.tr_hashlen, sizeof (*tr.tr_hash));
	tr.tr_pcs = calloc(DTPROC_STACK_MAX, sizeof (uintptr_t));
	if (tr.tr_hash == NULL || tr.tr_pcs == NULL ||
	    (sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0 ||
	    pipe2(tr.tr_poke, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    (dtp = dtproc_open(0, &err)) == NULL) {
		fprintf(stderr, "%s: trace: cannot set up: %s\n", cli_progname,
		    strerror(errno));
		trace_free(&tr);
		cli_target_free(&o.to_t);
		return 1;
	}
	tr.tr_dtp = dtp;
	dtproc_set_event(dtp, trace_event, &tr);
	dtproc_set_dlactivity(dtp, trace_dlact, &tr);
	if (o.to_t.ct_pid != 0)
		pr = dtproc_grab(dtp, o.to_t.ct_pid, 0);
	else
		pr = dtproc_create(dtp, o.to_t.ct_argv[0], o.to_t.ct_argv,
		    o.to_stop);
	if (pr == NULL) {
		fprintf(stderr, "%s: %s\n", cli_progname, dtproc_errmsg(dtp));
		dtproc_close(dtp);
		close(sigfd);
		close(tr.tr_poke[0]);
		close(tr.tr_poke[1]);
		trace_free(&tr);
		cli_target_free(&o.to_t);
		return 1;
	}

	/* it rests at the rendezvous: arm what is there */
	dtproc_lock(dtp, pr);
	trace_arm_all(&tr, pr);
	tr.tr_live = true;
	dtproc_unlock(dtp, pr);
	for (int i = 0; i < tr.tr_nprobes; i++)
		if (tr.tr_probes[i].tp_matched == 0)
			fprintf(stderr, "%s: warning: probe '%s' matches no "
			    "function in pid %d yet\n", cli_progname,
			    tr.tr_probes[i].tp_spec, (int)dtproc_pid(pr));
	if (tr.tr_failed > 0)
		fprintf(stderr, "%s: warning: %u function%s could not be "
		    "probed, the first %s\n", cli_progname, tr.tr_failed,
		    tr.tr_failed > 1 ? "s" : "", tr.tr_fail_msg);
	dtproc_continue(dtp, pr);

	quit = trace_wait(dtp, &tr, sigfd, o.to_secs);

	int state = dtproc_state(dtp, pr);
	int status = dtproc_status(dtp, pr);
	pid_t pid = dtproc_pid(pr);
	if (quit > 0 && state != DTPROC_PS_DEAD)
		fprintf(stderr, "%s: %s: releasing pid %d\n", cli_progname,
		    strsignal(quit), (int)pid);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);

	int created = o.to_t.ct_pid == 0, dead = state == DTPROC_PS_DEAD;
	int code = 0;
	if (created && dead)
		code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
		    WEXITSTATUS(status);
	trace_print(&tr, pid, created && dead, code);
	if (tr.tr_stack_err > 0)
		fprintf(stderr, "%s: warning: %llu hit%s could not be "
		    "stacked\n", cli_progname, tr.tr_stack_err,
		    tr.tr_stack_err > 1 ? "s" : "");

	close(sigfd);
	close(tr.tr_poke[0]);
	close(tr.tr_poke[1]);
	trace_free(&tr);
	cli_target_free(&o.to_t);
	if (quit > 0 && created)
		return 128 + quit;
	return code;
}
