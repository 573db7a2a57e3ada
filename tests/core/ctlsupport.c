/*
 * ctlsupport.c - helpers the ctl_*.c tests share (ctlsupport.h): victims
 * created and grabbed through the public API, /proc readers, collectors
 * of notices, breakpoint hits and dynamic-linker activity, and the waits
 * the tests need.
 *
 * Every wait sleeps on what wakes it: a victim's stdout, a pidfd (a
 * process's or, for our own control threads, a thread's), the notify
 * descriptor, a pipe the event callback writes, or the handle's condition
 * variable.  ctl_wait_resting() is the only wait for a process to rest:
 * dtproc_wait_stopped().
 */
#include "ctlsupport.h"

#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>


/* CLOCK_REALTIME, MS from now: a pthread_cond_timedwait deadline. */
static struct timespec
deadline(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

/*
 * Wait up to MS for PID to exit (a zombie, or gone): its pidfd turns
 * readable.  No verdict: the caller checks what it needs afterwards.
 */
void
wait_exit(pid_t pid, int ms)
{
	long end = now_ms() + ms;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long left;

	if (fd < 0) {
		if (errno != ESRCH)
			FAIL("pidfd_open(%d): %s", (int)pid, strerror(errno));
		return;		/* gone already */
	}
	while ((left = end - now_ms()) > 0 &&
	    poll(&p, 1, (int)left) < 0 && errno == EINTR)
		;
	close(fd);
}

dtproc_proc_t *
grab_ctl(dtproc_t *dtp, pid_t pid, int flags)
{
	dtproc_proc_t *pr = dtproc_grab(dtp, pid, flags);

	CHECK_MSG(pr != NULL, "dtproc_grab(%d, %#x): %s", (int)pid, flags,
	    dtproc_errmsg(dtp));
	CHECK_EQ_INT(dtproc_pid(pr), pid);
	return pr;
}

/* The address of NAME in PR; fails the test if it is not found. */
uintptr_t
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

int
read_int(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	int x = -1;
	ssize_t r = dtproc_read(dtp, pr, addr, &x, sizeof (x));

	CHECK_MSG(r == (ssize_t)sizeof (x), "dtproc_read(%#lx): %zd: %s",
	    (unsigned long)addr, r, dtproc_errmsg(dtp));
	return x;
}

int
read_byte(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	uint8_t b = 0;
	ssize_t r = dtproc_read(dtp, pr, addr, &b, 1);

	CHECK_MSG(r == 1, "dtproc_read(%#lx): %zd: %s", (unsigned long)addr,
	    r, dtproc_errmsg(dtp));
	return b;
}

/* The byte at ADDR straight from /proc/PID/mem. */
int
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
int
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

/* Stopped at a rendezvous: every thread in a ptrace stop, traced by us. */
void
check_resting(dtproc_t *dtp, dtproc_proc_t *pr)
{
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	CHECK_THREADS(dtproc_pid(pr), "t", getpid());
}

/* The one wait for a process to rest: the library's own. */
void
ctl_wait_resting(dtproc_t *dtp, dtproc_proc_t *pr, int ms)
{
	int rc = dtproc_wait_stopped(dtp, pr, ms);

	CHECK_MSG(rc == 0, "pid %d does not rest within %d ms: %d (state %d)",
	    (int)dtproc_pid(pr), ms, rc, dtproc_state(dtp, pr));
}

void
continue_to_rest(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v,
    int silent_ms)
{
	dtproc_continue(dtp, pr);
	ctl_wait_resting(dtp, pr, 5000);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "libc.so.6`malloc",
	    &(dtproc_sym_t){ 0 }), 0);
	check_silent(v, silent_ms);
	check_resting(dtp, pr);
}

static void
jobstop_cb(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	struct jobstops *js = arg;

	(void) dtp;
	(void) pr;
	if (ev->de_kind == DTPROC_EV_JOBSTOP &&
	    write(js->fd[1], "j", 1) != 1)
		abort();
}

void
jobstops_watch(dtproc_t *dtp, struct jobstops *js)
{
	CHECK_EQ_INT(pipe2(js->fd, O_CLOEXEC), 0);
	dtproc_set_event(dtp, jobstop_cb, js);
}

void
jobstops_wait(struct jobstops *js, int ms)
{
	struct pollfd p = { .fd = js->fd[0], .events = POLLIN };
	char c;
	int r;

	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	CHECK_MSG(r == 1, "no job-control stop reported within %d ms", ms);
	CHECK_EQ_INT(read(js->fd[0], &c, 1), 1);
}

static void
upgrade_cb(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	struct upgrades *u = arg;
	uintptr_t a;

	(void) dtp;
	(void) pr;
	if (ev->de_kind == DTPROC_EV_UPGRADE)
		a = ev->de_addr;
	else if (ev->de_kind == DTPROC_EV_EXIT || ev->de_kind == DTPROC_EV_LOST)
		a = 0;
	else
		return;
	/* (a pipe's write of this size is atomic) */
	if (write(u->fd[1], &a, sizeof (a)) != (ssize_t)sizeof (a))
		abort();
}

void
upgrades_watch(dtproc_t *dtp, struct upgrades *u)
{
	CHECK_EQ_INT(pipe2(u->fd, O_CLOEXEC), 0);
	dtproc_set_event(dtp, upgrade_cb, u);
}

int
upgrades_wait(struct upgrades *u, uintptr_t addr, int ms, long *waited)
{
	struct pollfd p = { .fd = u->fd[0], .events = POLLIN };
	long start = now_ms(), left;
	uintptr_t a = 0;
	int found = 0;

	while ((left = start + ms - now_ms()) > 0) {
		int r = poll(&p, 1, (int)left);

		if (r < 0 && errno == EINTR)
			continue;
		CHECK_MSG(r >= 0, "poll: %s", strerror(errno));
		if (r == 0)
			break;
		CHECK_EQ_INT(read(u->fd[0], &a, sizeof (a)), sizeof (a));
		if (a == addr || a == 0) {
			found = a == addr;
			break;
		}
	}
	if (waited != NULL)
		*waited = now_ms() - start;
	return found;
}

void
upgrades_close(dtproc_t *dtp, struct upgrades *u)
{
	dtproc_set_event(dtp, NULL, NULL);
	close(u->fd[0]);
	close(u->fd[1]);
}

void
tally_add(struct tally *t, int d)
{
	(void) pthread_mutex_lock(&t->t_mu);
	t->t_n += d;
	(void) pthread_cond_broadcast(&t->t_cv);
	(void) pthread_mutex_unlock(&t->t_mu);
}

void
tally_done(struct tally *t)
{
	(void) pthread_mutex_lock(&t->t_mu);
	t->t_done = 1;
	(void) pthread_cond_broadcast(&t->t_cv);
	(void) pthread_mutex_unlock(&t->t_mu);
}

int
tally_wait(struct tally *t, int want, int ms)
{
	struct timespec ts = deadline(ms);
	int rc = 0, n;

	(void) pthread_mutex_lock(&t->t_mu);
	while (t->t_n < want && !t->t_done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&t->t_cv, &t->t_mu, &ts);
	n = t->t_n;
	(void) pthread_mutex_unlock(&t->t_mu);
	return n;
}

int
tally_is_done(struct tally *t)
{
	int d;

	(void) pthread_mutex_lock(&t->t_mu);
	d = t->t_done;
	(void) pthread_mutex_unlock(&t->t_mu);
	return d;
}

/* victim_expect() that fails after MS without a line, naming WHAT. */
char *
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

char *
ask(struct victim *v, const char *cmd, const char *prefix, char *line,
    size_t n)
{
	victim_send(v, cmd);
	return expect_within(v, line, n, prefix, 20000, cmd);
}

/* A wait(2)-less exit status check for a victim we do not trace. */
int
wait_untraced(struct victim *v)
{
	CHECK_EQ_INT(proc_tracer(v->pid, 0) > 0, 0);
	return victim_wait(v);
}

/* Count our descriptors that belong to PID: its pidfd, its mem file. */
int
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
		if (read_file(path, buf, sizeof (buf)) <= 0)
			continue;
		char *p = strstr(buf, "Pid:");
		if (p != NULL && atoi(p + 4) == pid)
			n++;
	}
	closedir(dir);
	return n;
}

/*
 * Wait until we are down to N threads: a joined control thread may still
 * be listed until the kernel has released it, so each of our threads
 * other than this one is watched through a thread pidfd, readable once it
 * has exited.
 */
void
wait_our_threads(int n, int ms)
{
	pid_t tids[1024];
	struct pollfd p[1024];
	int nt = proc_tasks(getpid(), tids, 1024), np = 0, alive;
	long end = now_ms() + ms, left;

	for (int i = 0; i < nt && i < 1024; i++) {
		int fd;

		if (tids[i] == gettid())
			continue;
		fd = (int)syscall(SYS_pidfd_open, tids[i], PIDFD_THREAD);
		if (fd < 0 && errno == ESRCH)
			continue;	/* gone */
		CHECK_MSG(fd >= 0, "pidfd_open(thread %d): %s", (int)tids[i],
		    strerror(errno));
		p[np].fd = fd;
		p[np].revents = 0;
		p[np++].events = POLLIN;
	}
	for (;;) {
		alive = 1 - sanitizer_threads();
		for (int i = 0; i < np; i++) {
			if (p[i].fd >= 0 && (p[i].revents & POLLIN)) {
				close(p[i].fd);
				p[i].fd = -1;	/* poll ignores it now */
			}
			alive += p[i].fd >= 0;
		}
		if (alive <= n || (left = end - now_ms()) <= 0)
			break;
		if (poll(p, (nfds_t)np, (int)left) < 0 && errno != EINTR)
			FAIL("poll: %s", strerror(errno));
	}
	for (int i = 0; i < np; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	CHECK_MSG(alive == n, "%d threads in the test process, expected %d",
	    alive, n);
}


void
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
int
wait_notice(dtproc_t *dtp, struct notes *ns, dtproc_proc_t *pr, int ms)
{
	return wait_notice_from(dtp, ns, pr, ns->n, ms) >= 0;
}

/* Wait for PR's death notice (no message); returns its wait status. */
int
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

/* Make PID the next pid the kernel hands out (ns_last_pid); 0 or -1. */
int
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

void
spawn_ctlv(const char *mode, struct victim *v, uintptr_t *ctor,
    uintptr_t *mainm, uintptr_t *target)
{
	spawn_victim("ctlv", (char *[]){ (char *)mode, NULL }, v);
	ready_addrs(v, ctor, mainm, target);
}

dtproc_proc_t *
grab_echo(dtproc_t *dtp, struct victim *v, uintptr_t *ctor, int flags)
{
	spawn_ctlv("echo", v, ctor, NULL, NULL);
	return grab_ctl(dtp, v->pid, flags);
}

char *
ctlv_call(struct victim *v, int n, char *line, size_t len)
{
	char cmd[32];

	snprintf(cmd, sizeof (cmd), "c %d\n", n);
	victim_send(v, cmd);
	return victim_expect(v, line, len, "called ");
}

void
close_dead(dtproc_t *dtp, dtproc_proc_t *pr, struct notes *ns, int st)
{
	CHECK_EXITED(wait_dead(dtp, pr, ns, 10000), st);
	dtproc_close(dtp);
}

void
quit_dead(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v,
    struct notes *ns)
{
	victim_send(v, "q\n");
	close_dead(dtp, pr, ns, 0);
}

void
quit_untraced(dtproc_t *dtp, struct victim *v)
{
	victim_send(v, "q\n");
	CHECK_EXITED(wait_untraced(v), 0);
	dtproc_close(dtp);
}

void
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

void
nop_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	(void)dtp; (void)pr; (void)tid; (void)addr; (void)arg;
}

/* No child of ours is left, zombie or not. */
void
check_no_children(void)
{
	pid_t pid;
	char st;

	if (proc_children(&pid, &st, 1) > 0)
		FAIL("child %d left behind (state %c)", (int)pid, st);
}

void
spawn_waiters(struct victim *v, int n)
{
	for (int i = 0; i < n; i++) {
		spawn_victim("ctlv", (char *[]){ "wait", NULL }, &v[i]);
		ready_addrs(&v[i], NULL, NULL, NULL);
	}
}

void
finish_waiters(struct victim *v, int n)
{
	for (int i = 0; i < n; i++) {
		victim_go(&v[i]);
		CHECK_EXITED(wait_untraced(&v[i]), 0);
	}
}

/* Which of V[0..N) have a handle: a string of '1' and '0'. */
const char *
cached_set(struct victim *v, int n)
{
	static char s[64];

	for (int i = 0; i < n; i++)
		s[i] = handle_fds(v[i].pid) > 0 ? '1' : '0';
	s[n] = '\0';
	return s;
}


void
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

void
hits_init(struct hits *h, dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	memset(h, 0, sizeof (*h));
	h->dtp = dtp;
	h->pr = pr;
	h->addr = addr;
}

void
hits_add(struct hits *h, dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	int rc;

	hits_init(h, dtp, pr, addr);
	rc = dtproc_bkpt_add(dtp, pr, addr, hit_cb, h);
	CHECK_MSG(rc == 0, "dtproc_bkpt_add(%#lx): %d: %s",
	    (unsigned long)addr, rc, dtproc_errmsg(dtp));
}

const char *
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


int
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


/* ---- function probes ---- */

void
rec_cb(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_hit_t *hit, void *arg)
{
	struct tag *t = arg;
	struct rec *r = t->t_rec;
	uint64_t v = 0, rax = 0, pc = 0, sp = 0;
	int err, bad;

	(void) dtp, (void) pr;
	err = dtproc_hit_reg(hit, "rdi", &v);
	bad = (dtproc_hit_reg(hit, "rax", &rax) != 0) +
	    (dtproc_hit_reg(hit, "pc", &pc) != 0) +
	    (dtproc_hit_reg(hit, "sp", &sp) != 0);
	pthread_mutex_lock(&r->r_mu);
	if (r->r_n < REC_MAX) {
		int i = r->r_n++;

		r->r_hit[i] = *hit;
		r->r_hit[i].dh_regs = NULL;
		r->r_name[i] = t->t_name;
		r->r_regbad += err != 0;
		r->r_rpsbad += bad;
		r->r_rdi[i] = v;
		r->r_rdierr[i] = err;
		r->r_rax[i] = rax;
		r->r_pc[i] = pc;
		r->r_sp[i] = sp;
	}
	pthread_mutex_unlock(&r->r_mu);
	tally_add(&r->r_tally, 1);
}

struct rec *
rec_new(void)
{
	struct rec *r = calloc(1, sizeof (*r));

	CHECK(r != NULL);
	pthread_mutex_init(&r->r_mu, NULL);
	pthread_mutex_init(&r->r_tally.t_mu, NULL);
	pthread_cond_init(&r->r_tally.t_cv, NULL);
	return r;
}

/*
 * The records before the count were written under the lock too, and
 * are read after it: once the firings a test waits for are in, nothing
 * is written meanwhile.
 */
int
rec_n(struct rec *r)
{
	int n;

	pthread_mutex_lock(&r->r_mu);
	n = r->r_n;
	pthread_mutex_unlock(&r->r_mu);
	return n;
}

int
rec_wait(struct rec *r, int want, int ms)
{
	(void) tally_wait(&r->r_tally, want, ms);
	return rec_n(r);
}

int
count(struct rec *r, const char *name, int kind)
{
	int n = 0;

	pthread_mutex_lock(&r->r_mu);
	for (int i = 0; i < r->r_n; i++)
		n += strcmp(r->r_name[i], name) == 0 &&
		    r->r_hit[i].dh_kind == kind;
	pthread_mutex_unlock(&r->r_mu);
	return n;
}

dtproc_proc_t *
fprobev(dtproc_t *dtp, struct victim *v)
{
	return create_ok(dtp, "fprobev", NULL, DTPROC_STOP_MAIN, v);
}

uintptr_t
probe(dtproc_t *dtp, dtproc_proc_t *pr, const char *name, int flags,
    struct rec *r)
{
	char spec[128];
	uintptr_t fn;
	struct tag *t = calloc(1, sizeof (*t));

	CHECK(t != NULL);
	snprintf(spec, sizeof (spec), "a.out`%s", name);
	fn = sym_addr(dtp, pr, spec);
	t->t_rec = r;
	t->t_name = name;
	CHECK_MSG(dtproc_fprobe_add(dtp, pr, fn, 0, flags, rec_cb, t) == 0,
	    "fprobe_add %s: %s", name, dtproc_errmsg(dtp));
	return fn;
}

dtproc_fprobe_info_t
finfo(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t fn, size_t off, int kind)
{
	dtproc_fprobe_info_t fi;

	memset(&fi, 0xa5, sizeof (fi));
	CHECK_MSG(dtproc_fprobe_info(dtp, pr, fn, off, kind, &fi) == 0,
	    "fprobe_info %#lx: %s", (unsigned long)fn, dtproc_errmsg(dtp));
	return fi;
}
