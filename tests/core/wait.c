/*
 * wait.c - dtproc_wait_stopped(): a process rests at its rendezvous, at a
 * stop a breakpoint callback asked for, times out while it runs, and the
 * wait ends at once when it dies.
 */
#include "harness.h"

#include <pthread.h>
#include <stdbool.h>

/*
 * Let it go and see it exit 0: through the wait, or through the notice
 * (NOTICE) after a SIGCONT the control thread may not have seen yet,
 * until when the process rests for it.
 */
static void
finish(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v, bool notice)
{
	victim_send(v, "q\n");
	while (notice && dtproc_state(dtp, pr) != DTPROC_PS_DEAD) {
		CHECK(dtproc_sleep(dtp, -1) > 0);
		(void) dtproc_handle_notify(dtp, NULL, NULL);
	}
	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, -1), -DTPROC_EDEAD);
	CHECK_EXITED(dtproc_status(dtp, pr), 0);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

TEST(wait_at_create)
{
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	char line[256];

	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_CREATE | DTPROC_STOP_MAIN, &v);
	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, 0), 0);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	/* on to the next rendezvous: main */
	dtproc_continue(dtp, pr);
	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, -1), 0);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	finish(dtp, pr, &v, false);
}

static void
stop_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	(void) tid, (void) addr;
	/* on the control thread: the stop comes once we have returned */
	*(int *)arg = dtproc_stop(dtp, pr);
}

TEST(wait_breakpoint_stop)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t target;
	int rc = -1;

	pr = dt_running_ctlv(dtp, "echo", &v, &target);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, stop_cb, &rc), 0);
	victim_send(&v, "c 1\n");
	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, -1), 0);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, target), 0);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_STR_EQ(line, "called n=1 sum=1");
	finish(dtp, pr, &v, true);
}

TEST(wait_times_out)
{
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr = dt_running_ctlv(dtp, "echo", &v, NULL);

	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, 50), -ETIMEDOUT);
	CHECK_EQ_INT(dtproc_errno(dtp), ETIMEDOUT);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "not stopped");
	finish(dtp, pr, &v, false);
}

static void *
killer(void *arg)
{
	(void) kill(*(pid_t *)arg, SIGKILL);
	return NULL;
}

TEST(wait_wakes_on_death)
{
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr = dt_running_ctlv(dtp, "echo", &v, NULL);
	pthread_t t;

	/* no limit: only the death can end this wait */
	CHECK_EQ_INT(pthread_create(&t, NULL, killer, &v.pid), 0);
	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, -1), -DTPROC_EDEAD);
	CHECK_EQ_INT(pthread_join(t, NULL), 0);
	CHECK_KILLED(dtproc_status(dtp, pr), SIGKILL);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "process has exited");
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}
