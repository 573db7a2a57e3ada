/*
 * pt.h - the ptrace core: one traced (or read-only) process.
 *
 * A pt_proc_t is owned by the thread that created or grabbed it: Linux lets
 * only the attaching thread issue ptrace requests and collect its tracees'
 * stops (the owner waits with __WNOTHREAD).  Every pt_* call that touches
 * the tracee must therefore run on the owner; the exceptions, callable from
 * any thread, are pt_mem_read(), pt_maps_read(), pt_wake_post() and the
 * plain getters.  Other threads reach the owner through a pt_wake_t (see
 * wake.c): the owner's blocking pt_wait() returns -EINTR when woken.
 *
 * Model.  Threads run independently ("non-stop"): an event stops one
 * thread, pt_wait() reports it, and pt_resume_thread() or pt_resume()
 * lets it go.  pt_stop() brings every thread to a ptrace stop (the
 * reference's whole-process stop); events collected meanwhile are queued
 * and reported by later pt_wait() calls, in arrival order.
 *
 * Errors: functions return 0 or a negative code (errno or DTPROC_E*) and
 * record a message naming the pid and the reason as the calling thread's
 * last error (src/err: err_code(), err_msg()).
 */
#ifndef DTPROC_PT_H
#define DTPROC_PT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/arch.h"

#include "err/err.h"

/* The reference's Pstate() values. */
typedef enum pt_state {
	PT_RUNNING,	/* at least one thread may run */
	PT_STOPPED,	/* every thread is in a stop; pt_why() says which */
	PT_LOST,	/* still alive but no longer observable by us */
	PT_DEAD		/* exited or killed; pt_exit_status() tells how */
} pt_state_t;

/* Why a stopped process is stopped (meaningful in PT_STOPPED). */
typedef enum pt_why {
	PT_WHY_NONE,
	PT_WHY_EVENT,		/* created, grabbed, exec, fork...: our stop */
	PT_WHY_BREAKPOINT,	/* a thread hit one of our breakpoints */
	PT_WHY_REQUESTED,	/* pt_stop() by a client */
	PT_WHY_JOBCONTROL	/* SIGSTOP/SIGTSTP/... from outside */
} pt_why_t;

/*
 * Events reported by pt_wait().  Where pe_stopped is 1, thread pe_tid is
 * left in a ptrace stop for the owner, who must let it go with
 * pt_resume_thread() or pt_resume() (after pt_bkpt_step() for a
 * breakpoint).  A SIGNAL event's signal is delivered on that resume.
 */
typedef enum pt_event_kind {
	PT_EV_NONE,
	PT_EV_THREAD_NEW,	/* pe_tid (stopped) created thread pe_child */
	PT_EV_THREAD_EXIT,	/* pe_tid exited; pe_status its wait status */
	PT_EV_FORK,		/* pe_tid (stopped) forked pe_child, which is
				   released clean and untraced; parked for
				   another owner (pe_park) when following */
	PT_EV_VFORK,		/* pe_tid (stopped) vforked or posix_spawned
				   pe_child; it shares our memory, so it
				   stays traced until its exec or exit
				   (pe_free 0), or, with no int3 site to
				   run into, it was let go at once
				   (pe_free 1: sites cannot be edited until
				   pe_tid's VFORK_DONE) */
	PT_EV_VFORK_DONE,	/* pe_tid (stopped): its vfork child let go */
	PT_EV_EXEC,		/* pe_tid (stopped, == pid) runs a new image;
				   pe_former_tid called execve */
	PT_EV_SIGNAL,		/* pe_tid (stopped) received pe_sig */
	PT_EV_JOBSTOP,		/* group stopped by pe_sig from outside */
	PT_EV_JOBCONT,		/* group continued by SIGCONT */
	PT_EV_BREAKPOINT,	/* pe_tid (stopped, pc rewound) hit the
				   breakpoint at pe_addr */
	PT_EV_EXIT,		/* process gone; pe_status its wait status */
	PT_EV_LOST,		/* control lost: exec of an unreadable image */
	PT_EV_FOLLOW,		/* a guest (vfork child) exec'd while
				   following: parked in pe_park (not
				   stopped, not ours any more) */
	PT_EV_SYSCALL		/* pe_tid (stopped) at the exit of system
				   call pe_sysnr (arguments pe_sysargs,
				   result pe_sysret), while pt_set_systrace
				   is on */
} pt_event_kind_t;

/*
 * A process let go by its tracer thread for another to seize (follow.c):
 * every signal blocked, waiting in the code of its park page, which puts
 * back pk_regs and pk_mask by itself if nobody comes in time.  pk_pid 0:
 * none.
 */
typedef struct pt_park {
	pid_t pk_pid;
	uintptr_t pk_pc;	/* where it goes on */
	uintptr_t pk_page;	/* its park page (ARCH_PARK_SIZE bytes) */
	uint64_t pk_mask;	/* its signal mask, to give back */
	arch_regs_t pk_regs;	/* its registers, to give back */
	uint64_t pk_t0;		/* CLOCK_MONOTONIC ns when its park began */
	uintptr_t pk_stub;	/* the resume stub it inherited, or 0 */
} pt_park_t;

typedef struct pt_event {
	pt_event_kind_t pe_kind;
	pid_t pe_tid;		/* thread concerned */
	pid_t pe_child;		/* THREAD_NEW/FORK/VFORK: new tid or pid */
	pid_t pe_former_tid;	/* EXEC: tid that called execve */
	int pe_sig;		/* SIGNAL/JOBSTOP: signal number */
	int pe_status;		/* EXIT/THREAD_EXIT: wait(2) status */
	uintptr_t pe_addr;	/* BREAKPOINT: address of the int3 */
	int pe_stopped;		/* 1 if pe_tid is left stopped for us */
	int pe_free;		/* VFORK: pe_child runs untraced */
	pt_park_t pe_park;	/* FORK, FOLLOW: the child, parked */
	long pe_sysnr;		/* SYSCALL: the call's number, */
	unsigned long pe_sysargs[6];	/* its arguments, */
	long pe_sysret;		/* and its result (-errno on failure) */
} pt_event_t;

typedef struct pt_proc pt_proc_t;

/* pt_create/pt_grab flags. */
#define PT_GRAB_RDONLY	0x1	/* no tracing, no stop: memory and maps */
#define PT_GRAB_NOSTOP	0x2	/* seize but leave running (no GRAB stop) */

/*
 * Create: run FILE (searched in PATH when it has no '/') with ARGV and
 * ENVP (NULL: our environment), stopped at its exec, traced with
 * EXITKILL.  SIGMASK, if not NULL, is the child's signal mask (the owner
 * thread's own mask otherwise leaks into it).
 */
int pt_create(const char *file, char *const argv[], char *const envp[],
    const sigset_t *sigmask, pt_proc_t **pp);

/* Grab: seize every thread and stop them all (unless NOSTOP/RDONLY). */
int pt_grab(pid_t pid, int flags, pt_proc_t **pp);

/* Release modes, the reference's Prelease() flags. */
typedef enum pt_release {
	PT_RELEASE_DEFAULT,	/* kill if created, run if grabbed, hang if
				   stopped by job control */
	PT_RELEASE_KILL,	/* SIGKILL and reap */
	PT_RELEASE_RUN,		/* breakpoints out, detach, running */
	PT_RELEASE_HANG		/* breakpoints out, detach, left stopped */
} pt_release_t;

/* Release and free.  Always frees P; returns 0 or -errno of a step. */
int pt_release(pt_proc_t *P, pt_release_t how);

/* Getters (any thread). */
pid_t pt_pid(const pt_proc_t *P);
pt_state_t pt_state(const pt_proc_t *P);
pt_why_t pt_why(const pt_proc_t *P);
int pt_created(const pt_proc_t *P);
int pt_rdonly(const pt_proc_t *P);
int pt_exit_status(const pt_proc_t *P);	/* wait(2) status once DEAD */
/* The calling thread's last error message (err_msg()); P is unused. */
int pt_nthreads(const pt_proc_t *P);
/* Is the process this handle was made for still there (pidfd)? */
int pt_alive(const pt_proc_t *P);
/* Thread ids from /proc/PID/task, no control needed: how many, or < 0. */
int pt_tasks(pid_t pid, pid_t *tids, int max);
/* The pidfd tying P to its process, or -1 (kernel without pidfds). */
int pt_pidfd(const pt_proc_t *P);
/* Is the calling thread P's owner (so that P cannot run meanwhile)? */
int pt_is_owner(const pt_proc_t *P);
int pt_threads(const pt_proc_t *P, pid_t *tids, int max);
const char *pt_exe(const pt_proc_t *P);	/* path of the current image */

/*
 * Wait for the next event.  BLOCK 0 polls, 1 blocks.  Returns 1
 * with *EV filled, 0 when polling found nothing, -EINTR when woken (pt_wake_post) or
 * interrupted by a signal, -ESRCH when the process is gone and every
 * event has been reported (PT_EV_EXIT comes once, before that).
 */
int pt_wait(pt_proc_t *P, pt_event_t *ev, int block);

/*
 * Stop every thread (PT_WHY_REQUESTED unless WHY says otherwise) and
 * resume them.  pt_resume() restarts each thread with the signal it
 * is owed; job-control stopped threads stay stopped (PTRACE_LISTEN).
 */
int pt_stop(pt_proc_t *P, pt_why_t why);
/*
 * While P rests stopped (pt_stop): block collecting stops until the
 * owner is woken (-EINTR) or the process dies or is lost (-ESRCH; its
 * EXIT or LOST event then comes from pt_wait()).  A process killed while
 * it rests parks its threads in exit stops that only its tracer ends,
 * and its pidfd turns readable only after that: the owner must collect
 * rather than sleep.  Stops collected meanwhile are queued as events.
 */
int pt_rest(pt_proc_t *P);
int pt_resume(pt_proc_t *P);
int pt_resume_thread(pt_proc_t *P, pid_t tid);

/* Memory.  Reads work from any thread and on read-only handles. */
ssize_t pt_mem_read(pt_proc_t *P, uintptr_t addr, void *buf, size_t len);
ssize_t pt_mem_write(pt_proc_t *P, uintptr_t addr, const void *buf,
    size_t len);

/* Registers of a stopped thread (owner only). */
int pt_regs_get(pt_proc_t *P, pid_t tid, arch_regs_t *regs);
int pt_regs_set(pt_proc_t *P, pid_t tid, const arch_regs_t *regs);

/* Mappings, from /proc/PID/maps. */
typedef struct pt_map {
	uintptr_t pm_start, pm_end;
	uint64_t pm_offset;
	int pm_prot;		/* PROT_READ|PROT_WRITE|PROT_EXEC */
	int pm_shared;
	dev_t pm_dev;
	ino_t pm_inode;
	char *pm_path;		/* "" for anonymous, "[vdso]", ... */
} pt_map_t;

int pt_maps_read(pid_t pid, pt_map_t **maps, size_t *nmaps);
void pt_maps_free(pt_map_t *maps, size_t nmaps);

/*
 * Breakpoints (the reference's Psetbkpt, Pdelbkpt, Pxecbkpt).  Set and
 * delete stop every thread around the edit.  pt_bkpt_step() carries TID,
 * stopped at a breakpoint, over the original instruction while every
 * other thread is stopped, so nobody passes the site unseen, and leaves
 * TID stopped after the instruction.
 */
/* A site set twice needs two deletes: its users are counted. */
int pt_bkpt_set(pt_proc_t *P, uintptr_t addr);
int pt_bkpt_del(pt_proc_t *P, uintptr_t addr);
int pt_bkpt_step(pt_proc_t *P, pid_t tid);
int pt_bkpt_count(const pt_proc_t *P);
/* Lift every site (text pristine) or plant them again; sites stay known. */
int pt_bkpt_lift(pt_proc_t *P);
int pt_bkpt_replant(pt_proc_t *P);
int pt_bkpt_orig(const pt_proc_t *P, uintptr_t addr, uint8_t *byte);
/*
 * Sites die with their mapping.  pt_bkpt_prune() reads the maps and
 * forgets every site (and removed site) whose address no longer maps
 * what it mapped when the site was set (dlclose, munmap, another object
 * there since): nothing is written, the text is not ours.  Their slots
 * are freed for reuse.  *GONE (malloc'd, may be NULL when *NGONE is 0)
 * gets the addresses of the live sites forgotten, for the layers above
 * to forget their users.  0 or -errno.  pt_bkpt_set_renew() is
 * pt_bkpt_set() telling in *RENEWED that it found such a stale site at
 * ADDR and made a new one there: the old site's users are gone too.
 */
int pt_bkpt_prune(pt_proc_t *P, uintptr_t **gone, int *ngone);
int pt_bkpt_set_renew(pt_proc_t *P, uintptr_t addr, bool *renewed);
/*
 * The objects changed (the run-time linker's consistency point): the
 * maps kept for the identity of new sites are read again at the next
 * set, so a site set before the next prune records what its address
 * maps now, not what an earlier snapshot (maybe taken half-way through
 * the load) said.  Owner only.
 */
void pt_maps_refresh(pt_proc_t *P);

/*
 * Carrying a thread past a site in one stop.  The int3 stays planted; the
 * thread that hit it is moved on as if it had run the original
 * instruction, by the site's plan (arch_carry_t, see src/arch/arch.h):
 * emulated, or run from a relocated copy (XOL) that jumps back.  The
 * probes layer has the instruction decoded and sets the plan; a site
 * without one is single-stepped with every other thread stopped.
 */
/* The plan of a site, and a new one (owner only). */
int pt_bkpt_carry(const pt_proc_t *P, uintptr_t addr, arch_carry_t *c);
int pt_bkpt_set_carry(pt_proc_t *P, uintptr_t addr, const arch_carry_t *c);
/* The original text at ADDR, every planted int3 in it undone. */
ssize_t pt_text_read(pt_proc_t *P, uintptr_t addr, void *buf, size_t len);

/*
 * Scratch memory in the tracee for out-of-line copies.  pt_xol_slot()
 * returns the address of a LEN-byte slot within +-2 GB of NEAR (for
 * pc-relative operands), mapping a new area if need be (thread KEEP, if
 * nonzero, stays stopped meanwhile), or 0 and an errno.  pt_xol_find() looks for a slot written before for the same
 * site and instruction, pt_xol_keep() records one.
 */
uintptr_t pt_xol_slot(pt_proc_t *P, uintptr_t near, size_t len, pid_t keep);
uintptr_t pt_xol_find(pt_proc_t *P, uintptr_t site, const uint8_t *text,
    size_t len);
int pt_xol_keep(pt_proc_t *P, uintptr_t site, const uint8_t *text,
    size_t len, uintptr_t slot);
/* Is ADDR inside one of our scratch areas? */
int pt_xol_contains(const pt_proc_t *P, uintptr_t addr);

/*
 * Run system call NR with ARGS in the tracee, on a thread of its (KEEP
 * if nonzero, which stays stopped), every other thread stopped meanwhile;
 * *RET gets its return value.  0, or -errno if it could not be run.
 */
/*
 * pt_syscall_mem: the same, argument BUFARG pointing at a copy of LEN
 * bytes of BUF in the tracee (below the runner's stack), copied back.
 */
int pt_syscall_mem(pt_proc_t *P, pid_t keep, long nr, const long args[6],
    int bufarg, void *buf, size_t len, long *ret);
int pt_syscall(pt_proc_t *P, pid_t keep, long nr, const long args[6],
    long *ret);

/*
 * Wake-ups across threads.  The owner calls pt_wake_init() once; any
 * thread may pt_wake_post(), which returns once the owner has seen it
 * (pt_wake_pending() then pt_wake_ack()), re-sending the signal until
 * then so that a post landing just before the owner blocks is not lost.
 */
typedef struct pt_wake pt_wake_t;
pt_wake_t *pt_wake_init(void);
void pt_wake_fini(pt_wake_t *w);
void pt_wake_post(pt_wake_t *w);
void pt_wake_kick(pt_wake_t *w);
int pt_wake_pending(pt_wake_t *w);
void pt_wake_ack(pt_wake_t *w);
void pt_set_wake(pt_proc_t *P, pt_wake_t *w);

/*
 * Following children (follow.c).  With FOLLOW set, a fork child (cleaned
 * of our sites) and a vfork child at its exec are parked rather than let
 * go (pt_park, INSYS at the exec stop), for a new owner thread to take:
 * pt_grab() it, then pt_unpark() at once (1: it had gone on by itself,
 * untraced, before it was taken; HOLD(ARG), if set, runs between its
 * mask's return and its registers', a test's hold).  pt_park_undo()
 * gives a parked child back its mask and registers and lets it go, from
 * any thread, when no owner could take it.
 */
void pt_set_follow(pt_proc_t *P, bool on);
/*
 * FN(ARG, CHILD) on the owner at each fork child's first stop (not a
 * vfork's or a sharer's: their memory is ours), once our sites are out of
 * its copy and before it is let go or parked: what a client raised in the
 * parent's private memory (USDT semaphores) is still raised in the
 * child's copy, which the hook may write through /proc/CHILD/mem.
 */
typedef void pt_fork_f(void *arg, pid_t child);
void pt_set_fork_hook(pt_proc_t *P, pt_fork_f *fn, void *arg);
/*
 * System-call exit stops (systrace.c).  With ON, the process's threads
 * run under PTRACE_SYSCALL and each exit of a system call is a
 * PT_EV_SYSCALL event, the thread stopped at it (where a call may be
 * injected: the kernel is done with the thread's own).  Off, they run
 * as before and pay nothing.  Owner.
 */
void pt_set_systrace(pt_proc_t *P, bool on);
int pt_park(pid_t child, bool insys, uintptr_t stub, pt_park_t *pk);
int pt_unpark(pt_proc_t *P, const pt_park_t *pk, void (*hold)(void *),
    void *arg);
void pt_park_undo(const pt_park_t *pk);
/* Owner: its wait interrupted every MS ms (0 stops it); see wake.c. */
int pt_wake_every(pt_wake_t *w, long ms);

/*
 * Patched sites (tramp.c, page.c).  A site may be carried by a
 * trampoline instead of an int3: the window of instructions at the
 * site (decoded by the probes layer, arch_window) is replaced by a jump
 * to code in a scratch area that counts the hit in P's shared page and,
 * for a trap site, stops the thread at a trap of its own (reported as a
 * PT_EV_BREAKPOINT at the site, its thread resumed where it stopped:
 * pt_bkpt_step() has nothing to do).  Counting sites never stop.
 *
 * The shared page is a memfd the tracee maps (made there by injected
 * calls) and we map too: a header (magic, the pid it belongs to, a
 * process-shared robust mutex held by the owner thread while it lives,
 * the table of patched sites for a later run), then the counters.  The
 * kernel marks the mutex's word owner-died when the owner thread dies,
 * and a trampoline's trap is skipped from then on.
 *
 * pt_tramp_set: like pt_bkpt_set (users counted, every thread stopped
 * around the edit) for a site whose window W the caller decoded and
 * checked (function bounds, branches into the window, indirect jumps).
 * FLAGS: PT_TRAMP_TRAP (hits stop), PT_TRAMP_ENTRY (ADDR is a function's
 * first instruction).  A site armed before with another kind is rebuilt
 * (a trap site stays one while any user wants stops).  -EBUSY with the
 * reason as last error when a thread's pc or a word on a thread's stack
 * lies inside the window (try again later, or use an int3), but for a
 * stopped thread at the start of one of its instructions, moved into
 * the trampoline's copy of it as the site is patched; -EEXIST
 * when ADDR is an int3 site for other users and FLAGS has no TRAP.
 */
#define PT_TRAMP_TRAP	0x1
#define PT_TRAMP_ENTRY	0x2
#define PT_TRAMP_TAKE	0x4	/* ADDR's int3 site serves only the caller's
				   counting users: convert it (they count) */
int pt_tramp_set(pt_proc_t *P, uintptr_t addr, const arch_window_t *w,
    int flags);
/*
 * pt_tramp_set_pad: the short form (arch_window_short), for a window W
 * of ARCH_SHORT_LEN to ARCH_JMP_LEN - 1 bytes: the window gets a jmp
 * rel8 to PAD, ARCH_JMP_LEN bytes of padding the caller found (between
 * two functions, nothing branches there), and PAD a jmp rel32 to the
 * trampoline.  Written trampoline, pad, then the short jump; undone
 * short jump first.  -EADDRINUSE when PAD is another site's pad, meets
 * a site's window, or holds a thread's pc or a word of its stack (try
 * another pad); -ERANGE when the rel8 cannot reach it; otherwise as
 * pt_tramp_set.  A site already patched takes the user whatever W and
 * PAD say.  pt_tramp_set is this with PAD 0 (the usual jmp rel32).
 */
int pt_tramp_set_pad(pt_proc_t *P, uintptr_t addr, const arch_window_t *w,
    uintptr_t pad, int flags);
/* One user less (pt_bkpt_del works too): restored at the last one. */
int pt_tramp_del(pt_proc_t *P, uintptr_t addr, int flags);
/* Is ADDR a patched site (1), an int3 site (0), or unknown (-ENOENT)? */
int pt_site_kind(const pt_proc_t *P, uintptr_t addr);
/*
 * The counters of a patched site, from any thread, without stopping the
 * tracee: hits, and traps skipped (SIGTRAP blocked or ignored by the
 * thread, the page not its process's, no tracer).  0 or -ENOENT.
 */
int pt_tramp_count(pt_proc_t *P, uintptr_t addr, uint64_t *hits,
    uint64_t *missed);
/*
 * Our view of a patched site's counter pair (hits, then missed), for a
 * client to read at any time without a call into the core: owner thread
 * only; valid until the site is deleted, pruned or reset, or P released.
 * After a prune the pair keeps its count until a new site takes it;
 * after an exec (reset) the old image's pairs stay mapped, with their
 * final counts, until the next exec or the release.  NULL if ADDR is not
 * a patched site.
 */
const _Atomic uint64_t *pt_tramp_counters(pt_proc_t *P, uintptr_t addr);
/*
 * The registers a thread stopped at a site had there: for a thread at a
 * trampoline's trap, rebuilt from what the trampoline saved; otherwise
 * its registers (pt_regs_get).
 */
int pt_regs_site(pt_proc_t *P, pid_t tid, arch_regs_t *regs);
/*
 * pt_mem_read of the stack near a thread TID stopped at a trampoline's
 * trap, from the words its stop read once (the site's return address
 * and arguments among them); any other range or thread reads memory.
 */
ssize_t pt_site_read(pt_proc_t *P, pid_t tid, uintptr_t addr, void *buf,
    size_t len);
/*
 * The victim's own clock around the gate stops of thread TID, stopped at
 * a trampoline's trap (CLOCK_MONOTONIC, ns; 0: unknown): *PRE its clock
 * at this trap, *POST the one it wrote as it left its previous gate stop
 * (0 the first time, or when that stop's write failed).  The thread is
 * resumed from this stop with its slot named (arch_tramp_slot), a
 * counter pair of the shared page held while the thread lives.  0; 1
 * when TID is stopped but not at a trap (*POST only: the slot is read
 * and cleared all the same); -errno when it is not stopped.
 */
int pt_tramp_clock(pt_proc_t *P, pid_t tid, uint64_t *pre, uint64_t *post);
/*
 * The slot's clock of thread TID as pt_tramp_clock would read it next
 * (its clock as it left its last gate stop, 0: unknown), not cleared.
 */
uint64_t pt_tramp_vpost(pt_proc_t *P, pid_t tid);
/* A struct timespec's two words as ns; 0 (unknown) for a bad one. */
static inline uint64_t
pt_ts_ns(uint64_t sec, uint64_t nsec)
{
	return nsec < 1000000000u ? sec * 1000000000u + nsec : 0;
}
/*
 * Returns recorded without a stop (arch.h, arch_quick_t): the current
 * image's table, our view of the shared page (ARCH_QUICK_N buckets),
 * read until the exec after next as counters are; NULL: no page yet.
 * pt_quick_ok: the site at ADDR is a trampoline that looks at the table
 * and has one user that wants stops (a bucket left pending when a second
 * one comes records its return all the same: that one call's).
 */
arch_quick_t *pt_quick_table(pt_proc_t *P);
bool pt_quick_ok(pt_proc_t *P, uintptr_t addr);
/* Thread TID as its own gettid() says (its pid namespace's), for a bucket. */
pid_t pt_quick_tid(pt_proc_t *P, pid_t tid);
/*
 * A pc inside one of our trampolines: the pc to show for it and how far
 * the stack pointer is below the site's (unwinding).  1 if PC is in
 * one, else 0.  Any thread.
 */
int pt_tramp_where(pt_proc_t *P, uintptr_t pc, uintptr_t *site_pc,
    size_t *depth);
/* Patched sites and int3 sites now armed (for -l, --json, the bench). */
int pt_tramp_nsites(const pt_proc_t *P);

/* Debug output, switched on by DTPROC_DEBUG. */
void pt_dprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* DTPROC_PT_H */
