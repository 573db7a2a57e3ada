/*
 * probe.h - the breakpoints-and-probes layer: how a hit is carried past
 * its site in one stop.
 *
 * prb_plan() has the architecture's planner (src/arch) decode the
 * original instruction at a site and records the plan with the ptrace
 * core: emulate it (endbr64, nops, push of a register, direct jmp and
 * call), or run a relocated copy out of line, or, for the few that can
 * be neither (indirect calls, system calls, short-only branches such as
 * loop), single-step as before.  Called on the owner thread, the thread
 * TID stopped at the site.
 */
#ifndef DTPROC_PROBE_H
#define DTPROC_PROBE_H

#include "ptrace/pt.h"
#include "sym/sym.h"

/* Plan the site at ADDR: 0, or -errno (the site then steps). */
int prb_plan(pt_proc_t *P, uintptr_t addr, pid_t tid);

/*
 * Arming a probe (arm.c, scan.c): patched with a trampoline when the
 * site allows it, else an int3.  The rules, each a reason: the window
 * (instructions under the 5-byte jump) must relocate (arch_window), lie
 * inside the function (or run into padding up to the next symbol that
 * nothing branches to), no direct branch anywhere in the object may
 * target its inside (every function of the object decoded once, the
 * targets kept per file), and the function must have no indirect jump
 * whose targets we cannot bound.  A thread inside the window makes the
 * core refuse (-EBUSY): armed as an int3 instead, the reason said.
 * FLAGS: PRB_TRAP (hits stop), PRB_INT3 (never patch).  *HOW:
 * PRB_HOW_TRAMP or PRB_HOW_INT3; *WHY: NULL, or the reason it is an int3 (static text).
 * 0 or -errno.  On the owner thread.
 */
#define PRB_TRAP	0x1
#define PRB_INT3	0x2
#define PRB_TAKE	0x4	/* ADDR is an int3 site of the caller's alone:
				   patch it (an upgrade, see ctl/probes.c) */
#define PRB_HOW_TRAMP	1
#define PRB_HOW_INT3	2

int prb_arm(pt_proc_t *P, sym_proc_t *S, uintptr_t addr, int flags,
    int *how, const char **why);
/* Undo one prb_arm() of ADDR with the same FLAGS. */
int prb_disarm(pt_proc_t *P, uintptr_t addr, int flags);
/*
 * Why ADDR cannot be patched (static text), or NULL if it can: the
 * rules above without arming (for -l, and the bench's census).
 */
const char *prb_refusal(pt_proc_t *P, sym_proc_t *S, uintptr_t addr);

/* ---- inside the layer ---- */

/*
 * scan.c: the object-wide rules for the window [PATCH, PATCH+LEN) of
 * function FN (as sym_lookup_addr gave it): NULL, or why not (no direct
 * branch of the object may target the window's inside, the entries of
 * the jump tables its functions name counted; FN may have no indirect
 * jump with a table it cannot read).  The object is analysed at its
 * first question, once per file.  Any thread (a mutex guards the cache).
 */
const char *prb_scan_check(pt_proc_t *P, sym_proc_t *S, const sym_info_t *fn,
    uintptr_t patch, size_t len);
/*
 * Gaps of FN's object that meet [LO, HI): up to MAX runs [start, end)
 * between the end of one function and the start of the next, no byte
 * of which a direct branch targets (whether they are padding is the
 * caller's to read).  How many.  After a prb_scan_check of FN's object
 * (else none: the analysis may be gone from the cache).
 */
size_t prb_scan_gaps(pt_proc_t *P, sym_proc_t *S, const sym_info_t *fn,
    uintptr_t lo, uintptr_t hi, uintptr_t (*out)[2], size_t max);
/* Files analysed and cached now (tests). */
size_t prb_scan_files(void);

#endif /* DTPROC_PROBE_H */
