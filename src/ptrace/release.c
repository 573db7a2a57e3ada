/*
 * release.c - let a process go, in the reference's three modes.
 *
 * KILL is for what we created: SIGKILL through the pidfd (never a reused
 * pid) and reap, so no zombie is left.  RUN is for what we grabbed: every
 * thread is stopped, every site restored, a trap taken at a site but not
 * yet delivered is drained and rewound (detaching it would kill the
 * victim with SIGTRAP), and each thread is detached with the signal it
 * was about to receive.  Signals still pending in the kernel stay
 * pending.  A group-stopped process stays stopped after detach: the
 * kernel puts it back in its group stop.  HANG leaves a running process
 * stopped too: a SIGSTOP is queued before the threads are let go.
 */
#include "pt_impl.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
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

/* Is SIGTRAP pending for this very thread? (SigPnd: thread-private) */
static int
pt_trap_pending(pid_t pid, pid_t tid)
{
	char path[96], line[256];
	unsigned long long pnd = 0;
	FILE *f;

	snprintf(path, sizeof (path), "/proc/%d/task/%d/status", (int)pid,
	    (int)tid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof (line), f) != NULL) {
		if (strncmp(line, "SigPnd:", 7) == 0) {
			pnd = strtoull(line + 7, NULL, 16);
			break;
		}
	}
	fclose(f);
	return (pnd >> (SIGTRAP - 1)) & 1;
}

/*
 * A thread interrupted after executing one of our int3s but before the
 * trap was delivered holds a pending SIGTRAP with pc just past a site.
 * Let the trap arrive now, while we are still attached, and rewind it.
 */
static void
pt_drain(pt_proc_t *P, pt_thread_t *T)
{
	for (int tries = 0; tries < 4; tries++) {
		struct user_regs_struct regs;
		int status;

		if (!(T->pt_flags & PT_TF_STOPPED) ||
		    (T->pt_flags & PT_TF_SIGSTOP) ||
		    ptrace(PTRACE_GETREGS, T->pt_tid, 0, &regs) < 0 ||
		    !pt_gone_find(P, regs.rip - 1) ||
		    !pt_trap_pending((T->pt_flags & PT_TF_GUEST) ? T->pt_tid :
		    P->pp_pid, T->pt_tid))
			return;
		if (ptrace(PTRACE_CONT, T->pt_tid, 0, 0) < 0 ||
		    pt_wait_tid(T->pt_tid, &status) != 0 ||
		    !WIFSTOPPED(status))
			return;
		if ((status >> 16) == 0 && WSTOPSIG(status) == SIGTRAP) {
			regs.rip--;
			(void) ptrace(PTRACE_SETREGS, T->pt_tid, 0, &regs);
			return;
		}
		if ((status >> 16) == 0) {
			/* another signal came first: keep it for the victim */
			T->pt_flags |= PT_TF_SIGSTOP;
			T->pt_sig = WSTOPSIG(status);
			return;
		}
	}
}

static void
pt_detach_all(pt_proc_t *P)
{
	for (int i = 0; i < P->pp_nthr; i++) {
		pt_thread_t *T = &P->pp_thr[i];
		int sig = (T->pt_flags & PT_TF_SIGSTOP) ? T->pt_sig : 0;

		/*
		 * A thread past its exit stop cannot be detached: it ends as
		 * a zombie only its tracer may reap, so reap it, or it stays
		 * "traced by" us.  Not the leader: its zombie is reported
		 * only once the whole group is gone, and the kernel hands it
		 * to the parent when this thread stops tracing.
		 */
		if (T->pt_flags & PT_TF_EXITING) {
			int st;

			if (T->pt_tid != P->pp_pid)
				(void) pt_wait_tid(T->pt_tid, &st);
			continue;
		}

		pt_thr_flush(T);
		pt_drain(P, T);
		sig = (T->pt_flags & PT_TF_SIGSTOP) ? T->pt_sig : sig;
		(void) ptrace(PTRACE_DETACH, T->pt_tid, 0, (void *)(long)sig);
	}
	P->pp_nthr = 0;
}

/*
 * A thread waiting in vfork cannot be stopped, so it cannot be detached:
 * let its child (whose text is clean now) go, and wait for the
 * VFORK_DONE stop that its exec or exit brings.
 */
static void
pt_vfork_settle(pt_proc_t *P)
{
	for (;;) {
		int waiting = 0;

		for (int i = P->pp_nthr - 1; i >= 0; i--) {
			pt_thread_t *T = &P->pp_thr[i];

			if (T->pt_flags & PT_TF_GUEST) {
				/* it too may owe a trap from a site of ours */
				pt_thr_flush(T);
				pt_drain(P, T);
				(void) ptrace(PTRACE_DETACH, T->pt_tid, 0,
				    (void *)(long)((T->pt_flags &
				    PT_TF_SIGSTOP) ? T->pt_sig : 0));
				pt_thr_del(P, T->pt_tid);
			}
		}
		for (int i = 0; i < P->pp_nthr; i++)
			waiting += (P->pp_thr[i].pt_flags & (PT_TF_INVFORK |
			    PT_TF_STOPPED | PT_TF_EXITING)) == PT_TF_INVFORK;
		if (waiting == 0 || P->pp_state == PT_DEAD ||
		    pt_collect(1) == -ECHILD)
			return;
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
	for (int i = P->pp_nthr - 1; i >= 0; i--) {
		if (P->pp_thr[i].pt_flags & PT_TF_GUEST) {
			pt_thr_flush(&P->pp_thr[i]);
			pt_drain(P, &P->pp_thr[i]);
			(void) ptrace(PTRACE_DETACH, P->pp_thr[i].pt_tid, 0,
			    (void *)(long)((P->pp_thr[i].pt_flags &
			    PT_TF_SIGSTOP) ? P->pp_thr[i].pt_sig : 0));
			pt_thr_del(P, P->pp_thr[i].pt_tid);
		}
	}
	if (pt_sendsig(P, SIGKILL) != 0 && errno != ESRCH)
		rv = -errno;
	while (P->pp_state != PT_DEAD && P->pp_state != PT_LOST) {
		int r = pt_collect(1);

		if (r == -ECHILD)
			break;
	}
	return rv;
}

/*
 * Nothing to wait for after detaching a group-stopped process.  The
 * kernel sets JOBCTL_STOP_PENDING again at the detach and wakes each
 * thread, which re-enters the stop by itself before running any
 * instruction of its own: a SIGCONT still ends the stop, a new tracer
 * sees the group stop.  Only /proc's state letter lags for a moment, and
 * no event marks its return (the stop was counted already: no parent is
 * notified), so a wait could only poll.  (The call may go.)
 */
static void
pt_settle_stopped(pid_t pid)
{
	(void) pid;
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
	if (how == PT_RELEASE_DEFAULT)
		how = P->pp_created ? PT_RELEASE_KILL : PT_RELEASE_RUN;
	pt_dprintf("releasing pid %d (%s)\n", (int)P->pp_pid,
	    how == PT_RELEASE_KILL ? "kill" : how == PT_RELEASE_RUN ? "run" :
	    "hang");

	if (P->pp_state != PT_DEAD && P->pp_state != PT_LOST) {
		if (how == PT_RELEASE_KILL) {
			rv = pt_release_kill(P);
		} else if (pt_gather(P, PT_WHY_REQUESTED) == 0) {
			bool stopped = how == PT_RELEASE_HANG || P->pp_jobstop;

			rv = pt_bkpt_remove_all(P);
			pt_vfork_settle(P);
			(void) pt_xol_fini(P);
			if (how == PT_RELEASE_HANG)
				(void) pt_sendsig(P, SIGSTOP);
			pt_detach_all(P);
			if (stopped)
				pt_settle_stopped(P->pp_pid);
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
