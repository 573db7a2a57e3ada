/*
 * trace_time.c - the calls in progress per thread, and `dtproc trace
 * --time`, `--hist` and `--svg`.  A call is an entry site and the return
 * site of one function (trace_fp.c arms both, with one callback); each
 * return's firing carries its entry's time: a call's time is dh_time -
 * dh_entry_time (the control thread's at a stop; a return recorded
 * without a stop has the thread's own clock: DTPROC_FP_NOSTOP).  A call's
 * samples are its return site's (ts_x), summed per function in the table.
 *
 * Calls in progress.  Each thread has a stack of its calls whose return
 * is traced (the only per-thread record of them: times, callees, our
 * callbacks' share, --where's verdict at the entry); a return is matched
 * to its entry by the function and the entry's time, searched from the
 * top, and the frames above it are dropped (calls that never returned:
 * longjmp, an exception; the library counts them as unwound).  A frame
 * sums its callees' measured times, so the self time is its own less
 * theirs, whether or not --where let the callees be timed.  dh_depth
 * resynchronises the stack at an entry: frames the library no longer has
 * pending are gone.  -e's indentation is the library's dh_depth.
 *
 * Calibration.  A probed call pays for a stop or two that the function
 * did not ask for.  Of each stop, the time from its timestamp to the
 * thread's resume is ours (registers, callbacks: -e's printing, -U's
 * stack walk; a return site armed): the library sums it per thread
 * (dh_held), and a call's time less the difference of its return's and
 * its entry's dh_held is free of it, exactly, whatever it was.  What is
 * left of the stops is the kernel's: the stop reported to us, the thread
 * resumed.  A call's measured time holds the part of its entry stop
 * after the resume and the part of its return stop before the
 * timestamp (x_call); its caller's time holds the whole of both stops
 * (x_call + x_callee).  So
 * a call's own time is its measure less x_call, less x_call + x_callee
 * for each traced call returned below it; its self time is its self
 * measure less x_call, less x_callee per traced callee.  Both are
 * clamped at 0 and the report says so.  They are measured at start-up
 * on a helper of our own, not on the victim (whose functions we cannot
 * call, and whose first calls of anything may be slow for reasons of
 * their own: page faults, lazy binding): this program run again as
 * `dtproc trace --calibration-helper`, which calls an empty function
 * and a function calling an empty one, CAL_ROUNDS times each, probed as
 * the victim's functions are.  x_call is the mean time of the empty
 * one; x_callee the mean of the caller's self measure less x_call, each
 * measured less the helper's dh_held as the run's are, each without its
 * slowest 5% (tx_cal_mean: means, since the subtractions add up; the
 * slowest left out, a preemption or two).  The figure is this machine's,
 * at start-up, on the same path (a trampoline's trap, or an int3); the
 * kernel's part grows with the load (wake-ups wait for a CPU; in a VM
 * an idle virtual CPU takes long to wake), which the helper's figure
 * does not follow.
 *
 * The victim's clock.  Where the entry and the return were both stopped
 * at patched sites, the library gives the victim's own clock at each
 * trap and the whole cost of the thread's stops as that clock saw them
 * (dh_vtime, dh_vheld): the call's time with every stop taken out,
 * whatever the load.  What is left (the gate's work around its clock
 * readings) is calibrated the same way on the helper (x_vcall,
 * x_vcallee).  A caller timed so has its callees timed at int3 sites
 * calibrated as above.  A caller whose return stopped at an int3 site
 * is timed from the victim's clock at its entry to ours at its return,
 * the stops between taken out by the victim's sum (tx_vhalf).
 * Self times are the totals less the callees' totals.
 */
#include "trace_time.h"

#include <errno.h>
#include <limits.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CAL_ROUNDS	1000	/* calls of each calibration function */
#define CAL_SKIP	50	/* the first ones: warming up */
#define CAL_TRIM	20	/* 1/20th, the slowest, left out of a mean */

bool
tx_wanted(const trace_t *tr)
{
	return tr->tr_time || tr->tr_hist || tr->tr_events;
}

/* The hits table stays for -U's stacks and for offset probes' counts,
 * which a table of calls has no line for. */
bool
tx_replaces_table(const trace_t *tr)
{
	if (!(tr->tr_time || tr->tr_hist) || tr->tr_ustack)
		return false;
	for (int i = 0; i < tr->tr_nprobes; i++)
		if (tr->tr_probes[i].tp_desc.dd_kinds & DTPROC_FP_OFFSET)
			return false;
	return true;
}

int
tx_open(trace_t *tr)
{
	if ((tr->tr_x = calloc(1, sizeof (tx_t))) == NULL) {
		fprintf(stderr, "%s: trace: out of memory\n", cli_progname);
		return -1;
	}
	if (tr->tr_svg != NULL &&
	    (tr->tr_x->x_svg = fopen(tr->tr_svg, "we")) == NULL) {
		fprintf(stderr, "%s: trace: --svg %s: %s\n", cli_progname,
		    tr->tr_svg, strerror(errno));
		return -1;
	}
	return 0;
}

static uint64_t
tx_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* ---------------------------------------------------------- calibration */

/*
 * The helper's functions: kept out of line and unchanged by the
 * optimiser (noinline, noipa: no clone, no constant propagation), with
 * a few instructions so that the entry can be patched as an ordinary
 * function's is.
 */
__attribute__((noinline, noipa, used)) void
dtproc_cal_empty(void)
{
	__asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop" ::: "memory");
}

__attribute__((noinline, noipa, used)) void
dtproc_cal_parent(void)
{
	__asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop" ::: "memory");
	dtproc_cal_empty();
	__asm__ volatile("" ::: "memory");
}

int
tx_helper(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "--calibration-helper") != 0)
		return -1;
	for (int i = 0; i < CAL_ROUNDS; i++) {
		dtproc_cal_empty();
		dtproc_cal_parent();
	}
	return 0;
}

/* A return whose call the victim's clock timed (dtproc(3), dh_vtime). */
static bool
tx_vknown(const dtproc_hit_t *h)
{
	return h->dh_kind == DTPROC_HIT_RETURN && h->dh_vtime != 0 &&
	    h->dh_entry_vtime != 0 && h->dh_vtime >= h->dh_entry_vtime &&
	    h->dh_vheld >= h->dh_entry_vheld;
}

/*
 * A return at an int3 site, its entry at a patched one: the victim's
 * clock at the entry and the stops' sum at both (dh_vheld), but no clock
 * at the return's trap.
 */
static bool
tx_vhalf(const dtproc_hit_t *h)
{
	return h->dh_kind == DTPROC_HIT_RETURN && h->dh_vtime == 0 &&
	    h->dh_entry_vtime != 0 && h->dh_vheld != 0 &&
	    h->dh_time >= h->dh_entry_vtime &&
	    h->dh_vheld >= h->dh_entry_vheld;
}

/* Its time by that clock, every stop between taken out. */
static uint64_t
tx_vraw(const dtproc_hit_t *h)
{
	return tx_sub(h->dh_vtime - h->dh_entry_vtime,
	    h->dh_vheld - h->dh_entry_vheld);
}

typedef struct tx_cal {
	uintptr_t xc_empty, xc_parent;
	uint64_t xc_child;		/* the last empty call's time */
	uint64_t xc_vchild;		/* the same by the victim's clock */
	uint64_t xc_ve[CAL_ROUNDS * 2];	/* xc_e, xc_p by the victim's clock */
	uint64_t xc_vp[CAL_ROUNDS];
	int xc_nve, xc_nvp;
	uint64_t xc_held[2];		/* dh_held at the empty one's and
					   the parent's entry */
	bool xc_in_parent;
	uint64_t xc_e[CAL_ROUNDS * 2];	/* empty calls (alone and child) */
	uint64_t xc_p[CAL_ROUNDS];	/* parents' self measures */
	int xc_ne, xc_np;
} tx_cal_t;

static void
tx_cal_hit(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_hit_t *h,
    void *arg)
{
	tx_cal_t *c = arg;
	uint64_t d;

	(void) dtp, (void) pr;
	if (h->dh_kind == DTPROC_HIT_ENTRY) {
		if (h->dh_func == c->xc_parent)
			c->xc_in_parent = true;
		c->xc_held[h->dh_func == c->xc_parent] = h->dh_held;
		return;
	}
	if (h->dh_kind != DTPROC_HIT_RETURN)
		return;
	if (tx_vknown(h)) {
		d = tx_vraw(h);
		if (h->dh_func == c->xc_empty) {
			if (!c->xc_in_parent && c->xc_nve < CAL_ROUNDS * 2)
				c->xc_ve[c->xc_nve++] = d;
			c->xc_vchild = d;
		} else if (c->xc_nvp < CAL_ROUNDS) {
			c->xc_vp[c->xc_nvp++] = tx_sub(d, c->xc_vchild);
		}
	}
	/* measured as a run's calls are: the time we held it taken off */
	d = tx_sub(h->dh_time - h->dh_entry_time, h->dh_held -
	    c->xc_held[h->dh_func == c->xc_parent]);
	if (h->dh_func == c->xc_empty) {
		/* only lone calls: a child's time is the parent's business */
		if (!c->xc_in_parent && c->xc_ne < CAL_ROUNDS * 2)
			c->xc_e[c->xc_ne++] = d;
		c->xc_child = d;
	} else if (c->xc_np < CAL_ROUNDS) {
		c->xc_p[c->xc_np++] = d > c->xc_child ? d - c->xc_child : 0;
		c->xc_in_parent = false;
	}
}

static int
tx_u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The mean of V less its slowest CAL_TRIM: a stop's cost is skewed (a
 * CPU woken from idle, the two threads on one CPU), and what is
 * subtracted adds up over many calls (a caller's self time less a
 * hundred callees'), so the mean is wanted, not the median, which falls
 * short by the skew times the calls; the slowest few (a preemption) are
 * left out as the calls of a quiet run would not have them.
 */
static uint64_t
tx_cal_mean(uint64_t *v, int n)
{
	uint64_t sum = 0;
	int m;

	if (n > CAL_SKIP * 2) {		/* the warm-up left out */
		v += CAL_SKIP;
		n -= CAL_SKIP;
	}
	qsort(v, (size_t)n, sizeof (*v), tx_u64cmp);
	m = n - n / CAL_TRIM;
	for (int i = 0; i < m; i++)
		sum += v[i];
	return m > 0 ? sum / (uint64_t)m : 0;
}

/* Run the helper, probed: 0, or -1 with x_cal_why set. */
static int
tx_cal_run(tx_t *x, tx_cal_t *c, int retflags)
{
	char self[PATH_MAX];
	char *argv[] = { "dtproc", "trace", "--calibration-helper", NULL };
	ssize_t n = readlink("/proc/self/exe", self, sizeof (self) - 1);
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	dtproc_sym_t se, sp;
	int err = 0, rv = -1;

	if (n <= 0) {
		snprintf(x->x_cal_why, sizeof (x->x_cal_why),
		    "/proc/self/exe: %s", strerror(errno));
		return -1;
	}
	self[n] = '\0';
	if ((dtp = dtproc_open(0, &err)) == NULL) {
		snprintf(x->x_cal_why, sizeof (x->x_cal_why), "%s",
		    dtproc_strerror(err));
		return -1;
	}
	if ((pr = dtproc_create(dtp, self, argv, DTPROC_STOP_PREINIT)) ==
	    NULL) {
		snprintf(x->x_cal_why, sizeof (x->x_cal_why), "%s",
		    dtproc_errmsg(dtp));
		dtproc_close(dtp);
		return -1;
	}
	if (dtproc_sym_lookup(dtp, pr, "dtproc_cal_empty", &se) != 0 ||
	    dtproc_sym_lookup(dtp, pr, "dtproc_cal_parent", &sp) != 0 ||
	    dtproc_fprobe_add(dtp, pr, se.ds_addr, 0, DTPROC_FP_ENTRY |
	    retflags, tx_cal_hit, c) != 0 ||
	    dtproc_fprobe_add(dtp, pr, sp.ds_addr, 0, DTPROC_FP_ENTRY |
	    retflags, tx_cal_hit, c) != 0) {
		snprintf(x->x_cal_why, sizeof (x->x_cal_why), "%s",
		    dtproc_errmsg(dtp));
		goto out;
	}
	c->xc_empty = se.ds_addr;
	c->xc_parent = sp.ds_addr;
	dtproc_continue(dtp, pr);
	/* until it exits (a notice wakes the sleep), 20 s at most */
	for (int i = 0; i < 200; i++) {
		int st = dtproc_state(dtp, pr);

		if (st == DTPROC_PS_DEAD || st == DTPROC_PS_LOST)
			break;
		(void) dtproc_sleep(dtp, 100);
	}
	dtproc_lock(dtp, pr);
	if (c->xc_ne < CAL_ROUNDS / 2 || c->xc_np < CAL_ROUNDS / 2)
		snprintf(x->x_cal_why, sizeof (x->x_cal_why), "the helper "
		    "made %d and %d measured calls of %d", c->xc_ne, c->xc_np,
		    CAL_ROUNDS);
	else
		rv = 0;
	dtproc_unlock(dtp, pr);
out:
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	return rv;
}

void
tx_calibrate(trace_t *tr)
{
	tx_t *x = tr->tr_x;
	tx_cal_t *c = calloc(1, sizeof (*c));
	uint64_t call, self;

	if (c == NULL) {
		snprintf(x->x_cal_why, sizeof (x->x_cal_why), "out of memory");
	} else if (tx_cal_run(x, c, DTPROC_FP_RETURN |
	    (trace_fp_nostop_ok(tr) ? DTPROC_FP_NOSTOP : 0)) == 0) {
		call = tx_cal_mean(c->xc_e, c->xc_ne);
		self = tx_cal_mean(c->xc_p, c->xc_np);
		x->x_call = call;
		x->x_callee = self > call ? self - call : 0;
		if (c->xc_nve >= CAL_ROUNDS / 2 && c->xc_nvp >= CAL_ROUNDS / 2) {
			call = tx_cal_mean(c->xc_ve, c->xc_nve);
			self = tx_cal_mean(c->xc_vp, c->xc_nvp);
			x->x_vcall = call;
			x->x_vcallee = tx_sub(self, call);
			x->x_vcal = true;
		}
	}
	free(c);
	if (x->x_cal_why[0] != '\0')
		fprintf(stderr, "%s: warning: cannot calibrate (%s): times "
		    "include the cost of the probes\n", cli_progname,
		    x->x_cal_why);
}

/* ---------------------------------------------------------- calls */

tx_site_t *
tx_site(trace_site_t *s)
{
	if (s->ts_x == NULL && (s->ts_x = calloc(1, sizeof (tx_site_t))) !=
	    NULL)
		s->ts_x->xs_nparams = -1;
	return s->ts_x;
}

static int
tx_thread_cmp(const void *a, const void *b)
{
	pid_t x = ((const tx_thread_t *)a)->xt_tid;
	pid_t y = ((const tx_thread_t *)b)->xt_tid;

	return x < y ? -1 : x > y;
}

tx_thread_t *
tx_thread(tx_t *x, pid_t tid)
{
	tx_thread_t key = { .xt_tid = tid }, *t;
	void **n = tfind(&key, &x->x_threads, tx_thread_cmp);

	if (n != NULL)
		return *n;
	if ((t = calloc(1, sizeof (*t))) == NULL)
		return NULL;
	t->xt_tid = tid;
	if (tsearch(t, &x->x_threads, tx_thread_cmp) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
tx_call_entry(tx_thread_t *t, const dtproc_hit_t *h, int verdict)
{
	tx_frame_t *f;

	/* frames the library no longer has pending never return */
	if (h->dh_depth >= 1 && h->dh_depth - 1 < t->xt_n)
		t->xt_n = h->dh_depth - 1;
	if (t->xt_n == t->xt_cap) {
		int cap = t->xt_cap ? t->xt_cap * 2 : 16;
		tx_frame_t *v = realloc(t->xt_f, (size_t)cap * sizeof (*v));

		if (v == NULL)
			return;
		t->xt_f = v;
		t->xt_cap = cap;
	}
	f = &t->xt_f[t->xt_n++];
	memset(f, 0, sizeof (*f));
	f->xf_func = h->dh_func;
	f->xf_entry = h->dh_time;
	f->xf_verdict = verdict;
	f->xf_held0 = h->dh_held;
}

int
tx_call_find(const tx_thread_t *t, const dtproc_hit_t *h)
{
	int i = t->xt_n - 1;

	while (i >= 0 && (t->xt_f[i].xf_func != h->dh_func ||
	    t->xt_f[i].xf_entry != h->dh_entry_time))
		i--;
	return i;
}

uint64_t
tx_call_return(tx_t *x, tx_thread_t *t, int i, trace_site_t *s,
    const dtproc_hit_t *h, bool timed)
{
	tx_site_t *xs = timed ? tx_site(s) : NULL;
	uint64_t raw = tx_sub(h->dh_time, h->dh_entry_time), total, self;
	/* by the victim's clock where it was read, and calibrated for it */
	bool v = tx_vknown(h) && x->x_vcal;
	/*
	 * A caller whose return stopped at an int3 site: from the victim's
	 * clock at the entry to ours at the return (one wake-up of ours
	 * left in), every stop between taken out by the victim's clock, its
	 * callees' many stops above all.  Not for a call without callees:
	 * calibrated as a whole, its two stops are nearer.
	 */
	bool half = !v && x->x_vcal && i >= 0 && t->xt_f[i].xf_ndesc > 0 &&
	    tx_vhalf(h);
	bool vm = v || half;	/* measured by the victim's clock */
	uint64_t call = vm ? x->x_vcall : x->x_call;

	if (v)
		raw = tx_vraw(h);
	else if (half)
		raw = tx_sub(h->dh_time - h->dh_entry_vtime,
		    h->dh_vheld - h->dh_entry_vheld);
	x->x_ncalls++;
	x->x_nvcalls += vm;
	if (i < 0) {
		/* its entry was not ours to see: no callees known */
		if (timed)
			x->x_orphans++;
		total = self = tx_sub(raw, call);
	} else {
		tx_frame_t *f = &t->xt_f[i];
		/*
		 * What the stops of the calls returned below it left in its
		 * time: by the victim's clock, the residue of each one timed
		 * so too, and the kernel's part of each other (int3 sites);
		 * by ours (the time we held it taken off), the kernel's part
		 * of each.  Its self time: that less its callees' times.
		 */
		uint64_t nv = vm ? f->xf_ndesc_v : 0;

		/* the time we held it stopped meanwhile is not its */
		if (!vm)
			raw = tx_sub(raw, tx_sub(h->dh_held, f->xf_held0));
		total = tx_sub(raw, call + nv * (x->x_vcall + x->x_vcallee) +
		    (f->xf_ndesc - nv) * (x->x_call + x->x_callee));
		self = tx_sub(total, f->xf_kids);
		/* a callee filtered out is still not its caller's self */
		if (i > 0) {
			tx_frame_t *p = &t->xt_f[i - 1];

			p->xf_kids += total;
			p->xf_ndesc += 1 + f->xf_ndesc;
			p->xf_ndesc_v += v + f->xf_ndesc_v;
		}
		t->xt_n = i;	/* and what was above it never returns */
	}
	if (xs != NULL) {
		cli_dist_add(&xs->xs_dist, total);
		xs->xs_self += self;
	}
	return total;
}

void
tx_retire(trace_site_t *r, trace_site_t *s)
{
	tx_site_t *a = r->ts_x, *b = s->ts_x;

	if (b == NULL)
		return;
	if (a == NULL) {
		r->ts_x = b;
		s->ts_x = NULL;
		return;
	}
	cli_dist_merge(&a->xs_dist, &b->xs_dist);
	a->xs_self += b->xs_self;
}

void
tx_site_free(trace_site_t *s)
{
	if (s->ts_x == NULL)
		return;
	cli_dist_free(&s->ts_x->xs_dist);
	free(s->ts_x);
	s->ts_x = NULL;
}

static void
tx_thread_free(void *p)
{
	tx_thread_t *t = p;

	free(t->xt_f);
	free(t);
}

void
tx_free(trace_t *tr)
{
	if (tr->tr_x == NULL)
		return;
	tdestroy(tr->tr_x->x_threads, tx_thread_free);
	if (tr->tr_x->x_svg != NULL)
		fclose(tr->tr_x->x_svg);
	free(tr->tr_x);
	tr->tr_x = NULL;
}

/* ---------------------------------------------------------- reports */

/* One function's line: its sites' measures summed. */
typedef struct tx_line {
	const trace_site_t *xl_s;	/* the first site: names */
	cli_dist_t xl_dist;
	uint64_t xl_self, xl_entries, xl_unwound, xl_overflow;
} tx_line_t;

static bool
tx_same(const trace_site_t *a, const trace_site_t *b)
{
	return a->ts_off == b->ts_off && strcmp(a->ts_obj, b->ts_obj) == 0 &&
	    strcmp(a->ts_func, b->ts_func) == 0;
}

static int
tx_line_cmp(const void *a, const void *b)
{
	const tx_line_t *x = a, *y = b;
	int c;

	if (x->xl_dist.cd_sum != y->xl_dist.cd_sum)
		return x->xl_dist.cd_sum > y->xl_dist.cd_sum ? -1 : 1;
	if (x->xl_entries != y->xl_entries)
		return x->xl_entries > y->xl_entries ? -1 : 1;
	if ((c = strcmp(x->xl_s->ts_obj, y->xl_s->ts_obj)) != 0)
		return c;
	return strcmp(x->xl_s->ts_func, y->xl_s->ts_func);
}

/* The lines of the functions entered at least once, most time first. */
static tx_line_t *
tx_lines(trace_t *tr, size_t *np)
{
	size_t n = 0;
	tx_line_t *l = calloc(tr->tr_nsites + 1, sizeof (*l));

	for (trace_site_t *s = tr->tr_all; l != NULL && s != NULL;
	    s = s->ts_all) {
		size_t i;

		/* a function's line: its entry and return sites */
		if (s->ts_kind == DTPROC_FP_OFFSET || s->ts_x == NULL ||
		    (s->ts_hits == 0 && s->ts_x->xs_dist.cd_n == 0))
			continue;
		for (i = 0; i < n && !tx_same(l[i].xl_s, s); i++)
			;
		if (i == n) {
			if (n == tr->tr_nsites + 1)
				break;
			l[n++].xl_s = s;
		}
		cli_dist_merge(&l[i].xl_dist, &s->ts_x->xs_dist);
		l[i].xl_self += s->ts_x->xs_self;
		if (s->ts_kind == DTPROC_FP_ENTRY)
			l[i].xl_entries += s->ts_hits;
		l[i].xl_unwound += s->ts_unwound;
		l[i].xl_overflow += s->ts_overflow;
	}
	if (l != NULL)
		qsort(l, n, sizeof (*l), tx_line_cmp);
	*np = n;
	return l;
}

static void
tx_lines_free(tx_line_t *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cli_dist_free(&l[i].xl_dist);
	free(l);
}

/* obj`func, "obj`strlen (__strlen_evex)" for an IFUNC. */
static void
tx_label(const trace_site_t *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s`%s%s%s%s", s->ts_obj, s->ts_func,
	    s->ts_impl != NULL ? " (" : "", s->ts_impl != NULL ?
	    s->ts_impl : "", s->ts_impl != NULL ? ")" : "");
}

static double
tx_us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void
tx_print_cal(trace_t *tr, FILE *o)
{
	tx_t *x = tr->tr_x;

	if (x->x_cal_why[0] != '\0')
		fprintf(o, "calibration: none (%s): times include the cost "
		    "of the probes\n", x->x_cal_why);
	else
		fprintf(o, "calibration: a probed call costs %.1f us, and "
		    "%.1f us more in its caller's time; subtracted below "
		    "(clamped at 0)\n", tx_us(x->x_call), tx_us(x->x_callee));
	if (x->x_nvcalls > 0)
		fprintf(o, "victim's clock: %llu of %llu calls timed by it, "
		    "every stop's whole cost taken out (%.1f us and %.1f "
		    "us left, calibrated); the rest as above\n",
		    x->x_nvcalls, x->x_ncalls, tx_us(x->x_vcall),
		    tx_us(x->x_vcallee));
	else
		fprintf(o, "victim's clock: not read (int3 sites, or the "
		    "clock unreadable in the process)\n");
}

static void
tx_print_text(trace_t *tr, tx_line_t *l, size_t n)
{
	FILE *o = tr->tr_out;
	uint64_t unwound = 0, overflow = 0;
	char name[600];

	tx_print_cal(tr, o);
	if (tr->tr_time) {
		fprintf(o, "%10s %12s %12s %11s %11s %11s %11s %11s  %s\n",
		    "CALLS", "TOTAL(us)", "SELF(us)", "AVG(us)", "MIN(us)",
		    "MAX(us)", "P50(us)", "P99(us)", "FUNCTION");
		for (size_t i = 0; i < n; i++) {
			const cli_dist_t *d = &l[i].xl_dist;

			tx_label(l[i].xl_s, name, sizeof (name));
			fprintf(o, "%10llu %12.3f %12.3f %11.3f %11.3f %11.3f "
			    "%11.3f %11.3f  %s\n", (unsigned long long)d->cd_n,
			    tx_us(d->cd_sum), tx_us(l[i].xl_self),
			    d->cd_n ? tx_us(d->cd_sum) / (double)d->cd_n : 0,
			    tx_us(d->cd_min), tx_us(d->cd_max),
			    tx_us(cli_dist_quantile(d, 0.5)),
			    tx_us(cli_dist_quantile(d, 0.99)), name);
		}
	}
	for (size_t i = 0; tr->tr_hist && i < n; i++) {
		uint64_t c[65];

		tx_label(l[i].xl_s, name, sizeof (name));
		fprintf(o, "\n  %s (ns)\n\n", name);
		cli_dist_log2(&l[i].xl_dist, c);
		cli_hist_print(o, c);
	}
	for (size_t i = 0; i < n; i++) {
		unwound += l[i].xl_unwound;
		overflow += l[i].xl_overflow;
	}
	if (unwound > 0 || overflow > 0)
		fprintf(o, "dtproc: %llu call%s never returned (longjmp, an "
		    "exception, a thread's end...) and %llu went deeper than "
		    "%d: not timed\n", (unsigned long long)unwound,
		    unwound == 1 ? "" : "s", (unsigned long long)overflow,
		    DTPROC_FP_DEPTH);
}

/* --json's members: "calibration":{...},"functions":[...]. */
static void
tx_print_json(trace_t *tr, tx_line_t *l, size_t n)
{
	FILE *o = tr->tr_out;
	tx_t *x = tr->tr_x;

	fprintf(o, "\"calibration\":{\"call_ns\":%llu,\"callee_ns\":%llu,"
	    "\"calls\":%llu,\"victim_calls\":%llu,\"error\":",
	    (unsigned long long)x->x_call, (unsigned long long)x->x_callee,
	    x->x_ncalls, x->x_nvcalls);
	if (x->x_cal_why[0] != '\0')
		cli_json_str(o, x->x_cal_why);
	else
		fprintf(o, "null");
	fprintf(o, "},\"functions\":[");
	for (size_t i = 0; i < n; i++) {
		const cli_dist_t *d = &l[i].xl_dist;
		const trace_site_t *s = l[i].xl_s;

		fprintf(o, "%s{\"object\":", i ? "," : "");
		cli_json_str(o, s->ts_obj);
		fprintf(o, ",\"function\":");
		cli_json_str(o, s->ts_func);
		if (s->ts_impl != NULL) {
			fprintf(o, ",\"implementation\":");
			cli_json_str(o, s->ts_impl);
		}
		fprintf(o, ",\"entries\":%llu,\"calls\":%llu,\"total_ns\":%llu,"
		    "\"self_ns\":%llu,\"avg_ns\":%llu,\"min_ns\":%llu,"
		    "\"max_ns\":%llu,\"p50_ns\":%llu,\"p99_ns\":%llu,"
		    "\"unwound\":%llu,\"overflow\":%llu",
		    (unsigned long long)l[i].xl_entries,
		    (unsigned long long)d->cd_n,
		    (unsigned long long)d->cd_sum,
		    (unsigned long long)l[i].xl_self,
		    (unsigned long long)(d->cd_n ? d->cd_sum / d->cd_n : 0),
		    (unsigned long long)d->cd_min,
		    (unsigned long long)d->cd_max,
		    (unsigned long long)cli_dist_quantile(d, 0.5),
		    (unsigned long long)cli_dist_quantile(d, 0.99),
		    (unsigned long long)l[i].xl_unwound,
		    (unsigned long long)l[i].xl_overflow);
		if (tr->tr_hist) {
			uint64_t c[65];
			bool first = true;

			cli_dist_log2(d, c);
			fprintf(o, ",\"hist\":[");
			for (int b = 0; b < 65; b++) {
				if (c[b] == 0)
					continue;
				fprintf(o, "%s{\"value\":%llu,\"count\":%llu}",
				    first ? "" : ",", b == 0 ? 0ULL :
				    1ULL << (b - 1), (unsigned long long)c[b]);
				first = false;
			}
			fprintf(o, "]");
		}
		fprintf(o, "}");
	}
	fprintf(o, "]");
}

unsigned long long
tx_calls(trace_t *tr)
{
	size_t n = 0;
	tx_line_t *l = tx_lines(tr, &n);
	unsigned long long calls = 0;

	for (size_t i = 0; l != NULL && i < n; i++)
		calls += l[i].xl_entries;
	if (l != NULL)
		tx_lines_free(l, n);
	return calls;
}

void
tx_print(trace_t *tr)
{
	size_t n = 0;
	tx_line_t *l;

	if (!tr->tr_time && !tr->tr_hist)
		return;
	if ((l = tx_lines(tr, &n)) == NULL)
		return;
	if (tr->tr_json)
		tx_print_json(tr, l, n);
	else
		tx_print_text(tr, l, n);
	tx_lines_free(l, n);
}

/*
 * A frame as the flame graph names it: its function, the offset cut
 * ("obj`work+0x26" is "obj`work"), so that the calls of one function
 * from one caller are one box whichever call site they came through.
 * New memory (NULL: the frame is named "?").
 */
static char *
tx_frame_fn(const char *name)
{
	const char *plus;

	if (name == NULL)
		return NULL;
	plus = strstr(name, "+0x");
	while (plus != NULL && strstr(plus + 1, "+0x") != NULL)
		plus = strstr(plus + 1, "+0x");
	if (plus != NULL && plus[3] != '\0' &&
	    strspn(plus + 3, "0123456789abcdef") == strlen(plus + 3))
		return strndup(name, (size_t)(plus - name));
	return strdup(name);
}

int
tx_svg(trace_t *tr)
{
	FILE *f = tr->tr_x != NULL ? tr->tr_x->x_svg : NULL;
	cli_flame_t *fg;
	const char **v = NULL;
	int cap = 0, rv = 0;
	char title[256];

	if (f == NULL)
		return 0;
	if ((fg = cli_flame_new()) == NULL)
		rv = -1;
	/* every site's stacks, outermost frame first */
	for (trace_site_t *s = tr->tr_all; rv == 0 && s != NULL;
	    s = s->ts_all) {
		for (trace_stack_t *k = s->ts_stacks; rv == 0 && k != NULL;
		    k = k->tk_next) {
			if (k->tk_depth > cap) {
				const char **nv = realloc(v,
				    (size_t)k->tk_depth * sizeof (*v));

				if (nv == NULL) {
					rv = -1;
					break;
				}
				v = nv;
				cap = k->tk_depth;
			}
			for (int i = 0; i < k->tk_depth; i++)
				v[i] = tx_frame_fn(k->tk_names[k->tk_depth -
				    1 - i]);
			rv = cli_flame_add(fg, v, k->tk_depth, k->tk_hits);
			for (int i = 0; i < k->tk_depth; i++)
				free((char *)v[i]);
		}
	}
	snprintf(title, sizeof (title), "dtproc trace: %s%s", tr->tr_nprobes ?
	    tr->tr_probes[0].tp_spec : "", tr->tr_nprobes > 1 ? " ..." : "");
	if (rv == 0)
		rv = cli_flame_write(fg, f, title, "calls");
	free(v);
	cli_flame_free(fg);
	if ((fclose(f) != 0 || rv != 0)) {
		fprintf(stderr, "%s: trace: cannot write %s: %s\n",
		    cli_progname, tr->tr_svg, rv != 0 && errno == 0 ?
		    "out of memory" : strerror(errno));
		rv = -1;
	}
	tr->tr_x->x_svg = NULL;
	return rv;
}
