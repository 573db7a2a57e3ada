/*
 * wake.c - pt_wake: another thread interrupting the owner's blocking
 * pt_wait(), with no lost wake-up whenever the post lands.
 */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

struct poster {
	pt_wake_t *w;
	int count;		/* posts to make */
	int cmd[2];		/* posts on command: a byte per post */
	int done[2];		/* a byte back per post returned */
	atomic_int posted;
};

static void *
post_n(void *p)
{
	struct poster *a = p;

	for (int i = 0; i < a->count; i++) {
		pt_wake_post(a->w);
		atomic_fetch_add(&a->posted, 1);
	}
	return NULL;
}

static void *
post_on_command(void *p)
{
	struct poster *a = p;
	char c;

	while (read(a->cmd[0], &c, 1) == 1 && c == 'p') {
		pt_wake_post(a->w);
		atomic_fetch_add(&a->posted, 1);
		if (write(a->done[1], "d", 1) != 1)
			break;
	}
	return NULL;
}

/* A grabbed, resumed, idle victim (blocked read). */
static pt_proc_t *
idle_victim(struct victim *v)
{
	char *args[] = { "read", NULL };
	char line[256];
	pt_proc_t *P;

	spawn_victim("blocked", args, v);
	victim_ready(v, line, sizeof (line));
	P = grab_ok(v->pid, 0);
	CHECK_PT(pt_resume(P));
	return P;
}

static void
finish_idle_victim(pt_proc_t *P, struct victim *v)
{
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_go(v);
	victim_expect_eq(v, "read ", "read ok");
	CHECK_EXITED(victim_wait(v), 0);
}

/*
 * Block in pt_wait() until woken; ack the wake.  Returns the number of
 * -EINTR returns it took (more than one if a re-sent signal or another
 * signal came first).
 */
static int
wait_woken(pt_proc_t *P, pt_wake_t *w)
{
	pt_event_t ev;
	int tries = 0;

	for (;;) {
		int r = pt_wait(P, &ev, 1);

		tries++;
		if (r == 1)
			FAIL("unexpected %s event from an idle victim",
			    ev_name(ev.pe_kind));
		CHECK_MSG(r == -EINTR, "pt_wait returned %d (%s)", r,
		    r < 0 ? strerror(-r) : "");
		if (pt_wake_pending(w)) {
			pt_wake_ack(w);
			return tries;
		}
		CHECK_MSG(tries < 1000, "woken 1000 times with nothing "
		    "pending");
	}
}

TEST_TIMEOUT(wake_1000_posts, 60)
{
	struct poster a = { 0 };
	struct victim v;
	pthread_t t;
	pt_proc_t *P;

	P = idle_victim(&v);
	CHECK((a.w = pt_wake_init()) != NULL);
	pt_set_wake(P, a.w);
	a.count = 1000;
	CHECK_EQ_INT(pthread_create(&t, NULL, post_n, &a), 0);
	for (int i = 0; i < 1000; i++)
		wait_woken(P, a.w);
	pthread_join(t, NULL);
	CHECK_EQ_INT(atomic_load(&a.posted), 1000);
	CHECK(!pt_wake_pending(a.w));
	finish_idle_victim(P, &v);
	pt_wake_fini(a.w);
}

TEST_TIMEOUT(wake_post_while_busy, 60)
{
	struct poster a = { 0 };
	struct victim v;
	volatile unsigned long sink = 0;
	pthread_t t;
	pt_proc_t *P;
	char c;

	/* The post may land before, during or after our pt_wait() call:
	   each must end that pt_wait() (or the next) all the same. */
	P = idle_victim(&v);
	CHECK((a.w = pt_wake_init()) != NULL);
	pt_set_wake(P, a.w);
	CHECK(pipe(a.cmd) == 0 && pipe(a.done) == 0);
	CHECK_EQ_INT(pthread_create(&t, NULL, post_on_command, &a), 0);
	for (int i = 0; i < 300; i++) {
		CHECK_EQ_INT(write(a.cmd[1], "p", 1), 1);
		for (int j = 0; j < (i % 30) * 2000; j++)
			sink += j;
		if (i % 3 == 0)
			sched_yield();	/* timing jitter, not a wait */
		wait_woken(P, a.w);
		CHECK_EQ_INT(read(a.done[0], &c, 1), 1);
	}
	CHECK_EQ_INT(write(a.cmd[1], "q", 1), 1);
	pthread_join(t, NULL);
	CHECK_EQ_INT(atomic_load(&a.posted), 300);
	finish_idle_victim(P, &v);
	pt_wake_fini(a.w);
}

TEST_TIMEOUT(wake_among_events, 120)
{
	VICTIM_LOCALS;
	struct poster a = { 0 };
	uintptr_t addr;
	pthread_t t;
	int acked = 0, hits = 0, exited = 0;

	st = -1;
	/* Breakpoint hits and wake-ups interleaved: neither is lost. */
	spawn_ready("bp", (char *[]){ "2", "300", NULL }, &v, line,
	    sizeof (line));
	addr = line_field(line, "bp_target");
	P = grab_ok(v.pid, 0);
	CHECK_PT(pt_bkpt_set(P, addr));
	CHECK((a.w = pt_wake_init()) != NULL);
	pt_set_wake(P, a.w);
	a.count = 200;
	memset(&c, 0, sizeof (c));
	CHECK_PT(pt_resume(P));
	CHECK_EQ_INT(pthread_create(&t, NULL, post_n, &a), 0);
	victim_go(&v);
	while (!exited || acked < a.count) {
		int r;

		if (pt_wake_pending(a.w)) {
			pt_wake_ack(a.w);
			acked++;
			continue;
		}
		if (exited) {
			/* the poster is between posts: its next one signals
			   us (again, until acknowledged) */
			pause();
			continue;
		}
		r = pt_wait(P, &ev, 1);
		if (r == -EINTR)
			continue;
		CHECK_MSG(r == 1, "pt_wait returned %d (%s)", r,
		    r < 0 ? strerror(-r) : "");
		if (ev.pe_kind == PT_EV_EXIT) {
			st = ev.pe_status;
			exited = 1;
			continue;
		}
		if (ev.pe_kind == PT_EV_BREAKPOINT)
			hits++;
		CHECK_PT(run_default(P, &ev));
	}
	pthread_join(t, NULL);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(hits, 600);
	CHECK_EQ_INT(acked, 200);
	pt_release(P, PT_RELEASE_DEFAULT);
	victim_expect(&v, line, sizeof (line), "sum=");
	CHECK_EQ_INT(line_field(line, "sum"), 2L * 300 * 300);
	pt_wake_fini(a.w);
}
