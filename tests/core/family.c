/*
 * family.c - fork, vfork, posix_spawn, threads and exec under tracing:
 * the events, their pids, and children that come out unharmed (untraced,
 * no breakpoint left in their text, their own exit status).
 */
#include "harness.h"

#include <limits.h>

#define CREATE_OK(rc, err) \
	CHECK_MSG((rc) == 0, "pt_create: %d: %s", (rc), err_msg())

struct fork_ctx {
	struct victim *v;
	pid_t pid;		/* the forker */
	pid_t child;		/* from the FORK/VFORK event */
	uintptr_t bp;		/* breakpoint address, or 0 */
	int parent_hits, child_hits;
	int vfork_done_tid_ok;
	struct run_counts c;	/* the run's events */
};

static int
fork_cb(pt_proc_t *P, const pt_event_t *ev, void *arg)
{
	struct fork_ctx *x = arg;
	unsigned char b;

	(void)P;
	switch (ev->pe_kind) {
	case PT_EV_FORK:
	case PT_EV_VFORK:
		CHECK_EQ_INT(ev->pe_tid, x->pid);
		CHECK(ev->pe_stopped);
		CHECK(ev->pe_child > 0 && ev->pe_child != x->pid);
		x->child = ev->pe_child;
		if (ev->pe_kind != PT_EV_FORK)
			break;
		/* A fork child is let go clean before we hear of it. */
		CHECK_EQ_INT(proc_tracer(x->child, 0), 0);
		CHECK(proc_state(x->child, 0) != 't');
		if (x->bp != 0) {
			CHECK_EQ_INT(proc_mem_read(x->child, x->bp, &b, 1), 1);
			CHECK_MSG(b != 0xcc, "int3 left in the fork child");
			CHECK_EQ_INT(b, file_byte_at(x->child, x->bp));
		}
		victim_go(x->v);	/* the child's go line */
		break;
	case PT_EV_VFORK_DONE:
		x->vfork_done_tid_ok = ev->pe_tid == x->pid;
		break;
	case PT_EV_BREAKPOINT:
		CHECK_EQ_INT(ev->pe_addr, x->bp);
		if (ev->pe_tid == x->pid)
			x->parent_hits++;
		else if (ev->pe_tid == x->child)
			x->child_hits++;
		else
			FAIL("breakpoint hit by unknown tid %d",
			    (int)ev->pe_tid);
		break;
	default:
		break;
	}
	return RUN_DEFAULT;
}

/*
 * forker MODE, grabbed, optionally with a breakpoint on bp_target: the
 * child must end with status WANT and the parent exit 0.
 */
static struct fork_ctx *
forker_run(const char *mode, int want, int with_bp)
{
	static struct fork_ctx ctx;
	struct fork_ctx *x = &ctx;
	struct run_counts *c = &x->c;
	char *args[] = { (char *)mode, NULL };
	char line[256], exp[64];
	struct victim v;
	pt_proc_t *P;
	int st;

	memset(x, 0, sizeof (*x));
	spawn_ready("forker", args, &v, line, sizeof (line));
	x->v = &v;
	x->pid = v.pid;
	P = grab_ok(v.pid, 0);
	if (with_bp) {
		x->bp = line_field(line, "bp_target");
		CHECK_PT(pt_bkpt_set(P, x->bp));
	}
	CHECK_PT(pt_resume(P));
	victim_go(&v);
	if (strcmp(mode, "spawn") == 0)
		victim_go(&v);		/* read by the spawned child */
	st = run_events(P, c, fork_cb, x);
	CHECK_RUN(st, c);
	CHECK_EXITED(st, 0);
	pt_release(P, PT_RELEASE_DEFAULT);

	victim_expect(&v, line, sizeof (line), "child=");
	CHECK_EQ_INT(line_field(line, "child"), x->child);
	victim_expect(&v, line, sizeof (line), "child_");
	snprintf(exp, sizeof (exp), "child_exit=%d", want);
	CHECK_STR_EQ(line, exp);
	victim_expect_eq(&v, "parent_ok=", "parent_ok=1");
	if (with_bp)
		CHECK_EQ_INT(x->parent_hits, 2);
	CHECK_EQ_INT(c->ev[PT_EV_EXEC], 0);
	/* The only signal is the parent's SIGCHLD (if the child is ours). */
	CHECK_EQ_INT(c->ev[PT_EV_SIGNAL], c->sigs[SIGCHLD]);
	CHECK(c->sigs[SIGCHLD] <= 1);
	victim_close(&v);
	x->v = NULL;
	return x;
}

TEST(fam_fork)
{
	struct fork_ctx *x = forker_run("fork", 42, 0);

	CHECK_EQ_INT(x->c.ev[PT_EV_FORK], 1);
	CHECK_EQ_INT(x->c.ev[PT_EV_VFORK], 0);
}

TEST(fam_vfork)
{
	struct fork_ctx *x = forker_run("vfork", 43, 0);

	CHECK_EQ_INT(x->c.ev[PT_EV_VFORK], 1);
	CHECK_EQ_INT(x->c.ev[PT_EV_VFORK_DONE], 1);
	CHECK(x->vfork_done_tid_ok);
	CHECK_EQ_INT(x->c.ev[PT_EV_FORK], 0);
}

TEST(fam_posix_spawn)
{
	struct fork_ctx *x = forker_run("spawn", 44, 0);

	CHECK_EQ_INT(x->c.ev[PT_EV_VFORK], 1);
	CHECK_EQ_INT(x->c.ev[PT_EV_VFORK_DONE], 1);
	CHECK_EQ_INT(x->c.ev[PT_EV_FORK], 0);
}

TEST(fam_posix_spawn_true)
{
	struct fork_ctx *x = forker_run("spawn_true", 0, 0);

	CHECK_EQ_INT(x->c.ev[PT_EV_VFORK] + x->c.ev[PT_EV_FORK], 1);
}

TEST(fam_fork_breakpoint)
{
	struct fork_ctx *x = forker_run("fork", 42, 1);

	/* The child calls bp_target() too: no SIGTRAP, status 42. */
	CHECK_EQ_INT(x->child_hits, 0);
	CHECK_EQ_INT(x->c.ev[PT_EV_BREAKPOINT], 2);
}

TEST(fam_vfork_breakpoint)
{
	struct fork_ctx *x = forker_run("vfork", 43, 1);

	/* The vfork child shares the text, int3 included: it may be
	   reported (it is our guest) but must not die of it. */
	CHECK(x->child_hits <= 1);
}

TEST(fam_spawn_breakpoint)
{
	struct fork_ctx *x = forker_run("spawn", 44, 1);

	CHECK(x->child_hits <= 1);
}

static int
threads_cb(pt_proc_t *P, const pt_event_t *ev, void *arg)
{
	int *bad = arg;

	if (ev->pe_kind == PT_EV_THREAD_NEW &&
	    (ev->pe_tid != pt_pid(P) || ev->pe_child <= 0 ||
	    ev->pe_child == pt_pid(P)))
		(*bad)++;
	return RUN_DEFAULT;
}

TEST(fam_threads_created)
{
	struct run_counts c;
	struct victim v;
	pt_proc_t *P;
	int st, bad = 0;

	P = create_ok_victim("threads", (char *[]){ "16", NULL }, NULL, NULL,
	    &v);
	victim_go(&v);		/* read once the threads are up */
	CHECK_PT(pt_resume(P));
	st = run_events(P, &c, threads_cb, &bad);
	CHECK_RUN(st, &c);
	CHECK_EXITED(st, 0);
	pt_release(P, PT_RELEASE_DEFAULT);
	CHECK_EQ_INT(c.ev[PT_EV_THREAD_NEW], 16);
	CHECK_EQ_INT(bad, 0);
	CHECK_MSG(c.ev[PT_EV_THREAD_EXIT] >= 16 &&
	    c.ev[PT_EV_THREAD_EXIT] <= 17, "%d THREAD_EXIT events",
	    c.ev[PT_EV_THREAD_EXIT]);
	victim_expect_eq(&v, "result=", "result=1496");
}

struct exec_ctx {
	pid_t pid;
	pid_t former[8];
	int nexec;
	char exe[8][PATH_MAX];
	int nthreads[8];
	struct run_counts c;	/* the run's events */
};

static int
exec_cb(pt_proc_t *P, const pt_event_t *ev, void *arg)
{
	struct exec_ctx *x = arg;

	if (!event_stopped(ev, PT_EV_EXEC))
		return RUN_DEFAULT;
	CHECK_EQ_INT(ev->pe_tid, x->pid);
	if (x->nexec < 8) {
		x->former[x->nexec] = ev->pe_former_tid;
		snprintf(x->exe[x->nexec], PATH_MAX, "%s", pt_exe(P));
		x->nthreads[x->nexec] = pt_nthreads(P);
	}
	x->nexec++;
	return RUN_DEFAULT;
}

/*
 * execer ARGV grabbed and run to its exit, which must be with status
 * STATUS after NEXEC exec events; the run's events in X->c.
 */
static void
execer_run(char *const argv[], struct victim *v, struct exec_ctx *x,
    int status, int nexec)
{
	struct run_counts *c = &x->c;
	char line[256];
	pt_proc_t *P;
	int st;

	memset(x, 0, sizeof (*x));
	spawn_ready("execer", argv, v, line, sizeof (line));
	x->pid = v->pid;
	P = grab_ok(v->pid, 0);
	CHECK_PT(pt_resume(P));
	victim_go(v);
	st = run_events(P, c, exec_cb, x);
	CHECK_RUN(st, c);
	CHECK_EQ_INT(pt_state(P), PT_DEAD);
	pt_release(P, PT_RELEASE_DEFAULT);
	CHECK_EXITED(st, status);
	CHECK_EQ_INT(c->ev[PT_EV_EXEC], nexec);
}

TEST(fam_exec_self)
{
	char line[256], want[64], exe[PATH_MAX];
	struct exec_ctx x;
	struct victim v;

	execer_run((char *[]){ "self", "3", NULL }, &v, &x, 0, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(x.former[i], v.pid);
		CHECK_EQ_INT(x.nthreads[i], 1);
		CHECK_MSG(realpath(x.exe[i], exe) != NULL &&
		    strcmp(exe, v.path) == 0, "pt_exe() after exec %d: %s",
		    i + 1, x.exe[i]);
	}
	for (int n = 3; n >= 0; n--) {
		victim_expect(&v, line, sizeof (line), "image ");
		snprintf(want, sizeof (want), "image n=%d pid=%d", n,
		    (int)v.pid);
		CHECK_STR_EQ(line, want);
	}
	victim_expect(&v, line, sizeof (line), "done");
}

TEST(fam_exec_other)
{
	struct exec_ctx x;
	struct victim v;
	size_t len;

	execer_run((char *[]){ "other", NULL }, &v, &x, 0, 1);
	CHECK_EQ_INT(x.former[0], v.pid);
	len = strlen(x.exe[0]);
	CHECK_MSG(len >= 5 && strcmp(x.exe[0] + len - 5, "/true") == 0,
	    "pt_exe() after exec is \"%s\"", x.exe[0]);
}

TEST(fam_exec_from_thread)
{
	char line[256], want[64];
	struct exec_ctx x;
	struct victim v;
	pid_t tid;

	execer_run((char *[]){ "thread", NULL }, &v, &x, 0, 1);
	victim_expect(&v, line, sizeof (line), "exec_tid=");
	tid = (pid_t)line_field(line, "exec_tid");
	CHECK(tid != v.pid);
	CHECK_EQ_INT(x.former[0], tid);
	CHECK_EQ_INT(x.nthreads[0], 1);
	victim_expect(&v, line, sizeof (line), "final ");
	snprintf(want, sizeof (want), "final pid=%d", (int)v.pid);
	CHECK_STR_EQ(line, want);
}

TEST(fam_exec_fails)
{
	struct exec_ctx x;
	struct victim v;

	execer_run((char *[]){ "fail", NULL }, &v, &x, 3, 0);
	CHECK_EQ_INT(x.c.ev[PT_EV_SIGNAL], 0);
	victim_expect_eq(&v, "exec failed", "exec failed ENOENT");
}
