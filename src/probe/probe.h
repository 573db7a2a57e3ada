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
#include "util/ahash.h"

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
 * whose targets we cannot bound.  A thread that may resume inside the
 * window (a word of its stack, a pc in a system call; one merely
 * stopped there is moved into the trampoline) makes the core refuse
 * (-EBUSY): armed as an int3 instead, the reason said.
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

/*
 * Return probes' pending entries (ret.c): per thread, the calls of
 * probed functions that have not returned yet, oldest first.  The
 * stack is never written: a return is known by its return address and
 * the stack pointer it lands with (arch_ret_sp of the entry's), and an
 * entry that can no longer return by a later stack pointer above it in
 * the same stack region (the mapping holding the stack pointer: a
 * thread's stack, a sigaltstack, a coroutine's stack are different
 * regions, whose stack pointers are never compared).  Pure bookkeeping:
 * the caller finds regions, arms sites and fires.  Control thread.
 */
typedef struct prb_rpend {
	uintptr_t rp_sp;	/* stack pointer at entry */
	uintptr_t rp_ret;	/* return address */
	uint64_t rp_time;	/* entry time, ns */
	uint64_t rp_vtime;	/* the victim's clock at entry, or 0 */
	uint64_t rp_vheld;	/* the thread's rt_vheld then */
	void *rp_what;		/* the caller's: which probe */
} prb_rpend_t;

typedef struct prb_rthr {
	pid_t rt_tid;
	int rt_n;		/* pending entries */
	int rt_cap;		/* room in rt_pend */
	prb_rpend_t *rt_pend;	/* oldest first */
	uintptr_t rt_lo[2], rt_hi[2];	/* regions seen last, newest first */
	uint64_t rt_held;	/* ns held stopped at our hits, summed */
	/*
	 * The same as the victim's clock saw each gate stop (its trap to
	 * its resume), summed; the clock at the last one; set when a
	 * stop's cost was not known (then every later one is unknown).
	 */
	uint64_t rt_vheld;
	uint64_t rt_vpre;	/* 0: the last stop was no gate stop */
	bool rt_vbad;
	bool rt_vseen;		/* it has stopped at a gate */
	struct prb_rthr *rt_next;	/* hash chain */
} prb_rthr_t;

typedef struct prb_rets {
	ahash_t rs_thr;		/* threads (prb_rthr_t) by tid */
	size_t rs_npend;	/* entries of every thread */
} prb_rets_t;

/* What a hit says, for prb_ret_take. */
typedef struct prb_rhit {
	uintptr_t rh_sp;	/* the thread's stack pointer at the site */
	uintptr_t rh_lo, rh_hi;	/* the region holding it */
	uintptr_t rh_pc;	/* at a return site: its address, else 0 */
	uintptr_t rh_ra;	/* at an entry: its return address, else 0 */
	const void *rh_what;	/* at an entry: the rp_what its entries
				   get (NULL: none) */
} prb_rhit_t;

/* An empty table (to be freed with prb_ret_free). */
void prb_ret_init(prb_rets_t *rs);
/* TID's record (CREATE: made if missing), or NULL. */
prb_rthr_t *prb_ret_thread(prb_rets_t *rs, pid_t tid, int create);
/* One more entry: 0, -ENOSPC past MAX entries, -ENOMEM. */
int prb_ret_push(prb_rets_t *rs, prb_rthr_t *t, const prb_rpend_t *e,
    int max);
/*
 * A hit of T (H): the entries that returned here (RETURNED[i] 1) or
 * can no longer return (0), newest first, removed and copied to OUT (at
 * most MAX; the rest are found at a later hit).  How many.
 */
int prb_ret_take(prb_rets_t *rs, prb_rthr_t *t, const prb_rhit_t *h,
    prb_rpend_t *out, int *returned, int max);
/*
 * Remove the entries of T (NULL: of every thread) that FN (NULL: all)
 * says to drop, calling GONE with each: a thread's exit, an exec, a
 * deleted probe, a return site gone with its object.
 */
void prb_ret_drop(prb_rets_t *rs, prb_rthr_t *t,
    int (*fn)(void *arg, const prb_rpend_t *e),
    void (*gone)(void *arg, const prb_rpend_t *e), void *arg);
/* A thread's record freed (its entries dropped first); all of them. */
void prb_ret_forget(prb_rets_t *rs, pid_t tid);
void prb_ret_free(prb_rets_t *rs);

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
