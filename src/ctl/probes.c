/*
 * probes.c - dtproc_probe_*: counted (or stopping) probes of one process,
 * by address, carried by a trampoline where the site allows it.
 *
 * The probes layer decides how a site is carried (prb_arm): patched with
 * a jump to a trampoline that counts each hit in the shared page (and,
 * for a STOP probe, traps to us), or an int3 with the reason it could
 * not be patched.  A patched site's hits are read from the page with an
 * atomic load, so dtproc_probe_info needs no request and never stops the
 * process; an int3 site's hits are counted here by the control thread at
 * each stop.  Either way the record keeps a base (cp_hits, cp_missed)
 * into which the live counter is folded when the site is withdrawn
 * (dlclose, exec, exit, release): the count outlives the site, and the
 * record stays until dtproc_probe_del or the handle's end.
 *
 * Locking: the table is changed by the control thread with dpr_lock
 * held (requests, events), or by a client holding dpr_lock where no
 * ptrace is needed (deleting a withdrawn record); dtproc_probe_info
 * reads it under dpr_lock.  cp_ctr is valid while the core knows the
 * site: every change that makes the core forget it (prune, exec, exit,
 * release) folds and clears it first, on the control thread, under the
 * lock; a prune is preceded by a read of every live counter
 * (ctl_probe_seen), since the core frees the counter with the site.
 *
 * Pending probes.  prb_arm says -EAGAIN when no code may be edited now:
 * an untraced vfork child runs on the process's memory, or every thread
 * is inside a system call the kernel has not finished (the exec stop,
 * where the shared page cannot be made: no thread can run a call for
 * it).  The probe is kept with cp_how 0 and armed again at the next
 * event (by then the exec is over), at the parent's VFORK_DONE, and at
 * any later event once PRB_RETRY_MS have passed since the last try.
 *
 * Upgrades.  A site refused because a thread was inside its window (its
 * pc, or a word on its stack) is armed as an int3, which is always
 * right, and tried again as a trampoline on a timer (the control
 * thread's wait interrupted every PRB_UP_MS, doubling to PRB_UP_MAX_MS
 * while it keeps failing: a thread asleep in the window forever must not
 * cost a stop of every thread each few milliseconds), since nothing the
 * victim does announces that the thread has moved on.  The int3 is
 * converted in place with every thread stopped (PRB_TAKE): no hit is
 * lost between the two.  The agent's r_brk likewise.
 *
 * The agent's site.  r_brk (ld.so's _dl_debug_state) is an int3 of the
 * rtld agent; ctl_probe_brk asks the probes layer to patch it as a trap
 * site too, so that it keeps working if we die and leaves no int3 that
 * would hold vfork children.  Its hits still reach the agent as
 * breakpoint events at the same address.  Planted at an exec stop, it
 * is patched at the first event after (-EAGAIN there, as above).
 */
#include "ctl.h"
#include "probe/probe.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PRB_RETRY_MS	10	/* pending probes: at most this often */
#define PRB_UP_MS	20	/* upgrades: first period, */
#define PRB_UP_MAX_MS	2000	/* and longest */
#define PRB_BUSY	CTL_WHY_BUSY
#define PRB_EARLY	"armed at the exec stop"

ctl_probe_t *
ctl_probe_find(const dtproc_proc_t *pr, uintptr_t addr)
{
	return ahash_find(&pr->dpr_probes, addr);
}

/* Forget the record at ADDR (no site is touched). */
void
ctl_probe_drop(dtproc_proc_t *pr, uintptr_t addr)
{
	ctl_probe_t *p = ahash_find(&pr->dpr_probes, addr);

	if (p == NULL)
		return;
	if (p->cp_live && p->cp_how == 0)
		pr->dpr_npending--;
	if (p->cp_upgrade)
		pr->dpr_nupgrade--;
	ahash_remove(&pr->dpr_probes, p);
	free(p);
}

static int
ctl_probe_prbflags(int flags)
{
	return (flags & DTPROC_PROBE_STOP ? PRB_TRAP : 0) |
	    (flags & DTPROC_PROBE_INT3 ? PRB_INT3 : 0);
}

void
ctl_wake_timer(dtproc_proc_t *pr)
{
	long ms = pr->dpr_nupgrade > 0 || pr->dpr_brk_retry ?
	    pr->dpr_up_ms : 0;

	/* the drain's period, if shorter (or no upgrade waits) */
	if (ctl_fp_ticks(pr) && (ms == 0 || ms > CTL_DRAIN_MS))
		ms = CTL_DRAIN_MS;
	/* (the process gone, the wake-up is too) */
	if (pr->dpr_wake != NULL)
		(void) pt_wake_every(pr->dpr_wake, ms);
}

/*
 * One more site to upgrade (a probe's, or a function probe's site,
 * fprobes.c): the timer runs from now, at its first period.
 */
void
ctl_probe_upgrade_due(dtproc_proc_t *pr)
{
	if (pr->dpr_nupgrade++ == 0 && !pr->dpr_brk_retry) {
		pr->dpr_up_ms = PRB_UP_MS;
		clock_gettime(CLOCK_MONOTONIC, &pr->dpr_up_try);
		(void) pt_wake_every(pr->dpr_wake, PRB_UP_MS);
	}
}

/* N sites wait no more (upgraded, given up, gone): the last stops the timer. */
void
ctl_probe_upgrade_gone(dtproc_proc_t *pr, size_t n)
{
	pr->dpr_nupgrade -= n < pr->dpr_nupgrade ? n : pr->dpr_nupgrade;
	if (n > 0 && pr->dpr_nupgrade == 0 && !pr->dpr_brk_retry)
		ctl_wake_timer(pr);
}

/*
 * Arm P's site: 0 (armed, or pending when no code may be edited now:
 * cp_how stays 0), or -errno.  Control thread.
 */
static int
ctl_probe_arm(dtproc_proc_t *pr, ctl_probe_t *p)
{
	const char *why = NULL;
	int how = 0, rv;

	rv = prb_arm(pr->dpr_P, pr->dpr_sym, p->cp_addr,
	    ctl_probe_prbflags(p->cp_flags), &how, &why);
	/*
	 * At the exec stop of an exact start-up (control.c) the first
	 * instructions are ld.so's, run before any event that could arm
	 * a pending probe: an int3 now, upgraded later like a busy one.
	 */
	if (rv == -EAGAIN && pr->dpr_startup &&
	    !(p->cp_flags & DTPROC_PROBE_INT3) &&
	    (rv = prb_arm(pr->dpr_P, pr->dpr_sym, p->cp_addr,
	    ctl_probe_prbflags(p->cp_flags) | PRB_INT3, &how, &why)) == 0) {
		why = PRB_EARLY;
		p->cp_upgrade = true;
		ctl_probe_upgrade_due(pr);
	}
	if (rv == -EAGAIN)
		return 0;
	if (rv != 0)
		return rv;
	p->cp_why = why;
	p->cp_ctr = NULL;
	if (how == PRB_HOW_TRAMP) {
		p->cp_how = DTPROC_PROBE_TRAMP;
		p->cp_why = NULL;
		p->cp_ctr = pt_tramp_counters(pr->dpr_P, p->cp_addr);
	} else {
		p->cp_how = DTPROC_PROBE_TRAP;
		if (p->cp_why == NULL)	/* dtproc(3) promises a reason */
			p->cp_why = p->cp_flags & DTPROC_PROBE_INT3 ?
			    "int3 asked" : "no reason given";
		if (!p->cp_upgrade && strcmp(p->cp_why, PRB_BUSY) == 0) {
			p->cp_upgrade = true;
			ctl_probe_upgrade_due(pr);
		}
	}
	return 0;
}

/* A CTL_PROBE_ADD request, on the control thread. */
long
ctl_probe_add(dtproc_proc_t *pr, const ctl_req_t *req)
{
	ctl_probe_t *p = ctl_probe_find(pr, req->cr_addr);
	int rv;

	if (p != NULL && p->cp_live)
		return err_set(EEXIST, "pid %d: a probe at %#lx already",
		    (int)pr->dpr_pid, (unsigned long)req->cr_addr);
	if (p != NULL)		/* withdrawn: a new site, counted anew */
		ctl_probe_drop(pr, req->cr_addr);
	if ((p = ahash_new(&pr->dpr_probes, sizeof (*p), req->cr_addr)) ==
	    NULL)
		return err_set(ENOMEM, "pid %d: out of memory",
		    (int)pr->dpr_pid);
	p->cp_flags = req->cr_flags;
	p->cp_fn = req->cr_fn;
	p->cp_arg = req->cr_arg;
	if ((rv = ctl_probe_arm(pr, p)) != 0) {
		ahash_remove(&pr->dpr_probes, p);
		free(p);
		return rv;
	}
	p->cp_live = true;
	if (p->cp_how == 0) {
		pr->dpr_npending++;
		pr->dpr_pend_now = true;	/* at the next event */
	}
	return 0;
}

/*
 * A CTL_PROBE_LIST request: each spec as a CTL_PROBE_ADD; how many
 * were armed, the last failure's message kept as the error.
 */
long
ctl_probe_add_list(dtproc_proc_t *pr, dtproc_probe_spec_t *specs, size_t n)
{
	err_rec_t last;
	long armed = 0;
	bool failed = false;

	for (size_t i = 0; i < n; i++) {
		if (specs[i].dps_err != 0)	/* refused by the caller */
			continue;
		ctl_req_t one = { .cr_op = CTL_PROBE_ADD,
		    .cr_addr = specs[i].dps_addr, .cr_fn = specs[i].dps_fn,
		    .cr_arg = specs[i].dps_arg,
		    .cr_flags = specs[i].dps_flags };

		specs[i].dps_err = (int)ctl_probe_add(pr, &one);
		if (specs[i].dps_err == 0) {
			armed++;
		} else {
			err_save(&last);
			failed = true;
		}
	}
	if (failed)
		err_restore(&last);
	return armed;
}

/* A CTL_PROBE_DEL request, on the control thread: the site undone. */
long
ctl_probe_del(dtproc_proc_t *pr, uintptr_t addr)
{
	ctl_probe_t *p = ctl_probe_find(pr, addr);
	long rv = 0;

	if (p == NULL)
		return err_set(ENOENT, "pid %d: no probe at %#lx",
		    (int)pr->dpr_pid, (unsigned long)addr);
	if (p->cp_live && p->cp_how != 0)
		rv = prb_disarm(pr->dpr_P, addr,
		    ctl_probe_prbflags(p->cp_flags));
	ctl_probe_drop(pr, addr);
	return rv;
}

/*
 * A breakpoint event at ADDR: an int3 probe's hit counted; a STOP
 * probe's callback copied into CALLS (a callback may edit the table).
 * How many were copied.
 */
int
ctl_probe_hit(dtproc_proc_t *pr, uintptr_t addr, ctl_call_t *calls, int max)
{
	ctl_probe_t *p = ctl_probe_find(pr, addr);

	if (p == NULL || !p->cp_live)
		return 0;
	if (p->cp_how == DTPROC_PROBE_TRAP)
		p->cp_hits++;
	if (!(p->cp_flags & DTPROC_PROBE_STOP) || p->cp_fn == NULL || max < 1)
		return 0;
	calls[0].cc_fn = p->cp_fn;
	calls[0].cc_arg = p->cp_arg;
	return 1;
}

static bool
ctl_probe_due(dtproc_proc_t *pr)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - pr->dpr_pend_try.tv_sec) * 1000L +
	    (now.tv_nsec - pr->dpr_pend_try.tv_nsec) / 1000000L;
	return ms >= PRB_RETRY_MS;
}

/*
 * Arm the pending probes again (NOW: the vfork child that held them is
 * gone; else only if PRB_RETRY_MS passed).  One that cannot be armed
 * for another reason is withdrawn, its how 0.  Control thread.
 */
void
ctl_probe_retry(dtproc_proc_t *pr, bool now)
{
	if (pr->dpr_brk_todo)
		ctl_probe_brk(pr);
	if (pr->dpr_npending == 0 || (!now && !pr->dpr_pend_now &&
	    !ctl_probe_due(pr)))
		return;
	pr->dpr_pend_now = false;
	clock_gettime(CLOCK_MONOTONIC, &pr->dpr_pend_try);
	for (ctl_probe_t *p = ahash_first(&pr->dpr_probes); p != NULL;
	    p = ahash_next(&pr->dpr_probes, p)) {
		if (!p->cp_live || p->cp_how != 0)
			continue;
		if (ctl_probe_arm(pr, p) != 0) {
			p->cp_live = false;
			pr->dpr_npending--;
		} else if (p->cp_how != 0) {
			pr->dpr_npending--;
		} else {
			return;	/* still held: the rest would be too */
		}
	}
}

/* Before a prune: every live counter read, the core frees them with it. */
void
ctl_probe_seen(dtproc_proc_t *pr)
{
	for (ctl_probe_t *p = ahash_first(&pr->dpr_probes); p != NULL;
	    p = ahash_next(&pr->dpr_probes, p)) {
		if (p->cp_ctr == NULL)
			continue;
		p->cp_seen[0] = atomic_load(&p->cp_ctr[0]);
		p->cp_seen[1] = atomic_load(&p->cp_ctr[1]);
	}
}

/*
 * Fold P's live count into its record: PRUNED, the value read before the
 * prune; EXEC, the old image's counter (the core keeps our view of its
 * page until the next exec); else the counter if the core still has it.
 */
static void
ctl_probe_fold(dtproc_proc_t *pr, ctl_probe_t *p, bool pruned, bool exec)
{
	if (!p->cp_live)
		return;
	if (p->cp_ctr != NULL && pruned) {
		p->cp_hits += p->cp_seen[0];
		p->cp_missed += p->cp_seen[1];
	} else if (p->cp_ctr != NULL && (exec || (pr->dpr_P != NULL &&
	    pt_tramp_counters(pr->dpr_P, p->cp_addr) == p->cp_ctr))) {
		p->cp_hits += atomic_load(&p->cp_ctr[0]);
		p->cp_missed += atomic_load(&p->cp_ctr[1]);
	}
	if (p->cp_how == 0)
		pr->dpr_npending--;
	if (p->cp_upgrade) {
		p->cp_upgrade = false;
		pr->dpr_nupgrade--;
	}
	p->cp_ctr = NULL;
	p->cp_live = false;
}

/*
 * The site at ADDR is gone (PRUNED: forgotten by pt_bkpt_prune, its
 * counter read by ctl_probe_seen before): its count folded into the
 * record, which stays for dtproc_probe_info.
 */
void
ctl_probe_withdraw(dtproc_proc_t *pr, uintptr_t addr, bool pruned)
{
	ctl_probe_t *p = ctl_probe_find(pr, addr);

	if (p != NULL)
		ctl_probe_fold(pr, p, pruned, false);
}

/* Exec (EXEC: at its event), exit, release: every site goes. */
void
ctl_probe_withdraw_all(dtproc_proc_t *pr, bool exec)
{
	for (ctl_probe_t *p = ahash_first(&pr->dpr_probes); p != NULL;
	    p = ahash_next(&pr->dpr_probes, p))
		ctl_probe_fold(pr, p, false, exec);
	pr->dpr_npending = 0;
}

void
ctl_probe_clear(dtproc_proc_t *pr)
{
	ahash_clear(&pr->dpr_probes, free);
	free(pr->dpr_upd);
	pr->dpr_upd = NULL;
	pr->dpr_nupd = pr->dpr_upd_max = 0;
	pr->dpr_npending = 0;
}

/*
 * After the agent planted r_brk (create, exec: dpr_brk_todo set), and at
 * the events after while prb_arm says -EAGAIN: patch it as a trap site
 * too where the probes layer can.  A failure leaves the agent's int3,
 * which works as before.  At a grab the agent has not planted it yet
 * (dpr_brk_unplanted): patched, it gets the agent's stop as one more
 * user of the trampoline; anything else plants the int3 then, so that
 * none is ever in the text while the patch is being made.  Control
 * thread.
 */
void
ctl_probe_brk(dtproc_proc_t *pr)
{
	uintptr_t addr = rtld_brk(pr->dpr_rtld);
	const char *why;
	bool unplanted;
	int how, rv;

	if (addr == 0 || addr == pr->dpr_brk) {
		pr->dpr_brk_todo = false;
		pr->dpr_brk_unplanted = false;
		return;
	}
	rv = prb_arm(pr->dpr_P, pr->dpr_sym, addr, PRB_TRAP, &how, &why);
	unplanted = pr->dpr_brk_unplanted;
	pr->dpr_brk_unplanted = false;
	/* the agent's own stop: on the trampoline, else an int3 (the patch
	   refused, or to wait) */
	if (unplanted && (rv != 0 || how != PRB_HOW_INT3) &&
	    rtld_plant(pr->dpr_rtld) != 0) {
		pt_dprintf("pid %d: r_brk %#lx not planted: %s\n",
		    (int)pr->dpr_pid, (unsigned long)addr, err_msg());
		if (rv == 0)
			(void) prb_disarm(pr->dpr_P, addr, PRB_TRAP);
		pr->dpr_brk_todo = false;
		return;
	}
	if (rv == -EAGAIN)
		return;			/* at the next event */
	pr->dpr_brk_todo = false;
	if (rv == 0 && how == PRB_HOW_INT3) {
		/* the agent's own int3 serves; ours goes (at a grab the
		   probe's alone was planted) */
		if (!unplanted)
			(void) pt_bkpt_del(pr->dpr_P, addr);
		if (why != NULL && strcmp(why, PRB_BUSY) == 0 &&
		    !pr->dpr_brk_retry) {
			pr->dpr_brk_retry = true;
			if (pr->dpr_nupgrade == 0) {
				pr->dpr_up_ms = PRB_UP_MS;
				clock_gettime(CLOCK_MONOTONIC,
				    &pr->dpr_up_try);
				(void) pt_wake_every(pr->dpr_wake, PRB_UP_MS);
			}
		}
		pt_dprintf("pid %d: r_brk %#lx stays the agent's int3: %s\n",
		    (int)pr->dpr_pid, (unsigned long)addr, why);
	} else if (rv == 0)
		pr->dpr_brk = addr;
	else
		pt_dprintf("pid %d: r_brk %#lx stays the agent's int3: %s\n",
		    (int)pr->dpr_pid, (unsigned long)addr, err_msg());
}

/*
 * The agent's r_brk hit while it waits for its upgrade: the thread is
 * at the site's first byte, not yet in the copy that carries it (where
 * every timed try found it, the rendezvous being at r_brk), so the
 * site may be patched now; the step then runs the trampoline's copy.
 * An early vfork child is let go only once r_brk is no int3.
 */
void
ctl_probe_brk_hit(dtproc_proc_t *pr, uintptr_t addr)
{
	if (!pr->dpr_brk_retry || addr != rtld_brk(pr->dpr_rtld))
		return;
	pr->dpr_brk_retry = false;
	pr->dpr_brk_todo = true;
	ctl_probe_brk(pr);
	if (!pr->dpr_brk_retry && pr->dpr_nupgrade == 0)
		ctl_wake_timer(pr);
}

/*
 * Site ADDR (a probe's, a function probe's) is a trampoline now.  The
 * client's DTPROC_EV_UPGRADE, the one sign of it, comes once the pass
 * is over (ctl_probe_announce): its callback may add or delete probes,
 * and the pass walks their lists.  Without memory it is not announced.
 */
void
ctl_probe_upgraded(dtproc_proc_t *pr, uintptr_t addr)
{
	if (pr->dpr_hdl->dph_event == NULL)
		return;
	if (pr->dpr_nupd == pr->dpr_upd_max) {
		size_t max = pr->dpr_upd_max ? 2 * pr->dpr_upd_max : 8;
		uintptr_t *a = realloc(pr->dpr_upd, max * sizeof (*a));

		if (a == NULL) {
			pt_dprintf("pid %d: upgrade of %#lx not announced: "
			    "out of memory\n", (int)pr->dpr_pid,
			    (unsigned long)addr);
			return;
		}
		pr->dpr_upd = a;
		pr->dpr_upd_max = max;
	}
	pr->dpr_upd[pr->dpr_nupd++] = addr;
}

static void
ctl_probe_announce(dtproc_proc_t *pr)
{
	for (size_t i = 0; i < pr->dpr_nupd; i++)
		ctl_emit(pr, DTPROC_EV_UPGRADE, NULL, NULL, 0,
		    pr->dpr_upd[i]);
	pr->dpr_nupd = 0;
}

/*
 * Try the upgrades once their period has passed: each waiting probe's
 * int3 converted to a trampoline where no thread is in the window now,
 * the agent's r_brk likewise.  The period doubles while nothing moves,
 * and the timer stops once none is left.  Control thread.
 */
void
ctl_probe_upgrade(dtproc_proc_t *pr)
{
	struct timespec now;
	bool moved = false;
	long ms;

	if (pr->dpr_nupgrade == 0 && !pr->dpr_brk_retry)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - pr->dpr_up_try.tv_sec) * 1000L +
	    (now.tv_nsec - pr->dpr_up_try.tv_nsec) / 1000000L;
	if (ms < pr->dpr_up_ms)
		return;
	pr->dpr_up_try = now;
	if (pr->dpr_brk_retry) {
		pr->dpr_brk_retry = false;
		pr->dpr_brk_todo = true;
		ctl_probe_brk(pr);
		moved |= !pr->dpr_brk_retry && !pr->dpr_brk_todo;
	}
	for (ctl_probe_t *p = ahash_first(&pr->dpr_probes);
	    p != NULL && pr->dpr_nupgrade > 0;
	    p = ahash_next(&pr->dpr_probes, p)) {
		const char *why = NULL;
		int how = 0;
		ctl_call_t c;

		if (!p->cp_upgrade || !p->cp_live)
			continue;
		/* a client's breakpoint there too: its int3 stays */
		if (!(p->cp_flags & DTPROC_PROBE_STOP) &&
		    ctl_bkpt_calls(pr, p->cp_addr, &c, 1) > 0)
			continue;
		if (prb_arm(pr->dpr_P, pr->dpr_sym, p->cp_addr,
		    ctl_probe_prbflags(p->cp_flags) | PRB_TAKE, &how,
		    &why) != 0)
			continue;
		/* either way one user too many: the old int3's */
		(void) pt_bkpt_del(pr->dpr_P, p->cp_addr);
		if (how != PRB_HOW_TRAMP) {
			if (why == NULL || strcmp(why, PRB_BUSY) != 0) {
				p->cp_why = why;	/* for good */
				p->cp_upgrade = false;
				pr->dpr_nupgrade--;
			}
			continue;
		}
		p->cp_how = DTPROC_PROBE_TRAMP;
		p->cp_why = NULL;
		p->cp_ctr = pt_tramp_counters(pr->dpr_P, p->cp_addr);
		p->cp_upgrade = false;
		pr->dpr_nupgrade--;
		moved = true;
		ctl_probe_upgraded(pr, p->cp_addr);
	}
	/* function probes' sites (return sites above all) likewise */
	if (pr->dpr_nupgrade > 0)
		moved |= ctl_fp_upgrade(pr);
	ctl_probe_announce(pr);
	if (pr->dpr_nupgrade == 0 && !pr->dpr_brk_retry) {
		ctl_wake_timer(pr);
		return;
	}
	if (!moved && pr->dpr_up_ms < PRB_UP_MAX_MS) {
		pr->dpr_up_ms *= 2;
		ctl_wake_timer(pr);
	}
}
