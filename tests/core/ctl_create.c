/*
 * ctl_create.c - dtproc_create() and the stop points: each rendezvous
 * (create, preinit, postinit, main) alone and in turn, continues that
 * come early or race the rendezvous, argv and PATH, what a created
 * process inherits, a created process dying with its client, and
 * dtproc_stop() asked while running or while resting.
 *
 * The ctlv victim marks its constructor and main in memory (ctor_mark,
 * main_mark), read through the API at each rest to tell where it is.
 */
#include "ctlsupport.h"

#include <fcntl.h>

/* create ctlv exit 7 at STOP; check the marks there; run it out. */
static void
create_at(int stop, int ctor_want)
{
	char *args[] = { "exit", "7", NULL };
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
	victim_expect_eq(&v, "marks ", "marks ctor=4660 main=1");
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
	CTL_LOCALS;
	dtproc_sym_t s;

	/* At PREINIT libc is loaded and relocated: its symbols resolve. */
	pr = create_ok(dtp, "ctlv", (char *[]){ "exit", "0", NULL },
	    DTPROC_STOP_PREINIT, &v);
	check_resting(dtp, pr);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "libc.so.6`malloc", &s), 0);
	CHECK(s.ds_addr != 0);
	CHECK_STR_EQ(s.ds_object, "libc.so.6");
	dtproc_continue(dtp, pr);
	close_dead(dtp, pr, &ns, 0);
}

/* Every stop at once: each rendezvous in turn, marks as they should be. */
TEST(ctl_create_every_stop_in_turn)
{
	CTL_LOCALS;
	uintptr_t cm;

	pr = create_ok(dtp, "ctlv", (char *[]){ "exit", "3", NULL },
	    DTPROC_STOP_CREATE |
	    DTPROC_STOP_PREINIT | DTPROC_STOP_MAIN, &v);
	check_resting(dtp, pr);
	cm = sym_addr(dtp, pr, "a.out`ctor_mark");
	CHECK_EQ_INT(read_int(dtp, pr, cm), 0);
	CHECK(dtproc_sym_lookup(dtp, pr, "libc.so.6`malloc",
	    &(dtproc_sym_t){ 0 }) != 0);
	/* on to PREINIT: it rests again, libc known, no constructor run */
	continue_to_rest(dtp, pr, &v, 50);
	CHECK_EQ_INT(read_int(dtp, pr, cm), 0);
	/* MAIN: the constructor has run */
	continue_to_rest(dtp, pr, &v, 50);
	CHECK_EQ_INT(read_int(dtp, pr, cm), 0x1234);
	CHECK_EQ_INT(read_int(dtp, pr, sym_addr(dtp, pr, "a.out`main_mark")),
	    0);
	CHECK_EQ_INT(dtproc_sleep(dtp, 0), 0);
	dtproc_continue(dtp, pr);
	close_dead(dtp, pr, &ns, 3);
}

TEST(ctl_stop_requested)
{
	CTL_LOCALS;
	struct hits h;
	struct jobstops js;
	uintptr_t target;

	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	target = sym_addr(dtp, pr, "a.out`ctl_target");
	jobstops_watch(dtp, &js);
	dtproc_continue(dtp, pr);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_send(&v, "a\n");
	victim_expect(&v, line, sizeof (line), "echo a");
	/* it returns once the stop has taken */
	CHECK_EQ_INT(dtproc_stop(dtp, pr), 0);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	jobstops_wait(&js, 5000);
	CHECK_THREADS(v.pid, "tT", getpid());
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
	victim_expect_eq(&v, "echo ", "echo b");
	ctlv_call(&v, 4, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&h.n), 4);
	quit_dead(dtp, pr, &v, &ns);
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

TEST(ctl_continue_early)
{
	CTL_LOCALS;

	/* a continue for a rendezvous not yet reached is not lost */
	pr = create_ok(dtp, "ctlv", (char *[]){ "exit", "4", NULL },
	    DTPROC_STOP_CREATE | DTPROC_STOP_MAIN, &v);
	dtproc_continue(dtp, pr);
	dtproc_continue(dtp, pr);
	close_dead(dtp, pr, &ns, 4);
}

TEST(ctl_create_argv_and_path)
{
	CTL_LOCALS;

	pr = create_ok(dtp, "exit_code", (char *[]){ "3", "a b", "", NULL },
	    DTPROC_STOP_MAIN, &v);
	dtproc_continue(dtp, pr);
	victim_expect_eq(&v, "argc=", "argc=4");
	victim_expect_eq(&v, "argv1=", "argv1=3");
	victim_expect_eq(&v, "argv2=", "argv2=a b");
	victim_expect_eq(&v, "argv3=", "argv3=");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 3);
	dtproc_release(dtp, pr);

	/* a bare name is searched in PATH; argv NULL is { file } */
	CHECK_EQ_INT(setenv("PATH", "/usr/bin:/bin", 1), 0);
	pr = dtproc_create(dtp, "true", NULL, DTPROC_STOP_MAIN);
	CHECK_MSG(pr != NULL, "create true: %s", dtproc_errmsg(dtp));
	check_resting(dtp, pr);
	dtproc_continue(dtp, pr);
	memset(&ns, 0, sizeof (ns));	/* the handle may reuse the address */
	close_dead(dtp, pr, &ns, 0);
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

TEST(ctl_stop_at_rendezvous)
{
	CTL_LOCALS;
	struct jobstops js;

	/* stop() while resting: the continue does not undo it */
	pr = create_ok(dtp, "ctlv", (char *[]){ "echo", NULL },
	    DTPROC_STOP_MAIN, &v);
	jobstops_watch(dtp, &js);
	CHECK_EQ_INT(dtproc_stop(dtp, pr), 0);
	dtproc_continue(dtp, pr);
	jobstops_wait(&js, 5000);
	check_silent(&v, 300);
	CHECK_THREADS(v.pid, "tT", getpid());
	CHECK_EQ_INT(kill(v.pid, SIGCONT), 0);
	ready_addrs(&v, NULL, NULL, NULL);
	victim_send(&v, "a\n");
	victim_expect(&v, line, sizeof (line), "echo ");
	quit_dead(dtp, pr, &v, &ns);
}
