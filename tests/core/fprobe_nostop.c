/*
 * fprobe_nostop.c - returns recorded without a stop (DTPROC_FP_NOSTOP)
 * through the public API: each return fires once, right and in order,
 * without its thread stopping at the return site; what dtproc_hit_reg
 * knows of such a return; the last returns of a process that exits and
 * of a thread that blocks are still fired; a tracer killed while returns
 * are pending leaves its victim unharmed.  (fprobe.c runs its threads,
 * recursion, longjmp and fork tests with the flag too.)
 *
 * Unlike a stopped return, a recorded one fires after the victim may
 * have answered (at the thread's next stop, on the control thread's
 * timer, at the end): the tests wait for the firings they count on the
 * recorder's tally, bounded, woken by each callback.
 */
#include "ctlsupport.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#define NOSTOP	(DTPROC_FP_ENTRY | DTPROC_FP_RETURN | DTPROC_FP_NOSTOP)

/*
 * N calls of fp_target on one thread: entry, return, entry, return...,
 * each return its entry's and deferred, and the return site is not
 * stopped at (at most the first calls', while the site is being armed).
 */
TEST(fprobe_nostop_calls)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	const int n = 200;
	dtproc_fprobe_info_t fi;
	dtproc_probe_info_t pi;
	uintptr_t fn;
	int deferred = 0;
	uint64_t free_ns[200];

	pr = fprobev(dtp, &v);
	fn = probe(dtp, pr, "fp_target", NOSTOP, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "n 200\n", "calls ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "sum"), 3 * 19900 + 200);
	CHECK_EQ_INT(rec_wait(r, 2 * n, 10000), 2 * n);
	for (int i = 0; i < n; i++) {
		const dtproc_hit_t *e = &r->r_hit[2 * i], *x = e + 1;

		CHECK_EQ_INT(e->dh_kind, DTPROC_HIT_ENTRY);
		CHECK_EQ_INT(e->dh_args[0], i);
		CHECK_EQ_INT(e->dh_depth, 1);
		CHECK_EQ_INT(e->dh_flags, 0);
		CHECK_EQ_INT(x->dh_kind, DTPROC_HIT_RETURN);
		CHECK_EQ_INT(x->dh_tid, v.pid);
		CHECK_EQ_INT(x->dh_func, fn);
		CHECK_EQ_INT(x->dh_retval, 3 * i + 1);
		CHECK_EQ_INT(x->dh_args[1], 3 * i + 1);
		CHECK_EQ_INT(x->dh_entry_time, e->dh_time);
		CHECK_EQ_INT(x->dh_entry_vtime, e->dh_vtime);
		CHECK_EQ_INT(x->dh_entry_vheld, e->dh_vheld);
		CHECK_EQ_INT(x->dh_sp, e->dh_sp);
		CHECK_EQ_INT(x->dh_retaddr, e->dh_retaddr);
		CHECK_EQ_INT(x->dh_pc, e->dh_retaddr);
		CHECK_EQ_INT(x->dh_depth, 1);
		CHECK(x->dh_time > e->dh_time);
		/* by the victim's clock, before the next entry's stop */
		if (i + 1 < n)
			CHECK(x->dh_time < x[1].dh_time);
		if (x->dh_flags & DTPROC_HIT_DEFERRED) {
			CHECK_EQ_INT(x->dh_vtime, x->dh_time);
			deferred++;
		}
		/* the call free of our stops: no more than all of it */
		CHECK(x->dh_vheld >= x->dh_entry_vheld);
		CHECK(x->dh_vheld - x->dh_entry_vheld <= x->dh_vtime -
		    x->dh_entry_vtime);
		free_ns[i] = (x->dh_vtime - x->dh_entry_vtime) -
		    (x->dh_vheld - x->dh_entry_vheld);
	}
	CHECK_EQ_INT(dtproc_fprobe_site(dtp, pr, r->r_hit[1].dh_retaddr, &pi),
	    0);
	tinfo("%d of %d returns deferred, %llu stops at the return site; "
	    "free of stops, the calls took %llu %llu %llu .. %llu ns\n",
	    deferred, n, (unsigned long long)pi.dpi_hits,
	    (unsigned long long)free_ns[0], (unsigned long long)free_ns[1],
	    (unsigned long long)free_ns[2], (unsigned long long)free_ns[n - 1]);
	CHECK_EQ_INT(pi.dpi_how, DTPROC_PROBE_TRAMP);
	CHECK(pi.dpi_hits <= 2);
	CHECK_EQ_INT(deferred, n - (int)pi.dpi_hits);
	fi = finfo(dtp, pr, fn, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, n);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	CHECK_EQ_INT(finfo(dtp, pr, fn, 0, DTPROC_FP_ENTRY).dfi_hits, n);
	quit_dead(dtp, pr, &v, &ns);
}

/*
 * dtproc_hit_reg at a deferred return: the pc, the stack pointer and the
 * return value, nothing else (-ENODATA); stopped there, everything.
 */
TEST(fprobe_nostop_regs)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t fn;
	int deferred = 0;

	pr = fprobev(dtp, &v);
	fn = probe(dtp, pr, "fp_target", NOSTOP, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "n 8\n", "calls ", line, sizeof (line));
	CHECK_EQ_INT(rec_wait(r, 16, 10000), 16);
	for (int i = 0; i < 16; i++) {
		const dtproc_hit_t *h = &r->r_hit[i];

		CHECK_EQ_INT(r->r_pc[i], h->dh_pc);
		if (h->dh_kind == DTPROC_HIT_ENTRY) {
			CHECK_EQ_INT(r->r_rdierr[i], 0);
			CHECK_EQ_INT(r->r_rdi[i], i / 2);
			CHECK_EQ_INT(r->r_sp[i], h->dh_sp);
			continue;
		}
		CHECK_EQ_INT(r->r_rax[i], h->dh_retval);
		CHECK_EQ_INT(r->r_sp[i], h->dh_sp + 8);
		if (h->dh_flags & DTPROC_HIT_DEFERRED) {
			CHECK_EQ_INT(r->r_rdierr[i], -ENODATA);
			deferred++;
		} else {
			CHECK_EQ_INT(r->r_rdierr[i], 0);
		}
	}
	CHECK_EQ_INT(r->r_rpsbad, 0);
	CHECK(deferred >= 6);
	CHECK_EQ_INT(r->r_regbad, deferred);

	/* the same probe without the flag: every register at the return */
	CHECK_EQ_INT(dtproc_fprobe_del(dtp, pr, fn, 0, DTPROC_FP_ENTRY |
	    DTPROC_FP_RETURN), 0);
	(void) probe(dtp, pr, "fp_target", DTPROC_FP_ENTRY | DTPROC_FP_RETURN,
	    r);
	ask(&v, "n 3\n", "calls ", line, sizeof (line));
	CHECK_EQ_INT(rec_n(r), 22);
	for (int i = 16; i < 22; i++) {
		const dtproc_hit_t *h = &r->r_hit[i];

		CHECK_EQ_INT(h->dh_flags, 0);
		CHECK_EQ_INT(r->r_rdierr[i], 0);
		if (h->dh_kind == DTPROC_HIT_RETURN) {
			CHECK_EQ_INT(r->r_rax[i], h->dh_retval);
			CHECK_EQ_INT(r->r_sp[i], h->dh_sp + 8);
			CHECK_EQ_INT(r->r_pc[i], h->dh_pc);
		}
	}
	CHECK_EQ_INT(r->r_regbad, deferred);
	CHECK_EQ_INT(r->r_rpsbad, 0);
	quit_dead(dtp, pr, &v, &ns);
}

/*
 * N calls, then at once the end (no timer tick between): the last
 * returns, with no stop after them, are fired at the process's end,
 * before its death is told; with one call nothing had read the thread's
 * stack region before, and the process is gone by then.
 */
static void
exit_after(long n)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t fn;
	char cmd[64];
	const dtproc_hit_t *last;

	pr = fprobev(dtp, &v);
	fn = probe(dtp, pr, "fp_target", NOSTOP, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	snprintf(cmd, sizeof (cmd), "n %ld\nq\n", n);
	victim_send(&v, cmd);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT(rec_n(r), 2 * n);
	CHECK_EQ_INT(count(r, "fp_target", DTPROC_HIT_RETURN), n);
	last = &r->r_hit[2 * n - 1];
	CHECK_EQ_INT(last->dh_kind, DTPROC_HIT_RETURN);
	CHECK_EQ_INT(last->dh_retval, 3 * (n - 1) + 1);
	CHECK(last->dh_flags & DTPROC_HIT_DEFERRED);
	CHECK_EQ_INT(finfo(dtp, pr, fn, 0, DTPROC_FP_RETURN).dfi_hits, n);
	CHECK_EQ_INT(finfo(dtp, pr, fn, 0, DTPROC_FP_RETURN).dfi_unwound, 0);
	dtproc_close(dtp);
}

TEST(fprobe_nostop_exit_drain)
{
	exit_after(5);
}

TEST(fprobe_nostop_exit_one)
{
	exit_after(1);
}

/*
 * A thread that returns and then blocks (the victim's main thread,
 * reading its next command once it answered): nothing stops it again,
 * and its return is fired by the control thread's timer.
 */
TEST(fprobe_nostop_blocked_drain)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t fn;
	int at_answer;

	pr = fprobev(dtp, &v);
	fn = probe(dtp, pr, "fp_args", NOSTOP, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	for (int k = 1; k <= 3; k++) {
		ask(&v, "a 1 2 3 4 5 6 7 8\n", "args ", line, sizeof (line));
		CHECK_EQ_INT(line_field(line, "r"), 36);
		at_answer = rec_n(r);
		CHECK_EQ_INT(rec_wait(r, 2 * k, 10000), 2 * k);
		tinfo("call %d: %d firings at the answer\n", k, at_answer);
		CHECK_EQ_INT(r->r_hit[2 * k - 1].dh_kind, DTPROC_HIT_RETURN);
		CHECK_EQ_INT(r->r_hit[2 * k - 1].dh_retval, 36);
		CHECK(r->r_hit[2 * k - 1].dh_flags & DTPROC_HIT_DEFERRED);
	}
	CHECK_EQ_INT(finfo(dtp, pr, fn, 0, DTPROC_FP_RETURN).dfi_hits, 3);
	quit_dead(dtp, pr, &v, &ns);
}

/* A byte from FD within MS: 1, or 0 (EOF, nothing). */
static int
byte_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, ms) == 1 && read(fd, &c, 1) == 1;
}

/*
 * The tracer of fprobe_nostop_killed, a child of the test: grabs PID,
 * probes fp_target without stops at returns, says "armed" on FD, and
 * once 400 firings came (the victim busy calling), says so and waits to
 * be killed.
 */
static void __attribute__((noreturn))
nostop_tracer(pid_t pid, int fd)
{
	dtproc_t *dtp = open_ok();
	struct rec *r = rec_new();
	dtproc_proc_t *pr = grab_ctl(dtp, pid, 0);

	(void) probe(dtp, pr, "fp_target", NOSTOP, r);
	dtproc_continue(dtp, pr);
	if (write(fd, "a", 1) != 1)
		_exit(98);
	if (rec_wait(r, 400, 30000) < 400)
		_exit(97);
	if (write(fd, "f", 1) != 1)
		_exit(98);
	for (;;)
		pause();
}

/*
 * The tracer killed (SIGKILL) while eight threads call fp_target, with
 * returns left pending in the shared page: the victim lives on, its
 * answers right, no signal of ours harms it, and it exits 0.
 */
TEST_TIMEOUT(fprobe_nostop_killed, 60)
{
	struct victim v;
	char line[256];
	const long n = 3000;
	int pfd[2], st;
	pid_t tr;

	spawn_ready("fprobev", NULL, &v, line, sizeof (line));
	CHECK_EQ_INT(pipe(pfd), 0);
	if ((tr = fork()) < 0)
		FAIL("fork: %s", strerror(errno));
	if (tr == 0) {
		close(pfd[0]);
		nostop_tracer(v.pid, pfd[1]);
	}
	close(pfd[1]);
	CHECK_MSG(byte_within(pfd[0], 20000), "the tracer did not arm");
	victim_send(&v, "t 3000\n");
	CHECK_MSG(byte_within(pfd[0], 30000), "no firings in the tracer");
	CHECK_EQ_INT(kill(tr, SIGKILL), 0);
	CHECK_EQ_INT(waitpid(tr, &st, 0), tr);
	CHECK_KILLED(st, SIGKILL);
	close(pfd[0]);
	expect_within(&v, line, sizeof (line), "threads ", 30000,
	    "the threads' answer");
	CHECK_EQ_INT(line_field(line, "sum"), 8 * (3 * (n * (n - 1) / 2) + n));
	/* the probed code again, untraced: its sites' jumps still there */
	ask(&v, "n 2000\n", "calls ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "sum"), 3 * 1999000 + 2000);
	ask(&v, "t 500\n", "threads ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "sum"), 8 * (3 * 124750 + 500));
	ask(&v, "b 100\n", "blocked ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "bad"), 0);
	victim_send(&v, "q\n");
	expect_within(&v, line, sizeof (line), "bye", 10000, "bye");
	CHECK_EXITED(wait_untraced(&v), 0);
}

/* REVIEW: a recursion deeper than the drain's batch of 64. */
TEST(fprobe_nostop_deep)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	const int n = 100;
	dtproc_fprobe_info_t fi;
	uintptr_t fn;
	int bad = 0;

	pr = fprobev(dtp, &v);
	fn = probe(dtp, pr, "fp_rec", NOSTOP, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "r 100\n", "rec ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 5050);
	(void) rec_wait(r, 2 * (n + 1), 10000);
	fi = finfo(dtp, pr, fn, 0, DTPROC_FP_RETURN);
	printf("# returns %llu unwound %llu firings %d\n",
	    (unsigned long long)fi.dfi_hits,
	    (unsigned long long)fi.dfi_unwound, rec_n(r));
	for (int i = n + 1; i < rec_n(r); i++) {
		const dtproc_hit_t *x = &r->r_hit[i];
		long k = i - (n + 1);	/* fp_rec(k) returns k(k+1)/2 */

		if (x->dh_kind != DTPROC_HIT_RETURN ||
		    (long)x->dh_retval != k * (k + 1) / 2)
			bad++;
	}
	printf("# out of order %d\n", bad);
	CHECK_EQ_INT(fi.dfi_hits, n + 1);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	CHECK_EQ_INT(bad, 0);
	quit_dead(dtp, pr, &v, &ns);
}
