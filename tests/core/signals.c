/*
 * signals.c - signals to a traced process: handled, sigwait()ed,
 * job control (SIGSTOP/SIGCONT), SIGKILL and fatal signals.
 */
#include "harness.h"

#include <poll.h>
#include <time.h>
#include <sys/syscall.h>

#define CREATE_OK(rc, err) \
	CHECK_MSG((rc) == 0, "pt_create: %d: %s", (rc), err_msg())

TEST(sig_handled_usr1)
{
	VICTIM_LOCALS;

	P = grab_usr1_stop(&v, &ev);
	CHECK_EQ_INT(ev.pe_tid, v.pid);
	CHECK(ev.pe_stopped);
	CHECK_EQ_INT(proc_state(v.pid, 0), 't');
	/* The handler runs when the thread is resumed with the signal. */
	CHECK_PT(pt_resume_thread(P, ev.pe_tid));
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_go(&v);
	victim_expect_eq(&v, "count=", "count=1");
	victim_send(&v, "q\n");
	victim_expect(&v, line, sizeof (line), "count=");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(sig_raise_traced)
{
	struct run_counts c;
	struct victim v;
	pt_proc_t *P;
	int st;

	P = create_ok_victim("signals", (char *[]){ "raise", "3", NULL }, NULL,
	    NULL, &v);
	CHECK_PT(pt_resume(P));
	st = run_checked(P, &c);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(c.ev[PT_EV_SIGNAL], 3);
	CHECK_EQ_INT(c.sigs[SIGUSR1], 3);
	pt_release(P, PT_RELEASE_DEFAULT);
	victim_expect_eq(&v, "count=", "count=3");
}

TEST(sig_sigwait)
{
	VICTIM_LOCALS;

	P = spawn_grab("signals", (char *[]){ "sigwait", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_PT(pt_resume(P));
	CHECK_EQ_INT(kill(v.pid, SIGUSR1), 0);
	st = run_checked(P, &c);
	CHECK_EXITED(st, 0);
	pt_release(P, PT_RELEASE_DEFAULT);
	victim_expect_eq(&v, "got ", "got 10");
}

/*
 * JOBSTOP comes with the first thread's group stop; the others follow on
 * their own, with no event of their own.  pt_wait without blocking
 * collects their stops; in between we sleep in waitid(WNOWAIT) until
 * one of them has something to report (left for pt_wait to take), for
 * 5 s at most.
 */
static void
wait_group_stopped(pt_proc_t *P)
{
	long end = now_ms() + 5000;
	pt_event_t ev;

	for (;;) {
		siginfo_t si;
		int r = pt_wait(P, &ev, 0);

		if (r == 1)
			FAIL("unexpected %s event in a group stop",
			    ev_name(ev.pe_kind));
		CHECK_MSG(r == 0 || r == -EINTR, "pt_wait: %s",
		    strerror(-r));
		if (pt_state(P) == PT_STOPPED)
			return;
		CHECK_MSG(now_ms() < end, "group stop never complete: "
		    "state %d", (int)pt_state(P));
		if (waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOWAIT |
		    __WALL) != 0 && errno != EINTR)
			FAIL("waitid: %s", strerror(errno));
	}
}

/*
 * Grab victim V, stop it with SIGSTOP from outside, check the JOBSTOP
 * event and state, continue it with SIGCONT (JOBCONT), release it.  The
 * go line written while it is stopped is answered after.
 */
static void
job_control(struct victim *v, int nthreads)
{
	char line[256];
	pid_t tids[64];
	pt_event_t ev;
	pt_proc_t *P;
	int n;

	victim_ready(v, line, sizeof (line));
	P = grab_ok(v->pid, 0);
	CHECK_EQ_INT(pt_nthreads(P), nthreads);
	CHECK_PT(pt_resume(P));

	CHECK_EQ_INT(kill(v->pid, SIGSTOP), 0);
	wait_for_event(P, PT_EV_JOBSTOP, &ev, NULL, 4 * nthreads + 4);
	CHECK_EQ_INT(ev.pe_sig, SIGSTOP);
	if (ev.pe_stopped)
		CHECK_PT(pt_resume_thread(P, ev.pe_tid));
	wait_group_stopped(P);
	CHECK_EQ_INT(pt_state(P), PT_STOPPED);
	CHECK_EQ_INT(pt_why(P), PT_WHY_JOBCONTROL);
	n = proc_tasks(v->pid, tids, 64);
	CHECK_EQ_INT(n, nthreads);
	for (int i = 0; i < n; i++) {
		char s = proc_state(v->pid, tids[i]);

		CHECK_MSG(s == 't' || s == 'T', "thread %d in state '%c'",
		    (int)tids[i], s);
	}
	/* Really stopped: it does not answer. */
	victim_go(v);
	check_silent(v, 200);

	CHECK_EQ_INT(kill(v->pid, SIGCONT), 0);
	wait_for_event(P, PT_EV_JOBCONT, &ev, NULL, 4 * nthreads + 4);
	if (ev.pe_stopped)
		CHECK_PT(pt_resume_thread(P, ev.pe_tid));
	/* A SIGCONT signal stop may still be pending: release copes. */
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	check_threads_released(v->pid);
}

TEST(sig_jobstop_jobcont)
{
	struct victim v;

	spawn_victim("signals", (char *[]){ "usr1", NULL }, &v);
	job_control(&v, 1);
	victim_expect_eq(&v, "count=", "count=0");
	victim_quit(&v);
}

TEST(sig_jobstop_threads)
{
	char line[256];
	struct victim v;

	spawn_victim("threads", (char *[]){ "4", NULL }, &v);
	job_control(&v, 5);
	victim_expect(&v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), 30);
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(sig_kill_running)
{
	VICTIM_LOCALS;

	P = spawn_grab("signals", (char *[]){ "usr1", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_PT(pt_resume(P));
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	st = run_checked(P, &c);
	CHECK_KILLED(st, SIGKILL);
	CHECK_EQ_INT(c.ev[PT_EV_EXIT], 1);
	CHECK_EQ_INT(pt_state(P), PT_DEAD);
	CHECK_EQ_INT(pt_exit_status(P), st);
	CHECK_EQ_INT(pt_wait(P, &ev, 1), -ESRCH);
	pt_release(P, PT_RELEASE_DEFAULT);
	CHECK(!proc_alive(v.pid));
}

TEST(sig_kill_while_stopped)
{
	VICTIM_LOCALS;

	/* Every thread in a ptrace stop when SIGKILL comes. */
	P = spawn_grab("threads", (char *[]){ "16", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_EQ_INT(pt_state(P), PT_STOPPED);
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	st = run_checked(P, &c);
	CHECK_KILLED(st, SIGKILL);
	CHECK_EQ_INT(c.ev[PT_EV_EXIT], 1);
	CHECK_EQ_INT(pt_state(P), PT_DEAD);
	pt_release(P, PT_RELEASE_DEFAULT);
	CHECK(!proc_alive(v.pid));
}

TEST(sig_fatal_status_preserved)
{
	VICTIM_LOCALS;

	P = create_ok_victim("exit_code", (char *[]){ "sig15", NULL }, NULL,
	    NULL, &v);
	CHECK_PT(pt_resume(P));
	st = run_checked(P, &c);
	CHECK_KILLED(st, SIGTERM);
	CHECK_EQ_INT(c.sigs[SIGTERM], 1);
	CHECK_EQ_INT(c.ev[PT_EV_SIGNAL], 1);
	CHECK_EQ_INT(pt_exit_status(P), st);
	pt_release(P, PT_RELEASE_DEFAULT);
	victim_expect_eq(&v, "raise ", "raise 15");
	CHECK_MSG(victim_readline(&v, line, sizeof (line)) < 0,
	    "victim survived SIGTERM: %s", line);
}

TEST(sig_usr1_repeated)
{
	char line[256], want[32];
	struct victim v;
	pt_event_t ev;
	pt_proc_t *P;

	/* Signal, event, delivery, answer: 50 times while traced. */
	P = spawn_grab("signals", (char *[]){ "usr1", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_PT(pt_resume(P));
	for (int i = 1; i <= 50; i++) {
		CHECK_EQ_INT(syscall(SYS_tgkill, v.pid, v.pid, SIGUSR1), 0);
		wait_for_event(P, PT_EV_SIGNAL, &ev, NULL, 4);
		CHECK_EQ_INT(ev.pe_sig, SIGUSR1);
		CHECK_EQ_INT(ev.pe_tid, v.pid);
		CHECK_PT(pt_resume_thread(P, ev.pe_tid));
		victim_go(&v);
		victim_expect(&v, line, sizeof (line), "count=");
		snprintf(want, sizeof (want), "count=%d", i);
		CHECK_STR_EQ(line, want);
	}
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_send(&v, "q\n");
	victim_expect(&v, line, sizeof (line), "count=");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(sig_poll_idle)
{
	VICTIM_LOCALS;

	/* A running victim doing nothing: polling finds no event. */
	P = spawn_grab("blocked", (char *[]){ "read", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_PT(pt_resume(P));
	CHECK_EQ_INT(pt_state(P), PT_RUNNING);
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(pt_wait(P, &ev, 0), 0);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_go(&v);
	victim_expect_eq(&v, "read ", "read ok");
	CHECK_EXITED(victim_wait(&v), 0);
}
