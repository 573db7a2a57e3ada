/*
 * carry.c - the emulated plans applied to a thread's registers.
 *
 * A skip moves the pc; a jump sets it; a copy run out of line starts at
 * its slot; a push and a call also write one word below the stack
 * pointer, which the caller does (through a write that honours page
 * protection, so that a push that would fault is stepped instead, and
 * faults as it would without us).  With a user shadow stack an emulated
 * call would leave the shadow stack one entry short, and the matching
 * ret would fault: such a thread's calls are stepped.  A push touches no
 * shadow stack and stays emulated.
 */
#include "arch.h"

#include <string.h>

int
arch_carry(const arch_carry_t *c, uintptr_t addr, arch_regs_t *r,
    int shstk, uintptr_t *push_at, uint64_t *push_word)
{
	*push_at = 0;
	switch (c->ac_kind) {
	case ARCH_CARRY_SKIP:
		r->rip = addr + c->ac_len;
		return 0;
	case ARCH_CARRY_PUSH:
		memcpy(push_word, (const char *)r + c->ac_reg,
		    sizeof (*push_word));
		r->rsp -= 8;
		*push_at = r->rsp;
		r->rip = addr + c->ac_len;
		return 0;
	case ARCH_CARRY_CALL:
		if (shstk)
			return -1;
		*push_word = addr + c->ac_len;
		r->rsp -= 8;
		*push_at = r->rsp;
		r->rip = c->ac_target;
		return 0;
	case ARCH_CARRY_JMP:
	case ARCH_CARRY_XOL:
		r->rip = c->ac_target;
		return 0;
	default:
		return -1;
	}
}
