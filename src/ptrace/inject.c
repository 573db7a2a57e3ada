/*
 * inject.c - run one system call inside the tracee.
 *
 * Out-of-line copies need memory in the tracee that only the tracee can
 * map, so we make it call mmap (and munmap when we let it go).  Every
 * thread is stopped first; one of them gets its registers saved, a
 * "syscall; int3" written over its program's entry point (code that ran
 * once at start-up and never again), and runs it.  The trap brings it
 * back; text and registers are restored exactly, orig_rax included, so a
 * system call it was blocked in restarts as if nothing had happened
 * (orig_rax is -1 meanwhile, which keeps the kernel from restarting the
 * interrupted call at our code).  A signal that arrives meanwhile is kept
 * for the thread, as a step keeps it.  Never in a thread under a seccomp
 * filter, which might kill the process for a call it did not expect.
 */
#include "pt_impl.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
		 * would store in rax over our call number when it goes on.
		 */
		if (!(T->pt_flags & (PT_TF_SIGSTOP | PT_TF_EVSTOP)))
			continue;
		if (T->pt_tid == prefer)
			return T;
		if (any == NULL)
			any = T;
	}
	return any;
}

/*
 * Run the prepared call on T until its trap; 0 or -errno.  *OLDTRAP is
 * set if T first took an int3 trap it had pending from before its stop
 * (it executed one of our int3s and was interrupted before the trap was
 * delivered): the caller decides whose it was.
 */
static int
pt_run_call(pt_proc_t *P, pt_thread_t *T, uintptr_t trap_pc, int *oldtrap)
{
	struct user_regs_struct regs;
	pid_t tid = T->pt_tid;
	int status;

	for (;;) {
		siginfo_t si;

		if (pt_ptrace(PTRACE_CONT, tid, 0, 0) < 0)
			return -errno;
		T->pt_flags &= ~(PT_TF_STOPPED | PT_TF_SIGSTOP | PT_TF_EVSTOP);
		if (pt_wait_tid(tid, &status) != 0)
			return -ESRCH;
		if (!WIFSTOPPED(status)) {
			pt_redispatch(tid, status);
			return -ESRCH;
		}
		T->pt_flags |= PT_TF_STOPPED;
		if ((status >> 16) == PTRACE_EVENT_STOP) {
			if (pt_is_stopsig(WSTOPSIG(status)))
				T->pt_flags |= PT_TF_JOBSTOP;
			continue;
		}
		if ((status >> 16) != 0)
			return -EINVAL;	/* mmap and munmap have no events */
		T->pt_flags |= PT_TF_SIGSTOP;
		if (pt_ptrace(PTRACE_GETSIGINFO, tid, 0, &si) < 0)
			return -errno;
		if (WSTOPSIG(status) == SIGTRAP && si.si_code == SI_KERNEL &&
		    pt_ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0) {
			if (regs.rip == trap_pc)
				return 0;
			if (!*oldtrap) {
				*oldtrap = 1;
				continue;
			}
		}
		/* somebody's signal: the thread keeps it (one of them) */
		if (T->pt_sig == 0) {
			T->pt_sig = si.si_signo;
			T->pt_info = si;
			T->pt_has_info = 1;
		} else {
			(void) syscall(SYS_tgkill, P->pp_pid, tid, si.si_signo);
		}
	}
}

int
pt_syscall(pt_proc_t *P, pid_t keep, long nr, const long args[6], long *ret)
{
	static const uint8_t code[3] = { 0x0f, 0x05, 0xcc };	/* syscall; int3 */
	struct user_regs_struct saved, regs;
	uint8_t text[sizeof (code)];
	unsigned execs = P->pp_execs;
	unsigned flags;
	int outer, rv, sig, has_info, oldtrap = 0;
	siginfo_t info;
	pt_thread_t *T;
	uintptr_t at;
	pid_t tid;

	PT_ASSERT_OWNER(P);
	if ((at = pt_entry(P)) == 0)
		return pt_seterr(P, ENOENT, "pid %d: no entry point to run a "
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
	if (pt_mem_read(P, at, text, sizeof (text)) != sizeof (text) ||
	    pt_mem_write(P, at, code, sizeof (code)) != sizeof (code)) {
		rv = -EFAULT;
		goto out;
	}
	regs = saved;
	regs.rip = at;
	regs.rax = nr;
	regs.rdi = args[0];
	regs.rsi = args[1];
	regs.rdx = args[2];
	regs.r10 = args[3];
	regs.r8 = args[4];
	regs.r9 = args[5];
	regs.orig_rax = -1;
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
	if (pt_ptrace(PTRACE_SETREGS, tid, 0, &regs) < 0) {
		rv = -errno;
	} else {
		T->pt_regs_ok = false;
		rv = pt_run_call(P, T, at + sizeof (code), &oldtrap);
		if (rv == 0 && pt_ptrace(PTRACE_GETREGS, tid, 0, &regs) == 0)
			*ret = (long)regs.rax;
	}
	(void) pt_mem_write(P, at, text, sizeof (text));
	/*
	 * A trap it had pending from one of our sites (planted or removed
	 * since) is ours: rewind, so that it runs the site again.  Any
	 * other int3 trap is the program's own, owed to it.
	 */
	if (oldtrap && (pt_bkpt_find(P, saved.rip - 1) != NULL ||
	    pt_gone_find(P, saved.rip - 1)))
		saved.rip--;
	else if (oldtrap && sig == 0)
		sig = SIGTRAP, has_info = 0;
	if ((T = pt_thr_find(P, tid)) != NULL && rv != -ESRCH) {
		/* back as it was: registers, and the stop's own signal */
		T->pt_regs = saved;
		T->pt_regs_ok = true;
		T->pt_regs_dirty = true;
		if (sig != 0 || T->pt_sig == 0) {
			if (sig != 0 && T->pt_sig != 0)
				(void) syscall(SYS_tgkill, P->pp_pid, tid,
				    T->pt_sig);
			T->pt_sig = sig;
			T->pt_has_info = has_info;
			T->pt_info = info;
		}
		/*
		 * It now rests in a signal-delivery stop, from which any
		 * signal it is owed can be injected.
		 */
		T->pt_flags = (T->pt_flags & ~PT_TF_EVSTOP) | PT_TF_SIGSTOP |
		    (flags & PT_TF_HELD);
	}
out:
	if (outer == 0)
		pt_resume_internal(P, keep);
	if (rv != 0)
		return pt_seterr(P, -rv, "pid %d: cannot run system call %ld: "
		    "%s", (int)P->pp_pid, nr, strerror(-rv));
	return 0;
}
