/*
 * trace_time.h - the records of trace_time.c (--time, --hist, the
 * calibration, per-thread call stacks) and trace_events.c (-e), private
 * to those two.  Touched on the control thread in the function probes'
 * callbacks (handle locked), by the main thread holding the lock, or
 * after the release.
 */
#ifndef DTPROC_CLI_TRACE_TIME_H
#define DTPROC_CLI_TRACE_TIME_H

#include "trace.h"
#include "view.h"

/* A site's measures (trace_site_t's ts_x). */
typedef struct tx_site {
	cli_dist_t xs_dist;	/* each call's time, calibrated, ns */
	uint64_t xs_self;	/* the sum of their self times, ns */
	uint64_t xs_unwound;	/* entries that never returned (library) */
	uint64_t xs_overflow;	/* entries past DTPROC_FP_DEPTH */
	int xs_nparams;		/* -e: DWARF's count; -1 not asked yet,
				   -2 none (raw arguments) */
	dtproc_param_t xs_params[DTPROC_HIT_NARGS];
	dtproc_param_t xs_ret;	/* the return type */
} tx_site_t;

/* A call in progress on a thread: an entry whose return is awaited. */
typedef struct tx_frame {
	trace_site_t *xf_site;
	uint64_t xf_entry;	/* dh_time of its entry */
	uint64_t xf_kids_raw;	/* its traced callees' measured times */
	uint64_t xf_nkids;	/* how many callees returned */
	uint64_t xf_ndesc;	/* calls returned below it, at any depth */
	uint64_t xf_cb0;	/* the thread's xt_cb at its entry */
} tx_frame_t;

typedef struct tx_thread {
	pid_t xt_tid;
	int xt_n, xt_cap;
	uint64_t xt_cb;		/* time our callbacks held it stopped
				   beyond the calibration's, ns, summed */
	tx_frame_t *xt_f;	/* outermost first */
} tx_thread_t;

typedef struct tx {
	/*
	 * The calibration: a probed call's measured time exceeds its own by
	 * x_call (its entry stop's part after the timestamp, its return
	 * stop's before it), and each traced callee adds x_callee more to
	 * its caller's time (the rest of those two stops).
	 */
	uint64_t x_call, x_callee;
	uint64_t x_cb;		/* the calibration's callback: stop to end */
	char x_cal_why[256];	/* why not calibrated; "" if it was */
	void *x_threads;	/* tx_thread_t by tid (tsearch) */
	FILE *x_svg;		/* --svg's file */
	unsigned long long x_orphans;	/* returns without their entry */
} tx_t;

#endif /* DTPROC_CLI_TRACE_TIME_H */
