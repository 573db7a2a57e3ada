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

/* Plan the site at ADDR: 0, or -errno (the site then steps). */
int prb_plan(pt_proc_t *P, uintptr_t addr, pid_t tid);

#endif /* DTPROC_PROBE_H */
