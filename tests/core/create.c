/*
 * create.c - pt_create(): the stop at exec, argv/envp/sigmask passing,
 * PATH search, and the error messages of a failed exec.
 */
#include "harness.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>

#define CREATE_OK(rc, err) \
	CHECK_MSG((rc) == 0, "pt_create: %d: %s", (rc), err_msg())

/* Read the victim's output lines into one string ("a\nb\n..."). */
static char *
slurp(struct victim *v, char *buf, size_t n)
{
	char line[512];
	size_t len = 0;

	buf[0] = 0;
	while (victim_readline(v, line, sizeof (line)) >= 0)
		len += snprintf(buf + len, len < n ? n - len : 0, "%s\n", line);
	return buf;
}

/*
 * Create exit_code with ARGS, ENVP and MASK (as pt_create takes them),
 * run it to its exit 0 under our control; its output in OUT.
 */
static char *
run_exit_code(char *args[], char *envp[], const sigset_t *mask, char *out,
    size_t n)
{
	struct run_counts c;
	struct victim v;
	pt_proc_t *P = create_ok_victim("exit_code", args, envp, mask, &v);

	CHECK_PT(pt_resume(P));
	CHECK_EXITED(run_checked(P, &c), 0);
	pt_release(P, PT_RELEASE_DEFAULT);
	slurp(&v, out, n);
	victim_close(&v);
	return out;
}

/* No child of ours is left, not even a zombie. */
static void
check_no_child(void)
{
	int st;
	pid_t p = waitpid(-1, &st, WNOHANG | __WALL);

	CHECK_MSG(p < 0 && errno == ECHILD,
	    "a child was left behind: waitpid -> %d (%s)", (int)p,
	    p > 0 ? wstatus_str(st) : strerror(errno));
}

/* A scratch directory under $TMPDIR. */
static const char *
scratch_dir(void)
{
	static char dir[PATH_MAX];
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof (dir), "%s/dtproc-test-XXXXXX",
	    t != NULL && t[0] != 0 ? t : "/tmp");
	if (mkdtemp(dir) == NULL)
		FAIL("mkdtemp: %s", strerror(errno));
	return dir;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		FAIL("%s: %s", path, strerror(errno));
	fchmod(fd, mode);
	close(fd);
}

/* pt_create(PATH) must fail with ERRNO and a message containing TEXT. */
static void
check_create_fails(const char *path, int errnum, const char *text)
{
	char *av[] = { (char *)path, NULL };
	pt_proc_t *P = NULL;
	int rc;

	err_clear();
	rc = pt_create(path, av, NULL, NULL, &P);
	tinfo("pt_create(%s): %d: %s", path, rc, err_msg());
	CHECK_MSG(rc < 0, "pt_create(%s) succeeded", path);
	CHECK_EQ_INT(rc, -errnum);
	CHECK_EQ_INT(err_code(), errnum);
	CHECK_CONTAINS(err_msg(), path);
	CHECK_CONTAINS(err_msg(), text);
	CHECK_PREFIX(err_msg(), "failed to execute ");
	check_no_child();
}

TEST(create_stopped_at_exec)
{
	char exe[PATH_MAX];
	struct pollfd pfd;
	struct run_counts c;
	struct victim v;
	pt_proc_t *P;
	pt_event_t ev;
	int st;

	P = create_ok_victim("exit_code", (char *[]){ "7", NULL }, NULL, NULL,
	    &v);
	CHECK(v.pid > 0);
	CHECK_EQ_INT(pt_state(P), PT_STOPPED);
	CHECK_EQ_INT(pt_why(P), PT_WHY_EVENT);
	CHECK(pt_created(P));
	CHECK(!pt_rdonly(P));
	CHECK_EQ_INT(pt_nthreads(P), 1);
	CHECK_EQ_INT(proc_state(v.pid, 0), 't');
	CHECK_EQ_INT(proc_tracer(v.pid, 0), getpid());
	CHECK_MSG(realpath(pt_exe(P), exe) != NULL && strcmp(exe, v.path) == 0,
	    "pt_exe() \"%s\" is not %s", pt_exe(P), v.path);

	/* Stopped at exec: main() has not printed anything yet. */
	pfd.fd = v.out;
	pfd.events = POLLIN;
	CHECK_EQ_INT(poll(&pfd, 1, 0), 0);

	CHECK_PT(pt_resume(P));
	st = run_checked(P, &c);
	CHECK_EXITED(st, 7);
	CHECK_EQ_INT(c.ev[PT_EV_SIGNAL], 0);
	CHECK_EQ_INT(pt_state(P), PT_DEAD);
	CHECK_EQ_INT(pt_exit_status(P), st);
	victim_expect_eq(&v, "exit ", "exit 7");

	/* EXIT came once; then the process is gone. */
	CHECK_EQ_INT(pt_wait(P, &ev, 0), -ESRCH);
	CHECK_EQ_INT(pt_wait(P, &ev, 1), -ESRCH);
	pt_release(P, PT_RELEASE_DEFAULT);
	check_no_child();
}

TEST(create_argv_env)
{
	char *envp[] = { "DTPROC_TEST_ENV=hello world", "PATH=/usr/bin:/bin",
	    NULL };
	char out[4096];

	setenv("DTPROC_TEST_ENV", "not this one", 1);
	run_exit_code((char *[]){ "0", "a b", "", "--x=y", NULL }, envp, NULL,
	    out, sizeof (out));
	CHECK_STR_EQ(out, "argc=5\nargv1=0\nargv2=a b\nargv3=\nargv4=--x=y\n"
	    "env=hello world\nblocked=none\nexit 0\n");
}

/* With our DTPROC_TEST_ENV set to OURS, exit_code created with ENVP
   prints the line WANT. */
static void
check_env(char *envp[], const char *ours, const char *want)
{
	char out[4096];

	setenv("DTPROC_TEST_ENV", ours, 1);
	run_exit_code((char *[]){ "0", NULL }, envp, NULL, out, sizeof (out));
	CHECK_CONTAINS(out, want);
}

TEST(create_env_inherited)
{
	check_env(NULL, "inherited", "\nenv=inherited\n");
}

TEST(create_empty_env)
{
	check_env((char *[]){ NULL }, "must not leak", "\nenv=(unset)\n");
}

TEST(create_sigmask)
{
	char *args[] = { "0", NULL };
	char out[4096];
	sigset_t mask;

	/* An explicit mask is the child's mask... */
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	run_exit_code(args, NULL, &mask, out, sizeof (out));
	CHECK_CONTAINS(out, "\nblocked=10,12\n");

	/* ...and an empty one unblocks what we block. */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigemptyset(&mask);
	run_exit_code(args, NULL, &mask, out, sizeof (out));
	CHECK_CONTAINS(out, "\nblocked=none\n");
}

TEST(create_path_search)
{
	char *av[] = { "true", NULL };
	struct run_counts c;
	pt_proc_t *P = NULL;
	const char *exe;
	int rc, st;

	err_clear();
	rc = pt_create("true", av, NULL, NULL, &P);
	CREATE_OK(rc, err);
	exe = pt_exe(P);
	CHECK_MSG(exe[0] == '/' && strlen(exe) >= 5 &&
	    strcmp(exe + strlen(exe) - 5, "/true") == 0,
	    "pt_exe() is \"%s\"", exe);
	CHECK_EQ_INT(pt_state(P), PT_STOPPED);
	CHECK_PT(pt_resume(P));
	st = run_checked(P, &c);
	CHECK_EXITED(st, 0);
	pt_release(P, PT_RELEASE_DEFAULT);
	check_no_child();
}

TEST(create_path_search_missing)
{
	check_create_fails("dtproc-no-such-command", ENOENT,
	    "No such file or directory");
}

TEST(create_missing_file)
{
	check_create_fails("/nonexistent", ENOENT,
	    "failed to execute /nonexistent: No such file or directory");
}

TEST(create_not_executable)
{
	char path[PATH_MAX];
	const char *dir = scratch_dir();

	snprintf(path, sizeof (path), "%s/script", dir);
	write_file(path, "#!/bin/sh\nexit 0\n", 0644);
	check_create_fails(path, EACCES, "Permission denied");
	unlink(path);
	rmdir(dir);
}

TEST(create_not_elf)
{
	char path[PATH_MAX];
	const char *dir = scratch_dir();

	/* Executable, no "#!", not ELF: execve() says ENOEXEC, and that
	   must not turn into running it with /bin/sh. */
	snprintf(path, sizeof (path), "%s/garbage", dir);
	write_file(path, "\x01\x02\x03 this is not a program\nexit 0\n",
	    0755);
	check_create_fails(path, ENOEXEC, "Exec format error");
	unlink(path);
	rmdir(dir);
}

TEST(create_directory)
{
	const char *dir = scratch_dir();

	check_create_fails(dir, EACCES, "Permission denied");
	rmdir(dir);
}

TEST(create_two_processes)
{
	char *a3[] = { "3", NULL }, *a4[] = { "4", NULL };
	struct run_counts c;
	struct victim va, vb;
	pt_proc_t *A, *B;
	int rc, st;

	/* One owner, two tracees: each one's events go to its handle. */
	rc = create_victim("exit_code", a3, NULL, NULL, &va, &A);
	CREATE_OK(rc, err);
	rc = create_victim("exit_code", a4, NULL, NULL, &vb, &B);
	CREATE_OK(rc, err);
	CHECK_PT(pt_resume(B));
	CHECK_PT(pt_resume(A));
	st = run_checked(A, &c);
	CHECK_EXITED(st, 3);
	st = run_checked(B, &c);
	CHECK_EXITED(st, 4);
	pt_release(A, PT_RELEASE_DEFAULT);
	pt_release(B, PT_RELEASE_DEFAULT);
	check_no_child();
}
