/*
 * rtld.h - the run-time-linker agent: glibc's link maps and their events.
 *
 * What the reference reaches through librtld_db.  The agent finds r_debug
 * (the executable's DT_DEBUG, through the auxv's AT_PHDR; before ld.so
 * has run, ld.so's own _r_debug), walks the link maps of every namespace
 * (r_debug version 2 chains one r_debug per dlmopen namespace through
 * r_next), and, on a traced process, plants breakpoints at r_brk
 * (_dl_debug_state) and at main to report:
 *
 *   RTLD_EV_PREINIT   the initial load is complete and relocated, no
 *                     constructor has run (first RT_CONSISTENT)
 *   RTLD_EV_ACTIVITY  a dlopen/dlclose finished (RT_CONSISTENT), with the
 *                     objects it added and removed
 *   RTLD_EV_POSTINIT  constructors done, at main's first instruction
 *   RTLD_EV_MAIN      same stop: main, found by symbol or, when the
 *                     executable has none, as __libc_start_main's first
 *                     argument
 *
 * Reading needs no stop (a read-only handle serves for ldd and sym); the
 * breakpoints need the owner thread of a traced pt_proc_t.  A static
 * program has no agent: its objects come from the maps, and PREINIT is
 * the exec itself.  Debian 12's ld.so has no SDT probes, so r_brk is all
 * the agent uses.
 */
#ifndef DTPROC_RTLD_H
#define DTPROC_RTLD_H

#include "ptrace/pt.h"
#include "sym/sym.h"

typedef struct rtld rtld_t;

typedef enum rtld_ev_kind {
	RTLD_EV_NONE,
	RTLD_EV_PREINIT,
	RTLD_EV_ACTIVITY,
	RTLD_EV_POSTINIT,
	RTLD_EV_MAIN
} rtld_ev_kind_t;

typedef struct rtld_obj {
	char *ro_path;		/* l_name ("" for the executable) */
	uintptr_t ro_bias;	/* l_addr */
	uintptr_t ro_dyn;	/* l_ld */
	int ro_lmid;		/* namespace: index in the r_next chain */
} rtld_obj_t;

typedef struct rtld_ev {
	rtld_ev_kind_t re_kind;
	rtld_obj_t *re_added;	/* ACTIVITY: objects that appeared */
	size_t re_nadded;
	rtld_obj_t *re_removed;	/* ACTIVITY: objects that went away */
	size_t re_nremoved;
	uintptr_t re_main;	/* POSTINIT/MAIN: address of main */
} rtld_ev_t;

/* An agent for P, feeding S.  P may be a read-only handle. */
rtld_t *rtld_new(pt_proc_t *P, sym_proc_t *S);
void rtld_free(rtld_t *R);

/* Is the program dynamic (has an interpreter)?  1, 0, or -errno. */
int rtld_dynamic(rtld_t *R);

/*
 * Walk the link maps into S (sym_proc_set_objects).  -EAGAIN while a
 * namespace is not consistent (the lists may be torn: try again at the
 * next RT_CONSISTENT), -ENOENT when there is no r_debug yet or at all
 * (S then holds the objects of the maps).
 */
int rtld_refresh(rtld_t *R);

/* The objects of the last walk, in load order. */
const rtld_obj_t *rtld_objects(rtld_t *R, size_t *n);

/*
 * Plant the agent's breakpoints (owner only, traced P): r_brk, and main
 * for POSTINIT/MAIN.  CREATED says whether the process is at its exec
 * stop, so that PREINIT and main are still ahead.  Without PLANT, r_brk
 * is found but not planted: the caller patches it first, or plants it
 * with rtld_plant() (an int3 that a dtproc killed meanwhile would leave
 * in a grabbed process's ld.so).
 */
int rtld_enable(rtld_t *R, int created, int plant);
/* Plant r_brk found by rtld_enable: 0, or -errno with r_brk forgotten. */
int rtld_plant(rtld_t *R);

/* The address of r_brk the agent planted (0: none yet, or static). */
uintptr_t rtld_brk(const rtld_t *R);

/*
 * A BREAKPOINT event: 1 if the address is the agent's (and *OUT says what
 * it meant; RTLD_EV_NONE for an intermediate RT_ADD/RT_DELETE), 0 if not.
 * The owner then steps the thread over the site if it is still planted
 * (pt_bkpt_orig) and resumes it.  rtld_ev_free() releases *OUT's lists.
 */
int rtld_event(rtld_t *R, const pt_event_t *ev, rtld_ev_t *out);
void rtld_ev_free(rtld_ev_t *ev);

/* Will PREINIT and MAIN be reported (created process, after enable)? */
int rtld_preinit_due(rtld_t *R);
int rtld_main_due(rtld_t *R);

/* After an exec: forget the old image and its breakpoints. */
void rtld_exec(rtld_t *R);

#endif /* DTPROC_RTLD_H */
