/*
 * ctl_bkpt.c - client breakpoints through the public API: hits on many
 * threads, text pristine at each rendezvous and armed while running,
 * delete and re-add, a second breakpoint at one site, the order of many
 * callbacks at one site, the agent's own site at main, callbacks that
 * use the handle or edit breakpoints, client threads using the handle
 * during hits, requests when the victim is killed, adds and deletes
 * racing the hits, and a client that sleeps through the hits.
 *
 * Hits are counted by hit_cb (ctlsupport.c), which also checks where
 * each came from; the victims (bp, ctlv) print their own sums to compare.
 */
#include "ctlsupport.h"

#include <limits.h>
#include <semaphore.h>

TEST_TIMEOUT(ctl_bkpt_8_threads, 120)
{
	CTL_LOCALS;
	struct hits h;
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
	CHECK_HITS(&h, 8 * 200);
	CHECK(atomic_load(&h.last_tid) != v.pid);	/* a worker */
	dtproc_close(dtp);
}

TEST(ctl_bkpt_text_pristine_at_rendezvous)
{
	CTL_LOCALS;
	struct hits h;
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
	/* at MAIN, resting again (stopped for a while): pristine again */
	continue_to_rest(dtp, pr, &v, 100);
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
	CHECK_HITS(&h, 200);
	dtproc_close(dtp);
}

TEST(ctl_bkpt_grab_rendezvous_pristine)
{
	CTL_LOCALS;
	struct hits h;
	uintptr_t target;
	int orig;

	spawn_ctlv("echo", &v, NULL, NULL, &target);
	orig = file_byte_at(v.pid, target);
	pr = grab_ctl(dtp, v.pid, 0);
	hits_init(&h, dtp, pr, target);
	h.only_tid = v.pid;
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, hit_cb, &h), 0);
	CHECK_EQ_INT(mem_byte(v.pid, target), orig);
	dtproc_continue(dtp, pr);
	/* it answers: it runs, so the site is armed */
	victim_send(&v, "x\n");
	victim_expect(&v, line, sizeof (line), "echo x");
	CHECK_EQ_INT(mem_byte(v.pid, target), 0xcc);
	ctlv_call(&v, 7, line, sizeof (line));
	CHECK_STR_EQ(line, "called n=7 sum=49");
	CHECK_HITS(&h, 7);
	/* released: the text is restored, the process runs on */
	dtproc_release(dtp, pr);
	CHECK_THREADS(v.pid, "SR", 0);
	CHECK_EQ_INT(text_matches_file(v.pid, target, 16), 1);
	ctlv_call(&v, 3, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&h.n), 7);
	quit_untraced(dtp, &v);
}

TEST(ctl_bkpt_del)
{
	CTL_LOCALS;
	struct hits h;
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
	ctlv_call(&v, 5, line, sizeof (line));
	CHECK_STR_EQ(line, "called n=5 sum=25");
	CHECK_EQ_INT(atomic_load(&h.n), 5);
	CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, target), 0);
	CHECK_EQ_INT(text_matches_file(v.pid, target, 16), 1);
	ctlv_call(&v, 5, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&h.n), 5);
	CHECK(dtproc_bkpt_del(dtp, pr, target) < 0);
	CHECK(dtproc_bkpt_del(dtp, pr, target + 3) < 0);
	/* and back */
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, hit_cb, &h), 0);
	ctlv_call(&v, 3, line, sizeof (line));
	CHECK_HITS(&h, 8);
	quit_dead(dtp, pr, &v, &ns);
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
	CTL_LOCALS;
	struct reentrant r = { 0 };
	uintptr_t target;

	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	r.addr = target;
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, reentrant_cb, &r), 0);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	ctlv_call(&v, 2, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&r.calls), 2);
	CHECK_EQ_INT(atomic_load(&r.ok), 2);
	quit_dead(dtp, pr, &v, &ns);
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
		if ((rc = (int)dtproc_read(c->dtp, c->pr, c->addr, &b,
		    1)) != 1 || (b != 0xcc && b != c->orig))
			snprintf(c->err, sizeof (c->err), "read %#x at the "
			    "site: %d", b, rc);
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
		if (c->err[0] != 0 && (rc == -ESRCH || rc == -DTPROC_EDEAD ||
		    atomic_load(c->stop) ||
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
	CTL_LOCALS;
	struct client c[2];
	struct hits h;
	atomic_int stop = 0;
	uintptr_t addr;
	sem_t first;

	CHECK_EQ_INT(sem_init(&first, 0, 0), 0);
	spawn_ready("bp", (char *[]){ "8", "300", NULL }, &v, line,
	    sizeof (line));
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
	CHECK_HITS(&h, 8 * 300);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

struct editor {
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	uintptr_t addr;
	struct tally okc;	/* requests served; done when it quits */
	int ok, fails, last;
	char msg[512];
};

static void *
editor_main(void *arg)
{
	struct editor *e = arg;

	while (e->fails < 5) {
		int rc = dtproc_bkpt_add(e->dtp, e->pr, e->addr, nop_cb, NULL);

		if (rc == 0) {
			e->ok++;
			tally_add(&e->okc, 1);
			(void) dtproc_bkpt_del(e->dtp, e->pr, e->addr);
		} else {
			e->fails++;
			e->last = rc;
			snprintf(e->msg, sizeof (e->msg), "%s",
			    dtproc_errmsg(e->dtp));
		}
	}
	tally_done(&e->okc);
	return NULL;
}

TEST(ctl_kill_during_request)
{
	CTL_LOCALS;
	struct editor e;
	pthread_t t;
	int n;

	memset(&e, 0, sizeof (e));
	e.okc = (struct tally)TALLY_INIT;
	e.dtp = dtp;
	e.pr = create_ok(dtp, "bp", (char *[]){ "2", "2000000000", NULL },
	    DTPROC_STOP_MAIN, &v);
	e.addr = sym_addr(dtp, e.pr, "a.out`main");
	dtproc_continue(dtp, e.pr);
	victim_ready(&v, (char [256]){ 0 }, 256);
	victim_go(&v);		/* busy threads */
	CHECK_EQ_INT(pthread_create(&t, NULL, editor_main, &e), 0);
	n = tally_wait(&e.okc, 5, 10000);
	CHECK_MSG(n >= 5, "requests not served: %d ok, %d failed, last %d: "
	    "%s", n, e.fails, e.last, e.msg);
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	(void) tally_wait(&e.okc, INT_MAX, 10000);
	CHECK_MSG(tally_is_done(&e.okc), "requests hang after the victim "
	    "died (%d ok, %d failed)", e.ok, e.fails);
	pthread_join(t, NULL);
	tinfo("%d requests served, last error %d: %s", e.ok, e.last, e.msg);
	CHECK(e.ok > 0);
	CHECK(e.last < 0);
	CHECK_KILLED(wait_dead(dtp, e.pr, &ns, 10000), SIGKILL);
	CHECK(dtproc_bkpt_add(dtp, e.pr, e.addr, nop_cb, NULL) < 0);
	dtproc_close(dtp);
}

TEST(ctl_bkpt_at_main)
{
	CTL_LOCALS;
	struct hits h, t;
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
	ctlv_call(&v, 2, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&t.n), 2);
	/* still the client's: it can be deleted */
	CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, mainaddr), 0);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(ctl_bkpt_add_twice)
{
	CTL_LOCALS;
	struct hits a, b;
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
	ctlv_call(&v, 2, line, sizeof (line));
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
		ctlv_call(&v, 1, line, sizeof (line));
		CHECK_EQ_INT(atomic_load(&a.n) + atomic_load(&b.n),
		    before + 1);
		CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, target), 0);
	}
	CHECK_EQ_INT(text_matches_file(v.pid, target, 16), 1);
	before = atomic_load(&a.n) + atomic_load(&b.n);
	ctlv_call(&v, 3, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&a.n) + atomic_load(&b.n), before);
	CHECK(dtproc_bkpt_del(dtp, pr, target) < 0);
	quit_dead(dtp, pr, &v, &ns);
}

/* Which callbacks a site ran, in the order they ran. */
struct ran {
	int r_ids[64];
	atomic_int r_n;
};

struct ran_tag {
	struct ran *t_ran;
	int t_id;
};

static void
ran_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	struct ran_tag *t = arg;
	int n = atomic_load(&t->t_ran->r_n);

	(void)dtp;
	(void)pr;
	(void)tid;
	(void)addr;
	/* one control thread runs them: the store publishes the id */
	if (n < 64) {
		t->t_ran->r_ids[n] = t->t_id;
		atomic_store(&t->t_ran->r_n, n + 1);
	}
}

TEST(ctl_bkpt_order_past_growth)
{
	CTL_LOCALS;
	enum { NCB = 300 };	/* past the first table's 256 buckets */
	static struct ran_tag tags[NCB];
	static struct ran ran;
	uintptr_t target;
	int n;

	/* callbacks of one site run in the order they were added (up to
	   16), and a delete takes the first, however many were added */
	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	for (int i = 0; i < NCB; i++) {
		tags[i] = (struct ran_tag){ &ran, i };
		CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, ran_cb,
		    &tags[i]), 0);
	}
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	ctlv_call(&v, 1, line, sizeof (line));
	n = atomic_load(&ran.r_n);
	CHECK_EQ_INT(n, 16);
	for (int i = 0; i < n; i++)
		CHECK_MSG(ran.r_ids[i] == i, "call %d ran callback %d", i,
		    ran.r_ids[i]);
	CHECK_EQ_INT(dtproc_bkpt_del(dtp, pr, target), 0);
	ctlv_call(&v, 1, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&ran.r_n), 32);
	CHECK_MSG(ran.r_ids[16] == 1 && ran.r_ids[31] == 16, "after the "
	    "delete: callbacks %d to %d ran", ran.r_ids[16], ran.r_ids[31]);
	quit_dead(dtp, pr, &v, &ns);
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
	CTL_LOCALS;
	struct chain c;

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
	close_dead(dtp, pr, &ns, 0);
}

struct toggler {
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	uintptr_t addr;
	struct hits *h;
	atomic_int stop;
	struct tally finished;	/* done: the victim is, errors expected */
	struct tally rounds;	/* done when the toggler quits */
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
			    proc_state(dtproc_pid(t->pr), 0),
			    now_ms() % 100000);
		if (rc != 0) {
			/* the victim exiting makes requests fail: only
			   a failure while it runs counts */
			(void) tally_wait(&t->finished, 1, 500);
			if (!tally_is_done(&t->finished))
				t->err = rc;
			break;
		}
		tally_add(&t->rounds, 1);
	}
	tally_done(&t->rounds);
	return NULL;
}

TEST_TIMEOUT(ctl_bkpt_toggle_while_hit, 120)
{
	CTL_LOCALS;
	struct toggler t;
	struct hits h;
	pthread_t th;

	/* a client adds and deletes the site the threads keep hitting:
	   no stray SIGTRAP, no lost instruction, the right sum */
	memset(&t, 0, sizeof (t));
	t.finished = (struct tally)TALLY_INIT;
	t.rounds = (struct tally)TALLY_INIT;
	t.dtp = dtp;
	t.pr = create_ok(dtp, "bp", (char *[]){ "4", "50000000", NULL },
	    DTPROC_STOP_MAIN, &v);
	t.addr = sym_addr(dtp, t.pr, "a.out`bp_target");
	hits_init(&h, dtp, t.pr, t.addr);
	t.h = &h;
	dtproc_continue(dtp, t.pr);
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(pthread_create(&th, NULL, toggler_main, &t), 0);
	(void) tally_wait(&t.rounds, 3, 10000);
	victim_go(&v);
	expect_within(&v, line, sizeof (line), "sum=", 60000,
	    "the victim did not finish");
	tally_done(&t.finished);
	atomic_store(&t.stop, 1);
	pthread_join(th, NULL);
	tinfo("%d toggles, %d hits", t.rounds.t_n,
	    atomic_load(&h.n));
	CHECK_EQ_INT(line_field(line, "sum"), 4L * 50000000 * 50000000);
	CHECK_MSG(t.err == 0, "%s failed while the victim ran: %d: %s", t.op,
	    t.err, t.msg);
	CHECK(t.rounds.t_n > 0);
	CHECK(atomic_load(&h.n) > 0);
	CHECK_EQ_INT(atomic_load(&h.bad), 0);
	CHECK_EXITED(wait_dead(dtp, t.pr, &ns, 10000), 0);
	dtproc_close(dtp);
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
	CTL_LOCALS;
	enum { N = 2000 };
	char *extra[] = { "loop", "2000", NULL };
	long hits = 0, before, after;

	pr = create_ok(dtp, "probev", extra, DTPROC_STOP_MAIN, &v);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, sym_addr(dtp, pr,
	    "probe_target"), count_cb, &hits), 0);
	before = my_voluntary_switches();
	dtproc_continue(dtp, pr);
	/* asleep on the notify descriptor until the death notice */
	(void) wait_dead(dtp, pr, &ns, 60000);
	after = my_voluntary_switches();
	CHECK_EQ_INT(hits, N);
	CHECK_MSG(after - before < N / 4, "the client thread switched %ld "
	    "times during %d hits", after - before, N);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	close(v.in);
	close(v.out);
}
