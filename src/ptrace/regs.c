/*
 * regs.c - registers of a stopped thread.  Only the owner may ask, and
 * only of a thread in a ptrace stop (a listening thread is not).
 *
 * A stop's registers are read once and kept with the thread: a
 * breakpoint hit reads them to classify the trap, its callbacks and the
 * unwinder read them again, and carrying the thread past the site
 * changes them, all for one GETREGS and one SETREGS.  Whatever restarts,
 * steps or detaches a thread flushes them first (pt_thr_flush).
 */
#include "pt_impl.h"

#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

static pt_thread_t *
pt_regs_thread(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T = pt_thr_find(P, tid);

	if (T == NULL) {
		pt_seterr(P, ESRCH, "pid %d: no thread %d", (int)P->pp_pid,
		    (int)tid);
		return NULL;
	}
	if (!(T->pt_flags & PT_TF_STOPPED)) {
		pt_seterr(P, EBUSY, "pid %d: thread %d is running",
		    (int)P->pp_pid, (int)tid);
		return NULL;
	}
	return T;
}

/* This stop's registers of stopped thread T: 0 or -errno. */
int
pt_thr_regs(pt_thread_t *T, struct user_regs_struct *regs)
{
	if (!T->pt_regs_ok) {
		if (pt_ptrace(PTRACE_GETREGS, T->pt_tid, 0, &T->pt_regs) < 0)
			return -errno;
		T->pt_regs_ok = true;
		T->pt_regs_dirty = false;
	}
	*regs = T->pt_regs;
	return 0;
}

/* Write back registers changed in the cache; the cache ends either way. */
void
pt_thr_flush(pt_thread_t *T)
{
	if (T->pt_regs_ok && T->pt_regs_dirty)
		(void) pt_ptrace(PTRACE_SETREGS, T->pt_tid, 0, &T->pt_regs);
	T->pt_regs_ok = false;
	T->pt_regs_dirty = false;
}

int
pt_regs_get(pt_proc_t *P, pid_t tid, struct user_regs_struct *regs)
{
	pt_thread_t *T;
	int rv;

	PT_ASSERT_OWNER(P);
	if ((T = pt_regs_thread(P, tid)) == NULL)
		return -ESRCH;
	if ((rv = pt_thr_regs(T, regs)) != 0)
		return pt_seterr(P, -rv, "pid %d: thread %d: %s",
		    (int)P->pp_pid, (int)tid, strerror(-rv));
	return 0;
}

int
pt_regs_set(pt_proc_t *P, pid_t tid, const struct user_regs_struct *regs)
{
	pt_thread_t *T;

	PT_ASSERT_OWNER(P);
	if ((T = pt_regs_thread(P, tid)) == NULL)
		return -ESRCH;
	/* written at once: the caller may rely on the kernel's copy */
	if (pt_ptrace(PTRACE_SETREGS, tid, 0, (void *)regs) < 0)
		return pt_seterr(P, errno, "pid %d: thread %d: %s",
		    (int)P->pp_pid, (int)tid, strerror(errno));
	T->pt_regs = *regs;
	T->pt_regs_ok = true;
	T->pt_regs_dirty = false;
	return 0;
}
