/*
 * fprobes.c - function probes with the pid provider's features
 * (dtproc_fprobe_*, dtproc_hit_reg): entry, return and offset probes,
 * each firing a callback with the thread, the time, the arguments or
 * the return value.
 *
 * Sites.  Every probe stops its thread, so each address it needs is
 * armed as a trap site through the probes layer (prb_arm with PRB_TRAP:
 * a trampoline's trap where the site can be patched, an int3 elsewhere),
 * one user of the core's site whatever else uses the address (a
 * dtproc_probe_add probe, a breakpoint, another function probe's return
 * site): ctl_breakpoint runs their callbacks and then ours, so every one
 * fires.  A site here (ctl_fsite_t) carries the entry and offset probes
 * at its address and, as a return site, the count of pending entries
 * that return to it.
 *
 * Returns.  At an entry of a function with a return probe, the thread,
 * its stack pointer, the return address and the time are noted in the
 * thread's pending entries (src/probe/ret.c; the stack is never
 * written), and the return address gets a site, shared by reference.
 * A hit there takes the entries that returned (their return address
 * and the stack pointer ret left) and those that never will (below the
 * hit's stack pointer in the same stack region, see ret.c).  Regions
 * are the mapping holding the stack pointer, read from /proc/PID/maps
 * when a thread's stack pointer leaves the two regions it was seen in
 * last.  Return sites are costly to make (every thread stopped for the
 * edit) and free to keep, since only returns pass there: one no entry
 * needs any more is kept, idle, for the next call from the same place,
 * and released once FP_IDLE_MAX others are idle, or with the last
 * return probe.  The core takes every site out of a fork child's text.
 *
 * Returns without a stop (DTPROC_FP_NOSTOP).  At an entry whose return
 * probes all asked for it, and whose return site is a trampoline no one
 * else stops at, the thread's bucket in the shared page's returns table
 * (arch.h) is left pending for (thread, stack pointer, return site); the
 * trampoline records the return there and the thread goes on.  Buckets
 * are written by us only while their thread is stopped or gone, or once
 * it marked them returned: before any hit fires, at each stop, on the
 * wake-up timer and at the ends, the returned ones are taken (oldest
 * first, by the thread's clock) and fired as a stopped return would be,
 * through the same pending entries.  A thread's buckets whose entries
 * are gone (unwound) are freed at its next stop.
 *
 * Counts are ours (every firing is a stop we see), kept in the records
 * past the sites' life: withdrawn at dlclose (the core prunes the site)
 * and exec, until dtproc_fprobe_del or the handle's end.
 *
 * Threads: the tables change on the control thread with dpr_lock held
 * (requests, events); clients read counts under dpr_lock, and delete
 * records themselves only once no control thread is left.  A callback
 * may add or delete function probes: records deleted while hits are
 * being fired are unlinked at once and freed after (fx_busy).
 */
#include "ctl.h"
#include "probe/probe.h"

#include <elf.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FP_KINDS	(DTPROC_FP_ENTRY | DTPROC_FP_RETURN | DTPROC_FP_OFFSET)
#define FP_QUICK_MAX	1024	/* buckets left pending at once */
#define FP_IDLE_MAX	256	/* idle return sites kept armed */
#define FP_FIRE_MAX	64	/* firings handled in one stop */
#define FP_TEXT_MAX	65536	/* function text decoded for an offset */

typedef struct ctl_fprobe {
	uintptr_t fp_func;	/* the function's entry */
	size_t fp_off;		/* OFFSET: from fp_func */
	int fp_kind;		/* one DTPROC_FP_* */
	dtproc_hit_f *fp_fn;	/* the client's callback, or NULL */
	void *fp_arg;
	int fp_how;		/* its site's DTPROC_PROBE_*, 0: pending */
	uint64_t fp_hits;	/* firings */
	uint64_t fp_unwound;	/* RETURN: entries that never returned */
	uint64_t fp_overflow;	/* RETURN: entries not noted */
	bool fp_nostop;		/* RETURN: DTPROC_FP_NOSTOP */
	bool fp_live;		/* false: withdrawn, or deleted */
	bool fp_dead;		/* deleted while firing: freed after */
	struct ctl_fprobe *fp_next;	/* every probe (or the dead) */
	struct ctl_fprobe *fp_snext;	/* at its site */
} ctl_fprobe_t;

typedef struct ctl_fsite {
	uintptr_t fs_addr;
	int fs_how;		/* DTPROC_PROBE_TRAMP or _TRAP; 0: not armed */
	bool fs_wait;		/* to arm when code may be edited again */
	bool fs_upgrade;	/* an int3 for now (a thread was inside the
				   window, or the exact start-up's): patched
				   once it can be (ctl_fp_upgrade) */
	const char *fs_why;	/* an int3: why (static text) */
	uint64_t fs_hits;	/* stops here we fired for */
	ctl_fprobe_t *fs_probes;	/* entry, return and offset probes whose
					   site this is */
	long fs_nret;		/* pending entries returning here */
	uint64_t fs_retoff;	/* arg0 of a return here: the offset in
				   the caller's function (or the address) */
	bool fs_idle;		/* an armed return site nothing needs */
	struct ctl_fsite *fs_next;	/* hash chain */
	struct ctl_fsite *fs_iprev, *fs_inext;	/* idle ones, oldest first */
} ctl_fsite_t;

struct ctl_fp {
	ctl_fprobe_t *fx_probes;	/* every record */
	ctl_fprobe_t *fx_dead;		/* deleted while firing */
	size_t fx_nreturn;		/* live return probes */
	ahash_t fx_stab;		/* sites (ctl_fsite_t) by address */
	size_t fx_nwait;		/* sites with fs_wait */
	size_t fx_nup;			/* sites with fs_upgrade (counted in
					   dpr_nupgrade too: one timer) */
	ctl_fsite_t *fx_ihead, *fx_itail;	/* idle return sites */
	size_t fx_nidle;
	prb_rets_t fx_rets;		/* pending entries per thread */
	int fx_busy;			/* firing */
	arch_quick_t *fx_qtab;		/* the returns table of fx_q */
	struct ctl_quick *fx_q;		/* its buckets we left pending */
	struct ctl_qret *fx_got;	/* the drain's, fx_aq of them too */
	size_t fx_nq, fx_aq;
	bool fx_draining;		/* in ctl_fp_drain */
	bool fx_tick;			/* the wake-up timer ticks for them
					   (ctl_wake_timer), stopped lazily */
};

/* A bucket of the returns table (arch.h) left pending for a thread. */
typedef struct ctl_quick {
	uint32_t qk_idx;
	pid_t qk_tid;
	uintptr_t qk_sp;	/* the stack pointer its return leaves */
	uintptr_t qk_ra;
} ctl_quick_t;

/* A return it recorded, to fire. */
typedef struct ctl_qret {
	ctl_quick_t qr_b;
	uint64_t qr_retval;
	uint64_t qr_clock;	/* ns, 0: unknown */
} ctl_qret_t;

/* One firing to call once the stop is sorted out. */
typedef struct ctl_fire {
	ctl_fprobe_t *fi_probe;
	dtproc_hit_t fi_hit;
} ctl_fire_t;

/* ------------------------------------------------------------ tables */

static struct ctl_fp *
ctl_fp_get(dtproc_proc_t *pr)
{
	if (pr->dpr_fp == NULL &&
	    (pr->dpr_fp = calloc(1, sizeof (struct ctl_fp))) != NULL) {
		AHASH_INIT(&pr->dpr_fp->fx_stab, ctl_fsite_t, fs_addr, fs_next,
		    256);
		prb_ret_init(&pr->dpr_fp->fx_rets);
	}
	return pr->dpr_fp;
}

static ctl_fsite_t *
ctl_fs_find(const struct ctl_fp *fx, uintptr_t addr)
{
	return ahash_find(&fx->fx_stab, addr);
}

static void
ctl_fs_idle_out(struct ctl_fp *fx, ctl_fsite_t *s)
{
	if (!s->fs_idle)
		return;
	if (s->fs_iprev != NULL)
		s->fs_iprev->fs_inext = s->fs_inext;
	else
		fx->fx_ihead = s->fs_inext;
	if (s->fs_inext != NULL)
		s->fs_inext->fs_iprev = s->fs_iprev;
	else
		fx->fx_itail = s->fs_iprev;
	s->fs_iprev = s->fs_inext = NULL;
	s->fs_idle = false;
	fx->fx_nidle--;
}

/* S waits for no upgrade any more. */
static void
ctl_fs_up_done(dtproc_proc_t *pr, struct ctl_fp *fx, ctl_fsite_t *s)
{
	if (!s->fs_upgrade)
		return;
	s->fs_upgrade = false;
	fx->fx_nup--;
	ctl_probe_upgrade_gone(pr, 1);
}

/* Forget S (its site undone, or gone with the core's). */
static void
ctl_fs_free(dtproc_proc_t *pr, struct ctl_fp *fx, ctl_fsite_t *s)
{
	ctl_fs_idle_out(fx, s);
	ctl_fs_up_done(pr, fx, s);
	if (s->fs_wait)
		fx->fx_nwait--;
	ahash_remove(&fx->fx_stab, s);
	free(s);
}

/* Undo S's site and forget it.  Control thread. */
static void
ctl_fs_release(dtproc_proc_t *pr, struct ctl_fp *fx, ctl_fsite_t *s)
{
	if (s->fs_how != 0 && pr->dpr_P != NULL)
		(void) prb_disarm(pr->dpr_P, s->fs_addr, PRB_TRAP);
	ctl_fs_free(pr, fx, s);
}

/*
 * Nothing needs S any more: a return site stays armed, idle, for the
 * next call from the same place (the oldest idle one goes past
 * FP_IDLE_MAX, every one with the last return probe); another goes.
 */
static void
ctl_fs_unused(dtproc_proc_t *pr, struct ctl_fp *fx, ctl_fsite_t *s)
{
	if (s->fs_probes != NULL || s->fs_nret > 0 || s->fs_idle)
		return;
	if (s->fs_how == 0 || fx->fx_nreturn == 0) {
		ctl_fs_release(pr, fx, s);
		return;
	}
	s->fs_idle = true;
	s->fs_iprev = fx->fx_itail;
	s->fs_inext = NULL;
	if (fx->fx_itail != NULL)
		fx->fx_itail->fs_inext = s;
	else
		fx->fx_ihead = s;
	fx->fx_itail = s;
	if (++fx->fx_nidle > FP_IDLE_MAX)
		ctl_fs_release(pr, fx, fx->fx_ihead);
}

/* S is armed as HOW (PRB_HOW_*), WHY an int3. */
static void
ctl_fs_armed(ctl_fsite_t *s, int how, const char *why)
{
	s->fs_how = how == PRB_HOW_TRAMP ? DTPROC_PROBE_TRAMP :
	    DTPROC_PROBE_TRAP;
	s->fs_why = how == PRB_HOW_TRAMP ? NULL :
	    why != NULL ? why : "no reason given";
	for (ctl_fprobe_t *p = s->fs_probes; p != NULL; p = p->fp_snext)
		p->fp_how = s->fs_how;
}

/*
 * Arm S as a trap site: 0 (armed, or waiting: no code may be edited
 * now, fs_wait set), or -errno.  An int3 for a reason that passes (a
 * thread inside the window, the exact start-up) waits for its upgrade,
 * as a probe's does (probes.c): a return site is armed while threads
 * run through its caller, and an int3 costs a stop per return and dies
 * with us.  Control thread.
 */
static int
ctl_fs_arm(dtproc_proc_t *pr, struct ctl_fp *fx, ctl_fsite_t *s)
{
	const char *why = NULL;
	bool early = false;
	int how = 0, rv;

	rv = prb_arm(pr->dpr_P, pr->dpr_sym, s->fs_addr, PRB_TRAP, &how,
	    &why);
	/*
	 * The exec stop of an exact start-up (control.c): ld.so runs
	 * before the next event, so an int3 now (a trap site stops the
	 * thread either way).
	 */
	if (rv == -EAGAIN && pr->dpr_startup) {
		rv = prb_arm(pr->dpr_P, pr->dpr_sym, s->fs_addr,
		    PRB_TRAP | PRB_INT3, &how, &why);
		early = rv == 0;
	}
	if (rv == -EAGAIN) {
		if (!s->fs_wait)
			fx->fx_nwait++;
		s->fs_wait = true;
		return 0;
	}
	if (s->fs_wait)
		fx->fx_nwait--;
	s->fs_wait = false;
	if (rv != 0)
		return rv;
	if (early)
		why = "armed at the exec stop";
	ctl_fs_armed(s, how, why);
	if (how != PRB_HOW_TRAMP && !s->fs_upgrade && (early ||
	    (why != NULL && strcmp(why, CTL_WHY_BUSY) == 0))) {
		s->fs_upgrade = true;
		fx->fx_nup++;
		ctl_probe_upgrade_due(pr);
	}
	return 0;
}

static ctl_fprobe_t *
ctl_fp_find(const struct ctl_fp *fx, uintptr_t func, size_t off, int kind)
{
	if (fx == NULL)
		return NULL;
	for (ctl_fprobe_t *p = fx->fx_probes; p != NULL; p = p->fp_next)
		if (p->fp_func == func && p->fp_kind == kind &&
		    (kind != DTPROC_FP_OFFSET || p->fp_off == off))
			return p;
	return NULL;
}

static uintptr_t
ctl_fp_site(const ctl_fprobe_t *p)
{
	return p->fp_func + (p->fp_kind == DTPROC_FP_OFFSET ? p->fp_off : 0);
}

/* ------------------------------------------------- pending entries */

typedef struct ctl_fpdrop {
	dtproc_proc_t *fd_pr;
	const void *fd_probe;	/* drop this probe's entries, or */
	uintptr_t fd_ret;	/* those returning here (0: every one) */
	bool fd_count;		/* counted as unwound */
} ctl_fpdrop_t;

static int
ctl_fp_drop_which(void *arg, const prb_rpend_t *e)
{
	const ctl_fpdrop_t *d = arg;

	if (d->fd_probe != NULL)
		return e->rp_what == d->fd_probe;
	return d->fd_ret == 0 || e->rp_ret == d->fd_ret;
}

/* An entry that will not return here: its return site needs one less. */
static void
ctl_fp_unref(dtproc_proc_t *pr, struct ctl_fp *fx, uintptr_t ret)
{
	ctl_fsite_t *s = ctl_fs_find(fx, ret);

	if (s != NULL && s->fs_nret > 0 && --s->fs_nret == 0)
		ctl_fs_unused(pr, fx, s);
}

static void
ctl_fp_drop_gone(void *arg, const prb_rpend_t *e)
{
	const ctl_fpdrop_t *d = arg;
	ctl_fprobe_t *p = e->rp_what;

	if (d->fd_count)
		p->fp_unwound++;
	ctl_fp_unref(d->fd_pr, d->fd_pr->dpr_fp, e->rp_ret);
}

/* --------------------------------------------------------- requests */

typedef struct ctl_fpreq {
	bool fq_add;		/* else delete */
	uintptr_t fq_func;
	size_t fq_off;
	int fq_flags;
	dtproc_hit_f *fq_fn;
	void *fq_arg;
} ctl_fpreq_t;

/*
 * An offset probe's FUNC + OFF must start an instruction of FUNC, found
 * by decoding from FUNC's first byte: 0, or -EINVAL/-ERANGE said.
 */
static int
ctl_fp_offset_ok(dtproc_proc_t *pr, uintptr_t func, size_t off)
{
	sym_info_t si;
	uint8_t *text;
	size_t n;
	ssize_t got;
	char name[256];
	int rv;

	if (sym_lookup_addr(pr->dpr_sym, func, &si) != 0 ||
	    si.sy_name == NULL || si.sy_addr != func ||
	    (si.sy_type != STT_FUNC && si.sy_type != STT_GNU_IFUNC))
		return err_set(EINVAL, "pid %d: %#lx+%#zx: no function starts "
		    "at %#lx", (int)pr->dpr_pid, (unsigned long)func, off,
		    (unsigned long)func);
	snprintf(name, sizeof (name), "%s", si.sy_name);
	if (si.sy_size == 0)
		return err_set(EINVAL, "pid %d: %s+%#zx: the size of %s is "
		    "unknown", (int)pr->dpr_pid, name, off, name);
	if (off >= si.sy_size)
		return err_set(ERANGE, "pid %d: %s+%#zx is past the end of %s "
		    "(%#lx bytes)", (int)pr->dpr_pid, name, off, name,
		    (unsigned long)si.sy_size);
	n = si.sy_size < FP_TEXT_MAX ? si.sy_size : FP_TEXT_MAX;
	if (off >= n)
		return err_set(ERANGE, "pid %d: %s+%#zx: too far into %s to "
		    "decode", (int)pr->dpr_pid, name, off, name);
	if ((text = malloc(n)) == NULL)
		return err_set(ENOMEM, "pid %d: out of memory",
		    (int)pr->dpr_pid);
	got = pt_text_read(pr->dpr_P, func, text, n);
	if (got <= 0 || (size_t)got <= off) {
		free(text);
		return err_set(EFAULT, "pid %d: %s+%#zx: cannot read the text "
		    "of %s", (int)pr->dpr_pid, name, off, name);
	}
	rv = arch_insn_boundary(text, (size_t)got, off);
	free(text);
	if (rv == -EILSEQ)
		return err_set(EINVAL, "pid %d: %s+%#zx: %s does not decode "
		    "before it", (int)pr->dpr_pid, name, off, name);
	if (rv != 0)
		return err_set(EINVAL, "pid %d: %s+%#zx is not an instruction "
		    "boundary", (int)pr->dpr_pid, name, off);
	return 0;
}

static long
ctl_fp_add(dtproc_proc_t *pr, const ctl_fpreq_t *q)
{
	struct ctl_fp *fx = ctl_fp_get(pr);
	ctl_fprobe_t *made[2] = { NULL, NULL };
	ctl_fsite_t *s;
	int nk = 0, kinds[2], rv;
	uintptr_t addr = q->fq_func + q->fq_off;

	if (fx == NULL)
		return err_set(ENOMEM, "pid %d: out of memory",
		    (int)pr->dpr_pid);
	if (q->fq_flags & DTPROC_FP_ENTRY)
		kinds[nk++] = DTPROC_FP_ENTRY;
	if (q->fq_flags & DTPROC_FP_RETURN)
		kinds[nk++] = DTPROC_FP_RETURN;
	if (q->fq_flags & DTPROC_FP_OFFSET)
		kinds[nk++] = DTPROC_FP_OFFSET;
	for (int i = 0; i < nk; i++) {
		ctl_fprobe_t *p = ctl_fp_find(fx, q->fq_func, q->fq_off,
		    kinds[i]);

		if (p != NULL && p->fp_live)
			return err_set(EEXIST, "pid %d: a function probe "
			    "(%s) at %#lx+%#zx already", (int)pr->dpr_pid,
			    kinds[i] == DTPROC_FP_ENTRY ? "entry" :
			    kinds[i] == DTPROC_FP_RETURN ? "return" : "offset",
			    (unsigned long)q->fq_func, q->fq_off);
	}
	if ((q->fq_flags & DTPROC_FP_OFFSET) &&
	    (rv = ctl_fp_offset_ok(pr, q->fq_func, q->fq_off)) != 0)
		return rv;
	/* withdrawn records at the same place: new ones, counted anew */
	for (int i = 0; i < nk; i++) {
		for (ctl_fprobe_t **pp = &fx->fx_probes; *pp != NULL;
		    pp = &(*pp)->fp_next) {
			ctl_fprobe_t *p = *pp;

			if (p->fp_func == q->fq_func && p->fp_kind == kinds[i] &&
			    (kinds[i] != DTPROC_FP_OFFSET ||
			    p->fp_off == q->fq_off)) {
				*pp = p->fp_next;
				free(p);
				break;
			}
		}
	}
	if ((s = ctl_fs_find(fx, addr)) == NULL &&
	    (s = ahash_new(&fx->fx_stab, sizeof (*s), addr)) == NULL)
		return err_set(ENOMEM, "pid %d: out of memory",
		    (int)pr->dpr_pid);
	ctl_fs_idle_out(fx, s);
	if (s->fs_how == 0 && !s->fs_wait &&
	    (rv = ctl_fs_arm(pr, fx, s)) != 0) {
		ctl_fs_unused(pr, fx, s);
		return rv;
	}
	for (int i = 0; i < nk; i++) {
		ctl_fprobe_t *p = calloc(1, sizeof (*p));

		if (p == NULL) {
			free(made[0]);
			ctl_fs_unused(pr, fx, s);
			return err_set(ENOMEM, "pid %d: out of memory",
			    (int)pr->dpr_pid);
		}
		made[i] = p;
	}
	for (int i = 0; i < nk; i++) {
		ctl_fprobe_t *p = made[i];

		p->fp_func = q->fq_func;
		p->fp_off = q->fq_off;
		p->fp_kind = kinds[i];
		p->fp_nostop = kinds[i] == DTPROC_FP_RETURN &&
		    (q->fq_flags & DTPROC_FP_NOSTOP);
		p->fp_fn = q->fq_fn;
		p->fp_arg = q->fq_arg;
		p->fp_how = s->fs_how;
		p->fp_live = true;
		p->fp_next = fx->fx_probes;
		fx->fx_probes = p;
		p->fp_snext = s->fs_probes;
		s->fs_probes = p;
		if (kinds[i] == DTPROC_FP_RETURN)
			fx->fx_nreturn++;
	}
	return 0;
}

/* P leaves its site (and, a return probe, its pending entries go). */
static void
ctl_fp_unlink(dtproc_proc_t *pr, struct ctl_fp *fx, ctl_fprobe_t *p)
{
	ctl_fsite_t *s = ctl_fs_find(fx, ctl_fp_site(p));

	if (p->fp_kind == DTPROC_FP_RETURN) {
		ctl_fpdrop_t d = { .fd_pr = pr, .fd_probe = p };

		prb_ret_drop(&fx->fx_rets, NULL, ctl_fp_drop_which,
		    ctl_fp_drop_gone, &d);
		if (p->fp_live)
			fx->fx_nreturn--;
	}
	p->fp_live = false;
	if (s == NULL)
		return;
	for (ctl_fprobe_t **pp = &s->fs_probes; *pp != NULL;
	    pp = &(*pp)->fp_snext) {
		if (*pp == p) {
			*pp = p->fp_snext;
			break;
		}
	}
	ctl_fs_unused(pr, fx, s);
}

/* The last return probe went: the idle return sites with it. */
static void
ctl_fp_idle_flush(dtproc_proc_t *pr, struct ctl_fp *fx)
{
	while (fx->fx_nreturn == 0 && fx->fx_ihead != NULL)
		ctl_fs_release(pr, fx, fx->fx_ihead);
}

/* Delete the records of Q (control thread, or none left: P is NULL). */
static long
ctl_fp_del(dtproc_proc_t *pr, const ctl_fpreq_t *q)
{
	struct ctl_fp *fx = pr->dpr_fp;
	int found = 0;

	ctl_fp_drain(pr);	/* the returns it recorded count */
	for (ctl_fprobe_t **pp = fx != NULL ? &fx->fx_probes : NULL;
	    pp != NULL && *pp != NULL;) {
		ctl_fprobe_t *p = *pp;

		if (p->fp_func != q->fq_func || !(p->fp_kind & q->fq_flags) ||
		    (p->fp_kind == DTPROC_FP_OFFSET && p->fp_off != q->fq_off)) {
			pp = &p->fp_next;
			continue;
		}
		found++;
		*pp = p->fp_next;
		ctl_fp_unlink(pr, fx, p);
		if (fx->fx_busy > 0) {
			p->fp_dead = true;
			p->fp_next = fx->fx_dead;
			fx->fx_dead = p;
		} else {
			free(p);
		}
	}
	if (found == 0)
		return err_set(ENOENT, "pid %d: no function probe at %#lx",
		    (int)pr->dpr_pid, (unsigned long)q->fq_func);
	ctl_fp_idle_flush(pr, fx);
	return 0;
}

long
ctl_fp_serve(dtproc_proc_t *pr, void *arg)
{
	const ctl_fpreq_t *q = arg;

	return q->fq_add ? ctl_fp_add(pr, q) : ctl_fp_del(pr, q);
}

/* ------------------------------------------------------------- hits */

uint64_t
ctl_fp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The stack region holding SP for thread T: [*LO, *HI), the mapping
 * that holds it (two remembered per thread: its stack and a
 * sigaltstack).  Where none does (the process is gone, its maps with
 * it: returns drained at its end), everything: its entries go at once
 * anyway.
 */
static void
ctl_fp_region(dtproc_proc_t *pr, prb_rthr_t *t, uintptr_t sp, uintptr_t *lo,
    uintptr_t *hi)
{
	pt_map_t *maps;
	size_t n;

	for (int i = 0; i < 2; i++) {
		if (sp >= t->rt_lo[i] && sp < t->rt_hi[i]) {
			*lo = t->rt_lo[i];
			*hi = t->rt_hi[i];
			return;
		}
	}
	*lo = 0;
	*hi = UINTPTR_MAX;
	if (pt_maps_read(pr->dpr_pid, &maps, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (sp >= maps[i].pm_start && sp < maps[i].pm_end) {
			*lo = maps[i].pm_start;
			*hi = maps[i].pm_end;
			t->rt_lo[1] = t->rt_lo[0];
			t->rt_hi[1] = t->rt_hi[0];
			t->rt_lo[0] = *lo;
			t->rt_hi[0] = *hi;
			break;
		}
	}
	pt_maps_free(maps, n);
}

/* A return site for RA: made and armed if need be, one more entry. */
static int
ctl_fp_retsite(dtproc_proc_t *pr, struct ctl_fp *fx, uintptr_t ra)
{
	ctl_fsite_t *s = ctl_fs_find(fx, ra);
	bool made = false;
	sym_info_t si;

	if (s == NULL) {
		if ((s = ahash_new(&fx->fx_stab, sizeof (*s), ra)) == NULL)
			return -ENOMEM;
		made = true;
		s->fs_retoff = ra;
		if (sym_lookup_addr(pr->dpr_sym, ra, &si) == 0 &&
		    si.sy_name != NULL)
			s->fs_retoff = ra - si.sy_addr;
	}
	if (s->fs_how == 0) {
		if (made && sym_lookup_addr(pr->dpr_sym, ra, &si) == 0)
			s->fs_retoff = si.sy_name != NULL ? ra - si.sy_addr :
			    ra;
		/* a site waiting for the edit would miss this return */
		if (ctl_fs_arm(pr, fx, s) != 0 || s->fs_how == 0) {
			ctl_fs_unused(pr, fx, s);
			return -EAGAIN;
		}
	}
	ctl_fs_idle_out(fx, s);
	s->fs_nret++;
	return 0;
}

static void
ctl_fp_reap(struct ctl_fp *fx)
{
	while (fx->fx_busy == 0 && fx->fx_dead != NULL) {
		ctl_fprobe_t *p = fx->fx_dead;

		fx->fx_dead = p->fp_next;
		free(p);
	}
}

/*
 * The victim's clock at a stop of thread T (pt_tramp_clock): GATE, it
 * is at a trap, VPRE its clock there; VPOST as it left its last gate
 * stop, whose cost joins rt_vheld.  This hit's clock, or 0: unknown (an
 * int3 stop; the thread's sum, from the first stop whose cost was not
 * known on).
 */
static uint64_t
ctl_fp_vclock(prb_rthr_t *t, bool gate, uint64_t vpre, uint64_t vpost)
{
	if (t->rt_vpre != 0 && vpost >= t->rt_vpre)
		t->rt_vheld += vpost - t->rt_vpre;
	else if (t->rt_vpre != 0 || (gate && vpre == 0))
		t->rt_vbad = true;
	t->rt_vpre = gate ? vpre : 0;
	t->rt_vseen |= gate;
	return t->rt_vbad || !gate ? 0 : vpre;
}

/* T's sum as a hit gives it (dh_vheld), or 0: unknown. */
static uint64_t
ctl_fp_vheld(const prb_rthr_t *t)
{
	return t != NULL && t->rt_vseen && !t->rt_vbad ? t->rt_vheld : 0;
}

/*
 * The returns and unwound entries of thread T at this hit (H): counted,
 * their sites unreferenced, the returns queued in FIRES.  How many.
 */
static int
ctl_fp_returns(dtproc_proc_t *pr, struct ctl_fp *fx, prb_rthr_t *t,
    const prb_rhit_t *h, uint64_t retval, uint64_t now, uint64_t vpre,
    uint64_t vheld, ctl_fire_t *fires, int max)
{
	prb_rpend_t out[FP_FIRE_MAX];
	int returned[FP_FIRE_MAX], n, nf = 0, nret = 0, seen = 0;
	ctl_fsite_t *here = ctl_fs_find(fx, h->rh_pc);
	/* read now: an unreference below may free the site */
	uint64_t retoff = here != NULL ? here->fs_retoff : h->rh_pc;

	n = prb_ret_take(&fx->fx_rets, t, h, out, returned,
	    max < FP_FIRE_MAX ? max : FP_FIRE_MAX);
	for (int i = 0; i < n; i++)
		nret += returned[i];
	for (int i = 0; i < n; i++) {
		ctl_fprobe_t *p = out[i].rp_what;
		dtproc_hit_t *hit;

		if (!returned[i]) {
			p->fp_unwound++;
		} else {
			p->fp_hits++;
			hit = &fires[nf].fi_hit;
			fires[nf++].fi_probe = p;
			memset(hit, 0, sizeof (*hit));
			hit->dh_kind = DTPROC_HIT_RETURN;
			hit->dh_func = p->fp_func;
			hit->dh_pc = h->rh_pc;
			hit->dh_time = now;
			hit->dh_entry_time = out[i].rp_time;
			hit->dh_vtime = vpre;
			hit->dh_vheld = vheld;
			hit->dh_entry_vtime = out[i].rp_vtime;
			hit->dh_entry_vheld = out[i].rp_vheld;
			hit->dh_args[0] = retoff;
			hit->dh_args[1] = hit->dh_retval = retval;
			hit->dh_sp = out[i].rp_sp;
			hit->dh_retaddr = out[i].rp_ret;
			hit->dh_depth = t->rt_n + nret - seen++;
		}
		ctl_fp_unref(pr, fx, out[i].rp_ret);
	}
	return nf;
}

/* ------------------------------------------- returns without a stop */

/* Does T still await a return leaving SP at RA? */
static bool
ctl_fq_awaited(const prb_rthr_t *t, uintptr_t sp, uintptr_t ra)
{
	for (int i = t != NULL ? t->rt_n - 1 : -1; i >= 0; i--)
		if (t->rt_pend[i].rp_ret == ra &&
		    arch_ret_sp(t->rt_pend[i].rp_sp) == sp)
			return true;
	return false;
}

static _Atomic uint32_t *
ctl_fq_state(const struct ctl_fp *fx, const ctl_quick_t *b)
{
	return (_Atomic uint32_t *)&fx->fx_qtab[b->qk_idx].aq_state;
}

/*
 * The bucket of thread TID for a return leaving SP at RA, pending: 0, or
 * -1 when it cannot be (the site, a bucket taken, no room).  TID is
 * stopped.
 */
static int
ctl_fq_put(dtproc_proc_t *pr, struct ctl_fp *fx, pid_t tid, uintptr_t sp,
    uintptr_t ra)
{
	ctl_fsite_t *s = ctl_fs_find(fx, ra);
	arch_quick_t *tab, *q;
	uint32_t idx;

	if (s == NULL || s->fs_probes != NULL ||
	    s->fs_how != DTPROC_PROBE_TRAMP || !pt_quick_ok(pr->dpr_P, ra) ||
	    (tab = pt_quick_table(pr->dpr_P)) == NULL)
		return -1;
	if (tab != fx->fx_qtab) {	/* an image before: forgotten */
		fx->fx_nq = 0;
		fx->fx_qtab = tab;
	}
	idx = arch_quick_hash(sp);
	for (size_t i = 0; i < fx->fx_nq; i++) {
		const ctl_quick_t *b = &fx->fx_q[i];

		if (b->qk_idx == idx)
			return b->qk_tid == tid && b->qk_sp == sp &&
			    b->qk_ra == ra ? 0 : -1;
	}
	q = &tab[idx];
	/* a pending one not ours to reuse: its thread may be writing it */
	if (atomic_load_explicit((_Atomic uint32_t *)&q->aq_state,
	    memory_order_acquire) == ARCH_QUICK_PENDING)
		return -1;
	if (fx->fx_nq == fx->fx_aq) {
		size_t n = fx->fx_aq ? fx->fx_aq * 2 : 16;
		ctl_quick_t *v;
		ctl_qret_t *g;

		if (n > FP_QUICK_MAX || (v = realloc(fx->fx_q,
		    n * sizeof (*v))) == NULL)
			return -1;
		fx->fx_q = v;
		if ((g = realloc(fx->fx_got, n * sizeof (*g))) == NULL)
			return -1;
		fx->fx_got = g;
		fx->fx_aq = n;
	}
	q->aq_sp = sp;
	q->aq_ra = ra;
	q->aq_tid = (uint32_t)pt_quick_tid(pr->dpr_P, tid);
	atomic_store_explicit((_Atomic uint32_t *)&q->aq_state,
	    ARCH_QUICK_PENDING, memory_order_release);
	fx->fx_q[fx->fx_nq++] = (ctl_quick_t){ idx, tid, sp, ra };
	if (!fx->fx_tick) {
		fx->fx_tick = true;
		ctl_wake_timer(pr);
	}
	return 0;
}

/*
 * Bucket I of the list let go if still pending (its thread stopped or
 * gone), its place taken by the last: true.  A returned one stays for
 * the drain.
 */
static bool
ctl_fq_let(struct ctl_fp *fx, size_t i)
{
	uint32_t want = ARCH_QUICK_PENDING;

	if (!atomic_compare_exchange_strong(ctl_fq_state(fx, &fx->fx_q[i]),
	    &want, ARCH_QUICK_FREE))
		return false;
	fx->fx_q[i] = fx->fx_q[--fx->fx_nq];
	return true;
}

/*
 * Thread TID's buckets let go (it is stopped, or gone: ALL): those of
 * returns it no longer awaits, or every one.
 */
static void
ctl_fq_sweep(struct ctl_fp *fx, pid_t tid, bool all)
{
	prb_rthr_t *t = all ? NULL : prb_ret_thread(&fx->fx_rets, tid, 0);

	for (size_t i = 0; i < fx->fx_nq;) {
		const ctl_quick_t *b = &fx->fx_q[i];

		if (b->qk_tid == tid && !ctl_fq_awaited(t, b->qk_sp, b->qk_ra) &&
		    ctl_fq_let(fx, i))
			continue;
		i++;
	}
}

/* Thread TID's bucket for a return leaving SP at RA let go (stopped). */
static void
ctl_fq_unput(struct ctl_fp *fx, pid_t tid, uintptr_t sp, uintptr_t ra)
{
	for (size_t i = 0; i < fx->fx_nq; i++) {
		const ctl_quick_t *b = &fx->fx_q[i];

		if (b->qk_tid == tid && b->qk_sp == sp && b->qk_ra == ra) {
			(void) ctl_fq_let(fx, i);
			return;
		}
	}
}

/*
 * Oldest first.  Between two stops a thread only returns (its entries
 * stop), each return leaving a higher stack pointer than the one before:
 * equal clocks go by thread, then stack pointer.
 */
static int
ctl_fq_cmp(const void *a, const void *b)
{
	const ctl_qret_t *x = a, *y = b;

	if (x->qr_clock != y->qr_clock)
		return x->qr_clock < y->qr_clock ? -1 : 1;
	if (x->qr_b.qk_tid != y->qr_b.qk_tid)
		return x->qr_b.qk_tid < y->qr_b.qk_tid ? -1 : 1;
	return x->qr_b.qk_sp < y->qr_b.qk_sp ? -1 : x->qr_b.qk_sp >
	    y->qr_b.qk_sp;
}

/* A recorded return (Q) fired as a stopped one would be (ctl_fp_hit). */
static void
ctl_fq_fire(dtproc_proc_t *pr, struct ctl_fp *fx, const ctl_qret_t *q)
{
	ctl_fire_t fires[FP_FIRE_MAX];
	prb_rthr_t *t = prb_ret_thread(&fx->fx_rets, q->qr_b.qk_tid, 0);
	prb_rhit_t h = { .rh_sp = q->qr_b.qk_sp, .rh_pc = q->qr_b.qk_ra };
	uint64_t vheld = 0, vpost, held;
	arch_regs_t r;
	int nf;

	if (t == NULL || t->rt_n == 0)
		return;
	/* with its last stop's cost, which its next gate stop would add */
	if (t->rt_vseen && !t->rt_vbad) {
		vheld = t->rt_vheld;
		if (t->rt_vpre != 0) {
			vpost = pt_tramp_vpost(pr->dpr_P, t->rt_tid);
			vheld = vpost >= t->rt_vpre ? vheld + vpost -
			    t->rt_vpre : 0;
		}
	}
	held = t->rt_held;
	ctl_fp_region(pr, t, h.rh_sp, &h.rh_lo, &h.rh_hi);
	fx->fx_busy++;
	nf = ctl_fp_returns(pr, fx, t, &h, q->qr_retval, q->qr_clock != 0 ?
	    q->qr_clock : ctl_fp_now(), q->qr_clock, vheld, fires,
	    FP_FIRE_MAX);
	memset(&r, 0, sizeof (r));
	arch_set_pc(&r, h.rh_pc);
	arch_set_sp(&r, h.rh_sp);
	arch_set_retval(&r, q->qr_retval);
	for (int i = 0; i < nf; i++) {
		ctl_fprobe_t *p = fires[i].fi_probe;

		if (p->fp_dead || p->fp_fn == NULL)
			continue;
		fires[i].fi_hit.dh_tid = q->qr_b.qk_tid;
		fires[i].fi_hit.dh_regs = &r;
		fires[i].fi_hit.dh_held = held;
		fires[i].fi_hit.dh_flags = DTPROC_HIT_DEFERRED;
		p->fp_fn(pr->dpr_hdl, pr, &fires[i].fi_hit, p->fp_arg);
	}
	fx->fx_busy--;
	ctl_fp_reap(fx);
}

/*
 * The returns recorded since the last look, all taken before any fires
 * (an outer return fired before an inner one of the same thread would
 * drop the inner as unwound), then fired oldest first; their buckets
 * free.  Not within itself (a callback's delete).  Control thread.
 */
void
ctl_fp_drain(dtproc_proc_t *pr)
{
	struct ctl_fp *fx = pr->dpr_fp;
	ctl_qret_t *got;
	size_t n = 0;

	if (fx == NULL || fx->fx_draining || fx->fx_nq == 0)
		return;
	/* room for every bucket we hold (fx_aq), made with the list */
	if ((got = fx->fx_got) == NULL)
		return;
	fx->fx_draining = true;
	for (size_t i = 0; i < fx->fx_nq;) {
		ctl_quick_t *b = &fx->fx_q[i];
		const arch_quick_t *q = &fx->fx_qtab[b->qk_idx];
		uint32_t st = atomic_load_explicit(ctl_fq_state(fx, b),
		    memory_order_acquire);

		if (st == ARCH_QUICK_PENDING) {
			i++;
			continue;
		}
		if (st == ARCH_QUICK_RETURNED) {
			got[n].qr_b = *b;
			got[n].qr_retval = q->aq_retval;
			got[n++].qr_clock = pt_ts_ns(q->aq_sec, q->aq_nsec);
			atomic_store_explicit(ctl_fq_state(fx, b),
			    ARCH_QUICK_FREE, memory_order_release);
		}
		fx->fx_q[i] = fx->fx_q[--fx->fx_nq];
	}
	qsort(got, n, sizeof (got[0]), ctl_fq_cmp);
	for (size_t i = 0; i < n; i++)
		ctl_fq_fire(pr, fx, &got[i]);
	fx->fx_draining = false;
}

/*
 * A tick of the wake-up timer: the drain, and the timer stopped if it
 * ran for buckets alone and none is left.  Lazily: a bucket is left
 * pending and taken at nearly every call, a timer set and stopped each
 * time would cost two system calls a call.
 */
void
ctl_fp_tick(dtproc_proc_t *pr)
{
	struct ctl_fp *fx = pr->dpr_fp;

	ctl_fp_drain(pr);
	if (fx != NULL && fx->fx_nq == 0 && fx->fx_tick) {
		fx->fx_tick = false;
		ctl_wake_timer(pr);
	}
}

bool
ctl_fp_ticks(const dtproc_proc_t *pr)
{
	return pr->dpr_fp != NULL && pr->dpr_fp->fx_tick;
}

/* A stop at a site: true if it is one of ours (a trap site). */
bool
ctl_fp_hit(dtproc_proc_t *pr, const pt_event_t *ev, uint64_t now)
{
	struct ctl_fp *fx = pr->dpr_fp;
	ctl_fire_t fires[FP_FIRE_MAX];
	uint64_t words[ARCH_ENTRY_WORDS];
	uintptr_t addr = ev->pe_addr, sp;
	bool entry = false, tracked = false, nostop = true;
	uint64_t vpre = 0, vpost;
	prb_rthr_t *t;
	ctl_fsite_t *s;
	arch_regs_t r;
	int nf = 0, depth, k;

	if (fx == NULL || (s = ctl_fs_find(fx, addr)) == NULL ||
	    s->fs_how == 0)
		return false;
	if (pt_regs_site(pr->dpr_P, ev->pe_tid, &r) != 0)
		return true;
	s->fs_hits++;
	/* 0 at a trampoline's trap, 1 at an int3 */
	k = pt_tramp_clock(pr->dpr_P, ev->pe_tid, &vpre, &vpost);
	if (k >= 0 && (t = prb_ret_thread(&fx->fx_rets, ev->pe_tid, 1)) !=
	    NULL)
		vpre = ctl_fp_vclock(t, k == 0, vpre, vpost);
	else
		vpre = 0;
	sp = arch_sp(&r);
	for (ctl_fprobe_t *p = s->fs_probes; p != NULL; p = p->fp_snext)
		entry |= p->fp_kind != DTPROC_FP_OFFSET;
	memset(words, 0, sizeof (words));
	if (entry)
		(void) pt_site_read(pr->dpr_P, ev->pe_tid, sp, words,
		    sizeof (words));
	fx->fx_busy++;
	/* every thread that fires has a record: its time held (rt_held) */
	t = prb_ret_thread(&fx->fx_rets, ev->pe_tid, 1);
	if (t != NULL && t->rt_n > 0) {
		prb_rhit_t h = { .rh_sp = sp, .rh_pc = addr };
		uint64_t args[1];

		if (entry)
			arch_entry(&r, words, &h.rh_ra, args, 0);
		/* this function's own unwound call, made again */
		for (ctl_fprobe_t *p = s->fs_probes; p != NULL;
		    p = p->fp_snext)
			if (p->fp_kind == DTPROC_FP_RETURN && p->fp_live)
				h.rh_what = p;
		ctl_fp_region(pr, t, sp, &h.rh_lo, &h.rh_hi);
		nf = ctl_fp_returns(pr, fx, t, &h, arch_retval(&r), now, vpre,
		    ctl_fp_vheld(t), fires, FP_FIRE_MAX);
		/* the sites may have changed: S may be gone */
		s = ctl_fs_find(fx, addr);
	}
	/* its buckets of entries gone (unwound, dropped, their site's) */
	if (fx->fx_nq > 0)
		ctl_fq_sweep(fx, ev->pe_tid, false);
	/* entries noted first: an entry's depth includes itself */
	for (ctl_fprobe_t *p = s != NULL ? s->fs_probes : NULL; p != NULL;
	    p = p->fp_snext) {
		prb_rpend_t e = { .rp_sp = sp, .rp_time = now,
		    .rp_vtime = vpre, .rp_what = p };
		uint64_t args[1];

		if (p->fp_kind != DTPROC_FP_RETURN || !p->fp_live)
			continue;
		arch_entry(&r, words, &e.rp_ret, args, 0);
		if (t == NULL && (t = prb_ret_thread(&fx->fx_rets, ev->pe_tid,
		    1)) == NULL) {
			p->fp_overflow++;
			continue;
		}
		e.rp_vheld = ctl_fp_vheld(t);
		if (t->rt_n >= DTPROC_FP_DEPTH ||
		    ctl_fp_retsite(pr, fx, e.rp_ret) != 0) {
			p->fp_overflow++;
			continue;
		}
		if (prb_ret_push(&fx->fx_rets, t, &e, DTPROC_FP_DEPTH) != 0) {
			p->fp_overflow++;
			ctl_fp_unref(pr, fx, e.rp_ret);
			continue;
		}
		/*
		 * Its return recorded without a stop, if all ask for it and
		 * the thread's clock reads (a return's time is by it alone).
		 */
		nostop &= p->fp_nostop && vpre != 0;
		if (!nostop || ctl_fq_put(pr, fx, ev->pe_tid,
		    arch_ret_sp(sp), e.rp_ret) != 0)
			ctl_fq_unput(fx, ev->pe_tid, arch_ret_sp(sp),
			    e.rp_ret);
	}
	s = ctl_fs_find(fx, addr);
	depth = t != NULL ? t->rt_n : 0;
	for (ctl_fprobe_t *p = s != NULL ? s->fs_probes : NULL; p != NULL;
	    p = p->fp_snext)
		tracked |= p->fp_kind == DTPROC_FP_RETURN && p->fp_live;
	for (ctl_fprobe_t *p = s != NULL ? s->fs_probes : NULL;
	    p != NULL && nf < FP_FIRE_MAX; p = p->fp_snext) {
		dtproc_hit_t *hit = &fires[nf].fi_hit;

		if (p->fp_kind == DTPROC_FP_RETURN || !p->fp_live)
			continue;
		p->fp_hits++;
		fires[nf++].fi_probe = p;
		memset(hit, 0, sizeof (*hit));
		hit->dh_func = p->fp_func;
		hit->dh_pc = addr;
		hit->dh_time = now;
		hit->dh_depth = depth;
		hit->dh_vtime = vpre;
		hit->dh_vheld = ctl_fp_vheld(t);
		if (p->fp_kind == DTPROC_FP_ENTRY) {
			hit->dh_kind = DTPROC_HIT_ENTRY;
			arch_entry(&r, words, &hit->dh_retaddr, hit->dh_args,
			    DTPROC_HIT_NARGS);
			/* an entry without a return probe: itself too */
			if (!tracked)
				hit->dh_depth++;
		} else {
			hit->dh_kind = DTPROC_HIT_OFFSET;
			for (int i = 0; i < 6; i++)
				hit->dh_args[i] = arch_arg(&r, i);
		}
		hit->dh_sp = sp;
	}
	for (int i = 0; i < nf; i++) {
		ctl_fprobe_t *p = fires[i].fi_probe;

		if (p->fp_dead || p->fp_fn == NULL)
			continue;
		fires[i].fi_hit.dh_tid = ev->pe_tid;
		fires[i].fi_hit.dh_regs = &r;
		fires[i].fi_hit.dh_held = t != NULL ? t->rt_held : 0;
		p->fp_fn(pr->dpr_hdl, pr, &fires[i].fi_hit, p->fp_arg);
	}
	fx->fx_busy--;
	ctl_fp_reap(fx);
	return true;
}

/* ---------------------------------------------------- events, ends */

/*
 * The end of a hit's stop: its time, from the hit's timestamp to the
 * resume, is added to the thread's.
 */
void
ctl_fp_resumed(dtproc_proc_t *pr, pid_t tid, uint64_t now)
{
	struct ctl_fp *fx = pr->dpr_fp;
	prb_rthr_t *t;
	uint64_t end = ctl_fp_now();

	if (fx != NULL && (t = prb_ret_thread(&fx->fx_rets, tid, 0)) != NULL &&
	    end > now)
		t->rt_held += end - now;
}

void
ctl_fp_thread_exit(dtproc_proc_t *pr, pid_t tid)
{
	struct ctl_fp *fx = pr->dpr_fp;
	prb_rthr_t *t;
	ctl_fpdrop_t d = { .fd_pr = pr, .fd_count = true };

	if (fx == NULL)
		return;
	/* its last returns first; its buckets are nobody's now */
	ctl_fp_drain(pr);
	ctl_fq_sweep(fx, tid, true);
	if ((t = prb_ret_thread(&fx->fx_rets, tid, 0)) == NULL)
		return;
	prb_ret_drop(&fx->fx_rets, t, NULL, ctl_fp_drop_gone, &d);
	prb_ret_forget(&fx->fx_rets, tid);
}

/*
 * The core forgot the site at ADDR (its object went): the probes there
 * are withdrawn, and the entries returning there never will.
 */
void
ctl_fp_pruned(dtproc_proc_t *pr, uintptr_t addr)
{
	struct ctl_fp *fx = pr->dpr_fp;
	ctl_fpdrop_t d = { .fd_pr = pr, .fd_ret = addr, .fd_count = true };
	ctl_fsite_t *s;

	if (fx == NULL || (s = ctl_fs_find(fx, addr)) == NULL)
		return;
	s->fs_how = 0;		/* nothing to undo: the core forgot it */
	if (s->fs_nret > 0)
		prb_ret_drop(&fx->fx_rets, NULL, ctl_fp_drop_which,
		    ctl_fp_drop_gone, &d);
	if ((s = ctl_fs_find(fx, addr)) == NULL)
		return;
	for (ctl_fprobe_t *p = s->fs_probes; p != NULL; p = p->fp_snext) {
		if (p->fp_kind == DTPROC_FP_RETURN && p->fp_live) {
			fx->fx_nreturn--;
			prb_ret_drop(&fx->fx_rets, NULL, ctl_fp_drop_which,
			    ctl_fp_drop_gone, &(ctl_fpdrop_t){ .fd_pr = pr,
			    .fd_probe = p, .fd_count = true });
		}
		p->fp_live = false;
	}
	if ((s = ctl_fs_find(fx, addr)) == NULL)
		return;
	s->fs_probes = NULL;
	ctl_fs_free(pr, fx, s);
	ctl_fp_idle_flush(pr, fx);
}

/* Sites that waited for code to be editable: armed now if it is. */
void
ctl_fp_retry(dtproc_proc_t *pr)
{
	struct ctl_fp *fx = pr->dpr_fp;

	if (fx == NULL || fx->fx_nwait == 0)
		return;
	for (ctl_fsite_t *s = ahash_first(&fx->fx_stab), *next; s != NULL;
	    s = next) {
		next = ahash_next(&fx->fx_stab, s);
		if (!s->fs_wait)
			continue;
		if (ctl_fs_arm(pr, fx, s) != 0) {
			/* for good: the probes are withdrawn */
			for (ctl_fprobe_t *p = s->fs_probes; p != NULL;
			    p = p->fp_snext) {
				if (p->fp_kind == DTPROC_FP_RETURN &&
				    p->fp_live)
					fx->fx_nreturn--;
				p->fp_live = false;
			}
			s->fs_probes = NULL;
			ctl_fs_free(pr, fx, s);
		} else if (s->fs_wait) {
			return;	/* still held: the rest would be */
		}
	}
}

/*
 * The upgrades' turn (ctl_probe_upgrade, on its timer): each int3 site
 * that waits is patched in place where no thread is inside its window
 * now, every thread stopped for the edit (PRB_TAKE), so no return is
 * lost or fired twice: a thread that hit the int3 before the edit
 * reports that hit, and is then moved into the trampoline's copy of
 * the window (pt_bkpt_step), past its gate.  Given up for a reason that
 * will not pass.  True when one was patched.
 */
bool
ctl_fp_upgrade(dtproc_proc_t *pr)
{
	struct ctl_fp *fx = pr->dpr_fp;
	bool moved = false;

	if (fx == NULL || fx->fx_nup == 0)
		return false;
	for (ctl_fsite_t *s = ahash_first(&fx->fx_stab);
	    s != NULL && fx->fx_nup > 0; s = ahash_next(&fx->fx_stab, s)) {
		const char *why = NULL;
		int how = 0;

		if (!s->fs_upgrade)
			continue;
		if (s->fs_how != DTPROC_PROBE_TRAP) {
			ctl_fs_up_done(pr, fx, s);
			continue;
		}
		if (prb_arm(pr->dpr_P, pr->dpr_sym, s->fs_addr,
		    PRB_TRAP | PRB_TAKE, &how, &why) != 0)
			continue;
		/* either way one user too many: the old int3's */
		(void) pt_bkpt_del(pr->dpr_P, s->fs_addr);
		if (how != PRB_HOW_TRAMP) {
			if (why == NULL || strcmp(why, CTL_WHY_BUSY) != 0) {
				s->fs_why = why;	/* for good */
				ctl_fs_up_done(pr, fx, s);
			}
			continue;
		}
		ctl_fs_armed(s, how, NULL);
		ctl_fs_up_done(pr, fx, s);
		moved = true;
		ctl_probe_upgraded(pr, s->fs_addr);
	}
	return moved;
}

/*
 * Exec, exit, release: every site went (or goes) with the core's, and
 * every pending entry is counted as unwound.
 */
void
ctl_fp_withdraw_all(dtproc_proc_t *pr)
{
	struct ctl_fp *fx = pr->dpr_fp;

	if (fx == NULL)
		return;
	/* the returns recorded before it; the rest are the image's */
	ctl_fp_drain(pr);
	fx->fx_nq = 0;
	fx->fx_qtab = NULL;
	if (fx->fx_tick) {
		fx->fx_tick = false;
		ctl_wake_timer(pr);
	}
	for (prb_rthr_t *t = ahash_first(&fx->fx_rets.rs_thr); t != NULL;
	    t = ahash_next(&fx->fx_rets.rs_thr, t)) {
		for (int i = 0; i < t->rt_n; i++)
			((ctl_fprobe_t *)t->rt_pend[i].rp_what)->fp_unwound++;
	}
	prb_ret_free(&fx->fx_rets);
	ahash_clear(&fx->fx_stab, free);
	ctl_probe_upgrade_gone(pr, fx->fx_nup);
	fx->fx_nwait = fx->fx_nidle = fx->fx_nup = 0;
	fx->fx_ihead = fx->fx_itail = NULL;
	for (ctl_fprobe_t *p = fx->fx_probes; p != NULL; p = p->fp_next)
		p->fp_live = false;
	fx->fx_nreturn = 0;
}

void
ctl_fp_clear(dtproc_proc_t *pr)
{
	struct ctl_fp *fx = pr->dpr_fp;

	if (fx == NULL)
		return;
	ctl_fp_withdraw_all(pr);
	free(fx->fx_q);
	free(fx->fx_got);
	while (fx->fx_probes != NULL) {
		ctl_fprobe_t *p = fx->fx_probes;

		fx->fx_probes = p->fp_next;
		free(p);
	}
	fx->fx_busy = 0;
	ctl_fp_reap(fx);
	free(fx);
	pr->dpr_fp = NULL;
}

/* ------------------------------------------------------------- API */

static int
ctl_fp_valid(dtproc_proc_t *pr, uintptr_t func, size_t off, int flags,
    bool one)
{
	const char *why = NULL;

	if ((flags & DTPROC_FP_NOSTOP) && !(flags & DTPROC_FP_RETURN))
		why = "DTPROC_FP_NOSTOP is for DTPROC_FP_RETURN";
	flags &= ~DTPROC_FP_NOSTOP;
	if (flags == 0 || (flags & ~FP_KINDS) != 0)
		why = "unknown flags";
	else if ((flags & DTPROC_FP_OFFSET) && flags != DTPROC_FP_OFFSET)
		why = "DTPROC_FP_OFFSET goes alone";
	else if (!(flags & DTPROC_FP_OFFSET) && off != 0)
		why = "an offset is for DTPROC_FP_OFFSET";
	else if (one && flags != DTPROC_FP_ENTRY &&
	    flags != DTPROC_FP_RETURN && flags != DTPROC_FP_OFFSET)
		why = "one kind of probe at a time";
	if (why != NULL)
		return err_set(EINVAL, "pid %d: function probe at %#lx+%#zx: %s",
		    (int)pr->dpr_pid, (unsigned long)func, off, why);
	return 0;
}

/*
 * Add or delete (Q) on the control thread.  A delete needs no control
 * thread once the process is gone, or for a read-only grab (nothing was
 * armed): the records are ours alone then.
 */
static int
ctl_fp_change(dtproc_proc_t *pr, ctl_fpreq_t *q)
{
	ctl_req_t req = { .cr_op = CTL_FPROBE,
	    .cr_addr = q->fq_func + q->fq_off, .cr_arg = q };
	bool took;
	int rv;

	if ((rv = ctl_fp_valid(pr, q->fq_func, q->fq_off, q->fq_flags,
	    false)) != 0)
		return rv;
	ctl_enter(pr, &took);
	if (q->fq_add && pr->dpr_rdonly)
		rv = err_set(EPERM, "pid %d: cannot set function probe: "
		    "grabbed read-only", (int)pr->dpr_pid);
	else if (!q->fq_add && (pr->dpr_done || pr->dpr_P == NULL ||
	    pr->dpr_rdonly))
		rv = (int)ctl_fp_del(pr, q);	/* no site is left */
	else
		rv = (int)ctl_request(pr, &req);
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_fprobe_add(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t func,
    size_t off, int flags, dtproc_hit_f *fn, void *arg)
{
	ctl_fpreq_t q = { .fq_add = true, .fq_func = func, .fq_off = off,
	    .fq_flags = flags, .fq_fn = fn, .fq_arg = arg };

	(void) dtp;
	return ctl_fp_change(pr, &q);
}

DTPROC_API int
dtproc_fprobe_del(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t func,
    size_t off, int flags)
{
	ctl_fpreq_t q = { .fq_add = false, .fq_func = func, .fq_off = off,
	    .fq_flags = flags };

	(void) dtp;
	return ctl_fp_change(pr, &q);
}

DTPROC_API int
dtproc_fprobe_info(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t func,
    size_t off, int flags, dtproc_fprobe_info_t *info)
{
	const ctl_fprobe_t *p;
	bool took;
	int rv;

	(void) dtp;
	if ((rv = ctl_fp_valid(pr, func, off, flags, true)) != 0)
		return rv;
	ctl_enter(pr, &took);
	if ((p = ctl_fp_find(pr->dpr_fp, func, off,
	    flags & ~DTPROC_FP_NOSTOP)) == NULL) {
		rv = err_set(ENOENT, "pid %d: no function probe at %#lx+%#zx",
		    (int)pr->dpr_pid, (unsigned long)func, off);
	} else {
		info->dfi_how = p->fp_how;
		info->dfi_hits = p->fp_hits;
		info->dfi_unwound = p->fp_unwound;
		info->dfi_overflow = p->fp_overflow;
		info->dfi_live = p->fp_live;
	}
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_fprobe_site(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    dtproc_probe_info_t *info)
{
	const ctl_fsite_t *s = NULL;
	bool took;
	int rv = 0;

	(void) dtp;
	ctl_enter(pr, &took);
	if (pr->dpr_fp != NULL)
		s = ctl_fs_find(pr->dpr_fp, addr);
	if (s == NULL || (s->fs_how == 0 && !s->fs_wait)) {
		rv = err_set(ENOENT, "pid %d: no function probe site at %#lx",
		    (int)pr->dpr_pid, (unsigned long)addr);
	} else {
		memset(info, 0, sizeof (*info));
		info->dpi_how = s->fs_how;
		info->dpi_why = s->fs_how == DTPROC_PROBE_TRAP ? s->fs_why :
		    NULL;
		info->dpi_hits = s->fs_hits;
		info->dpi_live = 1;
	}
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_hit_reg(const dtproc_hit_t *hit, const char *name, uint64_t *val)
{
	if (hit == NULL || hit->dh_regs == NULL || name == NULL)
		return err_set(EINVAL, "no registers to read");
	if (arch_reg_named(hit->dh_regs, name, val) != 0)
		return err_set(ENOENT, "no register %s", name);
	if ((hit->dh_flags & DTPROC_HIT_DEFERRED) &&
	    arch_reg_at_return(name) != 0)
		return err_set(ENODATA, "no register %s at a return recorded "
		    "without a stop", name);
	return 0;
}
