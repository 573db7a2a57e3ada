/*
 * ctl_handles.c - handles and their cache through the public API: open
 * and close, reference counts, the LRU of read-only handles (order,
 * referenced handles, its limit), upgrading a read-only handle, handles
 * of dead processes and reused pids, a hundred processes at once,
 * no-monitor grabs, writes and the object list, and what close leaves
 * behind (descriptors, memory in AddressSanitizer builds).
 *
 * Which handles exist is read from our own descriptors (each holds a
 * pidfd and the process's mem file: handle_fds); the victims are ctlv
 * processes waiting on their stdin.
 */
#include "ctlsupport.h"

#include <dirent.h>
#include <errno.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#define NV 11		/* victims for the LRU: more than it keeps */

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

TEST(ctl_rdonly_cached)
{
	CTL_LOCALS;
	dtproc_proc_t *a, *b;
	uintptr_t cm;

	a = grab_echo(dtp, &v, &cm, DTPROC_GRAB_RDONLY);
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
	CTL_LOCALS;
	dtproc_proc_t *rw, *ro = grab_echo(dtp, &v, NULL, DTPROC_GRAB_RDONLY);

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
	CHECK_EQ_INT(read_int(dtp, ro, sym_addr(dtp, ro, "a.out`ctor_mark")),
	    0x1234);
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
	quit_untraced(dtp, &v);
}

TEST(ctl_rdonly_dead_process)
{
	char want[128];
	struct victim v;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *a, *b;

	/* a cached read-only handle must not outlive its process */
	spawn_ctlv("wait", &v, NULL, NULL, NULL);
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
	spawn_ctlv("wait", &v, NULL, NULL, NULL);
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
		spawn_ctlv("wait", &v, NULL, NULL, NULL);
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
		victim_quit(&w);
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

TEST(ctl_write_and_objects)
{
	CTL_LOCALS;
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
	victim_expect_eq(&v, "data=", "data=written");
	/* while it runs too */
	CHECK_EQ_INT(dtproc_write(dtp, pr, data, "again", 6), 6);
	victim_send(&v, "d\n");
	victim_expect_eq(&v, "data=", "data=again");
	CHECK(dtproc_write(dtp, pr, 8, "x", 1) < 0);
	quit_dead(dtp, pr, &v, &ns);
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
	CTL_LOCALS;
	struct objs o = { 0 };

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
	ctlv_call(&v, 3, line, sizeof (line));
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

		spawn_ctlv("wait", &v, NULL, NULL, NULL);
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
