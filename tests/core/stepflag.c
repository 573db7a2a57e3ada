/*
 * stepflag.c - a single step leaves no trap flag behind (step.c): not in
 * the flags image a stepped pushf stores, not in the registers after a
 * stepped popf (the kernel then takes the flag for the program's, keeps
 * it over every later step and leaves it set at detach).
 *
 * The victim (stepv) has sv_flags: pushfq, popfq, pushfq, pop %rax,
 * ret.  Its first three instructions are breakpoints, lifted, so that
 * pt_bkpt_step steps each one (a carried or copied site would not be
 * stepped); then the process is let go.  The flags sv_flags returns are
 * the image of its second pushfq; a SIGTRAP would be reported by the
 * victim's handler.
 */
#include "harness.h"

#include <poll.h>

#define ARCH_TF_BIT	0x100UL		/* x86-64 RFLAGS.TF */

/* The next line of V that is not a worker's; fails on a SIGTRAP. */
static char *
next_line(struct victim *v, char *line, size_t n, const char *prefix)
{
	for (;;) {
		struct pollfd p = { .fd = v->out, .events = POLLIN };
		int r;

		while ((r = poll(&p, 1, 20000)) < 0 && errno == EINTR)
			;
		CHECK_MSG(r > 0, "no \"%s\" from the victim", prefix);
		if (victim_readline(v, line, n) < 0)
			FAIL("the victim ended: %s", wstatus_str(victim_wait(v)));
		CHECK_MSG(strncmp(line, "sigtrap", 7) != 0, "the victim was "
		    "let go single-stepping: %s", line);
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return line;
	}
}

TEST(stepflag_pushf_popf)
{
	char *args[] = { "1", NULL };
	char line[256];
	struct victim v;
	pt_event_t ev;
	uintptr_t fn;
	pt_proc_t *P;
	unsigned long fl;

	signal(SIGPIPE, SIG_IGN);
	spawn_ready("stepv", args, &v, line, sizeof (line));
	fn = line_field(line, "flags");
	P = grab_ok(v.pid, 0);
	for (int i = 0; i < 3; i++)
		CHECK_PT(pt_bkpt_set(P, fn + i));
	CHECK_PT(pt_resume(P));
	victim_send(&v, "f\n");
	wait_for_event(P, PT_EV_BREAKPOINT, &ev, NULL, 20);
	CHECK_EQ_INT(ev.pe_addr, fn);
	CHECK_PT(pt_bkpt_lift(P));
	for (int i = 0; i < 3; i++)
		CHECK_PT(pt_bkpt_step(P, ev.pe_tid));
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	next_line(&v, line, sizeof (line), "flags ");
	fl = strtoul(line + 6, NULL, 0);
	CHECK_MSG(!(fl & ARCH_TF_BIT), "a stepped pushf stored the trap "
	    "flag: %#lx", fl);
	/* and the thread itself runs on without it */
	(void) !write(v.in, "s\n", 2);
	next_line(&v, line, sizeof (line), "steady");
	victim_send(&v, "q\n");
	CHECK_EXITED(victim_wait(&v), 0);
	victim_close(&v);
}
