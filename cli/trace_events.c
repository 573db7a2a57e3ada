/*
 * trace_events.c - `dtproc trace -e`: a line per firing, printed (and
 * flushed) by the control thread as the firing happens, the thread
 * still stopped: the time since tracing started, pid, tid, the probe
 * indented by the thread's call depth, then the arguments on an entry
 * and "= retval" and the call's time on a return (calibrated as
 * --time's).  With --json one object per line instead, with the
 * process's command too (-F: which program a pid ran at the firing).
 *
 * Arguments are typed from DWARF when the object has it (its own or a
 * debug file: dtproc_fn_params, asked once per site and kept until the
 * site is withdrawn, since the strings live as long as the object), and
 * shown as dtproc_arg_format prints them: "malloc(bytes=24)".  Without
 * DWARF the function's arity is unknown: arg0..arg5 (the six integer
 * registers) in hex, and the return value in hex.  At an offset probe
 * the argument registers as they are there, by name: "rdi=0x1, ...".
 */
#include "trace_time.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TX_RAW_ARGS	6	/* shown without DWARF */

/* A line built in one buffer, written at once. */
typedef struct tx_buf {
	char xb_s[4096];
	size_t xb_n;
} tx_buf_t;

static void __attribute__((format(printf, 2, 3)))
tx_put(tx_buf_t *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->xb_n >= sizeof (b->xb_s))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->xb_s + b->xb_n, sizeof (b->xb_s) - b->xb_n, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->xb_n += (size_t)n;
	if (b->xb_n >= sizeof (b->xb_s))
		b->xb_n = sizeof (b->xb_s) - 1;
}

/* S as a JSON string into B (cli_json_str's rules, via a memstream). */
static void
tx_put_json(tx_buf_t *b, const char *s)
{
	char *p = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&p, &len);

	if (f == NULL) {
		tx_put(b, "null");
		return;
	}
	cli_json_str(f, s);
	fclose(f);
	tx_put(b, "%s", p != NULL ? p : "null");
	free(p);
}

/* The site's parameters, asked of DWARF once. */
static void
tx_params(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s)
{
	tx_site_t *xs = s->ts_x;
	int n;

	if (xs->xs_nparams != -1)
		return;
	n = dtproc_fn_params(tr->tr_dtp, pr, s->ts_addr, xs->xs_params,
	    DTPROC_HIT_NARGS, &xs->xs_ret);
	xs->xs_nparams = n < 0 ? -2 : n;
}

/* Parameter P's value VAL as dtproc_arg_format shows it, into OUT. */
static void
tx_format(trace_t *tr, dtproc_proc_t *pr, const dtproc_param_t *p,
    uint64_t val, char *out, size_t len)
{
	if (dtproc_arg_format(tr->tr_dtp, pr, p, val, out, len) < 0)
		snprintf(out, len, "%#" PRIx64, val);
}

/* An argument: name=value, or {"name":..,"type":..,"value":..}. */
static void
tx_put_arg(trace_t *tr, tx_buf_t *b, bool first, const char *name,
    const char *type, const char *val)
{
	if (!tr->tr_json) {
		tx_put(b, "%s%s=%s", first ? "" : ", ", name, val);
		return;
	}
	tx_put(b, "%s{\"name\":", first ? "" : ",");
	tx_put_json(b, name);
	if (type != NULL) {
		tx_put(b, ",\"type\":");
		tx_put_json(b, type);
	}
	tx_put(b, ",\"value\":");
	tx_put_json(b, val);
	tx_put(b, "}");
}

static void
tx_put_args(trace_t *tr, dtproc_proc_t *pr, tx_buf_t *b, trace_site_t *s,
    const dtproc_hit_t *h)
{
	tx_site_t *xs = s->ts_x;
	char val[256], name[16];
	int n = xs->xs_nparams;

	if (n < 0) {
		for (int i = 0; i < TX_RAW_ARGS; i++) {
			snprintf(name, sizeof (name), "arg%d", i);
			snprintf(val, sizeof (val), "%#" PRIx64, h->dh_args[i]);
			if (!tr->tr_json)
				tx_put(b, "%s%s", i ? ", " : "", val);
			else
				tx_put_arg(tr, b, i == 0, name, NULL, val);
		}
		return;
	}
	for (int i = 0; i < n && i < DTPROC_HIT_NARGS; i++) {
		const dtproc_param_t *p = &xs->xs_params[i];
		uint64_t v = p->dp_arg >= 0 && p->dp_arg < DTPROC_HIT_NARGS ?
		    h->dh_args[p->dp_arg] : 0;

		snprintf(name, sizeof (name), "arg%d", i);
		tx_format(tr, pr, p, v, val, sizeof (val));
		tx_put_arg(tr, b, i == 0, p->dp_name != NULL ? p->dp_name :
		    name, p->dp_type, val);
	}
	if (n > DTPROC_HIT_NARGS && !tr->tr_json)
		tx_put(b, ", ...");
}

/*
 * An offset probe's arguments: the argument registers as they are there
 * (the function may have moved its arguments elsewhere by then), named.
 */
static void
tx_put_regs(trace_t *tr, tx_buf_t *b, const dtproc_hit_t *h)
{
	static const char *const regs[TX_RAW_ARGS] = { "rdi", "rsi", "rdx",
	    "rcx", "r8", "r9" };
	char val[32];

	for (int i = 0; i < TX_RAW_ARGS; i++) {
		snprintf(val, sizeof (val), "%#" PRIx64, h->dh_args[i]);
		if (!tr->tr_json)
			tx_put(b, "%s%s=%s", i ? ", " : "", regs[i], val);
		else
			tx_put_arg(tr, b, i == 0, regs[i], NULL, val);
	}
}

/* The return value as shown, or "" for a void function. */
static void
tx_retval(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s,
    const dtproc_hit_t *h, char *out, size_t len)
{
	tx_site_t *xs = s->ts_x;

	if (xs->xs_nparams >= 0 && xs->xs_ret.dp_kind == DTPROC_T_VOID)
		out[0] = '\0';
	else if (xs->xs_nparams >= 0 && xs->xs_ret.dp_kind != DTPROC_T_UNKNOWN)
		tx_format(tr, pr, &xs->xs_ret, h->dh_retval, out, len);
	else
		snprintf(out, len, "%#" PRIx64, h->dh_retval);
}

/*
 * A USDT probe's firing H at S (trace_usdt.c): "-- OBJ`PROV:NAME(arg0=..,
 * ..)" at the depth of the traced calls it is in, or its JSON object.
 */
static void
tx_usdt(trace_t *tr, dtproc_proc_t *pr, tx_buf_t *b, trace_site_t *s,
    const dtproc_hit_t *h, double t)
{
	char args[2048];

	(void) trace_usdt_format(tr, pr, h->dh_tid, s, ~0u, tr->tr_json, args,
	    sizeof (args));
	if (tr->tr_json) {
		tx_put(b, "{\"time\":%.6f,\"pid\":%d,\"command\":", t,
		    (int)dtproc_pid(pr));
		tx_put_json(b, tr->tr_pcmd);
		tx_put(b, ",\"tid\":%d,\"kind\":\"usdt\",\"depth\":%d,"
		    "\"object\":", (int)h->dh_tid, h->dh_depth + 1);
		tx_put_json(b, s->ts_obj);
		tx_put(b, ",\"probe\":");
		tx_put_json(b, s->ts_func);
		tx_put(b, ",\"args\":[%s]}\n", args);
	} else {
		tx_put(b, "%10.6f %7d %7d  %*s-- %s`%s(%s)\n", t,
		    (int)dtproc_pid(pr), (int)h->dh_tid, 2 * h->dh_depth, "",
		    s->ts_obj, s->ts_func, args);
	}
}

void
tx_event(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s,
    const dtproc_hit_t *h, uint64_t dur)
{
	tx_buf_t b = { .xb_n = 0 };
	struct timespec now;
	uint64_t now_ns;
	double t;
	bool ret = h->dh_kind == DTPROC_HIT_RETURN;
	bool off = h->dh_kind == DTPROC_HIT_OFFSET;
	/* an offset is inside the calls pending, the others are one */
	int depth = off ? h->dh_depth : h->dh_depth > 0 ? h->dh_depth - 1 : 0;
	char rv[256];
	bool usdt = s->ts_kind == DESC_USDT;

	if (s->ts_x == NULL && !usdt)
		return;
	if (!off && !usdt)
		tx_params(tr, pr, s);
	/* the firing's time, not the printing's */
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	t = cli_elapsed() - (now_ns > h->dh_time ?
	    (double)(now_ns - h->dh_time) / 1e9 : 0);
	if (ret)
		tx_retval(tr, pr, s, h, rv, sizeof (rv));
	if (usdt) {
		tx_usdt(tr, pr, &b, s, h, t);
	} else if (tr->tr_json) {
		tx_put(&b, "{\"time\":%.6f,\"pid\":%d,\"command\":", t,
		    (int)dtproc_pid(pr));
		tx_put_json(&b, tr->tr_pcmd);
		tx_put(&b, ",\"tid\":%d,\"kind\":\"%s\",\"depth\":%d,"
		    "\"object\":", (int)h->dh_tid, ret ? "return" : off ?
		    "offset" : "entry", depth + 1);
		tx_put_json(&b, s->ts_obj);
		tx_put(&b, ",\"function\":");
		tx_put_json(&b, s->ts_func);
		if (off) {
			tx_put(&b, ",\"offset\":%zu,\"regs\":[", s->ts_poff);
			tx_put_regs(tr, &b, h);
			tx_put(&b, "]");
		} else if (ret) {
			tx_put(&b, ",\"retval\":");
			if (rv[0] != '\0')
				tx_put_json(&b, rv);
			else
				tx_put(&b, "null");
			tx_put(&b, ",\"raw_retval\":%" PRIu64 ",\"duration_ns\":"
			    "%" PRIu64, h->dh_retval, dur);
		} else {
			tx_put(&b, ",\"args\":[");
			tx_put_args(tr, pr, &b, s, h);
			tx_put(&b, "]");
		}
		tx_put(&b, "}\n");
	} else {
		tx_put(&b, "%10.6f %7d %7d  %*s%s %s`%s", t,
		    (int)dtproc_pid(pr), (int)h->dh_tid, 2 * depth, "",
		    ret ? "<-" : off ? "--" : "->", s->ts_obj, s->ts_func);
		if (off) {
			tx_put(&b, "+0x%zx(", s->ts_poff);
			tx_put_regs(tr, &b, h);
			tx_put(&b, ")\n");
		} else if (ret) {
			if (rv[0] != '\0')
				tx_put(&b, " = %s", rv);
			tx_put(&b, "  (%.3f us)\n", (double)dur / 1000.0);
		} else {
			tx_put(&b, "(");
			tx_put_args(tr, pr, &b, s, h);
			tx_put(&b, ")\n");
		}
	}
	if (b.xb_n > 0 && b.xb_s[b.xb_n - 1] != '\n')
		b.xb_s[b.xb_n - 1] = '\n';	/* cut: still one line */
	fwrite(b.xb_s, 1, b.xb_n, tr->tr_out);
	(void) fflush(tr->tr_out);
}
