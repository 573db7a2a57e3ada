/*
 * stackbench - the in-process cost of user stacks, through the public
 * API (see bench/README.md, "bench/stack"):
 *
 *	stackbench PID ROUNDS
 *
 * 1. grab PID (it rests, stopped, at the GRAB rendezvous); ROUNDS times
 *    dtproc_stack every thread from this client thread (a request served
 *    by the control thread), then name every frame; prints per-stack and
 *    per-frame costs, medians over rounds.
 * 2. a breakpoint on stackvictim's hot(), continue, SIGUSR1: the victim
 *    calls hot() at depth 10 over and over; each hit's callback (control
 *    thread, thread stopped) calls dtproc_stack inline and times it: what
 *    a `dtproc trace -U` hit pays on top of the hit itself.
 * Output: "key value" lines.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "dtproc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXT	64
#define DEPTH	64
#define MAXHITS	100000

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof (*v), cmpd);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct hits {
	int n, frames, fails;
	double us[MAXHITS];
} hits_t;

static void
hit(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr, void *arg)
{
	hits_t *h = arg;
	uintptr_t pcs[DEPTH];
	double t0 = now_us();
	int n = dtproc_stack(dtp, pr, tid, pcs, DEPTH);
	double t1 = now_us();

	(void) addr;
	if (n < 0) {
		h->fails++;
		return;
	}
	if (h->n < MAXHITS) {
		h->us[h->n++] = t1 - t0;
		h->frames = n;
	}
}

int
main(int argc, char **argv)
{
	static hits_t h;
	pid_t pid, tids[MAXT];
	uintptr_t pcs[MAXT][DEPTH];
	int err, rounds, nt, frames = 0;
	double *st, *nm;
	char name[1024];
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	dtproc_sym_t hot;

	if (argc != 3)
		return 2;
	pid = atoi(argv[1]);
	rounds = atoi(argv[2]);
	if ((dtp = dtproc_open(0, &err)) == NULL ||
	    (pr = dtproc_grab(dtp, pid, 0)) == NULL) {
		fprintf(stderr, "stackbench: %s\n", dtp ? dtproc_errmsg(dtp) :
		    strerror(err));
		return 1;
	}
	nt = dtproc_threads(dtp, pr, tids, MAXT);
	if (nt <= 0 || nt > MAXT)
		return 1;
	st = calloc((size_t)rounds, sizeof (double));
	nm = calloc((size_t)rounds, sizeof (double));
	for (int r = 0; r < rounds; r++) {
		double t0 = now_us();
		int nf = 0;

		for (int i = 0; i < nt; i++) {
			int n = dtproc_stack(dtp, pr, tids[i], pcs[i], DEPTH);

			if (n < 0) {
				fprintf(stderr, "stackbench: %s\n",
				    dtproc_errmsg(dtp));
				return 1;
			}
			nf += n;
			pcs[i][DEPTH - 1] = (uintptr_t)n;
		}
		double t1 = now_us();
		for (int i = 0; i < nt; i++)
			for (int f = 0; f < (int)pcs[i][DEPTH - 1]; f++)
				(void) dtproc_frame_name(dtp, pr, pcs[i][f],
				    f > 0, name, sizeof (name));
		double t2 = now_us();
		st[r] = (t1 - t0) / nt;
		nm[r] = (t2 - t1) / nf;
		frames = nf;
	}
	printf("threads %d\n", nt);
	printf("frames %d\n", frames);
	printf("client_stack_us %.2f\n", median(st, rounds));
	printf("name_frame_us %.3f\n", median(nm, rounds));

	/* the breakpoint path: inline from the callback */
	if (dtproc_sym_lookup(dtp, pr, "a.out`hot", &hot) != 0 ||
	    dtproc_bkpt_add(dtp, pr, hot.ds_addr, hit, &h) != 0) {
		fprintf(stderr, "stackbench: %s\n", dtproc_errmsg(dtp));
		return 1;
	}
	dtproc_continue(dtp, pr);
	double t0 = now_us();
	kill(pid, SIGUSR1);
	for (int i = 0; i < 2000000 && __atomic_load_n(&h.n, __ATOMIC_RELAXED)
	    < 2000 && dtproc_state(dtp, pr) != DTPROC_PS_DEAD; i++) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);	/* a bench, not a test: just poll */
		if (now_us() - t0 > 60e6)
			break;
	}
	(void) dtproc_bkpt_del(dtp, pr, hot.ds_addr);
	dtproc_lock(dtp, pr);
	int n = h.n;
	printf("hits %d\n", n);
	printf("hit_frames %d\n", h.frames);
	printf("hit_fails %d\n", h.fails);
	printf("inline_stack_us %.2f\n", n > 0 ? median(h.us, n) : -1.0);
	dtproc_unlock(dtp, pr);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	return 0;
}
