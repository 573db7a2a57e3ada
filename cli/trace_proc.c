/*
 * trace_proc.c - the processes of one `dtproc trace` run.
 *
 * A run traces one process or several (-p repeated or with a comma
 * list; children followed).  Each has a trace_t of its own: its handle,
 * its sites (addresses are per process), its counts and the -U scratch
 * its control thread writes while another process's control thread
 * writes its own.  The first process's record, the head, owns what they
 * share: the session (library handle, signalfd, poke pipe), the probes'
 * descriptions, the compiled --where and the report's stream; the others
 * are copies of its options that borrow those and own only the rest.
 *
 * The list is read by the main thread and by callbacks on any process's
 * control thread (an event names its process by handle), and a follower
 * may add to it from a callback: additions and walks hold trace_proc_mu.
 * A record is never removed before the run ends (a dead process's counts
 * are reported), so a pointer found under the lock stays valid.
 *
 * The report: one process as before; several, each table headed by pid
 * and command, and a total (--json: {"processes": [...], "total": N}).
 */
#include "trace.h"
#include "trace_time.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t trace_proc_mu = PTHREAD_MUTEX_INITIALIZER;

/* The command's name: the basename of what it runs. */
static void
trace_proc_name(trace_t *tr, dtproc_proc_t *pr)
{
	const char *exe = dtproc_exe(tr->tr_dtp, pr), *b;

	tr->tr_pid = dtproc_pid(pr);
	if (exe == NULL) {
		snprintf(tr->tr_pcmd, sizeof (tr->tr_pcmd), "?");
		return;
	}
	b = strrchr(exe, '/');
	snprintf(tr->tr_pcmd, sizeof (tr->tr_pcmd), "%s", b != NULL ? b + 1 :
	    exe);
}

void
trace_proc_init(trace_t *head, dtproc_proc_t *pr)
{
	head->tr_head = head;
	trace_proc_name(head, pr);
}

trace_t *
trace_proc_new(trace_t *head, dtproc_proc_t *pr)
{
	trace_t *tr = malloc(sizeof (*tr));
	trace_probe_t *p = malloc(head->tr_nprobes * sizeof (*p) + 1);
	uintptr_t *pcs = calloc(DTPROC_STACK_MAX, sizeof (uintptr_t));

	if (tr == NULL || p == NULL || pcs == NULL) {
		free(tr);
		free(p);
		free(pcs);
		return NULL;
	}
	/* the options, then this process's own state from zero */
	*tr = *head;
	memcpy(p, head->tr_probes, head->tr_nprobes * sizeof (*p));
	for (int i = 0; i < head->tr_nprobes; i++)
		p[i].tp_matched = 0;
	tr->tr_probes = p;
	tr->tr_armed = NULL;
	tr->tr_nsites = 0;
	tr->tr_all = NULL;
	tr->tr_failed = 0;
	tr->tr_fail_msg[0] = '\0';
	tr->tr_pcs = pcs;
	tr->tr_key = NULL;
	tr->tr_keycap = 0;
	tr->tr_stack_err = 0;
	tr->tr_live = false;
	tr->tr_filtered = tr->tr_noval = 0;
	tr->tr_noval_why = NULL;
	tr->tr_bad_spec = NULL;
	tr->tr_follow = 0;	/* -F is for one process (refused with -p's) */
	tr->tr_fl = NULL;
	tr->tr_cmd = NULL;
	/* --time's calls in progress are per thread of one process; the
	 * calibration is the run's */
	if (head->tr_x != NULL) {
		if ((tr->tr_x = malloc(sizeof (*tr->tr_x))) == NULL) {
			free(tr);
			free(p);
			free(pcs);
			return NULL;
		}
		*tr->tr_x = *head->tr_x;
		tr->tr_x->x_threads = NULL;
		tr->tr_x->x_svg = NULL;
		tr->tr_x->x_orphans = 0;
	}
	tr->tr_sess.cs_proc = pr;
	tr->tr_sess.cs_pid = dtproc_pid(pr);
	tr->tr_sess.cs_created = false;
	tr->tr_sess.cs_state = 0;
	tr->tr_sess.cs_status = 0;
	tr->tr_head = head;
	trace_proc_name(tr, pr);

	(void) pthread_mutex_lock(&trace_proc_mu);
	trace_t **pp = &head->tr_next;
	while (*pp != NULL)
		pp = &(*pp)->tr_next;
	tr->tr_next = NULL;
	*pp = tr;
	(void) pthread_mutex_unlock(&trace_proc_mu);
	return tr;
}

trace_t *
trace_proc_of(trace_t *head, const dtproc_proc_t *pr)
{
	trace_t *tr;

	if (head->tr_sess.cs_proc == pr)
		return head;
	(void) pthread_mutex_lock(&trace_proc_mu);
	for (tr = head->tr_next; tr != NULL && tr->tr_sess.cs_proc != pr;
	    tr = tr->tr_next)
		;
	(void) pthread_mutex_unlock(&trace_proc_mu);
	return tr;
}

int
trace_proc_count(trace_t *head)
{
	int n = 1;

	(void) pthread_mutex_lock(&trace_proc_mu);
	for (trace_t *tr = head->tr_next; tr != NULL; tr = tr->tr_next)
		n++;
	(void) pthread_mutex_unlock(&trace_proc_mu);
	return n;
}

bool
trace_proc_alive(trace_t *head)
{
	bool alive = false;

	/*
	 * The library is asked with our lock not held: its callbacks take
	 * ours with their handle's held.  Records are only appended while
	 * the run lasts, so the next one is read under the lock alone.
	 */
	for (trace_t *tr = head; tr != NULL && !alive; ) {
		const cli_session_t *s = &tr->tr_sess;

		if (s->cs_proc != NULL) {
			int st = dtproc_state(s->cs_dtp, s->cs_proc);

			alive = st != DTPROC_PS_DEAD && st != DTPROC_PS_LOST;
		}
		(void) pthread_mutex_lock(&trace_proc_mu);
		tr = tr->tr_next;
		(void) pthread_mutex_unlock(&trace_proc_mu);
	}
	return alive;
}

void
trace_proc_free_all(trace_t *head)
{
	(void) pthread_mutex_lock(&trace_proc_mu);
	trace_t *tr = head->tr_next;
	head->tr_next = NULL;
	(void) pthread_mutex_unlock(&trace_proc_mu);

	while (tr != NULL) {
		trace_t *next = tr->tr_next;

		/* its sites and scratch; the shared parts are the head's */
		tr->tr_next = NULL;
		trace_free_tables(tr);
		tx_free(tr);
		free(tr->tr_probes);
		free(tr);
		tr = next;
	}
}

void
trace_print_all(trace_t *head, int have_status, int status)
{
	FILE *o = head->tr_out;
	unsigned long long total = 0;
	int n = 0;

	if (head->tr_next == NULL) {
		(void) trace_print(head, head->tr_sess.cs_pid, have_status,
		    status);
		return;
	}
	if (head->tr_json)
		fprintf(o, "{\"processes\":[");
	for (trace_t *tr = head; tr != NULL; tr = tr->tr_next, n++) {
		bool created = tr->tr_sess.cs_created;

		if (head->tr_json && n > 0)
			fputc(',', o);
		else if (!head->tr_json && !head->tr_folded)
			fprintf(o, "%spid %d (%s):\n", n > 0 ? "\n" : "",
			    (int)tr->tr_pid, tr->tr_pcmd);
		tr->tr_cmd = tr->tr_pcmd;	/* --json's "command" */
		total += trace_print(tr, tr->tr_pid, created && have_status,
		    created ? status : 0);
		tr->tr_cmd = NULL;
	}
	if (head->tr_json)
		fprintf(o, "],\"total\":%llu}\n", total);
	else if (!head->tr_folded)
		fprintf(o, "\ntotal: %llu hit%s in %d processes\n", total,
		    total == 1 ? "" : "s", n);
}
