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
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CTL_STOP_MS	10000	/* dtproc_stop: the group stop must start */

/* The state as the reference reads it; dpr_lock held. */
static int
ctl_state_locked(const dtproc_proc_t *pr)
{
	if (pr->dpr_rdonly)
		return pr->dpr_P != NULL && pt_alive(pr->dpr_P) ?
		    DTPROC_PS_RUN : DTPROC_PS_DEAD;
	if (pr->dpr_state == DTPROC_PS_DEAD ||
	    pr->dpr_state == DTPROC_PS_LOST || pr->dpr_done ||
	    pr->dpr_P == NULL)
		return pr->dpr_state;
	if (pr->dpr_stop & CTL_STOP_IDLE)
		return DTPROC_PS_STOP;
	return pt_state(pr->dpr_P) == PT_STOPPED ? DTPROC_PS_STOP :
	    DTPROC_PS_RUN;
}

static int
ctl_status_locked(const dtproc_proc_t *pr)
{
	return pr->dpr_status;
}

/* The control thread's copy: the core's table moves while it waits. */
static int
ctl_nthreads_locked(const dtproc_proc_t *pr)
{
	return pr->dpr_P == NULL || pr->dpr_rdonly ? 0 : pr->dpr_nthreads;
}

/* FN's answer with the handle locked (unless the caller holds it). */
static int
ctl_locked(dtproc_proc_t *pr, int (*fn)(const dtproc_proc_t *))
{
	bool took;
	int v;

	ctl_enter(pr, &took);
	v = fn(pr);
	ctl_leave(pr, took);
	return v;
}

DTPROC_API int
dtproc_state(dtproc_t *dtp, dtproc_proc_t *pr)
{
	(void) dtp;
	return ctl_locked(pr, ctl_state_locked);
}

DTPROC_API int
dtproc_status(dtproc_t *dtp, dtproc_proc_t *pr)
{
	(void) dtp;
	return ctl_locked(pr, ctl_status_locked);
}

DTPROC_API int
dtproc_nthreads(dtproc_t *dtp, dtproc_proc_t *pr)
{
	(void) dtp;
	return ctl_locked(pr, ctl_nthreads_locked);
}

DTPROC_API ssize_t
dtproc_read(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr, void *buf,
    size_t len)
{
	ssize_t n;
	bool took;

	(void) dtp;
	ctl_enter(pr, &took);
	if (pr->dpr_P == NULL)
		n = ctl_gone(pr, 0);
	else if ((n = pt_mem_read(pr->dpr_P, addr, buf, len)) < 0)
		n = err_set(errno, "pid %d: cannot read %#lx: %s",
		    (int)pr->dpr_pid, (unsigned long)addr, strerror(errno));
	else if (n == 0 && len > 0)	/* no address space left */
		n = err_set(ESRCH, "pid %d: cannot read %#lx: process is "
		    "exiting", (int)pr->dpr_pid, (unsigned long)addr);
	ctl_leave(pr, took);
	return n;
}

/*
 * A request to the control thread; its error (the core's own reason, or
 * the control thread's sentence) becomes the caller's.
 */
static long
ctl_call(dtproc_proc_t *pr, ctl_req_t *req, const char *what)
{
	bool took;
	long rv;

	ctl_enter(pr, &took);
	if (pr->dpr_rdonly)
		rv = err_set(EPERM, "pid %d: cannot %s: grabbed read-only",
		    (int)pr->dpr_pid, what);
	else
		rv = ctl_request(pr, req);
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API ssize_t
dtproc_write(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    const void *buf, size_t len)
{
	ctl_req_t req = { .cr_op = CTL_WRITE, .cr_addr = addr, .cr_buf = buf,
	    .cr_len = len };

	(void) dtp;
	return ctl_call(pr, &req, "write");
}

DTPROC_API int
dtproc_bkpt_add(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    dtproc_bkpt_f *fn, void *arg)
{
	ctl_req_t req = { .cr_op = CTL_BKPT_ADD, .cr_addr = addr,
	    .cr_fn = fn, .cr_arg = arg };

	(void) dtp;
	if (fn == NULL)
		return err_set(EINVAL, "pid %d: breakpoint without a callback",
		    (int)pr->dpr_pid);
	return (int)ctl_call(pr, &req, "set breakpoint");
}

DTPROC_API int
dtproc_bkpt_del(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	ctl_req_t req = { .cr_op = CTL_BKPT_DEL, .cr_addr = addr };

	(void) dtp;
	return (int)ctl_call(pr, &req, "remove breakpoint");
}

#define CTL_PROBE_FLAGS	(DTPROC_PROBE_STOP | DTPROC_PROBE_INT3)

/* FLAGS and FN of a probe at ADDR make sense: 0, or -EINVAL said. */
static int
ctl_probe_valid(dtproc_proc_t *pr, uintptr_t addr, int flags,
    dtproc_bkpt_f *fn)
{
	if ((flags & ~CTL_PROBE_FLAGS) != 0 ||
	    ((flags & DTPROC_PROBE_STOP) != 0) != (fn != NULL))
		return err_set(EINVAL, "pid %d: probe at %#lx: %s",
		    (int)pr->dpr_pid, (unsigned long)addr,
		    (flags & ~CTL_PROBE_FLAGS) != 0 ? "unknown flags" :
		    fn != NULL ? "a callback needs DTPROC_PROBE_STOP" :
		    "DTPROC_PROBE_STOP needs a callback");
	return 0;
}

DTPROC_API int
dtproc_probe_add(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    int flags, dtproc_bkpt_f *fn, void *arg)
{
	ctl_req_t req = { .cr_op = CTL_PROBE_ADD, .cr_addr = addr,
	    .cr_fn = fn, .cr_arg = arg, .cr_flags = flags };
	int rv;

	(void) dtp;
	if ((rv = ctl_probe_valid(pr, addr, flags, fn)) != 0)
		return rv;
	return (int)ctl_call(pr, &req, "set probe");
}

DTPROC_API int
dtproc_probe_add_list(dtproc_t *dtp, dtproc_proc_t *pr,
    dtproc_probe_spec_t *specs, size_t n)
{
	ctl_req_t req = { .cr_op = CTL_PROBE_LIST, .cr_arg = specs,
	    .cr_len = n };
	err_rec_t bad;
	size_t nbad = 0;
	long rv;

	(void) dtp;
	if (specs == NULL && n > 0)
		return err_set(EINVAL, "pid %d: no probe specs",
		    (int)pr->dpr_pid);
	for (size_t i = 0; i < n; i++) {
		specs[i].dps_err = ctl_probe_valid(pr, specs[i].dps_addr,
		    specs[i].dps_flags, specs[i].dps_fn);
		if (specs[i].dps_err != 0) {
			err_save(&bad);
			nbad++;
		}
	}
	if (nbad == n)
		return n == 0 ? 0 : (int)-EINVAL;
	rv = ctl_call(pr, &req, "set probes");
	if (rv >= 0 && nbad > 0 && (size_t)rv == n - nbad)
		err_restore(&bad);	/* the only failures: ours */
	return (int)rv;
}

/*
 * A withdrawn (or pending) probe has no site: its record goes at once,
 * even once the process is gone.  A live one is undone by the control
 * thread.
 */
DTPROC_API int
dtproc_probe_del(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	ctl_req_t req = { .cr_op = CTL_PROBE_DEL, .cr_addr = addr };
	ctl_probe_t *p;
	bool took;
	int rv;

	(void) dtp;
	ctl_enter(pr, &took);
	if ((p = ctl_probe_find(pr, addr)) == NULL) {
		rv = err_set(ENOENT, "pid %d: no probe at %#lx",
		    (int)pr->dpr_pid, (unsigned long)addr);
	} else if (!p->cp_live || p->cp_how == 0 || pr->dpr_done ||
	    pr->dpr_P == NULL) {
		ctl_probe_drop(pr, addr);
		rv = 0;
	} else {
		rv = (int)ctl_request(pr, &req);
	}
	ctl_leave(pr, took);
	return rv;
}

/*
 * Counts without a request: a patched site's counter is shared memory,
 * read atomically; the record and its pointer are changed only under
 * dpr_lock, which we hold.
 */
DTPROC_API int
dtproc_probe_info(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    dtproc_probe_info_t *info)
{
	const ctl_probe_t *p;
	bool took;
	int rv = 0;

	(void) dtp;
	ctl_enter(pr, &took);
	if ((p = ctl_probe_find(pr, addr)) == NULL) {
		rv = err_set(ENOENT, "pid %d: no probe at %#lx",
		    (int)pr->dpr_pid, (unsigned long)addr);
	} else {
		info->dpi_how = p->cp_how;
		info->dpi_why = p->cp_why;
		info->dpi_hits = p->cp_hits;
		info->dpi_missed = p->cp_missed;
		info->dpi_live = p->cp_live;
		if (p->cp_ctr != NULL) {
			info->dpi_hits += atomic_load(&p->cp_ctr[0]);
			info->dpi_missed += atomic_load(&p->cp_ctr[1]);
		}
	}
	ctl_leave(pr, took);
	return rv;
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
	sym->ds_flags = (si->sy_flags & SYM_IFUNC ? DTPROC_SYM_IFUNC : 0) |
	    (si->sy_flags & SYM_RESOLVER ? DTPROC_SYM_RESOLVER : 0) |
	    (si->sy_flags & SYM_COMPAT ? DTPROC_SYM_COMPAT : 0);
	sym->ds_version = si->sy_version;
	sym->ds_impl = si->sy_impl;
	sym->ds_bias = si->sy_bias;
	sym->ds_demangled = si->sy_dname;
}

/* Lock the handle for a symbol call; false (and unlocked) if gone. */
static bool
ctl_sym_enter(dtproc_proc_t *pr, bool *took)
{
	ctl_enter(pr, took);
	if (pr->dpr_sym != NULL)
		return true;
	(void) ctl_gone(pr, 0);
	ctl_leave(pr, *took);
	return false;
}

/* By NAME, or by ADDR when NAME is NULL, under the handle's lock. */
static int
ctl_sym_find(dtproc_proc_t *pr, const char *name, uintptr_t addr,
    dtproc_sym_t *sym)
{
	sym_info_t si;
	bool took;
	int rv;

	if (!ctl_sym_enter(pr, &took))
		return -err_code();
	rv = name != NULL ? sym_lookup_name(pr->dpr_sym, name, &si) :
	    sym_lookup_addr(pr->dpr_sym, addr, &si);
	if (rv == 0)
		ctl_sym_out(&si, sym);
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_sym_lookup(dtproc_t *dtp, dtproc_proc_t *pr, const char *name,
    dtproc_sym_t *sym)
{
	(void) dtp;
	if (name == NULL)
		return err_set(EINVAL, "pid %d: no symbol name",
		    (int)pr->dpr_pid);
	return ctl_sym_find(pr, name, 0, sym);
}

DTPROC_API int
dtproc_sym_addr(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    dtproc_sym_t *sym)
{
	(void) dtp;
	return ctl_sym_find(pr, NULL, addr, sym);
}

DTPROC_API int
dtproc_obj_iter(dtproc_t *dtp, dtproc_proc_t *pr, dtproc_obj_f *fn,
    void *arg)
{
	sym_objinfo_t oi;
	bool took;
	int rv = 0;

	(void) dtp;
	if (!ctl_sym_enter(pr, &took))
		return -err_code();
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

	(void) dtp;
	if (fn == NULL || nameglob == NULL)
		return err_set(EINVAL, "pid %d: symbol walk without a pattern "
		    "or a callback", (int)pr->dpr_pid);
	if (!ctl_sym_enter(pr, &took))
		return -err_code();
	rv = sym_iter(pr->dpr_sym, objglob != NULL ? objglob : "*", nameglob,
	    ctl_sym_one, &w);
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_elf_sym_iter(dtproc_t *dtp, const char *path, const char *nameglob,
    dtproc_sym_f *fn, void *arg)
{
	ctl_symwalk_t w = { fn, arg };

	(void) dtp;
	if (path == NULL || fn == NULL || nameglob == NULL)
		return err_set(EINVAL, "%s: symbol walk without a file, a "
		    "pattern or a callback", path != NULL ? path : "(null)");
	return sym_file_iter(path, nameglob, ctl_sym_one, &w);
}

/* The callbacks every controlled process of DTP reports to. */
DTPROC_API void
dtproc_set_dlactivity(dtproc_t *dtp, dtproc_dlact_f *fn, void *arg)
{
	dtp->dph_dlact = fn;
	dtp->dph_dlact_arg = arg;
}
DTPROC_API void
dtproc_set_event(dtproc_t *dtp, dtproc_event_f *fn, void *arg)
{
	dtp->dph_event = fn;
	dtp->dph_event_arg = arg;
}

/* Signal the process: through its pidfd where the kernel has one. */
static int
ctl_kill(dtproc_proc_t *pr, int sig)
{
	int fd = pt_pidfd(pr->dpr_P);

	if (fd >= 0 && syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0)
		return 0;
	if (fd >= 0 && errno != ENOSYS)
		return -errno;
	return kill(pr->dpr_pid, sig) == 0 ? 0 : -errno;
}

/*
 * The reference's stop() action: a SIGSTOP, so the process rests in a
 * group stop that only SIGCONT from outside ends; the control thread
 * listens and leaves it be, and if we die the kernel keeps it stopped.
 * Returns once the control thread has seen the group stop begin: until
 * it passes the SIGSTOP on, the signal exists only in our hands and
 * would be lost with us.  From a callback (the control thread itself)
 * it cannot wait: the stop comes once the callback has returned.
 */
DTPROC_API int
dtproc_stop(dtproc_t *dtp, dtproc_proc_t *pr)
{
	struct timespec end;
	unsigned seen;
	bool took;
	int rv;

	(void) dtp;
	ctl_enter(pr, &took);
	if (pr->dpr_rdonly || !pr->dpr_thread) {
		ctl_leave(pr, took);
		return err_set(ESRCH, "pid %d: not under control",
		    (int)pr->dpr_pid);
	}
	if (pr->dpr_done || pr->dpr_P == NULL) {
		rv = ctl_gone(pr, 0);
		ctl_leave(pr, took);
		return rv;
	}
	seen = pr->dpr_jobstops;
	if ((rv = ctl_kill(pr, SIGSTOP)) != 0) {
		rv = err_set(-rv, "pid %d: cannot stop: %s", (int)pr->dpr_pid,
		    strerror(-rv));
	} else if (!pthread_equal(pr->dpr_tid, pthread_self())) {
		ctl_deadline(&end, CTL_STOP_MS * 1000L);
		/* resting at a rendezvous, the kernel holds the signal */
		while (pr->dpr_jobstops == seen && !pr->dpr_done && rv == 0 &&
		    !(pr->dpr_stop & CTL_STOP_IDLE))
			if (ctl_cv_wait(pr, &end) == ETIMEDOUT)
				rv = err_set(ETIMEDOUT, "pid %d: SIGSTOP sent, "
				    "no stop seen in %d ms", (int)pr->dpr_pid,
				    CTL_STOP_MS);
	}
	ctl_leave(pr, took);
	return rv;
}

/*
 * Rests: at a rendezvous with the control thread idle, or in a group stop
 * (dtproc_stop, or a SIGSTOP from outside).
 */
static bool
ctl_resting(const dtproc_proc_t *pr)
{
	return !pr->dpr_done && ((pr->dpr_stop & CTL_STOP_IDLE) ||
	    pr->dpr_jobstop);
}

DTPROC_API int
dtproc_wait_stopped(dtproc_t *dtp, dtproc_proc_t *pr, int timeout_ms)
{
	struct timespec end;
	bool took;
	int rv = 0;

	(void) dtp;
	ctl_enter(pr, &took);
	if (pr->dpr_rdonly || !pr->dpr_thread)
		rv = err_set(ESRCH, "pid %d: not under control",
		    (int)pr->dpr_pid);
	else if (pthread_equal(pr->dpr_tid, pthread_self()))
		rv = err_set(EDEADLK, "pid %d: a callback cannot wait for its "
		    "own process to stop", (int)pr->dpr_pid);
	if (timeout_ms >= 0)
		ctl_deadline(&end, timeout_ms * 1000L);
	while (rv == 0 && !ctl_resting(pr)) {	/* woken by every change */
		if (pr->dpr_done)
			rv = ctl_gone(pr, 0);
		else if (ctl_cv_wait(pr, timeout_ms >= 0 ? &end : NULL) ==
		    ETIMEDOUT && !ctl_resting(pr) && !pr->dpr_done)
			rv = err_set(ETIMEDOUT, "pid %d: not stopped after %d "
			    "ms", (int)pr->dpr_pid, timeout_ms);
	}
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API const char *
dtproc_exe(dtproc_t *dtp, dtproc_proc_t *pr)
{
	(void) dtp;
	return pr->dpr_exe;
}

DTPROC_API int
dtproc_obj_bias(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr,
    uintptr_t *biasp)
{
	sym_info_t si;
	bool took, found;

	(void) dtp;
	if (!ctl_sym_enter(pr, &took))
		return -err_code();
	/* a region with no file ([vdso], [heap], [anon]) is no object */
	found = sym_lookup_addr(pr->dpr_sym, addr, &si) == 0 &&
	    si.sy_path != NULL && si.sy_path[0] != '[';
	ctl_leave(pr, took);
	if (!found)
		return err_set(ENOENT, "pid %d: no object at %#lx",
		    (int)pr->dpr_pid, (unsigned long)addr);
	*biasp = si.sy_bias;
	return 0;
}
