/*
 * fprobe_up.c - return sites armed as int3s while a thread was inside
 * their window are patched once it has left (issue 13): a return probe
 * then costs no int3 stop, and the victim survives a tracer killed with
 * SIGKILL, which an int3 left in its text would kill with SIGTRAP at the
 * next return there.
 *
 * The victim (retupv) parks a thread whose stack holds a word inside
 * the window of ru_caller's return site from ru_target, the way a
 * thread interrupted there would, and lets it go when told; its answers
 * come after its calls, whose firings the control thread handled before
 * resuming the calling thread, so counts read after an answer are
 * complete.  The upgrade itself comes on the control thread's timer,
 * announced by a DTPROC_EV_UPGRADE event, which the tests wait for.
 */
#include "ctlsupport.h"

#include <sys/wait.h>

#define WHY_BUSY	"a thread is inside the window"

static dtproc_probe_info_t
site_info(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	dtproc_probe_info_t pi;

	memset(&pi, 0xa5, sizeof (pi));
	CHECK_MSG(dtproc_fprobe_site(dtp, pr, addr, &pi) == 0, "fprobe_site "
	    "%#lx: %s", (unsigned long)addr, dtproc_errmsg(dtp));
	return pi;
}

static uint64_t
fhits(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t fn, int kind)
{
	dtproc_fprobe_info_t fi;

	CHECK_MSG(dtproc_fprobe_info(dtp, pr, fn, 0, kind, &fi) == 0,
	    "fprobe_info %#lx: %s", (unsigned long)fn, dtproc_errmsg(dtp));
	return fi.dfi_hits;
}

/*
 * Wait (MS at most, or until the process ends) for the upgrade of the
 * site at RET announced in U: its info then.  *WAITED: the ms it took.
 */
static dtproc_probe_info_t
wait_patched(dtproc_t *dtp, dtproc_proc_t *pr, struct upgrades *u,
    uintptr_t ret, int ms, long *waited)
{
	dtproc_probe_info_t pi = { 0 };

	if (upgrades_wait(u, ret, ms, waited))
		(void) dtproc_fprobe_site(dtp, pr, ret, &pi);
	return pi;
}

/*
 * The return site is busy when the first entry arms it: an int3, the
 * reason said; every return fires.  The parker leaves: the site becomes
 * a trampoline, and the returns through it still fire, once each.
 */
TEST_TIMEOUT(fprobe_up_return_site, 60)
{
	CTL_LOCALS;
	dtproc_probe_info_t pi;
	struct upgrades up;
	uintptr_t target, ret;
	long ms;

	spawn_ready("retupv", NULL, &v, line, sizeof (line));
	target = (uintptr_t)line_field(line, "target");
	ret = (uintptr_t)line_field(line, "ret");
	ask(&v, "p\n", "parked", line, sizeof (line));
	upgrades_watch(dtp, &up);
	pr = grab_ctl(dtp, v.pid, 0);
	CHECK_MSG(dtproc_fprobe_add(dtp, pr, target, 0, DTPROC_FP_ENTRY |
	    DTPROC_FP_RETURN, NULL, NULL) == 0, "fprobe_add: %s",
	    dtproc_errmsg(dtp));
	dtproc_continue(dtp, pr);
	CHECK(dtproc_fprobe_site(dtp, pr, ret, &pi) == -ENOENT);

	ask(&v, "c 10\n", "called n=10", line, sizeof (line));
	pi = site_info(dtp, pr, ret);
	CHECK_EQ_INT(pi.dpi_how, DTPROC_PROBE_TRAP);
	CHECK_STR_EQ(pi.dpi_why, WHY_BUSY);
	CHECK_EQ_INT(pi.dpi_hits, 10);
	CHECK_EQ_INT(fhits(dtp, pr, target, DTPROC_FP_ENTRY), 10);
	CHECK_EQ_INT(fhits(dtp, pr, target, DTPROC_FP_RETURN), 10);
	/* the entry site is the function's own, patched at once */
	CHECK_EQ_INT(site_info(dtp, pr, target).dpi_how, DTPROC_PROBE_TRAMP);

	ask(&v, "u\n", "unparked", line, sizeof (line));
	pi = wait_patched(dtp, pr, &up, ret, 30000, &ms);
	CHECK_MSG(pi.dpi_how == DTPROC_PROBE_TRAMP, "the return site's "
	    "upgrade was not announced within %ld ms", ms);
	CHECK(pi.dpi_why == NULL);
	ask(&v, "c 1000\n", "called n=1000", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "sum"), 3 * 999 * 1000 / 2 + 2 * 1000);
	CHECK_EQ_INT(fhits(dtp, pr, target, DTPROC_FP_ENTRY), 1010);
	CHECK_EQ_INT(fhits(dtp, pr, target, DTPROC_FP_RETURN), 1010);
	CHECK_EQ_INT(site_info(dtp, pr, ret).dpi_hits, 1010);
	tinfo("return site upgraded after %ld ms\n", ms);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_release(dtp, pr);
	upgrades_close(dtp, &up);
	victim_close(&v);
}

/*
 * The tracer, in a child: grabs the victim, arms its return probe and
 * answers on OUT: 'a' armed; then for each byte read on IN, 'w': 'T'
 * once the return site is a trampoline, 'N' if it stays an int3.  It
 * is killed with SIGKILL meanwhile.
 */
static void
tracer(pid_t pid, uintptr_t target, uintptr_t ret, int in, int out)
{
	dtproc_t *dtp = dtproc_open(0, NULL);
	dtproc_proc_t *pr;
	dtproc_probe_info_t pi;
	struct upgrades up;
	char c = 'x';
	long ms;

	if (dtp == NULL)
		_exit(2);
	upgrades_watch(dtp, &up);
	if ((pr = dtproc_grab(dtp, pid, 0)) == NULL ||
	    dtproc_fprobe_add(dtp, pr, target, 0, DTPROC_FP_RETURN, NULL,
	    NULL) != 0)
		_exit(2);
	dtproc_continue(dtp, pr);
	if (write(out, "a", 1) != 1)
		_exit(3);
	while (read(in, &c, 1) == 1) {
		pi = wait_patched(dtp, pr, &up, ret, 30000, &ms);
		c = pi.dpi_how == DTPROC_PROBE_TRAMP ? 'T' : 'N';
		if (write(out, &c, 1) != 1)
			_exit(3);
	}
	_exit(0);
}

/*
 * A tracer killed with SIGKILL after the upgrade leaves no int3 at the
 * return site: the victim returns through it unharmed, and exits 0
 * (before the upgrade existed, the int3 stayed and the victim died of
 * SIGTRAP at its next return there).
 */
TEST_TIMEOUT(fprobe_up_survives_kill9, 60)
{
	char line[256], c = 0;
	struct victim v;
	uintptr_t target, ret;
	int to[2], from[2], st;
	pid_t t;

	spawn_ready("retupv", NULL, &v, line, sizeof (line));
	target = (uintptr_t)line_field(line, "target");
	ret = (uintptr_t)line_field(line, "ret");
	ask(&v, "p\n", "parked", line, sizeof (line));
	CHECK(pipe(to) == 0 && pipe(from) == 0);
	if ((t = fork()) == 0) {
		close(to[1]);
		close(from[0]);
		tracer(v.pid, target, ret, to[0], from[1]);
	}
	CHECK(t > 0);
	close(to[0]);
	close(from[1]);
	CHECK_MSG(read(from[0], &c, 1) == 1 && c == 'a', "the tracer did not "
	    "arm its probe");
	ask(&v, "c 10\n", "called n=10", line, sizeof (line));
	ask(&v, "u\n", "unparked", line, sizeof (line));
	CHECK(write(to[1], "w", 1) == 1);
	CHECK(read(from[0], &c, 1) == 1);
	CHECK(kill(t, SIGKILL) == 0);
	CHECK(waitpid(t, &st, 0) == t);
	CHECK_KILLED(st, SIGKILL);
	/* the victim runs on, untraced, through the return site */
	victim_send(&v, "c 10\n");
	char *got = expect_within(&v, line, sizeof (line), "called n=10",
	    20000, "c 10");
	CHECK(got != NULL);
	victim_send(&v, "q\n");
	st = victim_wait(&v);
	CHECK_MSG(c == 'T', "the return site stayed an int3 (the victim: %s)",
	    wstatus_str(st));
	CHECK_EXITED(st, 0);
	close(to[1]);
	close(from[0]);
	victim_close(&v);
}
