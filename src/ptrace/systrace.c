/*
 * systrace.c - system-call exit stops, while the owner wants them.
 *
 * A created process's objects are mapped by ld.so's own system calls long
 * before the link maps say anything (they stay RT_ADD until every object
 * is loaded and relocated): the exit of each call is where the owner
 * learns what changed and may edit the new text before any of it runs.
 * Only the exits are events; an entry stop is passed on at once, its
 * number and arguments kept for the exit (PTRACE_GET_SYSCALL_INFO gives
 * no arguments there).  Switched off, threads go back to PTRACE_CONT at
 * their next restart: nothing is paid once the owner has what it wanted.
 */
#include "pt_impl.h"

#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

/* As a stop that carries nothing: restarted, unless the owner gathers. */
static void
pt_sys_pass(pt_proc_t *P, pt_thread_t *T)
{
	if (P->pp_stopping == 0 && !P->pp_held)
		(void) pt_restart(P, T);
}

void
pt_set_systrace(pt_proc_t *P, bool on)
{
	PT_ASSERT_OWNER(P);
	P->pp_systrace = on;
	for (int i = 0; i < P->pp_nthr; i++)
		P->pp_thr[i].pt_sysent = false;
}

/* A syscall-stop (SIGTRAP | 0x80) of T: entry noted, exit an event. */
void
pt_sysstop(pt_proc_t *P, pt_thread_t *T)
{
	struct __ptrace_syscall_info si;

	memset(&si, 0, sizeof (si));
	if (pt_ptrace(PTRACE_GET_SYSCALL_INFO, T->pt_tid,
	    (void *)sizeof (si), &si) <= 0)
		si.op = PTRACE_SYSCALL_INFO_NONE;
	if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
		T->pt_sysent = true;
		T->pt_sysnr = (long)si.entry.nr;
		for (int i = 0; i < 6; i++)
			T->pt_sysargs[i] = (unsigned long)si.entry.args[i];
		pt_sys_pass(P, T);
		return;
	}
	if (si.op != PTRACE_SYSCALL_INFO_EXIT || !T->pt_sysent ||
	    !P->pp_systrace || (T->pt_flags & PT_TF_GUEST)) {
		T->pt_sysent = false;
		pt_sys_pass(P, T);
		return;
	}
	T->pt_sysent = false;
	/* the kernel is done with its call: one of ours may run here */
	T->pt_flags |= PT_TF_SYSSTOP | PT_TF_HELD;

	pt_event_t ev = { .pe_kind = PT_EV_SYSCALL, .pe_tid = T->pt_tid,
	    .pe_stopped = 1, .pe_sysnr = T->pt_sysnr,
	    .pe_sysret = (long)si.exit.rval };

	memcpy(ev.pe_sysargs, T->pt_sysargs, sizeof (ev.pe_sysargs));
	pt_evq_push(P, &ev);
}
