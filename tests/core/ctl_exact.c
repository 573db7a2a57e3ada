/*
 * ctl_exact.c - DTPROC_CREATE_EXACT through the public API: the
 * dlactivity callback runs during the run-time linker's start-up, once
 * libc's text is mapped, and a probe set there counts ld.so's early call
 * into libc (__ctype_init, from __libc_early_init, before PREINIT);
 * without the flag the callback is not called for the initial load.
 */
#include "ctlsupport.h"

struct early {
	int calls;		/* dlactivity callbacks */
	uintptr_t addr;		/* libc`__ctype_init, once probed */
	int preinit;		/* PREINIT seen when it was probed */
	int seen;		/* PREINIT events */
};

static int
early_act(dtproc_t *dtp, dtproc_proc_t *pr, void *arg)
{
	struct early *e = arg;
	dtproc_sym_t s;

	e->calls++;
	if (e->addr == 0 &&
	    dtproc_sym_lookup(dtp, pr, "libc.so.6`__ctype_init", &s) == 0 &&
	    dtproc_probe_add(dtp, pr, s.ds_addr, 0, NULL, NULL) == 0) {
		e->addr = s.ds_addr;
		e->preinit = e->seen;
	}
	return 0;
}

static void
early_ev(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	struct early *e = arg;

	(void) dtp;
	(void) pr;
	if (ev->de_kind == DTPROC_EV_PREINIT)
		e->seen++;
}

TEST(ctl_exact_early_libc_call)
{
	CTL_LOCALS;
	struct early e = { 0 };
	dtproc_probe_info_t pi;

	dtproc_set_dlactivity(dtp, early_act, &e);
	dtproc_set_event(dtp, early_ev, &e);
	pr = create_ok(dtp, "/bin/true", NULL,
	    DTPROC_STOP_CREATE | DTPROC_CREATE_EXACT, &v);
	CHECK_EQ_INT(e.calls, 0);	/* nothing mapped libc yet */
	dtproc_continue(dtp, pr);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK(e.calls > 0);
	CHECK(e.addr != 0);
	CHECK_EQ_INT(e.preinit, 0);	/* probed before PREINIT */
	CHECK_EQ_INT(e.seen, 1);
	CHECK_EQ_INT(dtproc_probe_info(dtp, pr, e.addr, &pi), 0);
	CHECK_EQ_INT(pi.dpi_hits, 1);
	dtproc_close(dtp);
}

TEST(ctl_exact_not_asked)
{
	CTL_LOCALS;
	struct early e = { 0 };

	dtproc_set_dlactivity(dtp, early_act, &e);
	dtproc_set_event(dtp, early_ev, &e);
	pr = create_ok(dtp, "/bin/true", NULL, DTPROC_STOP_CREATE, &v);
	dtproc_continue(dtp, pr);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK_EQ_INT(e.calls, 0);	/* the initial load is no activity */
	CHECK_EQ_INT(e.seen, 1);
	dtproc_close(dtp);
}

/* The flag alone means the exec stop, like 0; with a bad bit, EINVAL. */
TEST(ctl_exact_flag_alone)
{
	CTL_LOCALS;
	struct early e = { 0 };

	dtproc_set_dlactivity(dtp, early_act, &e);
	pr = create_ok(dtp, "/bin/true", NULL, DTPROC_CREATE_EXACT, &v);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	dtproc_continue(dtp, pr);
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	CHECK(e.addr != 0);
	CHECK(dtproc_create(dtp, "/bin/true", NULL,
	    DTPROC_CREATE_EXACT | 0x200) == NULL);
	CHECK_EQ_INT(dtproc_errno(dtp), EINVAL);
	dtproc_close(dtp);
}
