/*
 * unmap.c - breakpoint sites die with their mapping.
 *
 * A site is an address plus the byte it replaced, and is only right
 * while the address maps what it mapped when the int3 was written.
 * After dlclose (or munmap) the text is gone; a later object mapped at
 * the same address has its own byte there.  A site kept past that would
 * make a later set at the address a mere reference count (no int3: the
 * probe never fires) and give a fork child the old object's byte over
 * the new object's code.  So each site records what its address mapped
 * (device, inode, file offset) and is forgotten once that changes.
 *
 * Nothing tells the owner of an munmap; the run-time linker's
 * consistency points do (the control layer calls pt_bkpt_prune() at each
 * dlopen/dlclose), and a set at an address already known checks the
 * maps afresh (pt_bkpt_set).  The maps are read once per prune and kept
 * (pp_maps) for the identity of sites set meanwhile: a new object comes
 * through the linker, whose activity refreshed them, and an address they
 * do not cover makes them read again.  A site set in memory that was
 * unmapped and mapped again behind our back, unseen by the linker, may
 * carry a stale identity: the next prune then forgets a live site (its
 * probe stops firing); it never writes a wrong byte, since pruning
 * writes nothing.
 *
 * A patched site goes the same way: its jump went with its text, its
 * page record is dropped, and its trampoline is retired (tramp.c): a
 * thread may be inside it this very moment, since nothing is stopped
 * here, so its slot is freed by the next edit that finds none there.
 *
 * Forgotten sites free their out-of-line slots (xol.c) for the sites of
 * objects mapped since: a thread cannot be inside a copy whose text was
 * unmapped under it, not one that returns anywhere.  So a program that
 * loads and unloads a probed plugin forever keeps a bounded number of
 * sites, removed sites and slots.  Owner only.
 */
#include "pt_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
pt_maps_forget(pt_proc_t *P)
{
	pt_maps_free(P->pp_maps, P->pp_nmaps);
	P->pp_maps = NULL;
	P->pp_nmaps = 0;
}

void
pt_maps_refresh(pt_proc_t *P)
{
	PT_ASSERT_OWNER(P);
	pt_maps_forget(P);
}

static int
pt_maps_snap(pt_proc_t *P)
{
	pt_map_t *maps;
	size_t n;
	int rv;

	if ((rv = pt_maps_read(P->pp_pid, &maps, &n)) != 0)
		return rv;
	pt_maps_forget(P);
	P->pp_maps = maps;
	P->pp_nmaps = n;
	return 0;
}

/* The mapping of the snapshot holding ADDR, or NULL (sorted by start). */
static const pt_map_t *
pt_maps_at(const pt_proc_t *P, uintptr_t addr)
{
	size_t lo = 0, hi = P->pp_nmaps;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const pt_map_t *m = &P->pp_maps[mid];

		if (addr < m->pm_start)
			hi = mid;
		else if (addr >= m->pm_end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/*
 * What ADDR maps: from the snapshot, read again when FRESH or when the
 * snapshot does not cover ADDR.  Unmapped: pi_ok true, all zero but
 * pi_off = ~0 (no mapping ever matches it).
 */
void
pt_ident_of(pt_proc_t *P, uintptr_t addr, bool fresh, pt_ident_t *id)
{
	const pt_map_t *m = NULL;

	memset(id, 0, sizeof (*id));
	if (!fresh)
		m = pt_maps_at(P, addr);
	if (m == NULL) {
		if (pt_maps_snap(P) != 0)
			return;		/* unknown: never judged stale */
		m = pt_maps_at(P, addr);
	}
	id->pi_ok = true;
	if (m == NULL) {
		id->pi_off = ~(uint64_t)0;
		return;
	}
	id->pi_dev = m->pm_dev;
	id->pi_ino = m->pm_inode;
	id->pi_off = m->pm_offset + (addr - m->pm_start);
}

bool
pt_ident_same(const pt_ident_t *a, const pt_ident_t *b)
{
	return !a->pi_ok || !b->pi_ok || (a->pi_dev == b->pi_dev &&
	    a->pi_ino == b->pi_ino && a->pi_off == b->pi_off);
}

/* Is the record B (a site or a removed one) stale by the snapshot? */
static bool
pt_stale(pt_proc_t *P, const pt_bkpt_t *B)
{
	pt_ident_t now;

	if (!B->pb_id.pi_ok)
		return false;
	pt_ident_of(P, B->pb_addr, false, &now);
	return !pt_ident_same(&B->pb_id, &now);
}

/* Drop the stale records of A (N of them), their slots freed. */
static int
pt_prune_list(pt_proc_t *P, pt_bkpt_t *a, int *n, uintptr_t *out)
{
	int k = 0, dropped = 0;

	for (int i = 0; i < *n; i++) {
		if (pt_stale(P, &a[i])) {
			/* a patched site's trampoline is retired, freed at
			   the next edit that finds no thread in it */
			pt_tramp_forget(P, &a[i]);
			pt_xol_release(P, a[i].pb_addr);
			if (out != NULL)
				out[dropped] = a[i].pb_addr;
			dropped++;
			continue;
		}
		a[k++] = a[i];
	}
	*n = k;
	return dropped;
}

int
pt_bkpt_prune(pt_proc_t *P, uintptr_t **gone, int *ngone)
{
	uintptr_t *out = NULL;
	int rv;

	PT_ASSERT_OWNER(P);
	*ngone = 0;
	if (gone != NULL)
		*gone = NULL;
	if (P->pp_rdonly || P->pp_state == PT_DEAD || P->pp_state == PT_LOST)
		return 0;
	if ((rv = pt_maps_snap(P)) != 0)
		return err_set(-rv, "pid %d: cannot read its maps: %s",
		    (int)P->pp_pid, strerror(-rv));
	if (gone != NULL && P->pp_nbp > 0 &&
	    (out = malloc((size_t)P->pp_nbp * sizeof (*out))) == NULL)
		return err_set(ENOMEM, "pid %d: out of memory",
		    (int)P->pp_pid);
	*ngone = pt_prune_list(P, P->pp_bp, &P->pp_nbp, out);
	(void) pt_prune_list(P, P->pp_gone, &P->pp_ngone, NULL);
	if (gone != NULL && *ngone > 0)
		*gone = out;
	else
		free(out);
	return 0;
}
