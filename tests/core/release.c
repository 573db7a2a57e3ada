/*
 * release.c - pt_release() modes: KILL, RUN, HANG, DEFAULT for created,
 * grabbed and job-stopped processes; signals owed at release; EXITKILL
 * when the tracer dies.
 */
#include "harness.h"

#include <sys/syscall.h>

#include <poll.h>

#define CREATE_OK(rc, err) \
	CHECK_MSG((rc) == 0, "pt_create: %d: %s", (rc), err_msg())

/* The victim (our child) is gone and reaped, or dies of SIGKILL now. */
static void
check_killed(pid_t pid)
{
	int st;
	pid_t r;

	while ((r = waitpid(pid, &st, __WALL)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		CHECK_EQ_INT(errno, ECHILD);
	} else {
		CHECK_KILLED(st, SIGKILL);
	}
	CHECK_MSG(kill(pid, 0) < 0 && errno == ESRCH, "pid %d still exists",
	    (int)pid);
}

static void
release_created(pt_release_t how)
{
	char *args[] = { "read", NULL };
	char line[256];
	struct victim v;
	pt_proc_t *P;

	/* Single-threaded: no event to take before its ready line. */
	P = create_ok_victim("blocked", args, NULL, NULL, &v);
	CHECK_PT(pt_resume(P));
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(pt_release(P, how), 0);
	/* We are its parent and pt_release() reaps it. */
	CHECK_MSG(kill(v.pid, 0) < 0 && errno == ESRCH,
	    "pid %d still exists after release", (int)v.pid);
	CHECK(waitpid(v.pid, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD);
	check_eof(&v, 5000);
}

TEST(rel_kill_created)
{
	release_created(PT_RELEASE_KILL);
}

TEST(rel_default_kills_created)
{
	release_created(PT_RELEASE_DEFAULT);
}

TEST(rel_kill_created_at_exec)
{
	struct victim v;
	pt_proc_t *P;

	/* Still in its exec stop, never resumed. */
	P = create_ok_victim("spin", NULL, NULL, NULL, &v);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_KILL), 0);
	CHECK_MSG(kill(v.pid, 0) < 0 && errno == ESRCH,
	    "pid %d still exists after release", (int)v.pid);
	check_eof(&v, 5000);
}

TEST(rel_run_created)
{
	VICTIM_LOCALS;

	P = create_ok_victim("spin", NULL, NULL, NULL, &v);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	check_threads_released(v.pid);
	victim_ready(&v, line, sizeof (line));
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "spun");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(rel_kill_grabbed)
{
	VICTIM_LOCALS;

	P = spawn_grab("threads", (char *[]){ "8", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_KILL), 0);
	check_killed(v.pid);
}

TEST(rel_default_runs_grabbed)
{
	VICTIM_LOCALS;

	P = spawn_grab("threads", (char *[]){ "8", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_PT(pt_resume(P));
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_DEFAULT), 0);
	check_threads_released(v.pid);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), 204);
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(rel_hang)
{
	VICTIM_LOCALS;
	pid_t tids[16];
	int n;

	P = spawn_grab("threads", (char *[]){ "4", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_HANG), 0);
	victim_wait_stopped(&v);
	n = proc_tasks(v.pid, tids, 16);
	CHECK_EQ_INT(n, 5);
	for (int i = 0; i < n; i++) {
		CHECK_EQ_INT(proc_state(v.pid, tids[i]), 'T');
		CHECK_EQ_INT(proc_tracer(v.pid, tids[i]), 0);
	}
	victim_go(&v);
	check_silent(&v, 200);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	victim_expect(&v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), 30);
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(rel_hang_with_breakpoint)
{
	VICTIM_LOCALS;
	uintptr_t addr;

	spawn_ready("bp", (char *[]){ "2", "10", NULL }, &v, line,
	    sizeof (line));
	addr = line_field(line, "bp_target");
	P = grab_ok(v.pid, 0);
	CHECK_PT(pt_bkpt_set(P, addr));
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_HANG), 0);
	victim_wait_stopped(&v);
	CHECK_EQ_INT(proc_state(v.pid, 0), 'T');
	CHECK_EQ_INT(text_matches_file(v.pid, addr, 16), 1);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "sum=");
	CHECK_EQ_INT(line_field(line, "sum"), 200);
	CHECK_EXITED(victim_wait(&v), 0);
}

/* A process stopped by SIGSTOP before the grab stays stopped after. */
static void
stopped_before_grab(pt_release_t how)
{
	char *args[] = { "usr1", NULL };
	char line[256];
	struct victim v;
	pt_proc_t *P;

	spawn_ready("signals", args, &v, line, sizeof (line));
	CHECK_EQ_INT(kill(v.pid, SIGSTOP), 0);
	victim_wait_stopped(&v);
	P = grab_ok(v.pid, 0);
	CHECK_EQ_INT(pt_state(P), PT_STOPPED);
	CHECK_EQ_INT(pt_why(P), PT_WHY_JOBCONTROL);
	CHECK_EQ_INT(pt_release(P, how), 0);
	CHECK_EQ_INT(proc_group_stopped(v.pid), 1);
	CHECK_EQ_INT(proc_tracer(v.pid, 0), 0);
	victim_go(&v);
	check_silent(&v, 200);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	victim_expect_eq(&v, "count=", "count=0");
	victim_quit(&v);
}

TEST(rel_run_keeps_job_stop)
{
	stopped_before_grab(PT_RELEASE_RUN);
}

TEST(rel_default_keeps_job_stop)
{
	stopped_before_grab(PT_RELEASE_DEFAULT);
}

TEST(rel_delivers_owed_signal)
{
	VICTIM_LOCALS;

	/* Released while stopped with SIGUSR1 owed: it is not lost. */
	P = grab_usr1_stop(&v, &ev);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	check_threads_released(v.pid);
	victim_go(&v);
	victim_expect_eq(&v, "count=", "count=1");
	victim_quit(&v);
}

TEST(rel_exitkill_on_tracer_death)
{
	const char *path = victim_path("blocked");
	int out[2], ctl[2], hold[2], st;
	struct victim v;
	char line[256];
	pid_t h, vpid = -1;

	CHECK(pipe2(out, O_CLOEXEC) == 0 && pipe2(ctl, O_CLOEXEC) == 0 &&
	    pipe2(hold, O_CLOEXEC) == 0);
	fflush(NULL);
	if ((h = fork()) == 0) {
		char *av[] = { (char *)path, "read", NULL };
		pt_proc_t *P;
		pid_t pid;

		dup2(hold[0], 0);	/* never written: blocks for good */
		dup2(out[1], 1);
		if (pt_create(path, av, NULL, NULL, &P) != 0 ||
		    pt_resume(P) != 0)
			_exit(10);
		pid = pt_pid(P);
		if (write(ctl[1], &pid, sizeof (pid)) != sizeof (pid))
			_exit(11);
		for (;;) {
			char c;

			if (read(hold[0], &c, 1) >= 0 || errno != EINTR)
				_exit(12);
		}
	}
	CHECK(h > 0);
	close(out[1]);
	close(ctl[1]);
	close(hold[0]);
	CHECK_MSG(read(ctl[0], &vpid, sizeof (vpid)) == sizeof (vpid),
	    "helper could not create the victim");
	memset(&v, 0, sizeof (v));
	v.pid = vpid;
	v.in = -1;
	v.out = out[0];
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(proc_tracer(vpid, 0), h);

	CHECK_EQ_INT(kill(h, SIGKILL), 0);
	while (waitpid(h, &st, 0) < 0)
		CHECK(errno == EINTR);
	CHECK_KILLED(st, SIGKILL);
	/* The tracer's death took the victim with it. */
	check_eof(&v, 5000);
	/* its descriptors close before it is dead: wait on its pidfd */
	int pfd = (int)syscall(SYS_pidfd_open, vpid, 0);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		CHECK_MSG(poll(&p, 1, 5000) == 1, "pid %d still alive",
		    (int)vpid);
		close(pfd);
	}
	CHECK(!proc_alive(vpid));
}
