/*
 * grab.c - take control of a running process, or read-only access to it.
 *
 * Every thread is a separate tracee, so grabbing seizes each tid listed in
 * /proc/PID/task, and lists it again until a pass finds nothing new:
 * threads created meanwhile by a thread already seized are attached by
 * the kernel (TRACECLONE) and seen as ours; the others show up in the
 * next listing (for at most PT_SEIZE_SECS).  PTRACE_SEIZE injects no SIGSTOP, so nothing reaches the
 * victim; PTRACE_INTERRUPT then stops them all (the GRAB rendezvous), and
 * a system call it interrupts is restarted, never failed with EINTR.
 * Processes sharing its memory are seized too, as guests, and threads
 * asleep in vfork are not waited for (share.c).
 *
 * Refusals name the pid and the reason, checked before any attach so a
 * refused grab leaves nothing behind.
 */
#include "pt_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PF_KTHREAD 0x00200000
#define PT_SEIZE_SECS	2	/* seize passes may take this long */

int
pt_seize_opts(void)
{
	return PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
	    PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE |
	    PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |
	    PTRACE_O_TRACESYSGOOD;	/* our injected calls' exit stops */
}

int
pt_is_our_thread(pid_t pid)
{
	return pt_status_field(pid, 0, "Tgid") == getpid();
}

/* Why the kernel said EPERM: another user, ptrace policy, or set-id. */
static int
pt_eperm(pid_t pid)
{
	char buf[32];
	pid_t uid = pt_status_field(pid, 0, "Uid");
	FILE *f;
	int scope = -1;

	if (uid >= 0 && uid != (pid_t)geteuid() && geteuid() != 0)
		return err_set(EPERM, "failed to grab pid %d: permission "
		    "denied: process belongs to another user (uid %d)",
		    (int)pid, (int)uid);
	if ((f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re")) != NULL) {
		if (fgets(buf, sizeof (buf), f) != NULL)
			scope = atoi(buf);
		fclose(f);
	}
	if (scope >= 1)
		return err_set(EPERM, "failed to grab pid %d: permission "
		    "denied: ptrace restricted by kernel.yama.ptrace_scope=%d",
		    (int)pid, scope);
	return err_set(EPERM, "failed to grab pid %d: permission denied: "
	    "process is set-id or not dumpable", (int)pid);
}

static int
pt_refuse(pid_t pid, int rdonly)
{
	unsigned long flags = 0;
	char state = 0, comm[64];
	pid_t tracer;
	int rv;

	if (pid <= 0)
		return err_set(ESRCH, "failed to grab pid %d: no such "
		    "process", (int)pid);
	if (pid == getpid() || pt_is_our_thread(pid))
		return err_set(DTPROC_ESELF, "failed to grab pid "
		    "%d: process is dtproc itself", (int)pid);
	if ((rv = pt_proc_stat(pid, &state, &flags)) != 0)
		return err_set(ESRCH, "failed to grab pid %d: no such "
		    "process", (int)pid);
	if (state == 'Z' || state == 'X')
		return err_set(DTPROC_EZOMBIE, "failed to grab pid %d: "
		    "process is a zombie", (int)pid);
	if (flags & PF_KTHREAD)
		return err_set(DTPROC_EKTHREAD, "failed to grab pid %d: "
		    "process is a kernel thread", (int)pid);
	/* reading needs no tracer of our own: another one is no obstacle */
	tracer = rdonly ? 0 : pt_status_field(pid, 0, "TracerPid");
	if (tracer > 0) {
		/* TracerPid is the tracing thread: name its process */
		pid_t tg = pt_status_field(tracer, 0, "Tgid");

		if (tg > 0)
			tracer = tg;
		pt_comm(tracer, comm, sizeof (comm));
		return err_set(DTPROC_ETRACED, "failed to grab pid %d: "
		    "process is already traced by pid %d (%s)", (int)pid,
		    (int)tracer, comm);
	}
	return 0;
}

/* Seize every thread listed; returns how many were new, or -errno. */
static int
pt_seize_pass(pt_proc_t *P)
{
	char path[64];
	struct dirent *d;
	int added = 0;
	DIR *dir;

	snprintf(path, sizeof (path), "/proc/%d/task", (int)P->pp_pid);
	if ((dir = opendir(path)) == NULL)
		return err_set(ESRCH, "failed to grab pid %d: no such "
		    "process", (int)P->pp_pid);
	while ((d = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid <= 0 || pt_thr_find(P, tid) != NULL)
			continue;
		if (ptrace(PTRACE_SEIZE, tid, 0,
		    (void *)(long)pt_seize_opts()) == 0) {
			if (pt_thr_add(P, tid, 0) == NULL) {
				closedir(dir);
				return err_set(ENOMEM, "failed to grab "
				    "pid %d: %s", (int)P->pp_pid,
				    strerror(ENOMEM));
			}
			added++;
			continue;
		}
		int err = errno;
		if (err == ESRCH)
			continue;	/* the thread exited meanwhile */
		if (err == EPERM && tid != P->pp_pid) {
			char st = 0;

			/* exiting: it refuses attach and will be gone */
			if (pt_proc_stat(tid, &st, NULL) != 0 || st == 'Z' ||
			    st == 'X')
				continue;
			/* auto-attached by TRACECLONE: ours already */
			pid_t tr = pt_status_field(P->pp_pid, tid,
			    "TracerPid");
			if (tr > 0 && pt_is_our_thread(tr)) {
				if (pt_thr_add(P, tid, PT_TF_NEWBORN) == NULL)
					err = ENOMEM;
				else
					continue;
			}
		}
		closedir(dir);
		if (tid != P->pp_pid && err != ENOMEM)
			return err_set(err, "failed to grab pid %d: "
			    "thread %d: %s", (int)P->pp_pid, (int)tid,
			    strerror(err));
		if (err == EPERM) {
			int rv = pt_refuse(P->pp_pid, 0);
			return rv != 0 ? rv : pt_eperm(P->pp_pid);
		}
		return err_set(err, "failed to grab pid %d: %s",
		    (int)P->pp_pid, strerror(err));
	}
	closedir(dir);
	return added;
}

/*
 * Seize passes until one finds no new thread.  Bounded in time: threads
 * started by a thread already seized are attached by the kernel, so only
 * a process whose unseized threads keep starting others (or whose thread
 * ids keep being reused) could keep the loop going, and that is an error,
 * not a hang.
 */
static int
pt_seize_all(pt_proc_t *P)
{
	struct timespec now, end;
	int rv;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += PT_SEIZE_SECS;
	/* threads, then sharers of the memory: until neither finds more */
	while ((rv = pt_seize_pass(P)) > 0 ||
	    (rv == 0 && (rv = pt_sharers_pass(P)) > 0)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
		    now.tv_nsec >= end.tv_nsec))
			return err_set(EAGAIN, "failed to grab pid %d: new "
			    "threads (or processes sharing its memory) kept "
			    "appearing for %d s", (int)P->pp_pid,
			    PT_SEIZE_SECS);
	}
	return rv;
}

static void
pt_unseize(pt_proc_t *P)
{
	for (int i = 0; i < P->pp_nthr; i++)
		(void) ptrace(PTRACE_DETACH, P->pp_thr[i].pt_tid, 0, 0);
	P->pp_nthr = 0;
}

static int
pt_grab_rdonly(pt_proc_t *P)
{
	int rv = pt_proc_open_mem(P, 1);

	if (rv == -EACCES || rv == -EPERM)
		return pt_eperm(P->pp_pid);
	if (rv != 0)
		return err_set(-rv, "failed to grab pid %d: %s",
		    (int)P->pp_pid, strerror(-rv));
	P->pp_rdonly = true;
	return 0;
}

int
pt_grab(pid_t pid, int flags, pt_proc_t **pp)
{
	char path[64], exe[4096];
	pt_proc_t *P;
	ssize_t n;
	int rv;

	*pp = NULL;
	if ((rv = pt_refuse(pid, (flags & PT_GRAB_RDONLY) != 0)) != 0)
		return rv;
	if ((P = pt_proc_alloc(pid)) == NULL)
		return err_set(ENOMEM, "failed to grab pid %d: %s",
		    (int)pid, strerror(ENOMEM));
	P->pp_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	snprintf(path, sizeof (path), "/proc/%d/exe", (int)pid);
	if ((n = readlink(path, exe, sizeof (exe) - 1)) > 0) {
		exe[n] = '\0';
		P->pp_exe = strdup(exe);
	}
	if (flags & PT_GRAB_RDONLY) {
		if ((rv = pt_grab_rdonly(P)) != 0) {
			pt_proc_free(P);
			return rv;
		}
		*pp = P;
		return 0;
	}

	pt_owner_add(P);
	rv = pt_seize_all(P);
	if (rv == 0 && P->pp_nthr == 0)
		rv = err_set(ESRCH, "failed to grab pid %d: no such "
		    "process", (int)pid);
	if (rv == 0 && (rv = pt_proc_open_mem(P, 0)) != 0)
		rv = err_set(-rv, "failed to grab pid %d: cannot open "
		    "its memory: %s", (int)pid, strerror(-rv));
	if (rv < 0) {
		pt_unseize(P);
		pt_proc_free(P);
		return rv;
	}
	if (!(flags & PT_GRAB_NOSTOP) &&
	    pt_grab_stop(P) != 0 && P->pp_state == PT_DEAD) {
		int st = P->pp_status;

		pt_proc_free(P);
		if (WIFSIGNALED(st))
			return err_set(ESRCH, "failed to grab pid %d: "
			    "process died from signal %d", (int)pid,
			    WTERMSIG(st));
		return err_set(ESRCH, "failed to grab pid %d: process "
		    "exited with status %d", (int)pid, WEXITSTATUS(st));
	}
	/*
	 * Threads caught on their way out run no user code but are not
	 * stopped either: let them finish, so the process rests whole.
	 */
	for (int i = P->pp_nthr - 1; i >= 0; i--) {
		pt_thread_t *T = &P->pp_thr[i];
		int st;

		if ((T->pt_flags & PT_TF_EXITING) && T->pt_tid != P->pp_pid &&
		    pt_wait_tid(T->pt_tid, &st) == 0)
			pt_redispatch(T->pt_tid, st);
		if (i > P->pp_nthr)
			i = P->pp_nthr;
	}
	pt_update_state(P);
	/* every thread stopped: undo what a dead run left patched */
	if (!(flags & PT_GRAB_NOSTOP) && P->pp_state == PT_STOPPED)
		(void) pt_page_adopt(P);
	*pp = P;
	pt_dprintf("grabbed pid %d (%d threads)\n", (int)pid, P->pp_nthr);
	return 0;
}
