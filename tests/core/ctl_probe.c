/*
 * ctl_probe.c - dtproc_probe_* through the public API: a counted probe
 * read while the victim runs and after it exited, a STOP probe's
 * callback, the int3 path asked for, errors, and a probe added from the
 * dynamic-linker activity callback that outlives its dlclose, and a
 * probe armed as an int3 while a thread's stack named a pc inside its
 * window, patched once the word has gone, and a thread stopped inside a
 * window moved into the trampoline as the site is patched (upgradev).
 *
 * The victim (probectlv) calls pc_target as often as it is told and
 * answers once done, so a count read after its answer is exact: a
 * patched site's hits are in shared memory by then, an int3 site's were
 * counted by the control thread before the thread was resumed.
 */
#include "ctlsupport.h"

#include <sys/wait.h>

/* "probectlv" created, resting at main: its pc_target in *TARGET. */
static dtproc_proc_t *
probectlv(dtproc_t *dtp, struct victim *v, uintptr_t *target)
{
	dtproc_proc_t *pr = create_ok(dtp, "probectlv", NULL,
	    DTPROC_STOP_MAIN, v);

	*target = sym_addr(dtp, pr, "a.out`pc_target");
	return pr;
}

static dtproc_probe_info_t
info_ok(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	dtproc_probe_info_t pi;

	memset(&pi, 0xa5, sizeof (pi));
	CHECK_MSG(dtproc_probe_info(dtp, pr, addr, &pi) == 0, "probe_info "
	    "%#lx: %s", (unsigned long)addr, dtproc_errmsg(dtp));
	return pi;
}

/* "c N" answered with the right sum. */
static void
call_n(struct victim *v, long n)
{
	char line[256], want[128];

	snprintf(line, sizeof (line), "c %ld\n", n);
	victim_send(v, line);
	victim_expect(v, line, sizeof (line), "called ");
	snprintf(want, sizeof (want), "called n=%ld sum=%ld", n,
	    3 * (n * (n - 1) / 2) + n);
	CHECK_STR_EQ(line, want);
}

TEST(ctl_probe_counted)
{
	CTL_LOCALS;
	dtproc_probe_info_t pi;
	uintptr_t target;

	pr = probectlv(dtp, &v, &target);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, 0, NULL, NULL), 0);
	pi = info_ok(dtp, pr, target);
	CHECK_EQ_INT(pi.dpi_how, DTPROC_PROBE_TRAMP);
	CHECK(pi.dpi_why == NULL);
	CHECK_EQ_INT(pi.dpi_hits, 0);
	CHECK_EQ_INT(pi.dpi_live, 1);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "target"), target);
	/* read while it runs: it waits for its next line, not stopped */
	call_n(&v, 100);
	pi = info_ok(dtp, pr, target);
	CHECK_EQ_INT(pi.dpi_hits, 100);
	CHECK_EQ_INT(pi.dpi_missed, 0);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_RUN);
	call_n(&v, 50);
	CHECK_EQ_INT(info_ok(dtp, pr, target).dpi_hits, 150);
	/* after its exit: withdrawn, the count kept */
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	pi = info_ok(dtp, pr, target);
	CHECK_EQ_INT(pi.dpi_hits, 150);
	CHECK_EQ_INT(pi.dpi_live, 0);
	CHECK_EQ_INT(pi.dpi_how, DTPROC_PROBE_TRAMP);
	/* a withdrawn record goes without its process */
	CHECK_EQ_INT(dtproc_probe_del(dtp, pr, target), 0);
	CHECK_EQ_INT(dtproc_probe_info(dtp, pr, target, &pi), -ENOENT);
	dtproc_close(dtp);
}

TEST(ctl_probe_stop_callback)
{
	CTL_LOCALS;
	dtproc_probe_info_t pi;
	struct hits h;
	uintptr_t target;

	pr = probectlv(dtp, &v, &target);
	hits_init(&h, dtp, pr, target);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, DTPROC_PROBE_STOP,
	    hit_cb, &h), 0);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	victim_send(&v, "t 7\n");
	victim_expect(&v, line, sizeof (line), "thread ");
	CHECK_EQ_INT(line_field(line, "sum"), 3 * 21 + 7);
	CHECK_HITS(&h, 7);
	CHECK_EQ_INT(atomic_load(&h.last_tid), line_field(line, "tid"));
	pi = info_ok(dtp, pr, target);
	CHECK_EQ_INT(pi.dpi_hits, 7);
	CHECK(pi.dpi_how == DTPROC_PROBE_TRAMP || pi.dpi_how ==
	    DTPROC_PROBE_TRAP);
	/* deleted: no more stops, no more counts, the text the file's */
	CHECK_EQ_INT(dtproc_probe_del(dtp, pr, target), 0);
	CHECK_EQ_INT(text_matches_file(v.pid, target, 16), 1);
	call_n(&v, 5);
	CHECK_HITS(&h, 7);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(ctl_probe_int3)
{
	CTL_LOCALS;
	dtproc_probe_info_t pi;
	struct hits h;
	uintptr_t target;

	pr = probectlv(dtp, &v, &target);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, DTPROC_PROBE_INT3,
	    NULL, NULL), 0);
	pi = info_ok(dtp, pr, target);
	CHECK_EQ_INT(pi.dpi_how, DTPROC_PROBE_TRAP);
	CHECK(pi.dpi_why != NULL && pi.dpi_why[0] != '\0');
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(mem_byte(v.pid, target), 0xcc);
	call_n(&v, 20);
	CHECK_EQ_INT(info_ok(dtp, pr, target).dpi_hits, 20);
	CHECK_EQ_INT(dtproc_probe_del(dtp, pr, target), 0);
	CHECK_EQ_INT(text_matches_file(v.pid, target, 16), 1);
	/* with a callback too: both counts right */
	hits_init(&h, dtp, pr, target);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, DTPROC_PROBE_INT3 |
	    DTPROC_PROBE_STOP, hit_cb, &h), 0);
	call_n(&v, 9);
	CHECK_HITS(&h, 9);
	pi = info_ok(dtp, pr, target);
	CHECK_EQ_INT(pi.dpi_hits, 9);
	CHECK_EQ_INT(pi.dpi_how, DTPROC_PROBE_TRAP);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(ctl_probe_errors)
{
	CTL_LOCALS;
	dtproc_probe_info_t pi;
	struct hits h;
	uintptr_t target;

	pr = probectlv(dtp, &v, &target);
	hits_init(&h, dtp, pr, target);
	CHECK_EQ_INT(dtproc_probe_info(dtp, pr, target, &pi), -ENOENT);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "no probe");
	CHECK_EQ_INT(dtproc_probe_del(dtp, pr, target), -ENOENT);
	/* a callback without STOP, STOP without one, unknown flags */
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, 0, hit_cb, &h),
	    -EINVAL);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, DTPROC_PROBE_STOP,
	    NULL, NULL), -EINVAL);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, 0x100, NULL, NULL),
	    -EINVAL);
	CHECK_EQ_INT(dtproc_probe_info(dtp, pr, target, &pi), -ENOENT);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, 0, NULL, NULL), 0);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, 0, NULL, NULL),
	    -EEXIST);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, DTPROC_PROBE_STOP,
	    hit_cb, &h), -EEXIST);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "already");
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	call_n(&v, 3);
	CHECK_EQ_INT(info_ok(dtp, pr, target).dpi_hits, 3);
	CHECK_EQ_INT(atomic_load(&h.n), 0);
	CHECK_EQ_INT(dtproc_probe_del(dtp, pr, target), 0);
	CHECK_EQ_INT(dtproc_probe_info(dtp, pr, target, &pi), -ENOENT);
	CHECK_EQ_INT(dtproc_probe_del(dtp, pr, target), -ENOENT);
	quit_dead(dtp, pr, &v, &ns);
}

/* The dl activity callback: a counted probe at dyn_fn once it is there. */
struct dlprobe {
	atomic_int adds, fails;
	atomic_uintptr_t addr;
};

static int
dlprobe_cb(dtproc_t *dtp, dtproc_proc_t *pr, void *arg)
{
	struct dlprobe *d = arg;
	dtproc_probe_info_t pi;
	dtproc_sym_t s;

	if (dtproc_sym_lookup(dtp, pr, "libdyn.so`dyn_fn", &s) != 0)
		return 0;		/* the dlclose */
	if (dtproc_probe_info(dtp, pr, s.ds_addr, &pi) == 0 && pi.dpi_live)
		return 0;
	if (dtproc_probe_add(dtp, pr, s.ds_addr, 0, NULL, NULL) != 0) {
		atomic_fetch_add(&d->fails, 1);
		return -1;
	}
	atomic_store(&d->addr, s.ds_addr);
	atomic_fetch_add(&d->adds, 1);
	return 0;
}

/* "o LIB": dyn_fn called twice, at FN. */
static uintptr_t
dl_open(struct victim *v)
{
	char line[256];

	snprintf(line, sizeof (line), "o %s\n", libdyn_path());
	victim_send(v, line);
	victim_expect(v, line, sizeof (line), "opened ");
	return (uintptr_t)line_field(line, "fn");
}

TEST(ctl_probe_dlclose)
{
	CTL_LOCALS;
	struct dlprobe d = { 0 };
	dtproc_probe_info_t pi;
	uintptr_t target, fn, fn2;

	dtproc_set_dlactivity(dtp, dlprobe_cb, &d);
	pr = probectlv(dtp, &v, &target);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	fn = dl_open(&v);
	CHECK_EQ_INT(atomic_load(&d.adds), 1);
	CHECK_EQ_INT(atomic_load(&d.addr), fn);
	pi = info_ok(dtp, pr, fn);
	CHECK_EQ_INT(pi.dpi_hits, 2);
	CHECK_EQ_INT(pi.dpi_live, 1);
	CHECK_EQ_INT(pi.dpi_how, DTPROC_PROBE_TRAMP);
	/* dlclose: the site is withdrawn, its count kept */
	victim_send(&v, "x\n");
	victim_expect(&v, line, sizeof (line), "closed");
	pi = info_ok(dtp, pr, fn);
	CHECK_EQ_INT(pi.dpi_hits, 2);
	CHECK_EQ_INT(pi.dpi_live, 0);
	/* loaded again (likely at the same address): counted anew */
	fn2 = dl_open(&v);
	CHECK_EQ_INT(atomic_load(&d.adds), 2);
	pi = info_ok(dtp, pr, fn2);
	CHECK_EQ_INT(pi.dpi_hits, 2);
	CHECK_EQ_INT(pi.dpi_live, 1);
	CHECK_EQ_INT(atomic_load(&d.fails), 0);
	victim_send(&v, "x\n");
	victim_expect(&v, line, sizeof (line), "closed");
	CHECK_EQ_INT(info_ok(dtp, pr, fn2).dpi_live, 0);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(ctl_probe_grabbed_release)
{
	CTL_LOCALS;
	uintptr_t target;

	spawn_ready("probectlv", NULL, &v, line, sizeof (line));
	target = (uintptr_t)line_field(line, "target");
	pr = grab_ctl(dtp, v.pid, 0);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, 0, NULL, NULL), 0);
	dtproc_continue(dtp, pr);
	call_n(&v, 30);
	CHECK_EQ_INT(info_ok(dtp, pr, target).dpi_hits, 30);
	/* let go: the text is the file's again, the victim runs on right */
	dtproc_release(dtp, pr);
	CHECK_EQ_INT(text_matches_file(v.pid, target, 16), 1);
	call_n(&v, 4);
	quit_untraced(dtp, &v);
}

TEST(ctl_probe_exec)
{
	CTL_LOCALS;
	dtproc_probe_info_t pi;
	uintptr_t target;

	pr = create_ok(dtp, "ctlv", (char *[]){ "exec",
	    (char *)victim_path("ctlv"), "exit", "0", NULL }, DTPROC_STOP_MAIN,
	    &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, target, 0, NULL, NULL), 0);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "exec");
	/* the old image's count, folded at the exec, kept past it */
	victim_expect(&v, line, sizeof (line), "marks ");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	pi = info_ok(dtp, pr, target);
	CHECK_EQ_INT(pi.dpi_hits, 1);
	CHECK_EQ_INT(pi.dpi_live, 0);
	dtproc_close(dtp);
}

/* The pc of stopped thread TID of PID, from /proc (not in a system call). */
static uintptr_t
stopped_pc(pid_t pid, pid_t tid)
{
	char path[64], buf[256];
	unsigned long sp, pc;
	long nr;
	FILE *f;

	snprintf(path, sizeof (path), "/proc/%d/task/%d/syscall", (int)pid,
	    (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof (buf), f) == NULL ||
	    sscanf(buf, "%ld %lx %lx", &nr, &sp, &pc) != 3 || nr != -1)
		pc = 0;
	fclose(f);
	return pc;
}

#define UP_WIN	6	/* up_fn's window: two pauses and a load */

/*
 * upgradev (PID, its spinner TID) grabbed until a grab finds the
 * spinner's pc strictly inside up_fn's window (FN): the handle, that pc
 * in *PC; NULL if none did.  It is at the start of one of the window's
 * instructions: a stopped thread always is.  No harness checks: a
 * tracer in a child calls it too.
 */
static dtproc_proc_t *
grab_inside(dtproc_t *dtp, pid_t pid, uintptr_t fn, pid_t tid,
    uintptr_t *pc)
{
	for (int tries = 0; tries < 2000; tries++) {
		dtproc_proc_t *pr = dtproc_grab(dtp, pid, 0);

		if (pr == NULL)
			return NULL;
		*pc = stopped_pc(pid, tid);
		if (*pc > fn && *pc < fn + UP_WIN)
			return pr;
		dtproc_release(dtp, pr);
	}
	return NULL;
}

/*
 * A site whose window a thread's stack names (the faulter's signal
 * frame holds a pc inside it) is armed as an int3, the reason said,
 * and patched once the word has gone (the upgrade, announced).
 */
TEST_TIMEOUT(ctl_probe_upgrade, 120)
{
	CTL_LOCALS;
	struct upgrades up;
	dtproc_probe_info_t pi;
	uintptr_t fn;
	long ms;

	spawn_ready("upgradev", NULL, &v, line, sizeof (line));
	fn = (uintptr_t)line_field(line, "fn");
	ask(&v, "f\n", "faulted", line, sizeof (line));
	upgrades_watch(dtp, &up);
	pr = grab_ctl(dtp, v.pid, 0);
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, fn, 0, NULL, NULL), 0);
	pi = info_ok(dtp, pr, fn);
	CHECK_EQ_INT(pi.dpi_how, DTPROC_PROBE_TRAP);
	CHECK_STR_EQ(pi.dpi_why, "a thread is inside the window");
	dtproc_continue(dtp, pr);
	/* the faulter leaves its handler and ends; the upgrade, on the
	   control thread's timer, is announced */
	ask(&v, "r\n", "released", line, sizeof (line));
	if (!upgrades_wait(&up, fn, 30000, &ms)) {
		pi = info_ok(dtp, pr, fn);
		FAIL("no upgrade of up_fn announced after %ld ms (how %d, "
		    "why %s)", ms, pi.dpi_how, pi.dpi_why ? pi.dpi_why : "-");
	}
	pi = info_ok(dtp, pr, fn);
	CHECK_EQ_INT(pi.dpi_how, DTPROC_PROBE_TRAMP);
	CHECK(pi.dpi_why == NULL);
	/* the spinner counts while patched: 1000 calls of it (the first
	   perhaps begun before h0), then stopped: exact from then */
	uint64_t h0 = pi.dpi_hits;
	ask(&v, "w 1001\n", "waited calls=", line, sizeof (line));
	victim_send(&v, "s\n");
	victim_expect(&v, line, sizeof (line), "calls=");
	uint64_t h1 = info_ok(dtp, pr, fn).dpi_hits;
	CHECK_MSG(h1 >= h0 + 1000 && h1 <= line_field(line, "calls"), "%llu hits at "
	    "the upgrade, %llu once the spinner stopped, %llu calls",
	    (unsigned long long)h0, (unsigned long long)h1,
	    line_field(line, "calls"));
	victim_send(&v, "n 1000\n");
	victim_expect(&v, line, sizeof (line), "called n=1000");
	CHECK_EQ_INT(info_ok(dtp, pr, fn).dpi_hits, h1 + 1000);
	tinfo("up_fn: upgraded %ld ms after the continue, %llu hits\n", ms,
	    (unsigned long long)h1 + 1000);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_release(dtp, pr);
	upgrades_close(dtp, &up);
	victim_close(&v);
}

/*
 * A thread stopped inside the window, at the start of one of its
 * instructions, is moved into the trampoline's copy of it as the site
 * is patched: patched at once, the thread seen (unwound) where it was,
 * the call it was in not counted, every later one counted.
 */
TEST_TIMEOUT(ctl_probe_moved_in, 120)
{
	CTL_LOCALS;
	dtproc_probe_info_t pi;
	uintptr_t fn, counter, pc, now, pcs[4];
	long c0 = -1;
	pid_t tid;

	spawn_ready("upgradev", NULL, &v, line, sizeof (line));
	fn = (uintptr_t)line_field(line, "fn");
	tid = (pid_t)line_field(line, "tid");
	counter = (uintptr_t)line_field(line, "counter");
	pr = grab_inside(dtp, v.pid, fn, tid, &pc);
	CHECK_MSG(pr != NULL, "no grab found the spinner inside up_fn's "
	    "window: %s", dtproc_errmsg(dtp));
	CHECK_EQ_INT(dtproc_probe_add(dtp, pr, fn, 0, NULL, NULL), 0);
	pi = info_ok(dtp, pr, fn);
	CHECK_MSG(pi.dpi_how == DTPROC_PROBE_TRAMP, "up_fn not patched at "
	    "once (how %d, why %s; the spinner at %#lx)", pi.dpi_how,
	    pi.dpi_why ? pi.dpi_why : "-", (unsigned long)pc);
	CHECK(pi.dpi_why == NULL);
	now = stopped_pc(v.pid, tid);
	CHECK_MSG(now != 0 && (now < fn || now >= fn + UP_WIN), "the spinner "
	    "still at %#lx (was %#lx), in the patched window", (unsigned
	    long)now, (unsigned long)pc);
	CHECK_MSG(dtproc_stack(dtp, pr, tid, pcs, 4) >= 1 && pcs[0] == pc,
	    "the spinner, at %#lx, unwound from %#lx, not %#lx",
	    (unsigned long)now, (unsigned long)pcs[0], (unsigned long)pc);
	CHECK(dtproc_read(dtp, pr, counter, &c0, sizeof (c0)) ==
	    (ssize_t)sizeof (c0));
	dtproc_continue(dtp, pr);
	ask(&v, "w 1000\n", "waited calls=", line, sizeof (line));
	victim_send(&v, "s\n");
	victim_expect(&v, line, sizeof (line), "calls=");
	/* c0 calls done at the add, the next one under way */
	CHECK_EQ_INT(info_ok(dtp, pr, fn).dpi_hits,
	    line_field(line, "calls") - (unsigned long long)c0 - 1);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_release(dtp, pr);
	victim_close(&v);
}

/*
 * The tracer, in a child: grabs PID with its spinner TID inside the
 * window of FN, adds the probe at FN and answers
 * on OUT 'T' if it is patched, 'N' if not; then waits on IN to be
 * killed (or for the test to end).
 */
static void
mover(pid_t pid, uintptr_t fn, pid_t tid, int in, int out)
{
	dtproc_t *dtp = dtproc_open(0, NULL);
	dtproc_probe_info_t pi;
	dtproc_proc_t *pr;
	uintptr_t pc;
	char c;

	if (dtp == NULL || (pr = grab_inside(dtp, pid, fn, tid, &pc)) == NULL ||
	    dtproc_probe_add(dtp, pr, fn, 0, NULL, NULL) != 0 ||
	    dtproc_probe_info(dtp, pr, fn, &pi) != 0)
		_exit(2);
	c = pi.dpi_how == DTPROC_PROBE_TRAMP ? 'T' : 'N';
	if (write(out, &c, 1) != 1)
		_exit(3);
	(void) read(in, &c, 1);
	_exit(0);
}

/*
 * The tracer killed with SIGKILL right after adding a probe whose
 * window a stopped thread was inside: the thread was moved into the
 * trampoline, written to the kernel at once, so it runs on unharmed,
 * and no int3 is left at the site.  (Before threads were moved, the
 * site was an int3 until an upgrade: the victim died of SIGTRAP.)
 */
TEST_TIMEOUT(ctl_probe_moved_in_kill9, 120)
{
	char line[256], c = 0;
	struct victim v;
	uintptr_t fn;
	int to[2], from[2], st;
	pid_t t, tid;

	spawn_ready("upgradev", NULL, &v, line, sizeof (line));
	fn = (uintptr_t)line_field(line, "fn");
	tid = (pid_t)line_field(line, "tid");
	CHECK(pipe(to) == 0 && pipe(from) == 0);
	if ((t = fork()) == 0) {
		close(to[1]);
		close(from[0]);
		mover(v.pid, fn, tid, to[0], from[1]);
	}
	CHECK(t > 0);
	close(to[0]);
	close(from[1]);
	CHECK_MSG(read(from[0], &c, 1) == 1, "the tracer did not add its "
	    "probe");
	CHECK(kill(t, SIGKILL) == 0);
	CHECK(waitpid(t, &st, 0) == t);
	CHECK_KILLED(st, SIGKILL);
	CHECK_MSG(c == 'T', "up_fn was not patched at once");
	/* untraced, through the site, many times */
	victim_send(&v, "w 1000\n");
	(void) expect_within(&v, line, sizeof (line), "waited calls=", 20000,
	    "w 1000");
	victim_send(&v, "q\n");
	CHECK_EXITED(victim_wait(&v), 0);
	close(to[1]);
	close(from[0]);
	victim_close(&v);
}

/*
 * Threads born while an edit has every thread stopped run on: the
 * creator's THREAD_NEW restarts only the creator, so the edit's end
 * must restart the newborn.  threads churns (creates and joins a thread
 * without end) while a probe is added and deleted many times; a newborn
 * left stopped keeps its creator in pthread_join, and no result comes.
 */
TEST_TIMEOUT(ctl_probe_edits_spare_newborns, 60)
{
	CTL_LOCALS;
	uintptr_t fn;

	pr = create_ok(dtp, "threads", (char *[]){ "2", "churn", NULL },
	    DTPROC_STOP_MAIN, &v);
	fn = sym_addr(dtp, pr, "a.out`short_lived");
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	for (int i = 0; i < 300; i++) {
		CHECK_MSG(dtproc_probe_add(dtp, pr, fn, 0, NULL, NULL) == 0,
		    "add %d: %s", i, dtproc_errmsg(dtp));
		CHECK_MSG(dtproc_probe_del(dtp, pr, fn) == 0, "del %d: %s", i,
		    dtproc_errmsg(dtp));
	}
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), 1 + 4);
	victim_expect(&v, line, sizeof (line), "churned=");
	CHECK(line_field(line, "churned") > 0);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}
