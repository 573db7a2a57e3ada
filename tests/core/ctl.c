/*
 * ctl.c - the control layer through its public API (dtproc.h): open and
 * close, create at each rendezvous, death notices, error messages,
 * reference counts and the LRU cache of read-only handles, handles tied
 * to their process, breakpoints with callbacks, dynamic-linker activity,
 * exec, fork and vfork, requested stops, a victim dying under a request,
 * continues racing the rendezvous, close with handles in every state.
 *
 * Only dtproc_* calls drive the processes; the harness supplies victims
 * and /proc readers.  A victim traced by one of our control threads is
 * never waitpid()ed here: a wait in any thread of the tracer's process
 * could take the control thread's ptrace stops.
 */
#include "dtproc.h"
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

/* ---------------------------------------------------------------- helpers */

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Wait up to MS for COND, an observable condition with no event to wait
 * on (/proc, a state read through the API, a counter of one of our
 * threads): check it, yield, until a monotonic deadline.  No verdict:
 * the caller checks COND afterwards.
 */
#define WAIT_UNTIL(cond, ms) do {					\
	long u_ = now_ms() + (ms);					\
	while (!(cond) && now_ms() < u_)				\
		sched_yield();						\
} while (0)

/*
 * Wait up to MS for PID to exit (a zombie, or gone): its pidfd turns
 * readable.  No verdict: the caller checks what it needs afterwards.
 */
static void
wait_exit(pid_t pid, int ms)
{
	long end = now_ms() + ms;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left;

		while ((left = end - now_ms()) > 0 &&
		    poll(&p, 1, (int)left) < 0 && errno == EINTR)
			;
		close(fd);
	} else if (errno != ESRCH) {
		/* no pidfds: watch /proc instead */
		WAIT_UNTIL(!proc_alive(pid), ms);
	}
}

/* Threads a sanitizer runs in the background (TSan's starts with the
   first pthread_create): not ours to count. */
static int extra_threads = -1;

static void *
noop_thread(void *arg)
{
	return arg;
}

static void
count_extra_threads(void)
{
	pid_t tids[64];
	pthread_t t;

	if (extra_threads >= 0)
		return;
	if (pthread_create(&t, NULL, noop_thread, NULL) == 0)
		pthread_join(t, NULL);
	extra_threads = proc_tasks(getpid(), tids, 64) - 1;
}

static dtproc_t *
open_ok(void)
{
	int err = 0;
	dtproc_t *dtp;

	count_extra_threads();	/* before any control thread exists */
	dtp = dtproc_open(0, &err);

	CHECK_MSG(dtp != NULL, "dtproc_open: %s", strerror(err));
	return dtp;
}

static char **
make_argv(const char *path, char *const extra[])
{
	static __thread char *av[64];
	int n = 0;

	av[n++] = (char *)path;
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 63; i++)
		av[n++] = extra[i];
	av[n] = NULL;
	return av;
}

/*
 * dtproc_create() victim NAME (or the file PATH when NAME starts with
 * '/') with pipes on its stdin and stdout: fd 0 and 1 are swapped for the
 * pipe ends around the call.  NULL on failure (v->pid is then -1).
 */
static dtproc_proc_t *
create_v(dtproc_t *dtp, const char *name, char *const extra[], int stop,
    struct victim *v)
{
	int in[2], out[2], save0, save1;
	dtproc_proc_t *pr;
	char **av;

	memset(v, 0, sizeof (*v));
	v->pid = -1;
	snprintf(v->path, sizeof (v->path), "%s",
	    name[0] == '/' ? name : victim_path(name));
	av = make_argv(v->path, extra);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		FAIL("pipe2: %s", strerror(errno));
	save0 = fcntl(0, F_DUPFD_CLOEXEC, 10);
	save1 = fcntl(1, F_DUPFD_CLOEXEC, 10);
	if (save0 < 0 || save1 < 0)
		FAIL("dup: %s", strerror(errno));
	fflush(stdout);
	dup2(in[0], 0);
	dup2(out[1], 1);
	pr = dtproc_create(dtp, v->path, av, stop);
	dup2(save0, 0);
	dup2(save1, 1);
	close(save0);
	close(save1);
	close(in[0]);
	close(out[1]);
	v->in = in[1];
	v->out = out[0];
	if (pr != NULL)
		v->pid = dtproc_pid(pr);
	tinfo("dtproc_create %s stop %#x: %p pid %d%s%s", name, stop,
	    (void *)pr, (int)v->pid, pr ? "" : ": ",
	    pr ? "" : dtproc_errmsg(dtp));
	return pr;
}

static dtproc_proc_t *
create_ok(dtproc_t *dtp, const char *name, char *const extra[], int stop,
    struct victim *v)
{
	dtproc_proc_t *pr = create_v(dtp, name, extra, stop, v);

	CHECK_MSG(pr != NULL, "dtproc_create %s: %s", name,
	    dtproc_errmsg(dtp));
	CHECK(v->pid > 0);
	return pr;
}

static dtproc_proc_t *
grab_ctl(dtproc_t *dtp, pid_t pid, int flags)
{
	dtproc_proc_t *pr = dtproc_grab(dtp, pid, flags);

	CHECK_MSG(pr != NULL, "dtproc_grab(%d, %#x): %s", (int)pid, flags,
	    dtproc_errmsg(dtp));
	CHECK_EQ_INT(dtproc_pid(pr), pid);
	return pr;
}

/* The address of NAME in PR; fails the test if it is not found. */
static uintptr_t
sym_addr(dtproc_t *dtp, dtproc_proc_t *pr, const char *name)
{
	dtproc_sym_t s;
	int rc;

	memset(&s, 0, sizeof (s));
	rc = dtproc_sym_lookup(dtp, pr, name, &s);
	CHECK_MSG(rc == 0, "dtproc_sym_lookup(%s): %d: %s", name, rc,
	    dtproc_errmsg(dtp));
	CHECK(s.ds_addr != 0);
	return s.ds_addr;
}

static int
read_int(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	int x = -1;
	ssize_t r = dtproc_read(dtp, pr, addr, &x, sizeof (x));

	CHECK_MSG(r == (ssize_t)sizeof (x), "dtproc_read(%#lx): %zd: %s",
	    (unsigned long)addr, r, dtproc_errmsg(dtp));
	return x;
}

static int
read_byte(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	uint8_t b = 0;
	ssize_t r = dtproc_read(dtp, pr, addr, &b, 1);

	CHECK_MSG(r == 1, "dtproc_read(%#lx): %zd: %s", (unsigned long)addr,
	    r, dtproc_errmsg(dtp));
	return b;
}

/* The byte at ADDR straight from /proc/PID/mem. */
static int
mem_byte(pid_t pid, uintptr_t addr)
{
	uint8_t b;

	CHECK_EQ_INT(proc_mem_read(pid, addr, &b, 1), 1);
	return b;
}

/*
 * Are all live threads of PID in one of STATES, traced by a thread of
 * process TRACER (-1: anyone, 0: nobody)?  Returns 1, or 0 with WHY filled.
 */
static int
threads_are(pid_t pid, const char *states, pid_t tracer, char *why,
    size_t n)
{
	pid_t tids[512];
	int nt = proc_tasks(pid, tids, 512), live = 0;

	if (nt < 0) {
		snprintf(why, n, "pid %d is gone", (int)pid);
		return 0;
	}
	for (int i = 0; i < nt && i < 512; i++) {
		char s = proc_state(pid, tids[i]);
		pid_t tr;

		if (s == 0 || s == 'Z' || s == 'X')
			continue;
		live++;
		if (strchr(states, s) == NULL) {
			snprintf(why, n, "thread %d of %d in state '%c', not "
			    "\"%s\"", (int)tids[i], (int)pid, s, states);
			return 0;
		}
		tr = proc_tracer(pid, tids[i]);
		/* TracerPid names the tracing thread: one of TRACER's */
		if (tracer > 0 && tr > 0 && proc_state(tracer, tr) != 0)
			tr = tracer;
		if (tracer >= 0 && tr != tracer) {
			snprintf(why, n, "thread %d of %d traced by %d, not "
			    "%d", (int)tids[i], (int)pid, (int)tr,
			    (int)tracer);
			return 0;
		}
	}
	if (live == 0) {
		snprintf(why, n, "pid %d has no live thread", (int)pid);
		return 0;
	}
	return 1;
}

#define CHECK_THREADS(pid, states, tracer) do {				\
	char w_[256];							\
	if (!threads_are((pid), (states), (tracer), w_, sizeof (w_)))	\
		FAIL("%s", w_);						\
} while (0)

/* Wait up to MS for threads_are(); fails the test otherwise. */
#define WAIT_THREADS(pid, states, tracer, ms) do {			\
	char w_[256];							\
	long e_ = now_ms() + (ms);					\
	while (!threads_are((pid), (states), (tracer), w_,		\
	    sizeof (w_))) {						\
		if (now_ms() > e_)					\
			FAIL("after %d ms: %s", (int)(ms), w_);		\
		sched_yield();						\
	}								\
} while (0)

/* Stopped at a rendezvous: every thread in a ptrace stop, traced by us. */
static void
check_resting(dtproc_t *dtp, dtproc_proc_t *pr)
{
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	CHECK_THREADS(dtproc_pid(pr), "t", getpid());
}

/* Is PR resting as check_resting() wants it? */
static int
is_resting(dtproc_t *dtp, dtproc_proc_t *pr)
{
	char w[256];

	return dtproc_state(dtp, pr) == DTPROC_PS_STOP &&
	    threads_are(dtproc_pid(pr), "t", getpid(), w, sizeof (w));
}

/* Nothing arrives on V's stdout within MS. */
static void
check_silent(struct victim *v, int ms)
{
	struct pollfd p = { .fd = v->out, .events = POLLIN };
	int r;

	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	CHECK_MSG(r == 0, "victim %d answered while it should be stopped",
	    (int)v->pid);
}

/* victim_expect() that fails after MS without a line, naming WHAT. */
static char *
expect_within(struct victim *v, char *buf, size_t n, const char *prefix,
    int ms, const char *what)
{
	long end = now_ms() + ms;

	for (;;) {
		struct pollfd p = { .fd = v->out, .events = POLLIN };
		long left = end - now_ms();
		int r;

		if (left < 0)
			left = 0;
		while ((r = poll(&p, 1, (int)left)) < 0 && errno == EINTR)
			;
		if (r == 0)
			FAIL("no \"%s\" from victim %d within %d ms: %s",
			    prefix, (int)v->pid, ms, what);
		if (victim_readline(v, buf, n) < 0)
			FAIL("victim %d: EOF while waiting for \"%s\"",
			    (int)v->pid, prefix);
		if (strncmp(buf, prefix, strlen(prefix)) == 0)
			return buf;
	}
}

/* A wait(2)-less exit status check for a victim we do not trace. */
static int
wait_untraced(struct victim *v)
{
	CHECK_EQ_INT(proc_tracer(v->pid, 0) > 0, 0);
	return victim_wait(v);
}

/* Count our descriptors that belong to PID: its pidfd, its mem file. */
static int
handle_fds(pid_t pid)
{
	char want[64], path[300], link[300], buf[1024];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	if (dir == NULL)
		FAIL("opendir /proc/self/fd: %s", strerror(errno));
	snprintf(want, sizeof (want), "/proc/%d/mem", (int)pid);
	while ((d = readdir(dir)) != NULL) {
		ssize_t r;
		int fd;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof (path), "/proc/self/fd/%s", d->d_name);
		if ((r = readlink(path, link, sizeof (link) - 1)) <= 0)
			continue;
		link[r] = '\0';
		if (strcmp(link, want) == 0) {
			n++;
			continue;
		}
		if (strstr(link, "pidfd") == NULL)
			continue;
		snprintf(path, sizeof (path), "/proc/self/fdinfo/%s",
		    d->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		r = read(fd, buf, sizeof (buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		char *p = strstr(buf, "Pid:");
		if (p != NULL && atoi(p + 4) == pid)
			n++;
	}
	closedir(dir);
	return n;
}

/* Threads of our own process: the main one and control threads. */
static int
our_threads(void)
{
	pid_t tids[1024];

	return proc_tasks(getpid(), tids, 1024) - (extra_threads > 0 ?
	    extra_threads : 0);
}

/* Wait until we are down to N threads (control threads joined). */
static void
wait_our_threads(int n, int ms)
{
	long end = now_ms() + ms;

	while (our_threads() != n) {
		if (now_ms() > end)
			FAIL("%d threads in the test process, expected %d",
			    our_threads(), n);
		sched_yield();
	}
}

/* ---- notices ---- */

#define NOTES_MAX 256

struct notes {
	int n;
	dtproc_proc_t *pr[NOTES_MAX];
	int hasmsg[NOTES_MAX];
	char msg[NOTES_MAX][512];
};

static void
note_cb(dtproc_t *dtp, dtproc_proc_t *pr, const char *msg, void *arg)
{
	struct notes *ns = arg;

	(void)dtp;
	if (ns->n >= NOTES_MAX)
		return;
	ns->pr[ns->n] = pr;
	ns->hasmsg[ns->n] = msg != NULL;
	snprintf(ns->msg[ns->n], sizeof (ns->msg[0]), "%s", msg ? msg : "");
	tinfo("notice %p: %s", (void *)pr, msg ? msg : "(null)");
	ns->n++;
}

/*
 * Collect notices until one from index FROM on names PR (NULL: any) or
 * MS pass; its index, or -1.
 */
static int
wait_notice_from(dtproc_t *dtp, struct notes *ns, dtproc_proc_t *pr,
    int from, int ms)
{
	long end = now_ms() + ms;

	for (;;) {
		for (int i = from; i < ns->n; i++) {
			if (pr == NULL || ns->pr[i] == pr)
				return i;
		}
		from = ns->n > from ? ns->n : from;
		long left = end - now_ms();
		if (left <= 0)
			return -1;
		if (dtproc_sleep(dtp, (int)left) > 0)
			(void) dtproc_handle_notify(dtp, note_cb, ns);
	}
}

/* A notice for PR not yet seen: 1 if one comes within MS. */
static int
wait_notice(dtproc_t *dtp, struct notes *ns, dtproc_proc_t *pr, int ms)
{
	return wait_notice_from(dtp, ns, pr, ns->n, ms) >= 0;
}

/* Wait for PR's death notice (no message); returns its wait status. */
static int
wait_dead(dtproc_t *dtp, dtproc_proc_t *pr, struct notes *ns, int ms)
{
	long end = now_ms() + ms;
	int i = 0;

	for (;;) {
		long left = end - now_ms();

		i = wait_notice_from(dtp, ns, pr, i, left > 0 ? (int)left : 0);
		CHECK_MSG(i >= 0, "no death notice for pid %d within %d ms "
		    "(state %d)", (int)dtproc_pid(pr), ms,
		    dtproc_state(dtp, pr));
		if (!ns->hasmsg[i])
			break;
		i++;
	}
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_DEAD);
	return dtproc_status(dtp, pr);
}

/* ---- pids ---- */

/* Make PID the next pid the kernel hands out (ns_last_pid); 0 or -1. */
static int
set_next_pid(pid_t pid)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	int n, ok;

	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof (buf), "%d", (int)pid - 1);
	ok = write(fd, buf, (size_t)n) == n;
	close(fd);
	return ok ? 0 : -1;
}

static void
ready_addrs(struct victim *v, uintptr_t *ctor, uintptr_t *mainm,
    uintptr_t *target)
{
	char line[512];

	victim_ready(v, line, sizeof (line));
	if (ctor != NULL)
		*ctor = line_field(line, "ctor_mark");
	if (mainm != NULL)
		*mainm = line_field(line, "main_mark");
	if (target != NULL)
		*target = line_field(line, "target");
}

static void
nop_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	(void)dtp; (void)pr; (void)tid; (void)addr; (void)arg;
}

/* ---------------------------------------------------------------- tests */

TEST(ctl_open_close)
{
	dtproc_t *a, *b;
	int err = -1, fd;

	count_extra_threads();
	a = dtproc_open(0, &err);
	CHECK(a != NULL);
	b = open_ok();
	CHECK(a != b);
	fd = dtproc_notify_fd(a);
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GETFD) >= 0);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK(dtproc_notify_fd(b) != fd);
	CHECK_EQ_INT(dtproc_sleep(a, 0), 0);
	CHECK_EQ_INT(dtproc_sleep(a, 20), 0);
	CHECK_EQ_INT(dtproc_handle_notify(a, note_cb, NULL), 0);
	CHECK_EQ_INT(our_threads(), 1);
	dtproc_close(a);
	dtproc_close(b);
	dtproc_close(NULL);
	/* the notify descriptor went with its handle */
	CHECK_MSG(fcntl(fd, F_GETFD) < 0, "notify fd %d still open", fd);
	CHECK_EQ_INT(our_threads(), 1);
	CHECK(strlen(dtproc_strerror(ESRCH)) > 0);
	CHECK(strlen(dtproc_strerror(-DTPROC_EZOMBIE)) > 0);
}

/* create ctlv exit 7 at STOP; check the marks there; run it out. */
static void
create_at(int stop, int ctor_want)
{
	char *args[] = { "exit", "7", NULL };
	char line[256];
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t cm, mm;
	int st;

	pr = create_ok(dtp, "ctlv", args, stop, &v);
	check_resting(dtp, pr);
	/* it stays there */
	check_silent(&v, 50);
	check_resting(dtp, pr);
	cm = sym_addr(dtp, pr, "a.out`ctor_mark");
	mm = sym_addr(dtp, pr, "a.out`main_mark");
	CHECK_EQ_INT(read_int(dtp, pr, cm), ctor_want);
	CHECK_EQ_INT(read_int(dtp, pr, mm), 0);
	CHECK_EQ_INT(dtproc_sleep(dtp, 0), 0);
	check_silent(&v, 20);

	dtproc_continue(dtp, pr);
	victim_expect(&v, line, sizeof (line), "marks ");
	CHECK_STR_EQ(line, "marks ctor=4660 main=1");
	st = wait_dead(dtp, pr, &ns, 10000);
	CHECK_EXITED(st, 7);
	CHECK_EQ_INT(ns.n, 1);
	CHECK(ns.pr[0] == pr);
	CHECK_EQ_INT(ns.hasmsg[0], 0);
	dtproc_release(dtp, pr);
	CHECK_EQ_INT(proc_state(v.pid, 0), 0);	/* reaped */
	dtproc_close(dtp);
	wait_our_threads(1, 5000);
}

TEST(ctl_create_stop_create)
{
	create_at(DTPROC_STOP_CREATE, 0);
}

TEST(ctl_create_stop_preinit)
{
	create_at(DTPROC_STOP_PREINIT, 0);
}

TEST(ctl_create_stop_postinit)
{
	create_at(DTPROC_STOP_POSTINIT, 0x1234);
}

TEST(ctl_create_stop_main)
{
	create_at(DTPROC_STOP_MAIN, 0x1234);
}

TEST(ctl_create_preinit_libs_loaded)
{
	char *args[] = { "exit", "0", NULL };
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	dtproc_sym_t s;

	/* At PREINIT libc is loaded and relocated: its symbols resolve. */
	pr = create_ok(dtp, "ctlv", args, DTPROC_STOP_PREINIT, &v);
	check_resting(dtp, pr);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "libc.so.6`malloc", &s), 0);
	CHECK(s.ds_addr != 0);
	CHECK_STR_EQ(s.ds_object, "libc.so.6");
	dtproc_continue(dtp, pr);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

/* Every stop at once: each rendezvous in turn, marks as they should be. */
TEST(ctl_create_every_stop_in_turn)
{
	char *args[] = { "exit", "3", NULL };
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t cm;

	pr = create_ok(dtp, "ctlv", args, DTPROC_STOP_CREATE |
	    DTPROC_STOP_PREINIT | DTPROC_STOP_MAIN, &v);
	check_resting(dtp, pr);
	cm = sym_addr(dtp, pr, "a.out`ctor_mark");
	CHECK_EQ_INT(read_int(dtp, pr, cm), 0);
	CHECK(dtproc_sym_lookup(dtp, pr, "libc.so.6`malloc",
	    &(dtproc_sym_t){ 0 }) != 0);
	dtproc_continue(dtp, pr);
	/* on to PREINIT: libc known, it rests again, no constructor run */
	WAIT_UNTIL(dtproc_sym_lookup(dtp, pr, "libc.so.6`malloc",
	    &(dtproc_sym_t){ 0 }) == 0, 5000);
	WAIT_UNTIL(is_resting(dtp, pr), 5000);
	check_silent(&v, 50);
	check_resting(dtp, pr);
	CHECK_EQ_INT(read_int(dtp, pr, cm), 0);
	dtproc_continue(dtp, pr);
	/* MAIN: the constructor has run */
	WAIT_UNTIL(read_int(dtp, pr, cm) == 0x1234, 5000);
	CHECK_EQ_INT(read_int(dtp, pr, cm), 0x1234);
	WAIT_UNTIL(is_resting(dtp, pr), 5000);
	check_silent(&v, 50);
	check_resting(dtp, pr);
	CHECK_EQ_INT(read_int(dtp, pr, sym_addr(dtp, pr, "a.out`main_mark")),
	    0);
	CHECK_EQ_INT(dtproc_sleep(dtp, 0), 0);
	dtproc_continue(dtp, pr);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 3);
	dtproc_close(dtp);
}

TEST(ctl_exit_notice_poll)
{
	char *args[] = { "wait", "9", NULL };
	struct notes ns = { 0 };
	struct pollfd p;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t target;
	long end;
	int r;

	pr = create_ok(dtp, "ctlv", args, DTPROC_STOP_MAIN, &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_RUN);
	p.fd = dtproc_notify_fd(dtp);
	p.events = POLLIN;
	CHECK_EQ_INT(poll(&p, 1, 0), 0);
	victim_go(&v);

	/* a client's poll loop sees the descriptor readable */
	end = now_ms() + 10000;
	while ((r = poll(&p, 1, 100)) == 0 && now_ms() < end)
		;
	CHECK_EQ_INT(r, 1);
	CHECK(p.revents & POLLIN);
	CHECK(dtproc_sleep(dtp, 0) > 0);
	CHECK(dtproc_sleep(dtp, -1) > 0);
	CHECK_EQ_INT(dtproc_handle_notify(dtp, note_cb, &ns), 1);
	CHECK(ns.pr[0] == pr);
	CHECK_EQ_INT(ns.hasmsg[0], 0);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_DEAD);
	CHECK_EXITED(dtproc_status(dtp, pr), 9);
	/* drained */
	CHECK_EQ_INT(poll(&p, 1, 0), 0);
	CHECK_EQ_INT(dtproc_sleep(dtp, 0), 0);
	CHECK_EQ_INT(dtproc_handle_notify(dtp, note_cb, &ns), 0);
	/* a dead handle answers with errors, never a hang */
	{
		uint8_t b;

		CHECK(dtproc_read(dtp, pr, target, &b, 1) < 0);
		CHECK(dtproc_errmsg(dtp)[0] != 0);
		CHECK(dtproc_bkpt_add(dtp, pr, target, nop_cb,
		    NULL) < 0);
		CHECK(dtproc_write(dtp, pr, target, &b, 1) < 0);
		CHECK(dtproc_stop(dtp, pr) < 0);
		dtproc_continue(dtp, pr);
	}
	CHECK_EQ_INT(proc_state(v.pid, 0), 0);
	dtproc_release(dtp, pr);
	wait_our_threads(1, 5000);
	dtproc_close(dtp);
}

TEST(ctl_killed_notice)
{
	char *args[] = { "wait", NULL };
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	pr = create_ok(dtp, "ctlv", args, DTPROC_STOP_MAIN, &v);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	CHECK_KILLED(wait_dead(dtp, pr, &ns, 10000), SIGKILL);
	CHECK_EQ_INT(ns.n, 1);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

TEST(ctl_killed_at_rendezvous)
{
	char *args[] = { "wait", NULL };
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	/* killed while resting: as in the reference, the death is seen
	   once the control thread is let go from the rendezvous */
	pr = create_ok(dtp, "ctlv", args, DTPROC_STOP_MAIN, &v);
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	wait_exit(v.pid, 5000);
	dtproc_continue(dtp, pr);
	CHECK_KILLED(wait_dead(dtp, pr, &ns, 10000), SIGKILL);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

/* ---- error messages ---- */

/* No child of ours is left, zombie or not. */
static void
check_no_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[1024], *p;
		pid_t pid = atoi(e->d_name);
		int fd;
		ssize_t r;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof (path), "/proc/%d/stat", (int)pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		r = read(fd, buf, sizeof (buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		if ((p = strrchr(buf, ')')) == NULL)
			continue;
		if (atoi(p + 4) == getpid()) {
			closedir(d);
			FAIL("child %d left behind (state %c)", (int)pid,
			    p[2]);
		}
	}
	closedir(d);
}

TEST(ctl_err_create_missing)
{
	char *av[] = { "/nonexistent/dtproc-no-such-file", NULL };
	dtproc_t *dtp = open_ok();

	CHECK(dtproc_create(dtp, av[0], av, DTPROC_STOP_MAIN) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), "failed to execute "
	    "/nonexistent/dtproc-no-such-file: No such file or directory");
	CHECK(dtproc_errno(dtp) != 0);
	/* searched in PATH */
	CHECK(dtproc_create(dtp, "dtproc-no-such-program", NULL,
	    DTPROC_STOP_CREATE) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), "failed to execute "
	    "dtproc-no-such-program: No such file or directory");
	check_no_children();
	CHECK_EQ_INT(our_threads(), 1);
	dtproc_close(dtp);
}

TEST(ctl_err_create_not_executable)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], msg[PATH_MAX + 64];
	const char *t = getenv("TMPDIR");
	dtproc_t *dtp = open_ok();
	char *av[] = { path, NULL };
	int fd;

	snprintf(dir, sizeof (dir), "%s/dtproc-ctl-XXXXXX",
	    t != NULL && t[0] != 0 ? t : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof (path), "%s/script", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "#!/bin/sh\nexit 0\n", 17) == 17);
	close(fd);
	CHECK(dtproc_create(dtp, path, av, DTPROC_STOP_MAIN) == NULL);
	snprintf(msg, sizeof (msg), "failed to execute %s: Permission denied",
	    path);
	CHECK_STR_EQ(dtproc_errmsg(dtp), msg);
	unlink(path);
	rmdir(dir);
	check_no_children();
	dtproc_close(dtp);
}

TEST(ctl_err_create_bad_stop)
{
	char *av[] = { "x", NULL };
	dtproc_t *dtp = open_ok();

	CHECK(dtproc_create(dtp, victim_path("ctlv"), av, DTPROC_STOP_GRAB)
	    == NULL);
	CHECK_PREFIX(dtproc_errmsg(dtp), "failed to execute ");
	CHECK(dtproc_create(dtp, victim_path("ctlv"), av, 0x100) == NULL);
	check_no_children();
	dtproc_close(dtp);
}

static void
ctor_fails(const char *mode, int stop, const char *want_tail)
{
	char *args[] = { (char *)mode, NULL };
	char want[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	int pid = -1;

	CHECK(create_v(dtp, "ctlv", args, stop, &v) == NULL);
	CHECK_MSG(sscanf(dtproc_errmsg(dtp), "failed to control pid %d:",
	    &pid) == 1, "unexpected message \"%s\"", dtproc_errmsg(dtp));
	snprintf(want, sizeof (want), "failed to control pid %d: %s", pid,
	    want_tail);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK(pid > 0);
	CHECK_EQ_INT(proc_state(pid, 0), 0);	/* reaped */
	check_no_children();
	wait_our_threads(1, 5000);
	dtproc_close(dtp);
}

TEST(ctl_err_ctor_exit_main)
{
	ctor_fails("ctor_exit", DTPROC_STOP_MAIN,
	    "process exited with status 5");
}

TEST(ctl_err_ctor_exit_postinit)
{
	ctor_fails("ctor_exit", DTPROC_STOP_POSTINIT,
	    "process exited with status 5");
}

TEST(ctl_err_ctor_kill)
{
	ctor_fails("ctor_kill", DTPROC_STOP_MAIN,
	    "process died from signal 9");
}

TEST(ctl_err_ctor_term)
{
	ctor_fails("ctor_term", DTPROC_STOP_MAIN,
	    "process died from signal 15");
}

TEST(ctl_preinit_then_ctor_exit)
{
	char *args[] = { "ctor_exit", NULL };
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	/* PREINIT comes before the constructor: it is reached */
	pr = create_ok(dtp, "ctlv", args, DTPROC_STOP_PREINIT, &v);
	check_resting(dtp, pr);
	CHECK_EQ_INT(read_int(dtp, pr, sym_addr(dtp, pr, "a.out`ctor_mark")),
	    0);
	dtproc_continue(dtp, pr);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 5);
	dtproc_release(dtp, pr);
	check_no_children();
	dtproc_close(dtp);
}

TEST(ctl_err_grab_no_such_process)
{
	char want[128];
	struct victim v;
	dtproc_t *dtp = open_ok();
	pid_t pid;

	/* a pid that was just used and is free again */
	spawn_victim("ctlv", (char *[]){ "exit", NULL }, &v);
	CHECK_EXITED(victim_wait(&v), 0);
	pid = v.pid;
	snprintf(want, sizeof (want), "failed to grab pid %d: no such process",
	    (int)pid);
	CHECK(dtproc_grab(dtp, pid, 0) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK(dtproc_grab(dtp, pid, DTPROC_GRAB_RDONLY) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK(dtproc_grab(dtp, -5, 0) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), "failed to grab pid -5: no such "
	    "process");
	CHECK_EQ_INT(our_threads(), 1);
	dtproc_close(dtp);
}

TEST(ctl_err_grab_zombie)
{
	char want[128];
	struct victim v;
	dtproc_t *dtp = open_ok();

	spawn_victim("ctlv", (char *[]){ "exit", NULL }, &v);
	wait_exit(v.pid, 5000);
	CHECK_EQ_INT(proc_state(v.pid, 0), 'Z');
	snprintf(want, sizeof (want), "failed to grab pid %d: process is a "
	    "zombie", (int)v.pid);
	CHECK(dtproc_grab(dtp, v.pid, 0) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK(dtproc_grab(dtp, v.pid, DTPROC_GRAB_RDONLY) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	CHECK_EXITED(victim_wait(&v), 0);
	dtproc_close(dtp);
}

TEST(ctl_err_grab_self)
{
	char want[128];
	dtproc_t *dtp = open_ok();

	snprintf(want, sizeof (want), "failed to grab pid %d: process is "
	    "dtproc itself", (int)getpid());
	CHECK(dtproc_grab(dtp, getpid(), 0) == NULL);
	CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	dtproc_close(dtp);
}

TEST(ctl_err_grab_traced)
{
	char want[256];
	struct victim v;
	dtproc_t *a = open_ok(), *b = open_ok();
	dtproc_proc_t *pr;

	/* two library handles: the second finds the pid traced by us */
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, NULL, NULL, NULL);
	pr = grab_ctl(a, v.pid, 0);
	CHECK(dtproc_grab(b, v.pid, 0) == NULL);
	snprintf(want, sizeof (want), "failed to grab pid %d: process is "
	    "already traced by pid %d (ctl)", (int)v.pid, (int)getpid());
	CHECK_STR_EQ(dtproc_errmsg(b), want);
	/* reading is no obstacle */
	dtproc_proc_t *ro = grab_ctl(b, v.pid, DTPROC_GRAB_RDONLY);
	CHECK(ro != pr);
	dtproc_release(b, ro);
	dtproc_release(a, pr);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
	dtproc_close(a);
	dtproc_close(b);
}

/* ---- reference counts, the cache ---- */

TEST(ctl_grab_twice_same_handle)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *a, *b;

	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, NULL, NULL, NULL);
	a = grab_ctl(dtp, v.pid, 0);
	check_resting(dtp, a);
	b = grab_ctl(dtp, v.pid, 0);
	CHECK(a == b);
	CHECK_EQ_INT(our_threads(), 2);		/* one control thread */
	/* read-only asks get the controlled handle too */
	CHECK(grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY) == a);
	dtproc_release(dtp, a);
	dtproc_release(dtp, a);
	/* one reference left: still ours, still resting */
	check_resting(dtp, a);
	dtproc_continue(dtp, a);
	victim_send(&v, "x\n");
	victim_expect(&v, line, sizeof (line), "echo ");
	CHECK_STR_EQ(line, "echo x");
	CHECK_THREADS(v.pid, "SR", getpid());
	dtproc_release(dtp, a);
	/* the last release lets it go, running */
	CHECK_THREADS(v.pid, "SR", 0);
	wait_our_threads(1, 5000);
	victim_send(&v, "y\n");
	victim_expect(&v, line, sizeof (line), "echo ");
	CHECK_STR_EQ(line, "echo y");
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
	dtproc_close(dtp);
}

TEST(ctl_grab_release_at_rendezvous)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	/* released while resting, never continued: it runs on */
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, NULL, NULL, NULL);
	pr = grab_ctl(dtp, v.pid, 0);
	check_resting(dtp, pr);
	dtproc_release(dtp, pr);
	CHECK_THREADS(v.pid, "SR", 0);
	victim_send(&v, "x\n");
	victim_expect(&v, line, sizeof (line), "echo ");
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
	dtproc_close(dtp);
}

TEST(ctl_rdonly_cached)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *a, *b;
	uintptr_t cm;

	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, &cm, NULL, NULL);
	a = grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY);
	/* no control: not stopped, not traced, no thread of ours */
	CHECK_THREADS(v.pid, "SR", 0);
	CHECK_EQ_INT(our_threads(), 1);
	CHECK_EQ_INT(dtproc_state(dtp, a), DTPROC_PS_RUN);
	CHECK_EQ_INT(sym_addr(dtp, a, "a.out`ctor_mark"), cm);
	CHECK_EQ_INT(read_int(dtp, a, cm), 0x1234);
	victim_send(&v, "x\n");
	victim_expect(&v, line, sizeof (line), "echo ");
	/* read-only means read-only */
	CHECK_EQ_INT(dtproc_write(dtp, a, cm, "a", 1), -EPERM);
	CHECK(dtproc_bkpt_add(dtp, a, cm, nop_cb, NULL) < 0);
	CHECK(dtproc_stop(dtp, a) < 0);
	CHECK(handle_fds(v.pid) > 0);
	dtproc_release(dtp, a);
	/* cached: kept, and the next grab gets it back */
	CHECK(handle_fds(v.pid) > 0);
	b = grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY);
	CHECK(a == b);
	CHECK_EQ_INT(read_int(dtp, b, cm), 0x1234);
	dtproc_release(dtp, b);
	dtproc_close(dtp);
	CHECK_EQ_INT(handle_fds(v.pid), 0);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
}

#define NV 11

static void
spawn_waiters(struct victim *v, int n)
{
	for (int i = 0; i < n; i++) {
		spawn_victim("ctlv", (char *[]){ "wait", NULL }, &v[i]);
		ready_addrs(&v[i], NULL, NULL, NULL);
	}
}

static void
finish_waiters(struct victim *v, int n)
{
	for (int i = 0; i < n; i++) {
		victim_go(&v[i]);
		CHECK_EXITED(wait_untraced(&v[i]), 0);
	}
}

/* Which of V[0..N) have a handle: a string of '1' and '0'. */
static const char *
cached_set(struct victim *v, int n)
{
	static char s[64];

	for (int i = 0; i < n; i++)
		s[i] = handle_fds(v[i].pid) > 0 ? '1' : '0';
	s[n] = '\0';
	return s;
}

TEST(ctl_lru_eviction_order)
{
	struct victim v[NV];
	dtproc_proc_t *h[NV];
	dtproc_t *dtp = open_ok();

	spawn_waiters(v, NV);
	for (int i = 0; i < 10; i++) {
		h[i] = grab_ctl(dtp, v[i].pid, DTPROC_GRAB_RDONLY);
		dtproc_release(dtp, h[i]);
	}
	/* 8 kept: the two least recently used went */
	CHECK_STR_EQ(cached_set(v, 10), "0011111111");
	/* a hit moves a handle to the front, same pointer */
	CHECK(grab_ctl(dtp, v[2].pid, DTPROC_GRAB_RDONLY) == h[2]);
	dtproc_release(dtp, h[2]);
	CHECK(grab_ctl(dtp, v[3].pid, DTPROC_GRAB_RDONLY) == h[3]);
	dtproc_release(dtp, h[3]);
	/* newest first: 3 2 9 8 7 6 5 4; the next one evicts 4 */
	h[10] = grab_ctl(dtp, v[10].pid, DTPROC_GRAB_RDONLY);
	dtproc_release(dtp, h[10]);
	CHECK_STR_EQ(cached_set(v, 11), "00110111111");
	/* a referenced handle is never evicted: hold 5, now the oldest */
	CHECK(grab_ctl(dtp, v[5].pid, DTPROC_GRAB_RDONLY) == h[5]);
	/* 5 10 3 2 9 8 7 6: the next evicts 6, not 5 */
	h[0] = grab_ctl(dtp, v[0].pid, DTPROC_GRAB_RDONLY);
	dtproc_release(dtp, h[0]);
	CHECK_STR_EQ(cached_set(v, 11), "10110101111");
	CHECK_EQ_INT(read_int(dtp, h[5], sym_addr(dtp, h[5],
	    "a.out`ctor_mark")), 0x1234);
	dtproc_release(dtp, h[5]);
	/* 0 5 10 3 2 9 8 7 */
	h[1] = grab_ctl(dtp, v[1].pid, DTPROC_GRAB_RDONLY);
	dtproc_release(dtp, h[1]);
	CHECK_STR_EQ(cached_set(v, 11), "11110100111");
	CHECK_EQ_INT(our_threads(), 1);
	dtproc_close(dtp);
	CHECK_STR_EQ(cached_set(v, 11), "00000000000");
	finish_waiters(v, NV);
}

TEST(ctl_lru_referenced_then_released)
{
	struct victim v[10];
	dtproc_proc_t *h[10];
	dtproc_t *dtp = open_ok();

	/* ten held at once: none can be evicted; the cache is over its
	   limit until releases bring it back to 8 */
	spawn_waiters(v, 10);
	for (int i = 0; i < 10; i++)
		h[i] = grab_ctl(dtp, v[i].pid, DTPROC_GRAB_RDONLY);
	CHECK_STR_EQ(cached_set(v, 10), "1111111111");
	for (int i = 0; i < 10; i++) {
		for (int j = 0; j < i; j++)
			CHECK(h[i] != h[j]);
	}
	for (int i = 0; i < 10; i++)
		dtproc_release(dtp, h[i]);
	CHECK_STR_EQ(cached_set(v, 10), "0011111111");
	for (int i = 2; i < 10; i++) {
		CHECK(grab_ctl(dtp, v[i].pid, DTPROC_GRAB_RDONLY) == h[i]);
		dtproc_release(dtp, h[i]);
	}
	dtproc_close(dtp);
	finish_waiters(v, 10);
}

TEST(ctl_lru_limit_env)
{
	struct victim v[4];
	dtproc_proc_t *h[4];
	dtproc_t *dtp;

	spawn_waiters(v, 4);
	CHECK_EQ_INT(setenv("DTPROC_LRU_LIMIT", "2", 1), 0);
	dtp = open_ok();
	for (int i = 0; i < 3; i++) {
		h[i] = grab_ctl(dtp, v[i].pid, DTPROC_GRAB_RDONLY);
		dtproc_release(dtp, h[i]);
	}
	CHECK_STR_EQ(cached_set(v, 4), "0110");
	dtproc_close(dtp);
	CHECK_STR_EQ(cached_set(v, 4), "0000");

	/* 0: nothing is kept */
	CHECK_EQ_INT(setenv("DTPROC_LRU_LIMIT", "0", 1), 0);
	dtp = open_ok();
	h[3] = grab_ctl(dtp, v[3].pid, DTPROC_GRAB_RDONLY);
	CHECK_STR_EQ(cached_set(v, 4), "0001");
	dtproc_release(dtp, h[3]);
	CHECK_STR_EQ(cached_set(v, 4), "0000");
	dtproc_close(dtp);

	/* read when dtproc_open runs, not later */
	CHECK_EQ_INT(setenv("DTPROC_LRU_LIMIT", "1", 1), 0);
	dtp = open_ok();
	CHECK_EQ_INT(setenv("DTPROC_LRU_LIMIT", "0", 1), 0);
	h[0] = grab_ctl(dtp, v[0].pid, DTPROC_GRAB_RDONLY);
	dtproc_release(dtp, h[0]);
	CHECK_STR_EQ(cached_set(v, 4), "1000");
	dtproc_close(dtp);
	unsetenv("DTPROC_LRU_LIMIT");
	finish_waiters(v, 4);
}

TEST(ctl_rdonly_upgrade)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *ro, *rw;
	uintptr_t cm;

	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, &cm, NULL, NULL);
	ro = grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY);
	/* asked for control: a new, controlled handle */
	rw = grab_ctl(dtp, v.pid, 0);
	CHECK(rw != ro);
	check_resting(dtp, rw);
	CHECK_EQ_INT(our_threads(), 2);
	/* from now on every grab finds the controlled one */
	CHECK(grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY) == rw);
	dtproc_release(dtp, rw);
	CHECK(grab_ctl(dtp, v.pid, 0) == rw);
	dtproc_release(dtp, rw);
	/* the stale one still serves its holder */
	CHECK_EQ_INT(read_int(dtp, ro, cm), 0x1234);
	dtproc_release(dtp, ro);
	check_resting(dtp, rw);
	dtproc_continue(dtp, rw);
	victim_send(&v, "x\n");
	victim_expect(&v, line, sizeof (line), "echo ");
	dtproc_release(dtp, rw);
	wait_our_threads(1, 5000);
	CHECK_THREADS(v.pid, "SR", 0);

	/* a cached, unreferenced read-only handle is upgraded too */
	ro = grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY);
	dtproc_release(dtp, ro);
	rw = grab_ctl(dtp, v.pid, 0);
	CHECK(rw != ro);
	check_resting(dtp, rw);
	dtproc_release(dtp, rw);
	CHECK_THREADS(v.pid, "SR", 0);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
	dtproc_close(dtp);
}

TEST(ctl_rdonly_dead_process)
{
	char want[128];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *a, *b;

	/* a cached read-only handle must not outlive its process */
	spawn_victim("ctlv", (char *[]){ "wait", NULL }, &v);
	ready_addrs(&v, NULL, NULL, NULL);
	a = grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY);
	dtproc_release(dtp, a);
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
	CHECK_EQ_INT(proc_state(v.pid, 0), 0);
	b = dtproc_grab(dtp, v.pid, DTPROC_GRAB_RDONLY);
	if (b != NULL) {
		int st = dtproc_state(dtp, b);

		CHECK_MSG(b != a && st != DTPROC_PS_RUN && st !=
		    DTPROC_PS_STOP, "dtproc_grab(RDONLY) of dead pid %d "
		    "returned the %s handle %p, state %d", (int)v.pid,
		    b == a ? "cached" : "new", (void *)b, st);
	} else {
		snprintf(want, sizeof (want), "failed to grab pid %d: no "
		    "such process", (int)v.pid);
		CHECK_STR_EQ(dtproc_errmsg(dtp), want);
	}
	dtproc_close(dtp);
}

TEST(ctl_rdonly_dead_process_held)
{
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *a, *b;

	/* the same with the handle still referenced */
	spawn_victim("ctlv", (char *[]){ "wait", NULL }, &v);
	ready_addrs(&v, NULL, NULL, NULL);
	a = grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY);
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
	b = dtproc_grab(dtp, v.pid, DTPROC_GRAB_RDONLY);
	CHECK_MSG(b == NULL || (b != a && dtproc_state(dtp, b) !=
	    DTPROC_PS_RUN), "dead pid %d: grab returned %s handle, state %d",
	    (int)v.pid, b == a ? "the old" : "a new",
	    b ? dtproc_state(dtp, b) : -1);
	dtproc_release(dtp, a);
	dtproc_close(dtp);
}

TEST(ctl_pid_reuse_rdonly)
{
	char line[512];
	struct victim v, w;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *a, *b;
	uintptr_t bpt;
	uint8_t x, y;

	for (int tries = 0;; tries++) {
		spawn_victim("ctlv", (char *[]){ "wait", NULL }, &v);
		ready_addrs(&v, NULL, NULL, NULL);
		a = grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY);
		(void) sym_addr(dtp, a, "a.out`ctl_target");
		dtproc_release(dtp, a);		/* cached */
		victim_go(&v);
		CHECK_EXITED(victim_wait(&v), 0);
		if (set_next_pid(v.pid) != 0)
			SKIP("cannot set ns_last_pid: %s", strerror(errno));
		spawn_victim("bp", (char *[]){ "1", "1", NULL }, &w);
		if (w.pid == v.pid)
			break;
		victim_go(&w);
		CHECK_EXITED(victim_wait(&w), 0);
		if (tries == 5)
			SKIP("pid %d was not reused (got %d)", (int)v.pid,
			    (int)w.pid);
	}
	victim_ready(&w, line, sizeof (line));
	bpt = line_field(line, "bp_target");
	/* another process: the cached handle must not answer for it */
	b = dtproc_grab(dtp, w.pid, DTPROC_GRAB_RDONLY);
	CHECK_MSG(b != NULL, "grab of the new process: %s",
	    dtproc_errmsg(dtp));
	CHECK_MSG(dtproc_sym_lookup(dtp, b, "a.out`bp_target",
	    &(dtproc_sym_t){ 0 }) == 0, "pid %d reused: the handle (%s) "
	    "does not know the new program: %s", (int)w.pid,
	    a == b ? "the cached one" : "new", dtproc_errmsg(dtp));
	CHECK_EQ_INT(sym_addr(dtp, b, "a.out`bp_target"), bpt);
	CHECK_EQ_INT(dtproc_read(dtp, b, bpt, &x, 1), 1);
	CHECK_EQ_INT(proc_mem_read(w.pid, bpt, &y, 1), 1);
	CHECK_EQ_INT(x, y);
	dtproc_release(dtp, b);
	dtproc_close(dtp);
	victim_go(&w);
	CHECK_EXITED(victim_wait(&w), 0);
}

TEST(ctl_pid_reuse_controlled)
{
	char line[512];
	struct notes ns = { 0 };
	struct victim v, w;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *a, *b;

	/* a dead created process, its handle still held */
	for (int tries = 0;; tries++) {
		a = create_ok(dtp, "ctlv", (char *[]){ "exit", NULL },
		    DTPROC_STOP_MAIN, &v);
		dtproc_continue(dtp, a);
		CHECK_EXITED(wait_dead(dtp, a, &ns, 10000), 0);
		if (set_next_pid(v.pid) != 0)
			SKIP("cannot set ns_last_pid: %s", strerror(errno));
		spawn_victim("ctlv", (char *[]){ "echo", NULL }, &w);
		if (w.pid == v.pid)
			break;
		victim_send(&w, "q\n");
		CHECK_EXITED(victim_wait(&w), 0);
		if (tries == 5)
			SKIP("pid %d was not reused (got %d)", (int)v.pid,
			    (int)w.pid);
	}
	ready_addrs(&w, NULL, NULL, NULL);
	b = dtproc_grab(dtp, w.pid, 0);
	CHECK_MSG(b != NULL, "grab: %s", dtproc_errmsg(dtp));
	CHECK(b != a);
	check_resting(dtp, b);
	CHECK_EQ_INT(dtproc_state(dtp, a), DTPROC_PS_DEAD);
	dtproc_continue(dtp, b);
	victim_send(&w, "x\n");
	victim_expect(&w, line, sizeof (line), "echo ");
	dtproc_release(dtp, a);
	dtproc_release(dtp, b);
	CHECK_THREADS(w.pid, "SR", 0);
	victim_send(&w, "q\n");
	CHECK_EXITED(wait_untraced(&w), 0);
	dtproc_close(dtp);
}

TEST_TIMEOUT(ctl_hundred_processes, 120)
{
	static struct victim v[100];
	static dtproc_proc_t *h[100];
	static struct notes ns;
	dtproc_t *dtp = open_ok();
	int forced = 0, bucket = -1, same = 0;

	/* 50 created */
	for (int i = 0; i < 50; i++) {
		h[i] = create_ok(dtp, "ctlv", (char *[]){ "wait", NULL },
		    DTPROC_STOP_MAIN, &v[i]);
		dtproc_continue(dtp, h[i]);
	}
	/* 50 spawned and grabbed, in one hash bucket if we can */
	for (int i = 50; i < 100; i++) {
		if (bucket >= 0) {
			pid_t want = bucket + 256 * (i - 49) + 4096;

			if (want < 32000 && proc_state(want, 0) == 0 &&
			    set_next_pid(want) == 0)
				forced++;
		}
		spawn_victim("ctlv", (char *[]){ "wait", NULL }, &v[i]);
		if (bucket < 0)
			bucket = v[i].pid & 255;
		same += (v[i].pid & 255) == bucket;
		ready_addrs(&v[i], NULL, NULL, NULL);
		h[i] = grab_ctl(dtp, v[i].pid, 0);
		dtproc_continue(dtp, h[i]);
	}
	for (int i = 0; i < 50; i++)
		ready_addrs(&v[i], NULL, NULL, NULL);
	tinfo("%d of 50 grabbed pids in bucket %d (%d forced)", same, bucket,
	    forced);
	CHECK_EQ_INT(our_threads(), 101);
	for (int i = 0; i < 100; i++) {
		for (int j = 0; j < i; j++)
			CHECK(h[i] != h[j] && v[i].pid != v[j].pid);
		CHECK(dtproc_grab(dtp, v[i].pid, 0) == h[i]);
		CHECK(dtproc_grab(dtp, v[i].pid, DTPROC_GRAB_RDONLY) == h[i]);
		CHECK_EQ_INT(dtproc_pid(h[i]), v[i].pid);
	}
	/* unlink every other one from the middle of its chain */
	for (int i = 0; i < 100; i += 2) {
		for (int k = 0; k < 3; k++)
			dtproc_release(dtp, h[i]);
	}
	for (int i = 1; i < 100; i += 2) {
		CHECK(dtproc_grab(dtp, v[i].pid, 0) == h[i]);
		dtproc_release(dtp, h[i]);
		CHECK_EQ_INT(dtproc_state(dtp, h[i]), DTPROC_PS_RUN);
	}
	for (int i = 0; i < 100; i += 2) {
		if (i < 50)
			CHECK_EQ_INT(proc_state(v[i].pid, 0), 0); /* killed */
		else
			CHECK_THREADS(v[i].pid, "SR", 0);
	}
	wait_our_threads(51, 10000);
	/* the created half exits under control, the grabbed half free */
	for (int i = 1; i < 50; i += 2)
		victim_go(&v[i]);
	for (int i = 1; i < 50; i += 2)
		CHECK_EXITED(wait_dead(dtp, h[i], &ns, 10000), 0);
	dtproc_close(dtp);
	wait_our_threads(1, 10000);
	for (int i = 50; i < 100; i++) {
		victim_go(&v[i]);
		CHECK_EXITED(wait_untraced(&v[i]), 0);
	}
	check_no_children();
}

/* ---- breakpoints ---- */

struct hits {
	atomic_int n;
	atomic_int bad;
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	uintptr_t addr;
	pid_t only_tid;		/* if set, every hit must be this thread */
	atomic_int last_tid;
};

static void
hit_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	struct hits *h = arg;

	if (dtp != h->dtp || pr != h->pr || addr != h->addr || tid <= 0 ||
	    (h->only_tid != 0 && tid != h->only_tid))
		atomic_fetch_add(&h->bad, 1);
	atomic_store(&h->last_tid, tid);
	atomic_fetch_add(&h->n, 1);
}

static void
hits_init(struct hits *h, dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	memset(h, 0, sizeof (*h));
	h->dtp = dtp;
	h->pr = pr;
	h->addr = addr;
}

TEST_TIMEOUT(ctl_bkpt_8_threads, 120)
{
	char line[256];
	struct notes ns = { 0 };
	struct hits h;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t addr;

	pr = create_ok(dtp, "bp", (char *[]){ "8", "200", NULL },
	    DTPROC_STOP_MAIN, &v);
	addr = sym_addr(dtp, pr, "a.out`bp_target");
	hits_init(&h, dtp, pr, addr);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, addr, hit_cb, &h), 0);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "bp_target"), addr);
	CHECK_EQ_INT(atomic_load(&h.n), 0);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "sum=");
	CHECK_EQ_INT(line_field(line, "sum"), 8L * 200 * 200);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT(atomic_load(&h.n), 8 * 200);
	CHECK_EQ_INT(atomic_load(&h.bad), 0);
	CHECK(atomic_load(&h.last_tid) != v.pid);	/* a worker */
	dtproc_close(dtp);
}

TEST(ctl_bkpt_text_pristine_at_rendezvous)
{
	char line[256];
	struct notes ns = { 0 };
	struct hits h;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t addr;
	int orig;

	pr = create_ok(dtp, "bp", (char *[]){ "4", "50", NULL },
	    DTPROC_STOP_CREATE | DTPROC_STOP_MAIN, &v);
	check_resting(dtp, pr);
	addr = sym_addr(dtp, pr, "a.out`bp_target");
	orig = file_byte_at(v.pid, addr);
	CHECK(orig >= 0 && orig != 0xcc);
	hits_init(&h, dtp, pr, addr);
	/* set while resting: the text stays as it was */
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, addr, hit_cb, &h), 0);
	CHECK_EQ_INT(read_byte(dtp, pr, addr), orig);
	CHECK_EQ_INT(mem_byte(v.pid, addr), orig);
	CHECK_EQ_INT(text_matches_file(v.pid, addr, 16), 1);
	dtproc_continue(dtp, pr);
	/* at MAIN, resting again (stopped for a while): pristine again */
	WAIT_UNTIL(is_resting(dtp, pr) && dtproc_sym_lookup(dtp, pr,
	    "libc.so.6`malloc", &(dtproc_sym_t){ 0 }) == 0, 5000);
	check_silent(&v, 100);
	WAIT_UNTIL(is_resting(dtp, pr), 5000);
	check_resting(dtp, pr);
	CHECK_EQ_INT(read_byte(dtp, pr, addr), orig);
	CHECK_EQ_INT(mem_byte(v.pid, addr), orig);
	CHECK_EQ_INT(atomic_load(&h.n), 0);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	/* running: armed */
	CHECK_EQ_INT(mem_byte(v.pid, addr), 0xcc);
	CHECK_EQ_INT(read_byte(dtp, pr, addr), 0xcc);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "sum=");
	CHECK_EQ_INT(line_field(line, "sum"), 4L * 50 * 50);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT(atomic_load(&h.n), 200);
	CHECK_EQ_INT(atomic_load(&h.bad), 0);
	dtproc_close(dtp);
}

TEST(ctl_bkpt_grab_rendezvous_pristine)
{
	char line[256];
	struct hits h;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t target;
	int orig;

	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, NULL, NULL, &target);
	orig = file_byte_at(v.pid, target);
	pr = grab_ctl(dtp, v.pid, 0);
	hits_init(&h, dtp, pr, target);
	h.only_tid = v.pid;
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, hit_cb, &h), 0);
	CHECK_EQ_INT(mem_byte(v.pid, target), orig);
	dtproc_continue(dtp, pr);
	WAIT_UNTIL(mem_byte(v.pid, target) == 0xcc, 5000);
	CHECK_EQ_INT(mem_byte(v.pid, target), 0xcc);
	victim_send(&v, "c 7\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_STR_EQ(line, "called n=7 sum=49");
	CHECK_EQ_INT(atomic_load(&h.n), 7);
	CHECK_EQ_INT(atomic_load(&h.bad), 0);
	/* released: the text is restored, the process runs on */
	dtproc_release(dtp, pr);
	CHECK_THREADS(v.pid, "SR", 0);
	CHECK_EQ_INT(text_matches_file(v.pid, target, 16), 1);
	victim_send(&v, "c 3\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_EQ_INT(atomic_load(&h.n), 7);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
	dtproc_close(dtp);
}

TEST(ctl_bkpt_del)
{
	char line[256];
	struct notes ns = { 0 };
	struct hits h;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t target;

	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	hits_init(&h, dtp, pr, target);
	h.only_tid = v.pid;
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, hit_cb, &h), 0);
	/* NULL callback, bad address */
	CHECK(dtproc_bkpt_add(dtp, pr, target + 1, NULL, NULL) < 0);
	CHECK(dtproc_bkpt_add(dtp, pr, 8, hit_cb, &h) < 0);
	CHECK(dtproc_errmsg(dtp)[0] != 0);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_send(&v, "c 5\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_STR_EQ(line, "called n=5 sum=25");
	CHECK_EQ_INT(atomic_load(&h.n), 5);
	CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, target), 0);
	CHECK_EQ_INT(text_matches_file(v.pid, target, 16), 1);
	victim_send(&v, "c 5\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_EQ_INT(atomic_load(&h.n), 5);
	CHECK(dtproc_bkpt_del(dtp, pr, target) < 0);
	CHECK(dtproc_bkpt_del(dtp, pr, target + 3) < 0);
	/* and back */
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, hit_cb, &h), 0);
	victim_send(&v, "c 3\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_EQ_INT(atomic_load(&h.n), 8);
	CHECK_EQ_INT(atomic_load(&h.bad), 0);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

struct reentrant {
	atomic_int calls;
	atomic_int ok;
	uintptr_t addr;
};

static void
reentrant_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	struct reentrant *r = arg;
	dtproc_sym_t s;
	uint8_t b;

	(void)tid;
	atomic_fetch_add(&r->calls, 1);
	/* the handle is locked by the control thread: calls on it must not
	   take the lock again */
	if (dtproc_read(dtp, pr, addr, &b, 1) == 1 &&
	    dtproc_sym_addr(dtp, pr, addr, &s) == 0 && s.ds_addr == addr &&
	    dtproc_state(dtp, pr) != DTPROC_PS_DEAD)
		atomic_fetch_add(&r->ok, 1);
}

TEST(ctl_bkpt_callback_uses_handle)
{
	char line[256];
	struct notes ns = { 0 };
	struct reentrant r = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t target;

	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	r.addr = target;
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, reentrant_cb, &r), 0);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_send(&v, "c 2\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_EQ_INT(atomic_load(&r.calls), 2);
	CHECK_EQ_INT(atomic_load(&r.ok), 2);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

/* A client thread using the handle while the victim hits breakpoints. */
struct client {
	pthread_t tid;
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	uintptr_t addr, other;
	int orig, lock, edit;
	atomic_int *stop;
	sem_t *first;		/* posted after the first round */
	long rounds;
	char err[256];
};

static void *
client_main(void *arg)
{
	struct client *c = arg;
	struct hits other;

	hits_init(&other, c->dtp, c->pr, c->other);
	while (!atomic_load(c->stop) && c->err[0] == 0) {
		dtproc_sym_t s;
		uint8_t b = 0;
		int st, rc = 0;

		if (c->lock)
			dtproc_lock(c->dtp, c->pr);
		if (dtproc_read(c->dtp, c->pr, c->addr, &b, 1) != 1 ||
		    (b != 0xcc && b != c->orig))
			snprintf(c->err, sizeof (c->err), "read %#x at the "
			    "site", b);
		else if ((rc = dtproc_sym_lookup(c->dtp, c->pr,
		    "a.out`bp_target", &s)) != 0 || s.ds_addr != c->addr)
			snprintf(c->err, sizeof (c->err), "lookup: %d", rc);
		else if ((rc = dtproc_sym_addr(c->dtp, c->pr, c->addr + 2,
		    &s)) != 0 || s.ds_name == NULL ||
		    strcmp(s.ds_name, "bp_target") != 0 || s.ds_offset != 2)
			snprintf(c->err, sizeof (c->err), "by address: %d",
			    rc);
		else if ((st = dtproc_state(c->dtp, c->pr)) !=
		    DTPROC_PS_RUN && st != DTPROC_PS_STOP)
			snprintf(c->err, sizeof (c->err), "state %d", st);
		else if (c->edit && ((rc = dtproc_bkpt_add(c->dtp, c->pr,
		    c->other, hit_cb, &other)) != 0 ||
		    (rc = dtproc_bkpt_del(c->dtp, c->pr, c->other)) != 0))
			snprintf(c->err, sizeof (c->err), "bkpt edit: %d",
			    rc);
		if (c->lock)
			dtproc_unlock(c->dtp, c->pr);
		if (c->err[0] != 0 && (rc == -ESRCH || atomic_load(c->stop) ||
		    dtproc_state(c->dtp, c->pr) == DTPROC_PS_DEAD ||
		    proc_state(dtproc_pid(c->pr), 0) == 'Z' ||
		    kill(dtproc_pid(c->pr), 0) != 0)) {
			/* exiting: the control thread may not know it yet */
			c->err[0] = 0;	/* the victim is done: no error */
			break;
		}
		if (c->rounds++ == 0)
			sem_post(c->first);
	}
	if (c->rounds == 0)
		sem_post(c->first);	/* an error: the test reports it */
	return NULL;
}

TEST_TIMEOUT(ctl_two_client_threads, 120)
{
	char line[256];
	struct notes ns = { 0 };
	struct client c[2];
	struct hits h;
	struct victim v;
	atomic_int stop = 0;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t addr;
	sem_t first;

	CHECK_EQ_INT(sem_init(&first, 0, 0), 0);
	spawn_victim("bp", (char *[]){ "8", "300", NULL }, &v);
	victim_ready(&v, line, sizeof (line));
	addr = line_field(line, "bp_target");
	pr = grab_ctl(dtp, v.pid, 0);
	hits_init(&h, dtp, pr, addr);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, addr, hit_cb, &h), 0);
	for (int i = 0; i < 2; i++) {
		memset(&c[i], 0, sizeof (c[i]));
		c[i].dtp = dtp;
		c[i].pr = pr;
		c[i].addr = addr;
		c[i].orig = file_byte_at(v.pid, addr);
		c[i].other = sym_addr(dtp, pr, "a.out`main");
		c[i].lock = i == 0;
		c[i].edit = i == 1;
		c[i].stop = &stop;
		c[i].first = &first;
		CHECK_EQ_INT(pthread_create(&c[i].tid, NULL, client_main,
		    &c[i]), 0);
	}
	dtproc_continue(dtp, pr);
	/* both clients at work before the hits start, however loaded */
	for (int i = 0; i < 2; i++)
		while (sem_wait(&first) != 0 && errno == EINTR)
			;
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "sum=");
	atomic_store(&stop, 1);
	CHECK_EQ_INT(line_field(line, "sum"), 8L * 300 * 300);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 20000), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(c[i].tid, NULL);
		tinfo("client %d: %ld rounds", i, c[i].rounds);
		CHECK_MSG(c[i].err[0] == 0, "client %d: %s", i, c[i].err);
		CHECK(c[i].rounds > 0);
	}
	CHECK_EQ_INT(atomic_load(&h.n), 8 * 300);
	CHECK_EQ_INT(atomic_load(&h.bad), 0);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

/* ---- dynamic-linker activity ---- */

static const char *
libdyn_path(void)
{
	static char buf[PATH_MAX];
	const char *b = getenv("DTPROC_BUILD");
	char p[PATH_MAX];

	snprintf(p, sizeof (p), "%s/tests/libs/libdyn.so",
	    b != NULL && b[0] != 0 ? b : "build");
	if (realpath(p, buf) == NULL)
		FAIL("%s: %s", p, strerror(errno));
	return buf;
}

struct dlact {
	atomic_int n;
	atomic_int bad;
	dtproc_proc_t *pr;
	int ret;
	int lookup;		/* look dyn_fn up from the callback */
	atomic_int found;
	uintptr_t fn;
	char msg[8][512];
};

static int
dlact_cb(dtproc_t *dtp, dtproc_proc_t *pr, void *arg)
{
	struct dlact *d = arg;
	int i = atomic_load(&d->n);

	if (pr != d->pr)
		atomic_fetch_add(&d->bad, 1);
	if (i < 8)
		snprintf(d->msg[i], sizeof (d->msg[i]), "%s",
		    dtproc_errmsg(dtp));
	if (d->lookup) {
		dtproc_sym_t s;

		if (dtproc_sym_lookup(dtp, pr, "libdyn.so`dyn_fn", &s) == 0) {
			d->fn = s.ds_addr;
			atomic_fetch_add(&d->found, 1);
		}
	}
	atomic_fetch_add(&d->n, 1);
	return d->ret;
}

TEST(ctl_dlactivity_grabbed)
{
	char line[256];
	struct dlact d = { 0 };
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	spawn_victim("dl", (char *[]){ "open", (char *)libdyn_path(), NULL },
	    &v);
	victim_ready(&v, line, sizeof (line));
	dtproc_set_dlactivity(dtp, dlact_cb, &d);
	pr = grab_ctl(dtp, v.pid, 0);
	d.pr = pr;
	dtproc_continue(dtp, pr);
	CHECK_EQ_INT(atomic_load(&d.n), 0);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "opened ");
	CHECK_EQ_INT(atomic_load(&d.n), 1);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "closed");
	CHECK_EQ_INT(atomic_load(&d.n), 2);
	victim_go(&v);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT(atomic_load(&d.n), 2);
	CHECK_EQ_INT(atomic_load(&d.bad), 0);
	/* returning 0 queued nothing: the death notice only */
	CHECK_EQ_INT(ns.n, 1);
	dtproc_close(dtp);
}

TEST(ctl_dlactivity_created_churn)
{
	char line[256];
	struct dlact d = { 0 };
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	/* the initial load is no activity; each dlopen and dlclose is */
	dtproc_set_dlactivity(dtp, dlact_cb, &d);
	pr = create_ok(dtp, "dl", (char *[]){ "churn", "6",
	    (char *)libdyn_path(), NULL }, DTPROC_STOP_CREATE, &v);
	d.pr = pr;
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&d.n), 0);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "done ");
	CHECK_EQ_INT(atomic_load(&d.n), 12);
	victim_go(&v);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT(atomic_load(&d.bad), 0);
	dtproc_close(dtp);
}

TEST(ctl_dlactivity_notice)
{
	char line[256];
	struct dlact d = { 0 };
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	dtproc_sym_t s;

	spawn_victim("dl", (char *[]){ "open", (char *)libdyn_path(), NULL },
	    &v);
	victim_ready(&v, line, sizeof (line));
	d.ret = 1;
	dtproc_set_dlactivity(dtp, dlact_cb, &d);
	pr = grab_ctl(dtp, v.pid, 0);
	d.pr = pr;
	/* the message a failing callback leaves is dtproc_errmsg() */
	CHECK(dtproc_sym_lookup(dtp, pr, "a.out`no_such_symbol_here", &s) <
	    0);
	CHECK(dtproc_errmsg(dtp)[0] != 0);
	dtproc_continue(dtp, pr);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "opened ");
	CHECK_EQ_INT(atomic_load(&d.n), 1);
	CHECK(dtproc_sleep(dtp, 0) > 0);
	CHECK_EQ_INT(dtproc_handle_notify(dtp, note_cb, &ns), 1);
	CHECK(ns.pr[0] == pr);
	CHECK_EQ_INT(ns.hasmsg[0], 1);
	CHECK_STR_EQ(ns.msg[0], d.msg[0]);
	/* a notice, not a death */
	CHECK(dtproc_state(dtp, pr) != DTPROC_PS_DEAD);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "closed");
	CHECK_EQ_INT(atomic_load(&d.n), 2);
	CHECK(wait_notice(dtp, &ns, pr, 5000));
	CHECK_EQ_INT(ns.n, 2);
	CHECK_EQ_INT(ns.hasmsg[1], 1);
	victim_go(&v);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT(ns.n, 3);
	CHECK_EQ_INT(ns.hasmsg[2], 0);
	dtproc_close(dtp);
}

TEST(ctl_dlactivity_callback_lookup)
{
	char line[256];
	struct dlact d = { 0 };
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	/* what dt_pid_create_probes_module does: look into the process
	   from the callback */
	spawn_victim("dl", (char *[]){ "open", (char *)libdyn_path(), NULL },
	    &v);
	victim_ready(&v, line, sizeof (line));
	d.lookup = 1;
	dtproc_set_dlactivity(dtp, dlact_cb, &d);
	pr = grab_ctl(dtp, v.pid, 0);
	d.pr = pr;
	dtproc_continue(dtp, pr);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "opened ");
	CHECK_EQ_INT(atomic_load(&d.n), 1);
	CHECK_EQ_INT(atomic_load(&d.found), 1);
	CHECK_EQ_INT(d.fn, line_field(line, "fn"));
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "closed");
	CHECK_EQ_INT(atomic_load(&d.n), 2);
	victim_go(&v);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

/* ---- exec, fork, vfork ---- */

TEST(ctl_exec_keeps_handle)
{
	char line[256];
	struct notes ns = { 0 };
	struct hits h1, h2;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
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

	spawn_victim("forker", (char *[]){ (char *)mode, NULL }, &v);
	victim_ready(&v, line, sizeof (line));
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
	victim_expect(&v, line, sizeof (line), "parent_ok=");
	CHECK_STR_EQ(line, "parent_ok=1");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	/* the parent's two calls, never the child's */
	CHECK_EQ_INT(atomic_load(&h.n), 2);
	CHECK_EQ_INT(atomic_load(&h.bad), 0);
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

/* ---- stops from the client or outside ---- */

TEST(ctl_stop_requested)
{
	char line[256];
	struct notes ns = { 0 };
	struct hits h;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t target;

	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_send(&v, "a\n");
	victim_expect(&v, line, sizeof (line), "echo a");
	CHECK_EQ_INT(dtproc_stop(dtp, pr), 0);
	WAIT_THREADS(v.pid, "tT", getpid(), 5000);
	WAIT_UNTIL(dtproc_state(dtp, pr) == DTPROC_PS_STOP, 5000);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	victim_send(&v, "b\n");
	check_silent(&v, 300);
	/* a request meanwhile stops and resumes internally: still stopped */
	hits_init(&h, dtp, pr, target);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, hit_cb, &h), 0);
	check_silent(&v, 200);
	CHECK_THREADS(v.pid, "tT", getpid());
	/* continue is for rendezvous, not for this */
	dtproc_continue(dtp, pr);
	check_silent(&v, 200);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	victim_expect(&v, line, sizeof (line), "echo ");
	CHECK_STR_EQ(line, "echo b");
	victim_send(&v, "c 4\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_EQ_INT(atomic_load(&h.n), 4);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

TEST(ctl_sigstop_from_outside)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, NULL, NULL, NULL);
	pr = grab_ctl(dtp, v.pid, 0);
	dtproc_continue(dtp, pr);
	CHECK_EQ_INT(kill(v.pid, SIGSTOP), 0);
	WAIT_THREADS(v.pid, "tT", getpid(), 5000);
	victim_send(&v, "b\n");
	check_silent(&v, 300);
	/* let go while someone else stopped it: it stays stopped */
	dtproc_release(dtp, pr);
	WAIT_THREADS(v.pid, "T", 0, 5000);
	check_silent(&v, 200);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	victim_expect(&v, line, sizeof (line), "echo ");
	CHECK_STR_EQ(line, "echo b");
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
	dtproc_close(dtp);
}

#ifdef DTPROC_EV_JOBSTOP
static void
jobstop_cb(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	(void)dtp;
	(void)pr;
	if (ev->de_kind == DTPROC_EV_JOBSTOP)
		atomic_store((atomic_int *)arg, 1);
}
#endif

TEST(ctl_stop_then_client_killed)
{
	static atomic_int jobstop;
	char line[256], c;
	struct victim v;
	int sync[2], st;
	pid_t helper;

	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, NULL, NULL, NULL);
	CHECK_EQ_INT(pipe2(sync, O_CLOEXEC), 0);
	fflush(NULL);
	if ((helper = fork()) == 0) {
		/* the helper owns the dtproc_t, and dies holding it */
		dtproc_t *dtp = dtproc_open(0, NULL);
		dtproc_proc_t *pr;
		char w[256];
		long end = now_ms() + 5000;

		if (dtp == NULL ||
		    (pr = dtproc_grab(dtp, v.pid, 0)) == NULL)
			_exit(3);
#ifdef DTPROC_EV_JOBSTOP
		dtproc_set_event(dtp, jobstop_cb, &jobstop);
#else
		atomic_store(&jobstop, 1);
#endif
		dtproc_continue(dtp, pr);
		if (dtproc_stop(dtp, pr) != 0)
			_exit(4);
		/* in effect: the group stop reported, not just the signal */
		while (!threads_are(v.pid, "tT", getpid(), w, sizeof (w)) ||
		    dtproc_state(dtp, pr) != DTPROC_PS_STOP ||
		    !atomic_load(&jobstop)) {
			if (now_ms() > end)
				_exit(5);
			sched_yield();
		}
		if (write(sync[1], "s", 1) != 1)
			_exit(6);
		for (;;)
			pause();
	}
	CHECK(helper > 0);
	close(sync[1]);
	if (read(sync[0], &c, 1) != 1) {
		CHECK_EQ_INT(waitpid(helper, &st, 0), helper);
		FAIL("helper: %s", wstatus_str(st));
	}
	CHECK_EQ_INT(kill(helper, SIGKILL), 0);
	CHECK_EQ_INT(waitpid(helper, &st, 0), helper);
	CHECK_KILLED(st, SIGKILL);
	/* stopped, untraced */
	WAIT_THREADS(v.pid, "T", 0, 5000);
	victim_send(&v, "z\n");
	check_silent(&v, 300);
	CHECK_THREADS(v.pid, "T", 0);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	victim_expect(&v, line, sizeof (line), "echo ");
	CHECK_STR_EQ(line, "echo z");
	victim_send(&v, "q\n");
	CHECK_EXITED(victim_wait(&v), 0);
}

/* ---- races ---- */

struct editor {
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	uintptr_t addr;
	atomic_int go;
	atomic_int done;
	atomic_int okc;
	int ok, fails, last;
	char msg[512];
};

static void *
editor_main(void *arg)
{
	struct editor *e = arg;

	atomic_store(&e->go, 1);
	while (e->fails < 5) {
		int rc = dtproc_bkpt_add(e->dtp, e->pr, e->addr, nop_cb, NULL);

		if (rc == 0) {
			e->ok++;
			atomic_fetch_add(&e->okc, 1);
			(void) dtproc_bkpt_del(e->dtp, e->pr, e->addr);
		} else {
			e->fails++;
			e->last = rc;
			snprintf(e->msg, sizeof (e->msg), "%s",
			    dtproc_errmsg(e->dtp));
		}
	}
	atomic_store(&e->done, 1);
	return NULL;
}

TEST(ctl_kill_during_request)
{
	struct notes ns = { 0 };
	struct editor e;
	struct victim v;
	dtproc_t *dtp = open_ok();
	pthread_t t;

	memset(&e, 0, sizeof (e));
	e.dtp = dtp;
	e.pr = create_ok(dtp, "bp", (char *[]){ "2", "2000000000", NULL },
	    DTPROC_STOP_MAIN, &v);
	e.addr = sym_addr(dtp, e.pr, "a.out`main");
	dtproc_continue(dtp, e.pr);
	victim_ready(&v, (char [256]){ 0 }, 256);
	victim_go(&v);		/* busy threads */
	CHECK_EQ_INT(pthread_create(&t, NULL, editor_main, &e), 0);
	WAIT_UNTIL(atomic_load(&e.okc) >= 5 || atomic_load(&e.done), 10000);
	CHECK_MSG(atomic_load(&e.okc) >= 5, "requests not served: %d ok, "
	    "%d failed, last %d: %s", atomic_load(&e.okc), e.fails, e.last,
	    e.msg);
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	WAIT_UNTIL(atomic_load(&e.done), 10000);
	CHECK_MSG(atomic_load(&e.done), "requests hang after the victim "
	    "died (%d ok, %d failed)", e.ok, e.fails);
	pthread_join(t, NULL);
	tinfo("%d requests served, last error %d: %s", e.ok, e.last, e.msg);
	CHECK(e.ok > 0);
	CHECK(e.last < 0);
	CHECK_KILLED(wait_dead(dtp, e.pr, &ns, 10000), SIGKILL);
	CHECK(dtproc_bkpt_add(dtp, e.pr, e.addr, nop_cb, NULL) < 0);
	dtproc_close(dtp);
}

struct racer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	dtproc_t *dtp;
	dtproc_proc_t *pr;	/* continue this one */
	int spam;		/* keep continuing until it is taken away */
	int busy;		/* using pr outside mu */
	int quit;
	long conts;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (r->pr == NULL && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->quit)
			break;
		dtproc_proc_t *pr = r->pr;
		int spam = r->spam;

		r->busy = 1;
		pthread_mutex_unlock(&r->mu);
		dtproc_continue(r->dtp, pr);
		pthread_mutex_lock(&r->mu);
		r->conts++;
		r->busy = 0;
		if (!spam && r->pr == pr)
			r->pr = NULL;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Take the handle away from the racer and wait until it lets go. */
static void
racer_stop(struct racer *r)
{
	pthread_mutex_lock(&r->mu);
	r->pr = NULL;
	while (r->busy)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

TEST_TIMEOUT(ctl_continue_races_rendezvous, 180)
{
	static const int stops[] = { DTPROC_STOP_CREATE, DTPROC_STOP_PREINIT,
	    DTPROC_STOP_POSTINIT, DTPROC_STOP_MAIN,
	    DTPROC_STOP_CREATE | DTPROC_STOP_PREINIT | DTPROC_STOP_MAIN };
	struct racer r;
	dtproc_t *dtp = open_ok();
	pthread_t t;

	memset(&r, 0, sizeof (r));
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.dtp = dtp;
	CHECK_EQ_INT(pthread_create(&t, NULL, racer_main, &r), 0);
	for (int i = 0; i < 60; i++) {
		char line[256];
		struct notes ns = { 0 };
		struct victim v;
		/* several rendezvous need several continues: spam those */
		int stop = stops[i % 5], spam = i >= 40 || i % 5 == 4;
		dtproc_proc_t *pr;

		pr = create_ok(dtp, "ctlv", (char *[]){ "exit", NULL }, stop,
		    &v);
		pthread_mutex_lock(&r.mu);
		r.pr = pr;
		r.spam = spam;
		pthread_cond_broadcast(&r.cv);
		pthread_mutex_unlock(&r.mu);
		if (i % 2 == 1)
			dtproc_continue(dtp, pr);	/* both at once */
		if (!wait_notice(dtp, &ns, pr, 10000))
			FAIL("round %d (stop %#x%s): no exit; state %d, "
			    "threads of %d: %c", i, stop, spam ? ", spam" :
			    "", dtproc_state(dtp, pr), (int)v.pid,
			    proc_state(v.pid, 0));
		racer_stop(&r);
		CHECK_EXITED(dtproc_status(dtp, pr), 0);
		victim_expect(&v, line, sizeof (line), "marks ");
		dtproc_release(dtp, pr);
		victim_close(&v);
	}
	pthread_mutex_lock(&r.mu);
	r.quit = 1;
	pthread_cond_broadcast(&r.cv);
	pthread_mutex_unlock(&r.mu);
	pthread_join(t, NULL);
	tinfo("%ld continues", r.conts);
	dtproc_close(dtp);
	check_no_children();
}

/* ---- close ---- */

TEST(ctl_close_every_state)
{
	char line[256];
	struct notes ns = { 0 };
	struct victim rest, run, dead, ro, grun, grest, gbp;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t t;
	struct hits h;

	/* created: resting, running, dead (notice not yet handled) */
	(void) create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &rest);
	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &run);
	dtproc_continue(dtp, pr);
	ready_addrs(&run, NULL, NULL, NULL);
	pr = create_ok(dtp, "ctlv", (char *[]){ "exit", NULL },
	    DTPROC_STOP_MAIN, &dead);
	dtproc_continue(dtp, pr);
	CHECK(wait_notice(dtp, &ns, pr, 10000));
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_DEAD);
	/* grabbed: read-only cached, running, resting, with a breakpoint */
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &ro);
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &grun);
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &grest);
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &gbp);
	ready_addrs(&ro, NULL, NULL, NULL);
	ready_addrs(&grun, NULL, NULL, NULL);
	ready_addrs(&grest, NULL, NULL, NULL);
	ready_addrs(&gbp, NULL, NULL, &t);
	dtproc_release(dtp, grab_ctl(dtp, ro.pid, DTPROC_GRAB_RDONLY));
	dtproc_continue(dtp, grab_ctl(dtp, grun.pid, 0));
	(void) grab_ctl(dtp, grest.pid, 0);
	pr = grab_ctl(dtp, gbp.pid, 0);
	hits_init(&h, dtp, pr, t);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, t, hit_cb, &h), 0);
	dtproc_continue(dtp, pr);
	victim_send(&gbp, "c 2\n");
	victim_expect(&gbp, line, sizeof (line), "called ");
	CHECK_EQ_INT(atomic_load(&h.n), 2);
	dtproc_close(dtp);
	wait_our_threads(1, 5000);
	CHECK_EQ_INT(proc_state(rest.pid, 0), 0);
	CHECK_EQ_INT(proc_state(run.pid, 0), 0);
	CHECK_EQ_INT(proc_state(dead.pid, 0), 0);
	CHECK_EQ_INT(handle_fds(ro.pid), 0);
	CHECK_EQ_INT(text_matches_file(gbp.pid, t, 16), 1);
	struct victim *g[] = { &ro, &grun, &grest, &gbp };
	for (int i = 0; i < 4; i++) {
		CHECK_THREADS(g[i]->pid, "SR", 0);
		victim_send(g[i], "c 3\n");
		victim_expect(g[i], line, sizeof (line), "called ");
		CHECK_STR_EQ(line, "called n=3 sum=9");
		victim_send(g[i], "q\n");
		CHECK_EXITED(victim_wait(g[i]), 0);
	}
	CHECK_EQ_INT(atomic_load(&h.n), 2);
	check_no_children();
}

TEST(ctl_write_and_objects)
{
	char line[256];
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t data;
	dtproc_sym_t s;

	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	data = sym_addr(dtp, pr, "a.out`data");
	CHECK_EQ_INT(dtproc_write(dtp, pr, data, "written", 8), 8);
	CHECK_EQ_INT(dtproc_sym_addr(dtp, pr, sym_addr(dtp, pr,
	    "a.out`ctl_target") + 1, &s), 0);
	CHECK_STR_EQ(s.ds_name, "ctl_target");
	CHECK_STR_EQ(s.ds_object, "ctlv");
	CHECK_EQ_INT(s.ds_offset, 1);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_send(&v, "d\n");
	victim_expect(&v, line, sizeof (line), "data=");
	CHECK_STR_EQ(line, "data=written");
	/* while it runs too */
	CHECK_EQ_INT(dtproc_write(dtp, pr, data, "again", 6), 6);
	victim_send(&v, "d\n");
	victim_expect(&v, line, sizeof (line), "data=");
	CHECK_STR_EQ(line, "data=again");
	CHECK(dtproc_write(dtp, pr, 8, "x", 1) < 0);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

struct objs {
	int n;
	int exe_first;
	int libc;
	int stop_at;
};

static int
obj_cb(const char *path, uintptr_t base, int lmid, void *arg)
{
	struct objs *o = arg;

	if (o->n == 0 && path != NULL && strstr(path, "/ctlv") != NULL &&
	    base != 0 && lmid == 0)
		o->exe_first = 1;
	if (path != NULL && strstr(path, "libc.so.6") != NULL)
		o->libc = 1;
	o->n++;
	return o->stop_at > 0 && o->n == o->stop_at ? 42 : 0;
}

TEST(ctl_obj_iter)
{
	struct objs o = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	pr = create_ok(dtp, "ctlv", (char *[]){ "exit", NULL },
	    DTPROC_STOP_MAIN, &v);
	CHECK_EQ_INT(dtproc_obj_iter(dtp, pr, obj_cb, &o), 0);
	CHECK(o.n >= 3);
	CHECK(o.exe_first);
	CHECK(o.libc);
	memset(&o, 0, sizeof (o));
	o.stop_at = 2;
	CHECK_EQ_INT(dtproc_obj_iter(dtp, pr, obj_cb, &o), 42);
	CHECK_EQ_INT(o.n, 2);
	dtproc_close(dtp);
	CHECK_EQ_INT(proc_state(v.pid, 0), 0);
}

TEST(ctl_continue_early)
{
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	/* a continue for a rendezvous not yet reached is not lost */
	pr = create_ok(dtp, "ctlv", (char *[]){ "exit", "4", NULL },
	    DTPROC_STOP_CREATE | DTPROC_STOP_MAIN, &v);
	dtproc_continue(dtp, pr);
	dtproc_continue(dtp, pr);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 4);
	dtproc_close(dtp);
}

/* ---- more of create ---- */

TEST(ctl_create_argv_and_path)
{
	char line[256];
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	pr = create_ok(dtp, "exit_code", (char *[]){ "3", "a b", "", NULL },
	    DTPROC_STOP_MAIN, &v);
	dtproc_continue(dtp, pr);
	victim_expect(&v, line, sizeof (line), "argc=");
	CHECK_STR_EQ(line, "argc=4");
	victim_expect(&v, line, sizeof (line), "argv1=");
	CHECK_STR_EQ(line, "argv1=3");
	victim_expect(&v, line, sizeof (line), "argv2=");
	CHECK_STR_EQ(line, "argv2=a b");
	victim_expect(&v, line, sizeof (line), "argv3=");
	CHECK_STR_EQ(line, "argv3=");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 3);
	dtproc_release(dtp, pr);

	/* a bare name is searched in PATH; argv NULL is { file } */
	CHECK_EQ_INT(setenv("PATH", "/usr/bin:/bin", 1), 0);
	pr = dtproc_create(dtp, "true", NULL, DTPROC_STOP_MAIN);
	CHECK_MSG(pr != NULL, "create true: %s", dtproc_errmsg(dtp));
	check_resting(dtp, pr);
	dtproc_continue(dtp, pr);
	memset(&ns, 0, sizeof (ns));	/* the handle may reuse the address */
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

TEST(ctl_create_no_leaks)
{
	char line[256], want[256];
	struct notes ns = { 0 };
	struct victim v, a, b;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr, *ga;

	/* whatever the library holds open stays with it: not in a created
	   process, nor its control thread's blocked signals */
	spawn_victim("ctlv", (char *[]){ "wait", NULL }, &a);
	spawn_victim("ctlv", (char *[]){ "wait", NULL }, &b);
	ready_addrs(&a, NULL, NULL, NULL);
	ready_addrs(&b, NULL, NULL, NULL);
	dtproc_release(dtp, grab_ctl(dtp, a.pid, DTPROC_GRAB_RDONLY));
	ga = grab_ctl(dtp, b.pid, 0);
	dtproc_continue(dtp, ga);
	/* what it should have: 0, 1, 2 and whatever we inherited without
	   close-on-exec ourselves */
	{
		char *p = want + snprintf(want, sizeof (want), "fds=0,1,2");

		for (int fd = 3; fd < 1024; fd++) {
			int fl = fcntl(fd, F_GETFD);

			if (fl >= 0 && !(fl & FD_CLOEXEC))
				p += snprintf(p, want + sizeof (want) - p,
				    ",%d", fd);
		}
		snprintf(p, want + sizeof (want) - p, " blocked=none");
	}
	pr = create_ok(dtp, "ctlv", (char *[]){ "fds", NULL },
	    DTPROC_STOP_MAIN, &v);
	dtproc_continue(dtp, pr);
	victim_expect(&v, line, sizeof (line), "fds=");
	CHECK_STR_EQ(line, want);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
	finish_waiters(&a, 1);
	finish_waiters(&b, 1);
}

struct creator {
	dtproc_t *dtp;
	const char *path;
	dtproc_proc_t *pr;
	atomic_int done;
};

static void *
creator_main(void *arg)
{
	struct creator *c = arg;
	char *av[] = { (char *)c->path, "wait", NULL };

	c->pr = dtproc_create(c->dtp, c->path, av, 0);
	atomic_store(&c->done, 1);
	return NULL;
}

TEST(ctl_err_create_no_stop)
{
	struct creator c = { 0 };
	pthread_t t;

	/* stop 0 names no rendezvous: an error, or a handle, but at once;
	   never a wait for a rendezvous that cannot come (the victim waits
	   for a go line that nobody sends) */
	c.dtp = open_ok();
	c.path = victim_path("ctlv");
	{
		/* its output is not ours; its input never ends */
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC), in[2];

		CHECK(fd >= 0 && dup2(fd, 1) == 1);
		close(fd);
		CHECK_EQ_INT(pipe2(in, O_CLOEXEC), 0);
		CHECK(dup2(in[0], 0) == 0);
		close(in[0]);
	}
	CHECK_EQ_INT(pthread_create(&t, NULL, creator_main, &c), 0);
	WAIT_UNTIL(atomic_load(&c.done), 5000);
	CHECK_MSG(atomic_load(&c.done), "dtproc_create(stop 0) has not "
	    "returned after 5 s");
	pthread_join(t, NULL);
	tinfo("stop 0: %p %s", (void *)c.pr, c.pr ? "" : dtproc_errmsg(c.dtp));
	dtproc_close(c.dtp);
}

TEST(ctl_created_dies_with_client)
{
	int sync[2], st;
	pid_t helper, pid = -1;

	/* the dtproc process dies: what it created dies too */
	CHECK_EQ_INT(pipe2(sync, O_CLOEXEC), 0);
	fflush(NULL);
	if ((helper = fork()) == 0) {
		dtproc_t *dtp = dtproc_open(0, NULL);
		struct victim v;
		dtproc_proc_t *pr;

		if (dtp == NULL || (pr = create_v(dtp, "ctlv", (char *[]){
		    "wait", NULL }, DTPROC_STOP_MAIN, &v)) == NULL)
			_exit(3);
		dtproc_continue(dtp, pr);
		if (write(sync[1], &v.pid, sizeof (v.pid)) != sizeof (v.pid))
			_exit(4);
		for (;;)
			pause();
	}
	close(sync[1]);
	if (read(sync[0], &pid, sizeof (pid)) != sizeof (pid)) {
		CHECK_EQ_INT(waitpid(helper, &st, 0), helper);
		FAIL("helper: %s", wstatus_str(st));
	}
	CHECK(proc_alive(pid));
	CHECK_EQ_INT(kill(helper, SIGKILL), 0);
	CHECK_EQ_INT(waitpid(helper, &st, 0), helper);
	wait_exit(pid, 5000);
	CHECK_MSG(!proc_alive(pid), "created pid %d outlived its dtproc "
	    "process (state %c)", (int)pid, proc_state(pid, 0));
}

/* ---- breakpoints where the agent has its own ---- */

TEST(ctl_bkpt_at_main)
{
	char line[256];
	struct notes ns = { 0 };
	struct hits h, t;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t mainaddr, target;
	int rc;

	/* the agent stops at main for POSTINIT/MAIN; a client breakpoint
	   there is the client's all the same */
	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_CREATE, &v);
	mainaddr = sym_addr(dtp, pr, "a.out`main");
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	hits_init(&h, dtp, pr, mainaddr);
	hits_init(&t, dtp, pr, target);
	rc = dtproc_bkpt_add(dtp, pr, mainaddr, hit_cb, &h);
	CHECK_MSG(rc == 0, "dtproc_bkpt_add(a.out`main): %d: %s", rc,
	    dtproc_errmsg(dtp));
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, hit_cb, &t), 0);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	CHECK_EQ_INT(atomic_load(&h.n), 1);
	victim_send(&v, "c 2\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_EQ_INT(atomic_load(&t.n), 2);
	/* still the client's: it can be deleted */
	CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, mainaddr), 0);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

TEST(ctl_bkpt_at_dl_debug_state)
{
	char line[256];
	struct dlact d = { 0 };
	struct notes ns = { 0 };
	struct hits h;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t brk;
	int rc;

	/* r_brk is the agent's; a client probe there sees every call */
	spawn_victim("dl", (char *[]){ "open", (char *)libdyn_path(), NULL },
	    &v);
	victim_ready(&v, line, sizeof (line));
	dtproc_set_dlactivity(dtp, dlact_cb, &d);
	pr = grab_ctl(dtp, v.pid, 0);
	d.pr = pr;
	brk = sym_addr(dtp, pr, "_dl_debug_state");
	hits_init(&h, dtp, pr, brk);
	rc = dtproc_bkpt_add(dtp, pr, brk, hit_cb, &h);
	CHECK_MSG(rc == 0, "dtproc_bkpt_add(_dl_debug_state): %d: %s", rc,
	    dtproc_errmsg(dtp));
	dtproc_continue(dtp, pr);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "opened ");
	CHECK_EQ_INT(atomic_load(&d.n), 1);
	CHECK_EQ_INT(atomic_load(&h.n), 2);	/* RT_ADD, RT_CONSISTENT */
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "closed");
	CHECK_EQ_INT(atomic_load(&d.n), 2);
	CHECK_EQ_INT(atomic_load(&h.n), 4);
	victim_go(&v);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

TEST(ctl_nomonitor)
{
	struct victim v[2];
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *a, *b;

	spawn_waiters(v, 2);
	/* no control thread, no tracing */
	a = grab_ctl(dtp, v[0].pid, DTPROC_GRAB_NOMONITOR);
	CHECK_EQ_INT(our_threads(), 1);
	CHECK_THREADS(v[0].pid, "SR", 0);
	CHECK_EQ_INT(read_int(dtp, a, sym_addr(dtp, a, "a.out`ctor_mark")),
	    0x1234);
	dtproc_release(dtp, a);
	/* read-only and no monitor: cached like any read-only handle */
	b = grab_ctl(dtp, v[1].pid, DTPROC_GRAB_NOMONITOR |
	    DTPROC_GRAB_RDONLY);
	CHECK_EQ_INT(our_threads(), 1);
	dtproc_release(dtp, b);
	CHECK(handle_fds(v[1].pid) > 0);
	CHECK(grab_ctl(dtp, v[1].pid, DTPROC_GRAB_RDONLY) == b);
	dtproc_release(dtp, b);
	dtproc_close(dtp);
	finish_waiters(v, 2);
}

TEST(ctl_bkpt_add_twice)
{
	char line[256];
	struct notes ns = { 0 };
	struct hits a, b;
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t target;
	int rb, before;

	/* a second breakpoint at one site: refused, or both are kept and
	   called; as many deletes as were accepted leave the text as it
	   was */
	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	hits_init(&a, dtp, pr, target);
	hits_init(&b, dtp, pr, target);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, hit_cb, &a), 0);
	rb = dtproc_bkpt_add(dtp, pr, target, hit_cb, &b);
	tinfo("second add: %d %s", rb, rb ? dtproc_errmsg(dtp) : "");
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_send(&v, "c 2\n");
	victim_expect(&v, line, sizeof (line), "called ");
	/* an accepted breakpoint's callback runs at each hit */
	CHECK_MSG(atomic_load(&a.n) == 2 && (rb != 0 ||
	    atomic_load(&b.n) == 2), "2 hits; second add %s; callbacks: "
	    "first %d, second %d", rb == 0 ? "accepted" : "refused",
	    atomic_load(&a.n), atomic_load(&b.n));
	CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, target), 0);
	if (rb == 0) {
		/* one left: still armed */
		before = atomic_load(&a.n) + atomic_load(&b.n);
		CHECK_EQ_INT(mem_byte(v.pid, target), 0xcc);
		victim_send(&v, "c 1\n");
		victim_expect(&v, line, sizeof (line), "called ");
		CHECK_EQ_INT(atomic_load(&a.n) + atomic_load(&b.n),
		    before + 1);
		CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, target), 0);
	}
	CHECK_EQ_INT(text_matches_file(v.pid, target, 16), 1);
	before = atomic_load(&a.n) + atomic_load(&b.n);
	victim_send(&v, "c 3\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_EQ_INT(atomic_load(&a.n) + atomic_load(&b.n), before);
	CHECK(dtproc_bkpt_del(dtp, pr, target) < 0);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

/* ---- requests from callbacks ---- */

struct dlbp {
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	atomic_int acts;
	atomic_int added;
	atomic_int deleted;
	uintptr_t fn;
	int rc_add, rc_del;
	struct hits h;
};

static int
dlbp_act(dtproc_t *dtp, dtproc_proc_t *pr, void *arg)
{
	struct dlbp *d = arg;
	dtproc_sym_t s;

	atomic_fetch_add(&d->acts, 1);
	if (d->fn == 0 &&
	    dtproc_sym_lookup(dtp, pr, "libdyn.so`dyn_fn", &s) == 0) {
		/* loaded: probe it, as the pid provider would */
		d->fn = s.ds_addr;
		hits_init(&d->h, dtp, pr, d->fn);
		d->rc_add = dtproc_bkpt_add(dtp, pr, d->fn, hit_cb, &d->h);
		atomic_fetch_add(&d->added, 1);
	} else if (d->fn != 0 && !atomic_load(&d->deleted)) {
		/* unloaded: the probe goes */
		d->rc_del = dtproc_bkpt_del(dtp, pr, d->fn);
		atomic_fetch_add(&d->deleted, 1);
	}
	return 0;
}

TEST(ctl_dlactivity_adds_breakpoint)
{
	char line[256];
	struct dlbp d;
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	/* the callback asks the control thread it runs on for a
	   breakpoint: served, not a wait for itself */
	memset(&d, 0, sizeof (d));
	dtproc_set_dlactivity(dtp, dlbp_act, &d);
	pr = create_ok(dtp, "ctlv", (char *[]){ "dlopen",
	    (char *)libdyn_path(), NULL }, DTPROC_STOP_MAIN, &v);
	d.dtp = dtp;
	d.pr = pr;
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_go(&v);
	expect_within(&v, line, sizeof (line), "called ", 10000,
	    "a breakpoint request from the dl activity callback hangs");
	CHECK_EQ_INT(atomic_load(&d.added), 1);
	CHECK_EQ_INT(d.rc_add, 0);
	CHECK_EQ_INT(d.fn, line_field(line, "fn"));
	CHECK_EQ_INT(atomic_load(&d.h.n), 2);
	victim_go(&v);
	expect_within(&v, line, sizeof (line), "closed", 10000,
	    "a delete request from the dl activity callback hangs");
	CHECK_EQ_INT(atomic_load(&d.deleted), 1);
	CHECK_EQ_INT(d.rc_del, 0);
	victim_go(&v);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

struct chain {
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	uintptr_t first, second;
	atomic_int n1;
	atomic_int rc;
	struct hits h2;
};

static void
chain_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	struct chain *c = arg;
	int rc;

	(void)tid;
	(void)addr;
	/* the first hit arms the second site and disarms this one */
	if (atomic_fetch_add(&c->n1, 1) == 0) {
		rc = dtproc_bkpt_add(dtp, pr, c->second, hit_cb, &c->h2);
		if (rc == 0)
			rc = dtproc_bkpt_del(dtp, pr, c->first);
		atomic_store(&c->rc, rc);
	}
}

TEST(ctl_bkpt_callback_edits_breakpoints)
{
	char line[256];
	struct chain c;
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	memset(&c, 0, sizeof (c));
	pr = create_ok(dtp, "bp", (char *[]){ "1", "5", NULL },
	    DTPROC_STOP_MAIN, &v);
	c.dtp = dtp;
	c.pr = pr;
	c.first = sym_addr(dtp, pr, "a.out`bp_target");
	c.second = sym_addr(dtp, pr, "libc.so.6`pthread_mutex_lock");
	hits_init(&c.h2, dtp, pr, c.second);
	atomic_store(&c.rc, 1);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, c.first, chain_cb, &c), 0);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	victim_go(&v);
	expect_within(&v, line, sizeof (line), "sum=", 10000,
	    "a breakpoint request from a breakpoint callback hangs");
	CHECK_EQ_INT(line_field(line, "sum"), 25);
	CHECK_EQ_INT(atomic_load(&c.rc), 0);
	CHECK_EQ_INT(atomic_load(&c.n1), 1);
	CHECK(atomic_load(&c.h2.n) >= 1);	/* the worker's total += s */
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

/* ---- job control around the rendezvous ---- */

TEST(ctl_grab_job_stopped)
{
	char line[256];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	/* stopped by someone else before the grab: it stays stopped after
	   the continue, and after the release */
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, NULL, NULL, NULL);
	CHECK_EQ_INT(kill(v.pid, SIGSTOP), 0);
	victim_wait_stopped(&v);
	pr = grab_ctl(dtp, v.pid, 0);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	dtproc_continue(dtp, pr);
	victim_send(&v, "a\n");
	check_silent(&v, 300);
	CHECK_THREADS(v.pid, "tT", getpid());
	dtproc_release(dtp, pr);
	WAIT_THREADS(v.pid, "T", 0, 5000);
	check_silent(&v, 100);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	victim_expect(&v, line, sizeof (line), "echo ");
	CHECK_STR_EQ(line, "echo a");
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_untraced(&v), 0);
	dtproc_close(dtp);
}

TEST(ctl_stop_at_rendezvous)
{
	char line[256];
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	/* stop() while resting: the continue does not undo it */
	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	CHECK_EQ_INT(dtproc_stop(dtp, pr), 0);
	dtproc_continue(dtp, pr);
	check_silent(&v, 300);
	WAIT_THREADS(v.pid, "tT", getpid(), 5000);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_send(&v, "a\n");
	victim_expect(&v, line, sizeof (line), "echo ");
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

/* ---- leaks (AddressSanitizer builds) ---- */

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

TEST_TIMEOUT(ctl_no_leaks, 120)
{
#if !defined(__SANITIZE_ADDRESS__)
	SKIP("needs an AddressSanitizer build");
#else
	char line[256];
	struct notes ns = { 0 };
	struct dlact d = { 0 };
	struct victim v, w[10], x;
	struct hits h;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	uintptr_t t;

	/* a bit of everything, then close: nothing left allocated */
	dtproc_set_dlactivity(dtp, dlact_cb, &d);
	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_CREATE | DTPROC_STOP_MAIN, &v);
	d.pr = pr;
	dtproc_continue(dtp, pr);
	t = sym_addr(dtp, pr, "a.out`ctl_target");
	hits_init(&h, dtp, pr, t);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, t, hit_cb, &h), 0);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_send(&v, "c 3\n");
	victim_expect(&v, line, sizeof (line), "called ");
	CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, t), 0);
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_release(dtp, pr);
	spawn_waiters(w, 10);
	for (int i = 0; i < 10; i++) {
		pr = grab_ctl(dtp, w[i].pid, DTPROC_GRAB_RDONLY);
		(void) sym_addr(dtp, pr, "a.out`ctl_target");
		dtproc_release(dtp, pr);
	}
	spawn_victim("dl", (char *[]){ "open", (char *)libdyn_path(), NULL },
	    &x);
	victim_ready(&x, line, sizeof (line));
	pr = grab_ctl(dtp, x.pid, 0);
	d.pr = pr;
	d.ret = 1;
	dtproc_continue(dtp, pr);
	victim_go(&x);
	victim_expect(&x, line, sizeof (line), "opened ");
	victim_go(&x);
	victim_expect(&x, line, sizeof (line), "closed");
	dtproc_close(dtp);	/* notices still queued */
	wait_our_threads(1, 5000);
	CHECK_EQ_INT(__lsan_do_recoverable_leak_check(), 0);
	victim_go(&x);
	CHECK_EXITED(victim_wait(&x), 0);
	finish_waiters(w, 10);
#endif
}

/* Descriptors open in our process. */
static int
our_fds(void)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	CHECK(dir != NULL);
	while ((d = readdir(dir)) != NULL)
		n += d->d_name[0] >= '0' && d->d_name[0] <= '9';
	closedir(dir);
	return n - 1;		/* the directory's own */
}

TEST(ctl_rdonly_dead_handles_freed)
{
	dtproc_t *dtp = open_ok();
	int before, after;

	/* symbolizing short-lived processes: grab read-only, release, the
	   process dies, a later grab of its pid fails.  The dead handles
	   must not pile up (each holds a pidfd, its mem file, its
	   symbols) until dtproc_close */
	before = our_fds();
	for (int i = 0; i < 12; i++) {
		struct victim v;
		dtproc_proc_t *pr;

		spawn_victim("ctlv", (char *[]){ "wait", NULL }, &v);
		ready_addrs(&v, NULL, NULL, NULL);
		pr = grab_ctl(dtp, v.pid, DTPROC_GRAB_RDONLY);
		(void) sym_addr(dtp, pr, "a.out`ctl_target");
		dtproc_release(dtp, pr);
		victim_go(&v);
		CHECK_EXITED(victim_wait(&v), 0);
		victim_close(&v);
		CHECK(dtproc_grab(dtp, v.pid, DTPROC_GRAB_RDONLY) == NULL);
	}
	after = our_fds();
	tinfo("descriptors: %d before, %d after", before, after);
	/* at most the LRU's worth of cached handles (8, two each) */
	CHECK_MSG(after - before <= 16, "%d descriptors more after 12 dead "
	    "read-only handles", after - before);
	dtproc_close(dtp);
	/* all gone, the notify eventfd of dtproc_open too */
	CHECK_EQ_INT(our_fds(), before - 1);
}

/* ---- more exec, breakpoints under fire ---- */

TEST(ctl_exec_from_thread)
{
	char line[256];
	struct notes ns = { 0 };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

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
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

struct toggler {
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	uintptr_t addr;
	struct hits *h;
	atomic_int stop;
	atomic_int finished;	/* the victim is done: errors expected */
	atomic_int rounds;
	int err;
	const char *op;
	char msg[512];
};

static void *
toggler_main(void *arg)
{
	struct toggler *t = arg;

	while (!atomic_load(&t->stop)) {
		int rc = dtproc_bkpt_add(t->dtp, t->pr, t->addr, hit_cb, t->h);

		t->op = "add";
		if (rc == 0) {
			rc = dtproc_bkpt_del(t->dtp, t->pr, t->addr);
			t->op = "delete";
		}
		if (rc != 0)
			snprintf(t->msg, sizeof (t->msg), "%s (victim state "
			    "'%c', at %ld ms)", dtproc_errmsg(t->dtp),
			    proc_state(dtproc_pid(t->pr), 0), now_ms() % 100000);
		if (rc != 0) {
			/* the victim exiting makes requests fail: only
			   a failure while it runs counts */
			WAIT_UNTIL(atomic_load(&t->finished), 500);
			if (!atomic_load(&t->finished))
				t->err = rc;
			break;
		}
		atomic_fetch_add(&t->rounds, 1);
	}
	return NULL;
}

TEST_TIMEOUT(ctl_bkpt_toggle_while_hit, 120)
{
	char line[256];
	struct notes ns = { 0 };
	struct toggler t;
	struct hits h;
	struct victim v;
	dtproc_t *dtp = open_ok();
	pthread_t th;

	/* a client adds and deletes the site the threads keep hitting:
	   no stray SIGTRAP, no lost instruction, the right sum */
	memset(&t, 0, sizeof (t));
	t.dtp = dtp;
	t.pr = create_ok(dtp, "bp", (char *[]){ "4", "50000000", NULL },
	    DTPROC_STOP_MAIN, &v);
	t.addr = sym_addr(dtp, t.pr, "a.out`bp_target");
	hits_init(&h, dtp, t.pr, t.addr);
	t.h = &h;
	dtproc_continue(dtp, t.pr);
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(pthread_create(&th, NULL, toggler_main, &t), 0);
	WAIT_UNTIL(atomic_load(&t.rounds) >= 3, 10000);
	victim_go(&v);
	expect_within(&v, line, sizeof (line), "sum=", 60000,
	    "the victim did not finish");
	atomic_store(&t.finished, 1);
	atomic_store(&t.stop, 1);
	pthread_join(th, NULL);
	tinfo("%d toggles, %d hits", atomic_load(&t.rounds),
	    atomic_load(&h.n));
	CHECK_EQ_INT(line_field(line, "sum"), 4L * 50000000 * 50000000);
	CHECK_MSG(t.err == 0, "%s failed while the victim ran: %d: %s", t.op,
	    t.err, t.msg);
	CHECK(atomic_load(&t.rounds) > 0);
	CHECK(atomic_load(&h.n) > 0);
	CHECK_EQ_INT(atomic_load(&h.bad), 0);
	CHECK_EXITED(wait_dead(dtp, t.pr, &ns, 10000), 0);
	dtproc_close(dtp);
}

TEST(ctl_stop_then_client_dies_at_once)
{
	char line[256];
	struct victim v;
	int sync[2], st;
	pid_t helper;
	char c;

	/* dtproc_stop() returns, and the client dies right then: the stop
	   must not be lost with it */
	spawn_victim("ctlv", (char *[]){ "echo", NULL }, &v);
	ready_addrs(&v, NULL, NULL, NULL);
	CHECK_EQ_INT(pipe2(sync, O_CLOEXEC), 0);
	fflush(NULL);
	if ((helper = fork()) == 0) {
		dtproc_t *dtp = dtproc_open(0, NULL);
		dtproc_proc_t *pr;

		if (dtp == NULL ||
		    (pr = dtproc_grab(dtp, v.pid, 0)) == NULL)
			_exit(3);
		dtproc_continue(dtp, pr);
		if (write(sync[1], "c", 1) != 1)
			_exit(6);
		if (dtproc_stop(dtp, pr) != 0)
			_exit(4);
		kill(getpid(), SIGKILL);
		_exit(5);
	}
	CHECK(helper > 0);
	close(sync[1]);
	CHECK_EQ_INT(read(sync[0], &c, 1), 1);
	CHECK_EQ_INT(waitpid(helper, &st, 0), helper);
	CHECK_KILLED(st, SIGKILL);
	WAIT_THREADS(v.pid, "TSR", 0, 5000);
	victim_send(&v, "z\n");
	check_silent(&v, 300);
	CHECK_THREADS(v.pid, "T", 0);
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	victim_expect(&v, line, sizeof (line), "echo ");
	CHECK_STR_EQ(line, "echo z");
	victim_send(&v, "q\n");
	CHECK_EXITED(victim_wait(&v), 0);
}

static long
my_voluntary_switches(void)
{
	char path[64], line[256];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof (path), "/proc/self/task/%d/status",
	    (int)gettid());
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof (line), f) != NULL)
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void
count_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	(void) dtp, (void) pr, (void) tid, (void) addr;
	(*(long *)arg)++;
}

/*
 * A tracee's stops send SIGCHLD to its tracer.  Were the control thread
 * to block it, every hit would wake a client thread that merely sleeps
 * (the signal is queued for the process, then ignored on delivery):
 * the client's thread must not switch once per hit.
 */
TEST(ctl_bkpt_hits_leave_client_asleep)
{
	enum { N = 2000 };
	char *extra[] = { "loop", "2000", NULL };
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	long hits = 0, before, after;

	pr = create_ok(dtp, "probev", extra, DTPROC_STOP_MAIN, &v);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, sym_addr(dtp, pr,
	    "probe_target"), count_cb, &hits), 0);
	before = my_voluntary_switches();
	dtproc_continue(dtp, pr);
	for (int i = 0; i < 600 && dtproc_state(dtp, pr) != DTPROC_PS_DEAD;
	    i++)
		(void) dtproc_sleep(dtp, 100);
	after = my_voluntary_switches();
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_DEAD);
	CHECK_EQ_INT(hits, N);
	CHECK_MSG(after - before < N / 4, "the client thread switched %ld "
	    "times during %d hits", after - before, N);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	close(v.in);
	close(v.out);
}
