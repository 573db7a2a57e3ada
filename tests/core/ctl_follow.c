/*
 * ctl_follow.c - dtproc_follow through the public API: fork children
 * handed over as handles of their own, resting unrun, armed in the
 * FOLLOW event and counted exactly; a vfork child taken at its exec, its
 * parent unharmed; without follow, no FOLLOW event and no handle.
 *
 * The victim (followv) calls fv_work a number of times known from its
 * arguments in every process, from its first instructions on: a count
 * is exact only if the child was armed before it ran.
 */
#include "ctlsupport.h"

#include <pthread.h>

#define KIDS_MAX 8

struct kids {
	pthread_mutex_t k_lock;
	int k_n;
	dtproc_proc_t *k_pr[KIDS_MAX];
	int k_rested[KIDS_MAX];		/* it rested when handed over */
	int k_armed[KIDS_MAX];		/* fv_work probed in it */
	uintptr_t k_fn[KIDS_MAX];
	int k_forks;			/* DTPROC_EV_FORK seen */
};

/* Index of the child whose pid is PID in K, or -1. */
static int
kid_of(struct kids *k, pid_t pid)
{
	for (int i = 0; i < k->k_n; i++)
		if (dtproc_pid(k->k_pr[i]) == pid)
			return i;
	return -1;
}

/*
 * The library is called with k_lock not held: a callback runs with its
 * handle locked, so holding ours across a call into another handle
 * would order the two locks both ways (the parent's thread and the
 * child's each call back).
 */
static void
follow_cb(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	struct kids *k = arg;
	dtproc_proc_t *c = ev->de_proc;
	dtproc_sym_t sym;
	uintptr_t fn = 0;
	int i, armed = 0, rested;

	if (ev->de_kind == DTPROC_EV_FORK) {
		(void) pthread_mutex_lock(&k->k_lock);
		k->k_forks++;
		(void) pthread_mutex_unlock(&k->k_lock);
	}
	/* a child's new image: its probes went with the old one */
	if (ev->de_kind == DTPROC_EV_EXEC) {
		(void) pthread_mutex_lock(&k->k_lock);
		i = kid_of(k, dtproc_pid(pr));
		(void) pthread_mutex_unlock(&k->k_lock);
		if (i >= 0 && dtproc_sym_lookup(dtp, pr, "a.out`fv_work",
		    &sym) == 0) {
			armed = dtproc_probe_add(dtp, pr, sym.ds_addr, 0,
			    NULL, NULL) == 0;
			(void) pthread_mutex_lock(&k->k_lock);
			k->k_fn[i] = sym.ds_addr;
			k->k_armed[i] = armed;
			(void) pthread_mutex_unlock(&k->k_lock);
		}
	}
	if (ev->de_kind != DTPROC_EV_FOLLOW || c == NULL)
		return;
	rested = dtproc_state(dtp, c) == DTPROC_PS_STOP &&
	    dtproc_pid(c) == ev->de_child;
	if (dtproc_sym_lookup(dtp, c, "a.out`fv_work", &sym) == 0) {
		fn = sym.ds_addr;
		armed = dtproc_probe_add(dtp, c, fn, 0, NULL, NULL) == 0;
	}
	(void) pthread_mutex_lock(&k->k_lock);
	if (k->k_n < KIDS_MAX) {
		i = k->k_n++;
		k->k_pr[i] = c;
		k->k_rested[i] = rested;
		k->k_fn[i] = fn;
		k->k_armed[i] = armed;
	}
	(void) pthread_mutex_unlock(&k->k_lock);
	dtproc_continue(dtp, c);
}

static uint64_t
hits(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t fn)
{
	dtproc_probe_info_t pi;

	CHECK_MSG(dtproc_probe_info(dtp, pr, fn, &pi) == 0, "probe_info: %s",
	    dtproc_errmsg(dtp));
	return pi.dpi_hits;
}

/* followv MODE N under follow: the parent's hits, each child's checked. */
static void
run_followed(const char *mode, const char *n, int nkids, const int *want,
    int parent_want)
{
	CTL_LOCALS;
	struct kids k = { .k_lock = PTHREAD_MUTEX_INITIALIZER };
	uintptr_t fn;

	pr = create_ok(dtp, "followv", (char *[]){ (char *)mode, (char *)n,
	    NULL }, DTPROC_STOP_MAIN, &v);
	fn = sym_addr(dtp, pr, "a.out`fv_work");
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, fn, 0, NULL, NULL), 0);
	dtproc_set_event(dtp, follow_cb, &k);
	CHECK_EQ_INT(dtproc_follow(dtp, pr, 1), 0);
	dtproc_continue(dtp, pr);
	for (int j = 0; j < nkids; j++) {
		pid_t cpid;
		int i, which;

		victim_expect(&v, line, sizeof (line), "child ");
		CHECK(sscanf(line, "child %d %d", &cpid, &which) == 2);
		CHECK(which >= 1 && which <= nkids);
		int rested = 0, armed = 0;
		dtproc_proc_t *kpr = NULL;

		(void) pthread_mutex_lock(&k.k_lock);
		if ((i = kid_of(&k, cpid)) >= 0) {
			rested = k.k_rested[i];
			armed = k.k_armed[i];
			kpr = k.k_pr[i];
		}
		(void) pthread_mutex_unlock(&k.k_lock);
		CHECK_MSG(i >= 0, "child %d: no FOLLOW event", (int)cpid);
		CHECK_MSG(rested, "child %d was not resting unrun", (int)cpid);
		CHECK_MSG(armed, "child %d: fv_work not probed", (int)cpid);
		CHECK_EXITED(wait_dead(dtp, kpr, &ns, 10000), 0);
		/* read after its death: an exec's re-arming is over */
		(void) pthread_mutex_lock(&k.k_lock);
		uintptr_t kfn = k.k_fn[i];
		(void) pthread_mutex_unlock(&k.k_lock);
		CHECK_EQ_INT((int)hits(dtp, kpr, kfn), want[which - 1]);
	}
	/* the parent's status says every child exited 0 (and for vfork,
	 * that its stack survived the child) */
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT((int)hits(dtp, pr, fn), parent_want);
	dtproc_proc_t *kids[KIDS_MAX];
	int nk;

	(void) pthread_mutex_lock(&k.k_lock);
	nk = k.k_n;
	memcpy(kids, k.k_pr, sizeof (kids));
	(void) pthread_mutex_unlock(&k.k_lock);
	CHECK_EQ_INT(nk, nkids);
	for (int i = 0; i < nk; i++)
		dtproc_release(dtp, kids[i]);
	dtproc_close(dtp);
}

TEST(ctl_follow_fork)
{
	/* child i calls fv_work i times, and exits */
	static const int want[] = { 1, 2, 3 };

	run_followed("fork", "3", 3, want, 10);
}

TEST(ctl_follow_exec)
{
	/* child i execs "followv work i" */
	static const int want[] = { 1, 2 };

	run_followed("exec", "2", 2, want, 10);
}

TEST(ctl_follow_vfork)
{
	static const int want[] = { 3 };

	run_followed("vfork", "1", 1, want, 15);
}

TEST(ctl_follow_off)
{
	CTL_LOCALS;
	struct kids k = { .k_lock = PTHREAD_MUTEX_INITIALIZER };
	uintptr_t fn;

	pr = create_ok(dtp, "followv", (char *[]){ "fork", "2", NULL },
	    DTPROC_STOP_MAIN, &v);
	fn = sym_addr(dtp, pr, "a.out`fv_work");
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, fn, 0, NULL, NULL), 0);
	dtproc_set_event(dtp, follow_cb, &k);
	/* on, then off again: as if never asked */
	CHECK_EQ_INT(dtproc_follow(dtp, pr, 1), 0);
	CHECK_EQ_INT(dtproc_follow(dtp, pr, 0), 0);
	dtproc_continue(dtp, pr);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT((int)hits(dtp, pr, fn), 10);
	(void) pthread_mutex_lock(&k.k_lock);
	int nk = k.k_n, forks = k.k_forks;
	(void) pthread_mutex_unlock(&k.k_lock);
	CHECK_EQ_INT(nk, 0);
	CHECK_EQ_INT(forks, 2);
	dtproc_close(dtp);
}
