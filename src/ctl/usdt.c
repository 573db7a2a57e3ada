/*
 * usdt.c - USDT (sys/sdt.h) probes through a process handle:
 * dtproc_usdt_iter, dtproc_usdt_file_iter, dtproc_usdt_add/del,
 * dtproc_usdt_args.
 *
 * The notes are the symbols layer's (sym/usdt.c), read with each
 * object's table; this file copies them out under the handle's lock and
 * arms a probe at a note's address with the probes of probes.c: a USDT
 * site is a nop, which the trampolines move like any instruction.
 *
 * Semaphores.  A probe with a semaphore runs its argument set-up only
 * while the semaphore, a 16-bit counter in the object's data, is not
 * zero; every tool that wants the probe adds one and takes it away
 * again (the kernel's uprobes do the same), so the counter is read,
 * changed and written back, under the handle's lock, never set.  Each
 * armed probe keeps a record of the semaphore it raised and of the
 * file holding it (device, inode): it is lowered at dtproc_usdt_del
 * and at the release of a running process (the control thread, just
 * before it detaches: also when a signal ends a CLI session, which
 * releases), but only while that file is still mapped there.  An exec
 * drops every record (the new image's counters start at zero), and a
 * dlclose makes them stale: their object is not at the address any more.
 * The victim's own threads only read the counter, so the read and the
 * write race with nothing but another tracer's same update.
 *
 * Arguments are read at a hit from the thread's registers at the probe
 * (the trampoline's saved ones, when it trapped there) and memory,
 * which only the control thread may do: from a probe's callback.
 */
#include "ctl.h"
#include "sym/sym.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copy the symbols layer's probe UI out as the public one. */
static void
ctl_usdt_out(const sym_usdt_info_t *ui, dtproc_usdt_t *u)
{
	const sym_usdt_t *n = ui->ui_note;

	memset(u, 0, sizeof (*u));
	u->du_object = ui->ui_object;
	u->du_path = ui->ui_path;
	u->du_lmid = ui->ui_lmid;
	u->du_bias = ui->ui_bias;
	u->du_provider = n->su_prov;
	u->du_name = n->su_name;
	u->du_addr = ui->ui_addr;
	u->du_sema = ui->ui_sema;
	u->du_argspec = n->su_args;
	u->du_nargs = n->su_nargs;
	u->du_why = n->su_why;
	for (int i = 0; i < n->su_nargs && i < DTPROC_USDT_NARGS; i++) {
		const arch_sdt_arg_t *a = &n->su_arg[i];
		dtproc_usdt_arg_t *d = &u->du_args[i];

		d->dua_kind = a->asa_kind == ARCH_SDT_CONST ? DTPROC_USDT_CONST :
		    a->asa_kind == ARCH_SDT_REG ? DTPROC_USDT_REG :
		    DTPROC_USDT_MEM;
		d->dua_size = a->asa_size;
		d->dua_signed = a->asa_signed;
		d->dua_reg = arch_sdt_regname(a->asa_reg);
		d->dua_index = arch_sdt_regname(a->asa_index);
		d->dua_scale = a->asa_scale;
		d->dua_disp = a->asa_disp;
		d->dua_sym = n->su_sym[i];
	}
}

typedef struct ctl_usdt_walk {
	dtproc_usdt_f *uw_fn;
	void *uw_arg;
} ctl_usdt_walk_t;

static int
ctl_usdt_one(const sym_usdt_info_t *ui, void *arg)
{
	ctl_usdt_walk_t *w = arg;
	dtproc_usdt_t u;

	ctl_usdt_out(ui, &u);
	return w->uw_fn(&u, w->uw_arg);
}

/* Notes too short to read: only the debug channel hears of them. */
static void
ctl_usdt_bad(const char *path, unsigned n, const char *why, void *arg)
{
	(void) arg;
	pt_dprintf("%s: %u USDT note%s skipped: %s\n", path, n,
	    n > 1 ? "s" : "", why);
}

DTPROC_API int
dtproc_usdt_iter(dtproc_t *dtp, dtproc_proc_t *pr, const char *objglob,
    const char *provglob, const char *nameglob, dtproc_usdt_f *fn, void *arg)
{
	ctl_usdt_walk_t w = { fn, arg };
	bool took;
	int rv;

	(void) dtp;
	if (fn == NULL)
		return err_set(EINVAL, "pid %d: USDT walk without a callback",
		    (int)pr->dpr_pid);
	ctl_enter(pr, &took);
	if (pr->dpr_sym == NULL)
		rv = ctl_gone(pr, 0);
	else
		rv = sym_usdt_iter(pr->dpr_sym, objglob, provglob, nameglob,
		    ctl_usdt_one, ctl_usdt_bad, &w);
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_usdt_file_iter(dtproc_t *dtp, const char *path, const char *provglob,
    const char *nameglob, dtproc_usdt_f *fn, void *arg)
{
	ctl_usdt_walk_t w = { fn, arg };
	int rv;

	(void) dtp;
	if (fn == NULL || path == NULL)
		return err_set(EINVAL, "USDT walk without a file or a callback");
	rv = sym_usdt_file_iter(path, provglob, nameglob, ctl_usdt_one,
	    ctl_usdt_bad, &w);
	if (rv < 0)
		return err_set(-rv, "%s: cannot read its USDT probes: %s", path,
		    rv == -ENOEXEC ? "not an ELF file" : strerror(-rv));
	return rv;
}

/*
 * Add DELTA (+1, -1) to the semaphore at SEMA, never below zero: 0, or
 * -errno.  Handle locked; a request to the control thread (served at
 * once from a callback), or, ON_CTL, the core's write itself (release).
 */
static int
ctl_usdt_bump(dtproc_proc_t *pr, uintptr_t sema, int delta, bool on_ctl)
{
	uint16_t v;
	ctl_req_t req = { .cr_op = CTL_WRITE, .cr_addr = sema, .cr_buf = &v,
	    .cr_len = sizeof (v) };
	long rv;

	if (pt_mem_read(pr->dpr_P, sema, &v, sizeof (v)) != sizeof (v))
		return err_set(EFAULT, "pid %d: cannot read the USDT semaphore "
		    "at %#lx", (int)pr->dpr_pid, (unsigned long)sema);
	if (delta < 0 && v == 0)
		return 0;	/* someone lowered it for us */
	v = (uint16_t)(v + delta);
	if (on_ctl)
		rv = pt_mem_write(pr->dpr_P, sema, &v, sizeof (v)) ==
		    sizeof (v) ? 0 : -EFAULT;
	else
		rv = ctl_request(pr, &req);
	if (rv < 0)
		return err_set(EFAULT, "pid %d: cannot write the USDT semaphore "
		    "at %#lx", (int)pr->dpr_pid, (unsigned long)sema);
	return 0;
}

/* Is the file the semaphore of R was raised in still mapped there? */
static bool
ctl_usdt_still(dtproc_proc_t *pr, const ctl_usdt_t *r)
{
	sym_usdt_info_t ui;

	return pr->dpr_sym != NULL &&
	    sym_usdt_at(pr->dpr_sym, r->cu_addr, &ui) == 0 &&
	    ui.ui_sema == r->cu_sema && ui.ui_dev == r->cu_dev &&
	    ui.ui_ino == r->cu_ino;
}

static ctl_usdt_t **
ctl_usdt_find(dtproc_proc_t *pr, uintptr_t addr)
{
	ctl_usdt_t **pp;

	for (pp = &pr->dpr_usdt; *pp != NULL; pp = &(*pp)->cu_next)
		if ((*pp)->cu_addr == addr)
			break;
	return pp;
}

DTPROC_API int
dtproc_usdt_add(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr, int flags,
    dtproc_bkpt_f *fn, void *arg)
{
	sym_usdt_info_t ui;
	ctl_usdt_t *r, **old;
	bool took;
	int rv;

	ctl_enter(pr, &took);
	if (pr->dpr_sym == NULL || pr->dpr_P == NULL || pr->dpr_done) {
		rv = ctl_gone(pr, 0);
		goto out;
	}
	if (sym_usdt_at(pr->dpr_sym, addr, &ui) != 0) {
		rv = err_set(ENOENT, "pid %d: no USDT probe at %#lx",
		    (int)pr->dpr_pid, (unsigned long)addr);
		goto out;
	}
	if ((r = calloc(1, sizeof (*r))) == NULL) {
		rv = err_set(ENOMEM, "pid %d: out of memory", (int)pr->dpr_pid);
		goto out;
	}
	if ((rv = dtproc_probe_add(dtp, pr, addr, flags, fn, arg)) != 0) {
		free(r);
		goto out;
	}
	if (ui.ui_sema != 0 && (rv = ctl_usdt_bump(pr, ui.ui_sema, 1,
	    false)) != 0) {
		err_rec_t e;

		err_save(&e);
		(void) dtproc_probe_del(dtp, pr, addr);
		err_restore(&e);
		free(r);
		goto out;
	}
	/* a record of an earlier arming here (withdrawn): it lowers nothing */
	if (*(old = ctl_usdt_find(pr, addr)) != NULL) {
		ctl_usdt_t *o = *old;

		*old = o->cu_next;
		free(o);
	}
	r->cu_addr = addr;
	r->cu_sema = ui.ui_sema;
	r->cu_dev = ui.ui_dev;
	r->cu_ino = ui.ui_ino;
	r->cu_next = pr->dpr_usdt;
	pr->dpr_usdt = r;
out:
	ctl_leave(pr, took);
	return rv;
}

DTPROC_API int
dtproc_usdt_del(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr)
{
	ctl_usdt_t **pp, *r;
	bool took;
	int rv, srv = 0;

	ctl_enter(pr, &took);
	if ((r = *(pp = ctl_usdt_find(pr, addr))) != NULL) {
		*pp = r->cu_next;
		if (r->cu_sema != 0 && pr->dpr_P != NULL && !pr->dpr_done &&
		    ctl_usdt_still(pr, r))
			srv = ctl_usdt_bump(pr, r->cu_sema, -1, false);
		free(r);
	}
	rv = dtproc_probe_del(dtp, pr, addr);
	if (rv == 0 && r == NULL)
		rv = err_set(ENOENT, "pid %d: no USDT probe armed at %#lx",
		    (int)pr->dpr_pid, (unsigned long)addr);
	ctl_leave(pr, took);
	return rv != 0 ? rv : srv;
}

/* The control thread, at an exec: the old image's semaphores are gone. */
void
ctl_usdt_exec(dtproc_proc_t *pr)
{
	ctl_usdt_clear(pr);
}

/* The control thread, about to let a running process go. */
void
ctl_usdt_release(dtproc_proc_t *pr)
{
	for (ctl_usdt_t *r = pr->dpr_usdt; r != NULL; r = r->cu_next)
		if (r->cu_sema != 0 && ctl_usdt_still(pr, r))
			(void) ctl_usdt_bump(pr, r->cu_sema, -1, true);
	ctl_usdt_clear(pr);
}

/*
 * The control thread, at a fork child's first stop (the core's fork
 * hook), before it is let go or parked: it has none of our probes, so
 * none of the semaphores we raised.  Let go with them raised, it would
 * run the argument set-up of probes nobody watches for the rest of its
 * life; followed, its client may arm the same probes there, adding one
 * each, and its release would take only that one away.  Stopped, it runs
 * nothing, and its memory is written through /proc.  The hook may come
 * from inside a step the control thread makes with the handle locked, or
 * from its wait without it: ctl_enter takes the lock only if need be.
 */
void
ctl_usdt_fork(void *arg, pid_t child)
{
	dtproc_proc_t *pr = arg;
	char path[64];
	uint16_t v;
	bool took;
	int fd;

	snprintf(path, sizeof (path), "/proc/%d/mem", (int)child);
	ctl_enter(pr, &took);
	if (pr->dpr_usdt == NULL || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		ctl_leave(pr, took);
		return;
	}
	for (ctl_usdt_t *r = pr->dpr_usdt; r != NULL; r = r->cu_next) {
		if (r->cu_sema == 0 || !ctl_usdt_still(pr, r) ||
		    pread(fd, &v, sizeof (v), (off_t)r->cu_sema) !=
		    sizeof (v) || v == 0)
			continue;
		v--;
		(void) pwrite(fd, &v, sizeof (v), (off_t)r->cu_sema);
	}
	(void) close(fd);
	ctl_leave(pr, took);
}

void
ctl_usdt_clear(dtproc_proc_t *pr)
{
	while (pr->dpr_usdt != NULL) {
		ctl_usdt_t *r = pr->dpr_usdt;

		pr->dpr_usdt = r->cu_next;
		free(r);
	}
}

/* Memory for arch_sdt_value: the core's read. */
static int
ctl_usdt_read(void *arg, uintptr_t addr, void *buf, size_t len)
{
	return pt_mem_read(arg, addr, buf, len) == (ssize_t)len ? 0 : -1;
}

DTPROC_API int
dtproc_usdt_args(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    uint64_t *vals, int max)
{
	sym_usdt_info_t ui;
	const sym_usdt_t *n;
	arch_regs_t regs;

	(void) dtp;
	if (!ctl_holds(pr) || !pr->dpr_thread ||
	    !pthread_equal(pr->dpr_tid, pthread_self()) || pr->dpr_P == NULL)
		return err_set(EBUSY, "pid %d: USDT arguments are read from a "
		    "probe's callback only", (int)pr->dpr_pid);
	if (sym_usdt_at(pr->dpr_sym, addr, &ui) != 0)
		return err_set(ENOENT, "pid %d: no USDT probe at %#lx",
		    (int)pr->dpr_pid, (unsigned long)addr);
	n = ui.ui_note;
	if (n->su_nargs < 0)
		return err_set(EINVAL, "pid %d: %s:%s at %#lx: %s",
		    (int)pr->dpr_pid, n->su_prov, n->su_name,
		    (unsigned long)addr, n->su_why);
	if (pt_regs_site(pr->dpr_P, tid, &regs) != 0)
		return err_set(EBUSY, "pid %d: thread %d is not stopped at "
		    "%#lx", (int)pr->dpr_pid, (int)tid, (unsigned long)addr);
	for (int i = 0; i < n->su_nargs && i < max; i++) {
		uint64_t sa = n->su_sym[i] != NULL ? ui.ui_bias +
		    n->su_symval[i] : 0;

		if (arch_sdt_value(&n->su_arg[i], &regs, sa, ctl_usdt_read,
		    pr->dpr_P, &vals[i]) != 0)
			return err_set(EFAULT, "pid %d: %s:%s: argument %d: "
			    "cannot read its memory", (int)pr->dpr_pid,
			    n->su_prov, n->su_name, i);
	}
	return n->su_nargs;
}
