/*
 * step.c - the one primitive that lets a thread run and tells what came
 * of it (pt_run), and the re-delivery of signals it held (pt_unhold).
 *
 * Every place that runs one thread on its own - a step over a site, out
 * of a scratch area, an injected system call, a trap drained at release,
 * the wait for a created child's exec - is a short policy on top of this:
 * restart the thread once (single-step or continue), collect its next
 * real stop and say which kind it was:
 *
 *   STEP    the single step completed (the step's own trap)
 *   TRAP    it executed an int3 (the kernel's trap), pc just past it
 *   FAULT   its instruction raised a synchronous fault; the thread owes
 *           that signal (pt_sig, with its siginfo)
 *   EVENT   a ptrace event (clone, fork, exec, exit...), handed to the
 *           dispatcher as any other event (unless the caller asked to
 *           see it raw: only the exec wait of pt_create)
 *   GONE    the thread died; its exit went to the dispatcher
 *
 * Interrupts and group stops met on the way are absorbed (the thread
 * has not run yet: it is restarted), and so are a trampoline gate's
 * stops (told by signal, sender and pc, as wait.c tells them).  Any
 * other signal is the victim's, arriving meanwhile: it is held with its
 * siginfo (PT_RUN_PASS: every signal is passed on at once instead, as
 * to an untraced process) and given back by pt_unhold() when the policy
 * is done - the first as the signal the thread owes, the others queued to
 * it again - so that no handler runs while the thread is half-way
 * through something of ours, and no signal is re-sent while the policy
 * still runs (a re-sent signal stops the thread again at once).
 *
 * The wait is for any tracee of this owner (waitpid(-1)), never for the
 * one thread alone: a process killed meanwhile parks its other threads
 * in exit stops that only we can end, and its leader's death is not
 * reported before theirs.  Exits and exit stops of other threads are
 * dispatched at once, so death is always seen; their other stops are
 * kept, in order, for the dispatcher to classify once the policy is done
 * (pt_collect takes them first), so no policy ever runs inside another.
 */
#include "pt_impl.h"

#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int
pt_sync_fault(int sig, const siginfo_t *si)
{
	return (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	    sig == SIGFPE) && si->si_code > 0;
}

/* Hold a victim's signal that arrived while T ran for us. */
static void
pt_hold(pt_thread_t *T, const siginfo_t *si)
{
	int sig = si->si_signo;

	/* a standard signal held twice is one, as it would be pending */
	if (sig < SIGRTMIN) {
		for (int i = 0; i < T->pt_nhold; i++) {
			if (T->pt_hold[i].si_signo == sig)
				return;
		}
		if (T->pt_holdmask & (1ULL << (sig - 1)))
			return;
	}
	if (T->pt_nhold < PT_HOLD_MAX)
		T->pt_hold[T->pt_nhold++] = *si;
	else
		T->pt_holdmask |= 1ULL << (sig - 1);	/* details lost */
}

/* Queue SI to T again, with its details where the kernel lets us. */
static void
pt_requeue(pt_proc_t *P, pt_thread_t *T, const siginfo_t *si)
{
	pid_t tgid = (T->pt_flags & PT_TF_GUEST) ? T->pt_tid : P->pp_pid;
	siginfo_t copy = *si;

	/* only a sigqueue-style sender's siginfo may be forged by us */
	if (si->si_code < 0 && si->si_code != SI_TKILL &&
	    syscall(SYS_rt_tgsigqueueinfo, tgid, T->pt_tid, si->si_signo,
	    &copy) == 0)
		return;
	(void) syscall(SYS_tgkill, tgid, T->pt_tid, si->si_signo);
}

void
pt_unhold(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T = pt_thr_find(P, tid);

	if (T == NULL)
		return;
	for (int i = 0; i < T->pt_nhold; i++) {
		/* the first is owed from this signal-delivery stop */
		if (T->pt_sig == 0 && (T->pt_flags & (PT_TF_STOPPED |
		    PT_TF_SIGSTOP)) == (PT_TF_STOPPED | PT_TF_SIGSTOP)) {
			T->pt_sig = T->pt_hold[i].si_signo;
			T->pt_info = T->pt_hold[i];
			T->pt_has_info = 1;
		} else {
			pt_requeue(P, T, &T->pt_hold[i]);
		}
	}
	for (int sig = 1; T->pt_holdmask != 0 && sig <= 64; sig++) {
		if (T->pt_holdmask & (1ULL << (sig - 1)))
			(void) syscall(SYS_tgkill, (T->pt_flags & PT_TF_GUEST) ?
			    tid : P->pp_pid, tid, sig);
	}
	T->pt_nhold = 0;
	T->pt_holdmask = 0;
}

/*
 * The next status of TID.  Others' exits and exit stops are dispatched
 * now; their other stops are kept for later.  0, or -ECHILD when no
 * tracee is left.
 */
static int
pt_run_wait(pid_t tid, int *status)
{
	for (;;) {
		int st;
		pid_t got;

		if (pt_later_take(tid, status))
			return 0;
		got = waitpid(-1, &st, __WALL | __WNOTHREAD);
		if (got < 0) {
			if (errno == EINTR)
				continue;	/* a wake-up: served later */
			return -errno;
		}
		if (got == tid) {
			*status = st;
			return 0;
		}
		if (!WIFSTOPPED(st) || (st >> 16) == PTRACE_EVENT_EXIT)
			pt_redispatch(got, st);
		else
			pt_later_put(got, st);
	}
}

/*
 * A single step and the trap flag.  The kernel sets the flag for a step
 * and clears it when we stop stepping (resume or detach) only while it
 * believes the flag its own.  Stepping a popf (a trampoline's restore of
 * the flags, a program's own) makes it the program's from then on, and
 * each later step too: the thread would be let go with the flag set and
 * die of SIGTRAP one instruction later.  A stepped pushf stores the flag
 * in the image the program (or our trampoline) pops later, running.  So
 * after every stop of a step the flag is put back as it was before the
 * step, in the registers and in an image the step pushed; a thread that
 * set the flag itself (a program stepping itself) keeps it.
 */
typedef struct pt_stepped {
	bool		ps_ok;		/* stepped, REGS its registers before */
	arch_regs_t	ps_regs;
} pt_stepped_t;

static void
pt_step_before(pt_thread_t *T, pt_stepped_t *ps)
{
	ps->ps_ok = pt_thr_regs(T, &ps->ps_regs) == 0 &&
	    !arch_step_flag(&ps->ps_regs);
}

static void
pt_step_after(pt_proc_t *P, pt_thread_t *T, const pt_stepped_t *ps)
{
	uintptr_t pc0 = arch_pc(&ps->ps_regs), sp0 = arch_sp(&ps->ps_regs);
	uint8_t insn[ARCH_FLAGS_PUSH_MAX], b;
	arch_regs_t r;
	uintptr_t at;
	size_t len;

	if (!ps->ps_ok || pt_thr_regs(T, &r) != 0)
		return;
	len = arch_pc(&r) - pc0;
	if (arch_sp(&r) < sp0 && sp0 - arch_sp(&r) <= 8 && len > 0 &&
	    len <= sizeof (insn) &&
	    pt_mem_read(P, pc0, insn, len) == (ssize_t)len &&
	    arch_flags_push(insn, len) == sp0 - arch_sp(&r) &&
	    pt_mem_read(P, (at = arch_sp(&r) + ARCH_STEP_FLAG_BYTE), &b,
	    1) == 1 && (b & ARCH_STEP_FLAG_BIT)) {
		b &= (uint8_t)~ARCH_STEP_FLAG_BIT;
		(void) pt_mem_write(P, at, &b, 1);
	}
	if (arch_step_flag(&r)) {
		/* at once: an event's dispatcher may restart it */
		arch_step_flag_clear(&r);
		if (arch_regs_write(T->pt_tid, &r) == 0) {
			T->pt_regs = r;
			T->pt_regs_dirty = false;
		} else {
			T->pt_regs_ok = false;
		}
	}
}

int
pt_run(pt_proc_t *P, pid_t tid, unsigned how, pt_ran_t *ran)
{
	int req = (how & PT_RUN_STEP) ? PTRACE_SINGLESTEP :
	    (how & PT_RUN_SYSCALL) ? PTRACE_SYSCALL : PTRACE_CONT;
	int pass = 0;

	memset(ran, 0, sizeof (*ran));
	for (;;) {
		pt_thread_t *T = pt_thr_find(P, tid);
		pt_stepped_t ps = { .ps_ok = false };
		int status, sig, event;

		if (T == NULL) {
			ran->pr_kind = PT_RAN_GONE;
			return 0;
		}
		if (req == PTRACE_SINGLESTEP && !(how & PT_RUN_COLLECT))
			pt_step_before(T, &ps);
		pt_thr_flush(T);
		/*
		 * ESRCH: it left its stop (SIGKILL wakes a stopped tracee);
		 * its exit stop or its death is on the way: wait for it.
		 */
		if (!(how & PT_RUN_COLLECT) &&
		    pt_ptrace(req, tid, 0, (void *)(long)pass) < 0 &&
		    errno != ESRCH)
			return -errno;
		how &= ~PT_RUN_COLLECT;
		pass = 0;
		T->pt_flags &= ~(PT_TF_STOPPED | PT_TF_SIGSTOP | PT_TF_EVSTOP |
		    PT_TF_SYSSTOP);
		if (pt_run_wait(tid, &status) != 0) {
			ran->pr_kind = PT_RAN_GONE;
			return 0;
		}
		ran->pr_status = status;
		if (!WIFSTOPPED(status)) {
			pt_redispatch(tid, status);	/* it died */
			ran->pr_kind = PT_RAN_GONE;
			return 0;
		}
		if ((T = pt_thr_find(P, tid)) == NULL) {
			ran->pr_kind = PT_RAN_GONE;
			return 0;
		}
		T->pt_flags |= PT_TF_STOPPED;
		T->pt_regs_ok = false;
		T->pt_regs_dirty = false;
		pt_step_after(P, T, &ps);
		sig = WSTOPSIG(status);
		event = status >> 16;
		if (event == PTRACE_EVENT_STOP) {
			/* an interrupt or a group stop: it has not run yet */
			T->pt_flags = (T->pt_flags & ~PT_TF_INTR) | PT_TF_EVSTOP;
			if (pt_is_stopsig(sig))
				T->pt_flags |= PT_TF_JOBSTOP;
			if (how & PT_RUN_EVSTOP) {
				ran->pr_kind = PT_RAN_EVSTOP;
				return 0;
			}
			continue;
		}
		if (event != 0) {
			ran->pr_kind = PT_RAN_EVENT;
			if (!(how & PT_RUN_EVENTS))
				pt_redispatch(tid, status);
			return 0;
		}
		if ((how & PT_RUN_SYSCALL) && sig == (SIGTRAP | 0x80)) {
			/* not a signal: the kernel's report (TRACESYSGOOD) */
			ran->pr_kind = PT_RAN_SYSCALL;
			return 0;
		}
		T->pt_flags |= PT_TF_SIGSTOP;
		if (how & PT_RUN_PASS) {
			pass = sig;	/* delivered with its own siginfo */
			continue;
		}
		if (pt_ptrace(PTRACE_GETSIGINFO, tid, 0, &ran->pr_info) < 0)
			continue;	/* killed in between: its exit comes */
		if (arch_si_is_trap(&ran->pr_info)) {
			ran->pr_kind = PT_RAN_TRAP;
			return 0;
		}
		if ((how & PT_RUN_STEP) && arch_si_is_step(&ran->pr_info)) {
			ran->pr_kind = PT_RAN_STEP;
			return 0;
		}
		/*
		 * A trap gate's stop, the thread having run through the gate
		 * for us (stepped out of a trampoline) or taken a signal it
		 * had pending from one: no hit anyone hears of, and no
		 * signal of the program's.
		 */
		if (sig == ARCH_TRAMP_SIG &&
		    pt_tramp_gate(P, T, &ran->pr_info, &(uintptr_t){ 0 }) != 0)
			continue;
		if (pt_sync_fault(sig, &ran->pr_info)) {
			T->pt_sig = sig;
			T->pt_info = ran->pr_info;
			T->pt_has_info = 1;
			ran->pr_kind = PT_RAN_FAULT;
			return 0;
		}
		pt_hold(T, &ran->pr_info);
	}
}
