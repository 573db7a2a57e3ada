/*
 * regs.c - registers of a stopped thread.  Only the owner may ask, and
 * only of a thread in a ptrace stop (a listening thread is not).
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

int
pt_regs_get(pt_proc_t *P, pid_t tid, struct user_regs_struct *regs)
{
	PT_ASSERT_OWNER(P);
	if (pt_regs_thread(P, tid) == NULL)
		return -ESRCH;
	if (pt_ptrace(PTRACE_GETREGS, tid, 0, regs) < 0)
		return pt_seterr(P, errno, "pid %d: thread %d: %s",
		    (int)P->pp_pid, (int)tid, strerror(errno));
	return 0;
}

int
pt_regs_set(pt_proc_t *P, pid_t tid, const struct user_regs_struct *regs)
{
	PT_ASSERT_OWNER(P);
	if (pt_regs_thread(P, tid) == NULL)
		return -ESRCH;
	if (pt_ptrace(PTRACE_SETREGS, tid, 0, (void *)regs) < 0)
		return pt_seterr(P, errno, "pid %d: thread %d: %s",
		    (int)P->pp_pid, (int)tid, strerror(errno));
	return 0;
}
