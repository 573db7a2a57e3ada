/*
 * ret.c - the pending entries of return probes, per thread (probe.h).
 *
 * uretprobes and ltrace replace the return address on the stack with
 * one of theirs; that breaks whatever reads the stack (C++ exception
 * unwinding, Go's stack growth, stack walkers, longjmp checks).  We
 * write nothing: at an entry the caller notes (stack pointer, return
 * address, time) here and watches the return address with a site of
 * its own.  A hit there is a return of the newest entry noted with that
 * return address and the stack pointer ret leaves behind; any other
 * thread, or a recursion's outer call passing by, matches nothing.
 *
 * Calls that never return (longjmp, an exception unwinding past the
 * frame, a context switch away for good) leave entries behind.  Within
 * one stack region the newest entries have the lowest stack pointers;
 * a hit whose stack pointer is above an entry's in the same region
 * says that frame is gone.  An entry whose slot now holds another
 * return address (a new call at the same depth) is gone too, and so is
 * one of the very function entered again at its stack pointer and
 * return address: the same call made again from the same place after
 * the first was unwound (an exception caught by the caller's caller,
 * a longjmp back to a setjmp in it) leaves nothing else to tell them
 * apart, and a live call does not enter itself at its own stack
 * pointer but by a tail call to itself, whose frame is gone too.
 * Entries of one stack pointer and return address (a tail call: the
 * callee reuses its caller's return address) all return together.
 * Regions are the caller's to find; entries of other regions are left
 * alone, since a signal handler's sigaltstack or a coroutine's stack may
 * sit anywhere in memory relative to the thread's stack.
 *
 * Entries are kept oldest first in a growing array per thread, so the
 * common cases (a return of the newest, a push) touch its end only.
 */
#include "probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
prb_ret_init(prb_rets_t *rs)
{
	rs->rs_npend = 0;
	AHASH_INIT(&rs->rs_thr, prb_rthr_t, rt_tid, rt_next, 64);
}

prb_rthr_t *
prb_ret_thread(prb_rets_t *rs, pid_t tid, int create)
{
	prb_rthr_t *t = ahash_find(&rs->rs_thr, (uint32_t)tid);

	if (t != NULL || !create)
		return t;
	return ahash_new(&rs->rs_thr, sizeof (*t), (uint32_t)tid);
}

int
prb_ret_push(prb_rets_t *rs, prb_rthr_t *t, const prb_rpend_t *e, int max)
{
	if (t->rt_n >= max)
		return -ENOSPC;
	if (t->rt_n == t->rt_cap) {
		int cap = t->rt_cap ? t->rt_cap * 2 : 16;
		prb_rpend_t *p;

		if (cap > max)
			cap = max;
		if ((p = realloc(t->rt_pend, cap * sizeof (*p))) == NULL)
			return -ENOMEM;
		t->rt_pend = p;
		t->rt_cap = cap;
	}
	t->rt_pend[t->rt_n++] = *e;
	rs->rs_npend++;
	return 0;
}

static void
prb_ret_remove(prb_rets_t *rs, prb_rthr_t *t, int i)
{
	memmove(&t->rt_pend[i], &t->rt_pend[i + 1],
	    (size_t)(t->rt_n - i - 1) * sizeof (t->rt_pend[0]));
	t->rt_n--;
	rs->rs_npend--;
}

int
prb_ret_take(prb_rets_t *rs, prb_rthr_t *t, const prb_rhit_t *h,
    prb_rpend_t *out, int *returned, int max)
{
	int k = 0;

	for (int i = t->rt_n - 1; i >= 0 && k < max; i--) {
		const prb_rpend_t *e = &t->rt_pend[i];
		int ret;

		if (e->rp_sp < h->rh_lo || e->rp_sp >= h->rh_hi)
			continue;	/* another region: not ours to judge */
		ret = h->rh_pc != 0 && e->rp_ret == h->rh_pc &&
		    arch_ret_sp(e->rp_sp) == h->rh_sp;
		if (!ret && e->rp_sp >= h->rh_sp && !(h->rh_ra != 0 &&
		    e->rp_sp == h->rh_sp && (e->rp_ret != h->rh_ra ||
		    (h->rh_what != NULL && e->rp_what == h->rh_what))))
			break;		/* this one and the older are live */
		out[k] = *e;
		returned[k++] = ret;
		prb_ret_remove(rs, t, i);
	}
	return k;
}

void
prb_ret_drop(prb_rets_t *rs, prb_rthr_t *t,
    int (*fn)(void *arg, const prb_rpend_t *e),
    void (*gone)(void *arg, const prb_rpend_t *e), void *arg)
{
	for (prb_rthr_t *o = ahash_first(&rs->rs_thr); o != NULL;
	    o = ahash_next(&rs->rs_thr, o)) {
		if (t != NULL && o != t)
			continue;
		for (int i = o->rt_n - 1; i >= 0; i--) {
			prb_rpend_t e = o->rt_pend[i];

			if (fn != NULL && !fn(arg, &e))
				continue;
			prb_ret_remove(rs, o, i);
			if (gone != NULL)
				gone(arg, &e);
		}
	}
}

static void
prb_ret_rfree(void *r)
{
	prb_rthr_t *t = r;

	free(t->rt_pend);
	free(t);
}

void
prb_ret_forget(prb_rets_t *rs, pid_t tid)
{
	prb_rthr_t *t = ahash_find(&rs->rs_thr, (uint32_t)tid);

	if (t == NULL)
		return;
	ahash_remove(&rs->rs_thr, t);
	rs->rs_npend -= (size_t)t->rt_n;
	prb_ret_rfree(t);
}

void
prb_ret_free(prb_rets_t *rs)
{
	ahash_clear(&rs->rs_thr, prb_ret_rfree);
	rs->rs_npend = 0;
}
