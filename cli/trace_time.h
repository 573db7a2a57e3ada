/*
 * trace_time.h - the records of trace_time.c (the per-thread calls in
 * progress, --time, --hist, the calibration) and trace_events.c (-e),
 * used by trace_fp.c's callback.  Touched on the control thread in the
 * function probes' callbacks (handle locked), by the main thread holding
 * the lock, or after the release.
 */
#ifndef DTPROC_CLI_TRACE_TIME_H
#define DTPROC_CLI_TRACE_TIME_H

#include "trace.h"
#include "view.h"

/* A site's measures (trace_site_t's ts_x). */
typedef struct tx_site {
	cli_dist_t xs_dist;	/* each call's time, calibrated, ns */
	uint64_t xs_self;	/* the sum of their self times, ns */
	int xs_nparams;		/* -e: DWARF's count; -1 not asked yet,
				   -2 none (raw arguments) */
	dtproc_param_t xs_params[DTPROC_HIT_NARGS];
	dtproc_param_t xs_ret;	/* the return type */
} tx_site_t;

/*
 * A call in progress on a thread: an entry whose return is traced too.
 * The one record of a thread's traced calls: the times (self, callees,
 * our callbacks' share) and --where's verdict at the entry.
 */
typedef struct tx_frame {
	uintptr_t xf_func;	/* dh_func */
	uint64_t xf_entry;	/* dh_time of its entry */
	int xf_verdict;		/* --where at the entry: 1, 0, -1 none */
	uint64_t xf_kids;	/* its traced callees' times (totals) */
	uint64_t xf_ndesc;	/* calls returned below it, at any depth */
	uint64_t xf_held0;	/* dh_held at its entry */
	uint64_t xf_ndesc_v;	/* of xf_ndesc, timed by the victim's clock */
} tx_frame_t;

typedef struct tx_thread {
	pid_t xt_tid;
	int xt_n, xt_cap;
	tx_frame_t *xt_f;	/* outermost first */
} tx_thread_t;

typedef struct tx {
	/*
	 * The calibration: a probed call's measured time, less the time
	 * the library held the thread stopped meanwhile (dh_held), exceeds
	 * its own by x_call (the kernel's part of its two stops: resuming
	 * the thread at the entry, reporting the return's stop), and each
	 * traced callee adds x_callee more to its caller's (the kernel's
	 * other part of those two stops).
	 */
	uint64_t x_call, x_callee;
	/*
	 * The same for calls timed by the victim's own clock (dh_vtime:
	 * every stop's whole cost taken out), what is left: the gate's
	 * work on either side of its clock readings.  x_vcal: measured.
	 */
	uint64_t x_vcall, x_vcallee;
	bool x_vcal;
	unsigned long long x_ncalls, x_nvcalls;	/* returns timed, by it */
	char x_cal_why[256];	/* why not calibrated; "" if it was */
	void *x_threads;	/* tx_thread_t by tid (tsearch) */
	FILE *x_svg;		/* --svg's file */
	unsigned long long x_orphans;	/* returns without their entry */
} tx_t;

/* S's measures (allocated when first asked), or NULL out of memory. */
tx_site_t *tx_site(trace_site_t *s);
/* Thread TID's calls in progress, or NULL out of memory. */
tx_thread_t *tx_thread(tx_t *x, pid_t tid);
/* An entry whose return is traced: its call begins (VERDICT kept). */
void tx_call_entry(tx_thread_t *t, const dtproc_hit_t *h, int verdict);
/* A return: its call's frame (index in xt_f), or -1 if not seen. */
int tx_call_find(const tx_thread_t *t, const dtproc_hit_t *h);
/*
 * The return H of S ends frame I (-1: none): the call's calibrated
 * time; with TIMED its time and self time are S's samples.
 */
uint64_t tx_call_return(tx_t *x, tx_thread_t *t, int i, trace_site_t *s,
    const dtproc_hit_t *h, bool timed);

/* trace_events.c: -e, one line for the firing H of S. */
void tx_event(trace_t *tr, dtproc_proc_t *pr, trace_site_t *s,
    const dtproc_hit_t *h, uint64_t dur);

#endif /* DTPROC_CLI_TRACE_TIME_H */
