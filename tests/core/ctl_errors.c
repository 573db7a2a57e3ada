/*
 * ctl_errors.c - notices and errors through the public API: death
 * notices on the notify descriptor (exit, kill, kill while resting),
 * calls on a dead handle, and the messages of a failed create (missing
 * or non-executable file, bad stop, a constructor that exits or dies)
 * and of a failed grab (no such process, zombie, ourselves, already
 * traced).
 *
 * Messages are compared whole: they are the reference's words.
 */
#include "ctlsupport.h"

#include <limits.h>
#include <poll.h>

TEST(ctl_exit_notice_poll)
{
	CTL_LOCALS;
	struct pollfd p;
	uintptr_t target;
	int r;

	pr = create_ok(dtp, "ctlv", (char *[]){ "wait", "9", NULL },
	    DTPROC_STOP_MAIN, &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_RUN);
	p.fd = dtproc_notify_fd(dtp);
	p.events = POLLIN;
	CHECK_EQ_INT(poll(&p, 1, 0), 0);
	victim_go(&v);

	/* a client's poll loop sees the descriptor readable */
	while ((r = poll(&p, 1, 10000)) < 0 && errno == EINTR)
		;
	CHECK_EQ_INT(r, 1);
	CHECK(p.revents & POLLIN);
	CHECK(dtproc_sleep(dtp, 0) > 0);
	CHECK(dtproc_sleep(dtp, -1) > 0);
	CHECK_EQ_INT(dtproc_handle_notify(dtp, note_cb, &ns), 1);
	CHECK(ns.pr[0] == pr);
	CHECK_EQ_INT(ns.hasmsg[0], 0);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_DEAD);
	CHECK_EXITED(dtproc_status(dtp, pr), 9);
	/* drained */
	CHECK_EQ_INT(poll(&p, 1, 0), 0);
	CHECK_EQ_INT(dtproc_sleep(dtp, 0), 0);
	CHECK_EQ_INT(dtproc_handle_notify(dtp, note_cb, &ns), 0);
	/* a dead handle answers with errors, never a hang */
	{
		uint8_t b;

		CHECK(dtproc_read(dtp, pr, target, &b, 1) < 0);
		CHECK(dtproc_errmsg(dtp)[0] != 0);
		CHECK(dtproc_bkpt_add(dtp, pr, target, nop_cb,
		    NULL) < 0);
		CHECK(dtproc_write(dtp, pr, target, &b, 1) < 0);
		CHECK(dtproc_stop(dtp, pr) < 0);
		dtproc_continue(dtp, pr);
	}
	CHECK_EQ_INT(proc_state(v.pid, 0), 0);
	dtproc_release(dtp, pr);
	wait_our_threads(1, 5000);
	dtproc_close(dtp);
}

TEST(ctl_killed_notice)
{
	CTL_LOCALS;

	pr = create_ok(dtp, "ctlv", (char *[]){ "wait", NULL },
	    DTPROC_STOP_MAIN, &v);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	CHECK_KILLED(wait_dead(dtp, pr, &ns, 10000), SIGKILL);
	CHECK_EQ_INT(ns.n, 1);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

TEST(ctl_killed_at_rendezvous)
{
	CTL_LOCALS;

	/* killed while resting: as in the reference, the death is seen
	   once the control thread is let go from the rendezvous */
	pr = create_ok(dtp, "ctlv", (char *[]){ "wait", NULL },
	    DTPROC_STOP_MAIN, &v);
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	wait_exit(v.pid, 5000);
	dtproc_continue(dtp, pr);
	CHECK_KILLED(wait_dead(dtp, pr, &ns, 10000), SIGKILL);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

TEST(ctl_err_create_missing)
{
	char *av[] = { "/nonexistent/dtproc-no-such-file", NULL };
	dtproc_t *dtp = open_ok();

	CHECK(dtproc_create(dtp, av[0], av, DTPROC_STOP_MAIN) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), "failed to execute "
	    "/nonexistent/dtproc-no-such-file: No such file or directory");
	CHECK(dtproc_errno(dtp) != 0);
	/* searched in PATH */
	CHECK(dtproc_create(dtp, "dtproc-no-such-program", NULL,
	    DTPROC_STOP_CREATE) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), "failed to execute "
	    "dtproc-no-such-program: No such file or directory");
	check_no_children();
	CHECK_EQ_INT(our_threads(), 1);
	dtproc_close(dtp);
}

TEST(ctl_err_create_not_executable)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], msg[PATH_MAX + 64];
	const char *t = getenv("TMPDIR");
	dtproc_t *dtp = open_ok();
	char *av[] = { path, NULL };
	int fd;

	snprintf(dir, sizeof (dir), "%s/dtproc-ctl-XXXXXX",
	    t != NULL && t[0] != 0 ? t : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof (path), "%s/script", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "#!/bin/sh\nexit 0\n", 17) == 17);
	close(fd);
	CHECK(dtproc_create(dtp, path, av, DTPROC_STOP_MAIN) == NULL);
	snprintf(msg, sizeof (msg), "failed to execute %s: Permission denied",
	    path);
	CHECK_STR_EQ(dtproc_errmsg(dtp), msg);
	unlink(path);
	rmdir(dir);
	check_no_children();
	dtproc_close(dtp);
}

TEST(ctl_err_create_bad_stop)
{
	char *av[] = { "x", NULL };
	dtproc_t *dtp = open_ok();

	CHECK(dtproc_create(dtp, victim_path("ctlv"), av, DTPROC_STOP_GRAB)
	    == NULL);
	CHECK_PREFIX(dtproc_errmsg(dtp), "failed to execute ");
	/* a bit no stop or flag has (0x100 is DTPROC_CREATE_EXACT) */
	CHECK(dtproc_create(dtp, victim_path("ctlv"), av, 0x200) == NULL);
	check_no_children();
	dtproc_close(dtp);
}

static void
ctor_fails(const char *mode, int stop, const char *want_tail)
{
	char *args[] = { (char *)mode, NULL };
	char want[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	int pid = -1;

	CHECK(create_v(dtp, "ctlv", args, stop, &v) == NULL);
	CHECK_MSG(sscanf(dtproc_errmsg(dtp), "failed to control pid %d:",
	    &pid) == 1, "unexpected message \"%s\"", dtproc_errmsg(dtp));
	snprintf(want, sizeof (want), "failed to control pid %d: %s", pid,
	    want_tail);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK(pid > 0);
	CHECK_EQ_INT(proc_state(pid, 0), 0);	/* reaped */
	check_no_children();
	wait_our_threads(1, 5000);
	dtproc_close(dtp);
}

TEST(ctl_err_ctor_exit_main)
{
	ctor_fails("ctor_exit", DTPROC_STOP_MAIN,
	    "process exited with status 5");
}

TEST(ctl_err_ctor_exit_postinit)
{
	ctor_fails("ctor_exit", DTPROC_STOP_POSTINIT,
	    "process exited with status 5");
}

TEST(ctl_err_ctor_kill)
{
	ctor_fails("ctor_kill", DTPROC_STOP_MAIN,
	    "process died from signal 9");
}

TEST(ctl_err_ctor_term)
{
	ctor_fails("ctor_term", DTPROC_STOP_MAIN,
	    "process died from signal 15");
}

TEST(ctl_preinit_then_ctor_exit)
{
	CTL_LOCALS;

	/* PREINIT comes before the constructor: it is reached */
	pr = create_ok(dtp, "ctlv", (char *[]){ "ctor_exit", NULL },
	    DTPROC_STOP_PREINIT, &v);
	check_resting(dtp, pr);
	CHECK_EQ_INT(read_int(dtp, pr, sym_addr(dtp, pr, "a.out`ctor_mark")),
	    0);
	dtproc_continue(dtp, pr);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 5);
	dtproc_release(dtp, pr);
	check_no_children();
	dtproc_close(dtp);
}

TEST(ctl_err_grab_no_such_process)
{
	char want[128];
	struct victim v;
	dtproc_t *dtp = open_ok();
	pid_t pid;

	/* a pid that was just used and is free again */
	spawn_victim("ctlv", (char *[]){ "exit", NULL }, &v);
	CHECK_EXITED(victim_wait(&v), 0);
	pid = v.pid;
	snprintf(want, sizeof (want), "failed to grab pid %d: no such process",
	    (int)pid);
	CHECK(dtproc_grab(dtp, pid, 0) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK(dtproc_grab(dtp, pid, DTPROC_GRAB_RDONLY) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK(dtproc_grab(dtp, -5, 0) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), "failed to grab pid -5: no such "
	    "process");
	CHECK_EQ_INT(our_threads(), 1);
	dtproc_close(dtp);
}

TEST(ctl_err_grab_zombie)
{
	char want[128];
	struct victim v;
	dtproc_t *dtp = open_ok();

	spawn_victim("ctlv", (char *[]){ "exit", NULL }, &v);
	wait_exit(v.pid, 5000);
	CHECK_EQ_INT(proc_state(v.pid, 0), 'Z');
	snprintf(want, sizeof (want), "failed to grab pid %d: process is a "
	    "zombie", (int)v.pid);
	CHECK(dtproc_grab(dtp, v.pid, 0) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK(dtproc_grab(dtp, v.pid, DTPROC_GRAB_RDONLY) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK_EXITED(victim_wait(&v), 0);
	dtproc_close(dtp);
}

TEST(ctl_err_grab_self)
{
	char want[128];
	dtproc_t *dtp = open_ok();

	snprintf(want, sizeof (want), "failed to grab pid %d: process is "
	    "dtproc itself", (int)getpid());
	CHECK(dtproc_grab(dtp, getpid(), 0) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	dtproc_close(dtp);
}

TEST(ctl_err_grab_traced)
{
	char want[256];
	struct victim v;
	dtproc_t *a = open_ok(), *b = open_ok();
	dtproc_proc_t *pr;

	/* two library handles: the second finds the pid traced by us */
	spawn_ctlv("echo", &v, NULL, NULL, NULL);
	pr = grab_ctl(a, v.pid, 0);
	CHECK(dtproc_grab(b, v.pid, 0) == NULL);
	snprintf(want, sizeof (want), "failed to grab pid %d: process is "
	    "already traced by pid %d (%.15s)", (int)v.pid, (int)getpid(),
	    program_invocation_short_name);
	CHECK_STR_EQ(dtproc_errmsg(b), want);
	/* reading is no obstacle */
	dtproc_proc_t *ro = grab_ctl(b, v.pid, DTPROC_GRAB_RDONLY);
	CHECK(ro != pr);
	dtproc_release(b, ro);
	dtproc_release(a, pr);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
	dtproc_close(a);
	dtproc_close(b);
}

struct creator {
	dtproc_t *dtp;
	const char *path;
	dtproc_proc_t *pr;
	struct tally done;
};

static void *
creator_main(void *arg)
{
	struct creator *c = arg;
	char *av[] = { (char *)c->path, "wait", NULL };

	c->pr = dtproc_create(c->dtp, c->path, av, 0);
	tally_done(&c->done);
	return NULL;
}

TEST(ctl_err_create_no_stop)
{
	struct creator c = { .done = TALLY_INIT };
	pthread_t t;

	/* stop 0 names no rendezvous: an error, or a handle, but at once;
	   never a wait for a rendezvous that cannot come (the victim waits
	   for a go line that nobody sends) */
	c.dtp = open_ok();
	c.path = victim_path("ctlv");
	{
		/* its output is not ours; its input never ends */
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC), in[2];

		CHECK(fd >= 0 && dup2(fd, 1) == 1);
		close(fd);
		CHECK_EQ_INT(pipe2(in, O_CLOEXEC), 0);
		CHECK(dup2(in[0], 0) == 0);
		close(in[0]);
	}
	CHECK_EQ_INT(pthread_create(&t, NULL, creator_main, &c), 0);
	(void) tally_wait(&c.done, 1, 5000);
	CHECK_MSG(tally_is_done(&c.done), "dtproc_create(stop 0) has not "
	    "returned after 5 s");
	pthread_join(t, NULL);
	tinfo("stop 0: %p %s", (void *)c.pr, c.pr ? "" : dtproc_errmsg(c.dtp));
	dtproc_close(c.dtp);
}
