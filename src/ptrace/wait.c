/*
 * wait.c - collecting tracee stops and turning them into events.
 *
 * The owner thread collects with waitpid(-1, __WALL | __WNOTHREAD): that
 * sees exactly the tracees this thread attached (and the children it
 * forked), so one control thread per process never steals another's
 * stops.  Each status is routed to the pt_proc_t that knows the tid and
 * classified once, here:
 *
 *   exit of a thread        THREAD_EXIT; of the leader: EXIT (process gone)
 *   signal-delivery stop    int3 at one of our sites: BREAKPOINT, pc
 *                           rewound; at a removed site: rewound, silent;
 *                           a trampoline gate's SIGURG (sent by the
 *                           process, pc at the stop point): BREAKPOINT at
 *                           its site, not rewound, the signal dropped (a
 *                           retired one's: silent);
 *                           otherwise SIGNAL, delivered on restart
 *   PTRACE_EVENT_STOP       stop signal: group stop, restarted with LISTEN
 *                           so it stays stopped (JOBSTOP once per stop);
 *                           SIGTRAP on a listening thread: SIGCONT came
 *                           (JOBCONT); else an interrupt or initial stop
 *   CLONE/FORK/VFORK        new thread, or child: a fork child is cleaned
 *                           of our int3s and jumps and detached; a vfork
 *                           child shares our text, so it stays traced as
 *                           a guest, unless no int3 is there to harm it
 *                           (every site patched): then it goes at once
 *   EXEC                    new image: other threads are gone, sites and
 *                           /proc/PID/mem reset
 *   EXIT                    the thread can never stop again: noted, so
 *                           pt_stop() does not wait for it
 *
 * Stops that carry an event stay stopped and HELD until the owner takes
 * the event; all others are restarted at once, unless pt_stop() is
 * gathering the threads, in which case every stop is kept.
 */
#include "pt_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern __thread pt_proc_t *pt_owned;

/*
 * Stops of tracees we cannot place yet: a fork child's first stop (or its
 * death) may be collected before its parent's fork event.
 */
#define PT_EARLY_MAX 64
static __thread struct {
	pid_t pe_tid;
	int pe_status;
} pt_early[PT_EARLY_MAX];
static __thread int pt_nearly;

/*
 * Stops of other tracees that pt_run() collected while it waited for its
 * thread: classified later, in arrival order (pt_collect takes them
 * first), so that no policy runs inside another.
 */
static __thread struct pt_later {
	pid_t pl_tid;
	int pl_status;
} *pt_later;
static __thread int pt_nlater, pt_alater;

static void pt_dispatch(pid_t tid, int status);

long
pt_ptrace(int req, pid_t tid, void *addr, void *data)
{
	long rv = ptrace(req, tid, addr, data);

	if (rv == -1 && errno != ESRCH)
		pt_dprintf("ptrace(%d, %d): %s\n", req, (int)tid,
		    strerror(errno));
	return rv;
}

void
pt_evq_push(pt_proc_t *P, const pt_event_t *ev)
{
	if (P->pp_evlen == PT_EVQ_MAX) {
		pt_dprintf("pid %d: event queue full, dropping %d\n",
		    (int)P->pp_pid, ev->pe_kind);
		return;
	}
	P->pp_evq[(P->pp_evhead + P->pp_evlen++) % PT_EVQ_MAX] = *ev;
}

static void
pt_push(pt_proc_t *P, pt_thread_t *T, pt_event_kind_t kind, pid_t child,
    const pt_park_t *park)
{
	pt_event_t ev = { .pe_kind = kind, .pe_child = child };

	if (park != NULL)
		ev.pe_park = *park;

	/* a vfork child let go at once says so */
	ev.pe_free = kind == PT_EV_VFORK && (T->pt_flags & PT_TF_VFFREE);

	ev.pe_tid = T->pt_tid;
	ev.pe_stopped = 1;
	T->pt_flags |= PT_TF_HELD;
	pt_evq_push(P, &ev);
}

static void
pt_early_put(pid_t tid, int status)
{
	if (pt_nearly == PT_EARLY_MAX) {
		memmove(&pt_early[0], &pt_early[1],
		    sizeof (pt_early[0]) * (PT_EARLY_MAX - 1));
		pt_nearly--;
	}
	pt_early[pt_nearly].pe_tid = tid;
	pt_early[pt_nearly].pe_status = status;
	pt_nearly++;
}

static int
pt_early_take(pid_t tid, int *status)
{
	for (int i = 0; i < pt_nearly; i++) {
		if (pt_early[i].pe_tid == tid) {
			*status = pt_early[i].pe_status;
			pt_early[i] = pt_early[--pt_nearly];
			return 1;
		}
	}
	return 0;
}

void
pt_later_put(pid_t tid, int status)
{
	if (pt_nlater == pt_alater) {
		int n = pt_alater ? pt_alater * 2 : 16;
		struct pt_later *l = realloc(pt_later, n * sizeof (*l));

		if (l == NULL) {
			/* no room: classify it now rather than lose it */
			pt_dispatch(tid, status);
			return;
		}
		pt_later = l;
		pt_alater = n;
	}
	pt_later[pt_nlater].pl_tid = tid;
	pt_later[pt_nlater].pl_status = status;
	pt_nlater++;
}

static void
pt_later_remove(int i)
{
	memmove(&pt_later[i], &pt_later[i + 1],
	    (size_t)(pt_nlater - i - 1) * sizeof (*pt_later));
	if (--pt_nlater == 0) {
		free(pt_later);
		pt_later = NULL;
		pt_alater = 0;
	}
}

int
pt_later_take(pid_t tid, int *status)
{
	for (int i = 0; i < pt_nlater; i++) {
		if (pt_later[i].pl_tid == tid) {
			*status = pt_later[i].pl_status;
			pt_later_remove(i);
			return 1;
		}
	}
	return 0;
}

void
pt_later_drop(pid_t tid)
{
	int status;

	while (pt_later_take(tid, &status))
		;
}

int
pt_wait_tid(pid_t tid, int *status)
{
	pid_t r;

	if (pt_later_take(tid, status))
		return 0;
	if (pt_early_take(tid, status)) {
		char st = 0;

		/*
		 * An exit kept here may be an old thread's whose tid came
		 * back as this child: believe it only if tid is dead.
		 */
		if (WIFSTOPPED(*status) || kill(tid, 0) != 0 ||
		    (pt_proc_stat(tid, &st, NULL) == 0 && st == 'Z'))
			return 0;
	}
	do {
		r = waitpid(tid, status, __WALL);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/*
 * A signal to deliver at a gate's stop point while the gate's own is
 * still pending: the hit came first, but the kernel takes the lower
 * signal first (SIGUSR1 before SIGURG).  Delivered now, its handler
 * would start before the gate's stop, which would then come at the
 * handler's first instruction, far from the registers it stands for,
 * and the handler's own call of the probed function would find the
 * gate's signal still pending (one signal for two hits).  So it is held
 * and the thread resumed without it: the gate's stop comes at once, and
 * pt_gate makes the held signal owed from there.  0, or SIG when it
 * cannot be held.
 */
static int
pt_gate_defer(pt_thread_t *T, int sig)
{
	siginfo_t si;

	if (T->pt_nhold == PT_HOLD_MAX)
		return sig;
	if (T->pt_has_info)
		si = T->pt_info;
	else if (pt_ptrace(PTRACE_GETSIGINFO, T->pt_tid, 0, &si) < 0 ||
	    si.si_signo != sig)
		return sig;
	memmove(&T->pt_hold[1], &T->pt_hold[0],
	    (size_t)T->pt_nhold * sizeof (T->pt_hold[0]));
	T->pt_hold[0] = si;
	T->pt_nhold++;
	return 0;
}

/*
 * Restart a stopped tracee the way its stop asks: LISTEN keeps a
 * group-stopped thread stopped while we still hear of SIGCONT; a signal
 * is injected only from the signal-delivery stop that dequeued it.
 */
int
pt_restart(pt_proc_t *P, pt_thread_t *T)
{
	int sig = (T->pt_flags & PT_TF_SIGSTOP) ? T->pt_sig : 0;
	long rv;

	if (!(T->pt_flags & PT_TF_STOPPED))
		return 0;
	if (sig != 0 && sig != ARCH_TRAMP_SIG && pt_tramp_pending(P, T))
		sig = pt_gate_defer(T, sig);
	pt_thr_flush(T);
	if (sig != 0 && T->pt_has_info)
		(void) pt_ptrace(PTRACE_SETSIGINFO, T->pt_tid, 0, &T->pt_info);
	if ((T->pt_flags & (PT_TF_JOBSTOP | PT_TF_EVSTOP)) ==
	    (PT_TF_JOBSTOP | PT_TF_EVSTOP)) {
		rv = pt_ptrace(PTRACE_LISTEN, T->pt_tid, 0, 0);
	} else {
		/* systrace.c: to the next system-call stop */
		rv = pt_ptrace(P->pp_systrace && !(T->pt_flags & PT_TF_GUEST) ?
		    PTRACE_SYSCALL : PTRACE_CONT, T->pt_tid, 0,
		    (void *)(long)sig);
		/*
		 * The group is stopped but this stop cannot LISTEN: let the
		 * thread go and interrupt it at once; it then reports the
		 * group stop and rejoins it.
		 */
		if (rv == 0 && (T->pt_flags & PT_TF_JOBSTOP) &&
		    pt_ptrace(PTRACE_INTERRUPT, T->pt_tid, 0, 0) == 0)
			T->pt_flags |= PT_TF_INTR;
	}
	if (rv < 0 && errno != ESRCH)
		return -errno;
	T->pt_flags &= ~(PT_TF_STOPPED | PT_TF_HELD | PT_TF_SIGSTOP |
	    PT_TF_EVSTOP | PT_TF_SYSSTOP | PT_TF_TRAMP);
	T->pt_sig = 0;
	T->pt_has_info = 0;
	return 0;
}

void
pt_resume_internal(pt_proc_t *P, pid_t keep)
{
	for (int i = 0; i < P->pp_nthr; i++) {
		pt_thread_t *T = &P->pp_thr[i];

		if (T->pt_tid != keep && !(T->pt_flags & PT_TF_HELD) &&
		    !P->pp_held)
			(void) pt_restart(P, T);
	}
	pt_update_state(P);
}

/* Restart a stop that carries nothing for the owner, unless gathering. */
static void
pt_pass(pt_proc_t *P, pt_thread_t *T)
{
	if (P->pp_stopping == 0 && !P->pp_held)
		(void) pt_restart(P, T);
}

static pt_proc_t *
pt_route(pid_t tid, pt_thread_t **Tp)
{
	for (pt_proc_t *P = pt_owned; P != NULL; P = P->pp_next) {
		pt_thread_t *T = pt_thr_find(P, tid);

		if (T != NULL) {
			*Tp = T;
			return P;
		}
	}
	return NULL;
}

/*
 * Drop the queued events that left a thread stopped: those of threads
 * that are gone (ALL false), or every one (ALL true, at exec: they
 * describe a program that is gone).
 */
static void
pt_drop_stopped_events(pt_proc_t *P, bool all)
{
	int n = 0;

	for (int i = 0; i < P->pp_evlen; i++) {
		pt_event_t *ev = &P->pp_evq[(P->pp_evhead + i) % PT_EVQ_MAX];

		if (ev->pe_stopped &&
		    (all || pt_thr_find(P, ev->pe_tid) == NULL)) {
			/* a child parked for nobody now: let it go */
			pt_park_undo(&ev->pe_park);
			continue;
		}
		P->pp_evq[(P->pp_evhead + n++) % PT_EVQ_MAX] = *ev;
	}
	P->pp_evlen = n;
}

static void
pt_exited(pt_proc_t *P, pt_thread_t *T, int status)
{
	pid_t tid = T->pt_tid;
	pt_event_t ev = { .pe_tid = tid, .pe_status = status };

	if (T->pt_flags & PT_TF_GUEST) {
		pt_thr_del(P, tid);
		return;
	}
	if (tid != P->pp_pid) {
		pt_thr_del(P, tid);
		ev.pe_kind = PT_EV_THREAD_EXIT;
		pt_evq_push(P, &ev);
		pt_update_state(P);
		return;
	}
	/*
	 * The leader's death is reported after every other thread's, so the
	 * process is gone.  Guests (vfork children) live on in their own
	 * right and stay in the table until they exec or exit.
	 */
	for (int i = P->pp_nthr - 1; i >= 0; i--) {
		if (!(P->pp_thr[i].pt_flags & PT_TF_GUEST))
			pt_thr_del(P, P->pp_thr[i].pt_tid);
	}
	pt_drop_stopped_events(P, false);
	P->pp_status = status;
	P->pp_state = PT_DEAD;
	P->pp_why = PT_WHY_NONE;
	P->pp_exit_told = true;
	ev.pe_kind = PT_EV_EXIT;
	pt_evq_push(P, &ev);
}

int
pt_is_stopsig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	    sig == SIGTTOU;
}

/*
 * An int3 trap: one of ours (rewind), a removed one (rewind, hide), or
 * not.  The rewind is made in the thread's register cache only: a hit is
 * usually carried on at once, and one SETREGS then does both.
 */
static int
pt_trap(pt_proc_t *P, pt_thread_t *T)
{
	arch_regs_t regs;
	siginfo_t si;
	uintptr_t pc;
	uint8_t byte;

	if (pt_ptrace(PTRACE_GETSIGINFO, T->pt_tid, 0, &si) < 0 ||
	    !arch_si_is_trap(&si))
		return 0;
	if (pt_thr_regs(T, &regs) != 0)
		return 0;
	pc = arch_trap_site(&regs);
	if (pt_bkpt_find(P, pc) != NULL) {
		/*
		 * Rewound in the kernel's copy at once, before anything else
		 * is done: should we die now, the thread resumes at the site
		 * (and dies of its trap), never one byte into an instruction.
		 */
		arch_set_pc(&T->pt_regs, pc);
		if (arch_pc_write(T->pt_tid, pc) != 0)
			T->pt_regs_dirty = true;
		T->pt_sig = 0;
		if (P->pp_trap == PT_TRAP_IGN || P->pp_trap == PT_TRAP_CAUGHT) {
			pid_t tid = T->pt_tid;

			/* the trap may have reset the victim's SIGTRAP */
			pt_trapsig_check(P, tid);
			if ((T = pt_thr_find(P, tid)) == NULL)
				return 1;
		}
		if (T->pt_flags & PT_TF_GUEST) {
			/* a vfork child runs our sites unreported */
			pid_t tid = T->pt_tid;

			if (pt_bkpt_step(P, tid) == 0 &&
			    (T = pt_thr_find(P, tid)) != NULL)
				pt_pass(P, T);
			return 1;
		}
		pt_event_t ev = { .pe_kind = PT_EV_BREAKPOINT,
		    .pe_tid = T->pt_tid, .pe_addr = pc, .pe_stopped = 1 };
		T->pt_flags |= PT_TF_HELD;
		pt_evq_push(P, &ev);
		return 1;
	}
	if (pt_gone_find(P, pc) && pt_mem_read(P, pc, &byte, 1) == 1 &&
	    byte != ARCH_TRAP_BYTE) {
		arch_set_pc(&T->pt_regs, pc);
		T->pt_regs_dirty = true;
		T->pt_sig = 0;
		pt_pass(P, T);
		return 1;
	}
	return 0;
}

/*
 * A trap gate's stop: ARCH_TRAMP_SIG sent by the process to itself, the
 * pc at a trampoline's stop point.  A BREAKPOINT at the site, not
 * rewound: the thread goes on from there, without the signal (the
 * program would ignore it; not delivering it keeps a stop for it out of
 * the next policy).  At a retired trampoline's (its site went while the
 * thread was in the gate): swallowed.  No SIGTRAP of the program's is
 * involved any more, so nothing of trapsig.c's is checked here, as the
 * int3 gates needed.
 */
static int
pt_gate(pt_proc_t *P, pt_thread_t *T)
{
	siginfo_t si;
	uintptr_t site;
	int k;

	if (P->pp_ntrl == 0 ||
	    pt_ptrace(PTRACE_GETSIGINFO, T->pt_tid, 0, &si) < 0 ||
	    (k = pt_tramp_gate(P, T, &si, &site)) == 0)
		return 0;
	T->pt_sig = 0;
	/* a signal deferred for this stop (pt_gate_defer) is owed now */
	pt_unhold(P, T->pt_tid);
	if (k == 2) {
		pt_pass(P, T);
		return 1;
	}
	pt_event_t ev = { .pe_kind = PT_EV_BREAKPOINT,
	    .pe_tid = T->pt_tid, .pe_addr = site, .pe_stopped = 1 };
	T->pt_flags |= PT_TF_HELD | PT_TF_TRAMP;
	T->pt_trsite = site;
	pt_evq_push(P, &ev);
	return 1;
}

static bool
pt_in_tramp(pt_proc_t *P, pt_thread_t *T)
{
	arch_regs_t r;

	return P->pp_ntrl > 0 && pt_thr_regs(T, &r) == 0 &&
	    pt_tramp_inside(P, arch_pc(&r));
}

static void
pt_signal_stop(pt_proc_t *P, pt_thread_t *T, int sig)
{
	pid_t tid = T->pt_tid;

	T->pt_flags |= PT_TF_SIGSTOP;
	if (sig == SIGTRAP && pt_trap(P, T))
		return;
	if (sig == ARCH_TRAMP_SIG && pt_gate(P, T))
		return;
	pt_xol_fault(P, T, sig);
	/*
	 * A signal met in a copy is taken once the thread is out of it (it
	 * may then owe another: a fault of the copy's, at the site).
	 */
	T->pt_sig = sig;
	/*
	 * Not out of a trampoline: it may run a handler from there (the
	 * frame's pc is found by release's stack scan, and the areas are
	 * then left mapped).
	 */
	if (P->pp_nxol > 0 && !pt_in_tramp(P, T) && pt_xol_out(P, tid) != 0) {
		/* gone, or what came instead was dispatched */
		if ((T = pt_thr_find(P, tid)) == NULL || T->pt_sig == 0)
			return;
		sig = T->pt_sig;
	}
	if (T->pt_flags & PT_TF_GUEST) {
		pt_pass(P, T);
		return;
	}
	pt_event_t ev = { .pe_kind = PT_EV_SIGNAL, .pe_tid = T->pt_tid,
	    .pe_sig = sig, .pe_stopped = 1 };
	T->pt_flags |= PT_TF_HELD;
	pt_evq_push(P, &ev);
}

static void
pt_group_stop(pt_proc_t *P, pt_thread_t *T, int sig)
{
	if (pt_is_stopsig(sig)) {
		T->pt_flags |= PT_TF_JOBSTOP;
		if (!P->pp_jobstop && !(T->pt_flags & PT_TF_GUEST)) {
			pt_event_t ev = { .pe_kind = PT_EV_JOBSTOP,
			    .pe_tid = T->pt_tid, .pe_sig = sig };
			P->pp_jobstop = true;
			pt_evq_push(P, &ev);
		}
	} else if (T->pt_flags & PT_TF_JOBSTOP) {
		/* a listening thread notified: the group stop ended */
		T->pt_flags &= ~PT_TF_JOBSTOP;
		if (P->pp_jobstop && !(T->pt_flags & PT_TF_GUEST)) {
			pt_event_t ev = { .pe_kind = PT_EV_JOBCONT,
			    .pe_tid = T->pt_tid };
			P->pp_jobstop = false;
			pt_evq_push(P, &ev);
		}
	}
	pt_pass(P, T);
}

static pid_t
pt_tgid(pid_t tid)
{
	return pt_status_field(tid, 0, "Tgid");
}

static int
pt_shares_mm(pid_t a, pid_t b)
{
	return syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0) == 0;
}

/*
 * A new tracee: our thread, a guest (it shares our memory), or a fork
 * child, which is given back its original text and let go.
 */
static void
pt_child(pt_proc_t *P, pt_thread_t *T, int event)
{
	unsigned long msg = 0;
	pid_t child, tgid;
	bool guest = (T->pt_flags & PT_TF_GUEST) != 0;
	pt_event_kind_t kind;
	pt_park_t park = { 0 };
	int status;

	pid_t tid = T->pt_tid;

	(void) pt_ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
	child = (pid_t)msg;
	tgid = pt_tgid(child);
	if (event == PTRACE_EVENT_CLONE && !guest && tgid == P->pp_pid) {
		if (pt_thr_find(P, child) == NULL)
			(void) pt_thr_add(P, child, PT_TF_NEWBORN);
		/* adding may have moved the table */
		pt_push(P, pt_thr_find(P, tid), PT_EV_THREAD_NEW, child, NULL);
		return;
	}
	if (event == PTRACE_EVENT_VFORK && !guest && !P->pp_follow &&
	    pt_tramp_vfork_free(P)) {
		/*
		 * No int3 for it to run into: it goes at once, untraced (it
		 * may be traced by another, a debugger run under us), and
		 * the memory is not edited until its parent's VFORK_DONE.
		 * The trampolines' gates skip traps for any pid but ours.
		 */
		if (pt_wait_tid(child, &status) == 0 && WIFSTOPPED(status))
			(void) pt_ptrace(PTRACE_DETACH, child, 0, 0);
		T = pt_thr_find(P, tid);
		T->pt_flags |= PT_TF_VFFREE;
		P->pp_vffree++;
		kind = PT_EV_VFORK;
	} else if (event == PTRACE_EVENT_VFORK || pt_shares_mm(tid, child)) {
		pt_thread_t *C = pt_thr_add(P, child,
		    PT_TF_GUEST | PT_TF_NEWBORN);

		if (C != NULL && pt_early_take(child, &status)) {
			C->pt_flags &= ~PT_TF_NEWBORN;
			if (WIFSTOPPED(status)) {
				C->pt_flags |= PT_TF_STOPPED;
				pt_pass(P, C);
			} else {
				pt_thr_del(P, child);
			}
		}
		kind = PT_EV_VFORK;
	} else {
		if (pt_wait_tid(child, &status) == 0 && WIFSTOPPED(status)) {
			(void) pt_bkpt_clean_child(P, child);
			if (P->pp_fork_fn != NULL)
				P->pp_fork_fn(P->pp_fork_arg, child);
			/* followed: parked for an owner of its own */
			if (P->pp_follow && pt_park(child, false,
			    pt_xol_stub(P), &park) != 0)
				pt_dprintf("%s\n", err_msg());
			(void) pt_ptrace(PTRACE_DETACH, child, 0, 0);
		}
		kind = PT_EV_FORK;
	}
	T = pt_thr_find(P, tid);
	/*
	 * The parent sleeps in the kernel until its vfork child execs or
	 * exits, deaf to PTRACE_INTERRUPT: pt_stop() must not wait for it.
	 */
	if (event == PTRACE_EVENT_VFORK) {
		T->pt_flags |= PT_TF_INVFORK;
		T->pt_vfchild = child;
	}
	if (guest) {
		pt_pass(P, T);
		/* the guest's child is not followed: let it run */
		pt_park_undo(&park);
	} else {
		pt_push(P, T, kind, child, &park);
	}
}

/*
 * The parent of a vfork learns that its child let go of the memory (exec
 * or exit) before the child's own exec stop or exit reaches us: collect
 * that now, so the child is detached (or gone) before the parent runs on,
 * and a parent that looks at its child finds it untraced.  Not while
 * gathering: a stopped guest is then kept stopped, and would not come.
 */
static void
pt_guest_settle(pt_proc_t *P, pid_t child)
{
	for (int i = 0; child != 0 && i < 16; i++) {
		pt_thread_t *C = pt_thr_find(P, child);
		int status;

		if (C == NULL || !(C->pt_flags & PT_TF_GUEST) ||
		    (C->pt_flags & PT_TF_STOPPED) || P->pp_stopping > 0 ||
		    P->pp_held)
			return;
		if (pt_wait_tid(child, &status) != 0)
			return;
		pt_redispatch(child, status);
	}
}

static void
pt_exec(pt_proc_t *P, pt_thread_t *T)
{
	unsigned long former = 0;
	char path[64], exe[4096];
	ssize_t n;

	(void) pt_ptrace(PTRACE_GETEVENTMSG, T->pt_tid, 0, &former);
	if (T->pt_flags & PT_TF_GUEST) {
		pid_t tid = T->pt_tid;
		pt_event_t ev = { .pe_kind = PT_EV_FOLLOW, .pe_tid = tid,
		    .pe_child = tid };

		/*
		 * A vfork child left our memory: nothing of ours in it.
		 * Followed, it is parked for an owner of its own.
		 */
		if (P->pp_follow && pt_tgid(tid) == tid &&
		    pt_park(tid, true, 0, &ev.pe_park) == 0)
			pt_evq_push(P, &ev);
		(void) pt_ptrace(PTRACE_DETACH, tid, 0, 0);
		pt_thr_del(P, tid);
		return;
	}
	/* Every other thread is gone; the execing one now has the pid. */
	for (int i = P->pp_nthr - 1; i >= 0; i--) {
		pt_thread_t *O = &P->pp_thr[i];

		if (O->pt_tid != P->pp_pid && !(O->pt_flags & PT_TF_GUEST))
			pt_thr_del(P, O->pt_tid);
	}
	T = pt_thr_find(P, P->pp_pid);
	if (T == NULL)
		T = pt_thr_add(P, P->pp_pid, PT_TF_STOPPED);
	if (T == NULL)
		return;
	/*
	 * The entry was the old leader's: whatever it was doing (exiting,
	 * held for an event, in vfork) ended with its image.  Events the
	 * old image's threads left queued describe a program that is gone.
	 */
	T->pt_flags = PT_TF_STOPPED | (T->pt_flags & PT_TF_JOBSTOP);
	T->pt_sig = 0;
	pt_drop_stopped_events(P, true);
	P->pp_execs++;
	pt_bkpt_reset(P);
	if (pt_proc_open_mem(P, 0) != 0) {
		pt_event_t ev = { .pe_kind = PT_EV_LOST, .pe_tid = P->pp_pid };

		/* exec'd an image we may not read: control is lost */
		(void) pt_ptrace(PTRACE_DETACH, P->pp_pid, 0, 0);
		pt_thr_del(P, P->pp_pid);
		P->pp_state = PT_LOST;
		pt_evq_push(P, &ev);
		return;
	}
	snprintf(path, sizeof (path), "/proc/%d/exe", (int)P->pp_pid);
	if ((n = readlink(path, exe, sizeof (exe) - 1)) > 0) {
		exe[n] = '\0';
		free(P->pp_exe);
		P->pp_exe = strdup(exe);
	}
	pt_event_t ev = { .pe_kind = PT_EV_EXEC, .pe_tid = P->pp_pid,
	    .pe_former_tid = (pid_t)former, .pe_stopped = 1 };
	T->pt_flags |= PT_TF_HELD;
	pt_evq_push(P, &ev);
}

static void
pt_event_stop(pt_proc_t *P, pt_thread_t *T, int event, int sig)
{
	switch (event) {
	case PTRACE_EVENT_STOP:
		pt_group_stop(P, T, sig);
		break;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		pt_child(P, T, event);
		break;
	case PTRACE_EVENT_VFORK_DONE: {
		pid_t tid = T->pt_tid;

		T->pt_flags &= ~PT_TF_INVFORK;
		if (T->pt_flags & PT_TF_VFFREE) {
			T->pt_flags &= ~PT_TF_VFFREE;
			P->pp_vffree--;
		}
		pt_guest_settle(P, T->pt_vfchild);
		if ((T = pt_thr_find(P, tid)) == NULL)
			break;
		T->pt_vfchild = 0;
		if (T->pt_flags & PT_TF_GUEST)
			pt_pass(P, T);
		else
			pt_push(P, T, PT_EV_VFORK_DONE, 0, NULL);
		break;
	}
	case PTRACE_EVENT_EXEC:
		pt_exec(P, T);
		break;
	case PTRACE_EVENT_EXIT:
		/* it will never stop again; let it die even while gathering */
		T->pt_flags |= PT_TF_EXITING;
		(void) pt_restart(P, T);
		break;
	default:
		pt_pass(P, T);
		break;
	}
}

/*
 * A stop of a tid nobody knows: a thread whose creator's clone event is
 * still to come (adopt it), or a fork child's first stop (keep it).
 */
static void
pt_unknown(pid_t tid, int status)
{
	if (WIFSTOPPED(status)) {
		pid_t tgid = pt_tgid(tid);

		for (pt_proc_t *P = pt_owned; P != NULL; P = P->pp_next) {
			if (P->pp_pid != tgid || P->pp_state == PT_DEAD)
				continue;
			pt_thread_t *T = pt_thr_add(P, tid, PT_TF_STOPPED);
			if (T != NULL)
				pt_pass(P, T);
			return;
		}
	}
	pt_early_put(tid, status);
}

static void
pt_dispatch(pid_t tid, int status)
{
	pt_thread_t *T = NULL;
	pt_proc_t *P = pt_route(tid, &T);
	int sig, event;

	if (P == NULL) {
		pt_unknown(tid, status);
		return;
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		pt_exited(P, T, status);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	sig = WSTOPSIG(status);
	event = status >> 16;
	T->pt_flags |= PT_TF_STOPPED;
	T->pt_flags &= ~(PT_TF_NEWBORN | PT_TF_INTR | PT_TF_SIGSTOP |
	    PT_TF_EVSTOP | PT_TF_SYSSTOP | PT_TF_TRAMP);
	T->pt_has_info = 0;
	T->pt_regs_ok = false;		/* a new stop: read them afresh */
	T->pt_regs_dirty = false;
	if (event == PTRACE_EVENT_STOP)
		T->pt_flags |= PT_TF_EVSTOP;
	if (event == 0 && sig == (SIGTRAP | 0x80))
		pt_sysstop(P, T);	/* TRACESYSGOOD: not a signal */
	else if (event == 0)
		pt_signal_stop(P, T, sig);
	else
		pt_event_stop(P, T, event, sig);
	pt_update_state(P);
}

/* Classify a status collected elsewhere (pt_run's wait). */
void
pt_redispatch(pid_t tid, int status)
{
	pt_dispatch(tid, status);
}

/* Collect one stop of any tracee of this thread. */
int
pt_collect(int block)
{
	int status;
	pid_t tid;

	if (pt_nlater > 0) {
		tid = pt_later[0].pl_tid;
		status = pt_later[0].pl_status;
		pt_later_remove(0);
		pt_dispatch(tid, status);
		return 1;
	}
	tid = waitpid(-1, &status,
	    __WALL | __WNOTHREAD | (block ? 0 : WNOHANG));

	if (tid < 0)
		return -errno;
	if (tid == 0)
		return 0;
	pt_dispatch(tid, status);
	return 1;
}

/* The thread has no tracee left: the process died unseen, or is lost. */
static void
pt_orphaned(pt_proc_t *P)
{
	struct pollfd pfd = { .fd = P->pp_pidfd, .events = POLLIN };
	pt_event_t ev = { .pe_tid = P->pp_pid };

	P->pp_nthr = 0;
	if (P->pp_pidfd >= 0 && poll(&pfd, 1, 0) == 0) {
		P->pp_state = PT_LOST;
		ev.pe_kind = PT_EV_LOST;
	} else {
		P->pp_state = PT_DEAD;
		ev.pe_kind = PT_EV_EXIT;
	}
	P->pp_exit_told = true;
	pt_evq_push(P, &ev);
}

int
pt_wait(pt_proc_t *P, pt_event_t *ev, int block)
{
	PT_ASSERT_OWNER(P);
	for (;;) {
		if (P->pp_evlen > 0) {
			pt_thread_t *T;

			*ev = P->pp_evq[P->pp_evhead];
			P->pp_evhead = (P->pp_evhead + 1) % PT_EVQ_MAX;
			P->pp_evlen--;
			if (ev->pe_stopped &&
			    (T = pt_thr_find(P, ev->pe_tid)) != NULL)
				T->pt_flags &= ~PT_TF_HELD;
			return 1;
		}
		if (P->pp_state == PT_DEAD || P->pp_state == PT_LOST) {
			if (P->pp_exit_told)
				return -ESRCH;
		}
		if (block && P->pp_wake != NULL && pt_wake_pending(P->pp_wake))
			return -EINTR;
		int r = block ? pt_collect_wait(P) : pt_collect(0);
		if (r == 0)
			return 0;
		if (r == -EINTR)
			return -EINTR;
		if (r == -ECHILD)
			pt_orphaned(P);
	}
}

/*
 * Gather every thread (and guest) in a ptrace stop.  Threads stopping
 * for a reason of their own report that instead; it is queued, and the
 * thread counts as stopped all the same.
 */
int
pt_stop(pt_proc_t *P, pt_why_t why)
{
	int rv = pt_gather(P, why);

	if (rv == 0)
		P->pp_held = true;
	return rv;
}

int
pt_gather(pt_proc_t *P, pt_why_t why)
{
	PT_ASSERT_OWNER(P);
	if (P->pp_state == PT_DEAD || P->pp_state == PT_LOST || P->pp_rdonly)
		return err_set(ESRCH, "pid %d: process is %s",
		    (int)P->pp_pid, P->pp_rdonly ? "grabbed read-only" :
		    "no longer controlled");
	P->pp_stopping++;
	for (;;) {
		int waiting = 0;

		for (int i = 0; i < P->pp_nthr; i++) {
			pt_thread_t *T = &P->pp_thr[i];

			if (T->pt_flags & (PT_TF_STOPPED | PT_TF_EXITING |
			    PT_TF_INVFORK))
				continue;
			waiting++;
			if (T->pt_flags & (PT_TF_INTR | PT_TF_NEWBORN))
				continue;
			if (pt_ptrace(PTRACE_INTERRUPT, T->pt_tid, 0, 0) == 0)
				T->pt_flags |= PT_TF_INTR;
		}
		if (waiting == 0 || P->pp_state == PT_DEAD)
			break;
		int r = pt_collect(1);
		if (r == -ECHILD) {
			pt_orphaned(P);
			break;
		}
		if (r == -EINTR)
			pt_vfork_mark(P);	/* asleep in vfork: no stop */
	}
	P->pp_stopping--;
	if (P->pp_state == PT_DEAD || P->pp_state == PT_LOST)
		return err_set(ESRCH, "pid %d: process exited",
		    (int)P->pp_pid);
	P->pp_why = why;
	pt_update_state(P);
	return 0;
}

int
pt_resume(pt_proc_t *P)
{
	PT_ASSERT_OWNER(P);
	if (P->pp_rdonly)
		return 0;
	P->pp_held = false;
	pt_resume_internal(P, 0);
	return 0;
}

int
pt_resume_thread(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T;
	int rv;

	PT_ASSERT_OWNER(P);
	if ((T = pt_thr_find(P, tid)) == NULL)
		return err_set(ESRCH, "pid %d: no thread %d",
		    (int)P->pp_pid, (int)tid);
	rv = pt_restart(P, T);
	pt_update_state(P);
	return rv;
}
