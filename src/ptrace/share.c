/*
 * share.c - what a grab must know beyond the process's own threads:
 * the processes that share its memory, and its threads waiting in vfork.
 *
 * Sharers.  A process made with clone(CLONE_VM) (or a vfork child that
 * has not exec'd yet) runs in the victim's address space: every int3 we
 * plant is in its text too, and untraced it dies of SIGTRAP at the
 * first probe it runs into.  Those made while we trace are seen at their
 * clone and kept as guests (wait.c); those made before are found here:
 * every process for which kcmp(KCMP_VM) says "the same mm" (the kernel
 * lets us compare only processes we could trace anyway), seized whole
 * as guests, in passes until one finds none new (a sibling made during
 * a pass by a sharer not yet seized shows up in the next; one made by a
 * seized one is attached by the kernel).  A sharer that cannot be traced
 * (another tracer) makes the grab fail, naming it: we would harm it.
 *
 * vfork.  A thread waiting in vfork for its child to exec or exit sleeps
 * in the kernel (state D, in vfork, clone with CLONE_VFORK, or clone3
 * whose flags say so) and cannot be stopped until then, which may be
 * never.  It runs no code of its own meanwhile, so it is marked
 * (PT_TF_INVFORK) and nobody waits for it: it reports VFORK_DONE when its
 * child lets go of the memory, and stops then.  Looked for each time the
 * grab's wait is interrupted by a timer that ticks while it lasts: a
 * thread may be on its way into the wait at one tick, still running, and
 * asleep there at the next.
 */
#include "pt_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PT_VFORK_FIRST_MS	5	/* a grab not done by then looks for */
#define PT_VFORK_TICK_MS	50	/* threads in vfork, and again each tick */

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* Seize every thread of sharer PID as a guest: how many, or -errno. */
static int
pt_seize_guest(pt_proc_t *P, pid_t pid)
{
	char path[64], comm[64];
	struct dirent *d;
	int added = 0, err = 0;
	DIR *dir;

	snprintf(path, sizeof (path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return 0;		/* gone meanwhile */
	while ((d = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid <= 0 || pt_thr_find(P, tid) != NULL)
			continue;
		unsigned flags = PT_TF_GUEST;
		char st = 0;

		if (ptrace(PTRACE_SEIZE, tid, 0,
		    (void *)(long)pt_seize_opts()) != 0) {
			pid_t tr;

			err = errno;
			if (err == ESRCH || (err == EPERM &&
			    (pt_proc_stat(tid, &st, NULL) != 0 || st == 'Z' ||
			    st == 'X'))) {
				err = 0;	/* gone, or on its way out */
				continue;
			}
			/* made by a thread seized already: the kernel
			   attached it to us, its clone event to come */
			tr = pt_status_field(tid, 0, "TracerPid");
			if (err != EPERM || tr <= 0 || !pt_is_our_thread(tr))
				break;
			err = 0;
			flags |= PT_TF_NEWBORN;
		}
		if (pt_thr_add(P, tid, flags) == NULL) {
			if (!(flags & PT_TF_NEWBORN))
				(void) ptrace(PTRACE_DETACH, tid, 0, 0);
			err = ENOMEM;
			break;
		}
		added++;
	}
	closedir(dir);
	if (err == 0)
		return added;
	pt_comm(pid, comm, sizeof (comm));
	return err_set(err, "failed to grab pid %d: pid %d (%s) shares its "
	    "memory and cannot be traced with it: %s", (int)P->pp_pid,
	    (int)pid, comm, strerror(err));
}

/* One pass over /proc: sharers seized, how many threads new, or -errno. */
int
pt_sharers_pass(pt_proc_t *P)
{
	struct dirent *d;
	pid_t self = getpid();
	int added = 0;
	DIR *dir;

	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		pid_t pid = (pid_t)atoi(d->d_name);
		int r;

		if (pid <= 0 || pid == P->pp_pid || pid == self ||
		    pt_thr_find(P, pid) != NULL ||
		    syscall(SYS_kcmp, P->pp_pid, pid, KCMP_VM, 0, 0) != 0)
			continue;
		if ((r = pt_seize_guest(P, pid)) < 0) {
			closedir(dir);
			return r;
		}
		added += r;
	}
	closedir(dir);
	return added;
}

/* Is T asleep waiting for its vfork child (see above)? */
static bool
pt_thr_in_vfork(pt_proc_t *P, const pt_thread_t *T)
{
	char path[64], buf[256], state = 0;
	unsigned long nr, a1;
	uint64_t flags;
	ssize_t n;
	int fd;

	if (pt_proc_stat(T->pt_tid, &state, NULL) != 0 || state != 'D')
		return false;
	snprintf(path, sizeof (path), "/proc/%d/syscall", (int)T->pt_tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof (buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lx", &nr, &a1) != 2)
		return false;		/* "running", or -1: not in a call */
	if (nr == SYS_vfork)
		return true;
	if (nr == SYS_clone)
		return (a1 & CLONE_VFORK) != 0;
	/* clone3: struct clone_args starts with its flags */
	return nr == SYS_clone3 && pt_mem_read(P, a1, &flags,
	    sizeof (flags)) == (ssize_t)sizeof (flags) &&
	    (flags & CLONE_VFORK) != 0;
}

void
pt_vfork_mark(pt_proc_t *P)
{
	for (int i = 0; i < P->pp_nthr; i++) {
		pt_thread_t *T = &P->pp_thr[i];

		if (!(T->pt_flags & (PT_TF_STOPPED | PT_TF_EXITING |
		    PT_TF_INVFORK)) && pt_thr_in_vfork(P, T)) {
			T->pt_flags |= PT_TF_INVFORK;
			T->pt_vfchild = 0;	/* its child is not ours */
			pt_dprintf("pid %d: thread %d waits in vfork\n",
			    (int)P->pp_pid, (int)T->pt_tid);
		}
	}
}

/*
 * The grab's stop, with a timer ticking on this thread (the wake signal,
 * whose handler interrupts waitpid) while pt_stop waits: a thread that
 * has not stopped by the first tick may sleep in vfork, and is looked at
 * then and at each tick after, marked, not waited for.  A grab that is
 * done before the first tick (most are) reads nothing of /proc for it.
 */
int
pt_grab_stop(pt_proc_t *P)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID };
	struct itimerspec its = { { 0, PT_VFORK_TICK_MS * 1000000L },
	    { 0, PT_VFORK_FIRST_MS * 1000000L } };
	timer_t tm;
	bool timed;
	int rv;

	sev.sigev_signo = pt_wake_signal();
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	timed = timer_create(CLOCK_MONOTONIC, &sev, &tm) == 0;
	if (timed && timer_settime(tm, 0, &its, NULL) != 0) {
		(void) timer_delete(tm);
		timed = false;
	}
	rv = pt_stop(P, PT_WHY_EVENT);
	if (timed)
		(void) timer_delete(tm);
	return rv;
}
