/*
 * trace_proc.c - the processes of one `dtproc trace` run: the targets
 * of -p (repeated, comma lists), the command, and with -F their
 * children, in one list of one record type.
 *
 * Each process has a trace_t of its own: its handle (tr_sess.cs_proc),
 * its sites (addresses are per process; a fork child has its parent's,
 * but its own probes and counts), its counts, the -U scratch and the
 * --time calls in progress its control thread writes while another
 * process's control thread writes its own.  The first process's record,
 * the head, owns what they share: the session (library handle, signalfd,
 * poke pipe), the probes' descriptions, the compiled --where, the
 * calibration and the report's stream.  Every other record is a copy of
 * the head's prototype (tr_proto: the options and empty tables, taken
 * once before anything runs, so that a copy made later on some control
 * thread never reads what the head's control thread is writing).
 *
 * The list is read by the main thread and by callbacks on any process's
 * control thread (an event names its process by handle), and -F adds to
 * it from a parent's callback: additions, lookups and the main thread's
 * walks while processes run hold trace_proc_mu, never with a handle's
 * lock taken after it (callbacks hold their handle's lock when they look).
 * A record is never removed before the run ends (a dead process's counts
 * are reported).  A released process's handle may be reused by a new
 * child: its record loses the handle (cs_proc NULL, under the lock)
 * before the release, so a lookup never finds the old record.
 *
 * -F: the library hands a child over in a FOLLOW event on its parent's
 * control thread, the child resting unrun: its record is made, armed
 * there and the child continued, so its first call is counted.  When it
 * dies its notice reaches the main thread (the session's cs_other),
 * which reads its counts and releases it; at the end the children still
 * running are read and let go (they run on, as a grabbed process does).
 * The run lasts as long as its targets (the command, the -p processes),
 * not their children.
 *
 * The report (trace_report): one process without -F, as it always was;
 * several (or -F), each headed by pid and command, then the run's total
 * summed per function.  --json: one process's object is {"pid",
 * "command", "status"?, "probes", "total"} (unless --time replaces the
 * table), {"calibration", "functions"} (--time, --hist) and "armed"; a
 * run of several is {"processes": [those objects], then the same
 * members for the run's total}.  dtproc(1) documents the schema.
 */
#include "trace.h"
#include "trace_time.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t trace_proc_mu = PTHREAD_MUTEX_INITIALIZER;

/* PR's pid and its command's name: the basename of what it runs now. */
void
trace_proc_rename(trace_t *tr, dtproc_proc_t *pr)
{
	const char *exe = dtproc_exe(tr->tr_dtp, pr), *b;

	tr->tr_pid = dtproc_pid(pr);
	if (exe == NULL || *exe == '\0') {
		if (tr->tr_pcmd[0] == '\0')
			snprintf(tr->tr_pcmd, sizeof (tr->tr_pcmd), "?");
		return;
	}
	b = strrchr(exe, '/');
	snprintf(tr->tr_pcmd, sizeof (tr->tr_pcmd), "%s",
	    b != NULL && b[1] != '\0' ? b + 1 : exe);
}

/* The state of one process, from zero (the options kept). */
static void
trace_proc_reset(trace_t *tr)
{
	tr->tr_armed = NULL;
	tr->tr_nsites = 0;
	tr->tr_all = NULL;
	tr->tr_failed = 0;
	tr->tr_fail_msg[0] = '\0';
	tr->tr_pcs = NULL;
	tr->tr_key = NULL;
	tr->tr_keycap = 0;
	tr->tr_stack_err = 0;
	tr->tr_live = false;
	tr->tr_filtered = tr->tr_noval = 0;
	tr->tr_noval_why = NULL;
	tr->tr_bad_spec = NULL;
	tr->tr_next = NULL;
	tr->tr_proto = NULL;
	tr->tr_child = false;
	tr->tr_pcmd[0] = '\0';
}

/* A copy of X with no calls in progress, or NULL out of memory. */
static tx_t *
trace_proc_tx(const tx_t *x)
{
	tx_t *c;

	if (x == NULL || (c = malloc(sizeof (*c))) == NULL)
		return NULL;
	*c = *x;
	c->x_threads = NULL;
	c->x_svg = NULL;
	c->x_orphans = 0;
	return c;
}

void
trace_proc_init(trace_t *head, dtproc_proc_t *pr)
{
	trace_t *p = malloc(sizeof (*p));
	trace_probe_t *pv = malloc(head->tr_nprobes * sizeof (*pv) + 1);
	tx_t *x = trace_proc_tx(head->tr_x);

	head->tr_head = head;
	trace_proc_rename(head, pr);
	/* without a prototype no other record can be made: one process */
	if (p == NULL || pv == NULL || (head->tr_x != NULL && x == NULL)) {
		free(p);
		free(pv);
		free(x);
		return;
	}
	*p = *head;
	trace_proc_reset(p);
	p->tr_x = x;
	memcpy(pv, head->tr_probes, head->tr_nprobes * sizeof (*pv));
	for (int i = 0; i < head->tr_nprobes; i++)
		pv[i].tp_matched = 0;
	p->tr_probes = pv;
	p->tr_follow = 0;	/* the head's business */
	p->tr_sess.cs_proc = NULL;
	p->tr_sess.cs_created = false;
	head->tr_proto = p;
}

trace_t *
trace_proc_new(trace_t *head, dtproc_proc_t *pr)
{
	const trace_t *proto = head->tr_proto;
	trace_t *tr = malloc(sizeof (*tr));
	trace_probe_t *p = proto == NULL ? NULL :
	    malloc(proto->tr_nprobes * sizeof (*p) + 1);
	uintptr_t *pcs = calloc(DTPROC_STACK_MAX, sizeof (uintptr_t));
	tx_t *x = proto == NULL ? NULL : trace_proc_tx(proto->tr_x);

	if (tr == NULL || p == NULL || pcs == NULL ||
	    (proto->tr_x != NULL && x == NULL)) {
		free(tr);
		free(p);
		free(pcs);
		free(x);
		return NULL;
	}
	*tr = *proto;
	memcpy(p, proto->tr_probes, proto->tr_nprobes * sizeof (*p));
	tr->tr_probes = p;
	tr->tr_pcs = pcs;
	tr->tr_x = x;
	tr->tr_sess.cs_proc = pr;
	tr->tr_sess.cs_pid = dtproc_pid(pr);
	tr->tr_sess.cs_state = 0;
	tr->tr_sess.cs_status = 0;
	tr->tr_head = head;
	trace_proc_rename(tr, pr);

	(void) pthread_mutex_lock(&trace_proc_mu);
	trace_t **pp = &head->tr_next;
	while (*pp != NULL)
		pp = &(*pp)->tr_next;
	*pp = tr;
	(void) pthread_mutex_unlock(&trace_proc_mu);
	return tr;
}

trace_t *
trace_proc_of(trace_t *head, const dtproc_proc_t *pr)
{
	trace_t *tr;

	/* the head's handle too: trace_proc_release clears it under the lock */
	(void) pthread_mutex_lock(&trace_proc_mu);
	for (tr = head; tr != NULL && tr->tr_sess.cs_proc != pr;
	    tr = tr->tr_next)
		;
	(void) pthread_mutex_unlock(&trace_proc_mu);
	return tr;
}

trace_t *
trace_proc_next(trace_t *tr)
{
	trace_t *n;

	(void) pthread_mutex_lock(&trace_proc_mu);
	n = tr->tr_next;
	(void) pthread_mutex_unlock(&trace_proc_mu);
	return n;
}

int
trace_proc_count(trace_t *head)
{
	int n = 0;

	for (trace_t *tr = head; tr != NULL; tr = trace_proc_next(tr))
		n++;
	return n;
}

bool
trace_proc_alive(trace_t *head)
{
	bool alive = false;

	/*
	 * The library is asked with our lock not held: its callbacks take
	 * ours with their handle's held.  A child does not keep the run
	 * going: the run is its targets'.
	 */
	for (trace_t *tr = head; tr != NULL && !alive;
	    tr = trace_proc_next(tr)) {
		const cli_session_t *s = &tr->tr_sess;

		if (s->cs_proc != NULL && !tr->tr_child) {
			int st = dtproc_state(s->cs_dtp, s->cs_proc);

			alive = st != DTPROC_PS_DEAD && st != DTPROC_PS_LOST;
		}
	}
	return alive;
}

/* Read TR's counts (main thread; its process held). */
void
trace_proc_collect(trace_t *tr)
{
	if (tr->tr_sess.cs_proc != NULL)
		trace_collect(tr, tr->tr_sess.cs_proc);
}

void
trace_proc_release(trace_t *tr, int quit)
{
	cli_session_t s = tr->tr_sess;

	if (s.cs_proc == NULL)
		return;
	trace_proc_rename(tr, s.cs_proc);	/* what it ran last */
	/* the handle may be a new child's once released: forget it first */
	(void) pthread_mutex_lock(&trace_proc_mu);
	tr->tr_sess.cs_proc = NULL;
	(void) pthread_mutex_unlock(&trace_proc_mu);
	cli_session_release(&s, quit);
	tr->tr_sess.cs_state = s.cs_state;
	tr->tr_sess.cs_status = s.cs_status;
}

static void
trace_proc_free(trace_t *tr)
{
	trace_free_tables(tr);
	tx_free(tr);
	free(tr->tr_probes);
	free(tr);
}

void
trace_proc_free_all(trace_t *head)
{
	(void) pthread_mutex_lock(&trace_proc_mu);
	trace_t *tr = head->tr_next;
	head->tr_next = NULL;
	(void) pthread_mutex_unlock(&trace_proc_mu);

	/* their sites and scratch; the shared parts are the head's */
	while (tr != NULL) {
		trace_t *next = tr->tr_next;

		trace_proc_free(tr);
		tr = next;
	}
	if (head->tr_proto != NULL) {
		trace_proc_free(head->tr_proto);
		head->tr_proto = NULL;
	}
}

/* ---------------------------------------------------------- -F */

/* -F: follow the command's children; 0, or 1 told why. */
int
follow_start(trace_t *tr, dtproc_proc_t *pr)
{
	if (tr->tr_proto == NULL) {
		fprintf(stderr, "%s: trace: -F: out of memory\n", cli_progname);
		return 1;
	}
	tr->tr_sess.cs_other = follow_notice;
	tr->tr_sess.cs_other_arg = tr;
	if (dtproc_follow(tr->tr_dtp, pr, 1) != 0) {
		fprintf(stderr, "%s: trace: -F: %s\n", cli_progname,
		    dtproc_errmsg(tr->tr_dtp));
		return 1;
	}
	return 0;
}

/*
 * A child's handle (on its parent's control thread, the child resting
 * unrun): its record, armed, and the child continued.
 */
void
follow_adopt(trace_t *head, dtproc_proc_t *child)
{
	trace_t *c;

	if (child == NULL)
		return;
	if ((c = trace_proc_new(head, child)) == NULL) {
		/* not counted, but let it run */
		dtproc_continue(head->tr_dtp, child);
		return;
	}
	c->tr_child = true;
	c->tr_live = true;
	dtproc_lock(c->tr_dtp, child);
	trace_arm_all(c, child);
	dtproc_unlock(c->tr_dtp, child);
	dtproc_continue(c->tr_dtp, child);
}

/* A child's notice (main thread): it died or was lost. */
void
follow_notice(void *arg, dtproc_proc_t *pr)
{
	trace_t *tr = trace_proc_of(arg, pr);

	if (tr != NULL && tr->tr_child) {
		trace_proc_collect(tr);
		trace_proc_release(tr, 0);
	}
}

/* No child from here on (main thread, the command still held). */
void
follow_end(trace_t *tr)
{
	if (tr->tr_follow && tr->tr_sess.cs_proc != NULL)
		(void) dtproc_follow(tr->tr_dtp, tr->tr_sess.cs_proc, 0);
}

/* ---------------------------------------------------------- the report */

/* TR's tables (text) or its members (--json, a ',' before each). */
static void
trace_report_body(trace_t *tr)
{
	bool json = tr->tr_json;

	if (!tx_replaces_table(tr)) {
		if (json)
			fputc(',', tr->tr_out);
		(void) trace_print(tr);
	}
	if (json && (tr->tr_time || tr->tr_hist))
		fputc(',', tr->tr_out);
	tx_print(tr);
	if (json)
		fprintf(tr->tr_out, ",\"armed\":%zu", tr->tr_nsites);
}

/* One process's object (--json) or its tables. */
static void
trace_report_proc(trace_t *tr, bool created, int have_status, int status)
{
	FILE *o = tr->tr_out;

	if (tr->tr_json) {
		fprintf(o, "{\"pid\":%d,\"command\":", (int)tr->tr_pid);
		cli_json_str(o, tr->tr_pcmd);
		if (created && have_status)
			fprintf(o, ",\"status\":%d", status);
		trace_report_body(tr);
		fputc('}', o);
		return;
	}
	trace_report_body(tr);
}

/*
 * The report of the run; --svg's flame graph of every process's stacks.
 * 0, or -1 if --svg's file could not be written (said why).
 */
int
trace_report(trace_t *head, int have_status, int status)
{
	FILE *o = head->tr_out;
	trace_t total = *head, *tr;
	trace_site_t **tail, ***tails;
	int n = trace_proc_count(head), k = 0, rv;

	if (n == 1 && !head->tr_follow) {
		trace_report_proc(head, true, have_status, status);
		if (head->tr_json)
			fputc('\n', o);
		return tx_svg(head);
	}
	if (head->tr_json)
		fprintf(o, "{\"processes\":[");
	for (tr = head; tr != NULL && !head->tr_folded; tr = tr->tr_next) {
		bool created = tr->tr_sess.cs_created;

		if (head->tr_json) {
			if (tr != head)
				fputc(',', o);
		} else {
			fprintf(o, "pid %d (%s):\n", (int)tr->tr_pid,
			    tr->tr_pcmd);
		}
		trace_report_proc(tr, created, have_status, status);
		if (!head->tr_json)
			fputc('\n', o);
	}
	if (head->tr_json)
		fputc(']', o);

	/* the total: every list chained after the head's, cut again after */
	if ((tails = calloc(n, sizeof (*tails))) == NULL)
		return 0;
	for (tail = &total.tr_all; *tail != NULL; tail = &(*tail)->ts_all)
		;
	for (tr = head->tr_next; tr != NULL; tr = tr->tr_next) {
		tails[k++] = tail;
		*tail = tr->tr_all;
		total.tr_nsites += tr->tr_nsites;
		for (; *tail != NULL; tail = &(*tail)->ts_all)
			;
	}
	if (!head->tr_json && !head->tr_folded)
		fprintf(o, "all %d processes:\n", n);
	trace_report_body(&total);
	if (head->tr_json)
		fprintf(o, "}\n");
	else if (!head->tr_folded && !tx_replaces_table(head))
		fprintf(o, "\ntotal: %llu hit%s in %d processes\n",
		    trace_total(&total), trace_total(&total) == 1 ? "" : "s",
		    n);
	else if (!head->tr_folded)
		fprintf(o, "\ntotal: %llu call%s in %d processes\n",
		    tx_calls(&total), tx_calls(&total) == 1 ? "" : "s", n);
	rv = tx_svg(&total);
	for (int i = 0; i < k; i++)
		*tails[i] = NULL;
	free(tails);
	return rv;
}
