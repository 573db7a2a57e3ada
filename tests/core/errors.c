/*
 * errors.c - the error convention seen from the public API: each
 * DTPROC_E* code where it applies, the core's precise reason reaching
 * dtproc_errmsg() through a request, and last errors kept per thread
 * (client threads, and a callback on a control thread, never overwrite
 * each other's).
 */
#include "harness.h"
#include "ptrace/pt_impl.h"	/* pt_proc_stat, pt_comm */

#include <grp.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/stat.h>

/* dtproc_grab(PID) must fail with CODE, the message naming WHAT. */
static void
grab_refused(pid_t pid, int code, const char *what)
{
	dtproc_t *dtp = open_ok();
	char want[64];

	CHECK(dtproc_grab(dtp, pid, 0) == NULL);
	tinfo("grab %d: %d: %s", (int)pid, dtproc_errno(dtp),
	    dtproc_errmsg(dtp));
	CHECK_EQ_INT(dtproc_errno(dtp), code);
	snprintf(want, sizeof (want), "failed to grab pid %d: ", (int)pid);
	CHECK_PREFIX(dtproc_errmsg(dtp), want);
	CHECK_CONTAINS(dtproc_errmsg(dtp), what);
	CHECK(strcmp(dtproc_strerror(code), dtproc_strerror(EINVAL)) != 0);
	dtproc_close(dtp);
}

TEST(err_zombie)
{
	siginfo_t si = { 0 };
	pid_t c = fork();

	if (c == 0)
		_exit(0);
	/* a zombie until reaped: waited for, not reaped (WNOWAIT) */
	CHECK(c > 0 && waitid(P_PID, c, &si, WEXITED | WNOWAIT) == 0);
	grab_refused(c, DTPROC_EZOMBIE, "zombie");
	CHECK_EQ_INT(waitpid(c, NULL, 0), c);
}

TEST(err_kthread)
{
	char st = 0;
	unsigned long flags = 0;

	/* kthreadd is pid 2 wherever the kernel's threads are visible */
	if (pt_proc_stat(2, &st, &flags) != 0 || !(flags & 0x00200000))
		SKIP("pid 2 is not a kernel thread in this pid namespace");
	grab_refused(2, DTPROC_EKTHREAD, "kernel thread");
}

TEST(err_self)
{
	grab_refused(getpid(), DTPROC_ESELF, "itself");
}

/* Traced by another tracer: here, the control thread of another dtproc_t. */
TEST(err_traced)
{
	dtproc_t *one = open_ok();
	char line[256], want[128], comm[64];
	struct victim v;
	dtproc_proc_t *pr;

	spawn_victim("blocked", (char *[]){ "read", NULL }, &v);
	victim_ready(&v, line, sizeof (line));
	if ((pr = dtproc_grab(one, v.pid, 0)) == NULL)
		FAIL("first grab: %s", dtproc_errmsg(one));
	pt_comm(getpid(), comm, sizeof (comm));
	snprintf(want, sizeof (want), "traced by pid %d (%s)", (int)getpid(),
	    comm);
	grab_refused(v.pid, DTPROC_ETRACED, want);
	dtproc_release(one, pr);
	dtproc_close(one);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "read ");
	CHECK_EXITED(victim_wait(&v), 0);
}

static void
no_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	(void) dtp, (void) pr, (void) tid, (void) addr, (void) arg;
}

TEST(err_dead)
{
	char want[64], b;
	struct victim v;
	dtproc_t *dtp = open_ok();
	uintptr_t target;
	dtproc_proc_t *pr = dt_running_ctlv(dtp, "wait", &v, &target);

	victim_go(&v);		/* it exits */
	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, -1), -DTPROC_EDEAD);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_DEAD);
	snprintf(want, sizeof (want), "pid %d: process has exited",
	    (int)v.pid);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, no_cb, NULL),
	    -DTPROC_EDEAD);
	CHECK_EQ_INT(dtproc_errno(dtp), DTPROC_EDEAD);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK_EQ_INT(dtproc_read(dtp, pr, target, &b, 1), -DTPROC_EDEAD);
	CHECK_EQ_INT(dtproc_stop(dtp, pr), -DTPROC_EDEAD);
	CHECK_EXITED(dtproc_status(dtp, pr), 0);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

/* FROM copied to DIR/NAME (its path in PATH), mode MODE. */
static void
copy_to(const char *from, const char *dir, const char *name, int mode,
    char *path, size_t len)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	snprintf(path, len, "%s/%s", dir, name);
	CHECK((in = open(from, O_RDONLY | O_CLOEXEC)) >= 0);
	CHECK((out = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0700)) >= 0);
	while ((n = read(in, buf, sizeof (buf))) > 0)
		CHECK(write(out, buf, (size_t)n) == n);
	close(in);
	close(out);
	CHECK_EQ_INT(chmod(path, mode), 0);
}

/*
 * An executable that cannot be read (a traced exec of it is lost), in a
 * new directory DIR that anybody may enter.
 */
static void
unreadable_copy(const char *from, char *dir, char *path, size_t len)
{
	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ_INT(chmod(dir, 0755), 0);
	copy_to(from, dir, "noread", 0111, path, len);
}

/*
 * In a child (as nobody when we are root, running CTLV, a copy nobody can
 * reach whatever the checkout's permissions): 0, or the step that failed.
 */
static int
lost_child(const char *ctlv, const char *prog)
{
	char *av[] = { (char *)ctlv, "exec", (char *)prog, NULL };
	dtproc_proc_t *pr;
	dtproc_t *dtp;
	int in[2], null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
	    setuid(65534) != 0 || prctl(PR_SET_DUMPABLE, 1) != 0))
		return 10;	/* (dumpable again: our children are traceable) */
	if (pipe(in) != 0 || null < 0 || dup2(in[0], 0) < 0 || dup2(null, 1) < 0)
		return 11;
	if ((dtp = dtproc_open(0, NULL)) == NULL ||
	    (pr = dtproc_create(dtp, av[0], av, DTPROC_STOP_CREATE)) == NULL) {
		fprintf(stderr, "%s\n", dtp ? dtproc_errmsg(dtp) : "open");
		return 12;
	}
	dtproc_continue(dtp, pr);
	if (write(in[1], "go\n", 3) != 3)
		return 13;
	/* lost meanwhile: the wait ends at once */
	if (dtproc_wait_stopped(dtp, pr, -1) != -DTPROC_ELOST)
		return 14;
	if (dtproc_state(dtp, pr) != DTPROC_PS_LOST)
		return 15;
	if (dtproc_bkpt_add(dtp, pr, 0x1000, no_cb, NULL) != -DTPROC_ELOST ||
	    dtproc_errno(dtp) != DTPROC_ELOST ||
	    strstr(dtproc_errmsg(dtp), "lost") == NULL)
		return 16;
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	return 0;
}

TEST(err_lost)
{
	char dir[] = "/tmp/dtproc-errors.XXXXXX", prog[128], ctlv[128];
	int st;
	pid_t c;

	unreadable_copy("/bin/true", dir, prog, sizeof (prog));
	copy_to(victim_path("ctlv"), dir, "ctlv", 0755, ctlv, sizeof (ctlv));
	fflush(NULL);
	if ((c = fork()) == 0)
		_exit(lost_child(ctlv, prog));
	CHECK(c > 0);
	CHECK_EQ_INT(waitpid(c, &st, 0), c);
	unlink(prog);
	unlink(ctlv);
	rmdir(dir);
	CHECK_EXITED(st, 0);
}

TEST(err_notelf)
{
	char dir[] = "/tmp/dtproc-errors.XXXXXX", path[128], want[192];
	dtproc_t *dtp = open_ok();
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof (path), "%s/text", dir);
	CHECK((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0755)) >= 0);
	CHECK(write(fd, "just text\n", 10) == 10);
	close(fd);
	CHECK(dtproc_create(dtp, path, NULL, DTPROC_STOP_CREATE) == NULL);
	CHECK_EQ_INT(dtproc_errno(dtp), DTPROC_ENOTELF);
	snprintf(want, sizeof (want), "failed to execute %s: %s", path,
	    strerror(ENOEXEC));
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	unlink(path);
	rmdir(dir);
	dtproc_close(dtp);
}

/* The core's own reason, found on the control thread, is the client's. */
TEST(err_precise_reason)
{
	struct victim v;
	dtproc_t *dtp = open_ok();
	uintptr_t target;
	dtproc_proc_t *pr = dt_running_ctlv(dtp, "echo", &v, &target);

	CHECK_EQ_INT(dtproc_write(dtp, pr, target, "\xcc", 1), 1);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, no_cb, NULL), -EINVAL);
	CHECK_EQ_INT(dtproc_errno(dtp), EINVAL);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "an int3 is already there");
	CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, target), -ENOENT);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "no breakpoint at");
	kill(v.pid, SIGKILL);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

/* ---- per-thread last errors ---- */

struct twin {
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	pthread_barrier_t *bar;
	const char *name;	/* the missing symbol it looks up */
	char got[512];		/* its errmsg once both have failed */
};

static void *
twin_run(void *arg)
{
	struct twin *t = arg;
	dtproc_sym_t s;

	/* both fail, then each reads its own reason */
	(void) dtproc_sym_lookup(t->dtp, t->pr, t->name, &s);
	(void) pthread_barrier_wait(t->bar);
	snprintf(t->got, sizeof (t->got), "%s", dtproc_errmsg(t->dtp));
	return NULL;
}

/* A breakpoint callback whose own call fails, on the control thread. */
struct cbfail {
	dtproc_t *dtp;
	char got[512];
};

static void
cbfail_hit(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	struct cbfail *c = arg;
	dtproc_sym_t s;

	(void) tid, (void) addr;
	(void) dtproc_sym_lookup(dtp, pr, "a.out`missing_in_callback", &s);
	snprintf(c->got, sizeof (c->got), "%s", dtproc_errmsg(dtp));
}

TEST(err_per_thread)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	pthread_barrier_t bar;
	pthread_t ta, tb;
	struct twin a = { 0 }, b = { 0 };
	struct cbfail cf = { 0 };
	dtproc_sym_t s;

	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_CREATE, &v);
	CHECK_EQ_INT(pthread_barrier_init(&bar, NULL, 2), 0);
	a = (struct twin){ dtp, pr, &bar, "a.out`missing_for_a", "" };
	b = (struct twin){ dtp, pr, &bar, "a.out`missing_for_b", "" };
	CHECK_EQ_INT(pthread_create(&ta, NULL, twin_run, &a), 0);
	CHECK_EQ_INT(pthread_create(&tb, NULL, twin_run, &b), 0);
	CHECK_EQ_INT(pthread_join(ta, NULL), 0);
	CHECK_EQ_INT(pthread_join(tb, NULL), 0);
	CHECK_CONTAINS(a.got, "missing_for_a");
	CHECK_CONTAINS(b.got, "missing_for_b");
	/* the client's reason outlives a callback's failure */
	CHECK(dtproc_sym_lookup(dtp, pr, "a.out`missing_for_main", &s) < 0);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, line_field(line, "target"),
	    cbfail_hit, &cf), 0);
	CHECK(dtproc_sym_lookup(dtp, pr, "a.out`missing_for_main", &s) < 0);
	victim_send(&v, "c 1\n");
	victim_expect(&v, line, sizeof (line), "called ");
	dtproc_lock(dtp, pr);	/* the callback wrote it holding the lock */
	CHECK_CONTAINS(cf.got, "missing_in_callback");
	dtproc_unlock(dtp, pr);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "missing_for_main");
	CHECK_EQ_INT(dtproc_errno(dtp), ENOENT);
	victim_send(&v, "q\n");
	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, -1), -DTPROC_EDEAD);
	CHECK_EXITED(dtproc_status(dtp, pr), 0);
	dtproc_release(dtp, pr);
	(void) pthread_barrier_destroy(&bar);
	dtproc_close(dtp);
}
