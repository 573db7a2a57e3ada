/*
 * plan.c - how a site's hits are carried past it, decided at its first
 * hit (see probe.h): the architecture's planner reads the original
 * instruction; a copy to run out of line gets a slot in a scratch area
 * near the site (reused when the same instruction is armed there again),
 * relocated for the slot's address.  Whatever cannot be planned is
 * stepped, the old way.
 */
#include "probe.h"

#include <errno.h>
#include <string.h>

int
prb_plan(pt_proc_t *P, uintptr_t addr, pid_t tid)
{
	uint8_t text[ARCH_INSN_MAX], copy[ARCH_XOL_SLOT];
	arch_carry_t c;
	ssize_t n;
	size_t len;
	int xol, rv;

	n = pt_text_read(P, addr, text, sizeof (text));
	if (n <= 0)
		return -EFAULT;
	if (arch_plan(text, (size_t)n, addr, &c, &xol) != 0 || !xol)
		return pt_bkpt_set_carry(P, addr, &c);
	c.ac_target = pt_xol_find(P, addr, text, c.ac_len);
	if (c.ac_target == 0) {
		uintptr_t slot = pt_xol_slot(P, addr, sizeof (copy), tid);

		rv = slot == 0 ? -errno : arch_relocate(text, (size_t)n, addr,
		    slot, copy, &len);
		if (rv == 0 && pt_mem_write(P, slot, copy, len) !=
		    (ssize_t)len)
			rv = -errno;
		if (rv != 0) {
			c.ac_kind = ARCH_CARRY_STEP;
			(void) pt_bkpt_set_carry(P, addr, &c);
			return rv;
		}
		(void) pt_xol_keep(P, addr, text, c.ac_len, slot);
		c.ac_target = slot;
	}
	return pt_bkpt_set_carry(P, addr, &c);
}
