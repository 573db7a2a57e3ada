/*
 * release.c - let a process go, in the reference's three modes.
 *
 * KILL is for what we created: SIGKILL through the pidfd (never a reused
 * pid) and reap, so no zombie is left.  RUN is for what we grabbed: every
 * thread is stopped, every site restored (patched ones too), every
 * thread stepped out of the scratch areas, which are unmapped with the
 * shared page unless a thread may come back to one (a signal frame, an
 * untraced vfork child: then they stay, inert, the page's owner word
 * let go so that no gate traps), a trap taken at a site but not
 * yet delivered is drained and rewound (detaching it would kill the
 * victim with SIGTRAP), a gate's signal sent but not yet delivered is
 * drained and swallowed, and each thread is detached with the signal it
 * was about to receive.  Signals still pending in the kernel stay
 * pending.  A group-stopped process stays stopped after detach: the
 * kernel puts it back in its group stop.  HANG leaves a running process
 * stopped too: a SIGSTOP is queued before the threads are let go.
 */
#include "pt_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int
pt_sendsig(pt_proc_t *P, int sig)
{
	if (P->pp_pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, P->pp_pidfd, sig,
		    NULL, 0);
	return kill(P->pp_pid, sig);
}

/*
 * A thread interrupted after executing one of our int3s but before the
 * trap was delivered holds a pending SIGTRAP with pc just past a site.
 * Let the trap arrive now, while we are still attached, and rewind it;
 * signals that come first are held and owed after (pt_run).  One
 * interrupted at a trampoline's stop point, its gate's signal sent but
 * not yet delivered, is stepped one instruction on: the signal's stop
 * comes first, and pt_run swallows it (detached, the program would be
 * sent a SIGURG it ignores, unless it has since learnt to handle it).
 */
static void
pt_drain(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T = pt_thr_find(P, tid);
	arch_regs_t regs;
	uintptr_t site;
	pt_ran_t ran;
	pid_t pid;

	if (T == NULL || !(T->pt_flags & PT_TF_STOPPED) ||
	    (T->pt_flags & PT_TF_SIGSTOP) || pt_thr_regs(T, &regs) != 0)
		return;
	pid = (T->pt_flags & PT_TF_GUEST) ? tid : P->pp_pid;
	if (pt_tramp_hit(P, arch_pc(&regs), &site) != 0) {
		if (!pt_sig_pending(pid, tid, ARCH_TRAMP_SIG))
			return;
		(void) pt_run(P, tid, PT_RUN_STEP, &ran);
	} else {
		if (!pt_gone_find(P, arch_trap_site(&regs)) ||
		    !pt_sig_pending(pid, tid, SIGTRAP))
			return;
		if (pt_run(P, tid, 0, &ran) == 0 &&
		    ran.pr_kind == PT_RAN_TRAP &&
		    (T = pt_thr_find(P, tid)) != NULL &&
		    pt_thr_regs(T, &regs) == 0) {
			arch_set_pc(&T->pt_regs, arch_trap_site(&regs));
			T->pt_regs_dirty = true;
			/* a hit: it may have reset it */
			pt_trapsig_check(P, tid);
		}
	}
	pt_unhold(P, tid);
	if ((T = pt_thr_find(P, tid)) != NULL)
		pt_thr_flush(T);
}

/* Detach TID with the signal it owes (after draining a pending trap). */
static void
pt_detach_one(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T;
	int sig;

	pt_drain(P, tid);
	if ((T = pt_thr_find(P, tid)) == NULL)
		return;
	pt_thr_flush(T);
	sig = (T->pt_flags & PT_TF_SIGSTOP) ? T->pt_sig : 0;
	if (sig != 0 && T->pt_has_info)
		(void) ptrace(PTRACE_SETSIGINFO, tid, 0, &T->pt_info);
	(void) ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig);
}

static void
pt_detach_all(pt_proc_t *P)
{
	/* draining may see threads die (the table changes): by tid */
	while (P->pp_nthr > 0) {
		pt_thread_t *T = &P->pp_thr[P->pp_nthr - 1];
		pid_t tid = T->pt_tid;

		/*
		 * A thread past its exit stop cannot be detached: it ends as
		 * a zombie only its tracer may reap, so reap it, or it stays
		 * "traced by" us.  Not the leader: its zombie is reported
		 * only once the whole group is gone, and the kernel hands it
		 * to the parent when this thread stops tracing.
		 */
		if (T->pt_flags & PT_TF_EXITING) {
			int st;

			if (tid != P->pp_pid)
				(void) pt_wait_tid(tid, &st);
		} else {
			pt_detach_one(P, tid);
		}
		pt_thr_del(P, tid);
	}
}

/*
 * Guests (vfork children, processes sharing the memory) go first: the
 * text is clean now, and each may owe a trap from a site of ours.  A
 * thread waiting in vfork cannot be stopped, so it cannot be detached
 * either, and its child may take any time to exec: nothing waits for
 * it.  It stays attached, asleep, until its owner thread ends (the
 * kernel then lets it go; a control thread ends right after release),
 * or reports its VFORK_DONE to an owner that lives on: a core caller
 * that keeps its thread must collect that stop itself.
 */
static void
pt_guests_go(pt_proc_t *P)
{
	for (int i = P->pp_nthr - 1; i >= 0; i--) {
		if (i < P->pp_nthr && (P->pp_thr[i].pt_flags & PT_TF_GUEST)) {
			pid_t tid = P->pp_thr[i].pt_tid;

			pt_detach_one(P, tid);
			pt_thr_del(P, tid);
		}
	}
}

static int
pt_release_kill(pt_proc_t *P)
{
	int rv = 0;

	/* vfork children share the text: clean it before they outlive us */
	for (int i = 0; i < P->pp_nthr; i++) {
		if (P->pp_thr[i].pt_flags & PT_TF_GUEST) {
			if (pt_gather(P, PT_WHY_REQUESTED) == 0)
				(void) pt_bkpt_remove_all(P);
			break;
		}
	}
	pt_guests_go(P);
	if (pt_sendsig(P, SIGKILL) != 0 && errno != ESRCH)
		rv = -errno;
	while (P->pp_state != PT_DEAD && P->pp_state != PT_LOST) {
		int r = pt_collect(1);

		if (r == -ECHILD)
			break;
	}
	return rv;
}

int
pt_release(pt_proc_t *P, pt_release_t how)
{
	int rv = 0;

	if (P == NULL)
		return 0;
	if (P->pp_rdonly) {
		pt_proc_free(P);
		return 0;
	}
	PT_ASSERT_OWNER(P);
	/* children parked for owners nobody will start now: let them go */
	for (int i = 0; i < P->pp_evlen; i++) {
		pt_park_t *pk = &P->pp_evq[(P->pp_evhead + i) % PT_EVQ_MAX].
		    pe_park;

		pt_park_undo(pk);
		pk->pk_pid = 0;
	}
	if (how == PT_RELEASE_DEFAULT)
		how = P->pp_created ? PT_RELEASE_KILL : PT_RELEASE_RUN;
	pt_dprintf("releasing pid %d (%s)\n", (int)P->pp_pid,
	    how == PT_RELEASE_KILL ? "kill" : how == PT_RELEASE_RUN ? "run" :
	    "hang");

	if (P->pp_state != PT_DEAD && P->pp_state != PT_LOST) {
		if (how == PT_RELEASE_KILL) {
			rv = pt_release_kill(P);
		} else if (pt_gather(P, PT_WHY_REQUESTED) == 0) {
			rv = pt_bkpt_remove_all(P);
			/*
			 * Every thread out of the scratch areas before any
			 * goes: a guest (a process sharing the memory) let go
			 * inside a copy would meet the area unmapped.
			 */
			/*
			 * The shared page is let go (trampolines skip their
			 * traps) and, once no scratch area is left for a
			 * trampoline to run in or return to, unmapped
			 * (tramp.c).
			 */
			(void) pt_xol_fini(P);
			pt_tramp_fini(P);
			pt_guests_go(P);
			if (how == PT_RELEASE_HANG)
				(void) pt_sendsig(P, SIGSTOP);
			/*
			 * A thread detached in a group stop is woken by the
			 * kernel to re-enter it, before it runs any code of
			 * its own; only /proc's state letter lags a moment,
			 * and nothing marks its return that we could wait on.
			 */
			pt_detach_all(P);
		}
	}
	/* a dead process may leave guests: they share the old text */
	if (P->pp_nthr > 0) {
		(void) pt_bkpt_remove_all(P);
		pt_detach_all(P);
	}
	pt_proc_free(P);
	return rv;
}
