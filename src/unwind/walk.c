/*
 * walk.c - one thread's stack: CFI first, then the frame-pointer chain.
 *
 * Why both: libdw's CFI walk (dwfl.c) is right for code compiled without
 * frame pointers, which is most of a distribution, but it stops at the
 * first pc no module covers (JIT code, anonymous memory) or whose object
 * has no CFI.  From the last frame it reached, with that frame's frame
 * pointer, the walk takes one step along the chain of saved frame
 * pointers (the layout is the architecture's: ARCH_FP_*), which is how
 * JIT code (which keeps frame pointers) is left, and CFI takes over again
 * from the caller, with its pc, stack and frame pointers known; a frame
 * CFI cannot leave either gets another step,
 * as long as the chain climbs the stack sanely.  A JIT frame shows as its
 * bare address.
 *
 * Trampolines (probes patched with a jump) have no CFI.  A thread
 * stopped at a trampoline's trap is walked from the registers it had at
 * the site (pt_regs_site), so its stack is the one the int3 path shows.
 * Any other pc the walk meets inside a trampoline (the first frame of a
 * thread stopped there for another reason, the pc a signal frame saved)
 * is shown as the instruction it stands for (pt_tramp_where), and the
 * walk goes on from there with the stack pointer the site had.
 *
 * Runs on the process's owner with TID stopped (pt_regs_site needs
 * both); every read goes through pt_mem_read, so nothing is written and
 * the thread's state is untouched.
 */
#include "unwind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNW_FP_SPAN	(64UL << 20)	/* largest sane step up the stack */

/* One step along the frame-pointer chain from FR[N-1]: 1, or 0. */
static int
unw_fp_step(unw_proc_t *U, pt_proc_t *P, unw_frame_t *fr, int n)
{
	uintptr_t fp = fr[n - 1].uf_fp, floor = fr[n - 1].uf_sp;
	uint64_t next, ret;

	if (fp == 0 || (fp & 7) != 0 || fp < floor ||
	    (floor != 0 && fp - floor > UNW_FP_SPAN))
		return 0;
	if (!unw_read_word(U, P, fp, &next) ||
	    !unw_read_word(U, P, fp + ARCH_FP_RET, &ret) || ret < 4096 ||
	    (next != 0 && next <= fp))		/* the chain must climb */
		return 0;
	fr[n].uf_pc = ret;
	fr[n].uf_exact = false;
	fr[n].uf_how = UNW_F_FP;
	fr[n].uf_fp = next;
	fr[n].uf_sp = fp + ARCH_FP_CFA;
	return 1;
}

/*
 * FR[N-1]'s pc lies in a trampoline: show the pc it stands for, and walk
 * on by CFI from there with the site's stack pointer.  The frames now
 * known, or 0 when the pc is in none.
 */
static int
unw_tramp_step(unw_proc_t *U, pt_proc_t *P, sym_proc_t *S, pid_t tid,
    const arch_regs_t *regs, unw_frame_t *fr, int n, int max,
    bool *complete)
{
	unw_frame_t *f = &fr[n - 1], was = *f;
	uintptr_t pc;
	size_t depth;
	arch_regs_t r = *regs;
	int k;

	if (pt_tramp_where(P, f->uf_pc, &pc, &depth) != 1)
		return 0;
	if (f->uf_sp == 0) {	/* no stack pointer to go on from */
		f->uf_pc = pc;
		return n;
	}
	arch_set_pc(&r, pc);
	arch_set_sp(&r, f->uf_sp + depth);
	arch_set_fp(&r, f->uf_fp);
	k = unw_cfi_walk(U, P, S, tid, &r, f, max - n + 1, complete);
	if (k <= 0) {		/* no CFI there either: the pc alone */
		f->uf_pc = pc;
		f->uf_sp = was.uf_sp + depth;
		k = 1;
	}
	f->uf_exact = was.uf_exact;	/* it was this frame's pc */
	f->uf_how = was.uf_how;
	return n - 1 + k;
}

int
unw_stack(unw_proc_t *U, pt_proc_t *P, sym_proc_t *S, pid_t tid,
    uintptr_t *pcs, unsigned char *flags, int max)
{
	arch_regs_t regs;
	unw_frame_t *fr;
	bool complete;
	int n, m, rv;

	if (max <= 0) {
		return err_set(EINVAL, "pid %d: thread %d: no room for a "
		    "frame", (int)pt_pid(P), (int)tid);
	}
	if (max > UNW_DEPTH_MAX)
		max = UNW_DEPTH_MAX;
	/* at a trampoline's trap: the registers it had at the site */
	if ((rv = pt_regs_site(P, tid, &regs)) < 0)
		return rv;	/* the core's reason stands */
	/* every frame is written before it is read */
	if ((fr = malloc((size_t)max * sizeof (*fr))) == NULL) {
		return err_set(ENOMEM, "pid %d: thread %d: out of memory",
		    (int)pt_pid(P), (int)tid);
	}
	n = unw_cfi_walk(U, P, S, tid, &regs, fr, max, &complete);
	if (n == 0) {		/* no module at all: registers only */
		fr[0].uf_pc = arch_pc(&regs);
		fr[0].uf_exact = true;
		fr[0].uf_how = UNW_F_FP;
		fr[0].uf_fp = arch_fp(&regs);
		fr[0].uf_sp = arch_sp(&regs);
		n = 1;
	}
	/*
	 * CFI stopped early: at a trampoline, on from its site; else a
	 * frame-pointer step, then CFI again.
	 */
	while (!complete && n < max) {
		arch_regs_t r = regs;
		unw_frame_t *f = &fr[n];
		int k;

		if ((m = unw_tramp_step(U, P, S, tid, &regs, fr, n, max,
		    &complete)) > 0) {
			n = m;
			continue;
		}
		if (unw_fp_step(U, P, fr, n) != 1)
			break;
		arch_set_pc(&r, f->uf_pc);
		arch_set_sp(&r, f->uf_sp);
		arch_set_fp(&r, f->uf_fp);
		k = unw_cfi_walk(U, P, S, tid, &r, f, max - n, &complete);
		if (k > 0) {	/* its first frame is the one we stepped to */
			f->uf_exact = false;
			f->uf_how = UNW_F_FP;
		}
		n += k > 0 ? k : 1;
	}
	/* the last frame (at MAX, or where the walk ended) shown mapped */
	{
		uintptr_t pc;
		size_t depth;

		if (pt_tramp_where(P, fr[n - 1].uf_pc, &pc, &depth) == 1)
			fr[n - 1].uf_pc = pc;
	}
	for (int i = 0; i < n; i++) {
		pcs[i] = fr[i].uf_pc;
		if (flags != NULL)
			flags[i] = (unsigned char)(fr[i].uf_how |
			    (fr[i].uf_exact ? UNW_F_EXACT : 0));
	}
	free(fr);
	return n;
}
