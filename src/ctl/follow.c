/*
 * follow.c - children that become controlled processes of their own.
 *
 * With follow on, the core parks each fork child (cleaned of our sites:
 * the parent's int3s and jumps are not the child's) and each vfork child
 * at its exec (before that it runs on its parent's memory, as a guest)
 * instead of letting it go (ptrace/follow.c).  The parent's control
 * thread then makes the child a handle with a control thread of its own
 * (ctl_adopt: it seizes the child, which has not run an instruction of
 * its own, and rests at GRAB), and tells the client with a FOLLOW event
 * carrying the handle, its forking thread still stopped: the client arms
 * the child and continues it there, so that no call of the child's goes
 * uncounted.  The child's own probes count in its own shared page: the
 * parent's page, inherited, is never reached again once the jumps into
 * it are gone.
 */
#include "ctl.h"

#include <errno.h>

DTPROC_API int
dtproc_follow(dtproc_t *dtp, dtproc_proc_t *pr, int on)
{
	ctl_req_t req = { .cr_op = CTL_FOLLOW, .cr_flags = on != 0 };
	bool took;
	long rv;

	(void) dtp;
	ctl_enter(pr, &took);
	if (pr->dpr_rdonly)
		rv = err_set(EPERM, "pid %d: grabbed read-only: no children "
		    "to follow", (int)pr->dpr_pid);
	else
		rv = ctl_request(pr, &req);
	ctl_leave(pr, took);
	return (int)rv;
}

void
ctl_follow_child(dtproc_proc_t *pr, const pt_event_t *ev)
{
	dtproc_t *dtp = pr->dpr_hdl;
	dtproc_proc_t *child;

	if ((child = ctl_adopt(dtp, &ev->pe_park)) == NULL) {
		pt_dprintf("pid %d: child %d not followed: %s\n",
		    (int)pr->dpr_pid, (int)ev->pe_park.pk_pid, err_msg());
		return;
	}
	if (dtp->dph_event != NULL) {
		dtproc_event_t de = { .de_kind = DTPROC_EV_FOLLOW,
		    .de_tid = ev->pe_tid, .de_child = ev->pe_park.pk_pid,
		    .de_proc = child };

		dtp->dph_event(dtp, pr, &de, dtp->dph_event_arg);
	}
}
