/*
 * bkpts.c - the client's breakpoints of one process, by address.
 *
 * A hit looks up the callbacks of its site here, so the table is hashed:
 * the cost of a hit must not grow with the number of probes (thousands,
 * for `trace -f 'libc.so.6`*'`).  Several callbacks may share a site;
 * each holds one reference on the ptrace core's site.  Only the control
 * thread touches the table, with dpr_lock held.
 */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>

/* Record a callback (appended: callbacks of a site run in their order). */
int
ctl_bkpt_insert(dtproc_proc_t *pr, uintptr_t addr, dtproc_bkpt_f *fn,
    void *arg)
{
	ctl_bkpt_t *b;

	if ((b = ahash_new(&pr->dpr_bps, sizeof (*b), addr)) == NULL)
		return -ENOMEM;
	b->cb_fn = fn;
	b->cb_arg = arg;
	return 0;
}

/* Forget the first callback at ADDR: 0, or -ENOENT. */
int
ctl_bkpt_remove(dtproc_proc_t *pr, uintptr_t addr)
{
	ctl_bkpt_t *b = ahash_find(&pr->dpr_bps, addr);

	if (b == NULL)
		return -ENOENT;
	ahash_remove(&pr->dpr_bps, b);
	free(b);
	return 0;
}

/*
 * Forget every callback at ADDR: the core forgot the site, which died
 * with its object (dlclose, munmap), so they hold no reference there.
 */
void
ctl_bkpt_forget(dtproc_proc_t *pr, uintptr_t addr)
{
	while (ctl_bkpt_remove(pr, addr) == 0)
		;
}

/* The callbacks at ADDR, copied (a callback may edit the table). */
int
ctl_bkpt_calls(const dtproc_proc_t *pr, uintptr_t addr, ctl_call_t *calls,
    int max)
{
	int n = 0;

	for (const ctl_bkpt_t *b = ahash_find(&pr->dpr_bps, addr);
	    b != NULL && n < max; b = ahash_find_next(&pr->dpr_bps, b)) {
		calls[n].cc_fn = b->cb_fn;
		calls[n++].cc_arg = b->cb_arg;
	}
	return n;
}

/* Forget them all: the image they were in is gone. */
void
ctl_bkpt_clear(dtproc_proc_t *pr)
{
	ahash_clear(&pr->dpr_bps, free);
}
