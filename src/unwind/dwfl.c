/*
 * dwfl.c - the per-process Dwfl: modules reported from dtproc's own
 * knowledge, dtproc's thread callbacks, and the CFI walk of one thread.
 *
 * Why our own callbacks: the threads are already ours (ptrace lets only
 * the attaching thread touch them), so libdwfl must not attach, stop or
 * read registers by itself as dwfl_linux_proc_attach would.  Memory comes
 * through pt_mem_read (process_vm_readv, any thread) with a small page
 * cache that lives for one walk, since the unwinder reads the stack a
 * word at a time; registers are those the caller read with pt_regs_site.
 *
 * Why our own modules: the symbols layer already knows every object, its
 * path and bias (link maps, or the maps), so each is one dwfl_report_elf;
 * the vdso, which has no file, is copied from memory into a memfd.  The
 * Dwfl is rebuilt only when sym_proc_gen() moved (dlopen, dlclose, exec):
 * libdw keeps each module's parsed .eh_frame_hdr and CFI between walks.
 *
 * libdw reads .eh_frame first and .debug_frame (the file's own, or a
 * debug file found by build-id) when that fails.
 */
#include "unwind.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define UNW_PAGE	4096
#define UNW_NPAGES	8	/* stack pages cached during one walk */

struct unw_proc {
	pid_t up_pid;
	Dwfl *up_dwfl;		/* NULL until the first walk */
	bool up_attached;	/* dwfl_attach_state succeeded */
	unsigned up_gen;	/* sym_proc_gen() it was built from */
	unsigned up_reports;	/* builds, for tests */
	/* during one walk */
	pt_proc_t *up_P;
	pid_t up_tid;
	const arch_regs_t *up_regs;
	struct {
		uintptr_t pc_addr;	/* page address, 0: empty */
		bool pc_bad;		/* unreadable */
		unsigned char pc_data[UNW_PAGE];
	} up_cache[UNW_NPAGES];
	unsigned up_next;	/* round-robin victim */
};

unw_proc_t *
unw_proc_new(pid_t pid)
{
	unw_proc_t *U = calloc(1, sizeof (*U));

	if (U != NULL)
		U->up_pid = pid;
	return U;
}

void
unw_proc_free(unw_proc_t *U)
{
	if (U == NULL)
		return;
	if (U->up_dwfl != NULL)
		dwfl_end(U->up_dwfl);
	free(U);
}

unsigned
unw_reports(const unw_proc_t *U)
{
	return U == NULL ? 0 : U->up_reports;
}

/* ---- thread callbacks ---- */

static pid_t
unw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	unw_proc_t *U = arg;

	(void) dwfl;
	/* only the thread being walked exists for libdwfl */
	if (*thread_argp != NULL || U->up_regs == NULL)
		return 0;
	*thread_argp = U;
	return U->up_tid;
}

static bool
unw_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	unw_proc_t *U = arg;

	(void) dwfl;
	if (U->up_regs == NULL || tid != U->up_tid)
		return false;
	*thread_argp = U;
	return true;
}

static bool
unw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	unw_proc_t *U = arg;
	uintptr_t page = (uintptr_t)addr & ~(uintptr_t)(UNW_PAGE - 1);
	size_t off = (uintptr_t)addr - page;

	(void) dwfl;
	if (U->up_P == NULL || addr == 0)
		return false;
	if (off + sizeof (*result) > UNW_PAGE) {	/* straddles pages */
		return pt_mem_read(U->up_P, (uintptr_t)addr, result,
		    sizeof (*result)) == (ssize_t)sizeof (*result);
	}
	for (unsigned i = 0; i < UNW_NPAGES; i++) {
		if (U->up_cache[i].pc_addr != page)
			continue;
		if (U->up_cache[i].pc_bad)
			return false;
		memcpy(result, U->up_cache[i].pc_data + off,
		    sizeof (*result));
		return true;
	}
	unsigned i = U->up_next++ % UNW_NPAGES;
	U->up_cache[i].pc_addr = page;
	U->up_cache[i].pc_bad = pt_mem_read(U->up_P, page,
	    U->up_cache[i].pc_data, UNW_PAGE) != UNW_PAGE;
	if (U->up_cache[i].pc_bad)	/* a page partly readable? one word */
		return pt_mem_read(U->up_P, (uintptr_t)addr, result,
		    sizeof (*result)) == (ssize_t)sizeof (*result);
	memcpy(result, U->up_cache[i].pc_data + off, sizeof (*result));
	return true;
}

static bool
unw_initial_registers(Dwfl_Thread *thread, void *arg)
{
	unw_proc_t *U = arg;
	uint64_t v[ARCH_DWARF_NREGS];
	Dwarf_Word dw[ARCH_DWARF_NREGS];

	arch_dwarf_regs(U->up_regs, v);
	for (int i = 0; i < ARCH_DWARF_NREGS; i++)
		dw[i] = v[i];
	if (!dwfl_thread_state_registers(thread, 0, ARCH_DWARF_NREGS, dw))
		return false;
	dwfl_thread_state_register_pc(thread, arch_pc(U->up_regs));
	return true;
}

static const Dwfl_Thread_Callbacks unw_thread_callbacks = {
	.next_thread = unw_next_thread,
	.get_thread = unw_get_thread,
	.memory_read = unw_memory_read,
	.set_initial_registers = unw_initial_registers,
};

static char *unw_debuginfo_path = NULL;	/* libdwfl's default */

static const Dwfl_Callbacks unw_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	/* local build-id paths only: never a debuginfod download from a
	   control thread in the middle of a breakpoint hit */
	.find_debuginfo = dwfl_build_id_find_debuginfo,
	.debuginfo_path = &unw_debuginfo_path,
};

/* ---- modules ---- */

/* The vdso has no file: copy it from memory into a memfd for libdwfl. */
static void
unw_report_vdso(unw_proc_t *U, pt_proc_t *P, Dwfl *dwfl)
{
	pt_map_t *maps;
	size_t n;

	if (pt_maps_read(U->up_pid, &maps, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t len = maps[i].pm_end - maps[i].pm_start;
		void *buf;
		int fd;

		if (strcmp(maps[i].pm_path, "[vdso]") != 0 || len > (1 << 20))
			continue;
		if ((buf = malloc(len)) == NULL)
			break;
		if (pt_mem_read(P, maps[i].pm_start, buf, len) ==
		    (ssize_t)len &&
		    (fd = memfd_create("dtproc-vdso", MFD_CLOEXEC)) >= 0) {
			if (write(fd, buf, len) != (ssize_t)len ||
			    dwfl_report_elf(dwfl, "[vdso]", "[vdso]", fd,
			    maps[i].pm_start, false) == NULL)
				(void) close(fd);	/* not consumed */
		}
		free(buf);
		break;
	}
	pt_maps_free(maps, n);
}

/* Build (or rebuild) the Dwfl from S's objects; false if none at all. */
static bool
unw_report(unw_proc_t *U, pt_proc_t *P, sym_proc_t *S)
{
	sym_objinfo_t oi;
	Dwfl *dwfl;

	if (U->up_dwfl != NULL && U->up_gen == sym_proc_gen(S))
		return U->up_attached;
	if (U->up_dwfl != NULL)
		dwfl_end(U->up_dwfl);
	U->up_attached = false;
	U->up_gen = sym_proc_gen(S);
	U->up_reports++;
	if ((U->up_dwfl = dwfl = dwfl_begin(&unw_callbacks)) == NULL)
		return false;
	dwfl_report_begin(dwfl);
	for (size_t i = 0; sym_object(S, i, &oi) == 0; i++) {
		/* files only: "linux-vdso.so.1" and the like have none */
		if (oi.so_path == NULL || oi.so_path[0] != '/' ||
		    oi.so_bias == (uintptr_t)-1)
			continue;
		(void) dwfl_report_elf(dwfl, oi.so_name, oi.so_path, -1,
		    oi.so_bias, false);
	}
	unw_report_vdso(U, P, dwfl);
	(void) dwfl_report_end(dwfl, NULL, NULL);
	U->up_attached = dwfl_attach_state(dwfl, NULL, U->up_pid,
	    &unw_thread_callbacks, U);
	return U->up_attached;
}

/* ---- the walk ---- */

typedef struct unw_walk {
	unw_frame_t *uw_frames;
	int uw_n, uw_max;
	pt_proc_t *uw_P;
	bool uw_tramp;		/* stopped at a pc in a trampoline */
} unw_walk_t;

static int
unw_frame_cb(Dwfl_Frame *state, void *arg)
{
	unw_walk_t *w = arg;
	unw_frame_t *f = &w->uw_frames[w->uw_n];
	Dwarf_Addr pc;
	Dwarf_Word v;
	bool act;

	if (!dwfl_frame_pc(state, &pc, &act))
		return DWARF_CB_ABORT;
	f->uf_pc = pc;
	f->uf_exact = act;
	f->uf_how = UNW_F_CFI;
	f->uf_fp = dwfl_frame_reg(state, ARCH_DWARF_FP, &v) == 0 ? v : 0;
	f->uf_sp = dwfl_frame_reg(state, ARCH_DWARF_SP, &v) == 0 ? v : 0;
	/*
	 * A trampoline has no CFI, and libdw's own fallback (the frame
	 * pointer) would skip the site's caller: the walk stops there, for
	 * walk.c to go on from the site.
	 */
	uintptr_t site;
	size_t depth;

	if (pt_tramp_where(w->uw_P, f->uf_pc, &site, &depth) == 1) {
		w->uw_tramp = true;
		w->uw_n++;
		return DWARF_CB_ABORT;
	}
	return ++w->uw_n < w->uw_max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/*
 * Walk TID's stack by CFI from REGS into FRAMES (at most MAX).  Returns
 * the number of frames; *COMPLETE says the walk ended at the outermost
 * frame (or at MAX) rather than on an error.
 */
int
unw_cfi_walk(unw_proc_t *U, pt_proc_t *P, sym_proc_t *S, pid_t tid,
    const arch_regs_t *regs, unw_frame_t *frames, int max,
    bool *complete)
{
	unw_walk_t w = { frames, 0, max, P, false };
	int rv;

	*complete = false;
	if (!unw_report(U, P, S))
		return 0;
	U->up_P = P;
	U->up_tid = tid;
	U->up_regs = regs;
	for (unsigned i = 0; i < UNW_NPAGES; i++)
		U->up_cache[i].pc_addr = 0;
	rv = dwfl_getthread_frames(U->up_dwfl, tid, unw_frame_cb, &w);
	U->up_P = NULL;
	U->up_regs = NULL;
	*complete = !w.uw_tramp && (rv == 0 || w.uw_n >= max);
	return w.uw_n;
}

/* A word of the tracee through the walk's cache (the FP fallback). */
bool
unw_read_word(unw_proc_t *U, pt_proc_t *P, uintptr_t addr, uint64_t *val)
{
	bool ok;
	Dwarf_Word w;

	U->up_P = P;
	ok = unw_memory_read(NULL, addr, &w, U);
	U->up_P = NULL;
	if (ok)
		*val = w;
	return ok;
}
