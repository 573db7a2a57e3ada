/*
 * trapsig.c - a hit leaves the victim's SIGTRAP as it was (issue 11,
 * finding 2).  An int3 trap resets a blocked or ignored SIGTRAP to the
 * default and unblocks it, before we see the stop; dtproc learns the
 * disposition when it arms, and puts it back after a hit.  The victim
 * (tests/victims/trapv.c) raises SIGTRAP after the probed calls: with
 * its handler lost it dies of it.
 *
 *   trapsig_blocked	handler, every signal blocked around the calls
 *   trapsig_worker	handler, calls from a thread blocking everything
 *   trapsig_inhandler	a probe inside the SIGTRAP handler itself
 *   trapsig_ignored	SIGTRAP ignored
 */
#include "dtproc.h"
#include "harness.h"

#include <stdatomic.h>

static void
count_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	(void) dtp;
	(void) pr;
	(void) tid;
	(void) addr;
	atomic_fetch_add((atomic_int *)arg, 1);
}

/* Grab trapv MODE once its disposition is set, probe, run, check. */
static void
trapv_run(const char *mode, int hits, const char *want)
{
	char line[256];
	struct victim v;
	atomic_int n = 0;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t fn;

	spawn_victim("trapv", (char *[]){ (char *)mode, "50", NULL }, &v);
	victim_ready(&v, line, sizeof (line));
	fn = line_field(line, "trap_target");
	pr = dtproc_grab(dtp, v.pid, 0);
	CHECK_MSG(pr != NULL, "dtproc_grab: %s", dtproc_errmsg(dtp));
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, fn, count_cb, &n), 0);
	dtproc_continue(dtp, pr);
	victim_go(&v);
	if (victim_readline(&v, line, sizeof (line)) < 0) {
		int st;

		dtproc_release(dtp, pr);
		victim_close(&v);
		st = victim_wait(&v);
		FAIL("%s: no line from the victim: status %#x", mode, st);
	}
	CHECK_STR_EQ(line, want);
	CHECK_EQ_INT(atomic_load(&n), hits);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	victim_close(&v);
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST_TIMEOUT(trapsig_blocked, 60)
{
	trapv_run("blocked", 50, "handled=1");
}

TEST_TIMEOUT(trapsig_worker, 60)
{
	trapv_run("worker", 50, "handled=1");
}

TEST_TIMEOUT(trapsig_inhandler, 60)
{
	trapv_run("inhandler", 2, "handled=2");
}

TEST_TIMEOUT(trapsig_ignored, 60)
{
	trapv_run("ignored", 50, "ignored");
}
