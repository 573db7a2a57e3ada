/*
 * follow.c - `dtproc trace -F`: the children of the traced program,
 * traced too (dtproc_follow).
 *
 * Each followed process has a trace_t of its own, copied from the
 * command's options with empty tables: sites are per process (a fork
 * child has its parent's addresses, but its own probes and counts).
 * The library hands a child over in a FOLLOW event, on its parent's
 * control thread, while the child rests unrun: it is armed there and
 * continued, so its first call is counted.  Its callbacks find their
 * trace by handle (follow_trace).  When it dies, its notice reaches the
 * main thread, which reads its counts and releases it; at the end the
 * children still running are read and let go (they run on, as a grabbed
 * process does).  The report is one table per process, headed by pid
 * and command, then the total.
 *
 * The list only grows, and is freed at the end: a lookup takes fl_lock
 * alone, never a handle's lock with it, since a child's callbacks hold
 * their handle's lock while they look.
 */
#include "trace.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct follow_proc {
	trace_t fp_tr;			/* its trace (tr_child set) */
	dtproc_proc_t *fp_pr;		/* its handle, the lookup key */
	atomic_bool fp_gone;		/* released: the key may be reused */
	pid_t fp_pid;
	char fp_cmd[256];		/* basename of its program at the end */
	struct follow_proc *fp_next;
} follow_proc_t;

typedef struct follow {
	pthread_mutex_t fl_lock;
	trace_t *fl_main;		/* the command's trace */
	follow_proc_t *fl_procs, **fl_tail;	/* in order of birth */
	char fl_cmd[256];		/* the command's program */
} follow_t;

static void
follow_cmd(dtproc_t *dtp, dtproc_proc_t *pr, char *buf, size_t len)
{
	const char *exe = dtproc_exe(dtp, pr), *b;

	if (exe == NULL || *exe == '\0')
		exe = "?";
	b = strrchr(exe, '/');
	snprintf(buf, len, "%s", b != NULL && b[1] != '\0' ? b + 1 : exe);
}

/* -F: follow the command's children; 0, or 1 told why. */
int
follow_start(trace_t *tr, dtproc_proc_t *pr)
{
	follow_t *fl = calloc(1, sizeof (*fl));

	if (fl == NULL) {
		fprintf(stderr, "%s: trace: -F: out of memory\n", cli_progname);
		return 1;
	}
	(void) pthread_mutex_init(&fl->fl_lock, NULL);
	fl->fl_main = tr;
	fl->fl_tail = &fl->fl_procs;
	tr->tr_fl = fl;
	tr->tr_sess.cs_other = follow_notice;
	tr->tr_sess.cs_other_arg = tr;
	if (dtproc_follow(tr->tr_dtp, pr, 1) != 0) {
		fprintf(stderr, "%s: trace: -F: %s\n", cli_progname,
		    dtproc_errmsg(tr->tr_dtp));
		return 1;
	}
	return 0;
}

static follow_proc_t *
follow_find(follow_t *fl, dtproc_proc_t *pr)
{
	follow_proc_t *fp;

	(void) pthread_mutex_lock(&fl->fl_lock);
	for (fp = fl->fl_procs; fp != NULL; fp = fp->fp_next)
		if (fp->fp_pr == pr && !atomic_load(&fp->fp_gone))
			break;
	(void) pthread_mutex_unlock(&fl->fl_lock);
	return fp;
}

trace_t *
follow_trace(trace_t *tr, dtproc_proc_t *pr)
{
	follow_proc_t *fp;

	if (tr->tr_fl == NULL || (fp = follow_find(tr->tr_fl, pr)) == NULL)
		return tr;
	return &fp->fp_tr;
}

/*
 * A child's handle (on its parent's control thread, the child resting
 * unrun): its trace, armed, and the child continued.
 */
void
follow_adopt(trace_t *tr, dtproc_proc_t *child)
{
	follow_t *fl = tr->tr_fl;
	const trace_t *m;
	follow_proc_t *fp;
	trace_t *c;

	if (fl == NULL || child == NULL)
		return;
	m = fl->fl_main;
	if ((fp = calloc(1, sizeof (*fp))) == NULL ||
	    (fp->fp_tr.tr_probes = calloc(m->tr_nprobes,
	    sizeof (trace_probe_t))) == NULL ||
	    (fp->fp_tr.tr_pcs = calloc(DTPROC_STACK_MAX,
	    sizeof (uintptr_t))) == NULL) {
		if (fp != NULL)
			free(fp->fp_tr.tr_probes);
		free(fp);
		/* not counted, but let it run */
		dtproc_continue(tr->tr_dtp, child);
		return;
	}
	c = &fp->fp_tr;
	/* the options; the probes' descriptions shared, their counts not */
	c->tr_dtp = m->tr_dtp;
	memcpy(c->tr_probes, m->tr_probes, m->tr_nprobes *
	    sizeof (trace_probe_t));
	for (int i = 0; i < m->tr_nprobes; i++)
		c->tr_probes[i].tp_matched = 0;
	c->tr_nprobes = m->tr_nprobes;
	c->tr_ustack = m->tr_ustack;
	c->tr_folded = m->tr_folded;
	c->tr_json = m->tr_json;
	c->tr_depth = m->tr_depth;
	c->tr_stopprobes = m->tr_stopprobes;
	c->tr_interval = -1;
	c->tr_out = m->tr_out;
	c->tr_where_expr = m->tr_where_expr;
	c->tr_where = m->tr_where;
	c->tr_fl = fl;
	c->tr_child = true;
	c->tr_live = true;
	fp->fp_pr = child;
	fp->fp_pid = dtproc_pid(child);
	(void) pthread_mutex_lock(&fl->fl_lock);
	*fl->fl_tail = fp;
	fl->fl_tail = &fp->fp_next;
	(void) pthread_mutex_unlock(&fl->fl_lock);

	dtproc_lock(c->tr_dtp, child);
	trace_arm_all(c, child);
	dtproc_unlock(c->tr_dtp, child);
	dtproc_continue(c->tr_dtp, child);
}

/* Read FP's counts and let it go (main thread). */
static void
follow_release(follow_proc_t *fp)
{
	trace_t *c = &fp->fp_tr;

	trace_collect(c, fp->fp_pr);
	follow_cmd(c->tr_dtp, fp->fp_pr, fp->fp_cmd, sizeof (fp->fp_cmd));
	atomic_store(&fp->fp_gone, true);
	dtproc_release(c->tr_dtp, fp->fp_pr);
}

/* A child's notice (main thread): it died or was lost. */
void
follow_notice(void *arg, dtproc_proc_t *pr)
{
	trace_t *tr = arg;
	follow_proc_t *fp;

	if (tr->tr_fl != NULL && (fp = follow_find(tr->tr_fl, pr)) != NULL)
		follow_release(fp);
}

/* The end (main thread, the command's handle PR not yet released). */
void
follow_end(trace_t *tr, dtproc_proc_t *pr)
{
	follow_t *fl = tr->tr_fl;
	follow_proc_t *fp, *last;

	if (fl == NULL)
		return;
	/* no new child from here on: their parents' threads stop */
	(void) dtproc_follow(tr->tr_dtp, pr, 0);
	follow_cmd(tr->tr_dtp, pr, fl->fl_cmd, sizeof (fl->fl_cmd));
	(void) pthread_mutex_lock(&fl->fl_lock);
	last = fl->fl_tail == &fl->fl_procs ? NULL :
	    (follow_proc_t *)((char *)fl->fl_tail -
	    offsetof(follow_proc_t, fp_next));
	(void) pthread_mutex_unlock(&fl->fl_lock);
	for (fp = fl->fl_procs; fp != NULL; fp = fp->fp_next) {
		if (!atomic_load(&fp->fp_gone))
			follow_release(fp);
		if (fp == last)
			break;
	}
}

/* One process's table, headed by its pid and command. */
static void
follow_print_one(trace_t *t, pid_t pid, const char *cmd, int have_status,
    int status)
{
	if (!t->tr_json && !t->tr_folded)
		fprintf(t->tr_out, "pid %d (%s):\n", (int)pid, cmd);
	t->tr_cmd = cmd;
	trace_print(t, pid, have_status, status);
	t->tr_cmd = NULL;
	if (!t->tr_json && !t->tr_folded)
		fputc('\n', t->tr_out);
}

/*
 * -F's report: a table per process (the command first, then its
 * children in order of birth), then the total over all of them, summed
 * per object`function as one process's sites are.  --folded: the total
 * alone (stacks of every process).
 */
void
follow_print(trace_t *tr, pid_t pid, int have_status, int status)
{
	follow_t *fl = tr->tr_fl;
	trace_t total = *tr;
	trace_site_t **tail, ***tails;
	follow_proc_t *fp;
	pid_t *pids;
	int n = 1, k = 0;

	for (fp = fl->fl_procs; fp != NULL; fp = fp->fp_next)
		n++;
	if (!tr->tr_folded) {
		follow_print_one(tr, pid, fl->fl_cmd, have_status, status);
		for (fp = fl->fl_procs; fp != NULL; fp = fp->fp_next)
			follow_print_one(&fp->fp_tr, fp->fp_pid, fp->fp_cmd,
			    0, 0);
	}
	pids = calloc(n, sizeof (*pids));
	tails = calloc(n, sizeof (*tails));
	if (pids == NULL || tails == NULL) {
		free(pids);
		free(tails);
		return;
	}
	/* every list chained after the command's, and cut again after */
	pids[k] = pid;
	for (tail = &total.tr_all; *tail != NULL; tail = &(*tail)->ts_all)
		;
	tails[k++] = NULL;
	for (fp = fl->fl_procs; fp != NULL; fp = fp->fp_next) {
		pids[k] = fp->fp_pid;
		tails[k++] = tail;
		*tail = fp->fp_tr.tr_all;
		total.tr_nsites += fp->fp_tr.tr_nsites;
		for (; *tail != NULL; tail = &(*tail)->ts_all)
			;
	}
	total.tr_pids = pids;
	total.tr_npids = n;
	if (!tr->tr_json && !tr->tr_folded)
		fprintf(tr->tr_out, "all %d processes:\n", n);
	trace_print(&total, pid, 0, 0);
	for (int i = 1; i < n; i++)
		*tails[i] = NULL;
	free(pids);
	free(tails);
}

void
follow_free(trace_t *tr)
{
	follow_t *fl = tr->tr_fl;

	if (fl == NULL)
		return;
	while (fl->fl_procs != NULL) {
		follow_proc_t *fp = fl->fl_procs;
		trace_t *c = &fp->fp_tr;

		fl->fl_procs = fp->fp_next;
		/* the sites are on tr_all; the descriptions are the main's */
		c->tr_fl = NULL;
		c->tr_nprobes = 0;
		c->tr_where = NULL;
		trace_free_tables(c);
		free(c->tr_probes);
		free(fp);
	}
	(void) pthread_mutex_destroy(&fl->fl_lock);
	free(fl);
	tr->tr_fl = NULL;
}
