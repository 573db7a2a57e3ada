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
 * stop unless a firing is wanted: -U's stack, --stop-probes, --where,
 * -e.  Such a firing goes through the function probes' callback
 * (trace_fp.c) as an offset hit would: --where judges it, arg0..arg7
 * being the probe's arguments as its note describes them, and -e prints
 * its line (trace_events.c), the arguments by trace_usdt_format.
 *
 * A note says an argument's size and sign, never its type: an argument
 * that points at printable text is shown as that text (a char * is what
 * providers pass: python's file and function names), anything else as
 * a number.  The listing (-l, --elf) is trace_usdt_list's: the probes a
 * description matches, with their semaphores and argument specs,
 * nothing armed.
 */
#include "trace_time.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
	struct timespec now;
	tx_thread_t *t;
	int n;

	if (tr->tr_where == NULL && !tr->tr_events) {
		if (tr->tr_ustack)
			trace_stack_hit(tr, pr, tid, s);
		return;
	}
	/* the function probes' path, for a firing that has no function */
	clock_gettime(CLOCK_MONOTONIC, &now);
	memset(&hit, 0, sizeof (hit));
	hit.dh_kind = DTPROC_HIT_OFFSET;
	hit.dh_tid = tid;
	hit.dh_func = addr;
	hit.dh_pc = addr;
	hit.dh_time = (uint64_t)now.tv_sec * 1000000000ULL +
	    (uint64_t)now.tv_nsec;
	/* -e indents by the traced calls the thread is in */
	if (tr->tr_x != NULL && (t = tx_thread(tr->tr_x, tid)) != NULL)
		hit.dh_depth = t->xt_n;
	n = dtproc_usdt_args(dtp, pr, tid, addr, vals, DTPROC_USDT_NARGS);
	for (int i = 0; i < n && i < DTPROC_HIT_NARGS; i++)
		hit.dh_args[i] = vals[i];
	trace_fp_hit(dtp, pr, &hit, s);
}

int
trace_usdt_arm(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	bool stop = tr->tr_ustack || tr->tr_stopprobes ||
	    tr->tr_where != NULL || tr->tr_events;

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

/*
 * The string at ADDR if it is printable text (at least one character;
 * cut at LEN - 1 bytes), read up to each page's end so that one near the
 * end of a mapping is still read: true, or false (show a number).
 */
static bool
trace_usdt_text(trace_t *tr, dtproc_proc_t *pr, uint64_t addr, char *buf,
    size_t len)
{
	size_t got = 0;

	if (addr < 4096)
		return false;
	while (got + 1 < len) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		ssize_t n;

		if (chunk > len - 1 - got)
			chunk = len - 1 - got;
		n = dtproc_read(tr->tr_dtp, pr, (uintptr_t)(addr + got),
		    buf + got, chunk);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf + got - (size_t)n, '\0', (size_t)n) != NULL)
			break;
	}
	buf[got] = '\0';
	if (buf[0] == '\0')
		return false;
	/* ASCII text, or UTF-8's bytes: no control characters */
	for (const unsigned char *c = (unsigned char *)buf; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* S into BUF at *O (LEN bytes), '"' and '\\' escaped. */
static void
trace_usdt_esc(char *buf, size_t len, size_t *o, const char *s)
{
	for (; *s != '\0' && *o + 2 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[(*o)++] = '\\';
		buf[(*o)++] = *s;
	}
	buf[*o] = '\0';
}

int
trace_usdt_format(trace_t *tr, dtproc_proc_t *pr, pid_t tid,
    const trace_site_t *s, unsigned strmask, bool json, char *buf,
    size_t len)
{
	uint64_t vals[DTPROC_USDT_NARGS];
	size_t o = 0;
	int n = dtproc_usdt_args(tr->tr_dtp, pr, tid, s->ts_addr, vals,
	    DTPROC_USDT_NARGS);

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (n < 0) {
		if (json)
			return 0;	/* no arguments: an empty list */
		return snprintf(buf, len, "<%s>", dtproc_errmsg(tr->tr_dtp));
	}
	for (int i = 0; i < n && i < DTPROC_USDT_NARGS && o + 1 < len; i++) {
		char str[TRACE_USDT_STR + 1], num[32];
		bool text = (strmask & (1u << i)) != 0 &&
		    trace_usdt_text(tr, pr, vals[i], str, sizeof (str));

		snprintf(num, sizeof (num), "%" PRId64, (int64_t)vals[i]);
		if (json) {
			/* as -e's function arguments: the value as shown */
			o += (size_t)snprintf(buf + o, len - o, "%s{\"name\":"
			    "\"arg%d\",\"value\":\"", i > 0 ? "," : "", i);
			if (o >= len)
				break;
			if (text) {
				trace_usdt_esc(buf, len, &o, "\"");
				trace_usdt_esc(buf, len, &o, str);
				trace_usdt_esc(buf, len, &o, "\"");
			} else {
				trace_usdt_esc(buf, len, &o, num);
			}
			o += (size_t)snprintf(buf + o, len - o, "\"}");
		} else {
			o += (size_t)snprintf(buf + o, len - o, "%sarg%d=%s",
			    i > 0 ? ", " : "", i, text ? "\"" : num);
			if (text && o < len) {
				trace_usdt_esc(buf, len, &o, str);
				o += (size_t)snprintf(buf + o, len - o, "\"");
			}
		}
	}
	if (o >= len)
		o = len - 1;
	return (int)o;
}

/* ---- the listing ---- */

typedef struct trace_ulist {
	trace_uwalk_t ul_w;
	FILE *ul_out;
	size_t ul_n;		/* listed, by this call and before it */
	int ul_mine;		/* listed by this call */
	bool ul_json;
} trace_ulist_t;

static int
trace_usdt_print(const dtproc_usdt_t *u, void *arg)
{
	trace_ulist_t *l = arg;
	FILE *o = l->ul_out;

	if (l->ul_w.uw_pr != NULL && !trace_usdt_func(&l->ul_w, u))
		return 0;
	if (l->ul_json) {
		fprintf(o, "%s{\"object\":", l->ul_n > 0 ? "," : "");
		cli_json_str(o, u->du_object);
		fprintf(o, ",\"provider\":");
		cli_json_str(o, u->du_provider);
		fprintf(o, ",\"name\":");
		cli_json_str(o, u->du_name);
		fprintf(o, ",\"address\":%" PRIuPTR ",\"semaphore\":%" PRIuPTR
		    ",\"args\":", u->du_addr, u->du_sema);
		cli_json_str(o, u->du_argspec);
		fprintf(o, ",\"nargs\":%d}", u->du_nargs);
	} else {
		char name[512];

		snprintf(name, sizeof (name), "%s`%s:%s", u->du_object,
		    u->du_provider, u->du_name);
		fprintf(o, "%-48s %#14lx  ", name, (unsigned long)u->du_addr);
		if (u->du_sema != 0)
			fprintf(o, "semaphore %#lx  ", (unsigned long)u->du_sema);
		if (u->du_nargs < 0)
			fprintf(o, "%s  (cannot read: %s)\n", u->du_argspec,
			    u->du_why);
		else
			fprintf(o, "%s\n", u->du_argspec[0] != '\0' ?
			    u->du_argspec : "(no arguments)");
	}
	l->ul_n++;
	l->ul_mine++;
	return 0;
}

int
trace_usdt_list(FILE *o, dtproc_t *dtp, dtproc_proc_t *pr, const char *elf,
    const desc_t *d, bool json, size_t before)
{
	trace_ulist_t l = { { dtp, pr, d, NULL, NULL, NULL }, o, before, 0,
	    json };
	int rv;

	if (pr != NULL)
		rv = dtproc_usdt_iter(dtp, pr, d->dd_obj, d->dd_uprov,
		    d->dd_uname, trace_usdt_print, &l);
	else
		rv = dtproc_usdt_file_iter(dtp, elf, d->dd_uprov, d->dd_uname,
		    trace_usdt_print, &l);
	return rv < 0 ? rv : l.ul_mine;
}

void
trace_usdt_list_armed(trace_t *tr, FILE *o, dtproc_proc_t *pr)
{
	size_t n = 0;
	bool any = false;

	for (int i = 0; i < tr->tr_nprobes; i++)
		any = any || tr->tr_probes[i].tp_desc.dd_kinds == DESC_USDT;
	if (!any || pr == NULL)
		return;
	if (tr->tr_json)
		fprintf(o, ",\"usdt\":[");
	else
		fprintf(o, "USDT probes (semaphore, arguments):\n");
	for (int i = 0; i < tr->tr_nprobes; i++) {
		const desc_t *d = &tr->tr_probes[i].tp_desc;
		int k;

		if (d->dd_kinds != DESC_USDT)
			continue;
		if ((k = trace_usdt_list(o, tr->tr_dtp, pr, NULL, d,
		    tr->tr_json, n)) > 0)
			n += (size_t)k;
	}
	if (tr->tr_json)
		fprintf(o, "]");
}
