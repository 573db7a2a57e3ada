/*
 * trace.c - `dtproc trace`: count (and stack) the calls of functions.
 *
 * DTrace's pid provider on the public API.  Each PROBE names functions
 * by glob (desc.c parses it); a site is armed at the entry of each match
 * (and at its returns or an offset in it: trace_fp.c), now and whenever
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
 * Probes (dtproc_probe_add) count without stopping the process where the
 * library could patch the site with a trampoline, and with one stop a hit
 * at an int3 elsewhere; the counts are read (dtproc_probe_info) at the
 * end, at each --interval, and when a site is withdrawn (dlclose, exec),
 * never counted here.  -U needs a stop per hit (DTPROC_PROBE_STOP);
 * --stop-probes forces the int3 path and a callback on every probe, the
 * old one-stop-per-call path, for comparison.
 * With -U each hit also stacks the thread (dtproc_stack) and counts per
 * distinct stack; a new stack is named once, when first seen, while its
 * objects are surely still there.  A stack is keyed by its frames' object
 * (path), symbol and offset, never by absolute address: the same code
 * path through a library reloaded elsewhere, or in a site armed again
 * after dlclose and dlopen, is one stack, merged across sites at the end.
 *
 * The report goes to stderr or -o FILE, never to our stdout, which the
 * traced command shares (gzip -c > file must stay a valid stream).
 */
#include "cli.h"
#include "trace.h"

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
"                    [-f PROBE ...] [-d SECONDS] [-s WHEN] [-U] [--folded]\n"
"                    [--depth N] [-o FILE] [--json] [--interval SECONDS]\n"
"                    [--stop-probes] [--stop-returns] [-l] [--where EXPR]\n"
"                    [--time] [--hist] [-e] [--svg FILE] [-F] [-Z] [--mangled]\n"
"       dtproc trace -l --elf PATH -f PROBE [-f PROBE ...] [--json]\n"
"\n"
"Count the calls of functions, as DTrace's pid provider does: a probe at\n"
"the entry of each function matching PROBE, in every object loaded now\n"
"or later, on every thread.  Where the function's first instructions can\n"
"be moved, they are patched with a jump to a trampoline that counts the\n"
"call in memory shared with dtproc: no stop, and the process keeps\n"
"working if dtproc dies.  Elsewhere (see -l for why) an int3: one stop\n"
"per call.  At the end, hits per object`function, most first, on stderr\n"
"(the command's stdout stays its own) or in -o FILE.\n"
"\n"
"  -f PROBE       [OBJECT`]FUNCTION, globs allowed in both parts:\n"
"                 malloc, libc.so.6`malloc, 'libz*`inflate*', 'a.out`*'\n"
"                 (the entry; with -e, --time or --hist the whole call:\n"
"                 entry and return); FUNCTION:entry, FUNCTION:return (each\n"
"                 return; a stop per call and per return), FUNCTION+OFF\n"
"                 (the instruction at hex OFF: +0x1a or +1a; a stop per\n"
"                 hit); DTrace's PROVIDER:MODULE:FUNCTION:NAME, fields\n"
"                 filled from the right, empty = any, an empty NAME =\n"
"                 entry and return: 'pid$target:libc.so.6:malloc:return',\n"
"                 'pid123::strlen:4'; C++ and Rust names by either form:\n"
"                 'ns::Foo::bar*' (no parentheses: every overload),\n"
"                 '_ZN2ns*', 'mycrate::foo';\n"
"                 usdt:[OBJECT`]PROVIDER:NAME: a <sys/sdt.h> probe (see\n"
"                 readelf -n), globs allowed, its semaphore raised while\n"
"                 traced: 'usdt:python:function__entry', 'usdt:*'; or\n"
"                 DTrace's 'python$target:::function-entry' ('-' is '__');\n"
"                 --where's arg0.. are its arguments, -e prints them.\n"
"                 A probe matching nothing when tracing starts is an\n"
"                 error (-Z: a warning)\n"
"  -c 'CMD ARGS'  run CMD (split as a shell would, nothing expanded);\n"
"                 exit with its status\n"
"  -p PID[,PID..] grab the running processes (-p may repeat); trace until\n"
"                 Ctrl-C, -d or their end, then let them run on unharmed;\n"
"                 a table per process and a total\n"
"  -- CMD ARGS    run CMD with ARGS as given\n"
"  -d SECONDS     stop tracing after SECONDS, a decimal number (a\n"
"                 command we started is then killed: exit 124; a\n"
"                 grabbed process runs on)\n"
"  -s WHEN        where a created process is armed: create (everything\n"
"                 from the first instruction, ld.so's start-up and its\n"
"                 calls into libc too), preinit (the default: from the\n"
"                 constructors on), postinit or main; not with -p\n"
"  -U             count per user stack too (DTrace's ustack()): each call\n"
"                 then stops the thread\n"
"  -F, --follow   trace the children too (fork, vfork, posix_spawn, and\n"
"                 theirs): each armed before it runs; a table per process\n"
"                 (pid and command), then the total (--time, --hist too;\n"
"                 -e lines carry each one's pid, --svg has them all); not\n"
"                 with --interval\n"
"  --folded       implies -U: only the stacks, one 'frame;frame;frame\n"
"                 count' line each, outermost first, for FlameGraph\n"
"  --depth N      -U: at most N frames per stack (default 64)\n"
"  -o, --output FILE  write the report to FILE, not stderr\n"
"  --json         the counts as one JSON document; each probe says how it\n"
"                 was carried (\"how\": \"trampoline\" or \"int3\", \"why\")\n"
"                 and the stops it skipped (\"missed\")\n"
"                 (-e: an object per firing per line; --time, --hist:\n"
"                 one document of the functions' times)\n"
"  --interval SECONDS  every SECONDS (decimal), the hits of that interval,\n"
"                 headed by the time elapsed, then the total at the end;\n"
"                 the process is never stopped for it\n"
"  --stop-probes  every probe an int3 with a stop per call (the old path,\n"
"                 for comparison)\n"
"  --stop-returns every return a stop of its own (without it a return is\n"
"                 recorded by the thread and reported later where it can\n"
"                 be), for comparison\n"
"  --where EXPR   keep only the firings where EXPR holds, for everything:\n"
"                 counts, -U stacks, -e lines, --time (each hit then\n"
"                 stops): C's integer operators and && || ! over pid, tid,\n"
"                 arg0..arg7, retval (at returns), reg(NAME), named\n"
"                 parameters (DWARF), numbers (decimal, 0x hex); strings:\n"
"                 probe (\"malloc:entry\", \"malloc:return\", \"strlen+0x4\"),\n"
"                 \"literals\", a char * compared with == != or matched by\n"
"                 glob with ~: 'arg0 > 4096 && tid != pid', 'arg0 ~\n"
"                 \"/etc/*\"'.  A call's entry decides whether it is timed;\n"
"                 where EXPR has no value at a return (a parameter) the\n"
"                 return takes its entry's verdict, and a whole call's entry\n"
"                 without one (retval) is judged at its return\n"
"  --time         time each call, entry to return (a stop at its entry): per\n"
"                 function calls, total, self (less traced callees), avg,\n"
"                 min, max, p50, p99, in us; the probes' own cost is\n"
"                 measured at start-up and subtracted (clamped at 0);\n"
"                 replaces the hits table (kept with -U or offset probes)\n"
"  --hist         a log2 histogram of each function's times, as DTrace's\n"
"                 quantize() (with --time: after the table)\n"
"  -e, --events   a line per firing as it happens: time, pid, tid, the\n"
"                 probe indented by call depth; '->' an entry and its\n"
"                 arguments (typed from DWARF where the object has it,\n"
"                 else arg0-5 in hex), '<-' a return, '= retval' and the\n"
"                 call's time, '--' an offset and its argument registers,\n"
"                 or a USDT probe and its arguments (text where one\n"
"                 points at some: arg1=\"fib\")\n"
"  --svg FILE     implies -U: also write the stacks as an interactive\n"
"                 flame graph (one SVG file: hover, click to zoom, search)\n"
"  -l, --list     arm the probes, list them (object`function, address,\n"
"                 trampoline or int3 and why) on stdout or in -o FILE, and\n"
"                 end: a command is killed before it runs main, a grabbed\n"
"                 process runs on; USDT probes then with their semaphore\n"
"                 and argument spec\n"
"  --elf PATH     with -l: the matches in the ELF file PATH, no process\n"
"                 (USDT probes: the file's notes)\n"
"  -Z             a probe matching nothing yet is a warning, not an error\n"
"                 (it may match a library loaded later)\n"
"  --mangled      names as the symbol tables spell them, not demangled\n"
"\n"
"Without -F, children of fork and posix_spawn are let go clean, not\n"
"counted.  A vfork child shares its parent's memory: its calls of patched\n"
"functions before its exec are counted with the parent's (with -F too).\n"
"Exit status: the command's (128+N if signal N killed it); 124 if -d\n"
"ended it; 125 if dtproc failed (usage, cannot trace, control lost),\n"
"126/127 if the command cannot run / is not found.  With -p: 0, 1 on\n"
"failure, 2 usage.\n";

/* Sites by function, then kind and offset: malloc's entry and return
 * are two sites of one address. */
static int
trace_site_cmp(const void *a, const void *b)
{
	const trace_site_t *x = a, *y = b;

	if (x->ts_addr != y->ts_addr)
		return x->ts_addr < y->ts_addr ? -1 : 1;
	if (x->ts_kind != y->ts_kind)
		return x->ts_kind < y->ts_kind ? -1 : 1;
	return x->ts_poff < y->ts_poff ? -1 : x->ts_poff > y->ts_poff;
}

trace_site_t *
trace_find(const trace_t *tr, uintptr_t addr, int kind, size_t off)
{
	trace_site_t key = { .ts_addr = addr, .ts_kind = kind,
	    .ts_poff = off };
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
trace_key_hash(const unsigned char *key, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return h;
}

/* Append LEN bytes to the key being built: 0, or -1 out of memory. */
static int
trace_key_put(trace_t *tr, size_t *off, const void *p, size_t len)
{
	if (*off + len > tr->tr_keycap) {
		size_t cap = (*off + len) * 2;
		unsigned char *k = realloc(tr->tr_key, cap);

		if (k == NULL)
			return -1;
		tr->tr_key = k;
		tr->tr_keycap = cap;
	}
	memcpy(tr->tr_key + *off, p, len);
	*off += len;
	return 0;
}

/*
 * The key of the N pcs in tr_pcs, in tr_key: per frame the object's path,
 * the symbol and the offset from it (or from the object's bias); the
 * absolute pc only in anonymous memory, where nothing else names it.
 * Its length, or 0 out of memory.
 */
static size_t
trace_stack_key(trace_t *tr, dtproc_proc_t *pr, int n)
{
	size_t off = 0;

	for (int i = 0; i < n; i++) {
		dtproc_sym_t sym;
		const char *obj = "", *name = "";
		uint64_t where = tr->tr_pcs[i];

		if (dtproc_sym_addr(tr->tr_dtp, pr, tr->tr_pcs[i], &sym) == 0 &&
		    sym.ds_object != NULL && (sym.ds_object[0] != '[' ||
		    strcmp(sym.ds_object, "[vdso]") == 0)) {
			obj = sym.ds_path != NULL && sym.ds_path[0] != '\0' ?
			    sym.ds_path : sym.ds_object;
			name = sym.ds_name != NULL ? sym.ds_name : "";
			where = sym.ds_offset;
		}
		if (trace_key_put(tr, &off, obj, strlen(obj) + 1) != 0 ||
		    trace_key_put(tr, &off, name, strlen(name) + 1) != 0 ||
		    trace_key_put(tr, &off, &where, sizeof (where)) != 0)
			return 0;
	}
	return off;
}

static void
trace_stack_free(trace_stack_t *k)
{
	if (k->tk_names != NULL)
		for (int i = 0; i < k->tk_depth; i++)
			free(k->tk_names[i]);
	free(k->tk_names);
	free(k->tk_key);
	free(k);
}

/* -U: count this hit under its stack. */
void
trace_stack_hit(trace_t *tr, dtproc_proc_t *pr, pid_t tid, trace_site_t *s)
{
	int n = dtproc_stack(tr->tr_dtp, pr, tid, tr->tr_pcs, tr->tr_depth);
	size_t len = n > 0 ? trace_stack_key(tr, pr, n) : 0;
	uint64_t h;
	trace_stack_t *k;

	if (len == 0) {
		tr->tr_stack_err++;
		return;
	}
	h = trace_key_hash(tr->tr_key, len);
	for (k = s->ts_stacks; k != NULL; k = k->tk_next) {
		if (k->tk_hash == h && k->tk_keylen == len &&
		    memcmp(k->tk_key, tr->tr_key, len) == 0) {
			k->tk_hits++;
			return;
		}
	}
	if ((k = calloc(1, sizeof (*k))) == NULL ||
	    (k->tk_key = malloc(len)) == NULL ||
	    (k->tk_names = calloc(n, sizeof (char *))) == NULL) {
		if (k != NULL)
			trace_stack_free(k);
		tr->tr_stack_err++;
		return;
	}
	memcpy(k->tk_key, tr->tr_key, len);
	k->tk_keylen = len;
	k->tk_depth = n;
	k->tk_hash = h;
	k->tk_hits = 1;
	for (int i = 0; i < n; i++) {
		char name[512];

		if (dtproc_frame_name(tr->tr_dtp, pr, tr->tr_pcs[i],
		    (i > 0 ? DTPROC_FRAME_CALLER : 0) | (tr->tr_mangled ?
		    DTPROC_FRAME_MANGLED : 0), name, sizeof (name)) < 0)
			snprintf(name, sizeof (name), "%#lx",
			    (unsigned long)tr->tr_pcs[i]);
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
	/* counted by the probe; a stop is for the stack */
	if (s->ts_tr->tr_ustack)
		trace_stack_hit(s->ts_tr, pr, tid, s);
}

/*
 * One arming pass: the sites new in it are collected, then armed in one
 * request (dtproc_probe_add_list): one wake-up of the control thread
 * for all of libc, not one per function.
 */
typedef struct trace_arm {
	trace_t *ta_tr;
	dtproc_proc_t *ta_pr;
	trace_probe_t *ta_probe;
	trace_site_t **ta_new;		/* sites to arm, */
	trace_probe_t **ta_by;		/* and the probe that matched each */
	size_t ta_n, ta_cap;
} trace_arm_t;

static void
trace_site_free(trace_site_t *s)
{
	while (s->ts_stacks != NULL) {
		trace_stack_t *k = s->ts_stacks;

		s->ts_stacks = k->tk_next;
		trace_stack_free(k);
	}
	free(s->ts_obj);
	free(s->ts_path);
	free(s->ts_func);
	free(s->ts_impl);
	tx_site_free(s);
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

/*
 * The probe of S: counted (no stop) unless a stack is wanted at each hit
 * (-U) or the old path is asked for (--stop-probes).
 */
static void
trace_probe_spec(trace_t *tr, trace_site_t *s, dtproc_probe_spec_t *ps)
{
	memset(ps, 0, sizeof (*ps));
	ps->dps_addr = s->ts_addr;
	if (tr->tr_stopprobes || tr->tr_ustack) {
		ps->dps_flags = DTPROC_PROBE_STOP |
		    (tr->tr_stopprobes ? DTPROC_PROBE_INT3 : 0);
		ps->dps_fn = trace_hit;
		ps->dps_arg = s;
	}
}

/* S's counts and mechanism as the library has them now (handle held). */
void
trace_read(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	dtproc_probe_info_t pi;

	if (s->ts_fp) {
		trace_fp_read(tr, pr, s);
		return;
	}
	if (s->ts_kind == DESC_USDT) {
		trace_usdt_read(tr, pr, s);
		return;
	}
	if (!s->ts_armed ||
	    dtproc_probe_info(tr->tr_dtp, pr, s->ts_addr, &pi) != 0)
		return;
	s->ts_hits = pi.dpi_hits;
	s->ts_missed = pi.dpi_missed;
	s->ts_how = pi.dpi_how;
	s->ts_why = pi.dpi_why;
}

/* Every armed site read, the handle held so no callback runs meanwhile. */
void
trace_collect(trace_t *tr, dtproc_proc_t *pr)
{
	dtproc_lock(tr->tr_dtp, pr);
	for (trace_site_t *s = tr->tr_all; s != NULL; s = s->ts_all)
		trace_read(tr, pr, s);
	dtproc_unlock(tr->tr_dtp, pr);
}

/*
 * A site of KIND (at OFF) in the function SYM, collected to be armed;
 * QUIET, CALL: its ts_quiet, ts_call.
 */
static int
trace_site_add(trace_arm_t *ta, const dtproc_sym_t *sym, int kind,
    size_t off, bool quiet, bool call)
{
	trace_t *tr = ta->ta_tr;
	trace_site_t *s;

	if ((s = trace_find(tr, sym->ds_addr, kind, off)) != NULL) {
		ta->ta_probe->tp_matched++;	/* an alias of an armed site */
		if (!quiet)
			s->ts_quiet = false;	/* asked for after all */
		return 0;
	}
	if ((s = calloc(1, sizeof (*s))) == NULL)
		return -ENOMEM;
	s->ts_addr = sym->ds_addr;
	s->ts_kind = kind;
	s->ts_poff = off;
	s->ts_quiet = quiet;
	s->ts_call = call;
	s->ts_fp = trace_fp_wanted(tr, kind);
	s->ts_tr = tr;
	s->ts_obj = strdup(sym->ds_object != NULL ? sym->ds_object : "?");
	s->ts_path = strdup(sym->ds_path != NULL ? sym->ds_path : "");
	/* printed without its version unless it is not the default;
	 * demangled unless --mangled */
	const char *fn = sym->ds_demangled != NULL && !tr->tr_mangled ?
	    sym->ds_demangled : sym->ds_name;
	if (fn == NULL)
		s->ts_func = strdup("?");
	else if ((sym->ds_flags & DTPROC_SYM_COMPAT) && sym->ds_version != NULL)
		s->ts_func = trace_fmt("%.*s@%s", (int)strcspn(fn, "@"), fn,
		    sym->ds_version);
	else
		s->ts_func = strndup(fn, fn == sym->ds_demangled ? strlen(fn) :
		    strcspn(fn, "@"));
	s->ts_lmid = sym->ds_lmid;
	s->ts_off = sym->ds_addr - sym->ds_bias;
	s->ts_size = sym->ds_size;
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
	if (ta->ta_n == ta->ta_cap) {
		size_t cap = ta->ta_cap ? ta->ta_cap * 2 : 256;
		trace_site_t **v = realloc(ta->ta_new, cap * sizeof (*v));
		trace_probe_t **b = v == NULL ? NULL :
		    realloc(ta->ta_by, cap * sizeof (*b));

		if (v != NULL)
			ta->ta_new = v;
		if (b == NULL) {
			(void) tdelete(s, &tr->tr_armed, trace_site_cmp);
			trace_site_free(s);
			return -ENOMEM;
		}
		ta->ta_by = b;
		ta->ta_cap = cap;
	}
	ta->ta_new[ta->ta_n] = s;
	ta->ta_by[ta->ta_n++] = ta->ta_probe;
	return 0;
}

static int
trace_arm_one(const dtproc_sym_t *sym, void *arg)
{
	trace_arm_t *ta = arg;
	trace_t *tr = ta->ta_tr;
	const desc_t *d = &ta->ta_probe->tp_desc;
	const int both = DTPROC_FP_ENTRY | DTPROC_FP_RETURN;
	int kinds = d->dd_kinds, quiet = 0, call = 0, rv = 0;

	/* -e, --time, --hist: a plain FUNC is its calls, entry and return */
	if (d->dd_plain && tx_wanted(tr))
		kinds = call = both;
	/* a time is an entry and its return: the missing half, quiet */
	if ((tr->tr_time || tr->tr_hist) && (kinds & both) != 0) {
		quiet = both & ~kinds;
		call |= quiet;
		kinds |= quiet;
	}
	for (int k = DTPROC_FP_ENTRY; k <= DESC_USDT && rv == 0; k <<= 1)
		if (kinds & k)
			rv = trace_site_add(ta, sym, k,
			    k == DTPROC_FP_OFFSET ? d->dd_off : 0,
			    (quiet & k) != 0, (call & k) != 0);
	return rv;
}

/* Arm the sites one pass collected, in one request. */
static void
trace_arm_new(trace_t *tr, dtproc_proc_t *pr, trace_arm_t *ta)
{
	dtproc_probe_spec_t *ps = calloc(ta->ta_n, sizeof (*ps));

	size_t np = 0;

	/* the dtproc_probe sites in one request, ps[0..np) */
	for (size_t i = 0; ps != NULL && i < ta->ta_n; i++)
		if (!ta->ta_new[i]->ts_fp &&
		    ta->ta_new[i]->ts_kind != DESC_USDT)
			trace_probe_spec(tr, ta->ta_new[i], &ps[np++]);
	if (ps != NULL && np > 0 && dtproc_probe_add_list(tr->tr_dtp, pr, ps,
	    np) < 0) {
		for (size_t i = 0; i < np; i++)
			if (ps[i].dps_err == 0)
				ps[i].dps_err = -EINVAL;
	}
	for (size_t i = 0, j = 0; i < ta->ta_n; i++) {
		trace_site_t *s = ta->ta_new[i];
		int err = ps == NULL ? -ENOMEM : s->ts_fp ?
		    trace_fp_arm(tr, pr, s) : s->ts_kind == DESC_USDT ?
		    trace_usdt_arm(tr, pr, s) : ps[j++].dps_err;

		if (err != 0) {
			char name[512];

			(void) desc_label(name, sizeof (name), s->ts_func,
			    s->ts_kind, s->ts_poff, 0);
			/* an offset off the instruction boundaries, at the
			 * start: the probe is wrong, not the function */
			if (!tr->tr_live && s->ts_kind == DTPROC_FP_OFFSET &&
			    err == -EINVAL && tr->tr_bad_spec == NULL) {
				tr->tr_bad_spec = ta->ta_by[i]->tp_spec;
				snprintf(tr->tr_bad_msg,
				    sizeof (tr->tr_bad_msg), "%s",
				    dtproc_errmsg(tr->tr_dtp));
			}
			if (tr->tr_failed++ == 0)
				snprintf(tr->tr_fail_msg,
				    sizeof (tr->tr_fail_msg), "%s`%.200s: %s",
				    s->ts_obj, name, s->ts_fp ||
				    s->ts_kind == DESC_USDT ?
				    dtproc_errmsg(tr->tr_dtp) :
				    dtproc_strerror(-err));
			(void) tdelete(s, &tr->tr_armed, trace_site_cmp);
			trace_site_free(s);
			continue;
		}
		s->ts_armed = true;
		trace_read(tr, pr, s);
		tr->tr_nsites++;
		s->ts_all = tr->tr_all;
		tr->tr_all = s;
		ta->ta_by[i]->tp_matched++;
	}
	free(ps);
}

/* Arm every probe on whatever matches now (idempotent). */
void
trace_arm_all(trace_t *tr, dtproc_proc_t *pr)
{
	trace_arm_t ta = { tr, pr, NULL, NULL, NULL, 0, 0 };

	for (int i = 0; i < tr->tr_nprobes; i++) {
		ta.ta_probe = &tr->tr_probes[i];
		if (ta.ta_probe->tp_desc.dd_kinds == DESC_USDT) {
			(void) trace_usdt_walk(tr, pr, &ta.ta_probe->tp_desc,
			    trace_arm_one, &ta);
			continue;
		}
		(void) dtproc_sym_iter(tr->tr_dtp, pr,
		    tr->tr_probes[i].tp_desc.dd_obj,
		    tr->tr_probes[i].tp_desc.dd_func, trace_arm_one, &ta);
	}
	if (ta.ta_n > 0)
		trace_arm_new(tr, pr, &ta);
	free(ta.ta_new);
	free(ta.ta_by);
}

static int
trace_dlact(dtproc_t *dtp, dtproc_proc_t *pr, void *arg)
{
	trace_t *tr = trace_proc_of(arg, pr);

	(void) dtp;
	if (tr != NULL && tr->tr_live)
		trace_arm_all(tr, pr);
	return 0;
}

static bool
trace_same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * S, no longer armed, folded into an earlier record of the same function
 * (object, name, offset: what a report line is): its hits and stacks
 * added there, so that a library loaded and unloaded without end keeps
 * one record, not one per load.  True when S can go.
 */
static bool
trace_retire(trace_t *tr, trace_site_t *s)
{
	trace_site_t *r;

	for (r = tr->tr_all; r != NULL; r = r->ts_all) {
		if (r != s && !r->ts_armed && r->ts_off == s->ts_off &&
		    r->ts_kind == s->ts_kind && r->ts_poff == s->ts_poff &&
		    strcmp(r->ts_func, s->ts_func) == 0 &&
		    strcmp(r->ts_obj, s->ts_obj) == 0 &&
		    trace_same_str(r->ts_impl, s->ts_impl))
			break;
	}
	if (r == NULL)
		return false;
	r->ts_hits += s->ts_hits;
	r->ts_missed += s->ts_missed;
	r->ts_unwound += s->ts_unwound;
	r->ts_overflow += s->ts_overflow;
	r->ts_shown += s->ts_shown;
	r->ts_how = s->ts_how;		/* the newest site's */
	r->ts_why = s->ts_why;
	tx_retire(r, s);
	while (s->ts_stacks != NULL) {
		trace_stack_t *k = s->ts_stacks, *q;

		s->ts_stacks = k->tk_next;
		for (q = r->ts_stacks; q != NULL; q = q->tk_next) {
			if (q->tk_hash == k->tk_hash &&
			    q->tk_keylen == k->tk_keylen &&
			    memcmp(q->tk_key, k->tk_key, k->tk_keylen) == 0)
				break;
		}
		if (q != NULL) {
			q->tk_hits += k->tk_hits;
			trace_stack_free(k);
		} else {
			k->tk_next = r->ts_stacks;
			r->ts_stacks = k;
		}
	}
	return true;
}

/*
 * Withdraw the armed sites whose object is gone (ALL: every one, at exec,
 * where the control layer withdrew them already).  An object removal
 * event names the object as it was dlopen'd (relative, a symlink...): a
 * site goes when its address is no longer in the object it was armed in.
 * Its probe's final count is read, the probe deleted, and the record
 * folded into an earlier one of the same function.
 */
static void
trace_withdraw(trace_t *tr, dtproc_proc_t *pr, bool all)
{
	trace_site_t **pp = &tr->tr_all;

	while (*pp != NULL) {
		trace_site_t *s = *pp;
		dtproc_sym_t sym;

		if (!s->ts_armed || (!all &&
		    dtproc_sym_addr(tr->tr_dtp, pr, s->ts_addr, &sym) == 0 &&
		    sym.ds_path != NULL && sym.ds_lmid == s->ts_lmid &&
		    strcmp(sym.ds_path, s->ts_path) == 0)) {
			pp = &s->ts_all;
			continue;
		}
		trace_read(tr, pr, s);
		if (s->ts_fp)
			trace_fp_del(tr, pr, s);
		else if (s->ts_kind == DESC_USDT)
			trace_usdt_del(tr, pr, s);
		else
			(void) dtproc_probe_del(tr->tr_dtp, pr, s->ts_addr);
		trace_unarm(tr, s);
		if (trace_retire(tr, s)) {
			*pp = s->ts_all;
			trace_site_free(s);
			continue;
		}
		pp = &s->ts_all;
	}
}

static void
trace_event(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	trace_t *tr = trace_proc_of(arg, pr);

	(void) dtp;
	if (ev->de_kind == DTPROC_EV_FOLLOW) {
		follow_adopt(arg, ev->de_proc);
		return;
	}
	if (ev->de_kind == DTPROC_EV_EXEC)
		cli_session_setid(ev->de_path);
	/* before dtproc_create returned: a static program's exec */
	if (tr == NULL && ev->de_kind == DTPROC_EV_PREINIT)
		((trace_t *)arg)->tr_early_preinit = true;
	if (tr == NULL)
		return;
	/* before the -s stop nothing is armed: that is where tracing starts */
	if (!tr->tr_live && ev->de_kind != DTPROC_EV_EXIT &&
	    ev->de_kind != DTPROC_EV_LOST)
		return;
	switch (ev->de_kind) {
	case DTPROC_EV_EXEC:
		/* the control layer forgot the old image's sites */
		trace_withdraw(tr, pr, true);
		trace_proc_rename(tr, pr);	/* -e's "command" */
		trace_arm_all(tr, pr);
		break;
	case DTPROC_EV_PREINIT:
		trace_arm_all(tr, pr);
		break;
	case DTPROC_EV_OBJ_REMOVE:
		trace_withdraw(tr, pr, false);
		break;
	case DTPROC_EV_EXIT:
	case DTPROC_EV_LOST:
		if (!tr->tr_child)	/* a child's end is its notice */
			cli_session_poke(&tr->tr_sess, 0);
		break;
	default:
		break;
	}
}

/* -d SECONDS: a decimal number (digits, at most one point), or -1. */
static double
trace_parse_secs(const char *arg)
{
	size_t digits = strspn(arg, "0123456789"), frac = 0;

	if (arg[digits] == '.')
		frac = strspn(arg + digits + 1, "0123456789") + 1;
	if (digits + (frac > 0 ? frac - 1 : 0) == 0 ||
	    arg[digits + frac] != '\0')
		return -1;
	return strtod(arg, NULL);
}

/* -f PROBE: 0, or -2 with the usage error recorded. */
static int
trace_add_probe(trace_t *tr, cli_target_t *t, const char *spec)
{
	trace_probe_t *p = realloc(tr->tr_probes,
	    (tr->tr_nprobes + 1) * sizeof (*p));
	char why[256], msg[768];

	if (p == NULL)
		return cli_target_usage(t, "trace", "%s", "out of memory");
	tr->tr_probes = p;
	p += tr->tr_nprobes;
	memset(p, 0, sizeof (*p));
	p->tp_spec = spec;
	if (desc_parse(spec, &p->tp_desc, why, sizeof (why)) != 0) {
		snprintf(msg, sizeof (msg), "bad probe '%s': %s", spec, why);
		return cli_target_usage(t, "trace", "%s", msg);
	}
	tr->tr_nprobes++;
	return 0;
}

/* Every probe's provider names PID (pidN, $target): 0, or 2 told why. */
static int
trace_check_pid(const trace_t *tr, pid_t pid)
{
	char why[256], msg[768];

	for (int i = 0; i < tr->tr_nprobes; i++) {
		if (desc_pid_check(&tr->tr_probes[i].tp_desc, pid, why,
		    sizeof (why)) != 0) {
			snprintf(msg, sizeof (msg), "bad probe '%s': %s",
			    tr->tr_probes[i].tp_spec, why);
			return cli_usage_err("trace", "%s", msg);
		}
	}
	return 0;
}

/*
 * -l --elf PATH lists a file's probes: no process, so no -c, -p, -s,
 * command, -U, --where.  -1 (go on), or the usage status.
 */
static int
trace_args_elf(trace_t *tr, cli_target_t *t, int argc)
{
	if (t->ct_err != 0)
		return t->ct_err;
	if (!tr->tr_list)
		return cli_usage_err("trace", "%s", "--elf lists a file's "
		    "probes: give -l with it");
	if (t->ct_cmd != NULL || t->ct_pid != 0 || optind < argc ||
	    t->ct_stop_set)
		return cli_usage_err("trace", "%s", "--elf names a file, not "
		    "a process: no -c, -p, -s or command with it");
	if (tr->tr_ustack || tr->tr_where_expr != NULL || tr->tr_stopprobes ||
	    tr->tr_interval > 0)
		return cli_usage_err("trace", "%s", "--elf arms nothing: -U, "
		    "--where, --stop-probes and --interval need a process");
	if (tr->tr_nprobes == 0)
		return cli_usage_err("trace", "%s", "-l: nothing to list: give "
		    "-f PROBE");
	return -1;
}

/* Long options without a letter (above any character getopt returns). */
#define TRACE_OPT_MANGLED	0x1101
#define TRACE_OPT_ELF		0x1102
#define TRACE_OPT_STOPRET	0x1103

/* --time, --hist, -e, --svg FILE (trace_time.c does the work). */
static void
trace_view_opt(trace_t *tr, int c, const char *arg)
{
	if (c == 'T')
		tr->tr_time = 1;
	else if (c == 'H')
		tr->tr_hist = 1;
	else if (c == 'e')
		tr->tr_events = 1;
	else
		tr->tr_svg = arg, tr->tr_ustack = 1;
}

static void
trace_view_check(trace_t *tr, cli_target_t *t)
{
	if (tx_wanted(tr) && (tr->tr_stopprobes || tr->tr_interval > 0))
		(void) cli_target_usage(t, "trace", "%s", "--time, --hist and "
		    "-e exclude --stop-probes and --interval");
	if (tr->tr_svg != NULL && tr->tr_folded)
		(void) cli_target_usage(t, "trace", "%s", "--svg and --folded "
		    "exclude each other");
}

static int
trace_args(int argc, char **argv, trace_t *tr, cli_target_t *t,
    double *secs)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "folded", no_argument, NULL, 'K' },
		{ "follow", no_argument, NULL, 'F' },
		{ "depth", required_argument, NULL, 'D' },
		{ "output", required_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'I' },
		{ "stop-probes", no_argument, NULL, 'S' },
		{ "stop-returns", no_argument, NULL, TRACE_OPT_STOPRET },
		{ "where", required_argument, NULL, 'W' },
		{ "mangled", no_argument, NULL, TRACE_OPT_MANGLED },
		{ "elf", required_argument, NULL, TRACE_OPT_ELF },
		{ "list", no_argument, NULL, 'l' },
		{ "time", no_argument, NULL, 'T' },
		{ "hist", no_argument, NULL, 'H' },
		{ "events", no_argument, NULL, 'e' },
		{ "svg", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c, rv;
	long d;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:p:s:o:f:d:UleFZh", opts,
	    NULL))
	    != -1) {
		if ((rv = cli_target_opt(t, "trace", trace_usage, c, optarg)) ==
		    0)
			return 0;
		if (rv == -2)
			continue;
		switch (c) {
		case 'f':
			(void) trace_add_probe(tr, t, optarg);
			break;
		case 'd':
			if ((*secs = trace_parse_secs(optarg)) < 0)
				(void) cli_target_usage(t, "trace", "-d: '%s' is "
				    "not a decimal number of seconds", optarg);
			break;
		case 'U':
			tr->tr_ustack = 1;
			break;
		case 'l':
			tr->tr_list = 1;
			break;
		case 'Z':
			tr->tr_zmatch = 1;
			break;
		case TRACE_OPT_MANGLED:
			tr->tr_mangled = 1;
			break;
		case TRACE_OPT_ELF:
			tr->tr_elf = optarg;
			break;
		case 'S':
			tr->tr_stopprobes = 1;
			break;
		case TRACE_OPT_STOPRET:
			tr->tr_stopret = 1;
			break;
		case 'W':
			(void) trace_where_set(tr, t, optarg);
			break;
		case 'T':
		case 'H':
		case 'e':
		case 'G':
			trace_view_opt(tr, c, optarg);
			break;
		case 'I':
			if ((tr->tr_interval = trace_parse_secs(optarg)) <= 0)
				(void) cli_target_usage(t, "trace", "--interval: "
				    "'%s' is not a positive decimal number of "
				    "seconds", optarg);
			break;
		case 'K':
			tr->tr_folded = tr->tr_ustack = 1;
			break;
		case 'F':
			tr->tr_follow = 1;
			break;
		case 'D':
			errno = 0;
			d = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    d < 1 || d > DTPROC_STACK_MAX)
				(void) cli_target_usage(t, "trace", "--depth: "
				    "'%s' is not a depth from 1 to 1024", optarg);
			else
				tr->tr_depth = (int)d;
			break;
		default:	/* j */
			tr->tr_json = 1;
			break;
		}
	}
	if (tr->tr_folded && tr->tr_json)
		(void) cli_target_usage(t, "trace", "%s", "--folded and --json "
		    "exclude each other");
	if (tr->tr_follow && tr->tr_interval > 0)
		(void) cli_target_usage(t, "trace", "%s", "-F excludes "
		    "--interval");
	trace_view_check(tr, t);
	if (tr->tr_list && tr->tr_interval > 0)
		(void) cli_target_usage(t, "trace", "%s", "-l and --interval "
		    "exclude each other");
	if (tr->tr_elf != NULL)
		return trace_args_elf(tr, t, argc);
	if ((rv = cli_target_done(t, "trace", trace_usage, argc, argv)) >= 0)
		return rv;
	if (tr->tr_nprobes == 0)
		return cli_target_status(t, cli_usage_err("trace", "%s",
		    "no probe: give -f PROBE"));
	if (tr->tr_follow && t->ct_npids > 1)
		return cli_usage_err("trace", "%s", "-F follows the children "
		    "of one process: not with several -p");
	/* a grab's pid is known: a wrong pidN grabs nothing */
	if (t->ct_pid != 0 && trace_check_pid(tr, t->ct_pid) != 0)
		return CLI_EXIT_USAGE;
	return -1;
}

static void
trace_noop(void *p)
{
	(void) p;
}

/* The sites and scratch buffers of one process's trace. */
void
trace_free_tables(trace_t *tr)
{
	tdestroy(tr->tr_armed, trace_noop);	/* the sites are on tr_all */
	tr->tr_armed = NULL;
	while (tr->tr_all != NULL) {
		trace_site_t *s = tr->tr_all;

		tr->tr_all = s->ts_all;
		trace_site_free(s);
	}
	free(tr->tr_pcs);
	tr->tr_pcs = NULL;
	free(tr->tr_key);
	tr->tr_key = NULL;
	tr->tr_keycap = 0;
}

static void
trace_free(trace_t *tr)
{
	trace_proc_free_all(tr);
	trace_free_tables(tr);
	for (int i = 0; i < tr->tr_nprobes; i++)
		desc_free(&tr->tr_probes[i].tp_desc);
	free(tr->tr_probes);
	where_free(tr->tr_where);
	tx_free(tr);
}

/* Every process of the run released (QUIT: why it ends early). */
static void
trace_release_all(trace_t *tr, int quit)
{
	for (trace_t *p = tr; p != NULL; p = trace_proc_next(p))
		trace_proc_release(p, quit);
}

/* A probe found bad once armed: every process let go, the status. */
static int
trace_start_bad(trace_t *tr, const cli_target_t *t, int class)
{
	trace_release_all(tr, 0);
	cli_session_close(&tr->tr_sess);
	return cli_target_status(t, class);
}

/*
 * The other -p targets, grabbed while the first rests: each rests at its
 * grab in turn.  One that cannot be grabbed ends the run before anything
 * is armed: the others are let go untouched.  0, or the status.
 */
static int
trace_grab_more(trace_t *tr, const cli_target_t *t)
{
	for (int i = 1; i < t->ct_npids; i++) {
		dtproc_proc_t *pr = dtproc_grab(tr->tr_dtp, t->ct_pids[i], 0);

		if (pr == NULL) {
			fprintf(stderr, "%s: %s\n", cli_progname,
			    dtproc_errmsg(tr->tr_dtp));
			return trace_start_bad(tr, t, CLI_EXIT_FAIL);
		}
		if (trace_proc_new(tr, pr) == NULL) {
			dtproc_release(tr->tr_dtp, pr);
			fprintf(stderr, "%s: trace: cannot set up: out of "
			    "memory\n", cli_progname);
			return trace_start_bad(tr, t, CLI_EXIT_FAIL);
		}
	}
	return 0;
}

/*
 * Strict matching, as dtrace's: a probe that matches nothing in a process
 * at the chosen stop is an error naming it, before the program goes on
 * (a typo would look like "never called"); with -Z (DTrace's flag) a
 * warning, for probes of objects loaded later, and with -F, for probes
 * of the programs the children exec.  True when the run ends.
 */
static bool
trace_unmatched(trace_t *tr)
{
	bool bad = false;

	for (trace_t *p = tr; p != NULL; p = p->tr_next) {
		for (int i = 0; i < p->tr_nprobes; i++) {
			const char *what = p->tr_probes[i].tp_desc.dd_kinds ==
			    DESC_USDT ? "USDT probe" : "function";

			if (p->tr_probes[i].tp_matched != 0)
				continue;
			/* -F: the children may match it */
			if (tr->tr_zmatch || tr->tr_follow) {
				fprintf(stderr, "%s: warning: probe '%s' matches "
				    "no %s in pid %d yet\n", cli_progname,
				    p->tr_probes[i].tp_spec, what,
				    (int)p->tr_pid);
				continue;
			}
			if (!bad)
				fprintf(stderr, "%s: trace: probe '%s' matches "
				    "no %s in pid %d (-Z allows it)\n",
				    cli_progname, p->tr_probes[i].tp_spec, what,
				    (int)p->tr_pid);
			bad = true;
		}
	}
	return bad;
}

/*
 * -s create: armed at the exec, the objects ld.so loads are armed as it
 * maps them (the library's dlactivity during start-up), so whether a
 * probe matches nothing is known at PREINIT, where the process rests
 * once more for it (a static program has no later PREINIT: its exec is
 * one).  A process that dies before is judged by the exit.
 */
static void
trace_create_preinit(trace_t *tr, const cli_target_t *t)
{
	dtproc_proc_t *pr = tr->tr_sess.cs_proc;

	if (t->ct_stop != DTPROC_STOP_CREATE || t->ct_pid != 0 ||
	    tr->tr_early_preinit || tr->tr_list)
		return;
	dtproc_continue(tr->tr_dtp, pr);
	(void) dtproc_wait_stopped(tr->tr_dtp, pr, -1);
}

/* Set up and start: -1 with every process resting armed, or the status. */
static int
trace_start(trace_t *tr, const cli_target_t *t)
{
	cli_session_t *s = &tr->tr_sess;
	cli_target_t st = *t;
	int rv;

	if ((tr->tr_pcs = calloc(DTPROC_STACK_MAX, sizeof (uintptr_t))) ==
	    NULL) {
		fprintf(stderr, "%s: trace: cannot set up: out of memory\n",
		    cli_progname);
		return cli_target_status(t, CLI_EXIT_FAIL);
	}
	if ((rv = cli_session_open(s, "trace", CLI_SESS_SIGNALS, t)) != 0)
		return rv;
	if (tx_wanted(tr) && !tr->tr_list)
		tx_calibrate(tr);	/* before the target: our helper's */
	tr->tr_dtp = s->cs_dtp;
	dtproc_set_event(tr->tr_dtp, trace_event, tr);
	dtproc_set_dlactivity(tr->tr_dtp, trace_dlact, tr);
	/*
	 * -s create: from the first instruction (objects armed as ld.so
	 * maps them), and a rest at PREINIT too, for strict matching.
	 */
	if (t->ct_stop == DTPROC_STOP_CREATE && t->ct_pid == 0)
		st.ct_stop |= DTPROC_CREATE_EXACT |
		    (tr->tr_list ? 0 : DTPROC_STOP_PREINIT);
	if ((rv = cli_session_start(s, &st, 0)) != 0) {
		cli_session_close(s);
		return rv;
	}
	trace_proc_init(tr, s->cs_proc);
	if ((rv = trace_grab_more(tr, t)) != 0)
		return rv;
	if (trace_check_pid(tr, s->cs_pid) != 0)
		return trace_start_bad(tr, t, CLI_EXIT_USAGE);

	/* each rests at its rendezvous: arm what is there */
	for (trace_t *p = tr; p != NULL; p = p->tr_next) {
		dtproc_proc_t *pr = p->tr_sess.cs_proc;

		dtproc_lock(tr->tr_dtp, pr);
		trace_arm_all(p, pr);
		p->tr_live = true;
		dtproc_unlock(tr->tr_dtp, pr);
		if (p->tr_bad_spec != NULL) {
			fprintf(stderr, "%s: trace: bad probe '%s': %s\n",
			    cli_progname, p->tr_bad_spec, p->tr_bad_msg);
			return trace_start_bad(tr, t, CLI_EXIT_USAGE);
		}
	}
	trace_create_preinit(tr, t);
	if (trace_unmatched(tr))
		return trace_start_bad(tr, t, CLI_EXIT_FAIL);
	if (tr->tr_follow && follow_start(tr, s->cs_proc) != 0)
		return trace_start_bad(tr, t, CLI_EXIT_USAGE);
	for (trace_t *p = tr; p != NULL; p = p->tr_next)
		if (p->tr_failed > 0)
			fprintf(stderr, "%s: warning: pid %d: %u function%s "
			    "could not be probed, the first %s\n", cli_progname,
			    (int)p->tr_pid, p->tr_failed, p->tr_failed > 1 ?
			    "s" : "", p->tr_fail_msg);
	return -1;
}

/*
 * Until the run ends (cli_session_wait's answer), printing the hits of
 * each --interval on the way.  SECS: -d, or < 0.
 */
static int
trace_wait_all(trace_t *tr, double secs)
{
	double end = cli_elapsed() + secs;
	int quit;

	/* a death ends the wait: the run ends with the last process */
	while ((quit = cli_session_wait(&tr->tr_sess, secs < 0 ? -1 :
	    end > cli_elapsed() ? end - cli_elapsed() : 0)) == 0 &&
	    trace_proc_alive(tr))
		;
	return quit;
}

static int
trace_wait(trace_t *tr, double secs)
{
	double next = tr->tr_interval, left;
	int quit;

	if (tr->tr_interval <= 0)
		return trace_wait_all(tr, secs);
	for (;;) {
		left = next - cli_elapsed();
		if (secs >= 0 && secs - cli_elapsed() < left)
			left = secs - cli_elapsed();
		if ((quit = trace_wait_all(tr, left > 0 ? left : 0)) != -1)
			return quit;
		if (secs >= 0 && cli_elapsed() >= secs)
			return -1;
		if (cli_elapsed() >= next) {
			for (trace_t *p = tr; p != NULL; p = p->tr_next)
				trace_print_interval(p, p->tr_sess.cs_proc);
			/* a late wake-up does not shift the next ones */
			while (next <= cli_elapsed())
				next += tr->tr_interval;
		}
	}
}

/* -l: armed and resting; list, let go (a command dies unrun): 0 or 1. */
static int
trace_list_end(trace_t *tr, const cli_target_t *t)
{
	cli_session_t *s = &tr->tr_sess;
	int bad;

	size_t n = 0;

	for (trace_t *p = tr; p != NULL; p = p->tr_next) {
		trace_collect(p, p->tr_sess.cs_proc);
		trace_list(p, tr->tr_out, p->tr_pid);
		n += p->tr_nsites;
	}
	trace_release_all(tr, 0);
	if (n == 0) {
		/* -Z let every probe match nothing: a list of nothing */
		fprintf(stderr, "%s: trace: -l: nothing to list\n",
		    cli_progname);
		(void) cli_out_close(tr->tr_out, "trace", t->ct_out);
		cli_session_close(s);
		return cli_session_fail(s);
	}
	bad = cli_out_close(tr->tr_out, "trace", t->ct_out) != 0;
	cli_session_close(s);
	return bad ? cli_session_fail(s) : 0;
}

int
cmd_trace(int argc, char **argv)
{
	trace_t tr = { .tr_depth = DTPROC_STACK_DEFAULT, .tr_interval = -1 };
	cli_target_t t = { .ct_stop = DTPROC_STOP_PREINIT, .ct_multi = true };
	cli_session_t *s = &tr.tr_sess;
	double secs = -1;	/* -d: < 0, no limit */
	int rv, quit;
	bool svgerr = false;

	if ((rv = tx_helper(argc, argv)) >= 0)
		return rv;
	if ((rv = trace_args(argc, argv, &tr, &t, &secs)) < 0 &&
	    tr.tr_elf != NULL) {
		tr.tr_out = t.ct_out == NULL ? stdout :
		    cli_out_open("trace", t.ct_out);
		rv = tr.tr_out == NULL ? CLI_EXIT_FAIL :
		    trace_list_elf(&tr, &t);
	} else if (rv < 0) {
		/* the report's file first: a bad path starts nothing */
		if (tr.tr_list && t.ct_out == NULL)
			tr.tr_out = stdout;	/* nothing runs to share it */
		else
			tr.tr_out = cli_out_open("trace", t.ct_out);
		if (tr.tr_out == NULL || tx_open(&tr) != 0)
			rv = cli_target_status(&t, CLI_EXIT_FAIL);
		else if ((rv = trace_start(&tr, &t)) >= 0)
			(void) cli_out_close(tr.tr_out, "trace", t.ct_out);
	}
	if (rv < 0 && tr.tr_list)
		rv = trace_list_end(&tr, &t);
	if (rv >= 0) {
		trace_free(&tr);
		cli_target_free(&t);
		return rv;
	}
	cli_clock_start();
	/* -F: a child may join the list once its parent runs */
	for (trace_t *p = &tr; p != NULL; p = trace_proc_next(p))
		dtproc_continue(tr.tr_dtp, p->tr_sess.cs_proc);

	quit = trace_wait(&tr, secs);
	follow_end(&tr);
	/* the counts before the release: the records go with the handle */
	for (trace_t *p = &tr; p != NULL; p = trace_proc_next(p))
		trace_proc_collect(p);
	trace_release_all(&tr, quit);
	svgerr = trace_report(&tr, s->cs_created &&
	    s->cs_state == DTPROC_PS_DEAD, cli_session_status(s)) != 0;
	for (trace_t *p = &tr; p != NULL; p = p->tr_next) {
		if (p->tr_stack_err > 0)
			fprintf(stderr, "%s: warning: %llu hit%s could not be "
			    "stacked\n", cli_progname, p->tr_stack_err,
			    p->tr_stack_err > 1 ? "s" : "");
		if (p->tr_noval > 0)
			fprintf(stderr, "%s: warning: --where had no value at "
			    "%llu firing%s (not counted), the first for %s\n",
			    cli_progname, p->tr_noval, p->tr_noval > 1 ? "s" :
			    "", p->tr_noval_why);
	}
	rv = cli_session_exit(s, quit,
	    cli_out_close(tr.tr_out, "trace", t.ct_out) != 0 || svgerr);
	/* another target whose control was lost fails the run too */
	for (trace_t *p = tr.tr_next; p != NULL; p = p->tr_next)
		if (!p->tr_child && p->tr_sess.cs_state == DTPROC_PS_LOST &&
		    rv == 0)
			rv = cli_session_exit(&p->tr_sess, quit, false);
	cli_session_close(s);
	trace_free(&tr);
	cli_target_free(&t);
	return rv;
}
