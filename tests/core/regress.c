/*
 * regress.c - regression tests for the core bugs found in review, one
 * test per bug, each built so that it fails (rather than hangs the run)
 * if its bug comes back:
 *
 *   reg_fork_child_after_bkpt_del	a fork child kept an int3 (and died
 *		of SIGTRAP) when the site was deleted after the fork but
 *		before the FORK event was collected
 *   reg_step_signal_mask		a kill()-sent SIGSEGV/SIGBUS/SIGILL/
 *		SIGFPE/SIGTRAP arriving during a breakpoint step was
 *		injected into the step, and its handler's sigreturn left
 *		the step's nearly full signal mask in place
 *   reg_step_sigstop			SIGSTOP arriving during a step left
 *		the thread stopped for good; pt_stop() then hung
 *   reg_zombie_leader_release		main thread gone by pthread_exit():
 *		pt_release(RUN) hung
 *   reg_signal_before_exec		a signal between the seize and the
 *		exec made pt_create() fail with ECHILD after running the
 *		whole program
 *   reg_clone_vm_release		clone(CLONE_VM) without CLONE_VFORK
 *		left the parent marked as in vfork: pt_release(RUN) hung
 *
 * Every window is opened deterministically: a signal meant to arrive
 * "during a step" is queued while the thread sits in its breakpoint
 * stop, so the kernel dequeues it as soon as the step lets the thread
 * go; a fork stop is seen with waitid(WNOWAIT) without being collected;
 * the exec of a created child is held by a seccomp user notification
 * while the signal is sent.  Calls that used to hang run under a
 * watchdog (or on an owner thread joined with a deadline) that fails
 * the test with a message instead.
 */
#include "harness.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>

#define CREATE_OK(rc, err) \
	CHECK_MSG((rc) == 0, "pt_create: %d: %s", (rc), err_msg())

/* How long a call that used to hang may take before we call it hung. */
#define HANG_SECS	15

/* ---- watchdog: fail the test if a call does not return ---- */

struct watchdog {
	pthread_t wd_thread;
	pthread_mutex_t wd_lock;
	pthread_cond_t wd_cv;
	int wd_done;
	int wd_secs;
	const char *wd_what;
};

static void *
watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec deadline;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += w->wd_secs;
	pthread_mutex_lock(&w->wd_lock);
	while (!w->wd_done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->wd_cv, &w->wd_lock, &deadline);
	if (!w->wd_done)
		FAIL("%s: no return within %d s (hung)", w->wd_what,
		    w->wd_secs);
	pthread_mutex_unlock(&w->wd_lock);
	return NULL;
}

static void
watchdog_start(struct watchdog *w, const char *what, int secs)
{
	pthread_condattr_t ca;

	memset(w, 0, sizeof (*w));
	w->wd_secs = secs;
	w->wd_what = what;
	pthread_mutex_init(&w->wd_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wd_cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&w->wd_thread, NULL, watchdog_main,
	    w)) != 0)
		FAIL("pthread_create: %s", strerror(errno));
}

static void
watchdog_stop(struct watchdog *w)
{
	pthread_mutex_lock(&w->wd_lock);
	w->wd_done = 1;
	pthread_cond_signal(&w->wd_cv);
	pthread_mutex_unlock(&w->wd_lock);
	pthread_join(w->wd_thread, NULL);
	pthread_cond_destroy(&w->wd_cv);
	pthread_mutex_destroy(&w->wd_lock);
}

/* Join T, failing the test if it is not done within SECS seconds. */
static void
join_within(pthread_t t, int secs, const char *what)
{
	struct timespec deadline;
	int rc;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += secs;
	rc = pthread_timedjoin_np(t, NULL, &deadline);
	if (rc == ETIMEDOUT)
		FAIL("%s: not done within %d s (hung)", what, secs);
	CHECK_MSG(rc == 0, "pthread_timedjoin_np: %s", strerror(rc));
}

static pid_t
my_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ------------------------------------------------------------------ */
/*
 * Bug: a site deleted after the victim forked but before we collected
 * its FORK event was left planted in the child's copy of the text (only
 * the sites still set were cleaned), and the child died of SIGTRAP.
 */
TEST(reg_fork_child_after_bkpt_del)
{
	VICTIM_LOCALS;
	unsigned long msg = 0;
	uintptr_t addr;
	unsigned char b;
	siginfo_t si;
	pid_t child;

	spawn_ready("regress", (char *[]){ "fork", NULL }, &v, line,
	    sizeof (line));
	addr = line_field(line, "bp_target");
	P = grab_ok(v.pid, 0);
	CHECK_PT(pt_bkpt_set(P, addr));
	CHECK_PT(pt_resume(P));
	victim_go(&v);

	/* bp_target(1), just before the fork. */
	wait_for_event(P, PT_EV_BREAKPOINT, &ev, NULL, 20);
	CHECK_EQ_INT(ev.pe_tid, v.pid);
	CHECK_EQ_INT(ev.pe_addr, addr);
	CHECK_PT(pt_bkpt_step(P, v.pid));
	CHECK_PT(pt_resume_thread(P, v.pid));

	/*
	 * The victim forks now and stops at its fork event.  See that stop
	 * without collecting it (WNOWAIT): for the library the fork has
	 * not happened yet when the site is deleted.
	 */
	memset(&si, 0, sizeof (si));
	while (waitid(P_PID, v.pid, &si, WSTOPPED | WEXITED | WNOWAIT |
	    __WALL) != 0) {
		CHECK_MSG(errno == EINTR, "waitid: %s", strerror(errno));
	}
	tinfo("victim stop: code %d status %#x", si.si_code, si.si_status);
	CHECK_EQ_INT(si.si_code, CLD_TRAPPED);
	CHECK_EQ_INT(si.si_status, SIGTRAP | (PTRACE_EVENT_FORK << 8));
	CHECK_MSG(ptrace(PTRACE_GETEVENTMSG, v.pid, 0, &msg) == 0,
	    "PTRACE_GETEVENTMSG: %s", strerror(errno));
	child = (pid_t)msg;
	CHECK(child > 0);
	/* The scenario: the child's copy holds the int3. */
	CHECK_EQ_INT(proc_mem_read(child, addr, &b, 1), 1);
	CHECK_EQ_INT(b, 0xcc);

	CHECK_PT(pt_bkpt_del(P, addr));
	CHECK_EQ_INT(pt_bkpt_count(P), 0);

	wait_for_event(P, PT_EV_FORK, &ev, NULL, 20);
	CHECK_EQ_INT(ev.pe_tid, v.pid);
	CHECK_EQ_INT(ev.pe_child, child);
	/* Let go clean: untraced, the original byte back. */
	CHECK_EQ_INT(proc_tracer(child, 0), 0);
	CHECK_EQ_INT(proc_mem_read(child, addr, &b, 1), 1);
	CHECK_MSG(b != 0xcc, "int3 of the deleted site left in the fork "
	    "child %d", (int)child);
	CHECK_EQ_INT(b, file_byte_at(child, addr));
	victim_go(&v);		/* the child's: it calls bp_target(2) */
	CHECK_PT(pt_resume_thread(P, v.pid));

	st = run_checked(P, &c);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(c.ev[PT_EV_BREAKPOINT], 0);
	pt_release(P, PT_RELEASE_DEFAULT);
	victim_expect(&v, line, sizeof (line), "child=");
	CHECK_EQ_INT(line_field(line, "child"), child);
	victim_expect_eq(&v, "child_", "child_exit=42");
}

/* ------------------------------------------------------------------ */
/*
 * Bug: during pt_bkpt_step() the thread's mask blocks every signal but
 * SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP.  One of those sent by
 * kill()/tgkill() (not a fault) arriving during the step was injected
 * there: its handler frame saved the step's mask, sigreturn restored it,
 * and the thread kept a nearly full SigBlk for good (and re-ran the
 * site).  Each signal is queued while the thread sits at the breakpoint,
 * so the step's first instruction is where the kernel dequeues it.
 */
static const int step_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
#define NSTEP_SIGS	((int)(sizeof (step_sigs) / sizeof (step_sigs[0])))

struct sigstep_ctx {
	pid_t pid;
	uintptr_t addr;
	int nsend;		/* hits 1..nsend get step_sigs[hit - 1] */
	int hits;
};

static int
sigstep_cb(pt_proc_t *P, const pt_event_t *ev, void *arg)
{
	struct sigstep_ctx *x = arg;

	(void)P;
	if (ev->pe_kind != PT_EV_BREAKPOINT)
		return RUN_DEFAULT;
	CHECK_EQ_INT(ev->pe_tid, x->pid);
	CHECK_EQ_INT(ev->pe_addr, x->addr);
	if (x->hits < x->nsend)
		CHECK_MSG(syscall(SYS_tgkill, x->pid, ev->pe_tid,
		    step_sigs[x->hits]) == 0, "tgkill: %s", strerror(errno));
	x->hits++;
	return RUN_DEFAULT;	/* pt_bkpt_step(), then resume */
}

/* "regress loop ITERS" grabbed with a breakpoint on bp_target (X), let
   go; its ready line in LINE. */
static pt_proc_t *
sigstep_start(const char *iters, struct sigstep_ctx *x, struct victim *v,
    char *line, size_t n)
{
	pt_proc_t *P;

	spawn_ready("regress", (char *[]){ "loop", (char *)iters, NULL }, v,
	    line, n);
	x->pid = v->pid;
	x->addr = line_field(line, "bp_target");
	P = grab_ok(v->pid, 0);
	CHECK_PT(pt_bkpt_set(P, x->addr));
	CHECK_PT(pt_resume(P));
	victim_go(v);
	return P;
}

TEST(reg_step_signal_mask)
{
	struct sigstep_ctx x = { 0 };
	struct run_counts c;
	struct victim v;
	char line[512];
	pt_proc_t *P;
	int st;

	x.nsend = NSTEP_SIGS;
	P = sigstep_start("8", &x, &v, line, sizeof (line));
	st = run_events(P, &c, sigstep_cb, &x);
	CHECK_RUN(st, &c);
	CHECK_EXITED(st, 0);
	pt_release(P, PT_RELEASE_DEFAULT);

	victim_expect(&v, line, sizeof (line), "report ");
	/* The mask the victim had (none) is the mask it ends with. */
	CHECK_MSG(line_field(line, "blocked") == 0,
	    "victim's signal mask left at %#llx after the steps",
	    line_field(line, "blocked"));
	/* Each signal handled once, as sent; the site run once per call. */
	CHECK_EQ_INT(line_field(line, "segv"), 1);
	CHECK_EQ_INT(line_field(line, "bus"), 1);
	CHECK_EQ_INT(line_field(line, "ill"), 1);
	CHECK_EQ_INT(line_field(line, "fpe"), 1);
	CHECK_EQ_INT(line_field(line, "trap"), 1);
	CHECK_EQ_INT(line_field(line, "sender_ok"), 1);
	CHECK_EQ_INT(line_field(line, "sum"), 64);
	CHECK_EQ_INT(x.hits, 8);
	CHECK_EQ_INT(c.ev[PT_EV_BREAKPOINT], 8);
}

/* ------------------------------------------------------------------ */
/*
 * Bug: a SIGSTOP arriving during pt_bkpt_step() was injected into the
 * step; the thread ended in a stop the library then tried to LISTEN
 * from (EIO), and it stayed stopped after SIGCONT: no further progress,
 * and pt_stop() waited forever for a stop that would never come.
 */
TEST(reg_step_sigstop)
{
	struct sigstep_ctx x = { 0 };
	struct watchdog w;
	struct run_counts c;
	struct victim v;
	char line[512];
	pt_event_t ev;
	pt_proc_t *P;
	int st;

	P = sigstep_start("5", &x, &v, line, sizeof (line));
	wait_for_event(P, PT_EV_BREAKPOINT, &ev, NULL, 20);
	CHECK_EQ_INT(ev.pe_tid, v.pid);
	/* Queued now, dequeued by the step. */
	CHECK(kill(v.pid, SIGSTOP) == 0);
	CHECK_PT(pt_bkpt_step(P, v.pid));
	CHECK_PT(pt_resume_thread(P, v.pid));

	watchdog_start(&w, "victim stopped during a step, then continued",
	    HANG_SECS);
	/* The SIGSTOP takes effect once the step is over... */
	wait_for_event(P, PT_EV_JOBSTOP, &ev, NULL, 20);
	CHECK_EQ_INT(ev.pe_sig, SIGSTOP);
	/* ...and SIGCONT ends it. */
	CHECK(kill(v.pid, SIGCONT) == 0);
	wait_for_event(P, PT_EV_JOBCONT, &ev, NULL, 20);
	/* The thread can be stopped and resumed. */
	CHECK_PT(pt_stop(P, PT_WHY_REQUESTED));
	CHECK_EQ_INT(pt_state(P), PT_STOPPED);
	CHECK_EQ_INT(check_threads_stopped(P), 1);
	CHECK_PT(pt_resume(P));
	/* It runs on: the other 4 calls hit, and it exits. */
	st = run_events(P, &c, sigstep_cb, &x);
	watchdog_stop(&w);
	CHECK_RUN(st, &c);
	CHECK_EXITED(st, 0);
	pt_release(P, PT_RELEASE_DEFAULT);

	CHECK_EQ_INT(x.hits, 4);
	victim_expect(&v, line, sizeof (line), "report ");
	CHECK_EQ_INT(line_field(line, "sum"), 25);
	CHECK_EQ_INT(line_field(line, "blocked"), 0);
}

/* ------------------------------------------------------------------ */
/*
 * Bug: the main thread left by pthread_exit() while traced: it passed
 * its exit stop and stays a zombie until the whole group exits.
 * pt_release(RUN) waited for it to stop (forever: the other thread
 * waits for us) instead of letting it be.
 *
 * The owner is a thread of its own, joined with a deadline: a hang
 * fails the test, and its exit ends the kernel's tracing link to the
 * zombie leader (a zombie cannot be detached; only the tracer thread
 * reaping it or exiting hands it back to its parent).  The victim is
 * our grandchild so that its real parent, not we, collects its status.
 */
struct zleader_ctx {
	struct victim v;
	pid_t owner_tid;
};

static void *
zleader_owner(void *arg)
{
	struct zleader_ctx *x = arg;
	struct victim *v = &x->v;
	pid_t tids[16];
	char line[256];
	pt_event_t ev;
	pt_proc_t *P;
	int n;

	x->owner_tid = my_tid();
	P = grab_ok(v->pid, 0);
	CHECK_EQ_INT(pt_nthreads(P), 2);
	CHECK_PT(pt_resume(P));
	victim_go(v);		/* the main thread calls pthread_exit() */

	/*
	 * The worker raises SIGUSR1 once its join of the main thread
	 * returned: by then the leader is past its exit stop.
	 */
	wait_for_event(P, PT_EV_SIGNAL, &ev, NULL, 20);
	CHECK_EQ_INT(ev.pe_sig, SIGUSR1);
	CHECK(ev.pe_tid != v->pid);
	CHECK_PT(pt_resume_thread(P, ev.pe_tid));
	victim_expect(v, line, sizeof (line), "leader_gone");
	CHECK_EQ_INT(line_field(line, "usr1"), 1);
	CHECK(proc_state(v->pid, v->pid) != 't');

	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);

	/* Every live thread let go; the zombie leader is all that may
	   still be linked to us. */
	n = proc_tasks(v->pid, tids, 16);
	CHECK_MSG(n == 2, "%d tasks in /proc/%d/task", n, (int)v->pid);
	for (int i = 0; i < n; i++) {
		char s = proc_state(v->pid, tids[i]);

		if (tids[i] == v->pid && (s == 'Z' || s == 'X'))
			continue;
		CHECK_MSG(s != 't', "thread %d still in a ptrace stop",
		    (int)tids[i]);
		CHECK_MSG(proc_tracer(v->pid, tids[i]) == 0,
		    "thread %d (state '%c') still traced by %d",
		    (int)tids[i], s, (int)proc_tracer(v->pid, tids[i]));
	}
	return NULL;
}

TEST(reg_zombie_leader_release)
{
	struct zleader_ctx x;
	struct watchdog w;
	char line[256];
	pthread_t t;
	pid_t middle;
	int st;

	memset(&x, 0, sizeof (x));
	spawn_victim_indirect("regress", (char *[]){ "zleader", NULL }, &x.v,
	    &middle);
	victim_ready(&x.v, line, sizeof (line));
	if ((errno = pthread_create(&t, NULL, zleader_owner, &x)) != 0)
		FAIL("pthread_create: %s", strerror(errno));
	join_within(t, HANG_SECS, "grab, leader's pthread_exit, "
	    "pt_release(RUN)");

	victim_go(&x.v);	/* the worker exits 7 */
	victim_expect(&x.v, line, sizeof (line), "worker_exit");
	check_eof(&x.v, 10000);
	/* With the owner thread gone, the real parent gets the status. */
	watchdog_start(&w, "the real parent's wait for the victim",
	    HANG_SECS);
	while (waitpid(middle, &st, 0) < 0) {
		CHECK_MSG(errno == EINTR, "waitpid %d: %s", (int)middle,
		    strerror(errno));
	}
	watchdog_stop(&w);
	CHECK_EXITED(st, 7);
}

/* ------------------------------------------------------------------ */
/*
 * Bug: pt_create() took any stop before the exec stop for the child's
 * end: it ran the child to completion (exec and all) and failed with
 * "No child processes".  A signal reaching the child between the seize
 * and the exec (SIGWINCH, SIGINT...) was enough.
 *
 * The window is held open: the owner thread installs a seccomp filter
 * (its own, inherited by the child it forks; no other thread has it)
 * that turns execve into a user notification.  When the child's execve
 * is reported it has been seized already (it execs only after the seize
 * let it read its go byte), so the supervisor sends it SIGWINCH, which
 * interrupts the notification wait and brings a signal-delivery stop
 * before any exec; the restarted execve is then let through.
 */
#if defined(__x86_64__)
#define REG_AUDIT_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define REG_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#endif

struct exec_ctx {
	int ready[2];		/* owner -> supervisor: listener fd or -errno */
	int done[2];		/* owner -> supervisor: pt_create returned */
	pid_t owner_tid;
	struct victim v;
};

#ifdef REG_AUDIT_ARCH
/* Route this thread's execve calls to a listener; its fd or -errno. */
static int
exec_notifier(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, REG_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof (f) / sizeof (f[0])),
		.filter = f,
	};
	long fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	return fd < 0 ? -errno : (int)fd;
}
#endif

static void *
exec_owner(void *arg)
{
	struct exec_ctx *x = arg;
	char *args[] = { "exec", NULL };
	struct pollfd pfd;
	struct run_counts c;
	char line[256];
	pt_proc_t *P = NULL;
	int fd = -ENOSYS, rc, st;

	x->owner_tid = my_tid();
#ifdef REG_AUDIT_ARCH
	fd = exec_notifier();
#endif
	CHECK(write(x->ready[1], &fd, sizeof (fd)) == sizeof (fd));
	if (fd < 0)
		return NULL;
	err_clear();
	rc = create_victim("regress", args, NULL, NULL, &x->v, &P);
	CHECK(write(x->done[1], "d", 1) == 1);
	CREATE_OK(rc, err);

	/* Stopped at its exec: not one instruction of it has run. */
	CHECK_EQ_INT(pt_state(P), PT_STOPPED);
	CHECK_EQ_INT(proc_state(x->v.pid, 0), 't');
	pfd.fd = x->v.out;
	pfd.events = POLLIN;
	CHECK_MSG(poll(&pfd, 1, 0) == 0, "the victim ran inside pt_create");

	CHECK_PT(pt_resume(P));
	victim_expect(&x->v, line, sizeof (line), "ran ");
	CHECK_EQ_INT(atoi(line + 4), x->v.pid);
	st = run_checked(P, &c);
	CHECK_EXITED(st, 0);
	pt_release(P, PT_RELEASE_DEFAULT);
	return NULL;
}

TEST(reg_signal_before_exec)
{
	struct exec_ctx x;
	pid_t child = 0;
	pthread_t t;
	int listener, notes = 0;

	memset(&x, 0, sizeof (x));
	if (pipe2(x.ready, O_CLOEXEC) != 0 || pipe2(x.done, O_CLOEXEC) != 0)
		FAIL("pipe2: %s", strerror(errno));
	if ((errno = pthread_create(&t, NULL, exec_owner, &x)) != 0)
		FAIL("pthread_create: %s", strerror(errno));
	CHECK(read(x.ready[0], &listener, sizeof (listener)) ==
	    sizeof (listener));
	if (listener < 0) {
		pthread_join(t, NULL);
		SKIP("no seccomp user notification: %s", strerror(-listener));
	}

	/* Supervise the owner's child's execve until pt_create returns. */
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = listener, .events = POLLIN },
			{ .fd = x.done[0], .events = POLLIN },
		};
		struct seccomp_notif n;
		struct seccomp_notif_resp r;

		if (poll(pfd, 2, -1) < 0) {
			CHECK_MSG(errno == EINTR, "poll: %s", strerror(errno));
			continue;
		}
		if (pfd[1].revents != 0)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		memset(&n, 0, sizeof (n));
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0) {
			CHECK_MSG(errno == EINTR || errno == ENOENT,
			    "SECCOMP_IOCTL_NOTIF_RECV: %s", strerror(errno));
			continue;
		}
		notes++;
		tinfo("execve notification %d: pid %d nr %d", notes,
		    (int)n.pid, n.data.nr);
		CHECK_EQ_INT(n.data.nr, __NR_execve);
		if (notes == 1) {
			child = (pid_t)n.pid;
			/* Seized already (TracerPid: the owner's tid):
			   the window of the bug. */
			CHECK_EQ_INT(proc_tracer(child, 0), x.owner_tid);
			/* Unanswered: the signal breaks the wait. */
			CHECK(kill(child, SIGWINCH) == 0);
			continue;
		}
		CHECK_EQ_INT(n.pid, child);
		memset(&r, 0, sizeof (r));
		r.id = n.id;
		r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &r) != 0) {
			if (errno == EINVAL)	/* before Linux 5.5 */
				SKIP("no SECCOMP_USER_NOTIF_FLAG_CONTINUE");
			FAIL("SECCOMP_IOCTL_NOTIF_SEND: %s", strerror(errno));
		}
	}
	/* The signal did come before the exec: the execve ran twice. */
	CHECK_EQ_INT(notes, 2);
	join_within(t, HANG_SECS, "created victim run to its exit");
	CHECK_EQ_INT(x.v.pid, child);
	close(listener);
}

/* ------------------------------------------------------------------ */
/*
 * Bug: clone(CLONE_VM | SIGCHLD) reports a FORK event for a child that
 * shares our memory (a guest, reported as VFORK); the parent was marked
 * as waiting in vfork, which it is not (no VFORK_DONE ever comes), so
 * pt_release(RUN) waited for it forever.
 */
TEST(reg_clone_vm_release)
{
	VICTIM_LOCALS;
	struct watchdog w;
	pid_t child;

	P = spawn_grab("regress", (char *[]){ "clonevm", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_PT(pt_resume(P));
	victim_go(&v);
	wait_for_event(P, PT_EV_VFORK, &ev, NULL, 20);
	CHECK_EQ_INT(ev.pe_tid, v.pid);
	child = ev.pe_child;
	CHECK(child > 0 && child != v.pid);
	CHECK_PT(pt_resume_thread(P, v.pid));
	victim_expect(&v, line, sizeof (line), "child=");
	CHECK_EQ_INT(line_field(line, "child"), child);

	/* Parent in waitpid(), child in read(): both must be let go. */
	watchdog_start(&w, "pt_release(RUN) with a CLONE_VM child", HANG_SECS);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	watchdog_stop(&w);
	check_threads_released(v.pid);
	check_threads_released(child);

	victim_go(&v);		/* read by the clone child: it exits 7 */
	victim_expect_eq(&v, "child_", "child_exit=7");
	CHECK_EXITED(victim_wait(&v), 0);
}
