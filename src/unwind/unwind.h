/*
 * unwind.h - user stacks: unwinding one thread of a traced process with
 * elfutils libdw's CFI unwinder, and naming its frames as ustack() does.
 *
 * An unw_proc_t is one process's unwinding state: a Dwfl whose modules are
 * the objects the symbols layer knows (one dwfl_report_elf each, plus the
 * vdso from memory), attached with dtproc's own callbacks (memory through
 * pt_mem_read, registers through pt_regs_site: the site's at a
 * trampoline's trap): libdwfl never attaches, never calls ptrace.  The Dwfl is kept between stacks and rebuilt only
 * when the symbols layer's object list changed (sym_proc_gen: dlopen,
 * dlclose, exec), so a repeated stack pays only for the walk.
 *
 * Threads: unw_stack() must run on the process's owner (its control
 * thread), with TID in a ptrace stop; the caller serializes calls (the
 * handle's lock).  unw_frame_name() reads no tracee state beyond what the
 * symbols layer holds and may run on any thread under the same lock.
 */
#ifndef DTPROC_UNWIND_H
#define DTPROC_UNWIND_H

#include "ptrace/pt.h"
#include "sym/sym.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define UNW_DEPTH_DEFAULT	64
#define UNW_DEPTH_MAX		1024

typedef struct unw_proc unw_proc_t;

/* Frame kinds, one per pc unw_stack() returns (UNW_F_*). */
#define UNW_F_CFI	0x1	/* reached through CFI (.eh_frame, .debug_frame) */
#define UNW_F_FP	0x2	/* reached through the frame-pointer chain */
#define UNW_F_EXACT	0x4	/* an exact pc (first frame, or interrupted by a
				   signal), not a return address */

unw_proc_t *unw_proc_new(pid_t pid);
void unw_proc_free(unw_proc_t *U);

/*
 * Unwind thread TID of P (stopped; the caller is P's owner) into PCS, at
 * most MAX (clamped to UNW_DEPTH_MAX) frames, PCS[0] the thread's pc;
 * FLAGS, if not NULL, gets each frame's UNW_F_* bits.  Modules come from
 * S.  Returns the number of frames, or -errno with a sentence naming pid,
 * tid and reason as the calling thread's last error (err_msg()).
 */
int unw_stack(unw_proc_t *U, pt_proc_t *P, sym_proc_t *S, pid_t tid,
    uintptr_t *pcs, unsigned char *flags, int max);

/* How many times the modules were (re)reported: for tests and bench. */
unsigned unw_reports(const unw_proc_t *U);

/*
 * Name PC as ustack() prints it: "object`function+0xoff" (no "+0x0"),
 * "object`0xADDR" in an object without a covering symbol, "0xADDR" in
 * anonymous memory or nowhere.  FLAGS: UNW_FRAME_CALLER, PC is a return
 * address, so the function is looked up at PC - 1 (a call that ends a
 * function returns past it; the offset printed is still PC's);
 * UNW_FRAME_MANGLED, names as the symbol table spells them (else C++ and
 * Rust names demangled).  The same bits as dtproc.h's DTPROC_FRAME_*.
 * Returns the length it needed (as snprintf).
 */
#define UNW_FRAME_CALLER	0x1
#define UNW_FRAME_MANGLED	0x2
int unw_frame_name(sym_proc_t *S, uintptr_t pc, int caller, char *buf,
    size_t len);

/* ---- inside the layer ---- */

#include <stdbool.h>

/* One frame of a CFI walk (dwfl.c), for walk.c. */
typedef struct unw_frame {
	uintptr_t uf_pc;
	bool uf_exact;		/* activation: not a return address */
	unsigned char uf_how;	/* UNW_F_CFI or UNW_F_FP */
	uintptr_t uf_fp;	/* the frame's frame and stack pointers */
	uintptr_t uf_sp;	/* (0: unknown) */
} unw_frame_t;

int unw_cfi_walk(unw_proc_t *U, pt_proc_t *P, sym_proc_t *S, pid_t tid,
    const arch_regs_t *regs, unw_frame_t *frames, int max,
    bool *complete);
bool unw_read_word(unw_proc_t *U, pt_proc_t *P, uintptr_t addr,
    uint64_t *val);

/* demangle.c: NAME demangled into BUF, or NAME itself if not mangled
 * (sym_demangle: C++ and Rust). */
const char *unw_demangle(const char *name, char *buf, size_t len);

#endif /* DTPROC_UNWIND_H */
