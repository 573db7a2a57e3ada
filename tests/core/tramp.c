/*
 * tramp.c - patched sites through the core (pt_tramp_*): the window of
 * a function's first instructions replaced by a jump to a trampoline.
 * The victim (tests/victims/trampv.c) checks its own results, so a
 * wrong relocation fails through its verdict, not only through counts.
 *
 *   tramp_count		a counting site: exact hits read while the
 *		victim runs (it never stops), the file's bytes back after
 *   tramp_trap_regs	a trap site: BREAKPOINT at the site, and
 *		pt_regs_site shows what the int3 path shows (arguments,
 *		stack pointer, pc); an int3 site converted keeps its user
 *   tramp_threads_churn	8 threads calling the site while it is armed
 *		and disarmed 1,000 times: right results, no stray SIGTRAP,
 *		the counts bounded by the calls, the file's bytes back
 *   tramp_signal	signals landing while the thread runs a trampoline,
 *		their handler calling the probed function: exact count
 *   tramp_signal_trap	the same at a trap site: a stop per call, exactly,
 *		no hang, with signals landing at the gate's stop point
 *   tramp_busy		a thread blocked in a system call inside the
 *		window: -EBUSY naming it
 *   tramp_fork		a fork child of a patched process computes right,
 *		its text is the file's, and none of its hits is counted
 *   tramp_exec		exec forgets every patched site
 *   tramp_dlclose	a site in a dlclosed library is pruned
 *   tramp_release	release (RUN) leaves no memfd and no scratch
 *		area, and the victim runs on right
 *   tramp_tracer_death	a tracer with counting and trap sites SIGKILLed
 *		50 times at random moments while 4 threads take traps
 *		(10 more with counting only): the victim finishes right
 *   tramp_vfork		with only patched sites, a vfork child goes at
 *		once, untraced (PTRACE_TRACEME works in it); edits wait
 *   tramp_short_pad	the short form at a memmove-shaped function (a
 *		branch 3 bytes in): jmp rel8 to a pad in the nops before,
 *		the pad's jmp rel32; a pad out of reach or claimed refused;
 *		exact counts from both entries, the program's view of its
 *		text; a fork child's text is the file's; removal and
 *		release give back the window and the pad
 */
#include "harness.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

struct tv {
	struct victim v;
	pt_proc_t *P;
	uintptr_t target, target2, block, shrt, shrt_in;
	char line[512];
};

/* Events seen while serving. */
struct served {
	uintptr_t addr;		/* count BREAKPOINTs here */
	int hits;
	int other_bp;
	int sigtrap;		/* SIGNAL events of SIGTRAP: stray */
	int vfork, vfree;
	pid_t vchild;
	bool exit_ok;		/* the victim may exit now: record it */
	bool exited;
	int status;
};

static void
tv_start(struct tv *t, int nthr)
{
	char a1[16];
	char *args[] = { a1, NULL };

	snprintf(a1, sizeof (a1), "%d", nthr);
	spawn_victim("trampv", args, &t->v);
	victim_ready(&t->v, t->line, sizeof (t->line));
	t->target = line_field(t->line, "target");
	t->target2 = line_field(t->line, "target2");
	t->block = line_field(t->line, "block");
	t->shrt = line_field(t->line, "short");
	t->shrt_in = line_field(t->line, "short_in");
	t->P = grab_ok(t->v.pid, 0);
}

/* The window at ADDR, decoded from the original text. */
static int
win_at(pt_proc_t *P, uintptr_t addr, int entry, arch_window_t *w)
{
	uint8_t text[64];

	CHECK_EQ_INT(pt_text_read(P, addr, text, sizeof (text)),
	    sizeof (text));
	return arch_window(text, sizeof (text), addr, entry, w);
}

static int
arm(pt_proc_t *P, uintptr_t addr, int flags)
{
	arch_window_t w;

	CHECK_PT(win_at(P, addr, 1, &w));
	CHECK_MSG(w.aw_refuse == NULL, "window at %#lx refused: %s",
	    (unsigned long)addr, w.aw_refuse);
	return pt_tramp_set(P, addr, &w, flags | PT_TRAMP_ENTRY);
}

static void
arm_ok(pt_proc_t *P, uintptr_t addr, int flags)
{
	int rv = arm(P, addr, flags);

	CHECK_MSG(rv == 0, "pt_tramp_set(%#lx): %s", (unsigned long)addr,
	    err_msg());
	CHECK_EQ_INT(pt_site_kind(P, addr), 1);
}

static void
serve_event(pt_proc_t *P, const pt_event_t *ev, struct served *s)
{
	if (ev->pe_kind == PT_EV_EXIT && s != NULL && s->exit_ok) {
		s->exited = true;
		s->status = ev->pe_status;
		return;
	}
	if (ev->pe_kind == PT_EV_EXIT)
		FAIL("victim exited: %s", wstatus_str(ev->pe_status));
	if (s != NULL && ev->pe_kind == PT_EV_BREAKPOINT) {
		if (ev->pe_addr == s->addr)
			s->hits++;
		else
			s->other_bp++;
	}
	if (s != NULL && ev->pe_kind == PT_EV_SIGNAL && ev->pe_sig == SIGTRAP)
		s->sigtrap++;
	if (s != NULL && ev->pe_kind == PT_EV_VFORK) {
		s->vfork++;
		s->vfree += ev->pe_free;
		s->vchild = ev->pe_child;
	}
	CHECK_PT(run_default(P, ev));
}

/* Serve P's events until V says a line starting with PREFIX. */
static char *
serve_until(pt_proc_t *P, struct victim *v, const char *prefix, char *line,
    size_t n, struct served *s)
{
	long t0 = now_ms();

	for (;;) {
		struct pollfd pfd = { .fd = v->out, .events = POLLIN };
		pt_event_t ev;

		while (pt_wait(P, &ev, 0) == 1)
			serve_event(P, &ev, s);
		if (poll(&pfd, 1, 2) == 1) {
			CHECK_MSG(victim_readline(v, line, n) >= 0,
			    "victim's output ended before \"%s\"", prefix);
			if (strncmp(line, prefix, strlen(prefix)) == 0)
				return line;
		}
		CHECK_MSG(now_ms() - t0 < 20000, "no \"%s\" from the victim",
		    prefix);
	}
}

static long
sum_c(long k)
{
	return 3 * (k * (k - 1) / 2) + 7 * k;
}

static void
check_counts(pt_proc_t *P, uintptr_t addr, uint64_t want_hits)
{
	uint64_t hits = ~0ULL, missed = ~0ULL;

	CHECK_PT(pt_tramp_count(P, addr, &hits, &missed));
	CHECK_EQ_INT(hits, want_hits);
	CHECK_EQ_INT(missed, 0);
}

/* Run "c K" (no stop expected: nothing serves events) and check it. */
static void
run_c(struct tv *t, long k)
{
	char cmd[32];

	snprintf(cmd, sizeof (cmd), "c %ld\n", k);
	victim_send(&t->v, cmd);
	victim_expect(&t->v, t->line, sizeof (t->line), "sum=");
	CHECK_EQ_INT(line_field(t->line, "sum"), sum_c(k));
}

TEST(tramp_count)
{
	struct tv t;
	const _Atomic uint64_t *c;

	tv_start(&t, 0);
	arm_ok(t.P, t.target, 0);
	CHECK_EQ_INT(pt_tramp_nsites(t.P), 1);
	CHECK_EQ_INT(pt_bkpt_count(t.P), 0);
	CHECK(text_matches_file(t.v.pid, t.target, 16) == 0);
	/* the program sees its own text through pt_text_read */
	uint8_t seen[16];
	CHECK_EQ_INT(pt_text_read(t.P, t.target, seen, 16), 16);
	for (int i = 0; i < 16; i++)
		CHECK_EQ_INT(seen[i], file_byte_at(t.v.pid, t.target + i));
	CHECK_PT(pt_resume(t.P));
	run_c(&t, 1000);
	check_counts(t.P, t.target, 1000);
	c = pt_tramp_counters(t.P, t.target);
	CHECK(c != NULL && c[0] == 1000);
	run_c(&t, 500);
	check_counts(t.P, t.target, 1500);
	CHECK(c[0] == 1500);
	/* a second user: one site, removed at the last delete */
	arm_ok(t.P, t.target, 0);
	CHECK_PT(pt_tramp_del(t.P, t.target, 0));
	CHECK_EQ_INT(pt_site_kind(t.P, t.target), 1);
	CHECK_PT(pt_tramp_del(t.P, t.target, 0));
	CHECK_EQ_INT(pt_site_kind(t.P, t.target), -ENOENT);
	CHECK_EQ_INT(pt_tramp_nsites(t.P), 0);
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.target, 16), 1);
	CHECK_EQ_INT(pt_tramp_count(t.P, t.target, &(uint64_t){0},
	    &(uint64_t){0}), -ENOENT);
	run_c(&t, 10);
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	victim_quit(&t.v);
}

/* The BREAKPOINT of one "c 1", its registers by RD, the thread let go. */
static void
one_hit(struct tv *t, int (*rd)(pt_proc_t *, pid_t, arch_regs_t *),
    arch_regs_t *r)
{
	pt_event_t ev;

	victim_send(&t->v, "c 1\n");
	wait_for_event(t->P, PT_EV_BREAKPOINT, &ev, NULL, 10);
	CHECK_EQ_INT(ev.pe_addr, t->target);
	CHECK_PT(rd(t->P, ev.pe_tid, r));
	CHECK_PT(run_default(t->P, &ev));
	victim_expect(&t->v, t->line, sizeof (t->line), "sum=");
	CHECK_EQ_INT(line_field(t->line, "sum"), 7);
}

TEST(tramp_trap_regs)
{
	arch_regs_t r3, rt;
	struct tv t;

	tv_start(&t, 0);
	CHECK_PT(pt_bkpt_set(t.P, t.target));
	CHECK_PT(pt_resume(t.P));
	one_hit(&t, pt_regs_get, &r3);
	CHECK_PT(pt_bkpt_del(t.P, t.target));

	arm_ok(t.P, t.target, PT_TRAMP_TRAP);
	one_hit(&t, pt_regs_site, &rt);
	CHECK_EQ_INT(arch_pc(&rt), t.target);
	CHECK_EQ_INT(arch_sp(&rt), arch_sp(&r3));
	CHECK_EQ_INT(arch_fp(&rt), arch_fp(&r3));
	for (int i = 0; i < 2; i++)
		CHECK_EQ_INT(arch_arg(&rt, i), arch_arg(&r3, i));
	check_counts(t.P, t.target, 1);
	CHECK_PT(pt_tramp_del(t.P, t.target, PT_TRAMP_TRAP));
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.target, 16), 1);

	/* an int3 site converted: its user stays, the trap user goes */
	CHECK_PT(pt_bkpt_set(t.P, t.target));
	arm_ok(t.P, t.target, PT_TRAMP_TRAP);
	CHECK_EQ_INT(pt_bkpt_count(t.P), 0);
	CHECK_PT(pt_tramp_del(t.P, t.target, PT_TRAMP_TRAP));
	CHECK_EQ_INT(pt_site_kind(t.P, t.target), 1);
	one_hit(&t, pt_regs_site, &rt);
	CHECK_EQ_INT(arch_sp(&rt), arch_sp(&r3));
	/* a counting user added and the trap user gone: no stop left */
	arm_ok(t.P, t.target, 0);
	CHECK_PT(pt_bkpt_del(t.P, t.target));
	run_c(&t, 100);
	check_counts(t.P, t.target, 1 + 100);
	/* a counting user of an int3 site: refused, the int3 stays */
	CHECK_PT(pt_tramp_del(t.P, t.target, 0));
	CHECK_PT(pt_bkpt_set(t.P, t.target));
	CHECK_EQ_INT(arm(t.P, t.target, 0), -EEXIST);
	CHECK_PT(pt_bkpt_del(t.P, t.target));
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.target, 16), 1);
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	victim_quit(&t.v);
}

TEST_TIMEOUT(tramp_threads_churn, 120)
{
	struct served s = { 0 };
	struct run_counts c;
	uint64_t total = 0;
	int busy = 0;
	struct tv t;
	pt_event_t ev;
	int st;

	tv_start(&t, 8);
	CHECK_PT(pt_resume(t.P));
	victim_send(&t.v, "busy\n");
	serve_until(t.P, &t.v, "busy started", t.line, sizeof (t.line), &s);
	for (int i = 0; i < 1000; i++) {
		uint64_t hits, missed;
		int rv, tries = 0;

		/* a thread inside the window: it runs on, we try again */
		while ((rv = arm(t.P, t.target, 0)) == -EBUSY && ++tries < 1000)
			busy++;
		CHECK_MSG(rv == 0, "pt_tramp_set: %s", err_msg());
		while (pt_wait(t.P, &ev, 0) == 1)
			serve_event(t.P, &ev, &s);
		CHECK_PT(pt_tramp_count(t.P, t.target, &hits, &missed));
		CHECK_PT(pt_tramp_del(t.P, t.target, 0));
		total += hits;
	}
	CHECK_EQ_INT(pt_tramp_nsites(t.P), 0);
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.target, 16), 1);
	/* its last line and its exit race: either may come first */
	s.exit_ok = true;
	victim_send(&t.v, "q\n");
	serve_until(t.P, &t.v, "busy calls=", t.line, sizeof (t.line), &s);
	CHECK_EQ_INT(line_field(t.line, "bad"), 0);
	CHECK_MSG(total <= line_field(t.line, "calls"),
	    "%llu hits counted, %llu calls", (unsigned long long)total,
	    line_field(t.line, "calls"));
	tinfo("%llu hits counted in the armed intervals of %llu calls; "
	    "%d tries found a thread in the window\n",
	    (unsigned long long)total, line_field(t.line, "calls"), busy);
	CHECK_EQ_INT(s.sigtrap, 0);
	/* its exit status comes to us, the tracer and its parent */
	st = s.exited ? s.status : run_checked(t.P, &c);
	CHECK_EXITED(st, 0);
	pt_release(t.P, PT_RELEASE_RUN);
}

TEST(tramp_signal)
{
	struct served s = { 0 };
	struct tv t;

	tv_start(&t, 0);
	arm_ok(t.P, t.target, 0);
	CHECK_PT(pt_resume(t.P));
	victim_send(&t.v, "s 200000\n");
	serve_until(t.P, &t.v, "sig calls=", t.line, sizeof (t.line), &s);
	CHECK_EQ_INT(line_field(t.line, "bad"), 0);
	CHECK(line_field(t.line, "handled") >= 50);
	check_counts(t.P, t.target, line_field(t.line, "calls"));
	CHECK_EQ_INT(s.sigtrap, 0);

	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	victim_quit(&t.v);
}

/*
 * The same through a trap site: every call stops, and SIGUSR1 often
 * arrives while the thread stands at the gate's stop point (or in it),
 * so its handler's frame lies below the trampoline's and the handler's
 * own call stops in the same trampoline again.  Every call is a hit,
 * exactly; nothing hangs; results are right.
 */
TEST_TIMEOUT(tramp_signal_trap, 120)
{
	struct served s = { 0 };
	struct tv t;
	int rounds = 0;

	tv_start(&t, 0);
	arm_ok(t.P, t.target, PT_TRAMP_TRAP);
	CHECK_PT(pt_resume(t.P));
	s.addr = t.target;
	for (int i = 0; i < 5; i++, rounds++) {
		uint64_t hits, missed;

		s.hits = 0;
		victim_send(&t.v, "s 2000\n");
		serve_until(t.P, &t.v, "sig calls=", t.line, sizeof (t.line),
		    &s);
		CHECK_EQ_INT(line_field(t.line, "bad"), 0);
		CHECK(line_field(t.line, "handled") >= 50);
		CHECK_EQ_INT(s.hits, line_field(t.line, "calls"));
		CHECK_PT(pt_tramp_count(t.P, t.target, &hits, &missed));
		CHECK_EQ_INT(missed, 0);
	}
	tinfo("%d rounds of %d+ calls, the last with %llu signals", rounds,
	    2000, line_field(t.line, "handled"));
	CHECK_EQ_INT(s.sigtrap, 0);
	CHECK_EQ_INT(s.other_bp, 0);
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	victim_quit(&t.v);
}

TEST(tramp_busy)
{
	static const int nrs[] = { SYS_read, -1 };
	arch_window_t w;
	struct tv t;
	int rv;

	tv_start(&t, 0);
	CHECK_PT(pt_resume(t.P));
	victim_send(&t.v, "b\n");
	victim_expect(&t.v, t.line, sizeof (t.line), "blocking");
	wait_in_syscall(t.v.pid, 0, nrs, 0, 5000);
	CHECK_PT(win_at(t.P, t.block, 1, &w));
	tinfo("window at tr_block: %d bytes, %s\n", w.aw_len,
	    w.aw_refuse ? w.aw_refuse : "relocatable");
	/* refused for the thread, whatever the decoder thinks of it: the
	   system call is the 2nd instruction, the ret and padding follow */
	w.aw_refuse = NULL;
	if (w.aw_len < ARCH_JMP_LEN)
		w.aw_len = ARCH_JMP_LEN;
	rv = pt_tramp_set(t.P, t.block, &w, PT_TRAMP_ENTRY);
	CHECK_EQ_INT(rv, -EBUSY);
	CHECK_CONTAINS(err_msg(), "thread");
	CHECK_EQ_INT(pt_site_kind(t.P, t.block), -ENOENT);
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.block, 5), 1);
	victim_send(&t.v, "x\n");
	victim_expect(&t.v, t.line, sizeof (t.line), "unblocked");
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	victim_quit(&t.v);
}

TEST(tramp_fork)
{
	struct served s = { 0 };
	char line[256];
	struct tv t;
	pid_t child;

	tv_start(&t, 0);
	arm_ok(t.P, t.target, 0);
	CHECK_PT(pt_resume(t.P));
	victim_send(&t.v, "f 100\n");
	serve_until(t.P, &t.v, "child pid=", line, sizeof (line), &s);
	child = (pid_t)line_field(line, "pid");
	CHECK_EQ_INT(line_field(line, "sum"), sum_c(100));
	/* the child's text is the file's; ours still holds the jump */
	CHECK_EQ_INT(text_matches_file(child, t.target, 16), 1);
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.target, 16), 0);
	CHECK_EQ_INT(proc_tracer(child, 0), 0);
	victim_send(&t.v, "q\n");
	serve_until(t.P, &t.v, "child_exit=", line, sizeof (line), &s);
	CHECK_EQ_INT(line_field(line, "child_exit"), 0);
	check_counts(t.P, t.target, 0);
	run_c(&t, 10);
	check_counts(t.P, t.target, 10);
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	victim_quit(&t.v);
}

TEST(tramp_exec)
{
	struct tv t;
	pt_event_t ev;

	tv_start(&t, 0);
	arm_ok(t.P, t.target, 0);
	arm_ok(t.P, t.target2, PT_TRAMP_TRAP);
	CHECK_PT(pt_resume(t.P));
	run_c(&t, 10);
	victim_send(&t.v, "e\n");
	wait_for_event(t.P, PT_EV_EXEC, &ev, NULL, 10);
	CHECK_EQ_INT(pt_tramp_nsites(t.P), 0);
	CHECK_EQ_INT(pt_site_kind(t.P, t.target), -ENOENT);
	CHECK(pt_tramp_counters(t.P, t.target) == NULL);
	CHECK_PT(run_default(t.P, &ev));
	victim_ready(&t.v, t.line, sizeof (t.line));
	t.target = line_field(t.line, "target");
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.target, 16), 1);
	/* the new image is patched anew */
	arm_ok(t.P, t.target, 0);
	run_c(&t, 20);
	check_counts(t.P, t.target, 20);
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	victim_quit(&t.v);
}

TEST(tramp_dlclose)
{
	const char *lib = build_file("libs/libprobelib.so", R_OK,
	    "test library");
	uintptr_t fn, *gone = NULL;
	char cmd[4200];
	struct tv t;
	int ngone;

	tv_start(&t, 0);
	CHECK_PT(pt_resume(t.P));
	snprintf(cmd, sizeof (cmd), "d %s 50\n", lib);
	victim_send(&t.v, cmd);
	victim_expect(&t.v, t.line, sizeof (t.line), "lib fn=");
	fn = line_field(t.line, "fn");
	arm_ok(t.P, fn, 0);
	victim_send(&t.v, "g\n");
	victim_expect(&t.v, t.line, sizeof (t.line), "lsum=");
	CHECK_EQ_INT(line_field(t.line, "lsum"), 3 * (50 * 49 / 2) + 50);
	check_counts(t.P, fn, 50);
	victim_send(&t.v, "g\n");
	victim_expect(&t.v, t.line, sizeof (t.line), "closed");
	CHECK_PT(pt_bkpt_prune(t.P, &gone, &ngone));
	CHECK_EQ_INT(ngone, 1);
	CHECK_EQ_INT(gone[0], fn);
	free(gone);
	CHECK_EQ_INT(pt_tramp_nsites(t.P), 0);
	CHECK_EQ_INT(pt_site_kind(t.P, fn), -ENOENT);
	/* and again: a new library, a new site */
	victim_send(&t.v, cmd);
	victim_expect(&t.v, t.line, sizeof (t.line), "lib fn=");
	fn = line_field(t.line, "fn");
	arm_ok(t.P, fn, 0);
	victim_send(&t.v, "g\n");
	victim_expect(&t.v, t.line, sizeof (t.line), "lsum=");
	check_counts(t.P, fn, 50);
	victim_send(&t.v, "g\n");
	victim_expect(&t.v, t.line, sizeof (t.line), "closed");
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	victim_quit(&t.v);
}

/*
 * Our scratch areas in PID: named so, or (a kernel without anon names)
 * anonymous r-x memory whose first bytes are the name.
 */
static int
xol_areas(pid_t pid)
{
	pt_map_t *maps;
	size_t n;
	int k = 0;

	CHECK_EQ_INT(pt_maps_read(pid, &maps, &n), 0);
	for (size_t i = 0; i < n; i++) {
		const pt_map_t *m = &maps[i];
		char head[16] = "";

		if (strcmp(m->pm_path, "[anon:dtproc-xol]") == 0 ||
		    (m->pm_path[0] == '\0' && m->pm_inode == 0 &&
		    (m->pm_prot & PROT_EXEC) &&
		    proc_mem_read(pid, m->pm_start, head, 11) == 11 &&
		    memcmp(head, "dtproc-xol", 11) == 0))
			k++;
	}
	pt_maps_free(maps, n);
	return k;
}

/* Does PID's maps name NEEDLE? */
static int
maps_have(pid_t pid, const char *needle)
{
	static char buf[1 << 20];
	char path[64];

	snprintf(path, sizeof (path), "/proc/%d/maps", (int)pid);
	CHECK(read_file(path, buf, sizeof (buf)) > 0);
	return strstr(buf, needle) != NULL;
}

TEST(tramp_release)
{
	struct served s = { 0 };
	struct tv t;

	tv_start(&t, 0);
	arm_ok(t.P, t.target, 0);
	arm_ok(t.P, t.target2, PT_TRAMP_TRAP);
	CHECK(xol_areas(t.v.pid) > 0);
	CHECK(maps_have(t.v.pid, "memfd:"));
	CHECK_PT(pt_resume(t.P));
	run_c(&t, 10);
	s.addr = t.target2;
	victim_send(&t.v, "t 3\n");
	serve_until(t.P, &t.v, "sum2=", t.line, sizeof (t.line), &s);
	CHECK_EQ_INT(s.hits, 3);
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	CHECK_EQ_INT(xol_areas(t.v.pid), 0);
	CHECK(!maps_have(t.v.pid, "memfd:"));
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.target, 16), 1);
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.target2, 16), 1);
	check_threads_released(t.v.pid);
	run_c(&t, 100);
	victim_send(&t.v, "t 3\n");
	victim_expect(&t.v, t.line, sizeof (t.line), "sum2=");
	victim_quit(&t.v);
}

/*
 * A tracer in its own process: grabs PID, arms a counting site at A and,
 * if B, a trap site at B, says so on FD, serves events until killed.
 */
static _Noreturn void
tracer(pid_t pid, uintptr_t a, uintptr_t b, int fd)
{
	pt_proc_t *P;
	pt_event_t ev;
	int rv;

	if (pt_grab(pid, 0, &P) != 0 || pt_resume(P) != 0)
		_exit(2);
	/* running, so that a thread found in a window moves on */
	for (int armed = 0; armed < (b != 0 ? 2 : 1); ) {
		rv = arm(P, armed ? b : a, armed ? PT_TRAMP_TRAP : 0);
		if (rv == 0)
			armed++;
		else if (rv != -EBUSY)
			_exit(3);
		while (pt_wait(P, &ev, 0) == 1)
			if (run_default(P, &ev) != 0)
				_exit(4);
	}
	(void) write(fd, "a", 1);
	for (;;) {
		if (pt_wait(P, &ev, 1) == 1 && run_default(P, &ev) != 0)
			_exit(5);
	}
}

/*
 * One run: a busy victim (4 workers), a tracer armed (a trap site too
 * if TRAP), SIGKILLed after a random delay; the victim is then told to
 * finish.  Its wait status.
 */
static int
death_run(int trap)
{
	struct timespec d = { 0, (long)(rand() % 20000) * 1000 };
	struct victim v;
	char line[256], a;
	uintptr_t ta, tb;
	int p[2], st;
	pid_t tp;

	spawn_victim("trampv", (char *[]){ "4", NULL }, &v);
	victim_ready(&v, line, sizeof (line));
	ta = line_field(line, "target");
	tb = trap ? line_field(line, "target2") : 0;
	victim_send(&v, "busy\n");
	victim_expect(&v, line, sizeof (line), "busy started");
	CHECK(pipe(p) == 0);
	if ((tp = fork()) == 0) {
		close(p[0]);
		tracer(v.pid, ta, tb, p[1]);
	}
	close(p[1]);
	CHECK_MSG(read(p[0], &a, 1) == 1, "the tracer failed");
	close(p[0]);
	/* a random moment, on purpose (not a wait for anything): hits
	   (and stops) are being taken all along */
	nanosleep(&d, NULL);
	kill(tp, SIGKILL);
	CHECK(waitpid(tp, &st, 0) == tp);
	/* it may be dead already: no SIGPIPE for us (ignored) */
	(void) write(v.in, "q\n", 2);
	st = victim_wait(&v);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		victim_expect(&v, line, sizeof (line), "busy calls=");
		CHECK_EQ_INT(line_field(line, "bad"), 0);
	}
	victim_close(&v);
	return st;
}

/*
 * A trap stop the tracer has not collected yet (waitpid) still holds
 * its signal as the stop's: the kernel delivers it when the tracer dies.
 * With int3 gates that was SIGTRAP, and the victim died in nearly every
 * run (25 of 25 here); a gate's SIGURG is ignored.  Four threads take
 * traps all along, so a stop is nearly always in flight when the tracer
 * is killed: every victim must finish, right.  Counting-only runs too.
 */
TEST_TIMEOUT(tramp_tracer_death, 300)
{
	struct timespec ts;

	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	srand((unsigned)ts.tv_nsec);
	for (int i = 0; i < 60; i++) {
		int trap = i % 6 != 5, st = death_run(trap);

		CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "run %d (%s): victim %s", i, trap ? "trap" : "counting",
		    wstatus_str(st));
	}
}

TEST(tramp_vfork)
{
	struct served s = { 0 };
	char line[256];
	struct tv t;

	tv_start(&t, 0);
	arm_ok(t.P, t.target, 0);
	CHECK_PT(pt_resume(t.P));
	victim_send(&t.v, "v\n");
	serve_until(t.P, &t.v, "vchild", line, sizeof (line), &s);
	CHECK_EQ_INT(line_field(line, "tracer"), 0);
	CHECK_EQ_INT(line_field(line, "traceme"), 0);
	CHECK_EQ_INT(s.vfork, 1);
	CHECK_EQ_INT(s.vfree, 1);
	/* the child runs on our memory: no edit until it lets go */
	CHECK_EQ_INT(pt_tramp_del(t.P, t.target, 0), -EAGAIN);
	CHECK_CONTAINS(err_msg(), "vfork child");
	CHECK_EQ_INT(arm(t.P, t.target2, 0), -EAGAIN);
	CHECK_EQ_INT(pt_bkpt_set(t.P, t.target2), -EAGAIN);
	victim_send(&t.v, "x\n");
	serve_until(t.P, &t.v, "vfork_exit=", line, sizeof (line), &s);
	CHECK_EQ_INT(line_field(line, "vfork_exit"), 0);
	run_c(&t, 10);
	check_counts(t.P, t.target, 10);
	CHECK_PT(pt_tramp_del(t.P, t.target, 0));
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	victim_quit(&t.v);
}

/* The short window at ADDR (an entry), within LIMIT bytes. */
static void
short_win(pt_proc_t *P, uintptr_t addr, size_t limit, arch_window_t *w)
{
	uint8_t text[64];

	CHECK_EQ_INT(pt_text_read(P, addr, text, sizeof (text)),
	    sizeof (text));
	CHECK_PT(arch_window_short(text, sizeof (text), addr, 1, limit, w));
	CHECK_MSG(w->aw_refuse == NULL, "short window at %#lx refused: %s",
	    (unsigned long)addr, w->aw_refuse);
}

static void
run_m(struct tv *t, long k)
{
	char cmd[32];
	long want = 0;

	for (long i = 0; i < k; i++)
		want += (i + 7) + (i + 21);
	snprintf(cmd, sizeof (cmd), "m %ld\n", k);
	victim_send(&t->v, cmd);
	victim_expect(&t->v, t->line, sizeof (t->line), "msum=");
	CHECK_EQ_INT(line_field(t->line, "msum"), want);
}

TEST(tramp_short_pad)
{
	struct served s = { 0 };
	arch_window_t w, w2;
	uint8_t b[8], seen[64];
	char line[256];
	struct tv t;
	uintptr_t pad, lo;
	pid_t child;

	tv_start(&t, 0);
	short_win(t.P, t.shrt, ARCH_JMP_LEN - 1, &w);
	CHECK_EQ_INT(w.aw_len, 3);	/* mov %rdi,%rax: the target next */
	pad = t.shrt - 8;		/* in the nops before */
	lo = t.shrt - 40;
	CHECK_EQ_INT(pt_tramp_set_pad(t.P, t.shrt, &w, t.shrt - 200, 0),
	    -ERANGE);
	CHECK_EQ_INT(pt_site_kind(t.P, t.shrt), -ENOENT);
	CHECK_MSG(pt_tramp_set_pad(t.P, t.shrt, &w, pad, 0) == 0,
	    "pt_tramp_set_pad: %s", err_msg());
	CHECK_EQ_INT(pt_site_kind(t.P, t.shrt), 1);
	CHECK_EQ_INT(proc_mem_read(t.v.pid, t.shrt, b, 3), 3);
	CHECK_MSG(b[0] == 0xeb && (uintptr_t)(t.shrt + 2 + (int8_t)b[1]) ==
	    pad && b[2] == 0xcc, "short jump %02x %02x %02x", b[0], b[1],
	    b[2]);
	CHECK_EQ_INT(proc_mem_read(t.v.pid, pad, b, 1), 1);
	CHECK_MSG(b[0] == 0xe9, "pad starts with %#x", b[0]);
	/* the program's text as it sees it: nops and mov */
	CHECK_EQ_INT(pt_text_read(t.P, lo, seen, sizeof (seen)),
	    sizeof (seen));
	for (size_t i = 0; i < sizeof (seen); i++)
		CHECK_EQ_INT(seen[i], file_byte_at(t.v.pid, lo + i));
	/* tr_short_in's own short window: its pad meets ours, then not */
	short_win(t.P, t.shrt_in, ARCH_JMP_LEN - 1, &w2);
	CHECK_EQ_INT(pt_tramp_set_pad(t.P, t.shrt_in, &w2, pad + 2, 0),
	    -EADDRINUSE);
	CHECK_EQ_INT(pt_tramp_set_pad(t.P, t.shrt_in, &w2, pad - 5, 0), 0);
	CHECK_EQ_INT(pt_tramp_nsites(t.P), 2);
	CHECK_PT(pt_resume(t.P));
	run_m(&t, 1000);
	/* tr_short_in's calls enter past the window: not counted */
	check_counts(t.P, t.shrt, 1000);
	check_counts(t.P, t.shrt_in, 1000);
	/* a fork child: both regions the file's */
	victim_send(&t.v, "f 10\n");
	serve_until(t.P, &t.v, "child pid=", line, sizeof (line), &s);
	child = (pid_t)line_field(line, "pid");
	CHECK_EQ_INT(text_matches_file(child, t.shrt_in, 64), 1);
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.shrt_in, 64), 0);
	victim_send(&t.v, "q\n");
	serve_until(t.P, &t.v, "child_exit=", line, sizeof (line), &s);
	CHECK_EQ_INT(line_field(line, "child_exit"), 0);
	/* removal: the short jump and the pad */
	CHECK_PT(pt_tramp_del(t.P, t.shrt, 0));
	CHECK_EQ_INT(text_matches_file(t.v.pid, pad, t.shrt + 8 - pad), 1);
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.shrt_in, 64), 0);
	CHECK_PT(pt_tramp_del(t.P, t.shrt_in, 0));
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.shrt_in, 64), 1);
	run_m(&t, 10);
	/* again, then release */
	CHECK_EQ_INT(pt_tramp_set_pad(t.P, t.shrt, &w, pad, 0), 0);
	run_m(&t, 10);
	check_counts(t.P, t.shrt, 10);
	CHECK_PT(pt_release(t.P, PT_RELEASE_RUN));
	CHECK_EQ_INT(text_matches_file(t.v.pid, t.shrt_in, 64), 1);
	CHECK_EQ_INT(xol_areas(t.v.pid), 0);
	CHECK(!maps_have(t.v.pid, "memfd:"));
	run_m(&t, 10);
	victim_quit(&t.v);
}
