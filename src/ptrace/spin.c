/*
 * spin.c - waiting for the next stop by polling a little first.
 *
 * On a machine where the tracer and the tracee end up on different CPUs
 * (the scheduler puts a woken task on an idle CPU, and ptrace's wake-ups
 * are not "sync"), every hit costs two cross-CPU wake-ups, each an IPI
 * and, in a VM, a halted vCPU woken: measured here, 50 us a hit against
 * 11 us when both share a CPU.  Polling waitpid(WNOHANG) for a few tens
 * of microseconds keeps the tracer awake for a stop that is about to
 * come, which saves one of the two (17 us a hit).  When both share a CPU
 * polling only delays the tracee, so it is never assumed: the owner
 * measures, per process, the time its blocking waits take with and
 * without polling over a few hundred stops, keeps what is faster for a
 * few thousand, and measures again.  Sparse stops (a mean wait over a
 * millisecond) are never polled for, nor is anything with one CPU.
 */
#include "pt_impl.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#define PT_SPIN_NS	30000L		/* poll for at most this long */
#define PT_SPIN_PROBE	128		/* stops measured per mode */
#define PT_SPIN_HOLD	4096		/* stops the choice is kept for */
#define PT_SPIN_DENSE	1000000L	/* mean wait that is worth it, ns */

static long
pt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int
pt_spin_possible(void)
{
	/* every control thread may ask first: the answer is the same */
	static _Atomic int ncpu = -1;
	cpu_set_t set;
	int n = atomic_load_explicit(&ncpu, memory_order_relaxed);

	if (n < 0) {
		n = sched_getaffinity(0, sizeof (set), &set) == 0 ?
		    CPU_COUNT(&set) : 1;
		atomic_store_explicit(&ncpu, n, memory_order_relaxed);
	}
	return n > 1;
}

/* Should this wait poll first? */
static bool
pt_spin_now(const pt_proc_t *P)
{
	const pt_spin_t *s = &P->pp_spin;

	switch (s->ps_phase) {
	case 0:
		return false;		/* measuring without */
	case 1:
		return true;		/* measuring with */
	default:
		return s->ps_on;
	}
}

static void
pt_spin_note(pt_proc_t *P, long ns)
{
	pt_spin_t *s = &P->pp_spin;

	if (s->ps_phase == 2) {
		if (--s->ps_left <= 0)
			s->ps_phase = 0, s->ps_n = 0, s->ps_sum[0] = 0,
			    s->ps_sum[1] = 0;
		return;
	}
	s->ps_sum[s->ps_phase] += ns;
	if (++s->ps_n < PT_SPIN_PROBE)
		return;
	s->ps_n = 0;
	if (s->ps_phase == 0 &&
	    s->ps_sum[0] / PT_SPIN_PROBE < PT_SPIN_DENSE) {
		s->ps_phase = 1;
		return;
	}
	/* polling must win clearly: it costs a CPU meanwhile */
	s->ps_on = s->ps_phase == 1 && s->ps_sum[1] * 5 < s->ps_sum[0] * 4;
	s->ps_phase = 2;
	s->ps_left = PT_SPIN_HOLD;
}

/*
 * pt_collect(1), polling first when that pays: 1 (a stop was
 * dispatched), or -errno as pt_collect.
 */
int
pt_collect_wait(pt_proc_t *P)
{
	long t0;
	int r, status;

	if (!pt_spin_possible())
		return pt_collect(1);
	t0 = pt_now_ns();
	if (pt_spin_now(P)) {
		for (;;) {
			pid_t tid = waitpid(-1, &status,
			    __WALL | __WNOTHREAD | WNOHANG);

			if (tid < 0)
				return -errno;
			if (tid > 0) {
				pt_redispatch(tid, status);
				pt_spin_note(P, pt_now_ns() - t0);
				return 1;
			}
			if (P->pp_wake != NULL && pt_wake_pending(P->pp_wake))
				return -EINTR;
			if (pt_now_ns() - t0 > PT_SPIN_NS)
				break;
		}
	}
	r = pt_collect(1);
	if (r == 1)
		pt_spin_note(P, pt_now_ns() - t0);
	return r;
}
