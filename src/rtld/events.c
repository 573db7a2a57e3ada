/*
 * events.c - the agent's breakpoints on a controlled process.
 *
 * r_brk (_dl_debug_state) is called by ld.so around every change of the
 * link maps; r_state then says RT_ADD or RT_DELETE (a change begins) or
 * RT_CONSISTENT (it is done).  Activity is reported only at
 * RT_CONSISTENT, as a difference from the last consistent list, so a
 * process grabbed in the middle of a dlopen is reported once it is whole.
 * The first RT_CONSISTENT of a created process is PREINIT: everything is
 * loaded and relocated, and ld.so has not yet called any constructor.
 *
 * main is POSTINIT and MAIN in one stop (glibc runs the executable's
 * constructors in __libc_start_main, just before main).  Its address is
 * a.out`main, or, in a stripped executable, the first argument of
 * __libc_start_main, caught by a breakpoint there after PREINIT.  Both
 * breakpoints are removed once they have served.
 */
#include "rtld_impl.h"

#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

static void
rtld_plant_main(rtld_t *R)
{
	sym_info_t si;

	if (R->rt_main_bp != 0 || R->rt_start_bp != 0)
		return;
	if (sym_lookup_name(R->rt_sym, "a.out`main", &si) == 0 &&
	    pt_bkpt_set(R->rt_proc, si.sy_addr) == 0) {
		R->rt_main_bp = si.sy_addr;
		return;
	}
	if (sym_lookup_name(R->rt_sym, "__libc_start_main", &si) == 0 &&
	    pt_bkpt_set(R->rt_proc, si.sy_addr) == 0)
		R->rt_start_bp = si.sy_addr;
}

int
rtld_plant(rtld_t *R)
{
	int rv;

	if ((rv = pt_bkpt_set(R->rt_proc, R->rt_brk)) != 0)
		R->rt_brk = 0;
	return rv;
}

int
rtld_enable(rtld_t *R, int created, int plant)
{
	rtld_rdebug_t rd;
	sym_info_t si;
	int rv;

	(void) sym_proc_update_maps(R->rt_sym);
	if ((rv = rtld_dynamic(R)) < 0)
		return rv;
	rv = rtld_refresh(R);
	if (R->rt_rdebug == 0) {
		/* static: no link maps, and the exec was PREINIT */
		if (created)
			rtld_plant_main(R);
		return -ENOENT;
	}
	R->rt_need_base = !created && rv != 0;
	if (rtld_read_rdebug(R, R->rt_rdebug, &rd) != 0)
		return -EFAULT;
	R->rt_brk = rd.rd_brk;
	if (R->rt_brk == 0) {
		/* ld.so has not run yet: its notification function by name */
		if (rtld_ldso_sym(R, "_dl_debug_state", &si) != 0)
			return -ENOENT;
		R->rt_brk = si.sy_addr;
	}
	if (plant && (rv = rtld_plant(R)) != 0)
		return rv;
	if (created) {
		R->rt_preinit_due = 1;
		rtld_plant_main(R);	/* a.out`main, if it has symbols */
	}
	return 0;
}

uintptr_t
rtld_brk(const rtld_t *R)
{
	return R->rt_brk;
}

static int
rtld_same(const rtld_obj_t *a, const rtld_obj_t *b)
{
	return a->ro_bias == b->ro_bias && a->ro_lmid == b->ro_lmid &&
	    a->ro_dyn == b->ro_dyn && strcmp(a->ro_path, b->ro_path) == 0;
}

/* Objects of A not in B, copied. */
static int
rtld_diff(const rtld_obj_t *a, size_t na, const rtld_obj_t *b, size_t nb,
    rtld_obj_t **out, size_t *nout)
{
	rtld_obj_t *v = calloc(na + 1, sizeof (*v));
	size_t n = 0;

	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < na; i++) {
		size_t j;

		for (j = 0; j < nb && !rtld_same(&a[i], &b[j]); j++)
			;
		if (j < nb)
			continue;
		v[n] = a[i];
		if ((v[n].ro_path = strdup(a[i].ro_path)) == NULL)
			break;
		n++;
	}
	*out = v;
	*nout = n;
	return 0;
}

static void
rtld_consistent(rtld_t *R, rtld_ev_t *out)
{
	rtld_obj_t *old = R->rt_objs;
	size_t nold = R->rt_nobjs;

	R->rt_objs = NULL;
	R->rt_nobjs = 0;
	if (rtld_refresh(R) != 0) {
		/* still changing (or unreadable): keep what we had */
		free(R->rt_objs);
		R->rt_objs = old;
		R->rt_nobjs = nold;
		return;
	}
	if (R->rt_preinit_due) {
		R->rt_preinit_due = 0;
		out->re_kind = RTLD_EV_PREINIT;
		rtld_plant_main(R);
	} else if (R->rt_need_base) {
		/* grabbed in the middle of a change: nothing to compare with */
		R->rt_need_base = 0;
	} else {
		(void) rtld_diff(R->rt_objs, R->rt_nobjs, old, nold,
		    &out->re_added, &out->re_nadded);
		(void) rtld_diff(old, nold, R->rt_objs, R->rt_nobjs,
		    &out->re_removed, &out->re_nremoved);
		if (out->re_nadded + out->re_nremoved > 0)
			out->re_kind = RTLD_EV_ACTIVITY;
	}
	for (size_t i = 0; i < nold; i++)
		free(old[i].ro_path);
	free(old);
}

int
rtld_event(rtld_t *R, const pt_event_t *ev, rtld_ev_t *out)
{
	arch_regs_t regs;
	uintptr_t addr = ev->pe_addr;

	memset(out, 0, sizeof (*out));
	if (ev->pe_kind != PT_EV_BREAKPOINT)
		return 0;
	if (addr != 0 && addr == R->rt_brk) {
		rtld_rdebug_t rd;

		if (R->rt_rdebug != 0 &&
		    rtld_read_rdebug(R, R->rt_rdebug, &rd) == 0 &&
		    rd.rd_state == RT_CONSISTENT)
			rtld_consistent(R, out);
		return 1;
	}
	if (addr != 0 && addr == R->rt_start_bp) {
		(void) pt_bkpt_del(R->rt_proc, addr);
		R->rt_start_bp = 0;
		uintptr_t main_fn;

		if (pt_regs_get(R->rt_proc, ev->pe_tid, &regs) == 0 &&
		    (main_fn = arch_arg(&regs, 0)) != 0 &&
		    pt_bkpt_set(R->rt_proc, main_fn) == 0)
			R->rt_main_bp = main_fn;
		return 1;
	}
	if (addr != 0 && addr == R->rt_main_bp) {
		(void) pt_bkpt_del(R->rt_proc, addr);
		R->rt_main_bp = 0;
		out->re_kind = RTLD_EV_MAIN;
		out->re_main = addr;
		return 1;
	}
	return 0;
}

void
rtld_exec(rtld_t *R)
{
	pt_proc_t *P = R->rt_proc;
	sym_proc_t *S = R->rt_sym;

	/* the core dropped the old image's breakpoints with it */
	for (size_t i = 0; i < R->rt_nobjs; i++)
		free(R->rt_objs[i].ro_path);
	free(R->rt_objs);
	memset(R, 0, sizeof (*R));
	R->rt_proc = P;
	R->rt_sym = S;
	sym_proc_reset(S);
}

int
rtld_preinit_due(rtld_t *R)
{
	return R->rt_preinit_due;
}

int
rtld_main_due(rtld_t *R)
{
	/* a stripped program's main is learned after PREINIT */
	return R->rt_main_bp != 0 || R->rt_start_bp != 0 || R->rt_preinit_due;
}
