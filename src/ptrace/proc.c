/*
 * proc.c - the pt_proc_t object: allocation, its thread table, state,
 * and the owner thread's list of processes.
 *
 * The owner list exists because one waitpid(-1, __WALL|__WNOTHREAD) sees
 * the stops of every tracee of the calling thread: when a thread owns
 * several processes, a stop collected for one must be routed to the right
 * pt_proc_t, not dropped.
 */
#include "pt_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <unistd.h>

/* Processes owned by the calling thread (see wait.c). */
__thread pt_proc_t *pt_owned;

pt_proc_t *
pt_proc_alloc(pid_t pid)
{
	pt_proc_t *P = calloc(1, sizeof (*P));

	if (P == NULL)
		return NULL;
	P->pp_evq = calloc(PT_EVQ_MAX, sizeof (pt_event_t));
	if (P->pp_evq == NULL) {
		free(P);
		return NULL;
	}
	P->pp_pid = pid;
	P->pp_pidfd = -1;
	P->pp_memfd = -1;
	P->pp_state = PT_RUNNING;
	P->pp_owner = pthread_self();
	pthread_mutex_init(&P->pp_trlock, NULL);
	return P;
}

void
pt_proc_free(pt_proc_t *P)
{
	if (P == NULL)
		return;
	pt_owner_del(P);
	if (P->pp_pidfd >= 0)
		close(P->pp_pidfd);
	if (P->pp_memfd >= 0)
		close(P->pp_memfd);
	free(P->pp_thr);
	pt_tramp_free(P);	/* before the sites that point at them */
	free(P->pp_bp);
	free(P->pp_gone);
	pt_page_drop(P);
	pt_xol_free(P);
	pt_maps_forget(P);
	free(P->pp_evq);
	free(P->pp_exe);
	free(P);
}

/*
 * /proc/PID/mem belongs to one address space: after an exec the old
 * descriptor reads nothing, so it is reopened then.
 */
int
pt_proc_open_mem(pt_proc_t *P, int rdonly)
{
	char path[64];
	int fd;

	snprintf(path, sizeof (path), "/proc/%d/mem", (int)P->pp_pid);
	fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (P->pp_memfd < 0) {
		P->pp_memfd = fd;
		return 0;
	}
	/* in place: a reader on another thread never sees a closed fd */
	if (dup3(fd, P->pp_memfd, O_CLOEXEC) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	close(fd);
	return 0;
}

pt_thread_t *
pt_thr_find(pt_proc_t *P, pid_t tid)
{
	for (int i = 0; i < P->pp_nthr; i++) {
		if (P->pp_thr[i].pt_tid == tid)
			return &P->pp_thr[i];
	}
	return NULL;
}

pt_thread_t *
pt_thr_add(pt_proc_t *P, pid_t tid, unsigned flags)
{
	pt_thread_t *T = pt_thr_find(P, tid);

	if (T != NULL)
		return T;
	if (P->pp_nthr == P->pp_athr) {
		int n = P->pp_athr ? P->pp_athr * 2 : 16;
		pt_thread_t *t = realloc(P->pp_thr, n * sizeof (*t));
		if (t == NULL)
			return NULL;
		P->pp_thr = t;
		P->pp_athr = n;
	}
	T = &P->pp_thr[P->pp_nthr++];
	T->pt_tid = tid;
	T->pt_flags = flags;
	T->pt_sig = 0;
	T->pt_has_info = 0;
	T->pt_regs_ok = false;
	T->pt_regs_dirty = false;
	T->pt_shstk = -1;
	T->pt_vfchild = 0;
	T->pt_nhold = 0;
	T->pt_holdmask = 0;
	T->pt_vslot = 0;
	T->pt_nstid = 0;
	return T;
}

void
pt_thr_del(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T = pt_thr_find(P, tid);

	/* a stop of it kept for later describes a thread that is gone */
	pt_later_drop(tid);
	/* its vfork child no longer holds the memory as far as we know */
	if (T != NULL && (T->pt_flags & PT_TF_VFFREE) && P->pp_vffree > 0)
		P->pp_vffree--;
	/* its clock slot, if of this image's page: its last clock kept */
	if (T != NULL && T->pt_vslot != 0 && T->pt_vexecs == P->pp_execs) {
		P->pp_vgone[P->pp_nvgone % PT_VGONE].vg_tid = tid;
		P->pp_vgone[P->pp_nvgone++ % PT_VGONE].vg_post =
		    pt_tramp_vpost(P, tid);
		pt_page_counter_free(P, T->pt_vslot - 1);
	}
	if (T != NULL)
		*T = P->pp_thr[--P->pp_nthr];
}

/*
 * Stopped means no thread can run: each is in a ptrace stop or listening
 * in a group stop.  Job control is the reason when every thread is in
 * the group stop; otherwise the reason recorded by whoever stopped them.
 */
void
pt_update_state(pt_proc_t *P)
{
	int running = 0, job = 0, n = 0;

	if (P->pp_state == PT_DEAD || P->pp_state == PT_LOST)
		return;
	for (int i = 0; i < P->pp_nthr; i++) {
		pt_thread_t *T = &P->pp_thr[i];

		if (T->pt_flags & (PT_TF_GUEST | PT_TF_EXITING))
			continue;
		n++;
		if (T->pt_flags & PT_TF_JOBSTOP)
			job++;
		else if (!(T->pt_flags & PT_TF_STOPPED))
			running++;
	}
	if (running > 0 || n == 0) {
		P->pp_state = PT_RUNNING;
		P->pp_why = PT_WHY_NONE;
	} else {
		P->pp_state = PT_STOPPED;
		if (job == n)
			P->pp_why = PT_WHY_JOBCONTROL;
		else if (P->pp_why == PT_WHY_NONE ||
		    P->pp_why == PT_WHY_JOBCONTROL)
			P->pp_why = PT_WHY_EVENT;
	}
}

void
pt_owner_add(pt_proc_t *P)
{
	P->pp_owner = pthread_self();
	P->pp_next = pt_owned;
	pt_owned = P;
}

void
pt_owner_del(pt_proc_t *P)
{
	for (pt_proc_t **pp = &pt_owned; *pp != NULL; pp = &(*pp)->pp_next) {
		if (*pp == P) {
			*pp = P->pp_next;
			return;
		}
	}
}

pid_t pt_pid(const pt_proc_t *P) { return P->pp_pid; }
pt_state_t pt_state(const pt_proc_t *P) { return P->pp_state; }
pt_why_t pt_why(const pt_proc_t *P) { return P->pp_why; }
int pt_created(const pt_proc_t *P) { return P->pp_created; }
int pt_rdonly(const pt_proc_t *P) { return P->pp_rdonly; }
int pt_exit_status(const pt_proc_t *P) { return P->pp_status; }
const char *pt_exe(const pt_proc_t *P) { return P->pp_exe ? P->pp_exe : ""; }

int
pt_nthreads(const pt_proc_t *P)
{
	int n = 0;

	for (int i = 0; i < P->pp_nthr; i++)
		n += !(P->pp_thr[i].pt_flags & PT_TF_GUEST);
	return n;
}

int
pt_threads(const pt_proc_t *P, pid_t *tids, int max)
{
	int n = 0;

	for (int i = 0; i < P->pp_nthr; i++) {
		if (P->pp_thr[i].pt_flags & PT_TF_GUEST)
			continue;
		if (n < max)
			tids[n] = P->pp_thr[i].pt_tid;
		n++;
	}
	return n;
}

static bool pt_debug_on;

static void
pt_debug_init(void)
{
	pt_debug_on = getenv("DTPROC_DEBUG") != NULL;
}

void
pt_dprintf(const char *fmt, ...)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	va_list ap;

	(void) pthread_once(&once, pt_debug_init);
	if (!pt_debug_on)
		return;
	fprintf(stderr, "dtproc[%d]: ", (int)syscall(SYS_gettid));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int
pt_alive(const pt_proc_t *P)
{
	struct pollfd p = { .fd = P->pp_pidfd, .events = POLLIN };

	if (P->pp_state == PT_DEAD)
		return 0;
	if (P->pp_pidfd < 0)
		return kill(P->pp_pid, 0) == 0;
	/* a pidfd turns readable when its process has exited */
	return poll(&p, 1, 0) == 0;
}

int
pt_pidfd(const pt_proc_t *P)
{
	return P->pp_pidfd;
}

int
pt_is_owner(const pt_proc_t *P)
{
	return !P->pp_rdonly && pthread_equal(P->pp_owner, pthread_self());
}

/*
 * The wait of a resting process (pt.h): every thread is held, so the only
 * stops to come are those of its death (exit stops, restarted at once by
 * the dispatcher, then the exits) and of a vfork that ends; an owner
 * woken by a client returns to serve it.  ECHILD (no tracee left) is
 * left to pt_wait(), which tells EXIT from LOST.
 */
int
pt_rest(pt_proc_t *P)
{
	PT_ASSERT_OWNER(P);
	for (;;) {
		int r;

		if (P->pp_state == PT_DEAD || P->pp_state == PT_LOST)
			return -ESRCH;
		if (P->pp_wake != NULL && pt_wake_pending(P->pp_wake))
			return -EINTR;
		if ((r = pt_collect(1)) == -EINTR)
			return -EINTR;
		if (r < 0)
			return -ESRCH;
	}
}
