/*
 * dtproc.h - DTrace's process-control layer for Linux.
 *
 * The only installed header of libdtproc.  Every exported name carries the
 * dtproc_ prefix; handles are opaque.  The model is illumos libdtrace's
 * dt_proc.c: a dtproc_t holds a hash of process handles by pid, with
 * reference counts and an LRU cache of read-only handles; each process
 * created or grabbed for control gets a control thread that owns it
 * (Linux lets only the attaching thread use ptrace), stops it at the
 * requested rendezvous and reports its death through notifications.
 *
 * Thread safety, as in the reference: the dtproc_t calls (open, close,
 * create, grab, release) are for one client thread.  A process handle may
 * be shared by client threads through dtproc_lock()/dtproc_unlock(); every
 * call on a handle takes that lock itself when the caller does not hold
 * it.  Callbacks run on the control thread, with the lock held.
 */
#ifndef DTPROC_H
#define DTPROC_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DTPROC_API __attribute__((visibility("default")))
#else
#define DTPROC_API
#endif

#define DTPROC_VERSION_MAJOR 0
#define DTPROC_VERSION_MINOR 4
#define DTPROC_VERSION_PATCH 0

/*
 * "MAJOR.MINOR.PATCH" of the library actually loaded (which may be newer
 * than the header a program was built with); a static string.
 */
DTPROC_API const char *dtproc_version(void);

/*
 * dtproc's own error codes, above the errno range.  Calls return them
 * negated, as they return -errno values; dtproc_errno() gives the code
 * (positive) and dtproc_errmsg() the sentence.  ENOTELF: dtproc_create of
 * a file that is neither ELF nor a #! script (execve's ENOEXEC).  ZOMBIE,
 * KTHREAD, SELF, TRACED: dtproc_grab refusals.  LOST, DEAD: calls on a
 * process whose control was lost (it exec'd a set-id or unreadable
 * program; or it was let go) or that has exited.
 */
enum {
	DTPROC_EBASE = 1000,
	DTPROC_ENOTELF = DTPROC_EBASE,	/* file is not an ELF object */
	DTPROC_EZOMBIE,			/* process is a zombie */
	DTPROC_EKTHREAD,		/* process is a kernel thread */
	DTPROC_ESELF,			/* process is dtproc itself */
	DTPROC_ETRACED,			/* process is traced by another */
	DTPROC_ELOST,			/* control of the process was lost */
	DTPROC_EDEAD,			/* the process has exited */
	DTPROC_EMAX
};

/* A sentence for an error code, positive or negative, errno or dtproc's. */
DTPROC_API const char *dtproc_strerror(int err);

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct dtproc dtproc_t;			/* the library handle */
typedef struct dtproc_proc dtproc_proc_t;	/* one process */

/* dtproc_create() stop: where a created process first rests. */
#define DTPROC_STOP_CREATE	0x01	/* at its exec: nothing has run */
#define DTPROC_STOP_GRAB	0x02	/* (grab's rendezvous) */
#define DTPROC_STOP_PREINIT	0x04	/* loaded, relocated, no constructor */
#define DTPROC_STOP_POSTINIT	0x08	/* constructors done, before main */
#define DTPROC_STOP_MAIN	0x10	/* at main's first instruction */
/*
 * With the stop, 0.4: follow the run-time linker's start-up, so that a
 * client arming probes in its dlactivity callback counts every call from
 * the first instruction (see dtproc(3), dtproc_create).
 */
#define DTPROC_CREATE_EXACT	0x100

/* dtproc_grab() flags. */
#define DTPROC_GRAB_RDONLY	0x01	/* no control: memory, maps, symbols */
#define DTPROC_GRAB_NOMONITOR	0x02	/* no control thread: read-only
					   access; cached only with RDONLY */

/*
 * dt_proc_init: the pid hash, the LRU limit (8, or $DTPROC_LRU_LIMIT) and
 * the environment for created processes (ours, unchanged: glibc has no
 * lazy loading for LD_NOLAZYLOAD to turn off).  NULL and *errp on failure.
 */
DTPROC_API dtproc_t *dtproc_open(int flags, int *errp);
/* dt_proc_fini: every handle released in its own mode. */
DTPROC_API void dtproc_close(dtproc_t *dtp);

/*
 * Run FILE (searched in PATH) with ARGV, stopped at STOP; returns with the
 * process resting there and its control thread idle, or NULL with
 * dtproc_errmsg() saying "failed to execute FILE: REASON" or "failed to
 * control pid N: ...".
 */
DTPROC_API dtproc_proc_t *dtproc_create(dtproc_t *dtp, const char *file,
    char *const argv[], int stop);
/* Grab a running process: the same pid gives the same handle. */
DTPROC_API dtproc_proc_t *dtproc_grab(dtproc_t *dtp, pid_t pid, int flags);
/*
 * Drop a reference; at zero the handle is destroyed (or cached).  Not
 * with the handle locked, nor from one of its callbacks.
 */
DTPROC_API void dtproc_release(dtproc_t *dtp, dtproc_proc_t *pr);
/* Resume a process resting at a rendezvous (not lost if early). */
DTPROC_API void dtproc_continue(dtproc_t *dtp, dtproc_proc_t *pr);
DTPROC_API void dtproc_lock(dtproc_t *dtp, dtproc_proc_t *pr);
DTPROC_API void dtproc_unlock(dtproc_t *dtp, dtproc_proc_t *pr);

/* Readable while a notice (a process died or was lost) is queued. */
DTPROC_API int dtproc_notify_fd(dtproc_t *dtp);
typedef void dtproc_notify_f(dtproc_t *dtp, dtproc_proc_t *pr,
    const char *msg, void *arg);
/* Call FN for each queued notice; returns how many. */
DTPROC_API int dtproc_handle_notify(dtproc_t *dtp, dtproc_notify_f *fn,
    void *arg);
/* Sleep until a notice is queued or TIMEOUT_MS pass (< 0: forever). */
DTPROC_API int dtproc_sleep(dtproc_t *dtp, int timeout_ms);

DTPROC_API pid_t dtproc_pid(const dtproc_proc_t *pr);
/*
 * The calling thread's last error: its code (positive: an errno value or
 * a DTPROC_E* code; 0 if none) and a sentence naming the pid or file and
 * the reason.  Kept per thread, not per dtproc_t: each client thread, and
 * each control thread's callbacks, read their own.  The string stays
 * valid until the thread's next failing call.
 */
DTPROC_API int dtproc_errno(dtproc_t *dtp);
DTPROC_API const char *dtproc_errmsg(dtproc_t *dtp);

/* The process's state, as the reference reads it. */
#define DTPROC_PS_RUN	1	/* running */
#define DTPROC_PS_STOP	2	/* stopped (at a rendezvous, or by someone) */
#define DTPROC_PS_LOST	3	/* control lost */
#define DTPROC_PS_DEAD	4	/* exited or killed */
DTPROC_API int dtproc_state(dtproc_t *dtp, dtproc_proc_t *pr);
/* Its wait(2) status once DEAD. */
DTPROC_API int dtproc_status(dtproc_t *dtp, dtproc_proc_t *pr);

/* Memory: read from any thread, no stop needed.  Bytes read, or -errno. */
DTPROC_API ssize_t dtproc_read(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr, void *buf, size_t len);
/* Write (text included); a controlled process only.  Bytes, or -errno. */
DTPROC_API ssize_t dtproc_write(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr, const void *buf, size_t len);

/*
 * What a symbol lookup found.  The strings stay valid until the process's
 * objects change (dlopen, dlclose, exec) or the handle is released.
 * Fields are only ever added at the end, each time with new versions of
 * dtproc_sym_lookup and dtproc_sym_addr (which fill the caller's struct):
 * a program linked earlier keeps the version that fills what it knows.
 */
typedef struct dtproc_sym {
	const char *ds_object;	/* basename of the object */
	const char *ds_name;	/* symbol, or NULL */
	uintptr_t ds_addr;	/* symbol's address */
	uint64_t ds_size;
	uintptr_t ds_offset;	/* by address: from the symbol (or bias) */
	int ds_lmid;		/* namespace */
	const char *ds_path;	/* path of the object */
	/* since 0.2: */
	int ds_flags;		/* DTPROC_SYM_* */
	const char *ds_version;	/* symbol version ("GLIBC_2.3.2"), or NULL */
	const char *ds_impl;	/* DTPROC_SYM_IFUNC: the name of the chosen
				   implementation ("__strlen_evex"), or NULL */
	uintptr_t ds_bias;	/* the object's load bias (ds_addr - ds_bias:
				   the symbol's address in its file) */
	/* since 0.4 (the DTPROC_0.4 versions): */
	const char *ds_demangled; /* ds_name demangled (C++; Rust legacy and
				   v0): "ns::Foo::bar(int)", without version;
				   NULL when ds_name is not mangled */
} dtproc_sym_t;

/*
 * ds_flags.  An IFUNC (libc's strlen, memcpy...) is found by name as the
 * implementation its resolver chose in this process, the function the
 * program's calls reach: ds_addr and ds_size are the implementation's,
 * ds_name the name asked for.  Until the choice is known (the object not
 * relocated yet) a lookup gives the resolver, marked DTPROC_SYM_RESOLVER,
 * and dtproc_sym_iter leaves it out.
 */
#define DTPROC_SYM_IFUNC	0x1	/* ds_addr: the implementation chosen */
#define DTPROC_SYM_RESOLVER	0x2	/* an IFUNC's resolver (choice unknown) */
#define DTPROC_SYM_COMPAT	0x4	/* a version other than the default */

/*
 * By name: [LMn`][OBJECT`]NAME.  NAME is the default version of a
 * versioned name (pthread_cond_wait@@GLIBC_2.3.2, what programs linked
 * now call); NAME@VERSION selects a version, NAME@@VERSION the default
 * only.  0 or -errno (message in errmsg).
 */
DTPROC_API int dtproc_sym_lookup(dtproc_t *dtp, dtproc_proc_t *pr,
    const char *name, dtproc_sym_t *sym);
/* By address. */
DTPROC_API int dtproc_sym_addr(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr, dtproc_sym_t *sym);

/* The objects, in load order: FN(path, base, lmid, arg); nonzero stops. */
typedef int dtproc_obj_f(const char *path, uintptr_t base, int lmid,
    void *arg);
DTPROC_API int dtproc_obj_iter(dtproc_t *dtp, dtproc_proc_t *pr,
    dtproc_obj_f *fn, void *arg);
/*
 * The load bias of the object mapped at ADDR (its base, or any address in
 * it): what its ELF addresses (symbol values, notes) are offset by, 0 for
 * a non-PIE executable.  0 or -errno (message in errmsg; ENOENT: ADDR is
 * in no object).  Since 0.2.
 */
DTPROC_API int dtproc_obj_bias(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr, uintptr_t *biasp);

/*
 * Every function defined in an object matching OBJGLOB (NULL or "*":
 * all; a plain name as in lookups, else a glob on the basename, or on
 * the path when it has a '/') whose name matches the glob NAMEGLOB: in
 * load order, by address, aliases once (under the first name that
 * matches, so any alias's name finds its function).  A NAMEGLOB without
 * '@' matches base names, default versions only where a name has one;
 * with '@' it matches "name@VERSION" (and "name@@VERSION", the default).
 * An IFUNC is given as its chosen implementation (DTPROC_SYM_IFUNC), in
 * the order of the resolvers; resolvers are never given: calling one is
 * not calling the function.
 * FN(sym, arg) runs with the handle locked; a nonzero return stops the
 * walk and is returned.
 */
typedef int dtproc_sym_f(const dtproc_sym_t *sym, void *arg);
DTPROC_API int dtproc_sym_iter(dtproc_t *dtp, dtproc_proc_t *pr,
    const char *objglob, const char *nameglob, dtproc_sym_f *fn, void *arg);

/*
 * dtproc_sym_iter's walk over one ELF file, with no process (DTPROC_0.4):
 * every function of PATH (an executable, a shared object, a debug file)
 * whose name matches NAMEGLOB, by the same rules; ds_addr is the
 * symbol's value in the file (ds_bias 0), ds_object its basename.  An
 * IFUNC is left out (no process has chosen its implementation).  The
 * strings FN sees are valid during the call only.  0, FN's nonzero
 * return, or a negative code: -ENOENT (no such file), -ENOEXEC (not an
 * ELF object), -EINVAL; the message names PATH.
 */
DTPROC_API int dtproc_elf_sym_iter(dtproc_t *dtp, const char *path,
    const char *nameglob, dtproc_sym_f *fn, void *arg);

/*
 * Breakpoints with callbacks, on a controlled process.  FN runs on the
 * control thread, the handle locked, the thread TID stopped at ADDR; the
 * thread is then carried over the site and resumed.
 */
typedef void dtproc_bkpt_f(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid,
    uintptr_t addr, void *arg);
DTPROC_API int dtproc_bkpt_add(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr, dtproc_bkpt_f *fn, void *arg);
DTPROC_API int dtproc_bkpt_del(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr);

/*
 * Probes (DTPROC_0.3): a function's entry (or any instruction) counted,
 * or stopped at with a callback, by the cheapest way the site allows.
 * Where the instructions at ADDR can be moved (see dtproc(3) for the
 * rules), they are patched with a jump to a trampoline in the process:
 * a counted hit is a locked add in memory shared with us, no stop, and
 * the process keeps working if we die.  Elsewhere, and with
 * DTPROC_PROBE_INT3, an int3 (one ptrace stop a hit, counted by us).
 * FLAGS: DTPROC_PROBE_STOP (each hit stops the thread and calls FN as
 * dtproc_bkpt_add's callbacks are called; else FN must be NULL),
 * DTPROC_PROBE_INT3.  May be called from a callback.  One probe per
 * address and handle; adding at the address of a withdrawn probe
 * replaces its record (counted anew).  While an untraced vfork child
 * runs on the process's memory, or at an exec stop, no code may be
 * edited: the probe is then pending (dpi_how 0, no hits) and armed at
 * the next event after (the child gone, the exec over).  0, or a
 * negative code (dtproc_errno, dtproc_errmsg): -EEXIST,
 * -EINVAL (flags, or FN without STOP or STOP without FN), -EPERM (a
 * read-only handle), -DTPROC_EDEAD or -DTPROC_ELOST (gone), or the
 * reason the site could not be armed at all.
 * dtproc_probe_del undoes the site and drops the record (a withdrawn
 * one's also after the process is gone): 0 or -ENOENT.
 */
#define DTPROC_PROBE_STOP	0x1	/* hits stop and call FN */
#define DTPROC_PROBE_INT3	0x2	/* the int3 path, never a trampoline */

#define DTPROC_PROBE_TRAMP	1	/* dpi_how: patched, a trampoline */
#define DTPROC_PROBE_TRAP	2	/* dpi_how: an int3 */

typedef struct dtproc_probe_info {
	int dpi_how;		/* DTPROC_PROBE_TRAMP or DTPROC_PROBE_TRAP;
				   0: pending (see dtproc_probe_add) */
	const char *dpi_why;	/* TRAP: why not patched (static text, valid
				   for the life of the library), or NULL */
	uint64_t dpi_hits;	/* hits so far (also of a withdrawn site) */
	uint64_t dpi_missed;	/* stops skipped: SIGTRAP blocked or ignored
				   by the thread, or not our process (a
				   vfork child); counted in dpi_hits */
	int dpi_live;		/* 0: withdrawn (dlclose, exec, exit) */
} dtproc_probe_info_t;

DTPROC_API int dtproc_probe_add(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr, int flags, dtproc_bkpt_f *fn, void *arg);
DTPROC_API int dtproc_probe_del(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr);
/*
 * Many probes in one request (DTPROC_0.3): each spec armed as
 * dtproc_probe_add would, its dps_err set to 0 or the negative code;
 * the control thread is woken once, not once per probe, which is what
 * arming all of a library costs.  Returns how many were armed (the
 * last failure's message in dtproc_errmsg), or a negative code if none
 * could be tried (EINVAL, a gone process).
 */
typedef struct dtproc_probe_spec {
	uintptr_t dps_addr;
	int dps_flags;		/* as dtproc_probe_add's FLAGS */
	dtproc_bkpt_f *dps_fn;
	void *dps_arg;
	int dps_err;		/* out */
} dtproc_probe_spec_t;

DTPROC_API int dtproc_probe_add_list(dtproc_t *dtp, dtproc_proc_t *pr,
    dtproc_probe_spec_t *specs, size_t n);

/*
 * A probe's mechanism and counts, from any thread, without stopping the
 * process (a counted hit is read from shared memory), also after the
 * site was withdrawn or the process exited, until dtproc_probe_del or
 * dtproc_release.  0, or -ENOENT.
 */
DTPROC_API int dtproc_probe_info(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr, dtproc_probe_info_t *info);

/*
 * Function probes as the pid provider has them (DTPROC_0.4): the entry
 * of the function at FUNC, its returns, or the instruction at FUNC + OFF,
 * each firing calling FN on the control thread, the handle locked and
 * the thread stopped, with the firing described (dtproc_hit_t, valid
 * for the call only).  FLAGS: DTPROC_FP_ENTRY and/or DTPROC_FP_RETURN
 * (OFF must be 0), or DTPROC_FP_OFFSET (OFF must fall on an instruction
 * boundary of FUNC, found by decoding from its start: else -EINVAL and
 * a message naming FUNC+OFF).  One probe per (FUNC, kind) and handle:
 * -EEXIST.  Sites are armed like dtproc_probe_add's (a trampoline's trap
 * where the site can be patched, else an int3), and follow the object
 * as probes do (withdrawn at dlclose and exec).
 *
 * Return probes never write to the thread's stack: at an entry the
 * thread, its stack pointer and return address are noted, and the
 * return address gets a site of its own (shared and counted by
 * reference); a hit there fires for the thread whose pending entry has
 * that stack pointer and passes any other.  Entries that cannot return
 * any more (longjmp, an exception unwinding past the frame, a context
 * switch, the thread's exit, exec) are dropped and counted as unwound;
 * each thread's pending entries are bounded (DTPROC_FP_DEPTH), and
 * entries past the bound are counted as overflowed and fire no return.
 * A fork child never inherits a return site.
 *
 * DTPROC_FP_NOSTOP with DTPROC_FP_RETURN (0.4): where the return site is
 * patched and nothing else stops there, the thread records its return
 * value and its clock in memory shared with us and goes on without a
 * stop; the return fires later, on the control thread, before anything
 * else of that thread (its next stop), at a timer tick, or when the
 * thread or process ends: dh_flags has DTPROC_HIT_DEFERRED, dh_time and
 * dh_vtime are the thread's clock at the return, and only the pc, the
 * stack pointer and the return value are known (dtproc_hit_reg: -ENODATA
 * for the others; the thread's memory is as it is now).  Returns it
 * cannot record (an int3 site, a collision in the table, a return no
 * entry of it awaits) stop as without the flag.  Counts
 * (dtproc_fprobe_info) include deferred returns once they fired.
 *
 * dtproc_fprobe_del removes the probes of FUNC named by FLAGS: 0 or
 * -ENOENT.  dtproc_fprobe_info reads a probe's counts (any thread, also
 * after the process is gone, until del or release): 0 or -ENOENT.
 */
#define DTPROC_FP_ENTRY		0x1	/* the function's entry */
#define DTPROC_FP_RETURN	0x2	/* each return of the function */
#define DTPROC_FP_OFFSET	0x4	/* the instruction at FUNC + OFF */
#define DTPROC_FP_NOSTOP	0x8	/* with RETURN: returns recorded
					   without a stop, fired later */
#define DTPROC_FP_DEPTH		1024	/* pending entries kept per thread */

#define DTPROC_HIT_ENTRY	1
#define DTPROC_HIT_RETURN	2
#define DTPROC_HIT_OFFSET	3

#define DTPROC_HIT_NARGS	8

typedef struct dtproc_hit {
	int dh_kind;		/* DTPROC_HIT_* */
	pid_t dh_tid;
	uintptr_t dh_func;	/* the function's entry */
	uintptr_t dh_pc;	/* where it fired: the entry, FUNC + OFF, or
				   the return address (in the caller) */
	uint64_t dh_time;	/* CLOCK_MONOTONIC, ns, taken at the stop */
	uint64_t dh_entry_time;	/* RETURN: the matching entry's dh_time */
	/*
	 * ENTRY and OFFSET: arg0.. as the function received them (System V:
	 * six integer registers, then the stack; at an OFFSET the registers
	 * as they are).  RETURN, as DTrace: arg0 the return site's offset in
	 * its caller's function (or the return address where no symbol
	 * covers it), arg1 the return value.
	 */
	uint64_t dh_args[DTPROC_HIT_NARGS];
	uint64_t dh_retval;	/* RETURN: the return value */
	uintptr_t dh_sp;	/* ENTRY, RETURN: the stack pointer at entry */
	uintptr_t dh_retaddr;	/* ENTRY, RETURN: the return address */
	int dh_depth;		/* the thread's pending entries of probed
				   functions, this one's included */
	const void *dh_regs;	/* for dtproc_hit_reg only */
	/*
	 * The time the library has held this thread stopped, summed over
	 * its stops before this one: each from dh_time to the thread's
	 * resume (callbacks included), ns.  A call's time less the
	 * difference of its return's and its entry's is what our stops
	 * leave in it beyond the kernel's share (dtproc(3)).
	 */
	uint64_t dh_held;
	/*
	 * The victim's own clock (0.4), 0 where unknown: at an int3 site, or
	 * when a read of the clock in the victim failed (a seccomp filter).
	 * dh_vtime: CLOCK_MONOTONIC, ns, read by the thread itself just
	 * before it stopped for this hit.  dh_vheld: the whole cost of the
	 * thread's earlier stops at patched sites, each from its clock
	 * before the stop to its clock as it went on (the kernel's wake-ups
	 * included), summed; known at an int3 site too once the thread has
	 * stopped at a patched one.  RETURN: the same two of the matching
	 * entry.
	 * A call's time, free of every such stop between its entry and its
	 * return: (dh_vtime - dh_entry_vtime) - (dh_vheld - dh_entry_vheld).
	 */
	uint64_t dh_vtime;
	uint64_t dh_vheld;
	uint64_t dh_entry_vtime;
	uint64_t dh_entry_vheld;
	unsigned dh_flags;	/* DTPROC_HIT_DEFERRED (0.4) */
} dtproc_hit_t;

/* a return recorded without a stop (DTPROC_FP_NOSTOP), fired later */
#define DTPROC_HIT_DEFERRED	0x1

typedef void dtproc_hit_f(dtproc_t *dtp, dtproc_proc_t *pr,
    const dtproc_hit_t *hit, void *arg);

typedef struct dtproc_fprobe_info {
	int dfi_how;		/* as dpi_how (the entry or offset site) */
	uint64_t dfi_hits;	/* firings */
	uint64_t dfi_unwound;	/* RETURN: entries dropped, never returned */
	uint64_t dfi_overflow;	/* RETURN: entries past DTPROC_FP_DEPTH */
	int dfi_live;		/* 0: withdrawn */
} dtproc_fprobe_info_t;

DTPROC_API int dtproc_fprobe_add(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t func, size_t off, int flags, dtproc_hit_f *fn, void *arg);
DTPROC_API int dtproc_fprobe_del(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t func, size_t off, int flags);
DTPROC_API int dtproc_fprobe_info(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t func, size_t off, int flags, dtproc_fprobe_info_t *info);
/*
 * How the function probes' site at ADDR is armed (DTPROC_0.4): an entry
 * or offset probe's site, or a return site (the return address of a
 * probed function's call, armed at the first such call and kept while
 * return probes need it).  INFO as dtproc_probe_info's: dpi_how and
 * dpi_why; dpi_hits the stops there that fired function probes.  An
 * int3 armed because a thread was inside the window is patched later,
 * once none is.  0, or -ENOENT (no site there now).
 */
DTPROC_API int dtproc_fprobe_site(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr, dtproc_probe_info_t *info);
/*
 * A register of the stopped thread by its name ("rdi", "rax", "rsp",
 * "rip", "pc", "sp", "fp", ...): 0, or -ENOENT for a name the
 * architecture does not have, -ENODATA for one a deferred return
 * (DTPROC_HIT_DEFERRED) does not know.  From the callback only.
 */
DTPROC_API int dtproc_hit_reg(const dtproc_hit_t *hit, const char *name,
    uint64_t *val);

/*
 * A function's parameters and return type from its object's DWARF (the
 * object's own, or a debug file found by build-id under
 * /usr/lib/debug/.build-id or by debuglink), DTPROC_0.4.
 * dtproc_fn_params fills at most MAX parameters and returns how many
 * the function has, and RET (if not NULL) with its return type (dp_kind
 * DTPROC_T_VOID for none): -ENOENT where no DWARF describes FUNC.  The
 * strings stay valid as dtproc_sym_t's do.
 *
 * dtproc_arg_format prints VAL as a parameter of type P is shown: signed
 * and unsigned integers in decimal, pointers in hex, a char * as a
 * quoted, escaped string read from the process (at most 64 bytes, "..."
 * after; the pointer in hex when unreadable), an enum by its name, a
 * bool as true/false; float and struct-by-value as "<unsupported>".
 * Returns the length (as snprintf), or -errno.  Any thread.
 */
#define DTPROC_T_UNKNOWN	0
#define DTPROC_T_VOID		1
#define DTPROC_T_INT		2	/* signed integer (char, short...) */
#define DTPROC_T_UINT		3	/* unsigned integer, size_t */
#define DTPROC_T_PTR		4
#define DTPROC_T_STR		5	/* char * (signed, unsigned, const) */
#define DTPROC_T_ENUM		6
#define DTPROC_T_BOOL		7
#define DTPROC_T_FLOAT		8	/* float, double: not in arg0.. */
#define DTPROC_T_STRUCT		9	/* struct or union by value */

typedef struct dtproc_param {
	const char *dp_name;	/* NULL if unnamed */
	const char *dp_type;	/* as written: "const char *", "size_t" */
	int dp_kind;		/* DTPROC_T_* */
	int dp_size;		/* bytes */
	int dp_arg;		/* the argN it arrives in, or -1 (float,
				   struct: passed otherwise) */
	const void *dp_priv;	/* for dtproc_arg_format */
} dtproc_param_t;

DTPROC_API int dtproc_fn_params(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t func, dtproc_param_t *params, int max, dtproc_param_t *ret);
DTPROC_API int dtproc_arg_format(dtproc_t *dtp, dtproc_proc_t *pr,
    const dtproc_param_t *p, uint64_t val, char *buf, size_t len);

/*
 * USDT probes (sys/sdt.h, DTPROC_0.4): the probes a program or library
 * declares with DTRACE_PROBEn/STAP_PROBEn, read from each object's
 * .note.stapsdt.  dtproc_usdt_iter calls FN(u, arg) for each probe of
 * the objects matching OBJGLOB (as dtproc_sym_iter's) whose provider and
 * name match PROVGLOB and NAMEGLOB (NULL: any), in load order; the
 * handle is locked meanwhile and *U (its strings included) is valid for
 * the call only.  A nonzero return stops the walk and is returned.
 * dtproc_usdt_file_iter does the same for the ELF file at PATH, with no
 * process: du_addr and du_sema are the file's addresses, du_bias 0;
 * 0, FN's return, or -errno (ENOENT, ENOEXEC: not ELF).
 *
 * du_addr is the note's address adjusted by the object's .stapsdt.base
 * (where the section is, less where the note says it was) and the load
 * bias; du_sema likewise, 0 for a probe without a semaphore.  The
 * arguments (at most DTPROC_USDT_NARGS) are the note's spec parsed:
 * size and sign ("-4@": a signed 4-byte value), then a constant, a
 * register, or memory at [symbol +] displacement + base + index *
 * scale.  A probe whose spec cannot be parsed is still given (and can
 * be armed and counted): du_nargs -1, du_why naming the argument and
 * what is wrong with it.
 */
#define DTPROC_USDT_NARGS	12

#define DTPROC_USDT_CONST	1	/* dua_disp is the value */
#define DTPROC_USDT_REG		2	/* register dua_reg (or part of one) */
#define DTPROC_USDT_MEM		3	/* memory: see dtproc_usdt_arg_t */

typedef struct dtproc_usdt_arg {
	int dua_kind;		/* DTPROC_USDT_* */
	int dua_size;		/* bytes of the value: 1, 2, 4, 8 */
	int dua_signed;		/* sign-extended from dua_size */
	const char *dua_reg;	/* REG: the register as named ("edi");
				   MEM: the base register, or NULL */
	const char *dua_index;	/* MEM: the index register, or NULL */
	int dua_scale;		/* MEM: the index's scale */
	int64_t dua_disp;	/* CONST: the value; MEM: displacement */
	const char *dua_sym;	/* MEM: the symbol the address starts at
				   ("counter" of "counter(%rip)"), or NULL */
} dtproc_usdt_arg_t;

typedef struct dtproc_usdt {
	const char *du_object;	/* basename of the object */
	const char *du_path;	/* its path */
	int du_lmid;		/* its namespace */
	uintptr_t du_bias;	/* its load bias */
	const char *du_provider;	/* "python" */
	const char *du_name;	/* "function__entry" */
	uintptr_t du_addr;	/* where the probe is */
	uintptr_t du_sema;	/* its semaphore (a 16-bit counter), or 0 */
	const char *du_argspec;	/* as the note has it: "8@%rbp -4@%eax" */
	int du_nargs;		/* arguments, or -1: du_why */
	const char *du_why;	/* why the spec could not be parsed */
	dtproc_usdt_arg_t du_args[DTPROC_USDT_NARGS];
} dtproc_usdt_t;

typedef int dtproc_usdt_f(const dtproc_usdt_t *u, void *arg);
DTPROC_API int dtproc_usdt_iter(dtproc_t *dtp, dtproc_proc_t *pr,
    const char *objglob, const char *provglob, const char *nameglob,
    dtproc_usdt_f *fn, void *arg);
DTPROC_API int dtproc_usdt_file_iter(dtproc_t *dtp, const char *path,
    const char *provglob, const char *nameglob, dtproc_usdt_f *fn,
    void *arg);
/*
 * Arm the USDT probe at ADDR (a du_addr) as dtproc_probe_add would
 * (FLAGS, FN and ARG as there; its hits are read with
 * dtproc_probe_info), and raise its semaphore by one while it is armed:
 * the program then runs the code that sets up the probe's arguments.
 * dtproc_usdt_del lowers it again and removes the probe; a release
 * (dtproc_release, also after a signal ends a CLI session) lowers every
 * semaphore still raised, where its object is still mapped; an exec or
 * a dlclose drops them with the image.  -ENOENT: no USDT probe at ADDR;
 * else dtproc_probe_add's errors, or the semaphore's (it could not be
 * read or written: the probe is then not armed).
 */
DTPROC_API int dtproc_usdt_add(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr, int flags, dtproc_bkpt_f *fn, void *arg);
DTPROC_API int dtproc_usdt_del(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr);
/*
 * The arguments of the USDT probe at ADDR for thread TID, stopped there:
 * from a callback of that process only (a STOP probe's, or a function
 * probe's at the same address).  Fills VALS with at most MAX values,
 * each sized and sign-extended as its spec says (a signed value as its
 * two's complement in the 64 bits), and returns the probe's number of
 * arguments.  -ENOENT: no USDT probe at ADDR; -EINVAL: its spec could
 * not be parsed (du_why in the message); -EFAULT: memory an argument
 * names could not be read; -EBUSY: not called from a callback of PR on
 * a thread stopped at ADDR.
 */
DTPROC_API int dtproc_usdt_args(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid,
    uintptr_t addr, uint64_t *vals, int max);

/*
 * Dynamic-linker activity (the reference's dt_pid_create_probes_module):
 * called on the control thread once the link maps are consistent after a
 * dlopen/dlclose.  A nonzero return queues a notice with dtproc_errmsg.
 */
typedef int dtproc_dlact_f(dtproc_t *dtp, dtproc_proc_t *pr, void *arg);
DTPROC_API void dtproc_set_dlactivity(dtproc_t *dtp, dtproc_dlact_f *fn,
    void *arg);

/*
 * Lifecycle events of controlled processes, for tools like `dtproc watch`:
 * FN runs on the control thread, the handle locked, for each one.
 */
#define DTPROC_EV_THREAD_NEW	1	/* de_tid created thread de_child */
#define DTPROC_EV_THREAD_EXIT	2	/* de_tid exited, de_status */
#define DTPROC_EV_FORK		3	/* de_tid forked de_child (untraced
					   unless followed) */
#define DTPROC_EV_VFORK		4	/* de_tid vforked/spawned de_child */
#define DTPROC_EV_VFORK_DONE	5	/* de_tid's vfork child let go */
#define DTPROC_EV_EXEC		6	/* new image de_path; de_child: the
					   thread that called execve */
#define DTPROC_EV_SIGNAL	7	/* de_tid received de_sig */
#define DTPROC_EV_JOBSTOP	8	/* stopped by de_sig from outside */
#define DTPROC_EV_JOBCONT	9	/* continued by SIGCONT */
#define DTPROC_EV_EXIT		10	/* gone: de_status, a wait status */
#define DTPROC_EV_LOST		11	/* exec'd an unobservable program */
#define DTPROC_EV_PREINIT	12	/* loaded, relocated, no constructor */
#define DTPROC_EV_POSTINIT	13	/* constructors done */
#define DTPROC_EV_MAIN		14	/* at main (de_addr) */
#define DTPROC_EV_OBJ_ADD	15	/* object de_path added in de_lmid */
#define DTPROC_EV_OBJ_REMOVE	16	/* object de_path removed */
#define DTPROC_EV_FOLLOW	17	/* since 0.4: child de_child followed,
					   its handle de_proc (dtproc_follow) */
#define DTPROC_EV_UPGRADE	18	/* since 0.4: the int3 site de_addr
					   (a probe's, a function probe's)
					   patched to a trampoline */

typedef struct dtproc_event {
	int de_kind;		/* DTPROC_EV_* */
	pid_t de_tid;		/* thread concerned */
	pid_t de_child;		/* new thread or child; EXEC: former tid */
	int de_sig;		/* SIGNAL, JOBSTOP */
	int de_status;		/* THREAD_EXIT, EXIT */
	const char *de_path;	/* EXEC, OBJ_ADD, OBJ_REMOVE */
	int de_lmid;		/* OBJ_ADD, OBJ_REMOVE */
	uintptr_t de_addr;	/* MAIN, UPGRADE */
	/* since 0.4: */
	dtproc_proc_t *de_proc;	/* FOLLOW: the child's new handle */
} dtproc_event_t;

typedef void dtproc_event_f(dtproc_t *dtp, dtproc_proc_t *pr,
    const dtproc_event_t *ev, void *arg);
DTPROC_API void dtproc_set_event(dtproc_t *dtp, dtproc_event_f *fn,
    void *arg);

/*
 * Follow children (DTPROC_0.4): with ON, each child PR makes from now on
 * by fork, vfork or clone without CLONE_THREAD becomes a controlled
 * process of its own, as if grabbed before it ran an instruction (a
 * vfork child once it execs: until then it shares PR's memory), with
 * follow on in turn.  Its handle comes in a DTPROC_EV_FOLLOW event (on
 * PR's control thread, PR's forking thread stopped meanwhile) while the
 * child rests at its GRAB rendezvous: arm it there, then dtproc_continue
 * it.  The client holds one reference and drops it with dtproc_release
 * from its own thread (not from the callback); dtproc_close releases the
 * rest.  With ON 0, children are let go clean again.  0 or -errno.
 */
DTPROC_API int dtproc_follow(dtproc_t *dtp, dtproc_proc_t *pr, int on);

/* The path of the program the process runs now. */
DTPROC_API const char *dtproc_exe(dtproc_t *dtp, dtproc_proc_t *pr);
/* How many threads it has (0 once it is gone). */
DTPROC_API int dtproc_nthreads(dtproc_t *dtp, dtproc_proc_t *pr);

/*
 * Stop a controlled process as the reference's stop() action does: it
 * stays stopped until resumed from outside (SIGCONT), even if we die.
 * Returns once the control thread has seen the stop begin (-ETIMEDOUT
 * after 10 s without it); from a callback, at once.
 */
DTPROC_API int dtproc_stop(dtproc_t *dtp, dtproc_proc_t *pr);

/*
 * Sleep until the process rests: stopped at a rendezvous (create, grab,
 * preinit, postinit, main) with its control thread idle, or in a group
 * stop (dtproc_stop, a SIGSTOP from outside).  0 then; -ETIMEDOUT after
 * TIMEOUT_MS (< 0: no limit); -DTPROC_EDEAD or -DTPROC_ELOST when it dies
 * or is lost meanwhile (at once); -ESRCH for a read-only handle; -EDEADLK
 * from a callback of that process.  The caller holds a reference.
 */
DTPROC_API int dtproc_wait_stopped(dtproc_t *dtp, dtproc_proc_t *pr,
    int timeout_ms);

/*
 * User stacks, DTrace's ustack(): CFI unwinding (elfutils libdw, fed by
 * dtproc's own memory and register access; .eh_frame, .debug_frame, then
 * the frame-pointer chain), frames named by dtproc's symbol tables.
 *
 * dtproc_stack() fills PCS with thread TID's stack, PCS[0] its pc, at most
 * MAX frames (the depth limit: DTPROC_STACK_DEFAULT is the CLI's, at most
 * DTPROC_STACK_MAX are taken); returns the number of frames, or -errno
 * with dtproc_errmsg() naming the pid, the thread and the reason (ESRCH:
 * no such thread, or the process exited; EPERM: a read-only grab, whose
 * registers cannot be read).  It works
 *  - from a breakpoint or event callback (control thread, lock held) on
 *    a thread stopped there: no stop, no request, a few microseconds; a
 *    thread that is running then gives EBUSY;
 *  - from a client thread: handed to the control thread; a process
 *    resting at a rendezvous (dtproc_grab's) is stacked as it rests, a
 *    running one is stopped for the walk and resumed at once.
 * The unwinder's modules are cached per process and rebuilt only when its
 * objects change (dlopen, dlclose, exec).
 *
 * dtproc_threads() lists the process's threads (at most MAX; returns how
 * many there are, which may exceed MAX), or -errno.
 *
 * dtproc_frame_name() names PC as ustack() prints it: "obj`func+0x1f",
 * "obj`func" at its first byte, "obj`0x7f..." where no symbol covers PC,
 * "0x7f..." in anonymous memory (JIT) or nowhere; C++ and Rust names
 * demangled.  CALLER, a set of flags: DTPROC_FRAME_CALLER (1, what a
 * true value always meant), PC is a return address (every frame but the
 * first), looked up one byte back, the offset printed still PC's;
 * DTPROC_FRAME_MANGLED (since 0.4), the name as the symbol table spells
 * it, not demangled.  Returns the length of the name (as snprintf:
 * truncated to LEN), or -errno.  Any thread.
 */
#define DTPROC_FRAME_CALLER	0x1
#define DTPROC_FRAME_MANGLED	0x2
#define DTPROC_STACK_DEFAULT	64
#define DTPROC_STACK_MAX	1024

DTPROC_API int dtproc_stack(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid,
    uintptr_t *pcs, int max);
DTPROC_API int dtproc_threads(dtproc_t *dtp, dtproc_proc_t *pr,
    pid_t *tids, int max);
DTPROC_API int dtproc_frame_name(dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t pc, int caller, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* DTPROC_H */
