/*
 * pt_impl.h - private structures of the ptrace core, shared by its files.
 *
 * A pt_proc_t keeps one pt_thread_t per tracee it owns: the threads of the
 * process and its "guests", vfork children that share its memory and so
 * stay traced until they exec or exit.  Thread flags record what we know
 * from the stops we collected, never what we infer from registers.
 */
#ifndef DTPROC_PT_IMPL_H
#define DTPROC_PT_IMPL_H

#include "pt.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>

#define PT_VGONE	64	/* gone threads' last clocks kept */

/* pt_proc_t.pp_trap: what we know of the victim's SIGTRAP (trapsig.c) */
#define PT_TRAP_UNKNOWN	0
#define PT_TRAP_DFL	1
#define PT_TRAP_IGN	2
#define PT_TRAP_CAUGHT	3
#define PT_TRAP_NONE	4	/* could not be learned */

/* pt_thread_t.pt_flags */
#define PT_TF_STOPPED	0x01	/* in a ptrace stop we have not ended */
#define PT_TF_JOBSTOP	0x02	/* group-stopped: restart with LISTEN */
#define PT_TF_INTR	0x04	/* PTRACE_INTERRUPT sent, no stop seen yet */
#define PT_TF_NEWBORN	0x08	/* auto-attached, initial stop not yet seen */
#define PT_TF_GUEST	0x10	/* vfork child sharing our memory */
#define PT_TF_HELD	0x20	/* stopped with an event the owner has not
				   taken yet: internal resumes leave it */
#define PT_TF_EXITING	0x40	/* passed PTRACE_EVENT_EXIT: never stops
				   again, so nobody waits for it */
#define PT_TF_SIGSTOP	0x80	/* current stop is a signal-delivery stop */
#define PT_TF_INVFORK	0x100	/* blocked in vfork until VFORK_DONE: runs
				   no user code and cannot be interrupted */
#define PT_TF_EVSTOP	0x200	/* current stop is a PTRACE_EVENT_STOP, the
				   only one PTRACE_LISTEN restarts from */
#define PT_TF_SYSSTOP	0x400	/* current stop is the exit stop of a system
				   call we ran (registers since restored) */
#define PT_TF_TRAMP	0x800	/* current stop is a trampoline's trap: it
				   resumes where it stopped (pt_trsite) */
#define PT_TF_VFFREE	0x1000	/* in vfork, its child let go untraced
				   (counted in pp_vffree until VFORK_DONE) */

#define PT_HOLD_MAX 4

/* A trap's words read at once: the frame up to the site's entry words. */
#define PT_TRWORDS	(ARCH_TRAMP_TRAPSP / 8 + ARCH_ENTRY_WORDS)

typedef struct pt_thread {
	pid_t pt_tid;		/* kernel thread id */
	unsigned pt_flags;	/* PT_TF_* */
	int pt_sig;		/* signal to deliver when restarted */
	int pt_has_info;	/* pt_info is pt_sig's own siginfo */
	siginfo_t pt_info;	/* a signal held back during a step */
	/*
	 * Registers of the current stop, read once per stop.  A hit's pc is
	 * rewound here only; the kernel's copy is written back (flushed)
	 * before anything runs the thread or reads them behind our back.
	 */
	arch_regs_t pt_regs;
	bool pt_regs_ok;	/* pt_regs is this stop's */
	bool pt_regs_dirty;	/* pt_regs differs from the kernel's */
	signed char pt_shstk;	/* runs with a shadow stack: 1, 0, -1 unknown */
	pid_t pt_vfchild;	/* the vfork child it waits for, or 0 */
	uintptr_t pt_trsite;	/* PT_TF_TRAMP: the site it stopped for */
	/*
	 * PT_TF_TRAMP: the words from its stack pointer at the trap up to
	 * the site's own first ARCH_ENTRY_WORDS (the trampoline's frame, the
	 * gate's clock, the red zone, the return address and arguments),
	 * read once a stop (pt_tramp_words): valid while no thread of ours
	 * was resumed (pt_flushgen) and nothing written (pp_memgen).
	 */
	uint64_t pt_trw[PT_TRWORDS];
	uintptr_t pt_trw_sp;
	unsigned pt_trw_gen, pt_trw_mem;
	unsigned pt_trw_n;	/* words read (0: none this stop) */
	uint32_t pt_vslot;	/* 1 + its clock slot's counter pair, or 0 */
	pid_t pt_nstid;		/* its id in the process's pid namespace
				   (pt_quick_tid), 0: not read yet */
	unsigned pt_vexecs;	/* pp_execs when that slot was taken */
	bool pt_sysent;		/* systrace: inside the call below */
	long pt_sysnr;		/* the call it entered */
	unsigned long pt_sysargs[6];	/* and its arguments */
	/*
	 * The victim's signals that came while pt_run() ran the thread for
	 * us, given back by pt_unhold(): with their siginfo, then (past
	 * PT_HOLD_MAX) only by number.
	 */
	int pt_nhold;
	siginfo_t pt_hold[PT_HOLD_MAX];
	uint64_t pt_holdmask;
} pt_thread_t;

/* Whether waits poll before they block (spin.c), measured per process. */
typedef struct pt_spin {
	int ps_phase;		/* 0, 1: measuring without, with; 2: kept */
	int ps_n;		/* stops measured in this phase */
	long ps_sum[2];		/* their waits, ns, without and with */
	bool ps_on;		/* phase 2: poll */
	int ps_left;		/* phase 2: stops until measuring again */
} pt_spin_t;

/*
 * What is mapped at an address: the file (device, inode; 0 for anonymous
 * memory) and the offset in it.  A site whose address no longer maps the
 * same thing died with its object (unmap.c).
 */
typedef struct pt_ident {
	dev_t pi_dev;
	ino_t pi_ino;
	uint64_t pi_off;	/* file offset of the address (anon: pgoff) */
	bool pi_ok;		/* known (else never judged stale) */
} pt_ident_t;

/*
 * One trampoline written in a scratch area (tramp.c): its site's while
 * live, retired once its site went or got another trampoline, until no
 * thread can be inside it.  Allocated one by one: sites point at them,
 * and the lookups from other threads (pt_tramp_where) find them under
 * pp_trlock.
 */
#define PT_TR_ORIG	32	/* room for a window's bytes (aw_len) */

typedef struct pt_tramp {
	uintptr_t tr_site;	/* the probe's address */
	uintptr_t tr_patch;	/* where the jump is: site + aw_skip */
	arch_window_t tr_win;	/* the window it stands for */
	uint8_t tr_orig[PT_TR_ORIG];	/* the window's original bytes */
	uint8_t tr_jump[PT_TR_ORIG];	/* the patch written over them */
	uintptr_t tr_slot;	/* the trampoline's code */
	size_t tr_size;		/* its slot's size */
	arch_tramp_t tr_t;	/* its layout (arch_tramp_build) */
	uint32_t tr_idx;	/* its counter pair in the shared page */
	bool tr_ownidx;		/* the pair is freed with this record */
	bool tr_trap;		/* built with a trap gate */
	bool tr_quick;		/* and a look at the returns table */
	bool tr_live;		/* its site's current trampoline */
	/*
	 * The short form: tr_jump is a jmp rel8 to a pad, ARCH_JMP_LEN
	 * bytes of padding near the site, holding a jmp rel32 here.  The
	 * pad is claimed while tr_padset (its bytes are ours): by the live
	 * record, or by a retired one whose pad a thread may still come
	 * back to (a signal frame's pc), restored by the sweep after.
	 */
	uintptr_t tr_pad;	/* 0: the usual jmp rel32 at the patch */
	uint8_t tr_padorig[ARCH_JMP_LEN];	/* the pad's original bytes */
	uint8_t tr_padjump[ARCH_JMP_LEN];	/* the jump written there */
	bool tr_padset;		/* tr_padjump is in the text */
} pt_tramp_t;

typedef struct pt_bkpt {
	uintptr_t pb_addr;	/* address of the planted int3 */
	uint8_t pb_orig;	/* the byte it replaced */
	int pb_refs;		/* users of the site (agent, client...) */
	arch_carry_t pb_carry;	/* how a hit is carried past the site */
	pt_ident_t pb_id;	/* what was mapped there when it was set */
	pt_tramp_t *pb_tr;	/* patched: its trampoline; NULL: an int3 */
	int pb_ntrap;		/* patched: users that want stops (the
				   others of pb_refs only count) */
	bool pb_entry;		/* patched: a function's first instruction */
} pt_bkpt_t;

/* A scratch area mapped into the tracee for out-of-line copies. */
typedef struct pt_xol_area {
	uintptr_t px_start;	/* page-aligned, PROT_READ|PROT_EXEC */
	size_t px_size;
	size_t px_used;		/* slots are handed out from the start */
} pt_xol_area_t;

/* A slot already written: a re-armed site reuses it. */
typedef struct pt_xol_slot {
	uintptr_t ps_site;	/* the site it carries; 0: free, its site's
				   text unmapped (reused by pt_xol_slot) */
	uint8_t ps_text[ARCH_INSN_MAX];	/* the site's instruction */
	uint8_t ps_len;
	uintptr_t ps_slot;	/* its copy's address */
} pt_xol_slot_t;

/*
 * Trampoline slots are handed out in size classes (xol.c); a freed slot
 * waits in its class's list for the next trampoline of that class.
 */
#define PT_TRAMP_NCLASS 3
typedef struct pt_tfree {
	uintptr_t *pf_slot;	/* addresses of free slots */
	int pf_n, pf_a;
	int pf_total;		/* slots of the class carved in the areas */
} pt_tfree_t;

struct pt_page;		/* page.c: our side of the shared page */

#define PT_EVQ_MAX 4096

struct pt_proc {
	pid_t pp_pid;		/* thread-group id */
	int pp_pidfd;		/* ties us to this process, not the pid */
	int pp_memfd;		/* /proc/PID/mem, reopened at exec */
	bool pp_created;	/* we forked it: kill on default release */
	bool pp_rdonly;		/* read-only grab: no tracee at all */
	/* atomic: the getters may be called from any thread */
	_Atomic pt_state_t pp_state;
	_Atomic pt_why_t pp_why; /* why stopped, when pp_state == STOPPED */
	int pp_status;		/* wait status once DEAD */
	bool pp_exit_told;	/* PT_EV_EXIT has been queued */
	bool pp_jobstop;	/* group stop reported, not yet continued */
	int pp_stopping;	/* > 0 while pt_gather() collects stops */
	bool pp_held;		/* the owner stopped it (pt_stop): nothing
				   restarts a thread until pt_resume() */
	unsigned pp_execs;	/* exec count: an image change under us */
	/*
	 * The slot clocks of the threads gone last (pt_thr_del), for
	 * returns they recorded without a stop and fired after they went
	 * (pt_tramp_vpost).
	 */
	struct { pid_t vg_tid; uint64_t vg_post; } pp_vgone[PT_VGONE];
	unsigned pp_nvgone;
	unsigned pp_memgen;	/* writes to its memory (pt_mem_write) */
	bool pp_lifted;		/* sites known but their int3s lifted */
	int pp_trap;		/* PT_TRAP_*: SIGTRAP's disposition */
	arch_ksigaction_t pp_trapact;	/* and, if not default, its action */
	char *pp_exe;		/* path of the current image */

	pt_thread_t *pp_thr;	/* tracees: threads and guests */
	int pp_nthr, pp_athr;

	pt_bkpt_t *pp_bp;	/* planted breakpoints, sorted by address */
	int pp_nbp, pp_abp;
	pt_bkpt_t *pp_gone;	/* removed sites and their bytes, sorted: a
				   trap taken there before removal is
				   rewound; a fork child whose copy still
				   holds the int3 gets the byte back */
	int pp_ngone, pp_agone;

	/*
	 * Patched sites (tramp.c).  Owner writes both arrays under
	 * pp_trlock; other threads read them under it.
	 */
	pt_tramp_t **pp_trl;	/* every trampoline, live or retired,
				   sorted by slot address */
	int pp_ntrl, pp_atrl;
	pt_tramp_t **pp_trs;	/* live ones, sorted by site */
	int pp_ntrs, pp_atrs;
	pthread_mutex_t pp_trlock;
	struct pt_tramp **pp_pads; /* the records of pp_trl with tr_padset */
	int pp_npad, pp_apad;
	int pp_vffree;		/* vfork children let go untraced that may
				   still run on this memory */
	pt_fork_f *pp_fork_fn;	/* pt_set_fork_hook */
	void *pp_fork_arg;
	bool pp_follow;		/* children parked for owners of their own
				   (follow.c), not let go */
	bool pp_systrace;	/* threads run to system-call stops
				   (systrace.c) */
	struct pt_tscan *pp_tscan; /* threads' pcs and stack words */

	pt_xol_area_t *pp_xol;	/* scratch areas, for this image */
	int pp_nxol;
	pt_xol_slot_t *pp_slots; /* slots written, in any order */
	int pp_nslots, pp_aslots;
	pt_tfree_t pp_tfree[PT_TRAMP_NCLASS];	/* freed trampoline slots */
	struct pt_page *pp_page; /* the shared page of this image, or NULL */
	void *pp_page_kept;	/* our view of the last image's page, kept
				   after its exec (pt_page_retire) */
	uintptr_t pp_entry;	/* AT_ENTRY of this image, 0 unknown */
	uintptr_t pp_stub;	/* the resume stub last found (inject.c),
				   0 none known */
	bool pp_stub_none;	/* no area of ours in its maps: none
				   inherited, so only pp_xol may have one */
	pt_map_t *pp_maps;	/* the maps when last read (unmap.c): what
				   a new site's address maps */
	size_t pp_nmaps;

	pt_event_t *pp_evq;	/* events for the owner, FIFO ring */
	int pp_evhead, pp_evlen;

	pt_wake_t *pp_wake;	/* owner's wake-up, or NULL */
	pt_spin_t pp_spin;	/* polling before blocking, or not */
	pthread_t pp_owner;	/* the only thread allowed ptrace requests */
	struct pt_proc *pp_next; /* owner's list of processes */
};

/* proc.c */
pt_proc_t *pt_proc_alloc(pid_t pid);
void pt_proc_free(pt_proc_t *P);
int pt_proc_open_mem(pt_proc_t *P, int rdonly);
pt_thread_t *pt_thr_find(pt_proc_t *P, pid_t tid);
pt_thread_t *pt_thr_add(pt_proc_t *P, pid_t tid, unsigned flags);
void pt_thr_del(pt_proc_t *P, pid_t tid);
void pt_update_state(pt_proc_t *P);
void pt_owner_add(pt_proc_t *P);
void pt_owner_del(pt_proc_t *P);

/* wait.c */
long pt_ptrace(int req, pid_t tid, void *addr, void *data);
void pt_evq_push(pt_proc_t *P, const pt_event_t *ev);
int pt_collect(int block);
void pt_redispatch(pid_t tid, int status);
/* Stops collected early, for the dispatcher to take in order. */
void pt_later_put(pid_t tid, int status);
int pt_later_take(pid_t tid, int *status);
void pt_later_drop(pid_t tid);
int pt_is_stopsig(int sig);
int pt_wait_tid(pid_t tid, int *status);
int pt_restart(pt_proc_t *P, pt_thread_t *T);
void pt_sysstop(pt_proc_t *P, pt_thread_t *T);
void pt_resume_internal(pt_proc_t *P, pid_t keep);

int pt_gather(pt_proc_t *P, pt_why_t why);

/* spin.c */
int pt_collect_wait(pt_proc_t *P);

/* bkpt.c */
pt_bkpt_t *pt_bkpt_find(pt_proc_t *P, uintptr_t addr);
int pt_bkpt_lower(const pt_proc_t *P, uintptr_t addr);
int pt_gone_find(pt_proc_t *P, uintptr_t addr);
int pt_bkpt_remove_all(pt_proc_t *P);
void pt_bkpt_reset(pt_proc_t *P);
int pt_bkpt_clean_child(pt_proc_t *P, pid_t child);

/* bkpt.c: a site's record in, or out (nothing written) */
int pt_bkpt_insert(pt_proc_t *P, const pt_bkpt_t *e);
void pt_bkpt_forget(pt_proc_t *P, uintptr_t addr);

/*
 * tramp.c, the core's side of patched sites.  pt_tramp_hit: is PC a
 * trampoline's stop point (where its gate's thread stops, just past the
 * system call that sends it ARCH_TRAMP_SIG)?  1: its site's live
 * trampoline (*SITE set), 2: a retired one (pass it silently), 0:
 * neither.  pt_tramp_sig: was SI, a signal-delivery stop's, sent by a
 * gate (ARCH_TRAMP_SIG, tgkill by the process to itself)?  Both must
 * hold for a stop to be a gate's.  pt_tramp_inside: is PC in one of our
 * trampolines?
 */
int pt_tramp_hit(const pt_proc_t *P, uintptr_t pc, uintptr_t *site);
bool pt_tramp_sig(const pt_proc_t *P, const siginfo_t *si);
/* Both, for T's signal-delivery stop of SI: as pt_tramp_hit. */
int pt_tramp_gate(const pt_proc_t *P, pt_thread_t *T, const siginfo_t *si,
    uintptr_t *site);
/* T stands at a stop point, its gate's signal sent but not yet taken. */
bool pt_tramp_pending(const pt_proc_t *P, pt_thread_t *T);
bool pt_tramp_inside(const pt_proc_t *P, uintptr_t pc);
/* A site's last user went (or every site goes): bytes back. */
int pt_tramp_remove(pt_proc_t *P, uintptr_t addr);
/* B's text went (prune): its trampoline retired, nothing written. */
void pt_tramp_forget(pt_proc_t *P, pt_bkpt_t *B);
void pt_tramp_reset(pt_proc_t *P);	/* exec: the image is gone */
void pt_tramp_free(pt_proc_t *P);	/* pt_proc_free */
/* A fork child's copy (/proc/CHILD/mem open as FD): windows back. */
int pt_tramp_clean_child(pt_proc_t *P, int fd);
/*
 * Release, every thread stopped, every site restored and the threads
 * out of the areas (pt_xol_fini): the page let go, unmapped in the
 * tracee too if the areas went.
 */
void pt_tramp_fini(pt_proc_t *P);
/*
 * Every thread stopped: has one its pc, or a word of its stack, in
 * [LO, HI)?  *WHO gets its tid.
 */
bool pt_tramp_used(pt_proc_t *P, uintptr_t lo, uintptr_t hi, pid_t *who);
/* The original bytes of pads in [ADDR, ADDR+N) put into BUF. */
void pt_tramp_text_pads(const pt_proc_t *P, uintptr_t addr, uint8_t *buf,
    size_t n);
/* Pads left jumping to a retired trampoline (release keeps the areas). */
bool pt_tramp_pinned(const pt_proc_t *P);
/* -EAGAIN (reason set) while an untraced vfork child may run. */
int pt_edit_ok(pt_proc_t *P, const char *what);
/* At a vfork: may the child go at once, untraced?  (no int3 site) */
bool pt_tramp_vfork_free(const pt_proc_t *P);

/* unmap.c */
void pt_ident_of(pt_proc_t *P, uintptr_t addr, bool fresh, pt_ident_t *id);
bool pt_ident_same(const pt_ident_t *a, const pt_ident_t *b);
void pt_maps_forget(pt_proc_t *P);

/* regs.c */
/* Bumped each time a thread's registers may change or it may run. */
extern __thread unsigned pt_flushgen;
int pt_thr_regs(pt_thread_t *T, arch_regs_t *regs);
void pt_thr_flush(pt_thread_t *T);

/*
 * step.c: run thread TID once (see step.c).  HOW: PT_RUN_STEP (else
 * continue), PT_RUN_PASS (every signal delivered at once, else the
 * victim's are held for pt_unhold), PT_RUN_EVENTS (event stops returned
 * undispatched), PT_RUN_COLLECT (it runs already: only collect).  0 with
 * *RAN filled, or -errno if it could not be restarted.
 */
#define PT_RUN_STEP	0x1
#define PT_RUN_PASS	0x2
#define PT_RUN_EVENTS	0x4
#define PT_RUN_COLLECT	0x8
#define PT_RUN_SYSCALL	0x10	/* restart with PTRACE_SYSCALL */
#define PT_RUN_EVSTOP	0x20	/* an interrupt or group stop returned */

typedef enum pt_ran_kind {
	PT_RAN_STEP,	/* the single step completed */
	PT_RAN_TRAP,	/* a trap instruction: pc just past it */
	PT_RAN_FAULT,	/* a synchronous fault, owed (pt_sig, pt_info) */
	PT_RAN_EVENT,	/* a ptrace event stop (pr_status) */
	PT_RAN_GONE,	/* the thread died (pr_status, if seen) */
	PT_RAN_SYSCALL,	/* PT_RUN_SYSCALL: a system call's entry or exit */
	PT_RAN_EVSTOP	/* PT_RUN_EVSTOP: an interrupt or group stop */
} pt_ran_kind_t;

typedef struct pt_ran {
	pt_ran_kind_t pr_kind;
	int pr_status;		/* the wait status of the last stop */
	siginfo_t pr_info;	/* TRAP, STEP, FAULT: its siginfo */
} pt_ran_t;

int pt_run(pt_proc_t *P, pid_t tid, unsigned how, pt_ran_t *ran);
void pt_unhold(pt_proc_t *P, pid_t tid);

/* xol.c */
void pt_xol_reset(pt_proc_t *P);
void pt_xol_free(pt_proc_t *P);	/* our memory, at pt_proc_free */
uintptr_t pt_xol_stub(pt_proc_t *P);	/* 0: no resume stub in it */
void pt_xol_stub_near(pt_proc_t *P, uintptr_t near);
bool pt_xol_stub_in(pid_t pid, uintptr_t stub);
bool pt_thr_shstk(pt_proc_t *P, pt_thread_t *T);
int pt_xol_fini(pt_proc_t *P);
/* SITE's text is gone: its slots may carry another site's copy. */
void pt_xol_release(pt_proc_t *P, uintptr_t site);
/* The site whose out-of-line copy starts at PC, or 0. */
uintptr_t pt_xol_site(const pt_proc_t *P, uintptr_t pc);
/* T, stopped by fault SIG raised in a copy: shown at its site instead. */
void pt_xol_fault(pt_proc_t *P, pt_thread_t *T, int sig);
/* Step TID out of our scratch areas, the signal it owes kept for after:
   1 out, 0 it was not in one, -1 it could not leave (or is gone). */
int pt_xol_out(pt_proc_t *P, pid_t tid);

/* trapsig.c: learn SIGTRAP's disposition; put it back after a hit */
void pt_trapsig_learn(pt_proc_t *P, pid_t keep);
void pt_trapsig_check(pt_proc_t *P, pid_t tid);
/*
 * SIGTRAP unblocked in stopped TID for a trap of ours (its old mask in
 * *MASK): true if it was blocked, and pt_trapsig_reblock() puts it back.
 */
bool pt_trapsig_unblock(pid_t tid, uint64_t *mask);
void pt_trapsig_reblock(pid_t tid, uint64_t mask);
/* After single steps of TID: an ignored SIGTRAP was reset by them. */
void pt_trapsig_stepped(pt_proc_t *P, pid_t tid);

/*
 * page.c: the shared page of this image (see pt.h, "Patched sites").
 * Made at first use by calls injected on a stopped thread (KEEP, or
 * any): memfd_create, ftruncate, mmap, close; we map it through
 * /proc/PID/fd before that close and lock its owner mutex on the owner
 * thread.  Counters come in pairs (hits, missed), index IDX.
 */
int pt_page_get(pt_proc_t *P, pid_t keep);
int pt_page_counter(pt_proc_t *P, uint32_t *idx);
void pt_page_counter_free(pt_proc_t *P, uint32_t idx);
uintptr_t pt_page_counter_addr(const pt_proc_t *P, uint32_t idx);
/* Our view of counter pair IDX (hits, then missed); any thread. */
const _Atomic uint64_t *pt_page_counter_local(const pt_proc_t *P,
    uint32_t idx);
uintptr_t pt_page_owner_word(const pt_proc_t *P);
/* The returns table (our view; *AT the tracee's), or NULL: no page. */
arch_quick_t *pt_page_quick(const pt_proc_t *P, uintptr_t *at);
/* TID as the process's own pid namespace has it (getpid, gettid). */
pid_t pt_nsid(const pt_proc_t *P, pid_t tid);
uintptr_t pt_page_pid_word(const pt_proc_t *P);
/* The pid the page holds (the process's getpid()), or 0: no page. */
pid_t pt_page_pid(const pt_proc_t *P);
/* The table a later run reads: a site patched (its original bytes). */
int pt_page_record(pt_proc_t *P, uintptr_t patch, const uint8_t *orig,
    size_t len, uintptr_t tramp);
/* A short jump's entry: jmp rel8 from PATCH to the pad PAD (LEN bytes). */
int pt_page_record_short(pt_proc_t *P, uintptr_t patch, const uint8_t *orig,
    size_t len, uintptr_t pad);
void pt_page_unrecord(pt_proc_t *P, uintptr_t patch);
/*
 * At a grab, every thread stopped: a page left by a run that died (its
 * owner word says so) is found in the maps, and each site of its table
 * whose bytes are still the jump it recorded gets its original bytes
 * back.  Its trampolines stay mapped (a thread may be inside one; they
 * jump back to the same text).  Count of sites restored, or -errno.
 */
int pt_page_adopt(pt_proc_t *P);
/* Let go: unlock the owner mutex, unmap (in the tracee if UNMAP too). */
void pt_page_release(pt_proc_t *P, bool unmap);
/* The image is gone (exec, exit): our side only. */
void pt_page_drop(pt_proc_t *P);
/*
 * At an exec: as pt_page_drop, but our view stays mapped (the previous
 * one kept is unmapped) until the next exec or pt_page_drop, so that
 * pointers from pt_page_counter_local of the old image still read its
 * final counts (the control layer folds them at the EXEC event) and a
 * client thread reading one meanwhile reads memory, not a hole.
 */
void pt_page_retire(pt_proc_t *P);

/*
 * xol.c: trampoline slots, LEN bytes (<= ARCH_TRAMP_MAX) within a rel32
 * of NEAR, reused once freed.
 */
uintptr_t pt_tramp_slot(pt_proc_t *P, uintptr_t near, size_t len,
    pid_t keep);
void pt_tramp_slot_free(pt_proc_t *P, uintptr_t slot, size_t len);

/* grab.c */
int pt_seize_opts(void);
int pt_is_our_thread(pid_t pid);	/* a thread of this process? */

/* share.c: sharers of the memory and threads in vfork, at a grab */
int pt_sharers_pass(pt_proc_t *P);
void pt_vfork_mark(pt_proc_t *P);
int pt_grab_stop(pt_proc_t *P);

/* wake.c: the wake signal, its do-nothing handler installed */
int pt_wake_signal(void);

/* diag.c: reasons read from /proc for refusals */
int pt_proc_stat(pid_t pid, char *state, unsigned long *flags);
pid_t pt_status_field(pid_t pid, pid_t tid, const char *field);
int pt_status_text(pid_t pid, pid_t tid, const char *field, char *buf,
    size_t len);
int pt_sig_pending(pid_t pid, pid_t tid, int sig);
void pt_comm(pid_t pid, char *buf, size_t len);

#define PT_ASSERT_OWNER(P) \
	assert(pthread_equal((P)->pp_owner, pthread_self()))

#endif /* DTPROC_PT_IMPL_H */
