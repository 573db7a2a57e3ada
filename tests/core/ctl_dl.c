/*
 * ctl_dl.c - dynamic-linker activity through the public API: the
 * callback at each dlopen and dlclose of a grabbed or created process,
 * its message as a notice when it fails, symbol lookups and breakpoint
 * requests from inside it, and a client breakpoint at the linker's own
 * rendezvous function.
 *
 * The dl victim opens and closes libdyn.so on each go line and says so.
 */
#include "ctlsupport.h"

/* "dl open libdyn.so" spawned, ready (LINE), grabbed with D counting
   its dl activity. */
static dtproc_proc_t *
dl_grab(dtproc_t *dtp, struct victim *v, char *line, size_t n,
    struct dlact *d)
{
	spawn_ready("dl", (char *[]){ "open", (char *)libdyn_path(), NULL }, v,
	    line, n);
	dtproc_set_dlactivity(dtp, dlact_cb, d);
	d->pr = grab_ctl(dtp, v->pid, 0);
	return d->pr;
}

/* The go line: the victim's next step prints PREFIX (into LINE), the
   callback has been called WANT times in all by then. */
static void
dl_step(struct victim *v, char *line, size_t n, const char *prefix,
    struct dlact *d, int want)
{
	victim_go(v);
	victim_expect(v, line, n, prefix);
	CHECK_EQ_INT(atomic_load(&d->n), want);
}

/* The last go line: the victim exits 0. */
static void
dl_last(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v, struct notes *ns)
{
	victim_go(v);
	CHECK_EXITED(wait_dead(dtp, pr, ns, 10000), 0);
}

TEST(ctl_dlactivity_grabbed)
{
	CTL_LOCALS;
	struct dlact d = { 0 };

	pr = dl_grab(dtp, &v, line, sizeof (line), &d);
	dtproc_continue(dtp, pr);
	CHECK_EQ_INT(atomic_load(&d.n), 0);
	dl_step(&v, line, sizeof (line), "opened ", &d, 1);
	dl_step(&v, line, sizeof (line), "closed", &d, 2);
	dl_last(dtp, pr, &v, &ns);
	CHECK_EQ_INT(atomic_load(&d.n), 2);
	CHECK_EQ_INT(atomic_load(&d.bad), 0);
	/* returning 0 queued nothing: the death notice only */
	CHECK_EQ_INT(ns.n, 1);
	dtproc_close(dtp);
}

TEST(ctl_dlactivity_created_churn)
{
	CTL_LOCALS;
	struct dlact d = { 0 };

	/* the initial load is no activity; each dlopen and dlclose is */
	dtproc_set_dlactivity(dtp, dlact_cb, &d);
	pr = create_ok(dtp, "dl", (char *[]){ "churn", "6",
	    (char *)libdyn_path(), NULL }, DTPROC_STOP_CREATE, &v);
	d.pr = pr;
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(atomic_load(&d.n), 0);
	dl_step(&v, line, sizeof (line), "done ", &d, 12);
	dl_last(dtp, pr, &v, &ns);
	CHECK_EQ_INT(atomic_load(&d.bad), 0);
	dtproc_close(dtp);
}

TEST(ctl_dlactivity_notice)
{
	CTL_LOCALS;
	struct dlact d = { 0 };
	dtproc_sym_t s;

	d.ret = 1;
	pr = dl_grab(dtp, &v, line, sizeof (line), &d);
	/* the message a failing callback leaves is dtproc_errmsg() */
	CHECK(dtproc_sym_lookup(dtp, pr, "a.out`no_such_symbol_here", &s) <
	    0);
	CHECK(dtproc_errmsg(dtp)[0] != 0);
	dtproc_continue(dtp, pr);
	dl_step(&v, line, sizeof (line), "opened ", &d, 1);
	CHECK(dtproc_sleep(dtp, 0) > 0);
	CHECK_EQ_INT(dtproc_handle_notify(dtp, note_cb, &ns), 1);
	CHECK(ns.pr[0] == pr);
	CHECK_EQ_INT(ns.hasmsg[0], 1);
	CHECK_STR_EQ(ns.msg[0], d.msg[0]);
	/* a notice, not a death */
	CHECK(dtproc_state(dtp, pr) != DTPROC_PS_DEAD);
	dl_step(&v, line, sizeof (line), "closed", &d, 2);
	CHECK(wait_notice(dtp, &ns, pr, 5000));
	CHECK_EQ_INT(ns.n, 2);
	CHECK_EQ_INT(ns.hasmsg[1], 1);
	dl_last(dtp, pr, &v, &ns);
	CHECK_EQ_INT(ns.n, 3);
	CHECK_EQ_INT(ns.hasmsg[2], 0);
	dtproc_close(dtp);
}

TEST(ctl_dlactivity_callback_lookup)
{
	CTL_LOCALS;
	struct dlact d = { 0 };

	/* what dt_pid_create_probes_module does: look into the process
	   from the callback */
	d.lookup = 1;
	pr = dl_grab(dtp, &v, line, sizeof (line), &d);
	dtproc_continue(dtp, pr);
	dl_step(&v, line, sizeof (line), "opened ", &d, 1);
	CHECK_EQ_INT(atomic_load(&d.found), 1);
	CHECK_EQ_INT(d.fn, line_field(line, "fn"));
	dl_step(&v, line, sizeof (line), "closed", &d, 2);
	dl_last(dtp, pr, &v, &ns);
	dtproc_close(dtp);
}

TEST(ctl_bkpt_at_dl_debug_state)
{
	CTL_LOCALS;
	struct dlact d = { 0 };
	struct hits h;
	uintptr_t brk;
	int rc;

	/* r_brk is the agent's; a client probe there sees every call */
	pr = dl_grab(dtp, &v, line, sizeof (line), &d);
	brk = sym_addr(dtp, pr, "_dl_debug_state");
	hits_init(&h, dtp, pr, brk);
	rc = dtproc_bkpt_add(dtp, pr, brk, hit_cb, &h);
	CHECK_MSG(rc == 0, "dtproc_bkpt_add(_dl_debug_state): %d: %s", rc,
	    dtproc_errmsg(dtp));
	dtproc_continue(dtp, pr);
	dl_step(&v, line, sizeof (line), "opened ", &d, 1);
	CHECK_EQ_INT(atomic_load(&h.n), 2);	/* RT_ADD, RT_CONSISTENT */
	dl_step(&v, line, sizeof (line), "closed", &d, 2);
	CHECK_EQ_INT(atomic_load(&h.n), 4);
	dl_last(dtp, pr, &v, &ns);
	dtproc_close(dtp);
}

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
	CTL_LOCALS;
	struct dlbp d;

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
	dl_last(dtp, pr, &v, &ns);
	dtproc_close(dtp);
}
