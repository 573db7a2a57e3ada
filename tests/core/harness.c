/*
 * harness.c - the test runner and helpers declared in harness.h.
 *
 * Each test runs in a forked child that leads its own process group; the
 * parent is a child subreaper, so once the test ends it can kill the
 * group and reap every victim and orphan the test left behind.  The
 * verdict's reason travels in a shared page.
 */
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MAX_TESTS	512
#define DEFAULT_TIMEOUT	30

struct test_ent {
	const char *name;
	void (*fn)(void);
	int timeout;
};


static struct test_ent tests[MAX_TESTS];
static int ntests;

struct verdict {
	char msg[1024];
};

static struct verdict *verdict;
static pid_t test_pid;		/* the running test's process */

void
harness_register(const char *name, void (*fn)(void), int timeout)
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "harness: too many tests\n");
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	tests[ntests].timeout = timeout;
	ntests++;
}

static void
set_verdict(const char *msg)
{
	/* Only the test process itself speaks; its helpers just exit. */
	if (verdict != NULL && getpid() == test_pid && verdict->msg[0] == 0)
		snprintf(verdict->msg, sizeof (verdict->msg), "%s", msg);
}

void
harness_fail(const char *file, int line, const char *fmt, ...)
{
	char buf[900], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof (buf), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof (msg), "%s (%s:%d)", buf,
	    strrchr(file, '/') ? strrchr(file, '/') + 1 : file, line);
	set_verdict(msg);
	fflush(NULL);
	_exit(getpid() == test_pid ? 1 : 99);
}

void
harness_skip(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof (buf), fmt, ap);
	va_end(ap);
	set_verdict(buf);
	fflush(NULL);
	_exit(77);
}

void
tinfo(const char *fmt, ...)
{
	va_list ap;

	if (getenv("DTPROC_TEST_VERBOSE") == NULL)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "# ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

const char *
wstatus_str(int st)
{
	static __thread char buf[64];

	if (WIFEXITED(st))
		snprintf(buf, sizeof (buf), "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof (buf), "signal %d (%s)%s", WTERMSIG(st),
		    strsignal(WTERMSIG(st)), WCOREDUMP(st) ? " core" : "");
	else if (WIFSTOPPED(st))
		snprintf(buf, sizeof (buf), "stopped by %d", WSTOPSIG(st));
	else
		snprintf(buf, sizeof (buf), "status 0x%x", st);
	return buf;
}

/* ---- runner ---- */

static volatile sig_atomic_t alarmed;

static void
on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

int
proc_children(pid_t *pids, char *states, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[1024], *p;
		pid_t pid = atoi(e->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof (path), "/proc/%d/stat", (int)pid);
		if (read_file(path, buf, sizeof (buf)) < 0 ||
		    (p = strrchr(buf, ')')) == NULL)
			continue;
		/* ") S PPID ..." */
		if (atoi(p + 4) != getpid())
			continue;
		if (n < max) {
			pids[n] = pid;
			if (states != NULL)
				states[n] = p[2];
		}
		n++;
	}
	closedir(d);
	return n;
}

/* SIGKILL every process whose parent is us (orphans we inherited). */
static void
kill_children(void)
{
	pid_t pids[4096];
	int n = proc_children(pids, NULL, 4096);

	for (int i = 0; i < n && i < 4096; i++)
		kill(pids[i], SIGKILL);
}

/* Kill the test's process group and reap everything we inherited. */
static void
cleanup_after(pid_t pgid)
{
	struct sigaction sa;

	kill(-pgid, SIGKILL);
	kill_children();
	memset(&sa, 0, sizeof (sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: waitpid -> EINTR */
	sigaction(SIGALRM, &sa, NULL);
	alarmed = 0;
	alarm(10);
	for (;;) {
		if (waitpid(-1, NULL, __WALL) > 0)
			continue;
		if (errno == EINTR && !alarmed)
			continue;
		break;
	}
	alarm(0);
	if (alarmed)
		fprintf(stderr, "# harness: children left after test group "
		    "%d was killed\n", (int)pgid);
}

static void
run_child(const struct test_ent *t, int timeout)
{
	int fd;

	setpgid(0, 0);
	test_pid = getpid();
	signal(SIGALRM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	/* Created victims inherit stdin: never let them read a terminal. */
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	alarm(timeout);
	t->fn();
	fflush(NULL);
	_exit(0);
}

int
main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0, skipped = 0, deftimeout = DEFAULT_TIMEOUT;
	const char *e = getenv("DTPROC_TEST_TIMEOUT");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (filter != NULL && strcmp(filter, "-l") == 0) {
		for (int i = 0; i < ntests; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (e != NULL && atoi(e) > 0)
		deftimeout = atoi(e);
	verdict = mmap(NULL, sizeof (*verdict), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (verdict == MAP_FAILED) {
		perror("harness: mmap");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		perror("harness: PR_SET_CHILD_SUBREAPER");

	for (int i = 0; i < ntests; i++) {
		const struct test_ent *t = &tests[i];
		int timeout = t->timeout > 0 ? t->timeout : deftimeout;
		pid_t pid;
		int st;

		if (filter != NULL && strstr(t->name, filter) == NULL)
			continue;
		if (t->timeout > 0 && t->timeout < deftimeout)
			timeout = deftimeout;	/* a larger default wins */
		memset(verdict, 0, sizeof (*verdict));
		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			perror("harness: fork");
			return 2;
		}
		if (pid == 0)
			run_child(t, timeout);
		setpgid(pid, pid);
		while (waitpid(pid, &st, 0) < 0) {
			if (errno != EINTR) {
				perror("harness: waitpid");
				return 2;
			}
		}
		cleanup_after(pid);

		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("ok %s\n", t->name);
			passed++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
			printf("skip %s: %s\n", t->name, verdict->msg);
			skipped++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
		    verdict->msg[0] != 0) {
			printf("FAIL %s: %s\n", t->name, verdict->msg);
			failed++;
		} else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
			printf("FAIL %s: timed out after %d s%s%s\n", t->name,
			    timeout, verdict->msg[0] ? ": " : "",
			    verdict->msg);
			failed++;
		} else {
			printf("FAIL %s: test process ended with %s%s%s\n",
			    t->name, wstatus_str(st),
			    verdict->msg[0] ? ": " : "", verdict->msg);
			failed++;
		}
	}
	printf("# passed %d failed %d skipped %d\n", passed, failed, skipped);
	return failed > 0 ? 1 : 0;
}

/* ---- victims ---- */

const char *
build_file(const char *rel, int mode, const char *what)
{
	static __thread char bufs[4][PATH_MAX];
	static __thread int next;
	const char *build = getenv("DTPROC_BUILD");
	char path[PATH_MAX];
	char *buf = bufs[next++ % 4];

	if (build == NULL || build[0] == 0)
		build = "build";
	snprintf(path, sizeof (path), "%s/tests/%s", build, rel);
	if (realpath(path, buf) == NULL || access(buf, mode) != 0)
		FAIL("%s not built: %s: %s", what, path, strerror(errno));
	return buf;
}

const char *
victim_path(const char *name)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof (rel), "victims/%s", name);
	return build_file(rel, X_OK, name);
}

static void
pipe_ok(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0)
		FAIL("pipe2: %s", strerror(errno));
}

static char **
build_argv(const char *path, char *const extra[])
{
	static __thread char *av[64];
	int n = 0;

	av[n++] = (char *)path;
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 63; i++)
		av[n++] = extra[i];
	av[n] = NULL;
	return av;
}

/* V for victim NAME (or the file NAME when it starts with '/') with no
   pid yet, pipes IN and OUT made; its argv with ARGV_EXTRA. */
static char **
victim_setup(const char *name, char *const argv_extra[], struct victim *v,
    int in[2], int out[2])
{
	memset(v, 0, sizeof (*v));
	v->pid = -1;
	snprintf(v->path, sizeof (v->path), "%s",
	    name[0] == '/' ? name : victim_path(name));
	pipe_ok(in);
	pipe_ok(out);
	return build_argv(v->path, argv_extra);
}

pid_t
spawn_victim(const char *name, char *const argv_extra[], struct victim *v)
{
	int in[2], out[2];
	char **av;
	sigset_t none;
	pid_t pid;

	av = victim_setup(name, argv_extra, v, in, out);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execv(v->path, av);
		fprintf(stderr, "exec %s: %s\n", v->path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	v->pid = pid;
	v->in = in[1];
	v->out = out[0];
	tinfo("spawned %s pid %d", name, (int)pid);
	return pid;
}

int
start_on_pipes(const char *name, char *const argv_extra[], struct victim *v,
    int (*start)(const char *path, char **av, void *arg), void *arg)
{
	int in[2], out[2], save0, save1, rc;
	char **av;

	av = victim_setup(name, argv_extra, v, in, out);
	save0 = fcntl(0, F_DUPFD_CLOEXEC, 10);
	save1 = fcntl(1, F_DUPFD_CLOEXEC, 10);
	if (save0 < 0 || save1 < 0)
		FAIL("dup: %s", strerror(errno));
	fflush(stdout);
	dup2(in[0], 0);		/* dup2 clears close-on-exec: inherited */
	dup2(out[1], 1);
	rc = start(v->path, av, arg);
	dup2(save0, 0);
	dup2(save1, 1);
	close(save0);
	close(save1);
	close(in[0]);
	close(out[1]);
	v->in = in[1];
	v->out = out[0];
	return rc;
}

struct pt_start {
	char *const *envp;
	const sigset_t *mask;
	pt_proc_t **pp;
};

static int
pt_start(const char *path, char **av, void *arg)
{
	struct pt_start *s = arg;

	return pt_create(path, av, s->envp, s->mask, s->pp);
}

int
create_victim(const char *name, char *const argv_extra[], char *const envp[],
    const sigset_t *mask, struct victim *v, pt_proc_t **pp)
{
	struct pt_start s = { envp, mask, pp };
	int rc = start_on_pipes(name, argv_extra, v, pt_start, &s);

	if (rc == 0)
		v->pid = pt_pid(*pp);
	tinfo("created %s: rc %d pid %d", name, rc, (int)v->pid);
	return rc;
}

struct api_start {
	dtproc_t *dtp;
	int stop;
	dtproc_proc_t *pr;
};

static int
api_create_cb(const char *path, char **av, void *arg)
{
	struct api_start *s = arg;

	s->pr = dtproc_create(s->dtp, path, av, s->stop);
	return s->pr != NULL ? 0 : -1;
}

dtproc_proc_t *
create_v(dtproc_t *dtp, const char *name, char *const extra[], int stop,
    struct victim *v)
{
	struct api_start s = { dtp, stop, NULL };

	(void) start_on_pipes(name, extra, v, api_create_cb, &s);
	if (s.pr != NULL)
		v->pid = dtproc_pid(s.pr);
	tinfo("dtproc_create %s stop %#x: %p pid %d%s%s", name, stop,
	    (void *)s.pr, (int)v->pid, s.pr ? "" : ": ",
	    s.pr ? "" : dtproc_errmsg(dtp));
	return s.pr;
}

dtproc_proc_t *
create_ok(dtproc_t *dtp, const char *name, char *const extra[], int stop,
    struct victim *v)
{
	dtproc_proc_t *pr = create_v(dtp, name, extra, stop, v);

	CHECK_MSG(pr != NULL, "dtproc_create %s: %s", name,
	    dtproc_errmsg(dtp));
	CHECK(v->pid > 0);
	return pr;
}

dtproc_proc_t *
dt_running_ctlv(dtproc_t *dtp, const char *mode, struct victim *v,
    uintptr_t *target)
{
	char line[256];
	dtproc_proc_t *pr = create_ok(dtp, "ctlv",
	    (char *[]){ (char *)mode, NULL }, DTPROC_STOP_CREATE, v);

	dtproc_continue(dtp, pr);
	victim_ready(v, line, sizeof (line));
	if (target != NULL)
		*target = line_field(line, "target");
	return pr;
}

pt_proc_t *
create_ok_victim(const char *name, char *const argv_extra[],
    char *const envp[], const sigset_t *mask, struct victim *v)
{
	pt_proc_t *P = NULL;
	int rc;

	rc = create_victim(name, argv_extra, envp, mask, v, &P);
	CHECK_MSG(rc == 0, "pt_create %s: %d: %s", name, rc, err_msg());
	return P;
}

pid_t
spawn_victim_indirect(const char *name, char *const argv_extra[],
    struct victim *v, pid_t *middle)
{
	int in[2], out[2], ctl[2];
	char **av;
	pid_t h, pid = -1;

	av = victim_setup(name, argv_extra, v, in, out);
	pipe_ok(ctl);
	fflush(NULL);
	if ((h = fork()) < 0)
		FAIL("fork: %s", strerror(errno));
	if (h == 0) {
		sigset_t none;
		int st;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if ((pid = fork()) < 0)
			_exit(120);
		if (pid == 0) {
			dup2(in[0], 0);
			dup2(out[1], 1);
			execv(v->path, av);
			_exit(127);
		}
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		if (write(ctl[1], &pid, sizeof (pid)) != sizeof (pid))
			_exit(121);
		close(ctl[1]);
		while (waitpid(pid, &st, 0) < 0) {
			if (errno != EINTR)
				_exit(122);
		}
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	close(in[0]);
	close(out[1]);
	close(ctl[1]);
	if (read(ctl[0], &pid, sizeof (pid)) != sizeof (pid))
		FAIL("helper %d did not report its child", (int)h);
	close(ctl[0]);
	v->pid = pid;
	v->in = in[1];
	v->out = out[0];
	*middle = h;
	tinfo("spawned %s pid %d under helper %d", name, (int)pid, (int)h);
	return pid;
}

ssize_t
victim_readline(struct victim *v, char *buf, size_t n)
{
	size_t len = 0;

	for (;;) {
		char c;
		ssize_t r = read(v->out, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (len == 0)
				return -1;
			break;
		}
		if (c == '\n')
			break;
		if (len + 1 < n)
			buf[len++] = c;
	}
	buf[len] = '\0';
	tinfo("victim %d: %s", (int)v->pid, buf);
	return (ssize_t)len;
}

char *
victim_expect(struct victim *v, char *buf, size_t n, const char *prefix)
{
	for (;;) {
		if (victim_readline(v, buf, n) < 0)
			FAIL("victim %d: EOF while waiting for \"%s\"",
			    (int)v->pid, prefix);
		if (strncmp(buf, prefix, strlen(prefix)) == 0)
			return buf;
	}
}

char *
spawn_ready(const char *name, char *const argv_extra[], struct victim *v,
    char *line, size_t n)
{
	spawn_victim(name, argv_extra, v);
	return victim_ready(v, line, n);
}

pt_proc_t *
spawn_grab(const char *name, char *const argv_extra[], struct victim *v,
    char *line, size_t n, int flags)
{
	spawn_ready(name, argv_extra, v, line, n);
	return grab_ok(v->pid, flags);
}

pt_proc_t *
grab_usr1_stop(struct victim *v, pt_event_t *ev)
{
	char line[256];
	pt_proc_t *P = spawn_grab("signals", (char *[]){ "usr1", NULL }, v,
	    line, sizeof (line), 0);

	CHECK_PT(pt_resume(P));
	CHECK_EQ_INT(kill(v->pid, SIGUSR1), 0);
	wait_for_event(P, PT_EV_SIGNAL, ev, NULL, 10);
	CHECK_EQ_INT(ev->pe_sig, SIGUSR1);
	return P;
}

void
check_silent(struct victim *v, int ms)
{
	struct pollfd p = { .fd = v->out, .events = POLLIN };
	int r;

	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	CHECK_MSG(r == 0, "victim %d answered while it should be stopped",
	    (int)v->pid);
}

void
check_eof(struct victim *v, int ms)
{
	struct pollfd pfd = { .fd = v->out, .events = POLLIN };
	char buf[256];
	ssize_t r;

	for (;;) {
		CHECK_MSG(poll(&pfd, 1, ms) == 1, "victim %d still alive",
		    (int)v->pid);
		r = read(v->out, buf, sizeof (buf));
		if (r == 0)
			return;
		CHECK_MSG(r > 0 || errno == EINTR, "read: %s",
		    strerror(errno));
	}
}

void
victim_expect_eq(struct victim *v, const char *prefix, const char *want)
{
	char line[1024];

	victim_expect(v, line, sizeof (line), prefix);
	CHECK_STR_EQ(line, want);
}

char *
victim_ready(struct victim *v, char *buf, size_t n)
{
	victim_expect(v, buf, n, "ready ");
	if (atoi(buf + 6) != v->pid)
		FAIL("victim ready line names pid %d, not %d", atoi(buf + 6),
		    (int)v->pid);
	return buf;
}

void
victim_send(struct victim *v, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t r = write(v->in, s, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			FAIL("write to victim %d: %s", (int)v->pid,
			    strerror(errno));
		s += r;
		len -= r;
	}
}

void
victim_go(struct victim *v)
{
	victim_send(v, "g\n");
}

int
victim_wait(struct victim *v)
{
	int st;

	while (waitpid(v->pid, &st, 0) < 0) {
		if (errno != EINTR)
			FAIL("waitpid %d: %s", (int)v->pid, strerror(errno));
	}
	return st;
}

void
victim_quit(struct victim *v)
{
	victim_send(v, "q\n");
	CHECK_EXITED(victim_wait(v), 0);
}

void
victim_wait_stopped(struct victim *v)
{
	int st;

	for (;;) {
		if (waitpid(v->pid, &st, WUNTRACED) < 0) {
			if (errno == EINTR)
				continue;
			FAIL("waitpid %d: %s", (int)v->pid, strerror(errno));
		}
		if (WIFSTOPPED(st))
			return;
		FAIL("victim %d: %s while waiting for a stop", (int)v->pid,
		    wstatus_str(st));
	}
}

void
victim_close(struct victim *v)
{
	if (v->in >= 0)
		close(v->in);
	if (v->out >= 0)
		close(v->out);
	v->in = v->out = -1;
}

unsigned long long
line_field(const char *line, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = line; (p = strstr(p, key)) != NULL; p++) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=')
			return strtoull(p + klen + 1, NULL, 0);
	}
	FAIL("no %s= in \"%s\"", key, line);
}

int
line_has(const char *line, const char *key)
{
	return strstr(line, key) != NULL;
}

/* ---- event loop ---- */

const char *
ev_name(pt_event_kind_t k)
{
	static const char *names[] = {
		"NONE", "THREAD_NEW", "THREAD_EXIT", "FORK", "VFORK",
		"VFORK_DONE", "EXEC", "SIGNAL", "JOBSTOP", "JOBCONT",
		"BREAKPOINT", "EXIT", "LOST"
	};

	if ((unsigned)k < sizeof (names) / sizeof (names[0]))
		return names[k];
	return "?";
}

/* -ESRCH is no error for a thread that is really gone (killed, exited). */
static int
gone_ok(pt_proc_t *P, pid_t tid, int rc)
{
	char s;

	if (rc != -ESRCH)
		return rc;
	s = proc_state(pt_pid(P), tid);
	return (s == 0 || s == 'Z' || s == 'X') ? 0 : rc;
}

int
run_default(pt_proc_t *P, const pt_event_t *ev)
{
	uint8_t orig;
	int rc;

	if (!ev->pe_stopped)
		return 0;
	if (ev->pe_kind == PT_EV_BREAKPOINT &&
	    pt_bkpt_orig(P, ev->pe_addr, &orig) == 0) {
		rc = gone_ok(P, ev->pe_tid, pt_bkpt_step(P, ev->pe_tid));
		if (rc < 0)
			return rc;
	}
	return gone_ok(P, ev->pe_tid, pt_resume_thread(P, ev->pe_tid));
}

static void
count_event(struct run_counts *c, const pt_event_t *ev)
{
	if (c == NULL)
		return;
	if ((unsigned)ev->pe_kind <= PT_EV_LOST)
		c->ev[ev->pe_kind]++;
	if (ev->pe_kind == PT_EV_SIGNAL && ev->pe_sig > 0 &&
	    ev->pe_sig < NSIG)
		c->sigs[ev->pe_sig]++;
	c->nevents++;
	c->last = *ev;
}

static pid_t
pid_max(void)
{
	static pid_t max;
	char buf[32];

	if (max == 0) {
		max = 4194304;		/* the kernel's limit */
		if (read_file("/proc/sys/kernel/pid_max", buf,
		    sizeof (buf)) > 0 && atoi(buf) > 0)
			max = atoi(buf);
	}
	return max;
}

static int
next_event(pt_proc_t *P, pt_event_t *ev, char *err, size_t errlen)
{
	for (;;) {
		int r;

		memset(ev, 0, sizeof (*ev));
		r = pt_wait(P, ev, 1);
		if (r == -EINTR)
			continue;
		if (r == 1 && (ev->pe_tid <= 0 || ev->pe_tid > pid_max())) {
			snprintf(err, errlen, "%s event with a bad tid %d",
			    ev_name(ev->pe_kind), (int)ev->pe_tid);
			return -1;
		}
		if (r == 1) {
			tinfo("event %s tid %d child %d sig %d status 0x%x "
			    "addr %#lx stopped %d", ev_name(ev->pe_kind),
			    (int)ev->pe_tid, (int)ev->pe_child, ev->pe_sig,
			    ev->pe_status, (unsigned long)ev->pe_addr,
			    ev->pe_stopped);
			return 0;
		}
		snprintf(err, errlen, "pt_wait returned %d (%s) before "
		    "PT_EV_EXIT: %s", r, r < 0 ? strerror(-r) : "nothing",
		    err_msg());
		return -1;
	}
}

int
run_events(pt_proc_t *P, struct run_counts *c, run_cb_t cb, void *arg)
{
	struct run_counts dummy;
	pt_event_t ev;

	if (c == NULL)
		c = &dummy;
	memset(c, 0, sizeof (*c));
	for (;;) {
		int r = RUN_DEFAULT;

		if (next_event(P, &ev, c->err, sizeof (c->err)) < 0)
			return -1;
		count_event(c, &ev);
		if (cb != NULL)
			r = cb(P, &ev, arg);
		if (r == RUN_ABORT) {
			if (c->err[0] == 0)
				snprintf(c->err, sizeof (c->err),
				    "aborted by the callback at %s",
				    ev_name(ev.pe_kind));
			return -1;
		}
		if (ev.pe_kind == PT_EV_EXIT)
			return ev.pe_status;
		if (r == RUN_DEFAULT && (r = run_default(P, &ev)) < 0) {
			snprintf(c->err, sizeof (c->err),
			    "resuming tid %d after %s: %s (%s)",
			    (int)ev.pe_tid, ev_name(ev.pe_kind),
			    strerror(-r), err_msg());
			return -1;
		}
	}
}

int
run_until_exit(pt_proc_t *P, struct run_counts *c)
{
	return run_events(P, c, NULL, NULL);
}

int
run_checked(pt_proc_t *P, struct run_counts *c)
{
	int st = run_events(P, c, NULL, NULL);

	CHECK_RUN(st, c);
	return st;
}

void
wait_for_event(pt_proc_t *P, pt_event_kind_t kind, pt_event_t *ev,
    struct run_counts *c, int maxev)
{
	char err[512];

	for (int i = 0; i <= maxev; i++) {
		int r;

		if (next_event(P, ev, err, sizeof (err)) < 0)
			FAIL("waiting for %s: %s", ev_name(kind), err);
		count_event(c, ev);
		if (ev->pe_kind == kind)
			return;
		if (ev->pe_kind == PT_EV_EXIT)
			FAIL("waiting for %s: process exited (%s)",
			    ev_name(kind), wstatus_str(ev->pe_status));
		if ((r = run_default(P, ev)) < 0)
			FAIL("waiting for %s: resuming after %s: %s",
			    ev_name(kind), ev_name(ev->pe_kind),
			    strerror(-r));
	}
	FAIL("no %s within %d events", ev_name(kind), maxev);
}

int
event_stopped(const pt_event_t *ev, pt_event_kind_t kind)
{
	if (ev->pe_kind != kind)
		return 0;
	CHECK_MSG(ev->pe_stopped, "%s event of thread %d: not stopped",
	    ev_name(kind), (int)ev->pe_tid);
	return 1;
}

pt_proc_t *
grab_ok(pid_t pid, int flags)
{
	pt_proc_t *P = NULL;
	int rc;

	rc = pt_grab(pid, flags, &P);
	if (rc < 0 || P == NULL)
		FAIL("pt_grab(%d, %#x): %d: %s", (int)pid, flags, rc,
		    err_msg());
	return P;
}

/* ---- time, library handles, our own threads ---- */

long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Threads a sanitizer runs in the background (TSan's starts with the
   first pthread_create): not ours to count.  -1 until counted. */
static int extra_threads = -1;

static void *
noop_thread(void *arg)
{
	*(pid_t *)arg = gettid();
	return NULL;
}

/*
 * The threads a sanitizer runtime starts, counted once before any of
 * ours: a thread started and joined here is waited for through a thread
 * pidfd (readable once the kernel has let it go), or it may still be
 * listed in /proc and counted as the runtime's.
 */
void
count_extra_threads(void)
{
	pid_t tids[64], tid = 0;
	pthread_t t;

	if (extra_threads >= 0)
		return;
	if (pthread_create(&t, NULL, noop_thread, &tid) == 0) {
		int fd;

		pthread_join(t, NULL);
		fd = tid > 0 ? (int)syscall(SYS_pidfd_open, tid,
		    PIDFD_THREAD) : -1;
		if (fd >= 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			(void) poll(&p, 1, 5000);
			close(fd);
		}
	}
	extra_threads = proc_tasks(getpid(), tids, 64) - 1;
}

int
sanitizer_threads(void)
{
	return extra_threads > 0 ? extra_threads : 0;
}

int
our_threads(void)
{
	pid_t tids[1024];

	return proc_tasks(getpid(), tids, 1024) - sanitizer_threads();
}

int
api_wait_dead(dtproc_t *dtp, dtproc_proc_t *pr, int ms)
{
	long end = now_ms() + ms, left;

	while (dtproc_state(dtp, pr) != DTPROC_PS_DEAD &&
	    (left = end - now_ms()) > 0) {
		if (dtproc_sleep(dtp, (int)left) > 0)
			(void) dtproc_handle_notify(dtp, NULL, NULL);
	}
	CHECK_MSG(dtproc_state(dtp, pr) == DTPROC_PS_DEAD,
	    "pid %d not dead within %d ms", (int)dtproc_pid(pr), ms);
	return dtproc_status(dtp, pr);
}

dtproc_t *
open_ok(void)
{
	int err = 0;
	dtproc_t *dtp;

	count_extra_threads();	/* before any control thread exists */
	dtp = dtproc_open(0, &err);
	CHECK_MSG(dtp != NULL, "dtproc_open: %s", strerror(err));
	return dtp;
}
