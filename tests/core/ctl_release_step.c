/*
 * ctl_release_step.c - a threaded process grabbed with return probes and
 * let go survives.  Threads caught inside a trampoline at release are
 * single-stepped out of it, through its popfq; the kernel then took the
 * step's trap flag for the program's own, left it set at detach, and the
 * victim died of SIGTRAP (TRAP_TRACE) one instruction later: 3 runs in 3
 * of `dtproc trace -p PID -f 'work:return'`.  Now every step puts the
 * flag back as it was (step.c).
 *
 * The victim (stepv) reports a SIGTRAP from its handler and exits 99;
 * "s" answers once every worker has run two more rounds, by which time a
 * thread let go with the flag set has trapped.  One release catches a
 * thread in a trampoline nearly always; several make it certain.
 */
#include "ctlsupport.h"

#include <poll.h>

#define CYCLES		8
#define HITS		100

static void
count_cb(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_hit_t *hit,
    void *arg)
{
	(void) dtp;
	(void) pr;
	(void) hit;
	tally_add(arg, 1);
}

/* After a release: the workers ran on, and none took a SIGTRAP. */
static void
check_steady(struct victim *v, int cycle)
{
	char line[256];

	/* dead already: what it said before is still to be read */
	(void) !write(v->in, "s\n", 2);
	for (;;) {
		struct pollfd p = { .fd = v->out, .events = POLLIN };
		int r;

		while ((r = poll(&p, 1, 20000)) < 0 && errno == EINTR)
			;
		CHECK_MSG(r > 0, "release %d: no answer from the victim",
		    cycle);
		if (victim_readline(v, line, sizeof (line)) < 0)
			FAIL("release %d: the victim ended: %s", cycle,
			    wstatus_str(victim_wait(v)));
		CHECK_MSG(strncmp(line, "sigtrap", 7) != 0, "release %d: a "
		    "thread was let go single-stepping: %s", cycle, line);
		if (strncmp(line, "steady", 6) == 0)
			return;
	}
}

/*
 * CYCLES times: grab, arm FLAGS on sv_target, wait for HITS firings
 * (threads stopped in the trampolines' gates), let go.
 */
static void
grab_release(int flags)
{
	char line[256];
	struct victim v;
	uintptr_t target;

	signal(SIGPIPE, SIG_IGN);	/* a dead victim: its status said */
	spawn_ready("stepv", NULL, &v, line, sizeof (line));
	target = (uintptr_t)line_field(line, "target");
	for (int i = 0; i < CYCLES; i++) {
		struct tally t = TALLY_INIT;
		dtproc_t *dtp = open_ok();
		dtproc_proc_t *pr = grab_ctl(dtp, v.pid, 0);
		int got;

		CHECK_MSG(dtproc_fprobe_add(dtp, pr, target, 0, flags,
		    count_cb, &t) == 0, "fprobe_add: %s", dtproc_errmsg(dtp));
		dtproc_continue(dtp, pr);
		got = tally_wait(&t, HITS, 20000);
		CHECK_MSG(got >= HITS, "release %d: %d firings", i, got);
		dtproc_release(dtp, pr);
		dtproc_close(dtp);
		check_steady(&v, i);
	}
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
	victim_close(&v);
}

TEST_TIMEOUT(ctl_release_step_return, 120)
{
	grab_release(DTPROC_FP_RETURN);
}

TEST_TIMEOUT(ctl_release_step_entry_return, 120)
{
	grab_release(DTPROC_FP_ENTRY | DTPROC_FP_RETURN);
}

/*
 * Entry probes alone: with a callback the function's own site has a trap
 * gate, whose prologue saves the flags too (counting alone saves none:
 * the CLI's `-f work` survived).
 */
TEST_TIMEOUT(ctl_release_step_entry, 120)
{
	grab_release(DTPROC_FP_ENTRY);
}
