/*
 * grab.c - pt_grab(): stopping every thread (also while threads come and
 * go), NOSTOP and RDONLY grabs, victims blocked in system calls, and
 * every refusal with its message.
 */
#include "harness.h"

#include <sys/syscall.h>

#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <time.h>

/* threads N: grab, check, release RUN, go, check the result. */
static void
grab_threads_victim(int n, int rounds)
{
	char arg[16], line[256];
	char *args[] = { arg, NULL };
	struct victim v;
	long want = (long)n * (n + 1) * (2 * n + 1) / 6;

	snprintf(arg, sizeof (arg), "%d", n);
	spawn_ready("threads", args, &v, line, sizeof (line));
	for (int r = 0; r < rounds; r++) {
		pt_proc_t *P = grab_ok(v.pid, 0);

		CHECK_EQ_INT(pt_state(P), PT_STOPPED);
		CHECK_EQ_INT(pt_why(P), PT_WHY_EVENT);
		CHECK(!pt_created(P));
		CHECK_EQ_INT(pt_nthreads(P), n + 1);
		CHECK_EQ_INT(check_threads_stopped(P), n + 1);
		CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
		check_threads_released(v.pid);
	}
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), want);
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(grab_single_thread)
{
	grab_threads_victim(0, 1);
}

TEST(grab_16_threads)
{
	grab_threads_victim(16, 1);
}

TEST(grab_release_repeat)
{
	grab_threads_victim(16, 10);
}

TEST(grab_churn)
{
	char line[256];
	struct victim v;

	spawn_ready("threads", (char *[]){ "4", "churn", NULL }, &v, line,
	    sizeof (line));
	for (int r = 0; r < 8; r++) {
		pt_proc_t *P = grab_ok(v.pid, 0);

		CHECK_EQ_INT(pt_state(P), PT_STOPPED);
		/* main, reader, 4 workers, maybe one short-lived thread */
		CHECK(check_threads_stopped(P) >= 6);
		CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
		check_threads_released(v.pid);
	}
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), 30);
	victim_expect(&v, line, sizeof (line), "churned=");
	CHECK_EQ_INT(line_field(line, "churned"), line_field(line, "work"));
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(grab_nostop_then_stop)
{
	VICTIM_LOCALS;
	pid_t tids[64];
	int n;

	P = spawn_grab("threads", (char *[]){ "4", NULL }, &v, line,
	    sizeof (line), PT_GRAB_NOSTOP);
	CHECK_EQ_INT(pt_state(P), PT_RUNNING);
	CHECK_EQ_INT(pt_nthreads(P), 5);
	n = proc_tasks(v.pid, tids, 64);
	CHECK_EQ_INT(n, 5);
	for (int i = 0; i < n; i++) {
		CHECK_EQ_INT(proc_tracer(v.pid, tids[i]), getpid());
		CHECK(proc_state(v.pid, tids[i]) != 't');
	}

	CHECK_PT(pt_stop(P, PT_WHY_REQUESTED));
	CHECK_EQ_INT(pt_state(P), PT_STOPPED);
	CHECK_EQ_INT(pt_why(P), PT_WHY_REQUESTED);
	CHECK_EQ_INT(check_threads_stopped(P), 5);

	CHECK_PT(pt_resume(P));
	CHECK_EQ_INT(pt_state(P), PT_RUNNING);
	for (int i = 0; i < n; i++)
		CHECK(proc_state(v.pid, tids[i]) != 't');

	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	check_threads_released(v.pid);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), 30);
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(grab_rdonly)
{
	char line[256], buf[64], before;
	static const char magic[] = "dtproc-magic-0123456789";
	pt_map_t *maps;
	size_t nmaps;
	struct victim v;
	uintptr_t maddr;
	pt_proc_t *P;
	int found = 0;

	spawn_ready("blocked", (char *[]){ "read", NULL }, &v, line,
	    sizeof (line));
	maddr = line_field(line, "magic");
	before = proc_state(v.pid, 0);

	P = grab_ok(v.pid, PT_GRAB_RDONLY);
	CHECK(pt_rdonly(P));
	CHECK(!pt_created(P));
	CHECK_EQ_INT(proc_tracer(v.pid, 0), 0);
	CHECK_MSG(proc_state(v.pid, 0) != 't' && proc_state(v.pid, 0) != 'T',
	    "state '%c' (was '%c')", proc_state(v.pid, 0), before);

	memset(buf, 0, sizeof (buf));
	CHECK_EQ_INT(pt_mem_read(P, maddr, buf, sizeof (magic)),
	    sizeof (magic));
	CHECK_STR_EQ(buf, magic);
	CHECK_MSG(pt_mem_write(P, maddr, "X", 1) < 0,
	    "pt_mem_write works on a read-only handle");

	CHECK_PT(pt_maps_read(v.pid, &maps, &nmaps));
	for (size_t i = 0; i < nmaps; i++) {
		if (maps[i].pm_path != NULL &&
		    strcmp(maps[i].pm_path, v.path) == 0 &&
		    (maps[i].pm_prot & PROT_EXEC))
			found = 1;
	}
	pt_maps_free(maps, nmaps);
	CHECK_MSG(found, "no executable mapping of %s", v.path);

	pt_release(P, PT_RELEASE_DEFAULT);
	CHECK_EQ_INT(proc_tracer(v.pid, 0), 0);
	victim_go(&v);
	victim_expect_eq(&v, "read ", "read ok");
	victim_expect_eq(&v, "sigcont=", "sigcont=0");
	victim_expect_eq(&v, "data=", "data=original");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(grab_blocked_read)
{
	char line[256];
	struct victim v;

	spawn_ready("blocked", (char *[]){ "read", NULL }, &v, line,
	    sizeof (line));
	for (int r = 0; r < 3; r++) {
		pt_proc_t *P = grab_ok(v.pid, 0);

		CHECK_EQ_INT(check_threads_stopped(P), 1);
		CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
		check_threads_released(v.pid);
	}
	victim_go(&v);
	victim_expect_eq(&v, "read ", "read ok");
	victim_expect_eq(&v, "sigcont=", "sigcont=0");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(grab_blocked_sleep)
{
	VICTIM_LOCALS;

	spawn_ready("blocked", (char *[]){ "sleep", "400", NULL }, &v, line,
	    sizeof (line));
	wait_in_syscall(v.pid, 0, (int []){ SYS_nanosleep, SYS_clock_nanosleep,
	    -1 }, -1, 5000);
	P = grab_ok(v.pid, 0);
	CHECK_EQ_INT(check_threads_stopped(P), 1);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_expect(&v, line, sizeof (line), "slept_ms=");
	CHECK_MSG(line_field(line, "slept_ms") >= 400,
	    "slept short: %s", line);
	CHECK_EQ_INT(line_field(line, "eintr"), 0);
	victim_expect_eq(&v, "sigcont=", "sigcont=0");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(grab_non_child)
{
	VICTIM_LOCALS;
	pid_t helper;

	/* Not our child: its exit still comes to us, and its parent. */
	spawn_victim_indirect("blocked", (char *[]){ "read", NULL }, &v,
	    &helper);
	victim_ready(&v, line, sizeof (line));
	P = grab_ok(v.pid, 0);
	CHECK_EQ_INT(check_threads_stopped(P), 1);
	CHECK_PT(pt_resume(P));
	victim_go(&v);
	st = run_checked(P, &c);
	CHECK_EXITED(st, 0);
	pt_release(P, PT_RELEASE_DEFAULT);
	victim_expect_eq(&v, "read ", "read ok");
	while (waitpid(helper, &st, 0) < 0)
		CHECK(errno == EINTR);
	CHECK_EXITED(st, 0);
}

TEST(grab_exit_race)
{
	/* exit_code exits right after its first line: grab may win or not. */
	for (int r = 0; r < 20; r++) {
		char *args[] = { "5", NULL };
		char line[256];
		struct run_counts c;
		struct victim v;
		pt_proc_t *P = NULL;
		int rc, st;

		spawn_victim("exit_code", args, &v);
		victim_expect(&v, line, sizeof (line), "argc=");
		err_clear();
		rc = pt_grab(v.pid, 0, &P);
		tinfo("round %d: grab %d %s", r, rc, err_msg());
		if (rc < 0) {
			CHECK(err_msg()[0] != 0);
			CHECK_EXITED(victim_wait(&v), 5);
		} else {
			rc = pt_resume(P);
			CHECK_MSG(rc == 0 || rc == -ESRCH, "pt_resume: %s",
			    strerror(-rc));
			st = run_checked(P, &c);
			CHECK_EXITED(st, 5);
			CHECK_EQ_INT(pt_state(P), PT_DEAD);
			pt_release(P, PT_RELEASE_DEFAULT);
		}
		victim_close(&v);
	}
}

/* pt_grab(PID) must fail; returns the message. */
static const char *
grab_fails(pid_t pid, int flags)
{
	pt_proc_t *P = NULL;
	int rc;

	err_clear();
	rc = pt_grab(pid, flags, &P);
	tinfo("pt_grab(%d): %d: %s", (int)pid, rc, err_msg());
	CHECK_MSG(rc < 0, "pt_grab(%d) succeeded", (int)pid);
	CHECK(err_code() > 0);
	CHECK_EQ_INT(rc, -err_code());
	CHECK(err_msg()[0] != 0);
	return err_msg();
}

TEST(grab_refuse_no_such_process)
{
	const char *msg;

	CHECK(kill(999999, 0) < 0);
	msg = grab_fails(999999, 0);
	CHECK_CONTAINS(msg, "no such process");
	CHECK_CONTAINS(msg, "999999");
	msg = grab_fails(999999, PT_GRAB_RDONLY);
	CHECK_CONTAINS(msg, "no such process");
}

TEST(grab_refuse_bad_pid)
{
	grab_fails(0, 0);
	grab_fails(-1, 0);
	grab_fails(-getpid(), 0);
}

TEST(grab_refuse_zombie)
{
	siginfo_t si;
	pid_t c;

	if ((c = fork()) == 0)
		_exit(0);
	CHECK(c > 0);
	/* Wait until it is a zombie, without reaping it. */
	CHECK(waitid(P_PID, c, &si, WEXITED | WNOWAIT) == 0);
	CHECK_EQ_INT(proc_state(c, 0), 'Z');
	CHECK_CONTAINS(grab_fails(c, 0), "zombie");
	waitpid(c, NULL, WNOHANG);
}

TEST(grab_refuse_kernel_thread)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t kt = 0;

	CHECK(d != NULL);
	while (kt == 0 && (e = readdir(d)) != NULL) {
		char path[300], buf[1024], *p;
		unsigned long flags = 0;
		FILE *f;

		if (atoi(e->d_name) <= 0)
			continue;
		snprintf(path, sizeof (path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof (buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
		    (flags & 0x00200000))	/* PF_KTHREAD */
			kt = atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
	if (kt == 0)
		SKIP("no kernel thread visible in this pid namespace");
	CHECK_CONTAINS(grab_fails(kt, 0), "kernel thread");
}

TEST(grab_refuse_self)
{
	CHECK_CONTAINS(grab_fails(getpid(), 0), "itself");
}

TEST(grab_refuse_traced)
{
	char line[256], pidstr[32], c;
	int ready[2], hold[2], st;
	struct victim v;
	const char *msg;
	pid_t h;

	spawn_ready("blocked", (char *[]){ "read", NULL }, &v, line,
	    sizeof (line));
	CHECK(pipe2(ready, O_CLOEXEC) == 0 && pipe2(hold, O_CLOEXEC) == 0);
	if ((h = fork()) == 0) {
		close(ready[0]);
		close(hold[1]);
		if (ptrace(PTRACE_SEIZE, v.pid, NULL, NULL) != 0)
			_exit(10);
		if (write(ready[1], "k", 1) != 1)
			_exit(11);
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);	/* detaches the victim */
	}
	CHECK(h > 0);
	close(ready[1]);
	close(hold[0]);
	CHECK_MSG(read(ready[0], &c, 1) == 1, "helper could not seize");
	CHECK_EQ_INT(proc_tracer(v.pid, 0), h);

	msg = grab_fails(v.pid, 0);
	snprintf(pidstr, sizeof (pidstr), "%d", (int)h);
	CHECK_CONTAINS(msg, pidstr);
	CHECK_CONTAINS(msg, "traced");
	CHECK_EQ_INT(proc_tracer(v.pid, 0), h);

	close(hold[1]);
	while (waitpid(h, &st, 0) < 0)
		CHECK(errno == EINTR);
	CHECK_EXITED(st, 0);
	victim_go(&v);
	victim_expect_eq(&v, "read ", "read ok");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(grab_refuse_permission)
{
	char line[256], msg[ERR_MSG_MAX + 16];
	struct victim v;
	int p[2], st;
	ssize_t n;
	pid_t h;

	if (geteuid() != 0)
		SKIP("needs root to grab as another user");
	spawn_ready("blocked", (char *[]){ "read", NULL }, &v, line,
	    sizeof (line));
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	if ((h = fork()) == 0) {
		pt_proc_t *P = NULL;

		close(p[0]);
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
		    setuid(65534) != 0)
			_exit(10);
		err_clear();
		const char *m = pt_grab(v.pid, 0, &P) == 0 ? "GRABBED" :
		    err_msg();

		if (write(p[1], m, strlen(m)) < 0)
			_exit(11);
		_exit(0);
	}
	CHECK(h > 0);
	close(p[1]);
	n = read(p[0], msg, sizeof (msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	while (waitpid(h, &st, 0) < 0)
		CHECK(errno == EINTR);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 10)
		SKIP("cannot switch to uid 65534");
	CHECK_EXITED(st, 0);
	tinfo("as uid 65534: %s", msg);
	CHECK_MSG(strcmp(msg, "GRABBED") != 0, "grabbed a root process");
	CHECK_CONTAINS(msg, "permission");
	CHECK_MSG(strcasestr(msg, "uid") != NULL ||
	    strcasestr(msg, "user") != NULL,
	    "\"%s\" does not mention the other user", msg);
	CHECK_EQ_INT(proc_tracer(v.pid, 0), 0);
	victim_go(&v);
	victim_expect_eq(&v, "read ", "read ok");
	CHECK_EXITED(victim_wait(&v), 0);
}
