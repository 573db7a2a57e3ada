/*
 * ctl.h - the control layer: dt_proc.c on Linux.  Private structures.
 *
 * Locks, outermost first: dph_lock (the hash, LRU and notice queue of a
 * dtproc_t) is never held while taking a dpr_lock; dpr_lock (one process
 * handle) is held by the control thread whenever it is not waiting for
 * the tracee, and by clients around their calls.  The control thread
 * never waits for the tracee with dpr_lock held, and serves requests
 * (ctl_req_t) on behalf of a client that holds dpr_lock and sleeps on
 * dpr_cv, which releases it.
 */
#ifndef DTPROC_CTL_H
#define DTPROC_CTL_H

#include "dtproc.h"
#include "err/err.h"
#include "ptrace/pt.h"
#include "rtld/rtld.h"
#include "sym/sym.h"
#include "unwind/unwind.h"
#include "util/ahash.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#define CTL_STOP_IDLE	0x80	/* resting at a rendezvous */
#define CTL_STOP_MASK	(DTPROC_STOP_CREATE | DTPROC_STOP_GRAB | \
	DTPROC_STOP_PREINIT | DTPROC_STOP_POSTINIT | DTPROC_STOP_MAIN)
#define CTL_MSG_MAX	512
#define CTL_CALLS_MAX	16	/* callbacks run per hit of one site */
/* prb_arm's reason for an int3 that may be patched later (an upgrade) */
#define CTL_WHY_BUSY	"a thread is inside the window"

typedef struct ctl_bkpt {
	uintptr_t cb_addr;	/* site */
	dtproc_bkpt_f *cb_fn;	/* client's callback */
	void *cb_arg;
	struct ctl_bkpt *cb_next;	/* hash chain */
} ctl_bkpt_t;

/*
 * A probe (dtproc_probe_add, probes.c): one per address.  Its hits are
 * cp_base plus, while the site is patched and live, the trampoline's
 * counter in the shared page (read atomically, from any thread with
 * dpr_lock held), or plus nothing more for an int3 site, whose hits the
 * control thread adds to cp_base itself (ctl_breakpoint).
 */
typedef struct ctl_probe {
	uintptr_t cp_addr;	/* site */
	int cp_flags;		/* DTPROC_PROBE_* asked */
	dtproc_bkpt_f *cp_fn;	/* STOP: the client's callback */
	void *cp_arg;
	int cp_how;		/* DTPROC_PROBE_TRAMP, _TRAP; 0: pending (no
				   code may be edited now: retried) */
	const char *cp_why;	/* TRAP: why not patched (static), or NULL */
	const _Atomic uint64_t *cp_ctr;	/* TRAMP and live: hits, missed */
	uint64_t cp_hits;	/* base: counted by us, or folded */
	uint64_t cp_missed;
	uint64_t cp_seen[2];	/* the counter read before a prune */
	bool cp_live;		/* false: withdrawn (dlclose, exec, exit) */
	bool cp_upgrade;	/* an int3 for now: a thread was inside the
				   window; patched once it has left */
	struct ctl_probe *cp_next;
} ctl_probe_t;

/*
 * A USDT probe armed with dtproc_usdt_add (usdt.c): the semaphore it
 * raised by one, in which file, so that it is lowered once, and never in
 * another object mapped there since.
 */
typedef struct ctl_usdt {
	uintptr_t cu_addr;	/* the probe */
	uintptr_t cu_sema;	/* its semaphore, raised (0: none) */
	dev_t cu_dev;		/* the object holding it */
	ino_t cu_ino;
	struct ctl_usdt *cu_next;
} ctl_usdt_t;

/* A callback to run for a hit. */
typedef struct ctl_call {
	dtproc_bkpt_f *cc_fn;
	void *cc_arg;
} ctl_call_t;

typedef enum ctl_op { CTL_BKPT_ADD, CTL_BKPT_DEL, CTL_WRITE, CTL_STACK,
	CTL_PROBE_ADD, CTL_PROBE_DEL, CTL_PROBE_LIST, CTL_FPROBE,
	CTL_FOLLOW } ctl_op_t;

/* A request a client thread hands to the control thread. */
typedef struct ctl_req {
	ctl_op_t cr_op;
	uintptr_t cr_addr;
	const void *cr_buf;	/* WRITE */
	size_t cr_len;
	dtproc_bkpt_f *cr_fn;	/* BKPT_ADD, PROBE_ADD */
	void *cr_arg;		/* BKPT_ADD, PROBE_ADD; STACK: a ctl_stack_t */
	int cr_flags;		/* PROBE_ADD: DTPROC_PROBE_* */
	long cr_rv;		/* result, -errno */
	err_rec_t cr_err;	/* its error, handed back to the client */
	bool cr_done;
	struct ctl_req *cr_next;
} ctl_req_t;

typedef struct ctl_notice {
	dtproc_proc_t *cn_proc;
	char cn_msg[CTL_MSG_MAX];
	struct ctl_notice *cn_next;
} ctl_notice_t;

struct dtproc_proc {
	dtproc_t *dpr_hdl;
	pid_t dpr_pid;
	pthread_mutex_t dpr_lock;	/* the handle */
	pthread_cond_t dpr_cv;		/* rendezvous, requests, exit */
	pt_proc_t *dpr_P;		/* owned by the control thread (or a
					   read-only handle) */
	sym_proc_t *dpr_sym;
	rtld_t *dpr_rtld;
	pt_wake_t *dpr_wake;		/* the control thread's wake-up */
	pthread_t dpr_tid;		/* control thread */
	bool dpr_thread;		/* it was started (join it) */
	bool dpr_done;			/* it has finished */
	bool dpr_quit;			/* asked to finish */
	bool dpr_cont;			/* a continue before the rendezvous */
	unsigned dpr_stop;		/* DTPROC_STOP_* still due, + IDLE */
	bool dpr_resting;		/* the thread is in its rest wait
					   (pt_rest), to be kicked out */
	unsigned dpr_rests;		/* rests begun, to tell them apart */
	int dpr_visitors;		/* threads between a ctl_enter that
					   took the lock and its ctl_leave */
	int dpr_refs;
	bool dpr_rdonly, dpr_cacheable, dpr_stale, dpr_created;
	pt_release_t dpr_relmode;	/* how the control thread lets go */
	int dpr_state;			/* DTPROC_PS_* once it is done */
	int dpr_status;			/* wait status when DEAD */
	bool dpr_failed;		/* never reached its rendezvous */
	err_rec_t dpr_err;		/* why not: the control thread's
					   error, for the client */
	unsigned dpr_jobstops;		/* group stops the thread has seen */
	bool dpr_jobstop;		/* in one now (until SIGCONT) */
	/* what the control thread is to create or grab */
	char *dpr_file;
	char **dpr_argv;
	char dpr_exe[4096];		/* current image, kept past death */
	int dpr_nthreads;		/* kept current by the thread */
	ahash_t dpr_bps;		/* client breakpoints (bkpts.c) */
	ahash_t dpr_probes;		/* probes by address (probes.c) */
	size_t dpr_npending;		/* of which pending (cp_how 0) */
	struct timespec dpr_pend_try;	/* their last retry */
	bool dpr_pend_now;		/* retry at the next event */
	uintptr_t dpr_brk;		/* the agent's r_brk, armed by us
					   too (0: not) */
	bool dpr_brk_todo;		/* to arm at the next event */
	bool dpr_brk_unplanted;		/* a grab's r_brk: no int3 yet */
	bool dpr_exact;			/* DTPROC_CREATE_EXACT: sites armed
					   from the first instruction */
	bool dpr_startup;		/* exact: ld.so's start-up, its
					   system-call exits followed */
	bool dpr_brk_retry;		/* refused for a thread in its window:
					   tried again with the upgrades */
	size_t dpr_nupgrade;		/* probes with cp_upgrade */
	struct timespec dpr_up_try;	/* the upgrades' last try */
	long dpr_up_ms;			/* and their period, backing off */
	uintptr_t *dpr_upd;		/* sites upgraded by this pass, */
	size_t dpr_nupd, dpr_upd_max;	/* announced once it is over */
	ctl_usdt_t *dpr_usdt;		/* USDT probes armed, their
					   semaphores raised (usdt.c) */
	struct ctl_fp *dpr_fp;		/* function probes (fprobes.c), or
					   NULL before the first */
	ctl_req_t *dpr_reqs;		/* pending requests, FIFO */
	unw_proc_t *dpr_unw;		/* stacks: the cached Dwfl (control
					   thread only) */
	bool dpr_follow;		/* children become handles of their own
					   (follow.c) */
	pt_park_t dpr_park;		/* a followed child: how it waits for
					   its control thread */
	bool dpr_unparked;		/* that thread took it */
	bool dpr_park_late;		/* it came out of its park page by
					   itself first: ran untraced a while
					   (follow.c says why) */
	struct dtproc_proc *dpr_adnext;	/* dph_adopt chain */
	struct dtproc_proc *dpr_hash;	/* pid hash chain */
	struct dtproc_proc *dpr_lprev, *dpr_lnext;	/* LRU, newest first */
};

struct dtproc {
	pthread_mutex_t dph_lock;	/* notices */
	dtproc_proc_t **dph_hash;
	size_t dph_hashlen;		/* power of two */
	dtproc_proc_t *dph_lru;		/* most recent first */
	unsigned dph_lrucnt, dph_lrulim;
	ctl_notice_t *dph_notify, *dph_notify_tail;
	int dph_efd;			/* eventfd: readable with notices */
	dtproc_dlact_f *dph_dlact;
	void *dph_dlact_arg;
	dtproc_event_f *dph_event;
	void *dph_event_arg;
	dtproc_proc_t *dph_adopt;	/* followed children's handles, made
					   on control threads; hashed by the
					   client's thread (dph_lock) */
};

/* handle.c */
void ctl_notify(dtproc_t *dtp, dtproc_proc_t *pr, const char *msg);
int ctl_gone(const dtproc_proc_t *pr, pid_t tid);
void ctl_enter(dtproc_proc_t *pr, bool *took);
bool ctl_holds(dtproc_proc_t *pr);
void ctl_mark(dtproc_proc_t *pr);
void ctl_unmark(dtproc_proc_t *pr);
void ctl_leave(dtproc_proc_t *pr, bool took);
dtproc_proc_t *ctl_adopt(dtproc_t *dtp, const pt_park_t *pk);
void ctl_adopt_settle(dtproc_t *dtp);

/* follow.c: on the control thread, a child parked for a handle. */
void ctl_follow_child(dtproc_proc_t *pr, const pt_event_t *ev);

/* bkpts.c */
int ctl_bkpt_insert(dtproc_proc_t *pr, uintptr_t addr, dtproc_bkpt_f *fn,
    void *arg);
int ctl_bkpt_remove(dtproc_proc_t *pr, uintptr_t addr);
int ctl_bkpt_calls(const dtproc_proc_t *pr, uintptr_t addr,
    ctl_call_t *calls, int max);
void ctl_bkpt_clear(dtproc_proc_t *pr);
void ctl_bkpt_forget(dtproc_proc_t *pr, uintptr_t addr);

/* probes.c: the table is the control thread's, read by clients under
 * dpr_lock (dtproc_probe_info). */
ctl_probe_t *ctl_probe_find(const dtproc_proc_t *pr, uintptr_t addr);
long ctl_probe_add(dtproc_proc_t *pr, const ctl_req_t *req);
void ctl_probe_brk_hit(dtproc_proc_t *pr, uintptr_t addr);
void ctl_probe_upgrade(dtproc_proc_t *pr);
void ctl_probe_upgrade_due(dtproc_proc_t *pr);
void ctl_probe_upgrade_gone(dtproc_proc_t *pr, size_t n);
void ctl_probe_upgraded(dtproc_proc_t *pr, uintptr_t addr);
/*
 * The wake-up timer set as what waits needs it: the upgrades' period
 * (dpr_up_ms), at most CTL_DRAIN_MS while returns recorded without a stop
 * are pending (a thread that stops no more has them fired that late at
 * most), or stopped.
 */
#define CTL_DRAIN_MS	50

void ctl_wake_timer(dtproc_proc_t *pr);
long ctl_probe_add_list(dtproc_proc_t *pr, dtproc_probe_spec_t *specs,
    size_t n);
long ctl_probe_del(dtproc_proc_t *pr, uintptr_t addr);
void ctl_probe_drop(dtproc_proc_t *pr, uintptr_t addr);
int ctl_probe_hit(dtproc_proc_t *pr, uintptr_t addr, ctl_call_t *calls,
    int max);
void ctl_probe_retry(dtproc_proc_t *pr, bool now);
void ctl_probe_seen(dtproc_proc_t *pr);
void ctl_probe_withdraw(dtproc_proc_t *pr, uintptr_t addr, bool pruned);
void ctl_probe_withdraw_all(dtproc_proc_t *pr, bool exec);
void ctl_probe_clear(dtproc_proc_t *pr);
void ctl_probe_brk(dtproc_proc_t *pr);

/* usdt.c: semaphores, on the control thread at exec and release */
void ctl_usdt_exec(dtproc_proc_t *pr);
void ctl_usdt_release(dtproc_proc_t *pr);
void ctl_usdt_fork(void *pr, pid_t child);	/* pt_fork_f */
void ctl_usdt_clear(dtproc_proc_t *pr);
/* fprobes.c: function probes, on the control thread (the table read by
 * clients under dpr_lock: dtproc_fprobe_info). */
long ctl_fp_serve(dtproc_proc_t *pr, void *arg);
bool ctl_fp_hit(dtproc_proc_t *pr, const pt_event_t *ev, uint64_t now);
/* Thread TID, stopped at a function probe's hit since NOW, runs again. */
void ctl_fp_resumed(dtproc_proc_t *pr, pid_t tid, uint64_t now);
uint64_t ctl_fp_now(void);
void ctl_fp_thread_exit(dtproc_proc_t *pr, pid_t tid);
/* Returns recorded without a stop, fired (control thread). */
void ctl_fp_drain(dtproc_proc_t *pr);
/* The same on the wake-up timer's tick; must it tick for them? */
void ctl_fp_tick(dtproc_proc_t *pr);
bool ctl_fp_ticks(const dtproc_proc_t *pr);
void ctl_fp_pruned(dtproc_proc_t *pr, uintptr_t addr);
void ctl_fp_retry(dtproc_proc_t *pr);
/* Sites armed as int3s while busy, patched where they can be now. */
bool ctl_fp_upgrade(dtproc_proc_t *pr);
void ctl_fp_withdraw_all(dtproc_proc_t *pr);
void ctl_fp_clear(dtproc_proc_t *pr);

/* control.c */
int ctl_start(dtproc_t *dtp, dtproc_proc_t *pr, unsigned stop);
void ctl_finish(dtproc_proc_t *pr, pt_release_t how);
long ctl_request(dtproc_proc_t *pr, ctl_req_t *req);
void ctl_wake_rest(dtproc_proc_t *pr);
void ctl_deadline(struct timespec *ts, long us);
int ctl_cv_wait(dtproc_proc_t *pr, const struct timespec *end);
/* The client's event callback, if any, for one event (control thread). */
void ctl_emit(dtproc_proc_t *pr, int kind, const pt_event_t *pe,
    const char *path, int lmid, uintptr_t addr);

/* stack.c: a CTL_STACK request, served on the control thread. */
long ctl_stack_serve(dtproc_proc_t *pr, void *arg);

#endif /* DTPROC_CTL_H */
