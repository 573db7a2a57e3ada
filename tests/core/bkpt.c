/*
 * bkpt.c - breakpoints: exact hit counts across threads, the original
 * text restored on delete and on release, double set, deletion while
 * hits are pending, bad addresses.
 */
#include "harness.h"

struct bp_ctx {
	uintptr_t addr;
	int hits;
	int delete_after;	/* delete the breakpoint at this hit, or 0 */
	int deleted;
	pid_t pid;
};

static int
bp_cb(pt_proc_t *P, const pt_event_t *ev, void *arg)
{
	struct bp_ctx *x = arg;

	if (!event_stopped(ev, PT_EV_BREAKPOINT))
		return RUN_DEFAULT;
	CHECK_EQ_INT(ev->pe_addr, x->addr);
	CHECK(ev->pe_tid > 0);
	x->hits++;
	if (x->delete_after > 0 && x->hits == x->delete_after) {
		CHECK_PT(pt_bkpt_del(P, x->addr));
		CHECK_EQ_INT(pt_bkpt_count(P), 0);
		x->deleted = 1;
	}
	if (x->deleted) {
		/* The original instruction is back: just go on. */
		int rc = pt_resume_thread(P, ev->pe_tid);

		CHECK_MSG(rc == 0 || rc == -ESRCH, "pt_resume_thread: %s",
		    strerror(-rc));
		return RUN_HANDLED;
	}
	return RUN_DEFAULT;
}

/* bp T K grabbed, before go; returns P, fills V and the address. */
static pt_proc_t *
bp_victim(int nthr, int iters, struct victim *v, uintptr_t *addr)
{
	char a1[16], a2[16], line[256];
	char *args[] = { a1, a2, NULL };
	pt_proc_t *P;

	snprintf(a1, sizeof (a1), "%d", nthr);
	snprintf(a2, sizeof (a2), "%d", iters);
	spawn_victim("bp", args, v);
	victim_ready(v, line, sizeof (line));
	*addr = line_field(line, "bp_target");
	P = grab_ok(v->pid, 0);
	CHECK_EQ_INT(pt_bkpt_count(P), 0);
	return P;
}

static void
check_sum(struct victim *v, long want)
{
	char line[256];

	victim_expect(v, line, sizeof (line), "sum=");
	CHECK_EQ_INT(line_field(line, "sum"), want);
}

/* Run to the exit counting hits; the victim must exit 0. */
static void
run_hits(pt_proc_t *P, struct victim *v, struct bp_ctx *x)
{
	struct run_counts c;
	int st;

	x->pid = v->pid;
	CHECK_PT(pt_resume(P));
	victim_go(v);
	st = run_events(P, &c, bp_cb, x);
	CHECK_RUN(st, &c);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(c.ev[PT_EV_SIGNAL], 0);
	CHECK_EQ_INT(c.ev[PT_EV_BREAKPOINT], x->hits);
}

TEST_TIMEOUT(bkpt_8_threads_1000_hits, 180)
{
	struct bp_ctx x = { 0 };
	struct victim v;
	pt_proc_t *P;

	P = bp_victim(8, 1000, &v, &x.addr);
	CHECK_PT(pt_bkpt_set(P, x.addr));
	CHECK_EQ_INT(pt_bkpt_count(P), 1);
	run_hits(P, &v, &x);
	CHECK_EQ_INT(x.hits, 8000);
	pt_release(P, PT_RELEASE_DEFAULT);
	check_sum(&v, 8L * 1000 * 1000);
}

TEST(bkpt_orig_and_delete)
{
	struct bp_ctx x = { 0 };
	struct victim v;
	unsigned char b;
	uint8_t orig;
	pt_proc_t *P;
	int fb;

	P = bp_victim(1, 10, &v, &x.addr);
	fb = file_byte_at(v.pid, x.addr);
	CHECK(fb >= 0);
	CHECK_EQ_INT(text_matches_file(v.pid, x.addr, 16), 1);

	CHECK_PT(pt_bkpt_set(P, x.addr));
	CHECK_EQ_INT(pt_bkpt_count(P), 1);
	CHECK_EQ_INT(proc_mem_read(v.pid, x.addr, &b, 1), 1);
	CHECK_EQ_INT(b, 0xcc);
	CHECK_PT(pt_bkpt_orig(P, x.addr, &orig));
	CHECK_EQ_INT(orig, fb);
	CHECK_EQ_INT(text_matches_file(v.pid, x.addr + 1, 15), 1);

	CHECK_PT(pt_bkpt_del(P, x.addr));
	CHECK_EQ_INT(pt_bkpt_count(P), 0);
	CHECK(pt_bkpt_orig(P, x.addr, &orig) < 0);
	CHECK(pt_bkpt_del(P, x.addr) < 0);
	CHECK_EQ_INT(text_matches_file(v.pid, x.addr, 16), 1);
	CHECK_EQ_INT(pt_state(P), PT_STOPPED);

	run_hits(P, &v, &x);
	CHECK_EQ_INT(x.hits, 0);
	pt_release(P, PT_RELEASE_DEFAULT);
	check_sum(&v, 100);
}

TEST(bkpt_set_twice)
{
	struct bp_ctx x = { 0 };
	struct victim v;
	uint8_t orig;
	pt_proc_t *P;
	int fb, rc;

	P = bp_victim(2, 10, &v, &x.addr);
	fb = file_byte_at(v.pid, x.addr);
	CHECK_PT(pt_bkpt_set(P, x.addr));
	rc = pt_bkpt_set(P, x.addr);	/* a second user, never a 2nd int3 */
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(pt_bkpt_count(P), 1);
	CHECK_PT(pt_bkpt_orig(P, x.addr, &orig));
	CHECK_EQ_INT(orig, fb);

	/* The first delete leaves the site to its other user... */
	CHECK_PT(pt_bkpt_del(P, x.addr));
	CHECK_EQ_INT(pt_bkpt_count(P), 1);
	CHECK_EQ_INT(pt_mem_read(P, x.addr, &orig, 1), 1);
	CHECK_EQ_INT(orig, 0xcc);
	/* ...the last one restores the text. */
	CHECK_PT(pt_bkpt_del(P, x.addr));
	CHECK_EQ_INT(pt_bkpt_count(P), 0);
	CHECK_EQ_INT(text_matches_file(v.pid, x.addr, 16), 1);

	/* And set twice again, it still counts every hit once. */
	CHECK_PT(pt_bkpt_set(P, x.addr));
	CHECK_PT(pt_bkpt_set(P, x.addr));
	run_hits(P, &v, &x);
	CHECK_EQ_INT(x.hits, 20);
	pt_release(P, PT_RELEASE_DEFAULT);
	check_sum(&v, 200);
}

TEST(bkpt_release_run_removes)
{
	struct bp_ctx x = { 0 };
	struct victim v;
	pt_proc_t *P;

	P = bp_victim(4, 100, &v, &x.addr);
	CHECK_PT(pt_bkpt_set(P, x.addr));
	CHECK_EQ_INT(text_matches_file(v.pid, x.addr, 16), 0);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	check_threads_released(v.pid);
	CHECK_EQ_INT(text_matches_file(v.pid, x.addr, 16), 1);
	victim_go(&v);
	check_sum(&v, 4L * 100 * 100);
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(bkpt_release_after_hits)
{
	struct bp_ctx x = { 0 };
	struct victim v;
	pt_event_t ev;
	pt_proc_t *P;
	int st;

	/* Released while threads sit on the breakpoint, hits pending. */
	P = bp_victim(4, 100, &v, &x.addr);
	CHECK_PT(pt_bkpt_set(P, x.addr));
	CHECK_PT(pt_resume(P));
	victim_go(&v);
	wait_for_event(P, PT_EV_BREAKPOINT, &ev, NULL, 20);
	CHECK_EQ_INT(ev.pe_addr, x.addr);
	/* It runs on at once (and may be gone before we could look at its
	   text): an int3 left behind would kill it with SIGTRAP. */
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	check_sum(&v, 4L * 100 * 100);
	st = victim_wait(&v);
	CHECK_EXITED(st, 0);
}

TEST_TIMEOUT(bkpt_delete_while_hit, 120)
{
	struct bp_ctx x = { 0 };
	struct victim v;
	pt_proc_t *P;

	P = bp_victim(4, 1000, &v, &x.addr);
	CHECK_PT(pt_bkpt_set(P, x.addr));
	x.delete_after = 300;
	run_hits(P, &v, &x);
	/* Traps taken before the delete may still be reported, at most
	   one per thread; none after. */
	CHECK_MSG(x.hits >= 300 && x.hits <= 304, "%d hits", x.hits);
	pt_release(P, PT_RELEASE_DEFAULT);
	check_sum(&v, 4L * 1000 * 1000);
}

TEST(bkpt_set_while_running)
{
	struct bp_ctx x = { 0 };
	struct run_counts c;
	struct victim v;
	pt_proc_t *P;
	pid_t tids[16];
	int n, st;

	/* Set and delete stop the threads around the edit, then let
	   them run again. */
	P = bp_victim(2, 100, &v, &x.addr);
	CHECK_PT(pt_resume(P));
	CHECK_EQ_INT(pt_state(P), PT_RUNNING);
	CHECK_PT(pt_bkpt_set(P, x.addr));
	CHECK_EQ_INT(pt_state(P), PT_RUNNING);
	n = proc_tasks(v.pid, tids, 16);
	CHECK_EQ_INT(n, 3);
	for (int i = 0; i < n; i++)
		CHECK(proc_state(v.pid, tids[i]) != 't');
	victim_go(&v);
	st = run_events(P, &c, bp_cb, &x);
	CHECK_RUN(st, &c);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(x.hits, 200);
	pt_release(P, PT_RELEASE_DEFAULT);
	check_sum(&v, 2L * 100 * 100);
}

TEST(bkpt_pc_rewound)
{
	arch_regs_t regs;
	struct bp_ctx x = { 0 };
	struct victim v;
	pt_event_t ev;
	pt_proc_t *P;

	P = bp_victim(1, 3, &v, &x.addr);
	CHECK_PT(pt_bkpt_set(P, x.addr));
	CHECK_PT(pt_resume(P));
	victim_go(&v);
	for (int i = 0; i < 3; i++) {
		wait_for_event(P, PT_EV_BREAKPOINT, &ev, NULL, 10);
		CHECK(ev.pe_tid != v.pid);	/* a worker thread */
		CHECK_EQ_INT(proc_state(v.pid, ev.pe_tid), 't');
		CHECK_PT(pt_regs_get(P, ev.pe_tid, &regs));
		CHECK_EQ_INT(regs.rip, x.addr);
		CHECK_PT(pt_bkpt_step(P, ev.pe_tid));
		CHECK_PT(pt_regs_get(P, ev.pe_tid, &regs));
		CHECK_MSG(regs.rip != x.addr, "pt_bkpt_step did not move pc");
		CHECK_EQ_INT(proc_state(v.pid, ev.pe_tid), 't');
		CHECK_PT(pt_resume_thread(P, ev.pe_tid));
	}
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	check_sum(&v, 9);
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(bkpt_bad_address)
{
	struct victim v;
	uintptr_t addr;
	pt_proc_t *P;

	P = bp_victim(1, 1, &v, &addr);
	CHECK(pt_bkpt_set(P, 0) < 0);
	CHECK(pt_bkpt_set(P, 8) < 0);
	CHECK(err_msg()[0] != 0);
	CHECK_EQ_INT(pt_bkpt_count(P), 0);
	CHECK(pt_bkpt_del(P, addr) < 0);
	CHECK_EQ_INT(text_matches_file(v.pid, addr, 16), 1);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_go(&v);
	check_sum(&v, 1);
	CHECK_EXITED(victim_wait(&v), 0);
}
