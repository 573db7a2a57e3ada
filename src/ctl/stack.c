/*
 * stack.c - user stacks through a process handle: dtproc_stack,
 * dtproc_threads, dtproc_frame_name.
 *
 * Reading a thread's registers is a ptrace request, which only the
 * control thread may make, and only of a thread in a ptrace stop.  So:
 *  - called from a callback (we are the control thread, the lock held,
 *    the thread stopped at its breakpoint or event) the walk is done on
 *    the spot: no request, no stop.  Other threads may be running then,
 *    and stopping them would mean resuming the stopped one too, which
 *    the control loop has still to carry over its breakpoint; a running
 *    thread gives EBUSY.
 *  - called from a client thread, it is a CTL_STACK request.  At a
 *    rendezvous the process already rests, stopped; otherwise the control
 *    thread stops it (pt_stop: every thread, events met meanwhile queued)
 *    for the walk and resumes it at once: the choice of a brief stop over
 *    an error, since a profiler asks of running processes.
 * The walk itself (src/unwind/) reads memory with process_vm_readv and
 * keeps its Dwfl in dpr_unw, touched by the control thread only.
 */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ctl_stack {
	bool cs_threads;	/* list the threads, not a stack */
	bool cs_inline;		/* on the control thread, from a callback */
	pid_t cs_tid;		/* thread to walk */
	uintptr_t *cs_pcs;	/* its frames */
	pid_t *cs_tids;		/* or the threads */
	int cs_max;
} ctl_stack_t;

/* Is TID one of P's threads (known to the core)? */
static bool
ctl_stack_known(pt_proc_t *P, pid_t tid)
{
	pid_t tids[256], *t = tids;
	int n = pt_threads(P, tids, 256);
	bool found = false;

	if (n > 256 && (t = malloc(sizeof (*t) * (size_t)n)) != NULL)
		n = pt_threads(P, t, n);
	else if (n > 256)
		n = 256;
	for (int i = 0; i < n && !found; i++)
		found = t[i] == tid;
	if (t != tids)
		free(t);
	return found;
}

/* The walk's error, in the words of the caller's situation. */
static long
ctl_stack_walk(dtproc_proc_t *pr, ctl_stack_t *cs)
{
	pt_proc_t *P = pr->dpr_P;
	int n;

	if (pr->dpr_unw == NULL &&
	    (pr->dpr_unw = unw_proc_new(pr->dpr_pid)) == NULL)
		return err_set(ENOMEM, "pid %d: thread %d: out of memory",
		    (int)pr->dpr_pid, (int)cs->cs_tid);
	n = unw_stack(pr->dpr_unw, P, pr->dpr_sym, cs->cs_tid, cs->cs_pcs,
	    NULL, cs->cs_max);
	if (n == -EBUSY && cs->cs_inline)
		return err_set(EBUSY, "pid %d: thread %d is running: a callback "
		    "may stack only stopped threads", (int)pr->dpr_pid,
		    (int)cs->cs_tid);
	if (n < 0 && !pt_alive(P))
		return err_set(DTPROC_EDEAD, "pid %d: thread %d: process has "
		    "exited", (int)pr->dpr_pid, (int)cs->cs_tid);
	if ((n == -ESRCH || n == -EBUSY) && !cs->cs_inline &&
	    ctl_stack_known(P, cs->cs_tid))
		/* every thread was stopped but those past their exit event */
		return err_set(ESRCH, "pid %d: thread %d has exited",
		    (int)pr->dpr_pid, (int)cs->cs_tid);
	return n;
}

/* A CTL_STACK request, on the control thread, dpr_lock held. */
long
ctl_stack_serve(dtproc_proc_t *pr, void *arg)
{
	ctl_stack_t *cs = arg;
	pt_proc_t *P = pr->dpr_P;
	bool stop;
	long rv;

	if (P == NULL)
		return ctl_gone(pr, cs->cs_tid);
	if (cs->cs_threads)
		return pt_threads(P, cs->cs_tids, cs->cs_max);
	stop = !cs->cs_inline && !(pr->dpr_stop & CTL_STOP_IDLE);
	if (stop && (rv = pt_stop(P, PT_WHY_REQUESTED)) != 0) {
		if (!pt_alive(P))
			return err_set(DTPROC_EDEAD, "pid %d: thread %d: "
			    "process has exited", (int)pr->dpr_pid,
			    (int)cs->cs_tid);
		return rv < 0 ? rv : err_set(ESRCH, "pid %d: thread %d: "
		    "cannot stop the process", (int)pr->dpr_pid,
		    (int)cs->cs_tid);	/* else the core's reason stands */
	}
	rv = ctl_stack_walk(pr, cs);
	if (stop)
		(void) pt_resume(P);
	return rv;
}

/* A read-only handle: threads from /proc; registers cannot be read. */
static long
ctl_stack_rdonly(const dtproc_proc_t *pr, const ctl_stack_t *cs)
{
	int n;

	if (!cs->cs_threads)
		return err_set(EPERM, "pid %d: cannot read the registers of "
		    "thread %d: grabbed read-only", (int)pr->dpr_pid,
		    (int)cs->cs_tid);
	n = pt_tasks(pr->dpr_pid, cs->cs_tids, cs->cs_max);
	return n == -ESRCH ? ctl_gone(pr, 0) : n;
}

/* Run CS on the control thread: inline from a callback, else requested. */
static long
ctl_stack_call(dtproc_proc_t *pr, ctl_stack_t *cs)
{
	ctl_req_t req = { .cr_op = CTL_STACK, .cr_arg = cs };
	bool took;
	long rv;

	ctl_enter(pr, &took);
	if (pr->dpr_rdonly)
		rv = ctl_stack_rdonly(pr, cs);
	else if (pr->dpr_done || pr->dpr_P == NULL)
		rv = ctl_gone(pr, cs->cs_tid);
	else if (pr->dpr_thread && pthread_equal(pr->dpr_tid, pthread_self())) {
		cs->cs_inline = true;
		rv = ctl_stack_serve(pr, cs);
	} else {
		rv = ctl_request(pr, &req);
	}
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_stack(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t *pcs,
    int max)
{
	ctl_stack_t cs = { .cs_tid = tid, .cs_pcs = pcs, .cs_max = max };

	(void) dtp;
	if (pcs == NULL || max <= 0)
		return err_set(EINVAL, "pid %d: thread %d: no room for frames",
		    (int)pr->dpr_pid, (int)tid);
	if (cs.cs_max > DTPROC_STACK_MAX)
		cs.cs_max = DTPROC_STACK_MAX;
	return (int)ctl_stack_call(pr, &cs);
}

DTPROC_API int
dtproc_threads(dtproc_t *dtp, dtproc_proc_t *pr, pid_t *tids, int max)
{
	ctl_stack_t cs = { .cs_threads = true, .cs_tids = tids,
	    .cs_max = max };

	(void) dtp;
	if (max < 0 || (tids == NULL && max > 0))
		return err_set(EINVAL, "pid %d: bad thread buffer",
		    (int)pr->dpr_pid);
	return (int)ctl_stack_call(pr, &cs);
}

DTPROC_API int
dtproc_frame_name(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t pc,
    int caller, char *buf, size_t len)
{
	bool took;
	int n;

	(void) dtp;
	ctl_enter(pr, &took);
	n = pr->dpr_sym == NULL ? ctl_gone(pr, 0) :
	    unw_frame_name(pr->dpr_sym, pc, caller, buf, len);
	ctl_leave(pr, took);
	return n;
}
