/*
 * xol.c - scratch areas in the tracee for out-of-line copies.
 *
 * An instruction relocated out of line keeps its pc-relative operands
 * only if its copy lies within +-2 GB of what they address, so areas are
 * mapped near the code they serve: in the gap of the address space
 * nearest to the site, with MAP_FIXED_NOREPLACE so that nothing of the
 * program's is ever displaced.  An area is readable and executable only;
 * we write it through /proc/PID/mem.  It is named "[anon:dtproc-xol]" in
 * the maps where the kernel allows, so that people can see what it is.
 *
 * Slots are never reused for another instruction while their site's
 * text is mapped: a thread may still be running a copy when its site
 * goes (the copy jumps back to text that is still there).  A site armed
 * again with the same instruction finds its old slot (pt_xol_find).
 * Once the text is unmapped (unmap.c) no thread can come back through
 * the copy, and the slot is freed for another site (pt_xol_release), so
 * a plugin loaded and unloaded forever needs no new slots.  At exec
 * the areas went with the old image; when we let go, threads inside one
 * are stepped out and the areas unmapped.
 *
 * Trampolines (pt_tramp_slot) share the areas.  They come in a few size
 * classes, each with a list of freed slots: the caller frees a slot only
 * once no thread can be inside it (its patch is gone and every thread
 * was seen outside), so a site armed and disarmed forever takes and gives
 * back the same slot, and the areas do not grow.
 */
#include "pt_impl.h"

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#define PT_XOL_AREA	(256 * 1024)
#define PT_XOL_SLOT	32
/* keep every slot of an area well within a rel32 of the code it serves */
#define PT_XOL_REACH	((uintptr_t)0x7fff0000 - PT_XOL_AREA)
#define PT_XOL_LOW	((uintptr_t)1 << 20)
#define PT_XOL_HIGH	((uintptr_t)0x7ffffffff000 - PT_XOL_AREA)
#define PT_XOL_NAME	"dtproc-xol"
#define PT_XOL_STUB_END	(4 * PT_XOL_SLOT)	/* the resume stub's slots end */

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static uintptr_t
pt_dist(uintptr_t a, uintptr_t b)
{
	return a > b ? a - b : b - a;
}

/* Trampoline size classes: a multiple of PT_XOL_SLOT each. */
static const size_t pt_tclass[PT_TRAMP_NCLASS] = { 64, 128, ARCH_TRAMP_MAX };

static_assert(ARCH_TRAMP_MAX % PT_XOL_SLOT == 0,
    "trampoline slots keep the area's alignment");

void
pt_xol_reset(pt_proc_t *P)
{
	P->pp_nxol = 0;
	P->pp_nslots = 0;
	P->pp_entry = 0;
	P->pp_stub = 0;
	P->pp_stub_none = false;
	for (int c = 0; c < PT_TRAMP_NCLASS; c++)
		P->pp_tfree[c].pf_n = P->pp_tfree[c].pf_total = 0;
}

void
pt_xol_free(pt_proc_t *P)
{
	free(P->pp_xol);
	free(P->pp_slots);
	for (int c = 0; c < PT_TRAMP_NCLASS; c++)
		free(P->pp_tfree[c].pf_slot);
}

int
pt_xol_contains(const pt_proc_t *P, uintptr_t addr)
{
	for (int i = 0; i < P->pp_nxol; i++) {
		if (addr >= P->pp_xol[i].px_start &&
		    addr < P->pp_xol[i].px_start + P->pp_xol[i].px_size)
			return 1;
	}
	return 0;
}

/* Where the program's brk heap starts (field 47 of stat), or 0. */
static uintptr_t
pt_xol_brk(pid_t pid)
{
	char path[64], buf[4096], *p;
	unsigned long v = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof (path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof (buf) - 1);
	close(fd);
	if (n <= 0 || (p = strrchr((buf[n] = '\0', buf), ')')) == NULL)
		return 0;
	/* after "(comm)" comes field 3; start_brk is field 47 */
	for (field = 2; field < 47 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		v = strtoul(p + 1, NULL, 10);
	return (uintptr_t)v;
}

/*
 * The page-aligned start of a free gap of the maps nearest to NEAR, away
 * from the first GiB above the heap's start and below the main stack,
 * where brk and the stack must stay free to grow.
 */
static uintptr_t
pt_xol_place(pt_proc_t *P, uintptr_t near)
{
	uintptr_t best = 0, lo = PT_XOL_LOW, brk = pt_xol_brk(P->pp_pid);
	const uintptr_t heap_room = (uintptr_t)1 << 30;
	pt_map_t *maps;
	size_t n;

	if (pt_maps_read(P->pp_pid, &maps, &n) != 0)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		uintptr_t gs = lo, ge = i < n ? maps[i].pm_start : PT_XOL_HIGH;
		uintptr_t at;

		if (i < n)
			lo = maps[i].pm_end > lo ? maps[i].pm_end : lo;
		/* the main stack grows down into the gap below it */
		if (i < n && strcmp(maps[i].pm_path, "[stack]") == 0)
			ge = ge > gs + heap_room ? ge - heap_room : gs;
		/* leave a page free on each side: stacks grow, guards sit */
		gs += 4096;
		if (ge < gs + PT_XOL_AREA + 4096)
			continue;
		ge -= 4096;
		if (near < gs)
			at = gs;
		else if (near >= ge - PT_XOL_AREA)
			at = ge - PT_XOL_AREA;
		else
			at = near & ~(uintptr_t)4095;
		if (brk != 0 && at + PT_XOL_AREA > brk &&
		    at < brk + heap_room) {
			/* keep clear of the heap: below it if it fits */
			if (brk >= gs + PT_XOL_AREA + 4096 && brk <= ge)
				at = (brk - PT_XOL_AREA - 4096) & ~(uintptr_t)4095;
			else if (brk + heap_room + PT_XOL_AREA <= ge)
				at = brk + heap_room;
			else
				continue;
		}
		if (pt_dist(at, near) <= PT_XOL_REACH &&
		    (best == 0 || pt_dist(at, near) < pt_dist(best, near)))
			best = at;
	}
	pt_maps_free(maps, n);
	return best;
}

static int
pt_xol_map(pt_proc_t *P, uintptr_t near, pid_t keep)
{
	uintptr_t at = pt_xol_place(P, near);
	pt_xol_area_t *a;
	long ret = 0;
	int rv;

	if (at == 0)
		return err_set(ENOMEM, "pid %d: no room for a scratch "
		    "area near %#lx", (int)P->pp_pid, (unsigned long)near);
	a = realloc(P->pp_xol, (P->pp_nxol + 1) * sizeof (*a));
	if (a == NULL)
		return -ENOMEM;
	P->pp_xol = a;
	long args[6] = { (long)at, PT_XOL_AREA, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0 };
	if ((rv = pt_syscall(P, keep, SYS_mmap, args, &ret)) != 0)
		return rv;
	if ((uintptr_t)ret != at) {
		if (ret > 0 || ret < -4095) {
			long un[6] = { ret, PT_XOL_AREA };
			(void) pt_syscall(P, keep, SYS_munmap, un, &ret);
		}
		return err_set(ret < 0 && ret > -4096 ? (int)-ret :
		    EEXIST, "pid %d: cannot map a scratch area at %#lx",
		    (int)P->pp_pid, (unsigned long)at);
	}
	a = &P->pp_xol[P->pp_nxol++];
	a->px_start = at;
	a->px_size = PT_XOL_AREA;
	/* the first slot holds the name, the next ones the resume stub */
	a->px_used = PT_XOL_STUB_END;
	(void) pt_mem_write(P, at + PT_XOL_SLOT, arch_resume_code,
	    sizeof (arch_resume_code));
	if (pt_mem_write(P, at, PT_XOL_NAME, sizeof (PT_XOL_NAME)) ==
	    sizeof (PT_XOL_NAME)) {
		long nm[6] = { PR_SET_VMA, PR_SET_VMA_ANON_NAME, (long)at,
		    PT_XOL_AREA, (long)at };
		(void) pt_syscall(P, keep, SYS_prctl, nm, &ret);
	}
	return 0;
}

/*
 * A resume stub before the calls that need one: with none in the process
 * yet, the area a slot near NEAR would get is mapped now (its own mmap
 * the one call left to run with the entry point's trap).
 */
void
pt_xol_stub_near(pt_proc_t *P, uintptr_t near)
{
	PT_ASSERT_OWNER(P);
	if (P->pp_nxol == 0 && pt_xol_stub(P) == 0)
		(void) pt_xol_map(P, near, 0);
}

static_assert(PT_XOL_SLOT + ARCH_RESUME_LEN <= PT_XOL_STUB_END,
    "the stub fits its slots");

/* Is there a scratch area at AT, with the resume stub in place? */
/* B: an area's first bytes, with the stub? */
static bool
pt_xol_is_stub(const uint8_t b[PT_XOL_SLOT + ARCH_RESUME_LEN])
{
	return memcmp(b, PT_XOL_NAME, sizeof (PT_XOL_NAME)) == 0 &&
	    memcmp(b + PT_XOL_SLOT, arch_resume_code,
	    sizeof (arch_resume_code)) == 0;
}

static bool
pt_xol_has_stub(pt_proc_t *P, uintptr_t at)
{
	uint8_t b[PT_XOL_SLOT + ARCH_RESUME_LEN];

	return pt_mem_read(P, at, b, sizeof (b)) == (ssize_t)sizeof (b) &&
	    pt_xol_is_stub(b);
}

/*
 * Is the resume stub at STUB in PID, a process with no pt_proc_t of
 * ours (a fork child between owners: its parent's stub, inherited)?
 */
bool
pt_xol_stub_in(pid_t pid, uintptr_t stub)
{
	uint8_t b[PT_XOL_SLOT + ARCH_RESUME_LEN];
	char path[64];
	int fd;
	bool ok;

	if (stub < PT_XOL_SLOT)
		return false;
	snprintf(path, sizeof (path), "/proc/%d/mem", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	ok = pread(fd, b, sizeof (b), (off_t)(stub - PT_XOL_SLOT)) ==
	    (ssize_t)sizeof (b) && pt_xol_is_stub(b);
	close(fd);
	return ok;
}

/*
 * Where injected calls may come back by themselves (ptrace/inject.c):
 * the resume stub in a scratch area of ours, or 0.  A fork child has
 * its parent's areas at the same addresses, its own list still empty:
 * its maps tell (an area is anonymous, executable, PT_XOL_AREA long, and
 * starts with our name).  The bytes are checked every time, so an area
 * unmapped since is never used.
 */
uintptr_t
pt_xol_stub(pt_proc_t *P)
{
	pt_map_t *maps;
	size_t n;

	if (P->pp_stub != 0 && pt_xol_has_stub(P, P->pp_stub - PT_XOL_SLOT))
		return P->pp_stub;
	P->pp_stub = 0;
	for (int i = 0; i < P->pp_nxol; i++) {
		if (pt_xol_has_stub(P, P->pp_xol[i].px_start))
			return P->pp_stub = P->pp_xol[i].px_start +
			    PT_XOL_SLOT;
	}
	if (P->pp_stub_none || pt_maps_read(P->pp_pid, &maps, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		pt_map_t *m = &maps[i];

		if ((m->pm_prot & PROT_EXEC) && m->pm_end - m->pm_start ==
		    PT_XOL_AREA && (m->pm_path[0] == '\0' ||
		    strncmp(m->pm_path, "[anon:", 6) == 0) &&
		    pt_xol_has_stub(P, m->pm_start)) {
			P->pp_stub = m->pm_start + PT_XOL_SLOT;
			break;
		}
	}
	pt_maps_free(maps, n);
	/* areas come only with a fork (seen here once) or from us (pp_xol) */
	P->pp_stub_none = P->pp_stub == 0;
	return P->pp_stub;
}

void
pt_xol_release(pt_proc_t *P, uintptr_t site)
{
	for (int i = 0; i < P->pp_nslots; i++) {
		if (P->pp_slots[i].ps_site == site)
			P->pp_slots[i].ps_site = 0;
	}
}

uintptr_t
pt_xol_slot(pt_proc_t *P, uintptr_t near, size_t len, pid_t keep)
{
	PT_ASSERT_OWNER(P);
	if (len > PT_XOL_SLOT) {
		errno = EINVAL;
		return 0;
	}
	/* a slot freed with its site's text, in reach (its record goes:
	   pt_xol_keep makes the new one) */
	for (int i = 0; i < P->pp_nslots; i++) {
		uintptr_t s = P->pp_slots[i].ps_slot;

		if (P->pp_slots[i].ps_site == 0 &&
		    pt_dist(s, near) <= PT_XOL_REACH) {
			P->pp_slots[i] = P->pp_slots[--P->pp_nslots];
			return s;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < P->pp_nxol; i++) {
			pt_xol_area_t *a = &P->pp_xol[i];
			uintptr_t s = a->px_start + a->px_used;

			if (a->px_used + PT_XOL_SLOT <= a->px_size &&
			    pt_dist(s, near) <= PT_XOL_REACH) {
				a->px_used += PT_XOL_SLOT;
				return s;
			}
		}
		if (pass == 0 && pt_xol_map(P, near, keep) != 0)
			break;
	}
	errno = ENOMEM;
	return 0;
}

/* The size class of a LEN-byte trampoline, or -1. */
static int
pt_tramp_class(size_t len)
{
	for (int c = 0; c < PT_TRAMP_NCLASS; c++) {
		if (len <= pt_tclass[c])
			return c;
	}
	return -1;
}

/* Is [S, S+LEN) inside one area, and within reach of NEAR? */
static bool
pt_tramp_fits(const pt_proc_t *P, uintptr_t s, size_t len, uintptr_t near)
{
	if (pt_dist(s, near) > PT_XOL_REACH ||
	    pt_dist(s + len, near) > PT_XOL_REACH)
		return false;
	for (int i = 0; i < P->pp_nxol; i++) {
		const pt_xol_area_t *a = &P->pp_xol[i];

		if (s >= a->px_start && s + len <= a->px_start + a->px_used)
			return true;
	}
	return false;
}

uintptr_t
pt_tramp_slot(pt_proc_t *P, uintptr_t near, size_t len, pid_t keep)
{
	int c = pt_tramp_class(len), rv;
	pt_tfree_t *f;
	size_t sz;

	PT_ASSERT_OWNER(P);
	if (len == 0 || c < 0) {
		err_set(EINVAL, "pid %d: no trampoline slot of %zu bytes",
		    (int)P->pp_pid, len);
		errno = EINVAL;
		return 0;
	}
	f = &P->pp_tfree[c];
	sz = pt_tclass[c];
	/* the most recently freed first: its lines are likely cached */
	for (int i = f->pf_n - 1; i >= 0; i--) {
		uintptr_t s = f->pf_slot[i];

		if (pt_tramp_fits(P, s, sz, near)) {
			f->pf_slot[i] = f->pf_slot[--f->pf_n];
			return s;
		}
	}
	/* room in the list for every slot of the class: a free never fails */
	if (f->pf_total + 1 > f->pf_a) {
		int n = f->pf_a ? f->pf_a * 2 : 64;
		uintptr_t *v = realloc(f->pf_slot, n * sizeof (*v));

		if (v == NULL) {
			errno = ENOMEM;
			return 0;
		}
		f->pf_slot = v;
		f->pf_a = n;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < P->pp_nxol; i++) {
			pt_xol_area_t *a = &P->pp_xol[i];
			uintptr_t s = a->px_start + a->px_used;

			if (a->px_used + sz <= a->px_size &&
			    pt_dist(s, near) <= PT_XOL_REACH &&
			    pt_dist(s + sz, near) <= PT_XOL_REACH) {
				a->px_used += sz;
				f->pf_total++;
				return s;
			}
		}
		if (pass == 0 && (rv = pt_xol_map(P, near, keep)) != 0) {
			errno = -rv;	/* the reason is the last error */
			return 0;
		}
	}
	err_set(ENOMEM, "pid %d: no trampoline slot near %#lx",
	    (int)P->pp_pid, (unsigned long)near);
	errno = ENOMEM;
	return 0;
}

void
pt_tramp_slot_free(pt_proc_t *P, uintptr_t slot, size_t len)
{
	int c = pt_tramp_class(len);
	pt_tfree_t *f;

	PT_ASSERT_OWNER(P);
	if (slot == 0 || c < 0 ||
	    !pt_tramp_fits(P, slot, pt_tclass[c], slot))
		return;
	f = &P->pp_tfree[c];
	/*
	 * The list has room for every slot of the class (pf_total); a
	 * slot freed twice would be handed out twice: refused.
	 */
	for (int i = 0; i < f->pf_n; i++) {
		if (f->pf_slot[i] == slot)
			return;
	}
	if (f->pf_n < f->pf_a)
		f->pf_slot[f->pf_n++] = slot;
}

uintptr_t
pt_xol_find(pt_proc_t *P, uintptr_t site, const uint8_t *text, size_t len)
{
	for (int i = 0; i < P->pp_nslots; i++) {
		pt_xol_slot_t *s = &P->pp_slots[i];

		if (site != 0 && s->ps_site == site && s->ps_len == len &&
		    memcmp(s->ps_text, text, len) == 0)
			return s->ps_slot;
	}
	return 0;
}

uintptr_t
pt_xol_site(const pt_proc_t *P, uintptr_t pc)
{
	for (int i = 0; i < P->pp_nslots; i++) {
		if (P->pp_slots[i].ps_slot == pc && P->pp_slots[i].ps_site)
			return P->pp_slots[i].ps_site;
	}
	return 0;
}

int
pt_xol_keep(pt_proc_t *P, uintptr_t site, const uint8_t *text, size_t len,
    uintptr_t slot)
{
	pt_xol_slot_t *s;

	if (len > ARCH_INSN_MAX)
		return -EINVAL;
	if (P->pp_nslots == P->pp_aslots) {
		int n = P->pp_aslots ? P->pp_aslots * 2 : 64;

		if ((s = realloc(P->pp_slots, n * sizeof (*s))) == NULL)
			return -ENOMEM;
		P->pp_slots = s;
		P->pp_aslots = n;
	}
	s = &P->pp_slots[P->pp_nslots++];
	s->ps_site = site;
	memcpy(s->ps_text, text, len);
	s->ps_len = (uint8_t)len;
	s->ps_slot = slot;
	return 0;
}

/*
 * A fault raised by an out-of-line copy is the program's fault at the
 * site: the copy's instruction did not complete, so the handler is shown
 * the site's pc, as without us (a handler that returns, maybe after we
 * let go and unmapped the copy, runs the instruction again from there).
 */
void
pt_xol_fault(pt_proc_t *P, pt_thread_t *T, int sig)
{
	arch_regs_t regs;
	uintptr_t site, pc;
	siginfo_t si;

	/* the pc first: it is cached, and pt_xol_out reads it anyway */
	if (P->pp_nslots == 0 || (sig != SIGSEGV && sig != SIGBUS &&
	    sig != SIGILL && sig != SIGFPE) || pt_thr_regs(T, &regs) != 0 ||
	    (site = pt_xol_site(P, (pc = arch_pc(&regs)))) == 0 ||
	    pt_ptrace(PTRACE_GETSIGINFO, T->pt_tid, 0, &si) < 0 ||
	    si.si_code <= 0)
		return;
	arch_set_pc(&T->pt_regs, site);
	T->pt_regs_dirty = true;
	/* SIGILL, SIGFPE (and a fetch fault) name the instruction too */
	if ((uintptr_t)si.si_addr == pc) {
		si.si_addr = (void *)site;
		(void) pt_ptrace(PTRACE_SETSIGINFO, T->pt_tid, 0, &si);
		if (T->pt_has_info && T->pt_info.si_signo == sig)
			T->pt_info.si_addr = (void *)site;
	}
}

/*
 * Step thread TID out of a copy before it takes the signal it owes (a
 * signal pending at a hit is taken on the way into the copy, or was
 * caught while the site's plan was made; at release, whatever it owes),
 * so that a handler's frame holds a pc in the program, not in an area
 * we may unmap while the handler runs (the reference defers a signal
 * the same way).  Signals arriving meanwhile are held by pt_run and
 * given back after.  If the copy's instruction faults, that fault is
 * the program's, at the site (the owed signal is queued again behind
 * it).  1: out, owing its signal; 0: not in a copy; -1: it died or met
 * an event, which was dispatched (its signal queued again).
 */
int
pt_xol_out(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T = pt_thr_find(P, tid);
	arch_regs_t regs;
	siginfo_t owed;
	pt_ran_t ran;
	int sig, rv = -1;

	if (T == NULL || P->pp_nxol == 0 || pt_thr_regs(T, &regs) != 0 ||
	    !pt_xol_contains(P, arch_pc(&regs)))
		return 0;
	sig = (T->pt_flags & PT_TF_SIGSTOP) ? T->pt_sig : 0;
	if (sig != 0 && T->pt_has_info)
		owed = T->pt_info;
	else if (sig != 0 &&
	    pt_ptrace(PTRACE_GETSIGINFO, tid, 0, &owed) < 0)
		sig = 0;
	T->pt_sig = 0;
	T->pt_has_info = 0;
	/* a step's trap with SIGTRAP blocked would reset its handler */
	uint64_t mask;
	bool unblocked = pt_trapsig_unblock(tid, &mask);
	/* a copy is an instruction and a jump; a trampoline, a few dozen
	   (its gate's system calls stepped over like any instruction) */
	int bound = pt_tramp_inside(P, arch_pc(&regs)) ? 1024 : 16;

	for (int steps = 0; steps < bound; steps++) {
		if (pt_run(P, tid, PT_RUN_STEP, &ran) != 0 ||
		    ran.pr_kind == PT_RAN_GONE || ran.pr_kind == PT_RAN_EVENT)
			break;
		if ((T = pt_thr_find(P, tid)) == NULL ||
		    pt_thr_regs(T, &regs) != 0)
			break;
		if (ran.pr_kind == PT_RAN_FAULT) {
			pt_xol_fault(P, T, T->pt_sig);
			rv = 1;
			break;
		}
		if (ran.pr_kind == PT_RAN_TRAP &&
		    pt_bkpt_find(P, arch_trap_site(&regs)) != NULL) {
			/* ran into a site of ours: it is out, at the site */
			arch_set_pc(&T->pt_regs, arch_trap_site(&regs));
			T->pt_regs_dirty = true;
			rv = 1;
			break;
		}
		if (!pt_xol_contains(P, arch_pc(&regs))) {
			rv = 1;
			break;
		}
	}
	if (unblocked && pt_thr_find(P, tid) != NULL)
		pt_trapsig_reblock(tid, mask);
	pt_trapsig_stepped(P, tid);
	/* what it owed comes first, unless the copy itself faulted */
	if (sig != 0 && (T = pt_thr_find(P, tid)) != NULL) {
		if (rv == 1 && T->pt_sig == 0) {
			T->pt_sig = sig;
			T->pt_info = owed;
			T->pt_has_info = 1;
		} else if (T->pt_nhold < PT_HOLD_MAX) {
			memmove(&T->pt_hold[1], &T->pt_hold[0],
			    (size_t)T->pt_nhold * sizeof (T->pt_hold[0]));
			T->pt_hold[0] = owed;
			T->pt_nhold++;
		} else {
			T->pt_holdmask |= 1ULL << (sig - 1);
		}
	}
	pt_unhold(P, tid);
	return rv;
}

/*
 * Before we let go: every thread stopped, none left inside an area, the
 * areas unmapped.  An area a thread could not leave stays mapped.
 */
int
pt_xol_fini(pt_proc_t *P)
{
	bool busy = false;
	long ret;

	if (P->pp_nxol == 0 || P->pp_state == PT_DEAD ||
	    P->pp_state == PT_LOST)
		return 0;
	if (pt_gather(P, P->pp_why) != 0)
		return -ESRCH;
	P->pp_stopping++;	/* our calls must not restart anybody */
	int n = P->pp_nthr;
	pid_t *tids = malloc((size_t)(n > 0 ? n : 1) * sizeof (*tids));
	if (tids == NULL) {
		P->pp_stopping--;
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		tids[i] = P->pp_thr[i].pt_tid;
	/* stepping may end threads (the table changes): by tid */
	for (int i = 0; i < n; i++) {
		pt_thread_t *T = pt_thr_find(P, tids[i]);

		if (T != NULL && (T->pt_flags & (PT_TF_STOPPED |
		    PT_TF_EXITING)) == PT_TF_STOPPED &&
		    pt_xol_out(P, tids[i]) < 0 &&
		    (T = pt_thr_find(P, tids[i])) != NULL &&
		    !(T->pt_flags & PT_TF_EXITING))
			busy = true;
	}
	free(tids);
	if (P->pp_state == PT_DEAD || P->pp_state == PT_LOST) {
		P->pp_stopping--;
		return -ESRCH;
	}
	/*
	 * A thread interrupted in a trampoline by a signal has the pc to
	 * go back to in its handler's frame, on its stack; an untraced
	 * vfork child may be in one right now: the areas stay, inert.
	 */
	for (int i = 0; !busy && i < P->pp_nxol; i++) {
		uintptr_t lo = P->pp_xol[i].px_start;
		pid_t who = 0;

		if (P->pp_vffree > 0 || pt_tramp_pinned(P) ||
		    pt_tramp_used(P, lo, lo + P->pp_xol[i].px_size, &who)) {
			pt_dprintf("pid %d: scratch areas left mapped: %s %d "
			    "may come back to one\n", (int)P->pp_pid,
			    who != 0 ? "thread" : "vfork children:",
			    who != 0 ? (int)who : P->pp_vffree);
			busy = true;
		}
	}
	/*
	 * The shared page goes first, while its munmap can still run from
	 * the resume stub (should we die in it, the thread comes back by
	 * itself); after the areas, it would run with the entry point's
	 * trap.  Nothing can reach a trampoline any more.
	 */
	if (!busy)
		pt_page_release(P, true);
	for (int i = 0; !busy && i < P->pp_nxol; i++) {
		long args[6] = { (long)P->pp_xol[i].px_start,
		    (long)P->pp_xol[i].px_size };
		(void) pt_syscall(P, 0, SYS_munmap, args, &ret);
	}
	P->pp_stopping--;
	if (busy)
		return -EBUSY;
	pt_xol_reset(P);
	return 0;
}
