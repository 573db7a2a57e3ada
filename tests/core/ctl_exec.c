/*
 * ctl_exec.c - exec and the family: a handle follows its process into a
 * new image (from the main thread or another), breakpoints go with the
 * old image, and children made by fork, vfork and posix_spawn run clean
 * of the parent's breakpoints and untraced.
 */
#include "ctlsupport.h"

TEST(ctl_exec_keeps_handle)
{
	CTL_LOCALS;
	struct hits h1, h2;
	uintptr_t t1, t2;
	dtproc_sym_t s;

	pr = create_ok(dtp, "ctlv", (char *[]){ "exec",
	    (char *)victim_path("bp"), "2", "10", NULL }, DTPROC_STOP_MAIN,
	    &v);
	t1 = sym_addr(dtp, pr, "a.out`ctl_target");
	hits_init(&h1, dtp, pr, t1);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, t1, hit_cb, &h1), 0);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "exec");
	CHECK_EQ_INT(atomic_load(&h1.n), 1);
	/* the new image: same pid, same handle */
	victim_ready(&v, line, sizeof (line));
	t2 = line_field(line, "bp_target");
	CHECK(grab_ctl(dtp, v.pid, 0) == pr);
	dtproc_release(dtp, pr);
	CHECK_EQ_INT(dtproc_pid(pr), v.pid);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_RUN);
	/* lookups see the new image, not the old */
	CHECK_EQ_INT(sym_addr(dtp, pr, "a.out`bp_target"), t2);
	CHECK(dtproc_sym_lookup(dtp, pr, "a.out`ctl_target", &s) < 0);
	CHECK_EQ_INT(read_byte(dtp, pr, t2), file_byte_at(v.pid, t2));
	/* breakpoints went with the old image */
	CHECK(dtproc_bkpt_del(dtp, pr, t1) < 0);
	hits_init(&h2, dtp, pr, t2);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, t2, hit_cb, &h2), 0);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "sum=");
	CHECK_EQ_INT(line_field(line, "sum"), 200);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT(atomic_load(&h1.n), 1);
	CHECK_EQ_INT(atomic_load(&h2.n), 20);
	CHECK_EQ_INT(atomic_load(&h1.bad) + atomic_load(&h2.bad), 0);
	dtproc_close(dtp);
}

static void
forker(const char *mode, int child_go, const char *child_want)
{
	char line[256];
	struct notes ns = { 0 };
	struct hits h;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t addr;

	spawn_ready("forker", (char *[]){ (char *)mode, NULL }, &v, line,
	    sizeof (line));
	addr = line_field(line, "bp_target");
	pr = grab_ctl(dtp, v.pid, 0);
	hits_init(&h, dtp, pr, addr);
	h.only_tid = v.pid;
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, addr, hit_cb, &h), 0);
	dtproc_continue(dtp, pr);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "child=");
	if (child_go) {
		pid_t child = (pid_t)line_field(line, "child");

		/* waiting for its go line: untraced, its text clean (for
		   spawn: a new image, the parent's sites never in it) */
		CHECK_EQ_INT(proc_tracer(child, 0), 0);
		if (strcmp(mode, "fork") == 0) {
			CHECK_EQ_INT(mem_byte(child, addr),
			    file_byte_at(v.pid, addr));
			CHECK_EQ_INT(mem_byte(v.pid, addr), 0xcc);
		}
		victim_go(&v);
	}
	victim_expect(&v, line, sizeof (line), "child_");
	CHECK_STR_EQ(line, child_want);
	victim_expect_eq(&v, "parent_ok=", "parent_ok=1");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	/* the parent's two calls, never the child's */
	CHECK_HITS(&h, 2);
	dtproc_close(dtp);
}

TEST(ctl_fork_child_clean)
{
	forker("fork", 1, "child_exit=42");
}

TEST(ctl_vfork_child_clean)
{
	forker("vfork", 0, "child_exit=43");
}

TEST(ctl_spawn_child_clean)
{
	forker("spawn", 1, "child_exit=44");
}

TEST(ctl_exec_from_thread)
{
	CTL_LOCALS;

	/* a non-leader thread execs while two others block: the handle
	   follows the new image and sees its exit */
	pr = create_ok(dtp, "execer", (char *[]){ "thread", NULL },
	    DTPROC_STOP_MAIN, &v);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "exec_tid=");
	expect_within(&v, line, sizeof (line), "final ", 10000,
	    "the new image does not run");
	CHECK_EQ_INT(line_field(line, "pid"), v.pid);
	close_dead(dtp, pr, &ns, 0);
}
