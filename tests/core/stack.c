/*
 * stack.c - user stacks (src/unwind, dtproc_stack) on real processes:
 * known chains main -> a -> ns::b -> c in PIE and non-PIE builds at -O2
 * without frame pointers, CFI from .debug_frame only, a stripped
 * executable, through libc (qsort's callback), across a signal frame, in
 * a dlopen'd library, on several threads, through JIT code; the depth
 * limit; a running
 * process; the Dwfl cache across a dlopen; from a breakpoint callback;
 * a process killed under us; bad pid and tid; read-only handles; frame
 * names (ustack format, demangling).
 *
 * Victims (tests/victims/stackv*.c) block in read(2) at a known depth;
 * the test waits for the kernel to show the thread in that system call
 * (/proc/PID/task/TID/syscall), never sleeps.  After release, each victim
 * gets its bytes and must exit 0 with its "done" line: stacking harmed
 * nothing.  A victim traced by a control thread is never waited for here.
 */
#include "dtproc.h"
#include "harness.h"
#include "ctl/ctl.h"

#include <sys/syscall.h>
#include <time.h>

#define NAMELEN	512
#define DEPTH	64

/* Wait until TID sits in read(2) of its stdin (dlopen reads files on
   its way). */
static void
wait_in_read(pid_t pid, pid_t tid)
{
	wait_in_syscall(pid, tid, (int []){ SYS_read, -1 }, 0, 10000);
}

static const char *
lib_path(void)
{
	return build_file("libs/libstackdl.so", R_OK, "test library");
}

/* Spawn NAME MODE [LIB], read its ready line, wait for it in read. */
static void
start(const char *name, const char *mode, const char *lib,
    struct victim *v, char *line, size_t n)
{
	char *args[] = { (char *)mode, (char *)lib, NULL };

	spawn_victim(name, args, v);
	victim_ready(v, line, n);
	if (strcmp(mode, "threads") != 0 && strcmp(mode, "bp") != 0 &&
	    strcmp(mode, "dllater") != 0)
		wait_in_read(v->pid, v->pid);
}

/* Let it go: BYTES to read, then its "done" line and exit 0. */
static void
finish(struct victim *v, const char *bytes)
{
	char line[256];

	CHECK_EQ_INT(proc_tracer(v->pid, 0), 0);
	victim_send(v, bytes);
	victim_expect(v, line, sizeof (line), "done ");
	CHECK_EXITED(victim_wait(v), 0);
}

/* The control thread resumes a continued process: its thread, out of
   its ptrace stop, sleeps in read(2) again. */
static void
wait_running(dtproc_t *dtp, dtproc_proc_t *pr)
{
	wait_in_read(dtproc_pid(pr), dtproc_pid(pr));
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_RUN);
}

static dtproc_proc_t *
grab_dt(dtproc_t *dtp, pid_t pid, int flags)
{
	dtproc_proc_t *pr = dtproc_grab(dtp, pid, flags);

	CHECK_MSG(pr != NULL, "dtproc_grab(%d): %s", (int)pid,
	    dtproc_errmsg(dtp));
	return pr;
}

typedef struct stk {
	int n;
	uintptr_t pcs[DEPTH];
	char names[DEPTH][NAMELEN];
} stk_t;

/* Stack TID and name every frame (caller rule for all but #0). */
static void
stack_ok(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, stk_t *s)
{
	s->n = dtproc_stack(dtp, pr, tid, s->pcs, DEPTH);
	CHECK_MSG(s->n > 0, "dtproc_stack(%d): %d: %s", (int)tid, s->n,
	    dtproc_errmsg(dtp));
	for (int i = 0; i < s->n; i++) {
		CHECK(dtproc_frame_name(dtp, pr, s->pcs[i], i > 0,
		    s->names[i], NAMELEN) > 0);
		tinfo("#%d %#lx %s\n", i, (unsigned long)s->pcs[i],
		    s->names[i]);
	}
}

static void
stk_dump(const stk_t *s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < s->n && off + 2 < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i ? " | " : "", s->names[i]);
}

/*
 * The frames starting at FROM must be, in order and consecutively, the
 * prefixes in WANT (NULL-terminated); returns the index after the last.
 */
static int
check_run(const stk_t *s, int from, const char *const want[])
{
	char dump[8192];
	int i = from;

	stk_dump(s, dump, sizeof (dump));
	for (int w = 0; want[w] != NULL; w++, i++)
		CHECK_MSG(i < s->n && strncmp(s->names[i], want[w],
		    strlen(want[w])) == 0, "frame %d: want %s in: %s", i,
		    want[w], dump);
	return i;
}

/* The index of the first frame starting with PREFIX at or after FROM. */
static int
find_frame(const stk_t *s, int from, const char *prefix)
{
	char dump[8192];

	for (int i = from; i < s->n; i++)
		if (strncmp(s->names[i], prefix, strlen(prefix)) == 0)
			return i;
	stk_dump(s, dump, sizeof (dump));
	FAIL("no frame %s from #%d in: %s", prefix, from, dump);
}

/* The stack ends where the program starts: main's caller up to _start. */
static void
check_outermost(const stk_t *s, const char *exe)
{
	char want[128];

	snprintf(want, sizeof (want), "%s`_start", exe);
	int i = find_frame(s, 0, "libc.so.6`__libc_start_call_main");
	check_run(s, i, (const char *const[]){
	    "libc.so.6`__libc_start_call_main", "libc.so.6`__libc_start_main",
	    want, NULL });
	CHECK_EQ_INT(s->n, i + 3);
}

/* main -> a -> ns::b -> c -> read in EXE. */
static void
chain_test(const char *exe)
{
	char line[256], c[64], b[64], a[64], m[64];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	stk_t s;

	start(exe, "chain", NULL, &v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	stack_ok(dtp, pr, v.pid, &s);
	snprintf(c, sizeof (c), "%s`c+", exe);
	snprintf(b, sizeof (b), "%s`ns::b(int)+", exe);
	snprintf(a, sizeof (a), "%s`a+", exe);
	snprintf(m, sizeof (m), "%s`main+", exe);
	CHECK_PREFIX(s.names[0], "libc.so.6`");
	check_run(&s, find_frame(&s, 0, c), (const char *const[]){ c, b, a,
	    m, NULL });
	check_outermost(&s, exe);
	dtproc_release(dtp, pr);
	finish(&v, "x");
	dtproc_close(dtp);
}

TEST(stack_chain_pie)
{
	chain_test("stackv");
}

TEST(stack_chain_nopie)
{
	chain_test("stackv_nopie");
}

/* The executable's own functions have CFI in .debug_frame only. */
TEST(stack_chain_debug_frame)
{
	chain_test("stackv_dbgframe");
}

/*
 * Stripped: no a/b/c/main names, but .eh_frame walks the same frames,
 * at the same offsets in their pages, as the unstripped build.
 */
TEST(stack_stripped)
{
	char line[256];
	struct victim v, u;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr, *pu;
	stk_t s, t;

	start("stackv-stripped", "chain", NULL, &v, line, sizeof (line));
	start("stackv", "chain", NULL, &u, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	pu = grab_dt(dtp, u.pid, 0);
	stack_ok(dtp, pr, v.pid, &s);
	stack_ok(dtp, pu, u.pid, &t);
	CHECK_EQ_INT(s.n, t.n);
	for (int i = 0; i < s.n; i++) {
		CHECK_EQ_INT(s.pcs[i] & 0xfff, t.pcs[i] & 0xfff);
		if (strncmp(t.names[i], "stackv`", 7) == 0) {
			char want[64];

			snprintf(want, sizeof (want), "stackv-stripped`%#lx",
			    (unsigned long)s.pcs[i]);
			CHECK_STR_EQ(s.names[i], want);
		} else {
			CHECK_STR_EQ(s.names[i], t.names[i]);
		}
	}
	check_outermost(&t, "stackv");
	dtproc_release(dtp, pr);
	dtproc_release(dtp, pu);
	finish(&v, "x");
	finish(&u, "x");
	dtproc_close(dtp);
}

TEST(stack_qsort_callback)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	stk_t s;
	int i, j;

	start("stackv", "qsort", NULL, &v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	stack_ok(dtp, pr, v.pid, &s);
	i = find_frame(&s, 0, "stackv`cmp_block+");
	j = find_frame(&s, i + 1, "stackv`a+");
	CHECK(j > i + 1);	/* libc's sort between callback and caller */
	for (int k = i + 1; k < j; k++)
		CHECK_PREFIX(s.names[k], "libc.so.6`");
	CHECK(strstr(s.names[j - 1], "qsort") != NULL);
	check_run(&s, j, (const char *const[]){ "stackv`a+", "stackv`main+",
	    NULL });
	check_outermost(&s, "stackv");
	dtproc_release(dtp, pr);
	finish(&v, "x");
	dtproc_close(dtp);
}

/* handler -> the trampoline -> the interrupted kill -> c -> ... main */
TEST(stack_signal_frame)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	stk_t s;
	int i;

	start("stackv", "signal", NULL, &v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	stack_ok(dtp, pr, v.pid, &s);
	i = find_frame(&s, 0, "stackv`on_sig+");
	i = check_run(&s, i, (const char *const[]){ "stackv`on_sig+",
	    "libc.so.6`__restore_rt", "libc.so.6`kill+", "stackv`c+",
	    "stackv`ns::b(int)+", "stackv`a+", "stackv`main+", NULL });
	check_outermost(&s, "stackv");
	dtproc_release(dtp, pr);
	finish(&v, "x");
	dtproc_close(dtp);
}

TEST(stack_dlopen_library)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	stk_t s;

	start("stackv", "dl", lib_path(), &v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	stack_ok(dtp, pr, v.pid, &s);
	check_run(&s, find_frame(&s, 0, "libstackdl.so`dl_c+"),
	    (const char *const[]){ "libstackdl.so`dl_c+",
	    "libstackdl.so`dl_b+", "libstackdl.so`dl_a+", "stackv`dl_call+",
	    "stackv`main+", NULL });
	check_outermost(&s, "stackv");
	dtproc_release(dtp, pr);
	finish(&v, "x");
	dtproc_close(dtp);
}

TEST(stack_threads)
{
	static const char *const chains[3][5] = {
		{ "stackv`thr_leaf+", "stackv`one_top+", "stackv`thr_main+",
		    NULL },
		{ "stackv`thr_leaf+", "stackv`two_low+", "stackv`two_top+",
		    "stackv`thr_main+", NULL },
		{ "stackv`thr_leaf+", "stackv`three_low+",
		    "stackv`three_mid+", "stackv`three_top+", NULL },
	};
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	pid_t tids[3], all[16];
	stk_t s;
	int n;

	start("stackv", "threads", NULL, &v, line, sizeof (line));
	tids[0] = (pid_t)line_field(line, "t1");
	tids[1] = (pid_t)line_field(line, "t2");
	tids[2] = (pid_t)line_field(line, "t3");
	for (int i = 0; i < 3; i++)
		wait_in_read(v.pid, tids[i]);
	pr = grab_dt(dtp, v.pid, 0);
	n = dtproc_threads(dtp, pr, all, 16);
	CHECK_EQ_INT(n, 4);
	for (int i = 0; i < 3; i++) {
		int k, found = 0;

		for (k = 0; k < n; k++)
			found |= all[k] == tids[i];
		CHECK(found);
		stack_ok(dtp, pr, tids[i], &s);
		k = check_run(&s, find_frame(&s, 0, "stackv`thr_leaf+"),
		    chains[i]);
		/* each thread its own chain: no other thread's functions */
		for (int j = 0; j < s.n; j++)
			for (int o = 0; o < 3; o++)
				if (o != i)
					CHECK(strcmp(s.names[j],
					    chains[o][1]) < 0 || strncmp(
					    s.names[j], chains[o][1],
					    strlen(chains[o][1])) != 0);
		/* and it ends where threads start */
		find_frame(&s, k, "libc.so.6`start_thread+");
	}
	stack_ok(dtp, pr, v.pid, &s);
	find_frame(&s, 0, "stackv`main+");
	check_outermost(&s, "stackv");
	dtproc_release(dtp, pr);
	finish(&v, "xxx");
	dtproc_close(dtp);
}

/*
 * JIT code (anonymous, no CFI, a frame pointer) between jit_block and c:
 * a bare address, then one frame-pointer step and CFI again to main.
 */
TEST(stack_jit_frame)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	dtproc_sym_t sym;
	stk_t s;
	int i;

	start("stackv", "jit", NULL, &v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	stack_ok(dtp, pr, v.pid, &s);
	i = find_frame(&s, 0, "stackv`jit_block+");
	CHECK(i + 1 < s.n);
	CHECK_EQ_INT(strncmp(s.names[i + 1], "0x", 2), 0);
	/* the bare address is in the JIT page: not any object's */
	CHECK(dtproc_sym_addr(dtp, pr, s.pcs[i + 1], &sym) != 0 ||
	    sym.ds_name == NULL);
	check_run(&s, i + 2, (const char *const[]){ "stackv`jit_call+",
	    "stackv`c+",
	    "stackv`ns::b(int)+", "stackv`a+", "stackv`main+", NULL });
	check_outermost(&s, "stackv");
	dtproc_release(dtp, pr);
	finish(&v, "x");
	dtproc_close(dtp);
}

TEST(stack_depth_limit)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t few[3], big[DTPROC_STACK_MAX + 8];
	stk_t s;

	start("stackv", "chain", NULL, &v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	stack_ok(dtp, pr, v.pid, &s);
	CHECK(s.n > 3);
	CHECK_EQ_INT(dtproc_stack(dtp, pr, v.pid, few, 3), 3);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(few[i], s.pcs[i]);
	CHECK_EQ_INT(dtproc_stack(dtp, pr, v.pid, few, 1), 1);
	CHECK_EQ_INT(few[0], s.pcs[0]);
	/* a bigger buffer is no deeper a stack; more than the max is cut */
	CHECK_EQ_INT(dtproc_stack(dtp, pr, v.pid, big, DTPROC_STACK_MAX + 8),
	    s.n);
	CHECK_EQ_INT(dtproc_stack(dtp, pr, v.pid, few, 0), -EINVAL);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "no room");
	dtproc_release(dtp, pr);
	finish(&v, "x");
	dtproc_close(dtp);
}

/*
 * A process running (continued from its grab): the request stops it for
 * the walk and resumes it; it then runs, reads and exits as before.
 * Then a dlopen while controlled: the unwinder's modules are rebuilt once
 * for it, and not for repeated stacks.
 */
TEST(stack_running_and_dlopen_cache)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	stk_t s;

	start("stackv", "dllater", lib_path(), &v, line, sizeof (line));
	wait_in_read(v.pid, v.pid);
	pr = grab_dt(dtp, v.pid, 0);
	dtproc_continue(dtp, pr);
	wait_running(dtp, pr);
	for (int i = 0; i < 5; i++) {
		stack_ok(dtp, pr, v.pid, &s);
		find_frame(&s, 0, "stackv`c+");
	}
	CHECK_EQ_INT(unw_reports(pr->dpr_unw), 1);
	wait_running(dtp, pr);	/* resumed after each stack */
	/* on to the dlopen'd chain */
	victim_send(&v, "x");
	victim_expect(&v, line, sizeof (line), "dl");
	wait_in_read(v.pid, v.pid);
	for (int i = 0; i < 3; i++) {
		stack_ok(dtp, pr, v.pid, &s);
		check_run(&s, find_frame(&s, 0, "libstackdl.so`dl_c+"),
		    (const char *const[]){ "libstackdl.so`dl_c+",
		    "libstackdl.so`dl_b+", "libstackdl.so`dl_a+",
		    "stackv`dl_call+", "stackv`main+", NULL });
	}
	CHECK_EQ_INT(unw_reports(pr->dpr_unw), 2);
	dtproc_release(dtp, pr);
	finish(&v, "x");
	dtproc_close(dtp);
}

/* From a breakpoint callback (control thread): inline, the hit thread. */
struct bpstk {
	int calls;
	int n;
	uintptr_t pcs[DEPTH];
	char names[DEPTH][NAMELEN];
	int err;
	char msg[512];
};

static void
bp_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	struct bpstk *b = arg;

	(void) addr;
	b->calls++;
	b->n = dtproc_stack(dtp, pr, tid, b->pcs, DEPTH);
	if (b->n < 0) {
		snprintf(b->msg, sizeof (b->msg), "%s", dtproc_errmsg(dtp));
		return;
	}
	for (int i = 0; i < b->n; i++)
		(void) dtproc_frame_name(dtp, pr, b->pcs[i], i > 0,
		    b->names[i], NAMELEN);
}

TEST(stack_from_breakpoint)
{
	char line[256];
	struct victim v;
	struct bpstk b = { 0 };
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	dtproc_sym_t sym;
	stk_t s;

	pid_t mid;
	int st;

	/* a grandchild: it exits traced, and only its tracer may reap it */
	spawn_victim_indirect("stackv", (char *[]){ "bp", NULL }, &v, &mid);
	victim_ready(&v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "a.out`c", &sym), 0);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, sym.ds_addr, bp_cb, &b), 0);
	dtproc_continue(dtp, pr);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "done ");
	dtproc_release(dtp, pr);
	CHECK_EQ_INT(waitpid(mid, &st, 0), mid);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(b.calls, 1);
	CHECK_MSG(b.n > 0, "dtproc_stack in a callback: %d: %s", b.n, b.msg);
	CHECK_EQ_INT(b.pcs[0], sym.ds_addr);
	s.n = b.n;
	memcpy(s.pcs, b.pcs, sizeof (s.pcs));
	memcpy(s.names, b.names, sizeof (s.names));
	check_run(&s, 0, (const char *const[]){ "stackv`c",
	    "stackv`ns::b(int)+",
	    "stackv`a+", "stackv`main+", NULL });
	CHECK_STR_EQ(s.names[0], "stackv`c");	/* no +0x0 */
	check_outermost(&s, "stackv");
	dtproc_close(dtp);
}

/* Killed while grabbed: a clear error naming the pid, no crash. */
TEST(stack_process_killed)
{
	char line[256], want[64];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t pcs[DEPTH];
	pid_t mid;
	int rv;

	spawn_victim_indirect("stackv", (char *[]){ "chain", NULL }, &v, &mid);
	victim_ready(&v, line, sizeof (line));
	wait_in_read(v.pid, v.pid);
	pr = grab_dt(dtp, v.pid, 0);
	CHECK(dtproc_stack(dtp, pr, v.pid, pcs, DEPTH) > 0);
	/*
	 * SIGKILL takes effect once the control thread lets the process go
	 * from its rendezvous; stack it again and again meanwhile: each
	 * answer is a stack or the error, never a crash or a hang.
	 */
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	dtproc_continue(dtp, pr);
	{
		long end = now_ms() + 10000;

		while ((rv = dtproc_stack(dtp, pr, v.pid, pcs, DEPTH)) > 0 &&
		    now_ms() < end)
			;
	}
	/* the first error may name the thread (gone first) or the process */
	CHECK_MSG(rv == -ESRCH || rv == -DTPROC_EDEAD, "rv %d", rv);
	snprintf(want, sizeof (want), "pid %d", (int)v.pid);
	CHECK_CONTAINS(dtproc_errmsg(dtp), want);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "exited");
	/* once the control thread has seen the death: the process's */
	CHECK_KILLED(api_wait_dead(dtp, pr, 10000), SIGKILL);
	CHECK_EQ_INT(dtproc_stack(dtp, pr, v.pid, pcs, DEPTH), -DTPROC_EDEAD);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "process has exited");
	CHECK_CONTAINS(dtproc_errmsg(dtp), want);
	CHECK_EQ_INT(dtproc_threads(dtp, pr, &mid, 0), -DTPROC_EDEAD);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	{
		int st;

		CHECK_EQ_INT(waitpid(mid, &st, 0), mid);
		CHECK_EXITED(st, 128 + SIGKILL);
	}
}

TEST(stack_bad_tid_and_pid)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t pcs[DEPTH];
	int rv;

	start("stackv", "chain", NULL, &v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	rv = dtproc_stack(dtp, pr, 1, pcs, DEPTH);
	CHECK_EQ_INT(rv, -ESRCH);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "no thread 1");
	dtproc_release(dtp, pr);
	finish(&v, "x");
	/* gone pid: the grab fails, in words */
	CHECK(dtproc_grab(dtp, v.pid, 0) == NULL);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "pid");
	dtproc_close(dtp);
}

TEST(stack_rdonly_handle)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t pcs[DEPTH];
	pid_t tids[8];
	char name[NAMELEN];
	dtproc_sym_t sym;

	start("stackv", "chain", NULL, &v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, DTPROC_GRAB_RDONLY);
	CHECK_EQ_INT(dtproc_stack(dtp, pr, v.pid, pcs, DEPTH), -EPERM);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "read-only");
	CHECK_CONTAINS(dtproc_errmsg(dtp), "registers");
	/* threads and names need no control */
	CHECK_EQ_INT(dtproc_threads(dtp, pr, tids, 8), 1);
	CHECK_EQ_INT(tids[0], v.pid);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "a.out`main", &sym), 0);
	CHECK(dtproc_frame_name(dtp, pr, sym.ds_addr, 0, name, sizeof (name))
	    > 0);
	CHECK_STR_EQ(name, "stackv`main");
	dtproc_release(dtp, pr);
	finish(&v, "x");
	dtproc_close(dtp);
}

TEST(stack_frame_names)
{
	char line[256], name[NAMELEN], want[128], small[8];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	dtproc_sym_t sym;

	start("stackv", "chain", NULL, &v, line, sizeof (line));
	pr = grab_dt(dtp, v.pid, 0);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "a.out`_ZN2ns1bEi", &sym), 0);
	dtproc_frame_name(dtp, pr, sym.ds_addr, 0, name, sizeof (name));
	CHECK_STR_EQ(name, "stackv`ns::b(int)");
	dtproc_frame_name(dtp, pr, sym.ds_addr + 5, 0, name, sizeof (name));
	CHECK_STR_EQ(name, "stackv`ns::b(int)+0x5");
	/* a return address at the byte after: still the same function */
	dtproc_frame_name(dtp, pr, sym.ds_addr + sym.ds_size, 1, name,
	    sizeof (name));
	snprintf(want, sizeof (want), "stackv`ns::b(int)+0x%lx",
	    (unsigned long)sym.ds_size);
	CHECK_STR_EQ(name, want);
	/* nothing mapped: a bare address */
	dtproc_frame_name(dtp, pr, 0x1000, 1, name, sizeof (name));
	CHECK_STR_EQ(name, "0x1000");
	/* versions left out: libc's read is versioned in .dynsym */
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "libc.so.6`read", &sym), 0);
	dtproc_frame_name(dtp, pr, sym.ds_addr, 0, name, sizeof (name));
	CHECK_STR_EQ(name, "libc.so.6`read");
	/* truncation, as snprintf */
	CHECK_EQ_INT(dtproc_frame_name(dtp, pr, 0x1000, 0, small, 4), 6);
	CHECK_STR_EQ(small, "0x1");
	CHECK_STR_EQ(unw_demangle("_ZN3foo3barEv", name, sizeof (name)),
	    "foo::bar()");
	CHECK_STR_EQ(unw_demangle("plain", name, sizeof (name)), "plain");
	CHECK_STR_EQ(unw_demangle("_Zbogus", name, sizeof (name)), "_Zbogus");
	/* Rust, both schemes (libiberty; __cxa_demangle knew neither) */
	CHECK_STR_EQ(unw_demangle("_RNvCs1234_7mycrate3foo", name,
	    sizeof (name)), "mycrate::foo");
	CHECK_STR_EQ(unw_demangle("_ZN7mycrate3foo17h0123456789abcdefE", name,
	    sizeof (name)), "mycrate::foo");
	CHECK_STR_EQ(unw_demangle("_ZN2ns3Foo3barEi@@V1", name,
	    sizeof (name)), "ns::Foo::bar(int)");
	dtproc_release(dtp, pr);
	finish(&v, "x");
	dtproc_close(dtp);
}
