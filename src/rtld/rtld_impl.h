/*
 * rtld_impl.h - private state of the run-time-linker agent.
 */
#ifndef DTPROC_RTLD_IMPL_H
#define DTPROC_RTLD_IMPL_H

#include "rtld.h"

#include <stdint.h>

typedef struct rtld_rdebug {
	int rd_version;
	uintptr_t rd_map;	/* first link_map */
	uintptr_t rd_brk;	/* _dl_debug_state, or 0 before ld.so ran */
	int rd_state;		/* RT_CONSISTENT, RT_ADD, RT_DELETE */
	uintptr_t rd_next;	/* next namespace's r_debug (version >= 2) */
} rtld_rdebug_t;

struct rtld {
	pt_proc_t *rt_proc;	/* the process (maybe read-only) */
	sym_proc_t *rt_sym;	/* its objects, which we keep current */
	int rt_probed;		/* auxv and headers read */
	uintptr_t rt_phdr;	/* AT_PHDR */
	size_t rt_phnum;	/* AT_PHNUM */
	uintptr_t rt_ldbase;	/* AT_BASE: ld.so */
	uintptr_t rt_entry;	/* AT_ENTRY */
	uintptr_t rt_exe_dyn;	/* the executable's _DYNAMIC */
	int rt_interp;		/* has PT_INTERP: dynamic */
	int rt_self;		/* is ld.so, run as the program */
	uintptr_t rt_rdebug;	/* base namespace's r_debug */
	rtld_obj_t *rt_objs;	/* last consistent walk */
	size_t rt_nobjs;
	/* breakpoints of a controlled process */
	uintptr_t rt_brk;	/* at r_brk, or 0 */
	uintptr_t rt_start_bp;	/* at __libc_start_main, to learn main */
	uintptr_t rt_main_bp;	/* at main */
	int rt_preinit_due;	/* next RT_CONSISTENT is PREINIT */
	int rt_need_base;	/* grabbed mid-change: the next consistent
				   list is the baseline, not activity */
};

int rtld_ldso_sym(rtld_t *R, const char *name, sym_info_t *si);
int rtld_read_rdebug(rtld_t *R, uintptr_t addr, rtld_rdebug_t *rd);
int rtld_walk(rtld_t *R, rtld_obj_t **objsp, size_t *np);

#endif /* DTPROC_RTLD_IMPL_H */
