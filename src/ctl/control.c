/*
 * control.c - one control thread per controlled process.
 *
 * Linux lets only the thread that attached use ptrace on a tracee, so the
 * control thread does the creating or grabbing itself and owns the tracee
 * from then on, as the reference's dt_proc_control owns its victim.  It
 * holds dpr_lock for everything but its wait for the next event, so that
 * clients may use the handle while the victim runs.
 *
 * Rendezvous.  At CREATE or GRAB, and at PREINIT, POSTINIT or MAIN when
 * asked, the whole process is stopped, its breakpoints are lifted (the
 * text stays pristine while it rests, as the reference keeps it), IDLE is
 * set and the thread waits on dpr_cv for dtproc_continue(), serving
 * requests meanwhile.  A continue that comes while a rendezvous is still
 * due but not reached is remembered and spends that rendezvous.
 *
 * Requests.  A client that needs ptrace (a breakpoint, a write) queues a
 * ctl_req_t under dpr_lock, kicks the thread out of waitpid (wake.c), and
 * sleeps on dpr_cv, which frees the lock for the control thread; it kicks
 * again on a short, growing interval until the request is served, so a
 * kick landing just before the thread blocks is not lost.
 *
 * Quitting.  The thread is never cancelled: dpr_quit is set, the thread
 * woken, and it finishes what it holds, lets the process go in the mode
 * it was given, fails pending requests and sets dpr_done.  Death or loss
 * of the process ends it too, with a notice.
 */
#include "ctl.h"
#include "probe/probe.h"
#include "util/testhold.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The reference's sentence for a process lost to an exec. */
#define CTL_LOST_FMT	"failed to control pid %d: process exec'd set-id " \
	"or unobservable program"

/*
 * The control thread marks itself the lock's holder, so that a callback
 * it runs may call the API on the same handle without deadlocking.
 */
static void
ctl_hold(dtproc_proc_t *pr)
{
	(void) pthread_mutex_lock(&pr->dpr_lock);
	ctl_mark(pr);
}

static void
ctl_unhold(dtproc_proc_t *pr)
{
	ctl_unmark(pr);
	(void) pthread_mutex_unlock(&pr->dpr_lock);
}

void
ctl_emit(dtproc_proc_t *pr, int kind, const pt_event_t *pe,
    const char *path, int lmid, uintptr_t addr)
{
	dtproc_t *dtp = pr->dpr_hdl;
	dtproc_event_t ev = { .de_kind = kind, .de_path = path,
	    .de_lmid = lmid, .de_addr = addr };

	if (dtp->dph_event == NULL)
		return;
	if (pe != NULL) {
		ev.de_tid = pe->pe_tid;
		ev.de_child = pe->pe_kind == PT_EV_EXEC ? pe->pe_former_tid :
		    pe->pe_child;
		ev.de_sig = pe->pe_sig;
		ev.de_status = pe->pe_status;
	} else {
		ev.de_tid = pr->dpr_pid;
	}
	dtp->dph_event(dtp, pr, &ev, dtp->dph_event_arg);
}

static void
ctl_emit_objs(dtproc_proc_t *pr, int kind, const pt_event_t *pe,
    const rtld_obj_t *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ctl_emit(pr, kind, pe, o[i].ro_path[0] ? o[i].ro_path :
		    pr->dpr_exe, o[i].ro_lmid, 0);
}

/* What a request that failed without a reason of its own could not do. */
static const char *const ctl_op_what[] = {
	[CTL_BKPT_ADD] = "set breakpoint",
	[CTL_BKPT_DEL] = "remove breakpoint",
	[CTL_WRITE] = "write",
	[CTL_STACK] = "walk the stack",
	[CTL_PROBE_ADD] = "set probe",
	[CTL_PROBE_DEL] = "remove probe",
	[CTL_PROBE_LIST] = "set probes",
	[CTL_FPROBE] = "set function probe",
	[CTL_FOLLOW] = "follow children",
};

/*
 * Serve the queued requests.  Each one's error is recorded here, on the
 * control thread, and handed back in cr_err: the core's precise reason
 * when it gave one, else a sentence naming the operation.
 */
static void
ctl_serve(dtproc_proc_t *pr)
{
	ctl_req_t *req;
	bool renewed;

	while ((req = pr->dpr_reqs) != NULL) {
		pr->dpr_reqs = req->cr_next;
		err_clear();
		switch (req->cr_op) {
		case CTL_BKPT_ADD:
			req->cr_rv = pt_bkpt_set_renew(pr->dpr_P,
			    req->cr_addr, &renewed);
			if (renewed)	/* the old site's users died with it */
				ctl_bkpt_forget(pr, req->cr_addr);
			if (req->cr_rv == 0 && ctl_bkpt_insert(pr,
			    req->cr_addr, req->cr_fn, req->cr_arg) != 0) {
				(void) pt_bkpt_del(pr->dpr_P, req->cr_addr);
				req->cr_rv = err_set(ENOMEM, "pid %d: out of "
				    "memory", (int)pr->dpr_pid);
			}
			break;
		case CTL_BKPT_DEL:
			req->cr_rv = ctl_bkpt_remove(pr, req->cr_addr);
			if (req->cr_rv != 0)
				(void) err_set(ENOENT, "pid %d: no breakpoint "
				    "at %#lx", (int)pr->dpr_pid,
				    (unsigned long)req->cr_addr);
			else
				req->cr_rv = pt_bkpt_del(pr->dpr_P,
				    req->cr_addr);
			break;
		case CTL_WRITE:
			req->cr_rv = pt_mem_write(pr->dpr_P, req->cr_addr,
			    req->cr_buf, req->cr_len);
			if (req->cr_rv < 0)
				req->cr_rv = -errno;
			break;
		case CTL_STACK:
			req->cr_rv = ctl_stack_serve(pr, req->cr_arg);
			break;
		case CTL_PROBE_ADD:
			req->cr_rv = ctl_probe_add(pr, req);
			break;
		case CTL_PROBE_DEL:
			req->cr_rv = ctl_probe_del(pr, req->cr_addr);
			break;
		case CTL_PROBE_LIST:
			req->cr_rv = ctl_probe_add_list(pr, req->cr_arg,
			    req->cr_len);
			break;
		case CTL_FPROBE:
			req->cr_rv = ctl_fp_serve(pr, req->cr_arg);
			break;
		case CTL_FOLLOW:
			pr->dpr_follow = req->cr_flags != 0;
			pt_set_follow(pr->dpr_P, pr->dpr_follow);
			req->cr_rv = 0;
			break;
		}
		if (req->cr_rv < 0 && err_code() != -req->cr_rv)
			(void) err_set((int)-req->cr_rv, "pid %d: cannot %s at "
			    "%#lx: %s", (int)pr->dpr_pid, ctl_op_what[req->cr_op],
			    (unsigned long)req->cr_addr,
			    strerror((int)-req->cr_rv));
		err_save(&req->cr_err);
		req->cr_done = true;
	}
	(void) pthread_cond_broadcast(&pr->dpr_cv);
}

static void
ctl_fail_requests(dtproc_proc_t *pr)
{
	for (ctl_req_t *req = pr->dpr_reqs; req != NULL; req = req->cr_next) {
		req->cr_rv = ctl_gone(pr, 0);
		err_save(&req->cr_err);
		req->cr_done = true;
	}
	pr->dpr_reqs = NULL;
	(void) pthread_cond_broadcast(&pr->dpr_cv);
}

static void ctl_kick_wait(dtproc_proc_t *pr, long us);

/*
 * Rest at a rendezvous if WHY is due: the whole process stopped, its
 * text pristine, until dtproc_continue() (or quit).  The caller resumes.
 */
static void
ctl_rendezvous(dtproc_proc_t *pr, unsigned why)
{
	if (!(pr->dpr_stop & why))
		return;
	pr->dpr_stop &= ~why;
	if (pr->dpr_cont) {
		pr->dpr_cont = false;	/* continued before we got here */
		return;
	}
	if (pt_stop(pr->dpr_P, PT_WHY_EVENT) != 0)
		return;
	(void) pt_bkpt_lift(pr->dpr_P);
	pr->dpr_stop |= CTL_STOP_IDLE;
	pr->dpr_resting = true;
	pr->dpr_rests++;
	(void) pthread_cond_broadcast(&pr->dpr_cv);
	/*
	 * Not a sleep on dpr_cv: a process killed now would park its
	 * threads in exit stops only we end, and be reported nowhere.  The
	 * thread collects stops (pt_rest) and is woken out of that, like
	 * out of pt_wait, by whoever continues it or hands it a request.
	 */
	while ((pr->dpr_stop & CTL_STOP_IDLE) && !pr->dpr_quit) {
		int rv;

		ctl_serve(pr);
		if (!(pr->dpr_stop & CTL_STOP_IDLE))
			break;
		ctl_unhold(pr);
		rv = pt_rest(pr->dpr_P);
		ctl_hold(pr);
		if (rv == -EINTR && pt_wake_pending(pr->dpr_wake))
			pt_wake_ack(pr->dpr_wake);
		if (rv == -ESRCH)
			break;		/* dead: pt_wait reports it next */
	}
	pr->dpr_stop &= ~CTL_STOP_IDLE;
	pr->dpr_resting = false;
	(void) pthread_cond_broadcast(&pr->dpr_cv);
	(void) pt_bkpt_replant(pr->dpr_P);
}

/*
 * A client that ended a rest (dtproc_continue) makes sure the control
 * thread sees it: it sleeps collecting stops, not on dpr_cv, and a kick
 * may land just before it blocks, so it is kicked until it has left.
 */
void
ctl_wake_rest(dtproc_proc_t *pr)
{
	long backoff_us = 200;
	unsigned rest = pr->dpr_rests;

	if (pthread_equal(pr->dpr_tid, pthread_self()))
		return;
	/* until it left this rest (it may be at the next one already) */
	while (pr->dpr_resting && pr->dpr_rests == rest && !pr->dpr_done) {
		ctl_kick_wait(pr, backoff_us);
		if (backoff_us < 50000)
			backoff_us *= 2;
	}
}

static void
ctl_dlactivity(dtproc_proc_t *pr)
{
	dtproc_t *dtp = pr->dpr_hdl;

	if (dtp->dph_dlact == NULL)
		return;
	/*
	 * The callback's API calls leave their reason on this thread; one
	 * that fails without any has this sentence for its notice.
	 */
	(void) err_set(0, "pid %d: dynamic-linker activity callback failed",
	    (int)pr->dpr_pid);
	if (dtp->dph_dlact(dtp, pr, dtp->dph_dlact_arg) != 0)
		ctl_notify(dtp, pr, err_msg());
}

/*
 * After a dlopen or dlclose, once the client has heard of it (and may
 * have deleted the probes of an object that went, as the reference's
 * pid provider does): the sites of objects that went (their address
 * maps nothing, or another object) are forgotten by the core, and their
 * callbacks here, so a client arming the object mapped there next arms
 * a new site.
 */
static void
ctl_prune(dtproc_proc_t *pr)
{
	uintptr_t *gone;
	int n;

	ctl_probe_seen(pr);	/* the core frees counters with sites */
	if (pt_bkpt_prune(pr->dpr_P, &gone, &n) != 0)
		return;
	for (int i = 0; i < n; i++) {
		pt_dprintf("pid %d: site %#lx went with its mapping\n",
		    (int)pr->dpr_pid, (unsigned long)gone[i]);
		ctl_bkpt_forget(pr, gone[i]);
		ctl_probe_withdraw(pr, gone[i], true);
		ctl_fp_pruned(pr, gone[i]);
		if (gone[i] == pr->dpr_brk)
			pr->dpr_brk = 0;
	}
	free(gone);
}

/*
 * Exact from the first instruction (DTPROC_CREATE_EXACT).  A process
 * created to rest at its exec has its sites armed before anything ran, but
 * the objects ld.so loads appear in the link maps only at the first
 * RT_CONSISTENT, after ld.so has already called into libc
 * (__libc_early_init and what it calls) and run every IFUNC resolver.
 * So until then (PREINIT) its system calls' exits are followed: at the
 * exit of an mmap that maps text, the object is whole as far as its
 * text goes (ld.so maps each segment MAP_FIXED over a first mapping of
 * the whole span, which would undo an edit made before; the text
 * segment's own mapping is the last one of its pages) and nothing of it
 * has run, since relocation comes after every object is mapped.  The
 * objects are then read from the maps (the link maps are RT_ADD, torn),
 * and the client's dlactivity callback arms what now matches, the core
 * injecting its calls at that exit stop.  An mprotect's exit is the
 * same chance after a relocation (ld.so makes RELRO read-only as it
 * finishes each object): IFUNCs whose choice is now written are armed
 * before ld.so calls libc's initialisation.  At PREINIT the stops end.
 */
static void
ctl_startup_begin(dtproc_proc_t *pr)
{
	if (!pr->dpr_exact || rtld_dynamic(pr->dpr_rtld) != 1 ||
	    !rtld_preinit_due(pr->dpr_rtld))
		return;
	pr->dpr_startup = true;
	pt_set_systrace(pr->dpr_P, true);
}

static void
ctl_startup_end(dtproc_proc_t *pr)
{
	if (!pr->dpr_startup)
		return;
	pr->dpr_startup = false;
	pt_set_systrace(pr->dpr_P, false);
}

static void ctl_dlactivity(dtproc_proc_t *pr);

static void
ctl_startup_syscall(dtproc_proc_t *pr, const pt_event_t *ev)
{
	if (!pr->dpr_startup)
		return;
	if (ev->pe_sysret < 0 && ev->pe_sysret > -4096)
		return;		/* failed: nothing changed */
	if (!(ev->pe_sysnr == SYS_mmap && (ev->pe_sysargs[2] & PROT_EXEC)) &&
	    ev->pe_sysnr != SYS_mprotect)
		return;
	(void) sym_proc_update_maps(pr->dpr_sym);
	pt_maps_refresh(pr->dpr_P);
	ctl_dlactivity(pr);
}

static void
ctl_breakpoint(dtproc_proc_t *pr, const pt_event_t *ev)
{
	pt_proc_t *P = pr->dpr_P;
	rtld_ev_t re;
	/* the stop's time: function probes' dh_time, and their held time */
	uint64_t now = ctl_fp_now();

	/* returns recorded without a stop come before anything of now */
	ctl_fp_drain(pr);
	if (rtld_event(pr->dpr_rtld, ev, &re) == 1) {
		/* sites set in the callbacks below: what is mapped now */
		if (re.re_kind == RTLD_EV_PREINIT ||
		    re.re_kind == RTLD_EV_ACTIVITY)
			pt_maps_refresh(P);
		switch (re.re_kind) {
		case RTLD_EV_PREINIT:
			ctl_startup_end(pr);
			ctl_emit(pr, DTPROC_EV_PREINIT, ev, NULL, 0, 0);
			ctl_rendezvous(pr, DTPROC_STOP_PREINIT);
			break;
		case RTLD_EV_ACTIVITY:
			ctl_emit_objs(pr, DTPROC_EV_OBJ_ADD, ev, re.re_added,
			    re.re_nadded);
			ctl_emit_objs(pr, DTPROC_EV_OBJ_REMOVE, ev,
			    re.re_removed, re.re_nremoved);
			ctl_dlactivity(pr);
			ctl_prune(pr);
			break;
		case RTLD_EV_MAIN:
			ctl_emit(pr, DTPROC_EV_POSTINIT, ev, NULL, 0, 0);
			ctl_rendezvous(pr, DTPROC_STOP_POSTINIT);
			ctl_emit(pr, DTPROC_EV_MAIN, ev, NULL, 0, re.re_main);
			ctl_rendezvous(pr, DTPROC_STOP_MAIN);
			break;
		default:
			break;
		}
		rtld_ev_free(&re);
	}
	/*
	 * The client's, even at a site the agent uses too (main).  Taken
	 * from the list first: a callback may add or delete breakpoints.
	 */
	ctl_call_t calls[CTL_CALLS_MAX];
	int ncalls = ctl_bkpt_calls(pr, ev->pe_addr, calls, CTL_CALLS_MAX);
	arch_carry_t carry;

	/* a probe's: an int3 hit counted, a STOP probe's callback */
	ncalls += ctl_probe_hit(pr, ev->pe_addr, calls + ncalls,
	    CTL_CALLS_MAX - ncalls);
	for (int i = 0; i < ncalls; i++)
		calls[i].cc_fn(pr->dpr_hdl, pr, ev->pe_tid, ev->pe_addr,
		    calls[i].cc_arg);
	/* function probes: entries, returns, offsets (fprobes.c) */
	bool fired = ctl_fp_hit(pr, ev, now);
	/*
	 * The first hit of a site decides how hits are carried past it.  A
	 * thread stopped at a trampoline's trap is past it already; one
	 * that hit the int3 a trap site had before its upgrade goes on in
	 * the trampoline's copy, past the gate that would fire it again
	 * (a counting site's int3 hit goes through its jump: counted).
	 */
	ctl_probe_brk_hit(pr, ev->pe_addr);
	int kind = pt_site_kind(P, ev->pe_addr);

	if (kind == 1 && (ncalls > 0 || fired))
		(void) pt_bkpt_step(P, ev->pe_tid);
	else if (kind != 1 && pt_bkpt_carry(P, ev->pe_addr, &carry) == 0) {
		if (carry.ac_kind == ARCH_CARRY_NONE)
			(void) prb_plan(P, ev->pe_addr, ev->pe_tid);
		(void) pt_bkpt_step(P, ev->pe_tid);
	}
	(void) pt_resume(P);
	ctl_fp_resumed(pr, ev->pe_tid, now);
}

/* One event; false when the process is gone. */
static bool
ctl_event(dtproc_proc_t *pr, const pt_event_t *ev)
{
	pt_proc_t *P = pr->dpr_P;

	static const int kinds[] = {
		[PT_EV_THREAD_NEW] = DTPROC_EV_THREAD_NEW,
		[PT_EV_THREAD_EXIT] = DTPROC_EV_THREAD_EXIT,
		[PT_EV_FORK] = DTPROC_EV_FORK,
		[PT_EV_VFORK] = DTPROC_EV_VFORK,
		[PT_EV_VFORK_DONE] = DTPROC_EV_VFORK_DONE,
		[PT_EV_EXEC] = DTPROC_EV_EXEC,
		[PT_EV_SIGNAL] = DTPROC_EV_SIGNAL,
		[PT_EV_JOBSTOP] = DTPROC_EV_JOBSTOP,
		[PT_EV_JOBCONT] = DTPROC_EV_JOBCONT,
		[PT_EV_EXIT] = DTPROC_EV_EXIT,
		[PT_EV_LOST] = DTPROC_EV_LOST,
	};

	/*
	 * Returns recorded without a stop come before any event after them
	 * (a breakpoint's stop drains them itself, its time held).
	 */
	if (ev->pe_kind != PT_EV_BREAKPOINT)
		ctl_fp_drain(pr);
	switch (ev->pe_kind) {
	case PT_EV_BREAKPOINT:
		ctl_breakpoint(pr, ev);
		return true;
	case PT_EV_EXEC:
		/* a new image: our sites went with the old one */
		snprintf(pr->dpr_exe, sizeof (pr->dpr_exe), "%s", pt_exe(P));
		ctl_bkpt_clear(pr);
		ctl_probe_withdraw_all(pr, true);
		ctl_usdt_exec(pr);
		ctl_fp_withdraw_all(pr);
		pr->dpr_brk = 0;
		rtld_exec(pr->dpr_rtld);
		/* patched once the exec is over (ctl_probe_retry) */
		pr->dpr_brk_todo = rtld_enable(pr->dpr_rtld, 1, 1) == 0;
		ctl_startup_end(pr);
		ctl_startup_begin(pr);
		break;
	case PT_EV_SYSCALL:
		ctl_startup_syscall(pr, ev);
		break;
	case PT_EV_THREAD_EXIT:
		/* its pending returns never come */
		ctl_fp_thread_exit(pr, ev->pe_tid);
		break;
	case PT_EV_JOBSTOP:
		/* dtproc_stop and dtproc_wait_stopped wait for this */
		pr->dpr_jobstop = true;
		pr->dpr_jobstops++;
		(void) pthread_cond_broadcast(&pr->dpr_cv);
		break;
	case PT_EV_JOBCONT:
		pr->dpr_jobstop = false;
		(void) pthread_cond_broadcast(&pr->dpr_cv);
		break;
	case PT_EV_EXIT:
		pr->dpr_state = DTPROC_PS_DEAD;
		pr->dpr_status = ev->pe_status;
		break;
	case PT_EV_LOST:
		pr->dpr_state = DTPROC_PS_LOST;
		break;
	default:
		break;
	}
	if ((size_t)ev->pe_kind < sizeof (kinds) / sizeof (kinds[0]) &&
	    kinds[ev->pe_kind] != 0)
		ctl_emit(pr, kinds[ev->pe_kind], ev, ev->pe_kind == PT_EV_EXEC ?
		    pr->dpr_exe : NULL, 0, 0);
	/* a static image's PREINIT is its exec stop, as at creation */
	if (ev->pe_kind == PT_EV_EXEC && rtld_dynamic(pr->dpr_rtld) == 0)
		ctl_emit(pr, DTPROC_EV_PREINIT, ev, NULL, 0, 0);
	/* a followed child: a handle of its own, before its parent runs */
	if (ev->pe_park.pk_pid != 0)
		ctl_follow_child(pr, ev);
	if (ev->pe_kind == PT_EV_EXIT || ev->pe_kind == PT_EV_LOST)
		return false;
	if (ev->pe_stopped)
		(void) pt_resume_thread(P, ev->pe_tid);
	return true;
}

static void
ctl_block_signals(void)
{
	static const int faults[] = { SIGABRT, SIGSEGV, SIGBUS, SIGILL,
	    SIGFPE };
	sigset_t set;

	/* process signals are the client's, never ours; faults stay ours */
	sigfillset(&set);
	for (size_t i = 0; i < sizeof (faults) / sizeof (faults[0]); i++)
		sigdelset(&set, faults[i]);
	/*
	 * Each stop of a tracee sends its tracer SIGCHLD.  Blocked here it
	 * would be queued for the process and wake some client thread on
	 * every breakpoint hit; left open with the default disposition, the
	 * kernel drops it at once.  A client that handles SIGCHLD gets them
	 * as before.
	 */
	struct sigaction sa;
	if (sigaction(SIGCHLD, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
	    sa.sa_handler == SIG_DFL)
		sigdelset(&set, SIGCHLD);
	(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/*
 * A test's hook into the hand-off (DTPROC_TEST_PARK=W,R[,mask], two
 * descriptor numbers, documented in dtproc(3)): before seizing a parked
 * child (or, with "mask", once its mask is back and before its
 * registers), say "parked PID PAGE" on W and wait for a byte (or end of
 * file) on R, so that a test may look at the child or kill us right in
 * that window.
 */
static void
ctl_park_hold_at(dtproc_proc_t *pr, bool mask)
{
	test_hold("DTPROC_TEST_PARK", mask ? "mask" : "", "parked %d %#lx\n",
	    (int)pr->dpr_park.pk_pid, (unsigned long)pr->dpr_park.pk_page);
}

static void
ctl_park_hold(void *arg)
{
	ctl_park_hold_at(arg, true);
}

static void *
ctl_main(void *arg)
{
	dtproc_proc_t *pr = arg;
	sigset_t empty;
	pt_event_t ev;
	bool alive = true;
	int rv;

	ctl_block_signals();
	sigemptyset(&empty);
	ctl_hold(pr);
	pr->dpr_wake = pt_wake_init();	/* unblocks only the wake signal */
	if (pr->dpr_created)
		rv = pt_create(pr->dpr_file, pr->dpr_argv, NULL, &empty,
		    &pr->dpr_P);
	else {
		if (pr->dpr_park.pk_pid != 0)
			ctl_park_hold_at(pr, false);
		rv = pt_grab(pr->dpr_pid, 0, &pr->dpr_P);
	}
	/* a followed child waits in its park page until given back its
	   registers and mask */
	if (rv == 0 && pr->dpr_park.pk_pid != 0) {
		if ((rv = pt_unpark(pr->dpr_P, &pr->dpr_park,
		    ctl_park_hold, pr)) >= 0) {
			pr->dpr_unparked = true;
			pr->dpr_park_late = rv == 1;
			rv = 0;
		}
	}
	if (rv != 0 || pr->dpr_wake == NULL) {
		if (rv == 0)
			(void) err_set(ENOMEM, "failed to control pid %d: out "
			    "of memory", (int)pt_pid(pr->dpr_P));
		err_save(&pr->dpr_err);
		if (rv == 0)
			(void) pt_release(pr->dpr_P, PT_RELEASE_DEFAULT);
		pr->dpr_P = NULL;
		pr->dpr_failed = true;
		goto done;
	}
	pr->dpr_pid = pt_pid(pr->dpr_P);
	snprintf(pr->dpr_exe, sizeof (pr->dpr_exe), "%s", pt_exe(pr->dpr_P));
	pt_set_wake(pr->dpr_P, pr->dpr_wake);
	pt_set_follow(pr->dpr_P, pr->dpr_follow);
	pt_set_fork_hook(pr->dpr_P, ctl_usdt_fork, pr);
	if ((pr->dpr_sym = sym_proc_new(pr->dpr_pid)) == NULL ||
	    (pr->dpr_rtld = rtld_new(pr->dpr_P, pr->dpr_sym)) == NULL) {
		(void) err_set(ENOMEM, "failed to control pid %d: out of "
		    "memory", (int)pr->dpr_pid);
		err_save(&pr->dpr_err);
		(void) pt_release(pr->dpr_P, pr->dpr_created ?
		    PT_RELEASE_KILL : PT_RELEASE_RUN);
		pr->dpr_P = NULL;
		pr->dpr_failed = true;
		goto done;
	}
	pr->dpr_nthreads = pt_nthreads(pr->dpr_P);
	/*
	 * A grab patches r_brk before any int3 is there (ctl_probe_brk): an
	 * int3 planted first would stay in the process's ld.so for its next
	 * dlopen should we be killed while the patch is made.
	 */
	if (rtld_enable(pr->dpr_rtld, pr->dpr_created,
	    pr->dpr_created) == 0) {
		pr->dpr_brk_todo = true;
		pr->dpr_brk_unplanted = !pr->dpr_created;
		ctl_probe_brk(pr);	/* a grab: now; an exec stop: later */
	}
	/*
	 * A milestone that will never come (a stripped static program has
	 * no findable main) is met at the exec, where the process rests
	 * anyway, rather than never.  A static program's exec stop is its
	 * PREINIT: everything is loaded, nothing has run; the event says so.
	 */
	if (pr->dpr_created) {
		unsigned never = 0;

		ctl_startup_begin(pr);

		if (rtld_dynamic(pr->dpr_rtld) == 0)
			ctl_emit(pr, DTPROC_EV_PREINIT, NULL, NULL, 0, 0);
		if (!rtld_preinit_due(pr->dpr_rtld))
			never |= DTPROC_STOP_PREINIT;
		if (!rtld_main_due(pr->dpr_rtld))
			never |= DTPROC_STOP_POSTINIT | DTPROC_STOP_MAIN;
		if (pr->dpr_stop & never) {
			pr->dpr_stop &= ~never;
			pr->dpr_stop |= DTPROC_STOP_CREATE;
		}
	}

	ctl_rendezvous(pr, pr->dpr_created ? DTPROC_STOP_CREATE :
	    DTPROC_STOP_GRAB);
	(void) pt_resume(pr->dpr_P);

	while (!pr->dpr_quit && alive) {
		ctl_serve(pr);
		ctl_unhold(pr);
		rv = pt_wait(pr->dpr_P, &ev, 1);
		ctl_hold(pr);
		if (rv == -EINTR) {
			if (pt_wake_pending(pr->dpr_wake))
				pt_wake_ack(pr->dpr_wake);
			ctl_fp_tick(pr);
			ctl_probe_upgrade(pr);	/* its timer, perhaps */
			continue;
		}
		if (rv < 0) {
			pt_state_t st = pt_state(pr->dpr_P);

			pr->dpr_state = st == PT_LOST ? DTPROC_PS_LOST :
			    DTPROC_PS_DEAD;
			pr->dpr_status = pt_exit_status(pr->dpr_P);
			alive = false;
			break;
		}
		alive = ctl_event(pr, &ev);
		pr->dpr_nthreads = pt_nthreads(pr->dpr_P);
		/* pending edits: the exec, or the vfork child, is over? */
		if (alive) {
			ctl_probe_retry(pr, ev.pe_kind == PT_EV_VFORK_DONE);
			ctl_fp_retry(pr);
			ctl_probe_upgrade(pr);
		}
	}
	/* the counts of every site kept past it (dtproc_probe_info) */
	if (pr->dpr_P != NULL) {
		ctl_probe_withdraw_all(pr, false);
		ctl_fp_withdraw_all(pr);
	}
	if (!alive) {
		/*
		 * The reference's PS_UNDEAD / PS_LOST: tell the client; a
		 * loss in the reference's words, as when it comes at start.
		 */
		char lost[CTL_MSG_MAX];

		snprintf(lost, sizeof (lost), CTL_LOST_FMT, (int)pr->dpr_pid);
		ctl_notify(pr->dpr_hdl, pr, pr->dpr_state == DTPROC_PS_LOST ?
		    lost : NULL);
		if (pr->dpr_state == DTPROC_PS_DEAD)
			(void) pt_release(pr->dpr_P, PT_RELEASE_DEFAULT);
		else
			(void) pt_release(pr->dpr_P, PT_RELEASE_RUN);
	} else {
		ctl_usdt_release(pr);	/* the semaphores we raised */
		(void) pt_release(pr->dpr_P, pr->dpr_relmode);
		pr->dpr_state = pr->dpr_relmode == PT_RELEASE_KILL ?
		    DTPROC_PS_DEAD : DTPROC_PS_LOST;
	}
	pr->dpr_P = NULL;
done:
	ctl_fail_requests(pr);
	pt_wake_fini(pr->dpr_wake);
	pr->dpr_wake = NULL;
	pr->dpr_done = true;
	(void) pthread_cond_broadcast(&pr->dpr_cv);
	ctl_unhold(pr);
	return NULL;
}

/* An absolute CLOCK_MONOTONIC time US from now (dpr_cv's clock). */
void
ctl_deadline(struct timespec *ts, long us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += us / 1000000L;
	ts->tv_nsec += (us % 1000000L) * 1000L;
	ts->tv_sec += ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

/* Sleep on dpr_cv (held) until woken or END (NULL: no limit); ETIMEDOUT. */
int
ctl_cv_wait(dtproc_proc_t *pr, const struct timespec *end)
{
	if (end == NULL)
		return pthread_cond_wait(&pr->dpr_cv, &pr->dpr_lock);
	return pthread_cond_timedwait(&pr->dpr_cv, &pr->dpr_lock, end);
}

/* Kick the control thread out of waitpid, then sleep US at most. */
static void
ctl_kick_wait(dtproc_proc_t *pr, long us)
{
	struct timespec ts;

	if (pr->dpr_wake != NULL)
		pt_wake_kick(pr->dpr_wake);
	ctl_deadline(&ts, us);
	(void) ctl_cv_wait(pr, &ts);
}

/* Why the control thread ended before the first rendezvous, recorded. */
static int
ctl_start_error(dtproc_proc_t *pr)
{
	int st = pr->dpr_status;

	if (pr->dpr_failed) {
		err_restore(&pr->dpr_err);
		/* execve's ENOEXEC: neither ELF nor a #! script */
		if (pr->dpr_created && err_code() == ENOEXEC)
			return err_set(DTPROC_ENOTELF, "%s", pr->dpr_err.er_msg);
		return -err_code();
	}
	if (pr->dpr_state == DTPROC_PS_LOST)
		return err_set(DTPROC_ELOST, CTL_LOST_FMT, (int)pr->dpr_pid);
	if (WIFSIGNALED(st))
		return err_set(DTPROC_EDEAD, "failed to control pid %d: process "
		    "died from signal %d", (int)pr->dpr_pid, WTERMSIG(st));
	return err_set(DTPROC_EDEAD, "failed to control pid %d: process "
	    "exited with status %d", (int)pr->dpr_pid, WEXITSTATUS(st));
}

/*
 * Start the control thread and wait until the process rests at its first
 * rendezvous (STOP), or the thread gave up.  0, or a negative code with
 * the calling thread's message set in the reference's words.
 */
int
ctl_start(dtproc_t *dtp, dtproc_proc_t *pr, unsigned stop)
{
	int err;

	(void) dtp;
	(void) pthread_mutex_lock(&pr->dpr_lock);
	pr->dpr_stop |= stop;
	err = pthread_create(&pr->dpr_tid, NULL, ctl_main, pr);
	if (err != 0) {
		(void) pthread_mutex_unlock(&pr->dpr_lock);
		return err_set(err, "failed to create control thread for "
		    "process-id %d: %s", (int)pr->dpr_pid, strerror(err));
	}
	pr->dpr_thread = true;
	while (!pr->dpr_done && !(pr->dpr_stop & CTL_STOP_IDLE))
		(void) ctl_cv_wait(pr, NULL);
	err = pr->dpr_done ? ctl_start_error(pr) : 0;
	(void) pthread_mutex_unlock(&pr->dpr_lock);
	return err;
}

/*
 * Ask the control thread to let the process go (HOW) and wait for it.
 * The kick is repeated on a short interval: one landing just before the
 * thread blocks in waitpid would otherwise be lost (wake.c).
 */
void
ctl_finish(dtproc_proc_t *pr, pt_release_t how)
{
	if (!pr->dpr_thread)
		return;
	(void) pthread_mutex_lock(&pr->dpr_lock);
	pr->dpr_relmode = how;
	pr->dpr_quit = true;
	pr->dpr_stop &= ~CTL_STOP_IDLE;
	(void) pthread_cond_broadcast(&pr->dpr_cv);
	while (!pr->dpr_done)
		ctl_kick_wait(pr, 2000);
	(void) pthread_mutex_unlock(&pr->dpr_lock);
	(void) pthread_join(pr->dpr_tid, NULL);
	pr->dpr_thread = false;
}

/*
 * Hand REQ to the control thread and wait for its answer, its error
 * record made the caller's.  The caller holds dpr_lock; waiting on dpr_cv
 * lets the control thread take it.
 */
long
ctl_request(dtproc_proc_t *pr, ctl_req_t *req)
{
	long backoff_us = 200;
	ctl_req_t **tail;

	if (pr->dpr_done || pr->dpr_P == NULL || !pr->dpr_thread)
		return ctl_gone(pr, 0);
	req->cr_done = false;
	req->cr_next = NULL;
	if (pthread_equal(pr->dpr_tid, pthread_self())) {
		/* from a callback: we are the control thread, serve it now */
		ctl_req_t *q = pr->dpr_reqs;

		pr->dpr_reqs = req;
		ctl_serve(pr);
		pr->dpr_reqs = q;
		return req->cr_rv;
	}
	for (tail = &pr->dpr_reqs; *tail != NULL; tail = &(*tail)->cr_next)
		;
	*tail = req;
	(void) pthread_cond_broadcast(&pr->dpr_cv);	/* if resting */
	while (!req->cr_done && !pr->dpr_done) {
		ctl_kick_wait(pr, backoff_us);
		if (backoff_us < 50000)
			backoff_us *= 2;
	}
	if (!req->cr_done)
		return ctl_gone(pr, 0);
	err_restore(&req->cr_err);
	return req->cr_rv;
}
