/*
 * ctl_grab.c - grab and release: a second grab of a controlled process,
 * release at the rendezvous, and job control around them: a process
 * stopped before the grab or while grabbed stays stopped when let go,
 * also when the client holding it is killed (with the stop just taken,
 * or just asked for); close with handles in every state.
 *
 * Stops are seen through the JOBSTOP event (a pipe the callback writes)
 * and /proc; that a process stays stopped is seen by its silence on a
 * line that it would echo.
 */
#include "ctlsupport.h"

/*
 * V, just let go by its tracer, stays in its job stop: untraced at once,
 * silent for MS though it was sent SENT (a line it would echo), stopped;
 * SIGCONT lets it echo SENT, and it quits.
 */
static void
stays_stopped(struct victim *v, const char *sent, int ms)
{
	char want[64];

	CHECK_THREADS(v->pid, "TSR", 0);
	check_silent(v, ms);
	CHECK_THREADS(v->pid, "T", 0);
	CHECK_EQ_INT(kill(v->pid, SIGCONT), 0);
	snprintf(want, sizeof (want), "echo %s", sent);
	victim_expect_eq(v, "echo ", want);
	victim_quit(v);
}

TEST(ctl_grab_twice_same_handle)
{
	CTL_LOCALS;
	dtproc_proc_t *a, *b;

	a = grab_echo(dtp, &v, NULL, 0);
	check_resting(dtp, a);
	b = grab_ctl(dtp, v.pid, 0);
	CHECK(a == b);
	CHECK_EQ_INT(our_threads(), 2);		/* one control thread */
	/* read-only asks get the controlled handle too */
	CHECK(grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY) == a);
	dtproc_release(dtp, a);
	dtproc_release(dtp, a);
	/* one reference left: still ours, still resting */
	check_resting(dtp, a);
	dtproc_continue(dtp, a);
	victim_send(&v, "x\n");
	victim_expect_eq(&v, "echo ", "echo x");
	CHECK_THREADS(v.pid, "SR", getpid());
	dtproc_release(dtp, a);
	/* the last release lets it go, running */
	CHECK_THREADS(v.pid, "SR", 0);
	wait_our_threads(1, 5000);
	victim_send(&v, "y\n");
	victim_expect_eq(&v, "echo ", "echo y");
	quit_untraced(dtp, &v);
}

TEST(ctl_grab_release_at_rendezvous)
{
	CTL_LOCALS;

	/* released while resting, never continued: it runs on */
	pr = grab_echo(dtp, &v, NULL, 0);
	check_resting(dtp, pr);
	dtproc_release(dtp, pr);
	CHECK_THREADS(v.pid, "SR", 0);
	victim_send(&v, "x\n");
	victim_expect(&v, line, sizeof (line), "echo ");
	quit_untraced(dtp, &v);
}

TEST(ctl_sigstop_from_outside)
{
	CTL_LOCALS;
	struct jobstops js;

	pr = grab_echo(dtp, &v, NULL, 0);
	jobstops_watch(dtp, &js);
	dtproc_continue(dtp, pr);
	CHECK_EQ_INT(kill(v.pid, SIGSTOP), 0);
	jobstops_wait(&js, 5000);
	CHECK_THREADS(v.pid, "tT", getpid());
	victim_send(&v, "b\n");
	check_silent(&v, 300);
	/* let go while someone else stopped it: it stays stopped (the
	   tracer is gone at once, the job stop resumed after a moment) */
	dtproc_release(dtp, pr);
	stays_stopped(&v, "b", 200);
	dtproc_close(dtp);
}

/*
 * Fork a client that opens a dtproc_t, grabs V, lets it run and goes on
 * with BODY(its handles, the write end of SYNC); BODY never returns.  We
 * keep the read end of SYNC.
 */
static pid_t
fork_client(struct victim *v, int sync[2],
    void (*body)(dtproc_t *, dtproc_proc_t *, struct victim *, int))
{
	pid_t pid;

	CHECK_EQ_INT(pipe2(sync, O_CLOEXEC), 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		dtproc_t *dtp = dtproc_open(0, NULL);
		dtproc_proc_t *pr;

		if (dtp == NULL ||
		    (pr = dtproc_grab(dtp, v->pid, 0)) == NULL)
			_exit(3);
		body(dtp, pr, v, sync[1]);
		_exit(5);
	}
	CHECK(pid > 0);
	close(sync[1]);
	return pid;
}

/* Stop V, say so once the stop is in effect, and wait to be killed. */
static void
stop_and_wait(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v, int fd)
{
	struct jobstops js;

	jobstops_watch(dtp, &js);
	dtproc_continue(dtp, pr);
	if (dtproc_stop(dtp, pr) != 0)
		_exit(4);
	/* in effect: the group stop reported, not just the signal (a
	   failed check ends the helper: no sync byte) */
	jobstops_wait(&js, 5000);
	CHECK_THREADS(v->pid, "tT", getpid());
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	if (write(fd, "s", 1) != 1)
		_exit(6);
	for (;;)
		pause();
}

/* Say we are about to stop V, stop it, and die at once. */
static void
stop_and_die(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v, int fd)
{
	(void) v;
	dtproc_continue(dtp, pr);
	if (write(fd, "c", 1) != 1)
		_exit(6);
	if (dtproc_stop(dtp, pr) != 0)
		_exit(4);
	kill(getpid(), SIGKILL);
}

TEST(ctl_stop_then_client_killed)
{
	char c;
	struct victim v;
	int sync[2], st;
	pid_t helper;

	spawn_ctlv("echo", &v, NULL, NULL, NULL);
	/* the helper owns the dtproc_t, and dies holding it */
	helper = fork_client(&v, sync, stop_and_wait);
	if (read(sync[0], &c, 1) != 1) {
		CHECK_EQ_INT(waitpid(helper, &st, 0), helper);
		FAIL("helper: %s", wstatus_str(st));
	}
	CHECK_EQ_INT(kill(helper, SIGKILL), 0);
	CHECK_EQ_INT(waitpid(helper, &st, 0), helper);
	CHECK_KILLED(st, SIGKILL);
	victim_send(&v, "z\n");
	stays_stopped(&v, "z", 300);
}

TEST(ctl_close_every_state)
{
	CTL_LOCALS;
	struct victim rest, run, dead, ro, grun, grest, gbp;
	uintptr_t t;
	struct hits h;

	/* created: resting, running, dead (notice not yet handled) */
	(void) create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &rest);
	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &run);
	dtproc_continue(dtp, pr);
	ready_addrs(&run, NULL, NULL, NULL);
	pr = create_ok(dtp, "ctlv", (char *[]){ "exit", NULL },
	    DTPROC_STOP_MAIN, &dead);
	dtproc_continue(dtp, pr);
	CHECK(wait_notice(dtp, &ns, pr, 10000));
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_DEAD);
	/* grabbed: read-only cached, running, resting, with a breakpoint */
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &ro);
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &grun);
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &grest);
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &gbp);
	ready_addrs(&ro, NULL, NULL, NULL);
	ready_addrs(&grun, NULL, NULL, NULL);
	ready_addrs(&grest, NULL, NULL, NULL);
	ready_addrs(&gbp, NULL, NULL, &t);
	dtproc_release(dtp, grab_ctl(dtp, ro.pid, DTPROC_GRAB_RDONLY));
	dtproc_continue(dtp, grab_ctl(dtp, grun.pid, 0));
	(void) grab_ctl(dtp, grest.pid, 0);
	pr = grab_ctl(dtp, gbp.pid, 0);
	hits_init(&h, dtp, pr, t);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, t, hit_cb, &h), 0);
	dtproc_continue(dtp, pr);
	ctlv_call(&gbp, 2, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&h.n), 2);
	dtproc_close(dtp);
	wait_our_threads(1, 5000);
	CHECK_EQ_INT(proc_state(rest.pid, 0), 0);
	CHECK_EQ_INT(proc_state(run.pid, 0), 0);
	CHECK_EQ_INT(proc_state(dead.pid, 0), 0);
	CHECK_EQ_INT(handle_fds(ro.pid), 0);
	CHECK_EQ_INT(text_matches_file(gbp.pid, t, 16), 1);
	struct victim *g[] = { &ro, &grun, &grest, &gbp };
	for (int i = 0; i < 4; i++) {
		CHECK_THREADS(g[i]->pid, "SR", 0);
		ctlv_call(g[i], 3, line, sizeof (line));
		CHECK_STR_EQ(line, "called n=3 sum=9");
		victim_quit(g[i]);
	}
	CHECK_EQ_INT(atomic_load(&h.n), 2);
	check_no_children();
}

TEST(ctl_grab_job_stopped)
{
	CTL_LOCALS;

	/* stopped by someone else before the grab: it stays stopped after
	   the continue, and after the release */
	spawn_ctlv("echo", &v, NULL, NULL, NULL);
	CHECK_EQ_INT(kill(v.pid, SIGSTOP), 0);
	victim_wait_stopped(&v);
	pr = grab_ctl(dtp, v.pid, 0);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	dtproc_continue(dtp, pr);
	victim_send(&v, "a\n");
	check_silent(&v, 300);
	CHECK_THREADS(v.pid, "tT", getpid());
	dtproc_release(dtp, pr);
	stays_stopped(&v, "a", 100);
	dtproc_close(dtp);
}

TEST(ctl_stop_then_client_dies_at_once)
{
	struct victim v;
	int sync[2], st;
	pid_t helper;
	char c;

	/* dtproc_stop() returns, and the client dies right then: the stop
	   must not be lost with it */
	spawn_ctlv("echo", &v, NULL, NULL, NULL);
	helper = fork_client(&v, sync, stop_and_die);
	CHECK_EQ_INT(read(sync[0], &c, 1), 1);
	CHECK_EQ_INT(waitpid(helper, &st, 0), helper);
	CHECK_KILLED(st, SIGKILL);
	victim_send(&v, "z\n");
	stays_stopped(&v, "z", 300);
}
