/*
 * rtld.c - the run-time-linker agent on real processes: link maps read
 * without a stop (also of a process someone else traces); the milestones
 * of a created process (PREINIT before any constructor, MAIN at main's
 * first instruction, in PIE, non-PIE, stripped and static programs and
 * one run as "ld.so PROG"); dlopen, dlclose and dlmopen activity, exact
 * under churn while another thread walks the lists, and after a grab in
 * the middle of a change; read-only walks of a churning process never
 * torn; exec after exec (DTPROC_EXEC_N, default 3000; the churn's
 * iterations: DTPROC_CHURN_N, default 2000).
 */
#include "symtest.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

/* ---- a traced run with the agent ---- */

struct rt {
	pt_proc_t *P;
	sym_proc_t *S;
	rtld_t *R;
	struct victim v;
	int enable_rc;		/* rtld_enable at the start */
	int n[RTLD_EV_MAIN + 1];	/* agent events by kind */
	int nexec, nforeign, nevents;
	char order[64];		/* kinds in order: P(reinit) A(ctivity)
				   (p)O(stinit) M(ain) */
	size_t norder;
	uintptr_t main_addr;	/* re_main of the last MAIN */
	int running;		/* pt_resume done */
	/* per-test hooks */
	void (*on_rtld)(struct rt *, const pt_event_t *, const rtld_ev_t *);
	void (*on_exec)(struct rt *, const pt_event_t *);
	void (*on_other)(struct rt *, const pt_event_t *);
	void *arg;
	void *arg2;
	pt_wake_t *wake;	/* set with pt_set_wake, or NULL */
};

static void
rt_resume(struct rt *r, pid_t tid)
{
	int rc = pt_resume_thread(r->P, tid);
	char s;

	if (rc == -ESRCH && ((s = proc_state(pt_pid(r->P), tid)) == 0 ||
	    s == 'Z' || s == 'X'))
		return;
	CHECK_MSG(rc == 0, "pt_resume_thread(%d): %s", (int)tid,
	    strerror(-rc));
}

/* Create victim NAME traced, agent enabled at the exec stop. */
static void
rt_create(struct rt *r, const char *name, char *const args[])
{
	int rc;

	err_clear();
	rc = create_victim(name, args, NULL, NULL, &r->v, &r->P);
	CHECK_MSG(rc == 0, "create %s: %d: %s", name, rc, err_msg());
	CHECK((r->S = sym_proc_new(pt_pid(r->P))) != NULL);
	CHECK((r->R = rtld_new(r->P, r->S)) != NULL);
	r->enable_rc = rtld_enable(r->R, 1, 1);
}

/*
 * Run the agent's way (cli/watch.c) until the exit, whose wait status is
 * returned, or until UNTIL (if not NULL) says so after an event: -1.
 */
static int
rt_run_until(struct rt *r, int (*until)(struct rt *))
{
	if (!r->running) {
		CHECK_PT(pt_resume(r->P));
		r->running = 1;
	}
	for (;;) {
		if (until != NULL && until(r))
			return -1;
		pt_event_t ev;
		rtld_ev_t re;
		uint8_t orig;
		int rc;

		memset(&ev, 0, sizeof (ev));
		rc = pt_wait(r->P, &ev, 1);
		if (rc == -EINTR) {
			if (r->wake != NULL && pt_wake_pending(r->wake))
				pt_wake_ack(r->wake);
			continue;
		}
		CHECK_MSG(rc == 1, "pt_wait: %d (%s): %s", rc,
		    strerror(-rc), err_msg());
		r->nevents++;
		switch (ev.pe_kind) {
		case PT_EV_EXIT:
			return ev.pe_status;
		case PT_EV_BREAKPOINT:
			rc = rtld_event(r->R, &ev, &re);
			CHECK(rc == 0 || rc == 1);
			if (rc == 1) {
				CHECK((unsigned)re.re_kind <= RTLD_EV_MAIN);
				r->n[re.re_kind]++;
				if (re.re_kind != RTLD_EV_NONE &&
				    r->norder < sizeof (r->order) - 1)
					r->order[r->norder++] =
					    "-PAOM"[re.re_kind];
				if (re.re_kind == RTLD_EV_MAIN)
					r->main_addr = re.re_main;
				if (r->on_rtld != NULL)
					r->on_rtld(r, &ev, &re);
			} else {
				CHECK_EQ_INT(re.re_kind, RTLD_EV_NONE);
				r->nforeign++;
				if (r->on_other != NULL)
					r->on_other(r, &ev);
			}
			rtld_ev_free(&re);
			CHECK(re.re_added == NULL && re.re_nadded == 0);
			if (pt_bkpt_orig(r->P, ev.pe_addr, &orig) == 0)
				CHECK_PT(pt_bkpt_step(r->P, ev.pe_tid));
			rt_resume(r, ev.pe_tid);
			break;
		case PT_EV_EXEC:
			r->nexec++;
			rtld_exec(r->R);
			rc = rtld_enable(r->R, 1, 1);
			CHECK_MSG(rc == 0, "exec of %s: rtld_enable: %d (%s)",
			    pt_exe(r->P), rc, strerror(-rc));
			if (r->on_exec != NULL)
				r->on_exec(r, &ev);
			rt_resume(r, ev.pe_tid);
			break;
		default:
			/* not the agent's: never mistaken for it */
			CHECK_EQ_INT(rtld_event(r->R, &ev, &re), 0);
			if (r->on_other != NULL)
				r->on_other(r, &ev);
			if (ev.pe_stopped)
				rt_resume(r, ev.pe_tid);
			break;
		}
	}
}

static int
rt_run(struct rt *r)
{
	return rt_run_until(r, NULL);
}

static void
rt_free(struct rt *r)
{
	rtld_free(r->R);
	sym_proc_free(r->S);
	if (r->P != NULL)
		(void) pt_release(r->P, PT_RELEASE_DEFAULT);
	victim_close(&r->v);
}

/* An int of the stopped process, found by name. */
static int
read_int(struct rt *r, const char *spec)
{
	sym_info_t si;
	int val = -1;

	LOOKUP_OK(r->S, spec, &si);
	CHECK_EQ_INT(pt_mem_read(r->P, si.sy_addr, &val, sizeof (val)),
	    sizeof (val));
	return val;
}

/* ---- milestones ---- */

struct ms {
	int preinit_ctor, preinit_libctor, preinit_main;
	int main_ctor, main_libctor, main_main;
	int preinit_objs_ok;
	uintptr_t main_sym;	/* a.out`main at MAIN */
	uintptr_t main_pc;	/* pe_addr at MAIN */
	int flags;		/* read the flags (symbols present) */
};

static void
ms_cb(struct rt *r, const pt_event_t *ev, const rtld_ev_t *re)
{
	struct ms *m = r->arg;
	sym_objinfo_t oi;
	sym_info_t si;

	if (re->re_kind == RTLD_EV_PREINIT) {
		/* the initial load is complete: the library is listed */
		m->preinit_objs_ok = find_object(r->S, "libsymlib.so", 0,
		    &oi) > 0 && find_object(r->S, "libc.so.6", 0, &oi) > 0;
		if (m->flags) {
			m->preinit_ctor = read_int(r, "a.out`ctor_ran");
			m->preinit_main = read_int(r, "a.out`main_ran");
			m->preinit_libctor = read_int(r,
			    "libsymlib.so`symlib_ctor_ran");
		}
	} else if (re->re_kind == RTLD_EV_MAIN) {
		m->main_pc = ev->pe_addr;
		if (m->flags) {
			LOOKUP_OK(r->S, "a.out`main", &si);
			m->main_sym = si.sy_addr;
			m->main_ctor = read_int(r, "a.out`ctor_ran");
			m->main_main = read_int(r, "a.out`main_ran");
			m->main_libctor = read_int(r,
			    "libsymlib.so`symlib_ctor_ran");
		}
	}
}

/* Create NAME (a symv-like victim) and run it through its milestones. */
static void
milestones(const char *name, int flags, struct rt *r, struct ms *m,
    char *line, size_t n)
{
	int st;

	memset(r, 0, sizeof (*r));
	memset(m, 0, sizeof (*m));
	m->flags = flags;
	r->on_rtld = ms_cb;
	r->arg = m;
	rt_create(r, name, NULL);
	CHECK_MSG(r->enable_rc == 0, "rtld_enable: %d", r->enable_rc);
	victim_go(&r->v);
	st = rt_run(r);
	CHECK_EXITED(st, 0);
	victim_ready(&r->v, line, n);
}

TEST(rtld_milestones_pie)
{
	char line[2048];
	struct rt r;
	struct ms m;

	milestones("symv", 1, &r, &m, line, sizeof (line));
	CHECK_STR_EQ(r.order, "PM");
	CHECK(m.preinit_objs_ok);
	/* PREINIT: loaded and relocated, no constructor has run */
	CHECK_EQ_INT(m.preinit_ctor, 0);
	CHECK_EQ_INT(m.preinit_libctor, 0);
	CHECK_EQ_INT(m.preinit_main, 0);
	/* MAIN: every constructor ran, main did not */
	CHECK_EQ_INT(m.main_ctor, 1);
	CHECK_EQ_INT(m.main_libctor, 1);
	CHECK_EQ_INT(m.main_main, 0);
	CHECK_ADDR_EQ(r.main_addr, line_field(line, "main"));
	CHECK_ADDR_EQ(m.main_pc, r.main_addr);
	CHECK_ADDR_EQ(m.main_sym, r.main_addr);
	CHECK_EQ_INT(r.n[RTLD_EV_ACTIVITY], 0);
	rt_free(&r);
}

TEST(rtld_milestones_nopie)
{
	char line[2048];
	struct rt r;
	struct ms m;

	milestones("nopie", 1, &r, &m, line, sizeof (line));
	CHECK_STR_EQ(r.order, "PM");
	CHECK_EQ_INT(m.preinit_ctor, 0);
	CHECK_EQ_INT(m.preinit_libctor, 0);
	CHECK_EQ_INT(m.main_ctor, 1);
	CHECK_EQ_INT(m.main_libctor, 1);
	CHECK_EQ_INT(m.main_main, 0);
	CHECK_ADDR_EQ(r.main_addr, line_field(line, "main"));
	CHECK_ADDR_EQ(r.main_addr, m.main_sym);
	rt_free(&r);
}

/* No symbol for main: found as __libc_start_main's first argument. */
TEST(rtld_milestones_stripped)
{
	char line[2048];
	struct rt r;
	struct ms m;

	milestones("symv-stripped", 0, &r, &m, line, sizeof (line));
	CHECK_STR_EQ(r.order, "PM");
	CHECK(m.preinit_objs_ok);
	CHECK_ADDR_EQ(r.main_addr, line_field(line, "main"));
	CHECK_ADDR_EQ(m.main_pc, r.main_addr);
	/* the agent's helper breakpoint is gone, and nothing else was hit */
	CHECK_EQ_INT(r.nforeign, 0);
	rt_free(&r);
}

/* A static program: no link maps; main still reported. */
TEST(rtld_milestones_static)
{
	char line[2048];
	struct rt r;
	int st;

	memset(&r, 0, sizeof (r));
	rt_create(&r, "staticv", NULL);
	CHECK_EQ_INT(rtld_dynamic(r.R), 0);
	CHECK_EQ_INT(r.enable_rc, -ENOENT);
	victim_go(&r.v);
	st = rt_run(&r);
	CHECK_EXITED(st, 0);
	victim_ready(&r.v, line, sizeof (line));
	CHECK_STR_EQ(r.order, "M");
	CHECK_ADDR_EQ(r.main_addr, line_field(line, "main"));
	rt_free(&r);
}

/*
 * ld.so PROG: the dl victim execs the run-time linker with symv.  Each
 * image has its milestones: dl's, then, after the exec, symv's, whose
 * main is the program's own.
 */
TEST(rtld_milestones_program_run_by_ldso)
{
	char line[2048];
	struct rt r;
	int st;

	memset(&r, 0, sizeof (r));
	rt_create(&r, "dl", (char *[]){ "ldso", (char *)victim_path("symv"),
	    NULL });
	CHECK_PT(r.enable_rc);
	victim_go(&r.v);
	st = rt_run(&r);
	CHECK_EXITED(st, 0);
	victim_ready(&r.v, line, sizeof (line));
	CHECK_EQ_INT(r.nexec, 1);
	CHECK_STR_EQ(r.order, "PMPM");
	CHECK_ADDR_EQ(r.main_addr, line_field(line, "main"));
	rt_free(&r);
}

/* At the exec stop, before ld.so ran: the maps' objects; a.out`main. */
TEST(rtld_refresh_at_exec_stop)
{
	char line[2048], exe[PATH_MAX];
	sym_objinfo_t oi;
	sym_info_t si;
	struct rt r;
	int rc, st;

	memset(&r, 0, sizeof (r));
	rt_create(&r, "symv", NULL);
	CHECK(realpath(r.v.path, exe) != NULL);
	CHECK_EQ_INT(rtld_dynamic(r.R), 1);
	rc = rtld_refresh(r.R);
	CHECK_MSG(rc == 0 || rc == -ENOENT, "rtld_refresh: %d", rc);
	CHECK_PT(sym_object(r.S, 0, &oi));
	CHECK_STR_EQ(oi.so_path, exe);
	CHECK(find_object(r.S, "ld-linux-x86-64.so.2", -1, &oi) > 0);
	CHECK(find_object(r.S, "libc.so.6", -1, &oi) < 0);	/* not yet */
	LOOKUP_OK(r.S, "a.out`main", &si);
	victim_go(&r.v);
	st = rt_run(&r);
	CHECK_EXITED(st, 0);
	victim_ready(&r.v, line, sizeof (line));
	CHECK_ADDR_EQ(si.sy_addr, line_field(line, "main"));
	rt_free(&r);
}

/* ---- read-only walks ---- */

TEST(rtld_readonly_link_maps)
{
	char line[2048];
	const rtld_obj_t *objs;
	struct victim v;
	struct insp in;
	sym_info_t si;
	size_t n, i;
	int lib = -1, libc = -1, ld = -1;

	spawn_ready("symv", NULL, &v, line, sizeof (line));
	insp_open_ok(v.pid, &in);
	CHECK_EQ_INT(rtld_dynamic(in.R), 1);
	/* not stopped, not traced */
	CHECK(proc_state(v.pid, 0) != 't');
	CHECK_EQ_INT(proc_tracer(v.pid, 0), 0);
	objs = rtld_objects(in.R, &n);
	CHECK(n >= 4 && n < 16);
	CHECK_STR_EQ(objs[0].ro_path, "");
	CHECK_ADDR_EQ(objs[0].ro_bias, line_field(line, "ehdr"));
	for (i = 0; i < n; i++) {
		CHECK_EQ_INT(objs[i].ro_lmid, 0);
		CHECK(objs[i].ro_dyn != 0);
		if (strcmp(base_name(objs[i].ro_path), "libsymlib.so") == 0)
			lib = (int)i;
		else if (strcmp(base_name(objs[i].ro_path), "libc.so.6") == 0)
			libc = (int)i;
		else if (strcmp(base_name(objs[i].ro_path),
		    "ld-linux-x86-64.so.2") == 0)
			ld = (int)i;
	}
	CHECK_MSG(lib > 0 && libc > lib && ld > 0, "libsymlib %d libc %d "
	    "ld.so %d", lib, libc, ld);
	CHECK_STR_EQ(objs[lib].ro_path, testlib_path("symlib"));
	/* the biases are the ones lookups use */
	LOOKUP_OK(in.S, "libsymlib.so`symlib_fn", &si);
	CHECK_ADDR_EQ(si.sy_bias, objs[lib].ro_bias);
	CHECK_ADDR_EQ(si.sy_addr, line_field(line, "lib_fn"));
	LOOKUP_OK(in.S, "libc.so.6`malloc", &si);
	CHECK_ADDR_EQ(si.sy_bias, objs[libc].ro_bias);
	/* a second walk gives the same */
	CHECK_PT(rtld_refresh(in.R));
	CHECK_EQ_INT(rtld_objects(in.R, &i) != NULL, 1);
	CHECK_EQ_INT(i, n);
	insp_close(&in);
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
}

/* LM1: the r_next chain of r_debug version 2. */
TEST(rtld_readonly_dlmopen_namespaces)
{
	const char *lib = testlib_path("dyn");
	char line[2048];
	const rtld_obj_t *objs;
	struct victim v;
	struct insp in;
	size_t n;
	int lm0 = 0, lm1 = 0, libc1 = 0;

	spawn_ready("dl", (char *[]){ "mopen", (char *)lib, NULL }, &v, line,
	    sizeof (line));
	insp_open_ok(v.pid, &in);
	objs = rtld_objects(in.R, &n);
	CHECK_STR_EQ(objs[0].ro_path, "");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			CHECK(objs[i].ro_lmid >= objs[i - 1].ro_lmid);
		if (strcmp(objs[i].ro_path, lib) == 0 && objs[i].ro_lmid == 0)
			lm0++;
		if (strcmp(objs[i].ro_path, lib) == 0 && objs[i].ro_lmid == 1)
			lm1++;
		if (strcmp(base_name(objs[i].ro_path), "libc.so.6") == 0 &&
		    objs[i].ro_lmid == 1)
			libc1++;
		CHECK(objs[i].ro_lmid == 0 || objs[i].ro_lmid == 1);
	}
	CHECK_EQ_INT(lm0, 1);
	CHECK_EQ_INT(lm1, 1);
	CHECK_EQ_INT(libc1, 1);
	insp_close(&in);
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
}

/*
 * A read-only view needs no ptrace, so a process someone else traces (a
 * debugger, or dtproc watch) can still be read: ldd and sym on it.
 */
TEST(rtld_readonly_grab_of_traced_process)
{
	char line[2048];
	struct victim v;
	struct insp in;
	sym_info_t si;
	pt_proc_t *P;

	P = spawn_grab("symv", NULL, &v, line, sizeof (line),
	    0);		/* traced (and stopped) by us */
	insp_open_ok(v.pid, &in);
	LOOKUP_OK(in.S, "a.out`main", &si);
	CHECK_ADDR_EQ(si.sy_addr, line_field(line, "main"));
	insp_close(&in);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
}

/* ---- activity ---- */

struct act {
	const char *lib;
	int adds, removes, other_adds, other_removes;
	int lm1_adds, lm1_libc;
	int add_lookup_ok, remove_lookup_gone;
	uintptr_t add_fn;	/* libdyn.so`dyn_fn at the add */
	uintptr_t add_bias;
};

static void
act_cb(struct rt *r, const pt_event_t *ev, const rtld_ev_t *re)
{
	struct act *a = r->arg;
	sym_info_t si;

	(void)ev;
	if (re->re_kind != RTLD_EV_ACTIVITY) {
		CHECK(re->re_nadded == 0 && re->re_nremoved == 0);
		return;
	}
	CHECK(re->re_nadded + re->re_nremoved > 0);
	for (size_t i = 0; i < re->re_nadded; i++) {
		const rtld_obj_t *o = &re->re_added[i];

		if (o->ro_lmid == 1) {
			a->lm1_adds += strcmp(o->ro_path, a->lib) == 0;
			a->lm1_libc += strcmp(base_name(o->ro_path),
			    "libc.so.6") == 0;
			continue;
		}
		if (strcmp(o->ro_path, a->lib) != 0) {
			a->other_adds++;
			continue;
		}
		a->adds++;
		a->add_bias = o->ro_bias;
		/* the objects are current at the event */
		if (sym_lookup_name(r->S, "LM0`libdyn.so`dyn_fn", &si) == 0) {
			a->add_lookup_ok++;
			a->add_fn = si.sy_addr;
		}
	}
	for (size_t i = 0; i < re->re_nremoved; i++) {
		const rtld_obj_t *o = &re->re_removed[i];

		if (strcmp(o->ro_path, a->lib) != 0) {
			a->other_removes++;
			continue;
		}
		a->removes++;
		if (sym_lookup_name(r->S, "libdyn.so`dyn_fn", &si) ==
		    -ESRCH)
			a->remove_lookup_gone++;
	}
}

TEST(rtld_dlopen_dlclose_activity)
{
	const char *lib = testlib_path("dyn");
	char line[2048];
	struct act a = { .lib = lib };
	struct rt r;
	int st;

	memset(&r, 0, sizeof (r));
	r.on_rtld = act_cb;
	r.arg = &a;
	rt_create(&r, "dl", (char *[]){ "open", (char *)lib, NULL });
	CHECK_PT(r.enable_rc);
	victim_send(&r.v, "g\ng\ng\n");
	st = rt_run(&r);
	CHECK_EXITED(st, 0);
	CHECK_STR_EQ(r.order, "PMAA");
	CHECK_EQ_INT(a.adds, 1);
	CHECK_EQ_INT(a.removes, 1);
	CHECK_EQ_INT(a.other_adds, 0);
	CHECK_EQ_INT(a.other_removes, 0);
	CHECK_EQ_INT(a.add_lookup_ok, 1);
	CHECK_EQ_INT(a.remove_lookup_gone, 1);
	victim_expect(&r.v, line, sizeof (line), "opened ");
	CHECK_ADDR_EQ(a.add_fn, line_field(line, "fn"));
	CHECK(a.add_bias != 0 && a.add_bias < a.add_fn);
	rt_free(&r);
}

TEST(rtld_dlmopen_activity)
{
	const char *lib = testlib_path("dyn");
	struct act a = { .lib = lib };
	struct rt r;
	int st;

	memset(&r, 0, sizeof (r));
	r.on_rtld = act_cb;
	r.arg = &a;
	rt_create(&r, "dl", (char *[]){ "mopen", (char *)lib, NULL });
	CHECK_PT(r.enable_rc);
	victim_go(&r.v);
	st = rt_run(&r);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(r.n[RTLD_EV_PREINIT], 1);
	CHECK_EQ_INT(r.n[RTLD_EV_MAIN], 1);
	CHECK_EQ_INT(a.adds, 1);		/* LM0 */
	CHECK_EQ_INT(a.lm1_adds, 1);		/* LM1's copy */
	CHECK_EQ_INT(a.lm1_libc, 1);		/* and LM1's libc */
	CHECK_EQ_INT(a.removes, 0);
	CHECK_EQ_INT(a.other_adds, 0);
	rt_free(&r);
}

/* Grabbed after startup: no milestones, activity only. */
TEST(rtld_grabbed_activity)
{
	const char *lib = testlib_path("dyn");
	char line[2048];
	struct act a = { .lib = lib };
	struct rt r;
	int st;

	memset(&r, 0, sizeof (r));
	spawn_victim("dl", (char *[]){ "open", (char *)lib, NULL }, &r.v);
	victim_ready(&r.v, line, sizeof (line));
	r.P = grab_ok(r.v.pid, 0);
	CHECK((r.S = sym_proc_new(r.v.pid)) != NULL);
	CHECK((r.R = rtld_new(r.P, r.S)) != NULL);
	CHECK_PT(rtld_enable(r.R, 0, 1));
	r.on_rtld = act_cb;
	r.arg = &a;
	victim_send(&r.v, "g\ng\ng\n");
	st = rt_run(&r);
	CHECK_EXITED(st, 0);
	CHECK_STR_EQ(r.order, "AA");
	CHECK_EQ_INT(a.adds, 1);
	CHECK_EQ_INT(a.removes, 1);
	rt_free(&r);
}

/*
 * Grabbed in the middle of a dlopen or dlclose (a namespace says RT_ADD
 * or RT_DELETE, so the first walk fails with -EAGAIN): once the list is
 * whole again, the activity reported is that dlopen's or dlclose's, not
 * the executable, libc and ld.so, which were there all along.
 */
struct mid {
	const char *lib;
	int activity;		/* ACTIVITY events seen */
	char bogus[512];	/* objects wrongly reported, if any */
};

static void
mid_cb(struct rt *r, const pt_event_t *ev, const rtld_ev_t *re)
{
	struct mid *m = r->arg;
	size_t len;

	(void)ev;
	if (re->re_kind != RTLD_EV_ACTIVITY)
		return;
	m->activity++;
	for (size_t i = 0; i < re->re_nadded + re->re_nremoved; i++) {
		const rtld_obj_t *o = i < re->re_nadded ? &re->re_added[i] :
		    &re->re_removed[i - re->re_nadded];

		if (strcmp(o->ro_path, m->lib) == 0)
			continue;
		len = strlen(m->bogus);
		snprintf(m->bogus + len, sizeof (m->bogus) - len, "%s%s '%s'",
		    len ? ", " : "", i < re->re_nadded ? "added" : "removed",
		    o->ro_path[0] ? o->ro_path : "(the executable)");
	}
}

static int
mid_done(struct rt *r)
{
	return ((struct mid *)r->arg)->activity >= 2;
}

TEST_TIMEOUT(rtld_grabbed_mid_dlopen, 120)
{
	const char *lib = testlib_path("dyn");
	char line[256];
	struct mid m = { .lib = lib };
	struct rt r;
	int tries, rc = 0;

	memset(&r, 0, sizeof (r));
	spawn_victim("dl", (char *[]){ "churn", "100000000", (char *)lib,
	    NULL }, &r.v);
	victim_ready(&r.v, line, sizeof (line));
	victim_go(&r.v);
	for (tries = 0; tries < 2000; tries++) {
		r.P = grab_ok(r.v.pid, 0);	/* stopped: the lists hold */
		CHECK((r.S = sym_proc_new(r.v.pid)) != NULL);
		CHECK((r.R = rtld_new(r.P, r.S)) != NULL);
		if ((rc = rtld_refresh(r.R)) == -EAGAIN)
			break;
		CHECK_PT(rc);
		rtld_free(r.R);
		sym_proc_free(r.S);
		CHECK_PT(pt_release(r.P, PT_RELEASE_RUN));
		r.P = NULL;
	}
	if (rc != -EAGAIN)
		SKIP("never grabbed it in a dlopen or dlclose in %d tries",
		    tries);
	tinfo("grabbed mid-change after %d tries", tries);
	CHECK_PT(rtld_enable(r.R, 0, 1));
	r.on_rtld = mid_cb;
	r.arg = &m;
	CHECK_EQ_INT(rt_run_until(&r, mid_done), -1);
	CHECK_MSG(m.bogus[0] == 0, "after a grab in the middle of a change: "
	    "%s", m.bogus);
	kill(r.v.pid, SIGKILL);
	rt_free(&r);
}

/* A breakpoint that is not the agent's is left to its owner. */
static void
foreign_cb(struct rt *r, const pt_event_t *ev, const rtld_ev_t *re)
{
	sym_info_t si;

	(void)ev;
	if (re->re_kind != RTLD_EV_MAIN)
		return;
	LOOKUP_OK(r->S, "a.out`symv_func", &si);
	CHECK_PT(pt_bkpt_set(r->P, si.sy_addr));
	*(uintptr_t *)r->arg = si.sy_addr;
}

static void
foreign_other(struct rt *r, const pt_event_t *ev)
{
	if (ev->pe_kind == PT_EV_BREAKPOINT)
		CHECK_ADDR_EQ(ev->pe_addr, *(uintptr_t *)r->arg);
}

TEST(rtld_foreign_breakpoint)
{
	uintptr_t bp = 0;
	struct rt r;
	int st;

	memset(&r, 0, sizeof (r));
	r.on_rtld = foreign_cb;
	r.on_other = foreign_other;
	r.arg = &bp;
	rt_create(&r, "symv", NULL);
	CHECK_PT(r.enable_rc);
	victim_go(&r.v);
	st = rt_run(&r);
	CHECK_EXITED(st, 0);
	CHECK(bp != 0);
	CHECK_EQ_INT(r.nforeign, 1);	/* symv_func runs once at exit */
	CHECK_STR_EQ(r.order, "PM");
	rt_free(&r);
}

/* ---- churn: exact activity, concurrent read-only walks ---- */

struct walker {
	pid_t pid;
	pt_proc_t *P;
	int out;		/* the program's stdout */
	int started[2];		/* a byte once the first walk is done */
	atomic_int stopped;
	const char *lib;
	pt_wake_t *wake;	/* the owner's: told when the walker stops */
	char allowed[8][PATH_MAX];	/* paths of the first walk */
	int nallowed;
	long walks, again, failed, with_lib;
	int last_fail;		/* the last failed walk's result */
	char why[1024];
};

static int walk_check(struct walker *, const rtld_obj_t *, size_t);

/* walk_check, and on failure the whole list after the reason. */
static int
walk_ok(struct walker *w, const rtld_obj_t *o, size_t n)
{
	size_t len;

	if (walk_check(w, o, n))
		return 1;
	len = strlen(w->why);
	for (size_t i = 0; i < n && len < sizeof (w->why) - 1; i++) {
		snprintf(w->why + len, sizeof (w->why) - len, "%s[LM%d %#lx "
		    "%.60s]", i ? " " : "; list: ", o[i].ro_lmid,
		    (unsigned long)o[i].ro_bias, o[i].ro_path);
		len = strlen(w->why);
	}
	/* garbage read from freed memory may not be printable */
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)w->why[i] < 0x20 ||
		    (unsigned char)w->why[i] > 0x7e)
			w->why[i] = '?';
	}
	return 0;
}

static int
walk_check(struct walker *w, const rtld_obj_t *o, size_t n)
{
	int libc = 0, lib = 0;

	if (n < 3 || n > 8) {
		snprintf(w->why, sizeof (w->why), "%zu objects", n);
		return 0;
	}
	if (o[0].ro_path[0] != '\0' || o[0].ro_lmid != 0) {
		snprintf(w->why, sizeof (w->why), "first object is '%s' LM%d",
		    o[0].ro_path, o[0].ro_lmid);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		int known = strcmp(o[i].ro_path, w->lib) == 0;

		for (int j = 0; j < w->nallowed && !known; j++)
			known = strcmp(o[i].ro_path, w->allowed[j]) == 0;
		if (!known || o[i].ro_lmid != 0) {
			snprintf(w->why, sizeof (w->why), "object %zu is "
			    "'%.100s' LM%d", i, o[i].ro_path, o[i].ro_lmid);
			return 0;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(o[i].ro_path, o[j].ro_path) == 0) {
				snprintf(w->why, sizeof (w->why), "'%.100s' "
				    "twice", o[i].ro_path);
				return 0;
			}
		}
		libc += strcmp(base_name(o[i].ro_path), "libc.so.6") == 0;
		lib += strcmp(o[i].ro_path, w->lib) == 0;
	}
	if (libc != 1) {
		snprintf(w->why, sizeof (w->why), "no libc.so.6");
		return 0;
	}
	w->with_lib += lib;
	return 1;
}

/*
 * The walker: a second agent on the same process, with objects of its own,
 * walking the link maps in a loop from another thread while the owner
 * handles the churn's events.  It reads through the traced handle
 * (pt_mem_read works from any thread): a read-only grab of a traced
 * process is refused (see rtld_readonly_grab_of_traced_process).
 */
static void *
walker_main(void *arg)
{
	struct walker *w = arg;
	const rtld_obj_t *o;
	sym_proc_t *S;
	sym_objinfo_t oi;
	rtld_t *R;
	struct pollfd pfd;
	size_t n;
	int rc = -EAGAIN;

	CHECK((S = sym_proc_new(w->pid)) != NULL);
	CHECK((R = rtld_new(w->P, S)) != NULL);
	while (rc == -EAGAIN)
		rc = rtld_refresh(R);
	CHECK_MSG(rc == 0, "walker: first rtld_refresh: %d", rc);
	o = rtld_objects(R, &n);
	for (size_t i = 0; i < n && w->nallowed < 8; i++)
		snprintf(w->allowed[w->nallowed++], PATH_MAX, "%s",
		    o[i].ro_path);
	CHECK_EQ_INT(write(w->started[1], "s", 1), 1);
	/* until the program says it is done (and waits for its go line) */
	pfd.fd = w->out;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 0) == 0) {
		rc = rtld_refresh(R);
		if (rc == -EAGAIN) {
			w->again++;
			continue;
		}
		if (rc != 0) {
			w->failed++;
			w->last_fail = rc;
			continue;
		}
		w->walks++;
		o = rtld_objects(R, &n);
		if (!walk_ok(w, o, n))
			FAIL("walk %ld: torn list: %s", w->walks, w->why);
		if (sym_object(S, 0, &oi) != 0)
			FAIL("walk %ld: no object after a walk of %zu",
			    w->walks, n);
		if (strcmp(oi.so_name, "dl") != 0)
			FAIL("walk %ld: object 0 is %s, not the executable "
			    "(link maps: %zu objects, [0] bias %#lx dyn %#lx)",
			    w->walks, oi.so_path, n,
			    (unsigned long)o[0].ro_bias,
			    (unsigned long)o[0].ro_dyn);
	}
	rtld_free(R);
	sym_proc_free(S);
	atomic_store(&w->stopped, 1);
	pt_wake_post(w->wake);	/* the owner may be blocked in pt_wait */
	return NULL;
}

static int
walker_stopped(struct rt *r)
{
	return atomic_load(&((struct walker *)r->arg2)->stopped);
}

static int
reached_main(struct rt *r)
{
	return r->n[RTLD_EV_MAIN] > 0;
}

static int
churn_iterations(void)
{
	const char *e = getenv("DTPROC_CHURN_N");

	return e != NULL && atoi(e) > 0 ? atoi(e) : 2000;
}

TEST_TIMEOUT(rtld_churn_exact_activity_and_concurrent_walks, 120)
{
	const char *lib = testlib_path("dyn");
	int iters = churn_iterations();
	char nbuf[16], line[256];
	struct act a = { .lib = lib };
	static struct walker w;
	pthread_t th;
	struct rt r;
	int st;

	snprintf(nbuf, sizeof (nbuf), "%d", iters);
	memset(&r, 0, sizeof (r));
	r.on_rtld = act_cb;
	r.arg = &a;
	rt_create(&r, "dl", (char *[]){ "churn", nbuf, (char *)lib, NULL });
	CHECK_PT(r.enable_rc);
	/* the walker starts once the program is up (its ready line) */
	CHECK_EQ_INT(rt_run_until(&r, reached_main), -1);
	victim_ready(&r.v, line, sizeof (line));
	memset(&w, 0, sizeof (w));
	r.arg2 = &w;
	w.pid = r.v.pid;
	w.out = r.v.out;
	w.P = r.P;
	CHECK((w.wake = r.wake = pt_wake_init()) != NULL);
	pt_set_wake(r.P, r.wake);
	w.lib = lib;
	CHECK_EQ_INT(pipe2(w.started, O_CLOEXEC), 0);
	CHECK(pthread_create(&th, NULL, walker_main, &w) == 0);
	/* wait for the walker's first walk, so that it overlaps the churn */
	CHECK_EQ_INT(read(w.started[0], line, 1), 1);
	victim_go(&r.v);
	/* the churn, until the program says it is done: the walker stops */
	CHECK_EQ_INT(rt_run_until(&r, walker_stopped), -1);
	CHECK(pthread_join(th, NULL) == 0);
	victim_expect(&r.v, line, sizeof (line), "done ");
	victim_go(&r.v);
	st = rt_run(&r);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(line_field(line, "n"), iters);
	tinfo("churn %d: walks %ld (with the library %ld), EAGAIN %ld, "
	    "failed %ld (last %d)", iters, w.walks, w.with_lib, w.again,
	    w.failed, w.last_fail);
	CHECK_EQ_INT(a.adds, iters);
	CHECK_EQ_INT(a.removes, iters);
	CHECK_EQ_INT(a.other_adds, 0);
	CHECK_EQ_INT(a.other_removes, 0);
	CHECK_EQ_INT(r.n[RTLD_EV_ACTIVITY], 2 * iters);
	CHECK_EQ_INT(a.add_lookup_ok, iters);
	CHECK_EQ_INT(a.remove_lookup_gone, iters);
	CHECK(w.walks > 0);
	rt_free(&r);
}

/*
 * The same churn, untraced, read as `dtproc ldd` reads it: through a
 * read-only grab, walking again and again until the program is done.  A
 * walk either succeeds, with a whole list, or says -EAGAIN (a namespace
 * is changing): it never follows a list being changed, so it never
 * faults on an entry freed under it.
 */
TEST_TIMEOUT(rtld_churn_readonly_walks, 120)
{
	const char *lib = testlib_path("dyn");
	char nbuf[16], line[256];
	static struct walker w;
	const rtld_obj_t *o;
	struct victim v;
	struct insp in;
	struct pollfd pfd;
	size_t n;

	snprintf(nbuf, sizeof (nbuf), "%d", 10 * churn_iterations());
	spawn_ready("dl", (char *[]){ "churn", nbuf, (char *)lib, NULL }, &v,
	    line, sizeof (line));
	memset(&w, 0, sizeof (w));
	w.lib = lib;
	insp_open_ok(v.pid, &in);
	o = rtld_objects(in.R, &n);
	for (size_t i = 0; i < n && w.nallowed < 8; i++)
		snprintf(w.allowed[w.nallowed++], PATH_MAX, "%s",
		    o[i].ro_path);
	victim_go(&v);
	pfd.fd = v.out;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 0) == 0) {
		int rc = rtld_refresh(in.R);

		if (rc == -EAGAIN) {
			w.again++;
			continue;
		}
		if (rc != 0) {
			w.failed++;
			w.last_fail = rc;
			continue;
		}
		w.walks++;
		o = rtld_objects(in.R, &n);
		if (!walk_ok(&w, o, n))
			FAIL("walk %ld: torn list: %s", w.walks, w.why);
	}
	victim_expect(&v, line, sizeof (line), "done ");
	insp_close(&in);
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
	tinfo("walks %ld (with the library %ld), EAGAIN %ld, failed %ld "
	    "(last %d)", w.walks, w.with_lib, w.again, w.failed,
	    w.last_fail);
	CHECK(w.walks > 0);
	CHECK_MSG(w.failed == 0, "%ld of %ld walks failed with %d (%s) "
	    "instead of a list or -EAGAIN: a walk followed a list being "
	    "changed", w.failed, w.failed + w.walks + w.again, w.last_fail,
	    strerror(-w.last_fail));
}

/* ---- exec after exec ---- */

struct execs {
	int lookups_ok;
	int roundtrip_ok;
};

static void
exec_cb(struct rt *r, const pt_event_t *ev)
{
	struct execs *x = r->arg;
	sym_info_t si, sa;

	(void)ev;
	LOOKUP_OK(r->S, "a.out`main", &si);
	x->lookups_ok++;
	if (sym_lookup_addr(r->S, si.sy_addr + 1, &sa) == 0 &&
	    sa.sy_name != NULL && strcmp(sa.sy_name, "main") == 0 &&
	    strcmp(sa.sy_object, "execer") == 0)
		x->roundtrip_ok++;
}

static int
exec_iterations(void)
{
	const char *e = getenv("DTPROC_EXEC_N");

	return e != NULL && atoi(e) > 0 ? atoi(e) : 3000;
}

TEST_TIMEOUT(rtld_exec_loop, 120)
{
	int iters = exec_iterations();
	char nbuf[16], line[256];
	struct execs x = { 0 };
	struct rt r;
	int st;

	snprintf(nbuf, sizeof (nbuf), "%d", iters);
	memset(&r, 0, sizeof (r));
	r.on_exec = exec_cb;
	r.arg = &x;
	rt_create(&r, "execer", (char *[]){ "self", nbuf, NULL });
	CHECK_PT(r.enable_rc);
	/* one line per image: room for all of them */
	(void) fcntl(r.v.out, F_SETPIPE_SZ, 1 << 20);
	victim_go(&r.v);
	st = rt_run(&r);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(r.nexec, iters);
	CHECK_EQ_INT(x.lookups_ok, iters);
	CHECK_EQ_INT(x.roundtrip_ok, iters);
	/* every image, the first and each exec'd one, reached main */
	CHECK_EQ_INT(r.n[RTLD_EV_PREINIT], iters + 1);
	CHECK_EQ_INT(r.n[RTLD_EV_MAIN], iters + 1);
	CHECK_EQ_INT(r.n[RTLD_EV_ACTIVITY], 0);
	victim_expect(&r.v, line, sizeof (line), "done");
	rt_free(&r);
}
