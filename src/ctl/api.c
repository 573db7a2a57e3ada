/*
 * api.c - what the layers below offer through a process handle: state,
 * memory, symbols, objects, breakpoints, dynamic-linker activity, stop.
 *
 * Reads need no ptrace (process_vm_readv, /proc) and are done on the
 * caller's thread under the handle's lock; what needs ptrace (writes,
 * breakpoints) is handed to the control thread (ctl_request).
 */
#include "ctl.h"

#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

DTPROC_API int
dtproc_state(dtproc_t *dtp, dtproc_proc_t *pr)
{
	bool took;
	int st;

	(void) dtp;
	ctl_enter(pr, &took);
	if (pr->dpr_rdonly)
		st = pr->dpr_P != NULL && pt_alive(pr->dpr_P) ?
		    DTPROC_PS_RUN : DTPROC_PS_DEAD;
	else if (pr->dpr_state == DTPROC_PS_DEAD ||
	    pr->dpr_state == DTPROC_PS_LOST || pr->dpr_done ||
	    pr->dpr_P == NULL)
		st = pr->dpr_state;
	else if (pr->dpr_stop & CTL_STOP_IDLE)
		st = DTPROC_PS_STOP;
	else
		st = pt_state(pr->dpr_P) == PT_STOPPED ? DTPROC_PS_STOP :
		    DTPROC_PS_RUN;
	ctl_leave(pr, took);
	return st;
}

DTPROC_API int
dtproc_status(dtproc_t *dtp, dtproc_proc_t *pr)
{
	bool took;
	int st;

	(void) dtp;
	ctl_enter(pr, &took);
	st = pr->dpr_status;
	ctl_leave(pr, took);
	return st;
}

DTPROC_API ssize_t
dtproc_read(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr, void *buf,
    size_t len)
{
	ssize_t n;
	bool took;

	ctl_enter(pr, &took);
	if (pr->dpr_P == NULL) {
		ctl_leave(pr, took);
		return ctl_set_error(dtp, ESRCH, "pid %d: process has exited",
		    (int)pr->dpr_pid);
	}
	n = pt_mem_read(pr->dpr_P, addr, buf, len);
	if (n < 0)
		n = ctl_set_error(dtp, errno, "pid %d: cannot read %#lx: %s",
		    (int)pr->dpr_pid, (unsigned long)addr, strerror(errno));
	ctl_leave(pr, took);
	return n;
}

static long
ctl_call(dtproc_t *dtp, dtproc_proc_t *pr, ctl_req_t *req, const char *what)
{
	bool took;
	long rv;

	ctl_enter(pr, &took);
	if (pr->dpr_rdonly) {
		ctl_leave(pr, took);
		return ctl_set_error(dtp, EPERM, "pid %d: cannot %s: grabbed "
		    "read-only", (int)pr->dpr_pid, what);
	}
	rv = ctl_request(pr, req);
	if (rv < 0)
		ctl_set_error(dtp, (int)-rv, "pid %d: cannot %s at %#lx: %s",
		    (int)pr->dpr_pid, what, (unsigned long)req->cr_addr,
		    rv == -ESRCH ? "process has exited" : strerror((int)-rv));
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API ssize_t
dtproc_write(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    const void *buf, size_t len)
{
	ctl_req_t req = { .cr_op = CTL_WRITE, .cr_addr = addr, .cr_buf = buf,
	    .cr_len = len };

	return ctl_call(dtp, pr, &req, "write");
}

DTPROC_API int
dtproc_bkpt_add(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    dtproc_bkpt_f *fn, void *arg)
{
	ctl_req_t req = { .cr_op = CTL_BKPT_ADD, .cr_addr = addr,
	    .cr_fn = fn, .cr_arg = arg };

	if (fn == NULL)
		return ctl_set_error(dtp, EINVAL, "pid %d: breakpoint without "
		    "a callback", (int)pr->dpr_pid);
	return (int)ctl_call(dtp, pr, &req, "set breakpoint");
}

DTPROC_API int
dtproc_bkpt_del(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	ctl_req_t req = { .cr_op = CTL_BKPT_DEL, .cr_addr = addr };

	return (int)ctl_call(dtp, pr, &req, "remove breakpoint");
}

static void
ctl_sym_out(const sym_info_t *si, dtproc_sym_t *sym)
{
	sym->ds_object = si->sy_object;
	sym->ds_name = si->sy_name;
	sym->ds_addr = si->sy_addr;
	sym->ds_size = si->sy_size;
	sym->ds_offset = si->sy_offset;
	sym->ds_lmid = si->sy_lmid;
	sym->ds_path = si->sy_path;
}

/* Lock the handle for a symbol call; false (and unlocked) if gone. */
static bool
ctl_sym_enter(dtproc_t *dtp, dtproc_proc_t *pr, bool *took)
{
	ctl_enter(pr, took);
	if (pr->dpr_sym != NULL)
		return true;
	ctl_leave(pr, *took);
	ctl_set_error(dtp, ESRCH, "pid %d: process has exited",
	    (int)pr->dpr_pid);
	return false;
}

DTPROC_API int
dtproc_sym_lookup(dtproc_t *dtp, dtproc_proc_t *pr, const char *name,
    dtproc_sym_t *sym)
{
	const char *err;
	sym_info_t si;
	bool took;
	int rv;

	if (!ctl_sym_enter(dtp, pr, &took))
		return -ESRCH;
	rv = sym_lookup_name(pr->dpr_sym, name, &si, &err);
	if (rv == 0)
		ctl_sym_out(&si, sym);
	else
		ctl_set_error(dtp, -rv, "%s", err);
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_sym_addr(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    dtproc_sym_t *sym)
{
	sym_info_t si;
	bool took;
	int rv;

	if (!ctl_sym_enter(dtp, pr, &took))
		return -ESRCH;
	rv = sym_lookup_addr(pr->dpr_sym, addr, &si);
	if (rv == 0)
		ctl_sym_out(&si, sym);
	else
		ctl_set_error(dtp, -rv, "pid %d: address %#lx is not mapped",
		    (int)pr->dpr_pid, (unsigned long)addr);
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_obj_iter(dtproc_t *dtp, dtproc_proc_t *pr, dtproc_obj_f *fn,
    void *arg)
{
	sym_objinfo_t oi;
	bool took;
	int rv = 0;

	if (!ctl_sym_enter(dtp, pr, &took))
		return -ESRCH;
	for (size_t i = 0; rv == 0 && sym_object(pr->dpr_sym, i, &oi) == 0;
	    i++)
		rv = fn(oi.so_path, oi.so_start, oi.so_lmid, arg);
	ctl_leave(pr, took);
	return rv;
}

typedef struct ctl_symwalk {
	dtproc_sym_f *sw_fn;
	void *sw_arg;
} ctl_symwalk_t;

static int
ctl_sym_one(const sym_info_t *si, void *arg)
{
	ctl_symwalk_t *w = arg;
	dtproc_sym_t sym;

	if (si->sy_type != STT_FUNC)
		return 0;
	ctl_sym_out(si, &sym);
	return w->sw_fn(&sym, w->sw_arg);
}

DTPROC_API int
dtproc_sym_iter(dtproc_t *dtp, dtproc_proc_t *pr, const char *objglob,
    const char *nameglob, dtproc_sym_f *fn, void *arg)
{
	ctl_symwalk_t w = { fn, arg };
	bool took;
	int rv;

	if (fn == NULL || nameglob == NULL)
		return ctl_set_error(dtp, EINVAL, "pid %d: symbol walk without "
		    "a pattern or a callback", (int)pr->dpr_pid);
	if (!ctl_sym_enter(dtp, pr, &took))
		return -ESRCH;
	rv = sym_iter(pr->dpr_sym, objglob != NULL ? objglob : "*", nameglob,
	    ctl_sym_one, &w);
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API void
dtproc_set_dlactivity(dtproc_t *dtp, dtproc_dlact_f *fn, void *arg)
{
	dtp->dph_dlact = fn;
	dtp->dph_dlact_arg = arg;
}

/*
 * The reference's stop() action: a SIGSTOP, so the process rests in a
 * group stop that only SIGCONT from outside ends; the control thread
 * listens and leaves it be, and if we die the kernel keeps it stopped.
 */
DTPROC_API int
dtproc_stop(dtproc_t *dtp, dtproc_proc_t *pr)
{
	if (pr->dpr_rdonly || pr->dpr_done)
		return ctl_set_error(dtp, ESRCH, "pid %d: not under control",
		    (int)pr->dpr_pid);
	if (kill(pr->dpr_pid, SIGSTOP) != 0)
		return ctl_set_error(dtp, errno, "pid %d: cannot stop: %s",
		    (int)pr->dpr_pid, strerror(errno));
	/*
	 * Return once the stop has taken: until the control thread passes
	 * the SIGSTOP on, it exists only in our hands, and would be lost
	 * with us.  Bounded: a SIGCONT may end the stop at once.
	 */
	for (int i = 0; i < 200000; i++) {
		bool took, done;

		ctl_enter(pr, &took);
		done = pr->dpr_done || pr->dpr_P == NULL ||
		    (pt_state(pr->dpr_P) == PT_STOPPED &&
		    pt_why(pr->dpr_P) == PT_WHY_JOBCONTROL);
		ctl_leave(pr, took);
		if (done || !took)
			break;	/* (a caller holding the lock cannot wait) */
		sched_yield();
	}
	return 0;
}

DTPROC_API void
dtproc_set_event(dtproc_t *dtp, dtproc_event_f *fn, void *arg)
{
	dtp->dph_event = fn;
	dtp->dph_event_arg = arg;
}

DTPROC_API const char *
dtproc_exe(dtproc_t *dtp, dtproc_proc_t *pr)
{
	(void) dtp;
	return pr->dpr_exe;
}

DTPROC_API int
dtproc_nthreads(dtproc_t *dtp, dtproc_proc_t *pr)
{
	bool took;
	int n;

	(void) dtp;
	ctl_enter(pr, &took);
	/* the control thread's copy: the table moves while it waits */
	n = pr->dpr_P == NULL ? 0 : pr->dpr_rdonly ? 0 : pr->dpr_nthreads;
	ctl_leave(pr, took);
	return n;
}

DTPROC_API int
dtproc_obj_bias(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    uintptr_t *biasp)
{
	sym_info_t si;
	bool took, found;

	if (!ctl_sym_enter(dtp, pr, &took))
		return -ESRCH;
	/* a region with no file ([vdso], [heap], [anon]) is no object */
	found = sym_lookup_addr(pr->dpr_sym, addr, &si) == 0 &&
	    si.sy_path != NULL && si.sy_path[0] != '[';
	ctl_leave(pr, took);
	if (!found)
		return ctl_set_error(dtp, ENOENT, "pid %d: no object at %#lx",
		    (int)pr->dpr_pid, (unsigned long)addr);
	*biasp = si.sy_bias;
	return 0;
}
