/*
 * regs.c - registers of a stopped thread.  Only the owner may ask, and
 * only of a thread in a ptrace stop (a listening thread is not).
 *
 * A stop's registers are read once and kept with the thread: a
 * breakpoint hit reads them to classify the trap, its callbacks and the
 * unwinder read them again, and carrying the thread past the site
 * changes them, all for one read and one write of the register set.  Whatever restarts,
 * steps or detaches a thread flushes them first (pt_thr_flush).
 */
#include "pt_impl.h"

#include <errno.h>
#include <string.h>

static pt_thread_t *
pt_regs_thread(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T = pt_thr_find(P, tid);

	if (T == NULL) {
		err_set(ESRCH, "pid %d: no thread %d", (int)P->pp_pid,
		    (int)tid);
		return NULL;
	}
	if (!(T->pt_flags & PT_TF_STOPPED)) {
		err_set(EBUSY, "pid %d: thread %d is running",
		    (int)P->pp_pid, (int)tid);
		return NULL;
	}
	return T;
}

/* This stop's registers of stopped thread T: 0 or -errno. */
int
pt_thr_regs(pt_thread_t *T, arch_regs_t *regs)
{
	int rv;

	if (!T->pt_regs_ok) {
		if ((rv = arch_regs_read(T->pt_tid, &T->pt_regs)) != 0)
			return rv;
		T->pt_regs_ok = true;
		T->pt_regs_dirty = false;
	}
	*regs = T->pt_regs;
	return 0;
}

__thread unsigned pt_flushgen;

/* Write back registers changed in the cache; the cache ends either way. */
void
pt_thr_flush(pt_thread_t *T)
{
	pt_flushgen++;		/* it is about to run, or be let go */
	if (T->pt_regs_ok && T->pt_regs_dirty)
		(void) arch_regs_write(T->pt_tid, &T->pt_regs);
	T->pt_regs_ok = false;
	T->pt_regs_dirty = false;
}

/* Read (GET) or write (SET, at once) the registers of stopped TID. */
static int
pt_regs_access(pt_proc_t *P, pid_t tid, arch_regs_t *get,
    const arch_regs_t *set)
{
	pt_thread_t *T;
	int rv;

	PT_ASSERT_OWNER(P);
	if ((T = pt_regs_thread(P, tid)) == NULL)
		return -ESRCH;
	/* a write goes to the kernel now: the caller may rely on it */
	rv = get != NULL ? pt_thr_regs(T, get) : arch_regs_write(tid, set);
	if (rv != 0)
		return err_set(-rv, "pid %d: thread %d: %s",
		    (int)P->pp_pid, (int)tid, strerror(-rv));
	if (set != NULL) {
		pt_flushgen++;
		T->pt_regs = *set;
		T->pt_regs_ok = true;
		T->pt_regs_dirty = false;
	}
	return 0;
}

int
pt_regs_get(pt_proc_t *P, pid_t tid, arch_regs_t *regs)
{
	return pt_regs_access(P, tid, regs, NULL);
}

int
pt_regs_set(pt_proc_t *P, pid_t tid, const arch_regs_t *regs)
{
	return pt_regs_access(P, tid, NULL, regs);
}
