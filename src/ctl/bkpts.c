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

static size_t
ctl_bkpt_bucket(const dtproc_proc_t *pr, uintptr_t addr)
{
	uint64_t h = (uint64_t)addr * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (pr->dpr_bph_len - 1);
}

static int
ctl_bkpt_grow(dtproc_proc_t *pr)
{
	size_t n = pr->dpr_bph_len ? pr->dpr_bph_len * 2 : 256;
	ctl_bkpt_t **h = calloc(n, sizeof (*h));
	size_t old = pr->dpr_bph_len;
	ctl_bkpt_t **oh = pr->dpr_bph;

	if (h == NULL)
		return -ENOMEM;
	pr->dpr_bph = h;
	pr->dpr_bph_len = n;
	for (size_t i = 0; i < old; i++) {
		for (ctl_bkpt_t *b = oh[i], *next; b != NULL; b = next) {
			size_t k = ctl_bkpt_bucket(pr, b->cb_addr);

			next = b->cb_next;
			b->cb_next = h[k];
			h[k] = b;
		}
	}
	free(oh);
	return 0;
}

/* Record a callback (appended: callbacks of a site run in their order). */
int
ctl_bkpt_insert(dtproc_proc_t *pr, uintptr_t addr, dtproc_bkpt_f *fn,
    void *arg)
{
	ctl_bkpt_t *b, **bp;

	if (pr->dpr_nbps >= pr->dpr_bph_len && ctl_bkpt_grow(pr) != 0)
		return -ENOMEM;
	if ((b = calloc(1, sizeof (*b))) == NULL)
		return -ENOMEM;
	b->cb_addr = addr;
	b->cb_fn = fn;
	b->cb_arg = arg;
	for (bp = &pr->dpr_bph[ctl_bkpt_bucket(pr, addr)]; *bp != NULL;
	    bp = &(*bp)->cb_next)
		;
	*bp = b;
	pr->dpr_nbps++;
	return 0;
}

/* Forget the first callback at ADDR: 0, or -ENOENT. */
int
ctl_bkpt_remove(dtproc_proc_t *pr, uintptr_t addr)
{
	if (pr->dpr_bph_len == 0)
		return -ENOENT;
	for (ctl_bkpt_t **bp = &pr->dpr_bph[ctl_bkpt_bucket(pr, addr)];
	    *bp != NULL; bp = &(*bp)->cb_next) {
		if ((*bp)->cb_addr == addr) {
			ctl_bkpt_t *b = *bp;

			*bp = b->cb_next;
			free(b);
			pr->dpr_nbps--;
			return 0;
		}
	}
	return -ENOENT;
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

	if (pr->dpr_bph_len == 0)
		return 0;
	for (const ctl_bkpt_t *b = pr->dpr_bph[ctl_bkpt_bucket(pr, addr)];
	    b != NULL && n < max; b = b->cb_next) {
		if (b->cb_addr == addr) {
			calls[n].cc_fn = b->cb_fn;
			calls[n++].cc_arg = b->cb_arg;
		}
	}
	return n;
}

/* Forget them all: the image they were in is gone. */
void
ctl_bkpt_clear(dtproc_proc_t *pr)
{
	for (size_t i = 0; i < pr->dpr_bph_len; i++) {
		while (pr->dpr_bph[i] != NULL) {
			ctl_bkpt_t *b = pr->dpr_bph[i];

			pr->dpr_bph[i] = b->cb_next;
			free(b);
		}
	}
	free(pr->dpr_bph);
	pr->dpr_bph = NULL;
	pr->dpr_bph_len = 0;
	pr->dpr_nbps = 0;
}
