/*
 * abi.c - where System V x86-64 passes a function's parameters (for
 * the symbols layer's typed arguments, src/sym/params.c).
 *
 * The DWARF walk describes each parameter's type as pieces: scalars at
 * byte offsets in the value, each integer, floating or x87.  From them,
 * as the ABI (3.2.3) classifies: a value over 16 bytes, a long double
 * or one with a piece it cannot place goes in memory; otherwise each
 * eightbyte is INTEGER if any integer piece touches it, else SSE.  A
 * value gets registers only if all it needs are free (rdi, rsi, rdx,
 * rcx, r8, r9; xmm0-7), else it goes whole on the stack, at a 16-byte
 * boundary when its alignment asks.  A C++ class passed by invisible
 * reference takes one integer register (its address).  Only a scalar of
 * integer class gets an argN: arg0-5 the registers, arg6 on the word
 * at the entry's stack pointer + 8 (arch_entry's ARGS).  An aggregate
 * takes its slots all the same, so the parameters after it are right.
 */
#include "arch.h"

#define AB_NONE	0
#define AB_INT	1
#define AB_SSE	2
#define AB_MEM	3

#define AB_NINT	6	/* integer argument registers */
#define AB_NSSE	8	/* vector argument registers */

static void
ab_merge(int cls[2], uint64_t off, int cl)
{
	int *c;

	if (off >= 16) {
		cls[0] = AB_MEM;
		return;
	}
	c = &cls[off / 8];
	if (*c == AB_NONE || *c == AB_SSE)
		*c = cl;
}

/* T's eightbytes' classes: false if it goes in memory. */
static bool
ab_classify(const arch_argtype_t *t, int cls[2])
{
	cls[0] = cls[1] = AB_NONE;
	if (t->at_size > 16 || t->at_unknown)
		return false;
	for (int i = 0; i < t->at_npiece; i++) {
		const arch_argpiece_t *p = &t->at_piece[i];

		switch (p->ap_class) {
		case ARCH_PIECE_X87:
			return false;
		case ARCH_PIECE_FLOAT:
			if (p->ap_size > 16)
				return false;
			for (uint32_t o = 0; o < p->ap_size; o += 8)
				ab_merge(cls, p->ap_off + (uint64_t)o, AB_SSE);
			break;
		default:
			for (uint32_t o = 0; o < p->ap_size || o == 0; o += 8)
				ab_merge(cls, p->ap_off + (uint64_t)o, AB_INT);
			break;
		}
	}
	return cls[0] != AB_MEM && cls[1] != AB_MEM;
}

void
arch_args_begin(arch_args_t *st, const arch_argtype_t *ret)
{
	int cls[2];

	st->aa_int = st->aa_sse = st->aa_stack = 0;
	/* a result returned in memory: the caller's buffer comes in rdi */
	if (ret != NULL && ret->at_size > 0 && ret->at_aggregate &&
	    (ret->at_byref || !ab_classify(ret, cls)))
		st->aa_int = 1;
}

int
arch_args_next(arch_args_t *st, const arch_argtype_t *t)
{
	int cls[2], nint = 0, nsse = 0, arg = -1, words;

	if (t->at_size <= 0)
		return -1;
	words = (t->at_size + 7) / 8;
	if (t->at_byref) {
		cls[0] = AB_INT;
		cls[1] = AB_NONE;
	} else if (!ab_classify(t, cls)) {
		if (t->at_align >= 16)
			st->aa_stack += st->aa_stack & 1;
		st->aa_stack += words;
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		nint += cls[i] == AB_INT;
		nsse += cls[i] == AB_SSE;
	}
	if (st->aa_int + nint <= AB_NINT && st->aa_sse + nsse <= AB_NSSE) {
		if (t->at_intkind && nint > 0)
			arg = st->aa_int;
		st->aa_int += nint;
		st->aa_sse += nsse;
		return arg;
	}
	/* not enough registers left: all of it on the stack */
	if (t->at_align >= 16)
		st->aa_stack += st->aa_stack & 1;
	if (t->at_intkind)
		arg = AB_NINT + st->aa_stack;
	st->aa_stack += words > 0 ? words : 1;
	return arg;
}
