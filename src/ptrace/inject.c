/*
 * inject.c - run one system call inside the tracee.
 *
 * Out-of-line copies need memory in the tracee that only the tracee can
 * map, so we make it call mmap (and munmap when we let it go).  Every
 * thread is stopped first; one of them gets its registers saved and runs
 * the call.  The call's exit stop, or a trap after it, brings it back
 * (see pt_syscall_mem); registers (and text) are restored exactly, so a
 * system call it was blocked in restarts as if nothing had happened (the
 * architecture's set-up keeps the kernel from restarting the interrupted
 * call at our code).  Signals that arrive meanwhile are held and given
 * back after, as a step does (pt_run).  Never in a thread under a
 * seccomp filter, which might kill the process for a call it did not
 * expect.
 *
 * Where the call runs decides what a dtproc killed meanwhile leaves.  A
 * thread stopped in its own code, once the process has a scratch area
 * of ours (xol.c), runs it from the resume stub kept there
 * (arch/resume.c), its mask, registers, flags and pc in a block on its
 * stack below the red zone: nobody collecting the exit stop, it takes
 * them all back and goes on as before, the call's effect (a mapping
 * made or removed) its only trace.  Otherwise (the first calls of a
 * grab, before any area exists; a thread stopped inside a system call
 * of its own, which must come back through a signal-delivery stop for
 * the kernel to restart its call; one with a shadow stack; an munmap of
 * the stub's own area) the call and a trap are written over the
 * program's entry point (code that ran once at start-up and never
 * again), and that window remains: a dtproc killed between the thread's
 * start and the restore of its registers leaves it to run into the trap
 * (SIGTRAP) with the call's registers.
 */
#include "pt_impl.h"
#include "util/testhold.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static uintptr_t
pt_entry(pt_proc_t *P)
{
	char path[64];
	Elf64_auxv_t av;
	int fd;

	if (P->pp_entry != 0)
		return P->pp_entry;
	snprintf(path, sizeof (path), "/proc/%d/auxv", (int)P->pp_pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while (read(fd, &av, sizeof (av)) == (ssize_t)sizeof (av) &&
	    av.a_type != AT_NULL) {
		if (av.a_type == AT_ENTRY) {
			P->pp_entry = av.a_un.a_val;
			break;
		}
	}
	close(fd);
	return P->pp_entry;
}

/* A thread that may run a call: stopped, ours, not held by job control,
 * in a signal-delivery or interrupt stop. */
static pt_thread_t *
pt_runner(pt_proc_t *P, pid_t prefer)
{
	pt_thread_t *any = NULL;

	for (int i = 0; i < P->pp_nthr; i++) {
		pt_thread_t *T = &P->pp_thr[i];

		if ((T->pt_flags & (PT_TF_STOPPED | PT_TF_GUEST |
		    PT_TF_JOBSTOP | PT_TF_EXITING)) != PT_TF_STOPPED)
			continue;
		/*
		 * Not at a clone, fork, exec... event stop: the thread is
		 * still inside that system call, whose result the kernel
		 * would store over our call number when it goes on.
		 */
		if (!(T->pt_flags & (PT_TF_SIGSTOP | PT_TF_EVSTOP |
		    PT_TF_SYSSTOP)))
			continue;
		if (T->pt_tid == prefer)
			return T;
		/* better one that owes no signal: it keeps its siginfo */
		if (any == NULL || (any->pt_sig != 0 && T->pt_sig == 0))
			any = T;
	}
	return any;
}

/* Drop the gate's signal from what T holds (pt_run held it). */
static void
pt_gate_unhold(pt_proc_t *P, pt_thread_t *T)
{
	int n = 0;

	for (int i = 0; i < T->pt_nhold; i++) {
		if (!pt_tramp_sig(P, &T->pt_hold[i]))
			T->pt_hold[n++] = T->pt_hold[i];
	}
	T->pt_nhold = n;
}

/*
 * Run the prepared call on TID until its trap, or (NOTRAP) its exit stop
 * (pt_run, continuing): 0, or -errno (-ESRCH: the process died or is
 * dying).  *OLDTRAP is set if it first took an int3 trap it had pending
 * from before its stop (it executed one of our int3s and was interrupted
 * before the trap was delivered): the caller decides whose it was.  The
 * victim's signals meanwhile are held by pt_run; an event (a fork or an
 * exit from the call, or the process killed) went to the dispatcher.
 */
static int
pt_run_call(pt_proc_t *P, pid_t tid, uintptr_t done_pc, int notrap,
    int *oldtrap)
{
	int sysstops = 0;

	for (;;) {
		arch_regs_t regs;
		pt_thread_t *T;
		pt_ran_t ran;
		int rv = pt_run(P, tid, notrap ? PT_RUN_SYSCALL : 0, &ran);

		if (rv != 0)
			return rv;
		if (ran.pr_kind == PT_RAN_GONE || (T = pt_thr_find(P, tid)) ==
		    NULL || P->pp_state == PT_DEAD || P->pp_state == PT_LOST ||
		    (T->pt_flags & PT_TF_EXITING))
			return -ESRCH;
		if (ran.pr_kind == PT_RAN_EVENT) {
			/* the exec of another thread took the image */
			if ((ran.pr_status >> 16) == PTRACE_EVENT_EXEC)
				return -ESRCH;
			continue;	/* a child of the call's: go on */
		}
		if (ran.pr_kind == PT_RAN_SYSCALL) {
			if (++sysstops == 2)
				return 0;	/* its exit stop */
			continue;		/* its entry stop */
		}
		if (ran.pr_kind == PT_RAN_FAULT)
			return -EFAULT;
		if (pt_thr_regs(T, &regs) != 0)
			return -ESRCH;
		if (!notrap && arch_pc(&regs) == done_pc)
			return 0;
		if (*oldtrap)
			return -EFAULT;	/* a trap that is not ours */
		*oldtrap = 1;
	}
}

/*
 * A test's hook (DTPROC_TEST_INJECT=W,R[,back], two descriptor numbers,
 * documented in dtproc(3)): with the thread in its call's exit stop, the
 * call's registers still in it (with "back": once its own registers and
 * mask are back, its text not yet), say "inject PID TID NR HOW" on W
 * (HOW: "stub" if it would come back by itself, else "text") and wait
 * for a byte (or end of file) on R, so that a test may kill us right
 * there.
 */
static void
pt_inject_hold(pt_proc_t *P, pid_t tid, long nr, bool stub, bool back)
{
	test_hold("DTPROC_TEST_INJECT", back ? "back" : "",
	    "inject %d %d %ld %s\n", (int)P->pp_pid, (int)tid, nr,
	    stub ? "stub" : "text");
}

int
pt_syscall(pt_proc_t *P, pid_t keep, long nr, const long args[6], long *ret)
{
	return pt_syscall_mem(P, keep, nr, args, -1, NULL, 0, ret);
}

/*
 * The same, with LEN bytes of BUF copied below the runner's stack (past
 * the red zone and the resume stub's block, where nothing of the
 * thread's lives while it runs only our call) and argument BUFARG
 * pointing at them; copied back after.
 *
 * How the runner comes back.  A thread stopped in user code (at a
 * breakpoint, interrupted) comes back from the call's exit stop (run
 * from the resume stub where there is one), no trap run at all: nothing
 * of the victim's SIGTRAP is touched, ignored or not.  One we
 * interrupted inside a system call of its own must come back through
 * the kernel's signal path, the only one that restarts its call: at the
 * exit stop it is interrupted again and given its registers back, and
 * it goes on into that interrupt stop, as it was, no trap run either;
 * should we die meanwhile, the stub restarts its call by hand
 * (arch_resume_block) or, its registers back, the kernel does (from
 * the entry point, with no stub yet, it would run into the trap).  A
 * thread inside its own call and owed a signal returns through the trap
 * after our call, SIGTRAP unblocked in it meanwhile (a trap with SIGTRAP
 * blocked would reset the program's handler: trapsig.c).
 */
int
pt_syscall_mem(pt_proc_t *P, pid_t keep, long nr, const long args[6],
    int bufarg, void *buf, size_t len, long *ret)
{
	arch_regs_t saved, regs;
	uint8_t text[ARCH_SYSCALL_LEN];
	unsigned execs = P->pp_execs;
	unsigned flags;
	int outer, rv, sig, has_info, notrap, oldtrap = 0;
	uint64_t mask = 0;
	bool unblocked = false, insys, rearm;
	siginfo_t info;
	pt_thread_t *T;
	uintptr_t at, bufat = 0, site, stub = 0, blkat = 0;
	uint64_t blk[ARCH_RESUME_WORDS];
	long a[6];
	pid_t tid;

	PT_ASSERT_OWNER(P);
	if ((at = pt_entry(P)) == 0)
		return err_set(ENOENT, "pid %d: no entry point to run a "
		    "system call at", (int)P->pp_pid);
	outer = P->pp_stopping;
	if ((rv = pt_gather(P, P->pp_why)) != 0)
		return rv;
	rv = -EAGAIN;
	if (P->pp_execs != execs || (T = pt_runner(P, keep)) == NULL)
		goto out;
	tid = T->pt_tid;
	/*
	 * A seccomp filter may answer a call it does not expect by killing
	 * the process: we inject nothing there (the caller steps instead).
	 */
	if (pt_status_field(P->pp_pid, tid, "Seccomp") != 0) {
		rv = -EPERM;
		goto out;
	}
	if ((rv = pt_thr_regs(T, &saved)) != 0)
		goto out;
	/*
	 * Inside a call of its own, it comes back through an interrupt stop
	 * (rearm) from a stop that owes it no signal (an interrupt, or a
	 * trap of ours); owed one, through the trap: the signal decides
	 * whether its call is restarted, and only the kernel knows how.
	 */
	insys = arch_in_syscall(&saved);
	rearm = insys && !(T->pt_flags & PT_TF_SYSSTOP) && T->pt_sig == 0;
	notrap = !insys || rearm;
	/*
	 * Coming back from its exit stop, it may run the call from the
	 * resume stub, its registers in a block on its stack: should we die
	 * before they are back, it goes on by itself.
	 */
	if (notrap && !pt_thr_shstk(P, T) && (stub = pt_xol_stub(P)) != 0 &&
	    nr == SYS_munmap && stub + ARCH_RESUME_LEN > (uintptr_t)args[0] &&
	    stub < (uintptr_t)args[0] + (uintptr_t)args[1])
		stub = 0;	/* the call takes the stub away: no coming back */
	if (stub != 0) {
		uint64_t own;

		if (pt_ptrace(PTRACE_GETSIGMASK, tid,
		    (void *)sizeof (own), &own) != 0)
			stub = 0;
		else if ((blkat = arch_resume_block(&saved, own, blk),
		    pt_mem_write(P, blkat, blk, sizeof (blk))) !=
		    (ssize_t)sizeof (blk))
			stub = 0;
	}
	if (stub == 0 && (pt_mem_read(P, at, text, sizeof (text)) !=
	    sizeof (text) || pt_mem_write(P, at, arch_syscall_code,
	    sizeof (text)) != sizeof (text))) {
		rv = -EFAULT;
		goto out;
	}
	memcpy(a, args, sizeof (a));
	if (bufarg >= 0 && bufarg < 6) {
		bufat = ((stub != 0 ? blkat : arch_sp(&saved) - ARCH_REDZONE) -
		    len) & ~(uintptr_t)15;
		if (pt_mem_write(P, bufat, buf, len) != (ssize_t)len) {
			if (stub == 0)
				(void) pt_mem_write(P, at, text, sizeof (text));
			rv = -EFAULT;
			goto out;
		}
		a[bufarg] = (long)bufat;
	}
	regs = saved;
	if (stub != 0)
		arch_resume_setup(&regs, stub, blkat, nr, a);
	else
		arch_syscall_setup(&regs, at, nr, a);
	flags = T->pt_flags;
	sig = T->pt_sig;
	has_info = T->pt_has_info;
	info = T->pt_info;
	/* the signal it is owed keeps its sender when injected later */
	if (sig != 0 && !has_info && (flags & PT_TF_SIGSTOP) &&
	    pt_ptrace(PTRACE_GETSIGINFO, tid, 0, &info) == 0)
		has_info = 1;
	T->pt_sig = 0;
	T->pt_has_info = 0;
	T->pt_regs = regs;
	T->pt_regs_ok = true;
	/*
	 * The call's registers go to the kernel before SIGTRAP is unblocked
	 * for its trap: should we die in between, the thread is at our call
	 * either way, never back in its own code with its mask changed.
	 */
	T->pt_regs_dirty = arch_regs_write(tid, &regs) != 0;
	if (!notrap)
		unblocked = pt_trapsig_unblock(tid, &mask);
	rv = pt_run_call(P, tid, arch_syscall_done(at), notrap, &oldtrap);
	if (rv == 0)
		pt_inject_hold(P, tid, nr, stub != 0, false);
	if (rv == 0 && (T = pt_thr_find(P, tid)) != NULL &&
	    pt_thr_regs(T, &regs) == 0)
		*ret = arch_syscall_ret(&regs);
	if (rv == 0 && bufat != 0 &&
	    pt_mem_read(P, bufat, buf, len) != (ssize_t)len)
		rv = -EFAULT;
	/*
	 * A trap it had pending from one of our sites (planted or removed
	 * since) is ours: rewind, so that it runs the site again.  Any
	 * other int3 trap is the program's own, owed to it.
	 */
	if (oldtrap && (pt_bkpt_find(P, arch_trap_site(&saved)) != NULL ||
	    pt_gone_find(P, arch_trap_site(&saved))))
		arch_set_pc(&saved, arch_trap_site(&saved));
	else if (oldtrap && sig == 0)
		sig = SIGTRAP, has_info = 0;
	/*
	 * Its mask first, then its own registers, then the text: should we
	 * die after the mask, it runs on from our call (the trap window
	 * above) as it would have anyway; after its registers, it resumes
	 * where it was with its own mask, never with SIGTRAP left unblocked,
	 * and never just past our call in the entry point's restored code
	 * (which would run the program's start-up again).
	 */
	if ((T = pt_thr_find(P, tid)) != NULL && unblocked)
		pt_trapsig_reblock(tid, mask);
	/*
	 * Back from inside a call of its own: the interrupt before its
	 * registers, so that it leaves the exit stop through the signal path
	 * (which restarts its call) whether we see that stop or die first.
	 */
	if (T != NULL && rv != -ESRCH && rearm &&
	    pt_ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0)
		rv = -ESRCH;
	if (T != NULL && rv != -ESRCH) {
		pt_ran_t ran;

		T->pt_regs = saved;
		T->pt_regs_ok = true;
		T->pt_regs_dirty = arch_regs_write(tid, &saved) != 0;
		pt_inject_hold(P, tid, nr, stub != 0, true);
		/* T may move with the run: not used after it */
		if (rearm && (pt_run(P, tid, PT_RUN_EVSTOP, &ran) != 0 ||
		    ran.pr_kind != PT_RAN_EVSTOP))
			rv = -ESRCH;	/* gone, or no stop but its death */
	}
	if (stub == 0)
		(void) pt_mem_write(P, at, text, sizeof (text));
	/*
	 * A gate's signal it had pending (sent, then interrupted before
	 * its delivery stop) came during the call and was held: ours, and
	 * dropped; it goes on past the gate, the stop lost.
	 */
	if (pt_tramp_hit(P, arch_pc(&saved), &site) != 0 &&
	    (T = pt_thr_find(P, tid)) != NULL)
		pt_gate_unhold(P, T);
	if ((T = pt_thr_find(P, tid)) != NULL && rv != -ESRCH) {
		/* back as it was (the registers were written above), and
		   the stop's own signal */
		if (!notrap) {
			/*
			 * It rests in a signal-delivery stop, from which any
			 * signal it is owed can be injected.
			 */
			if (sig != 0) {
				T->pt_sig = sig;
				T->pt_has_info = has_info;
				T->pt_info = info;
			}
			T->pt_flags = (T->pt_flags & ~(PT_TF_EVSTOP |
			    PT_TF_SYSSTOP)) | PT_TF_SIGSTOP |
			    (flags & (PT_TF_HELD | PT_TF_TRAMP));
		} else if (rearm) {
			/* in an interrupt (or group) stop again, as pt_run
			   saw it, owing nothing: a fault of our call's (a
			   stub the program unmapped) is not the program's */
			T->pt_flags = (T->pt_flags & ~(PT_TF_SIGSTOP |
			    PT_TF_SYSSTOP)) | (flags & (PT_TF_HELD |
			    PT_TF_TRAMP));
			T->pt_sig = 0;
			T->pt_has_info = 0;
		} else {
			/*
			 * An exit stop cannot inject a signal: one it owed
			 * is queued to it again, first of what it holds.
			 */
			T->pt_flags = (T->pt_flags & ~(PT_TF_EVSTOP |
			    PT_TF_SIGSTOP)) | PT_TF_SYSSTOP |
			    (flags & (PT_TF_HELD | PT_TF_TRAMP));
			if (sig != 0 && T->pt_nhold < PT_HOLD_MAX) {
				if (!has_info) {
					memset(&info, 0, sizeof (info));
					info.si_signo = sig;
					info.si_code = SI_TKILL;
				}
				memmove(&T->pt_hold[1], &T->pt_hold[0],
				    (size_t)T->pt_nhold *
				    sizeof (T->pt_hold[0]));
				T->pt_hold[0] = info;
				T->pt_nhold++;
			} else if (sig != 0) {
				T->pt_holdmask |= 1ULL << (sig - 1);
			}
		}
	}
	pt_unhold(P, tid);
out:
	if (outer == 0)
		pt_resume_internal(P, keep);
	if (rv != 0)
		return err_set(-rv, "pid %d: cannot run system call %ld: "
		    "%s", (int)P->pp_pid, nr, strerror(-rv));
	return 0;
}
