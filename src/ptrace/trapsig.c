/*
 * trapsig.c - the victim's SIGTRAP, kept as it was.
 *
 * A trap instruction ends in a forced SIGTRAP: when SIGTRAP is blocked
 * in the trapping thread, or ignored, the kernel resets its disposition
 * to SIG_DFL and unblocks it in that thread, before the tracer sees the
 * stop.  A program's own SIGTRAP handler would be lost at the first hit
 * of a thread that blocks every signal (worker threads often do), or
 * at a probe inside that handler; an ignored SIGTRAP would kill it the
 * next time it comes.  What the kernel changed cannot be read back, so
 * the disposition is learned beforehand: when the first site of an image
 * is armed (an exec resets handlers, and a process grabbed already has
 * its own), from /proc's SigCgt and SigIgn, and for a handler, its whole
 * struct through an injected rt_sigaction.  After a hit, only when the
 * disposition was not the default, /proc says whether it was reset: the
 * handler is put back, and for a caught signal (reset only when blocked)
 * the thread's mask blocks SIGTRAP again.
 *
 * Our own traps are kept from doing the same: a single step runs with
 * SIGTRAP unblocked in the thread's mask, an injected system call comes
 * back through its exit stop where it can (inject.c), and after steps
 * in a process that ignores SIGTRAP the disposition is checked again.
 *
 * A thread found blocking every other signal is taken to have blocked
 * SIGTRAP too, and blocks it again: two threads trapping at once both
 * lose it, and the reset shows at the first one's stop only.
 *
 * Left open: a handler installed or changed after arming is not known
 * (gdb and ltrace share the problem, and keep no record at all); an
 * ignored SIGTRAP that was also blocked, in a thread that blocks only
 * some signals, comes back unblocked; with the default disposition, a
 * thread that blocked SIGTRAP has it unblocked (the signal is then
 * delivered rather than left pending).
 */
#include "pt_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#define PT_SIGBIT(s)	(1ULL << ((s) - 1))
#define PT_TRAPBIT	PT_SIGBIT(SIGTRAP)
/* every signal a thread can block, but SIGTRAP and glibc's own two */
#define PT_ALLBUT	(~(PT_SIGBIT(SIGKILL) | PT_SIGBIT(SIGSTOP) | \
	PT_SIGBIT(32) | PT_SIGBIT(33) | PT_TRAPBIT))

/* SIGTRAP's bit in the status field FIELD of thread TID, or -1. */
static int
pt_trapsig_bit(pt_proc_t *P, pid_t tid, const char *field)
{
	char v[64];

	if (pt_status_text(P->pp_pid, tid, field, v, sizeof (v)) != 0)
		return -1;
	return (strtoull(v, NULL, 16) & PT_TRAPBIT) != 0;
}

/* A thread of the process to read /proc and run calls in. */
static pid_t
pt_trapsig_tid(pt_proc_t *P, pid_t keep)
{
	if (keep != 0)
		return keep;
	for (int i = 0; i < P->pp_nthr; i++) {
		if (!(P->pp_thr[i].pt_flags & (PT_TF_GUEST | PT_TF_EXITING)))
			return P->pp_thr[i].pt_tid;
	}
	return 0;
}

void
pt_trapsig_learn(pt_proc_t *P, pid_t keep)
{
	pid_t tid = pt_trapsig_tid(P, keep);
	int ign, cgt;

	P->pp_trap = PT_TRAP_NONE;	/* not asked again for this image */
	if (tid == 0 || (ign = pt_trapsig_bit(P, tid, "SigIgn")) < 0 ||
	    (cgt = pt_trapsig_bit(P, tid, "SigCgt")) < 0)
		return;
	memset(&P->pp_trapact, 0, sizeof (P->pp_trapact));
	if (ign) {
		P->pp_trapact.ks_handler = 1;	/* SIG_IGN */
		P->pp_trap = PT_TRAP_IGN;
	} else if (cgt) {
		long args[6] = { SIGTRAP, 0, 0, 8 }, ret = -1;

		if (pt_syscall_mem(P, keep, SYS_rt_sigaction, args, 2,
		    &P->pp_trapact, sizeof (P->pp_trapact), &ret) == 0 &&
		    ret == 0)
			P->pp_trap = PT_TRAP_CAUGHT;
	} else {
		P->pp_trap = PT_TRAP_DFL;
	}
	pt_dprintf("pid %d: SIGTRAP %s\n", (int)P->pp_pid,
	    P->pp_trap == PT_TRAP_IGN ? "ignored" : P->pp_trap ==
	    PT_TRAP_CAUGHT ? "caught" : P->pp_trap == PT_TRAP_DFL ?
	    "default" : "unknown");
}

void
pt_trapsig_check(pt_proc_t *P, pid_t tid)
{
	long args[6] = { SIGTRAP, 0, 0, 8 }, ret = -1;
	arch_ksigaction_t act = P->pp_trapact;
	bool reset, block;
	uint64_t mask;

	if (P->pp_trap != PT_TRAP_IGN && P->pp_trap != PT_TRAP_CAUGHT)
		return;
	if (pt_ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof (mask),
	    &mask) != 0)
		mask = PT_TRAPBIT;	/* unknown: left alone */
	reset = pt_trapsig_bit(P, tid, P->pp_trap == PT_TRAP_IGN ? "SigIgn" :
	    "SigCgt") == 0;
	/*
	 * Blocked again: where a caught SIGTRAP was reset (only where it was
	 * blocked), and in a thread blocking every other signal (two threads
	 * trapping at once both lose it, the reset shows at one stop only).
	 */
	block = !(mask & PT_TRAPBIT) && ((reset && P->pp_trap ==
	    PT_TRAP_CAUGHT) || (mask & PT_ALLBUT) == PT_ALLBUT);
	if (block)
		pt_trapsig_reblock(tid, mask | PT_TRAPBIT);
	if (!reset)
		return;		/* the disposition is as it was */
	pt_dprintf("pid %d: thread %d: SIGTRAP reset by a hit: put back\n",
	    (int)P->pp_pid, (int)tid);
	if (pt_syscall_mem(P, tid, SYS_rt_sigaction, args, 1, &act,
	    sizeof (act), &ret) != 0 || ret != 0)
		pt_dprintf("pid %d: SIGTRAP's disposition not put back\n",
		    (int)P->pp_pid);
}

void
pt_trapsig_stepped(pt_proc_t *P, pid_t tid)
{
	if (P->pp_trap == PT_TRAP_IGN && pt_thr_find(P, tid) != NULL)
		pt_trapsig_check(P, tid);
}

bool
pt_trapsig_unblock(pid_t tid, uint64_t *mask)
{
	uint64_t m;

	if (pt_ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof (*mask),
	    mask) != 0 || !(*mask & PT_TRAPBIT))
		return false;
	m = *mask & ~PT_TRAPBIT;
	return pt_ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof (m), &m) == 0;
}

void
pt_trapsig_reblock(pid_t tid, uint64_t mask)
{
	(void) pt_ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof (mask), &mask);
}
