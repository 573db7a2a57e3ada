/*
 * tramp.c - patched sites: the window of instructions at a site replaced
 * by a jump to a trampoline (src/arch/tramp.c builds it) that counts the
 * hit in the shared page (page.c), may stop at a trap of its own, runs
 * the window's instructions relocated and jumps back.
 *
 * A site (pt_bkpt_t, in the same sorted table as the int3 sites) is
 * patched when pb_tr points at its trampoline.  Its users are counted as
 * an int3 site's are, in two kinds: those that want stops (pb_ntrap) and
 * those that only count.  A site has a trap gate while it has a user of
 * the first kind: the first one rebuilds a counting trampoline with a
 * gate, the last one leaving rebuilds it without (a stop nobody listens
 * to would cost the victim a ptrace stop per hit for nothing).  An int3
 * site armed with TRAP is converted (its users become trap users); an
 * int3 site for other users is not patched for a counting user
 * (-EEXIST): the caller keeps the int3 path.
 *
 * Every edit is made with every thread stopped (pt_edit_begin): a jump
 * is five bytes, which a thread running on another CPU could fetch half
 * written.  Before a window is patched, no thread may be about to run
 * from its inside: its pc strictly inside (or at its end, in a system
 * call that would restart one instruction back), a word of its stack
 * there (return addresses, and pcs saved in signal frames: a
 * conservative scan of 64 KiB above its stack pointer), or inside the
 * out-of-line copy of an int3 site of the window, whose jump back lands
 * inside.  Those are -EBUSY, naming the thread.  A stopped thread whose
 * pc starts an instruction of the window is not: it is moved into the
 * trampoline's relocated copy of it, where its stack pointer and flags
 * are the site's (src/arch/tramp.c), before the patch is written.  The
 * same scan decides whether an old trampoline may be reused: one a
 * thread may still be in (or return to) is retired, kept in the table
 * (pp_trl) and freed by the first edit or release that finds it unused.
 *
 * A trap gate stops the thread inside the trampoline, its registers
 * saved there (arch_tramp_view rebuilds the site's), by sending it
 * ARCH_TRAMP_SIG: the thread stops in that signal's delivery stop, its
 * pc just past the gate's tgkill.  wait.c reports such a stop (the
 * signal from the process itself, at a stop point) as a breakpoint at
 * the site, marks the thread (PT_TF_TRAMP) and resumes it where it
 * stopped, without the signal: nothing to carry.  A stop at a retired
 * trampoline's gate (its site went while the thread was in the gate) is
 * ours too, and swallowed.  Any other ARCH_TRAMP_SIG is the program's.
 *
 * A fault of a relocated instruction is left at the trampoline's pc: a
 * handler that returns must come back there, not into the patched
 * window.
 *
 * Threads: pt_tramp_where() and pt_tramp_count() may be called from any
 * thread (the unwinder, clients reading counts): the tables they read
 * are changed only by the owner, under pp_trlock, and records are freed
 * under it.  Everything else is owner only.
 */
#include "pt_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PT_SCAN_STACK	(64 * 1024)	/* stack scanned above sp */
#define PT_TR_REACH	64		/* a site's skip and window end within */

/* What a stopped thread may run next: its pc, and its stack's words. */
typedef enum pt_tw_kind {
	PT_TW_PC,	/* the pc */
	PT_TW_PCSYS,	/* the pc, in a system call: may restart behind */
	PT_TW_STACK	/* a stack word: maybe a return address */
} pt_tw_kind_t;

typedef struct pt_tword {
	uint64_t tw_word;
	pid_t tw_tid;
	pt_tw_kind_t tw_kind;
} pt_tword_t;

/*
 * The scan, valid while no thread ran and no registers changed since
 * (pt_flushgen) and the thread table kept its size.
 */
struct pt_tscan {
	unsigned ts_gen;
	unsigned ts_execs;
	int ts_nthr;
	bool ts_ok;
	pt_tword_t *ts_w;
	size_t ts_n, ts_a;
};

/* An edit: the threads stopped before it, which it leaves stopped. */
typedef struct pt_edit {
	pid_t *ed_stay;
	int ed_nstay;
	unsigned ed_execs;
} pt_edit_t;

/* ---------------------------------------------------------- tables */

/* Index of the last trampoline whose slot is <= ADDR, or -1. */
static int
pt_trl_floor(const pt_proc_t *P, uintptr_t addr)
{
	int lo = 0, hi = P->pp_ntrl;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (P->pp_trl[mid]->tr_slot <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

/* The trampoline whose code holds PC, or NULL. */
static pt_tramp_t *
pt_trl_at(const pt_proc_t *P, uintptr_t pc)
{
	int i = pt_trl_floor(P, pc);

	if (i < 0 || pc >= P->pp_trl[i]->tr_slot + P->pp_trl[i]->tr_t.atr_len)
		return NULL;
	return P->pp_trl[i];
}

static int
pt_trs_index(const pt_proc_t *P, uintptr_t site, int *found)
{
	int lo = 0, hi = P->pp_ntrs;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (P->pp_trs[mid]->tr_site < site)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < P->pp_ntrs && P->pp_trs[lo]->tr_site == site;
	return lo;
}

static int
pt_ptrs_grow(pt_tramp_t ***a, int n, int *cap)
{
	if (n < *cap)
		return 0;
	int m = *cap ? *cap * 2 : 32;
	pt_tramp_t **g = realloc(*a, (size_t)m * sizeof (*g));

	if (g == NULL)
		return -ENOMEM;
	*a = g;
	*cap = m;
	return 0;
}

/* TR is its site's trampoline now, replacing another (lock held). */
static void
pt_trs_put(pt_proc_t *P, pt_tramp_t *tr)
{
	int found, j = pt_trs_index(P, tr->tr_site, &found);

	if (!found) {
		memmove(&P->pp_trs[j + 1], &P->pp_trs[j],
		    (size_t)(P->pp_ntrs - j) * sizeof (*P->pp_trs));
		P->pp_ntrs++;
	}
	P->pp_trs[j] = tr;
	tr->tr_live = true;
}

/* TR enters both tables, live (lock held by the caller). */
static int
pt_tr_register(pt_proc_t *P, pt_tramp_t *tr)
{
	int i;

	if (pt_ptrs_grow(&P->pp_trl, P->pp_ntrl, &P->pp_atrl) != 0 ||
	    pt_ptrs_grow(&P->pp_trs, P->pp_ntrs, &P->pp_atrs) != 0)
		return -ENOMEM;
	i = pt_trl_floor(P, tr->tr_slot) + 1;
	memmove(&P->pp_trl[i + 1], &P->pp_trl[i],
	    (size_t)(P->pp_ntrl - i) * sizeof (*P->pp_trl));
	P->pp_trl[i] = tr;
	P->pp_ntrl++;
	pt_trs_put(P, tr);
	return 0;
}

/* TR is no longer its site's (lock held). */
static void
pt_tr_unlive(pt_proc_t *P, pt_tramp_t *tr)
{
	int found, j = pt_trs_index(P, tr->tr_site, &found);

	if (found && P->pp_trs[j] == tr) {
		memmove(&P->pp_trs[j], &P->pp_trs[j + 1],
		    (size_t)(P->pp_ntrs - j - 1) * sizeof (*P->pp_trs));
		P->pp_ntrs--;
	}
	tr->tr_live = false;
}

/* TR leaves the tables and its slot and counters are free (lock held). */
/*
 * The records whose pad is written, apart: few (memcpy and short
 * functions), and looked up at every text read and edit, which must not
 * walk every trampoline.  Under pp_trlock.
 */
static void
pt_pad_on(pt_proc_t *P, pt_tramp_t *tr)
{
	if (tr->tr_padset)
		return;
	if (P->pp_npad == P->pp_apad) {
		int n = P->pp_apad ? P->pp_apad * 2 : 16;
		pt_tramp_t **a = realloc(P->pp_pads, (size_t)n * sizeof (*a));

		if (a == NULL)
			abort();	/* a few pointers: as malloc fails */
		P->pp_pads = a;
		P->pp_apad = n;
	}
	P->pp_pads[P->pp_npad++] = tr;
	tr->tr_padset = true;
}

static void
pt_pad_off(pt_proc_t *P, pt_tramp_t *tr)
{
	if (!tr->tr_padset)
		return;
	tr->tr_padset = false;
	for (int i = 0; i < P->pp_npad; i++) {
		if (P->pp_pads[i] == tr) {
			P->pp_pads[i] = P->pp_pads[--P->pp_npad];
			break;
		}
	}
}

static void
pt_tr_drop(pt_proc_t *P, pt_tramp_t *tr, bool slot)
{
	int i = pt_trl_floor(P, tr->tr_slot);

	pt_tr_unlive(P, tr);
	pt_pad_off(P, tr);
	if (i >= 0 && P->pp_trl[i] == tr) {
		memmove(&P->pp_trl[i], &P->pp_trl[i + 1],
		    (size_t)(P->pp_ntrl - i - 1) * sizeof (*P->pp_trl));
		P->pp_ntrl--;
	}
	if (slot) {
		pt_tramp_slot_free(P, tr->tr_slot, tr->tr_size);
		if (tr->tr_ownidx)
			pt_page_counter_free(P, tr->tr_idx);
	}
	free(tr);
}

/* ------------------------------------------------ threads: the scan */

static int
pt_tscan_add(struct pt_tscan *ts, uint64_t w, pid_t tid, pt_tw_kind_t k)
{
	if (ts->ts_n == ts->ts_a) {
		size_t m = ts->ts_a ? ts->ts_a * 2 : 4096;
		pt_tword_t *g = realloc(ts->ts_w, m * sizeof (*g));

		if (g == NULL)
			return -ENOMEM;
		ts->ts_w = g;
		ts->ts_a = m;
	}
	ts->ts_w[ts->ts_n++] = (pt_tword_t){ w, tid, k };
	return 0;
}

/*
 * Stack pointer and pc of a thread asleep in vfork (not stopped: its
 * registers cannot be read), from /proc's "syscall" line.
 */
static int
pt_tscan_asleep(pid_t pid, pid_t tid, uint64_t *sp, uint64_t *pc)
{
	char path[96], buf[512];
	unsigned long long v[9];
	ssize_t n;
	int fd;

	snprintf(path, sizeof (path), "/proc/%d/task/%d/syscall", (int)pid,
	    (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof (buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llx %llx %llx %llx %llx %llx %llx %llx",
	    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
	    &v[8]) != 9)
		return -1;
	*sp = v[7];
	*pc = v[8];
	return 0;
}

/* The words of one thread's stack, from SP up to the bound. */
static void
pt_tscan_stack(pt_proc_t *P, struct pt_tscan *ts, const pt_map_t *maps,
    size_t nmaps, pid_t tid, uint64_t sp)
{
	static __thread uint64_t buf[PT_SCAN_STACK / 8];
	uintptr_t at = sp & ~(uintptr_t)7, end = 0;
	ssize_t n;

	for (size_t i = 0; i < nmaps; i++) {
		if (at >= maps[i].pm_start && at < maps[i].pm_end) {
			end = maps[i].pm_end;
			break;
		}
	}
	if (end == 0)
		return;
	if (end - at > PT_SCAN_STACK)
		end = at + PT_SCAN_STACK;
	if ((n = pt_mem_read(P, at, buf, end - at)) <= 0)
		return;
	for (ssize_t i = 0; i < n / 8; i++) {
		/* small numbers and data pointers cannot be code; keep
		   the rest, the checks only compare */
		if (buf[i] >= 4096)
			(void) pt_tscan_add(ts, buf[i], tid, PT_TW_STACK);
	}
}

/* The scan of every thread, taken again if anything moved since. */
static struct pt_tscan *
pt_tscan_take(pt_proc_t *P)
{
	struct pt_tscan *ts = P->pp_tscan;
	pt_map_t *maps = NULL;
	size_t nmaps = 0;

	if (ts == NULL && (ts = P->pp_tscan = calloc(1, sizeof (*ts))) ==
	    NULL)
		return NULL;
	if (ts->ts_ok && ts->ts_gen == pt_flushgen &&
	    ts->ts_execs == P->pp_execs && ts->ts_nthr == P->pp_nthr)
		return ts;
	ts->ts_n = 0;
	(void) pt_maps_read(P->pp_pid, &maps, &nmaps);
	for (int i = 0; i < P->pp_nthr; i++) {
		pt_thread_t *T = &P->pp_thr[i];
		pid_t pid = (T->pt_flags & PT_TF_GUEST) ? T->pt_tid :
		    P->pp_pid;
		arch_regs_t r;
		uint64_t sp, pc;
		bool insys;

		if (T->pt_flags & PT_TF_EXITING)
			continue;
		if (T->pt_flags & PT_TF_STOPPED) {
			if (pt_thr_regs(T, &r) != 0)
				continue;
			sp = arch_sp(&r);
			pc = arch_pc(&r);
			insys = arch_in_syscall(&r) != 0;
		} else if (pt_tscan_asleep(pid, T->pt_tid, &sp, &pc) == 0) {
			insys = true;
		} else {
			pt_dprintf("pid %d: thread %d: no pc to check\n",
			    (int)P->pp_pid, (int)T->pt_tid);
			continue;
		}
		(void) pt_tscan_add(ts, pc, T->pt_tid, insys ? PT_TW_PCSYS :
		    PT_TW_PC);
		pt_tscan_stack(P, ts, maps, nmaps, T->pt_tid, sp);
	}
	pt_maps_free(maps, nmaps);
	ts->ts_gen = pt_flushgen;
	ts->ts_execs = P->pp_execs;
	ts->ts_nthr = P->pp_nthr;
	ts->ts_ok = true;
	return ts;
}

bool
pt_tramp_used(pt_proc_t *P, uintptr_t lo, uintptr_t hi, pid_t *who)
{
	struct pt_tscan *ts = pt_tscan_take(P);

	if (ts == NULL)
		return true;	/* cannot tell: assume it is */
	for (size_t i = 0; i < ts->ts_n; i++) {
		if (ts->ts_w[i].tw_word >= lo && ts->ts_w[i].tw_word < hi) {
			if (who != NULL)
				*who = ts->ts_w[i].tw_tid;
			return true;
		}
	}
	return false;
}

/*
 * The instruction of window W at PATCH whose start stopped thread TID's
 * pc V (not in a system call) is, other than the first: its index, or
 * -1.  Such a thread is moved into the trampoline's copy of it
 * (pt_window_move), not refused.  Not one that executed an int3 just
 * before V and was stopped before its trap came (the trap pending):
 * its pc is one past the int3, not at an instruction it has yet to run.
 */
static int
pt_window_insn(pt_proc_t *P, pid_t tid, uint64_t v, uintptr_t patch,
    const arch_window_t *w)
{
	const pt_thread_t *T;
	int k;

	for (k = 1; k < w->aw_ninsn && v != patch + w->aw_off[k]; k++)
		continue;
	if (k >= w->aw_ninsn)
		return -1;
	if ((pt_bkpt_find(P, v - 1) != NULL || pt_gone_find(P, v - 1)) &&
	    ((T = pt_thr_find(P, tid)) == NULL ||
	    pt_sig_pending((T->pt_flags & PT_TF_GUEST) ? tid : P->pp_pid,
	    tid, SIGTRAP)))
		return -1;
	return k;
}

/*
 * May window W at PATCH be patched?  No thread may resume inside it:
 * -EBUSY naming the thread.  A stopped thread's pc at the start of one
 * of its instructions does not count: it is moved into the trampoline.
 */
static int
pt_window_free(pt_proc_t *P, uintptr_t addr, uintptr_t patch,
    const arch_window_t *win)
{
	struct pt_tscan *ts = pt_tscan_take(P);
	uintptr_t end = patch + win->aw_len;

	if (ts == NULL)
		return err_set(ENOMEM, "pid %d: out of memory",
		    (int)P->pp_pid);
	for (size_t i = 0; i < ts->ts_n; i++) {
		const pt_tword_t *w = &ts->ts_w[i];
		uint64_t v = w->tw_word;

		if (v > patch && (v < end ||
		    (v == end && w->tw_kind == PT_TW_PCSYS))) {
			if (w->tw_kind == PT_TW_PC && pt_window_insn(P,
			    w->tw_tid, v, patch, win) > 0)
				continue;
			return err_set(EBUSY, "pid %d: cannot patch %#lx: "
			    "thread %d %s %#lx, inside the window",
			    (int)P->pp_pid, (unsigned long)addr,
			    (int)w->tw_tid, w->tw_kind == PT_TW_STACK ?
			    "has on its stack" : "is at", (unsigned long)v);
		}
		if (w->tw_kind == PT_TW_STACK)
			continue;
		/* in the copy of an int3 site of the window: it jumps back
		   inside */
		for (int s = 0; s < P->pp_nslots; s++) {
			const pt_xol_slot_t *x = &P->pp_slots[s];

			if (x->ps_site >= patch && x->ps_site < end &&
			    v >= x->ps_slot && v < x->ps_slot + ARCH_XOL_SLOT)
				return err_set(EBUSY, "pid %d: cannot patch "
				    "%#lx: thread %d is in the copy of the "
				    "instruction at %#lx", (int)P->pp_pid,
				    (unsigned long)addr, (int)w->tw_tid,
				    (unsigned long)x->ps_site);
		}
	}
	return 0;
}

/*
 * The threads pt_window_free() let stand at an instruction of TR's
 * window moved to its relocated copy in TR, where they run on with the
 * same registers and stack (BACK: from there to where they were).  Each
 * is written to the kernel at once, before the patch: should we die
 * after it, no thread resumes inside the jump.  0, or -errno with every
 * thread where it was.  The move invalidates the scan (pt_flushgen):
 * the next one finds the thread in TR, which pt_tramp_used() then keeps.
 */
static int
pt_window_move(pt_proc_t *P, const pt_tramp_t *tr, bool back)
{
	const arch_window_t *w = &tr->tr_win;

	for (int i = 0; i < P->pp_nthr; i++) {
		pt_thread_t *T = &P->pp_thr[i];
		uintptr_t from, to;
		arch_regs_t r;
		int k, rv;

		if ((T->pt_flags & (PT_TF_STOPPED | PT_TF_EXITING)) !=
		    PT_TF_STOPPED || pt_thr_regs(T, &r) != 0 ||
		    arch_in_syscall(&r))
			continue;
		from = arch_pc(&r);
		if (back) {
			for (k = 1; k < w->aw_ninsn && from != tr->tr_slot +
			    tr->tr_t.atr_roff[k]; k++)
				continue;
			if (k >= w->aw_ninsn)
				continue;
			to = tr->tr_patch + w->aw_off[k];
		} else {
			if ((k = pt_window_insn(P, T->pt_tid, from,
			    tr->tr_patch, w)) < 0)
				continue;
			to = tr->tr_slot + tr->tr_t.atr_roff[k];
		}
		arch_set_pc(&r, to);
		if ((rv = pt_regs_set(P, T->pt_tid, &r)) != 0) {
			if (!back)
				(void) pt_window_move(P, tr, true);
			return rv;
		}
		pt_dprintf("pid %d: thread %d at %#lx moved to %#lx\n",
		    (int)P->pp_pid, (int)T->pt_tid, (unsigned long)from,
		    (unsigned long)to);
	}
	return 0;
}

/*
 * The pad of TR, no longer its site's, given back (every thread
 * stopped).  A thread whose pc is at the pad has run the short jump and
 * nothing else: it goes back to the short jump's place.  A word of a
 * stack that names the pad (a signal frame's pc) keeps the pad as it
 * is, jumping to TR, which stays retired until the sweep finds the word
 * gone.  Only our jump is undone.  True when the pad is free.
 */
static bool
pt_pad_restore(pt_proc_t *P, pt_tramp_t *tr)
{
	uint8_t cur[ARCH_JMP_LEN];

	if (!tr->tr_padset)
		return true;
	for (int i = 0; i < P->pp_nthr; i++) {
		pt_thread_t *T = &P->pp_thr[i];
		arch_regs_t r;

		if ((T->pt_flags & (PT_TF_STOPPED | PT_TF_EXITING)) !=
		    PT_TF_STOPPED || pt_thr_regs(T, &r) != 0 ||
		    arch_pc(&r) != tr->tr_pad)
			continue;
		arch_set_pc(&r, tr->tr_patch);
		if (pt_regs_set(P, T->pt_tid, &r) == 0)
			pt_dprintf("pid %d: thread %d at the pad %#lx: back "
			    "to %#lx\n", (int)P->pp_pid, (int)T->pt_tid,
			    (unsigned long)tr->tr_pad,
			    (unsigned long)tr->tr_patch);
	}
	if (pt_tramp_used(P, tr->tr_pad, tr->tr_pad + 1, NULL))
		return false;
	if (pt_mem_read(P, tr->tr_pad, cur, sizeof (cur)) ==
	    (ssize_t)sizeof (cur) && memcmp(cur, tr->tr_padjump,
	    sizeof (cur)) == 0 && pt_mem_write(P, tr->tr_pad, tr->tr_padorig,
	    sizeof (cur)) != (ssize_t)sizeof (cur))
		return false;
	pthread_mutex_lock(&P->pp_trlock);
	pt_pad_off(P, tr);
	pthread_mutex_unlock(&P->pp_trlock);
	return true;
}

/* Retired trampolines nobody can be in any more are freed. */
static void
pt_tramp_sweep(pt_proc_t *P)
{
	for (int i = P->pp_ntrl - 1; i >= 0; i--) {
		pt_tramp_t *tr = P->pp_trl[i];

		if (tr->tr_live || !pt_pad_restore(P, tr) ||
		    pt_tramp_used(P, tr->tr_slot, tr->tr_slot + tr->tr_size,
		    NULL))
			continue;
		pthread_mutex_lock(&P->pp_trlock);
		pt_tr_drop(P, tr, true);
		pthread_mutex_unlock(&P->pp_trlock);
		if (i > P->pp_ntrl)
			i = P->pp_ntrl;
	}
}

/* TR is not its site's any more: freed, unless a thread may be in it. */
static void
pt_tramp_retire(pt_proc_t *P, pt_tramp_t *tr)
{
	/* a pad kept for a thread still jumps here */
	bool used = tr->tr_padset || pt_tramp_used(P, tr->tr_slot,
	    tr->tr_slot + tr->tr_size, NULL);

	pthread_mutex_lock(&P->pp_trlock);
	if (used)
		pt_tr_unlive(P, tr);
	else
		pt_tr_drop(P, tr, true);
	pthread_mutex_unlock(&P->pp_trlock);
	if (used)
		pt_dprintf("pid %d: trampoline at %#lx retired: a thread "
		    "may be in it\n", (int)P->pp_pid,
		    (unsigned long)tr->tr_slot);
}

/* ----------------------------------------------------------- edits */

int
pt_edit_ok(pt_proc_t *P, const char *what)
{
	if (P->pp_vffree > 0)
		return err_set(EAGAIN, "pid %d: cannot %s: a vfork child "
		    "runs on this memory", (int)P->pp_pid, what);
	return 0;
}

bool
pt_tramp_vfork_free(const pt_proc_t *P)
{
	return P->pp_ntrs > 0 && P->pp_nbp == P->pp_ntrs;
}

/*
 * Every thread stopped for an edit; pt_edit_end() restarts all but
 * those that were stopped before (a thread stopped for its event, in a
 * callback, stays stopped) and those whose stop carries an event.  A
 * thread born meanwhile goes too: its creator's THREAD_NEW restarts
 * only the creator.  Nested calls (injected system calls) restart
 * nobody meanwhile.
 */
static int
pt_edit_begin(pt_proc_t *P, pt_edit_t *e)
{
	int rv;

	e->ed_execs = P->pp_execs;
	e->ed_nstay = 0;
	e->ed_stay = malloc((size_t)(P->pp_nthr + 1) * sizeof (pid_t));
	if (e->ed_stay == NULL)
		return err_set(ENOMEM, "pid %d: out of memory",
		    (int)P->pp_pid);
	for (int i = 0; i < P->pp_nthr; i++) {
		if (P->pp_thr[i].pt_flags & PT_TF_STOPPED)
			e->ed_stay[e->ed_nstay++] = P->pp_thr[i].pt_tid;
	}
	if ((rv = pt_gather(P, P->pp_state == PT_STOPPED ? P->pp_why :
	    PT_WHY_REQUESTED)) != 0 || P->pp_execs != e->ed_execs) {
		free(e->ed_stay);
		e->ed_stay = NULL;
		return rv != 0 ? rv : err_set(ESRCH, "pid %d: exec'd meanwhile",
		    (int)P->pp_pid);
	}
	P->pp_stopping++;
	return 0;
}

static bool
pt_edit_stays(const pt_edit_t *e, pid_t tid)
{
	for (int i = 0; i < e->ed_nstay; i++) {
		if (e->ed_stay[i] == tid)
			return true;
	}
	return false;
}

static void
pt_edit_end(pt_proc_t *P, pt_edit_t *e)
{
	P->pp_stopping--;
	for (int i = 0; P->pp_stopping == 0 && !P->pp_held &&
	    i < P->pp_nthr; i++) {
		pt_thread_t *T = &P->pp_thr[i];

		if ((T->pt_flags & (PT_TF_STOPPED | PT_TF_HELD)) ==
		    PT_TF_STOPPED && !pt_edit_stays(e, T->pt_tid))
			(void) pt_restart(P, T);
	}
	free(e->ed_stay);
	e->ed_stay = NULL;
	pt_update_state(P);
}

/*
 * Is another site in the way of ADDR's window, or of its pad PAD (if not
 * 0)?  A pad meets no window and no other pad: -EADDRINUSE.
 */
static int
pt_window_clear(pt_proc_t *P, uintptr_t addr, uintptr_t patch, size_t len,
    uintptr_t pad)
{
	uintptr_t pend = pad + ARCH_JMP_LEN;
	/*
	 * Only sites that start within PT_TR_REACH below the window or the
	 * pad can reach into them (a site's window and skip are shorter):
	 * the sorted table is searched, not walked, so arming all of libc
	 * stays linear.
	 */
	uintptr_t from = addr < pad || pad == 0 ? addr : pad;
	uintptr_t to = pad != 0 && pend > patch + len ? pend : patch + len;

	from = from > PT_TR_REACH ? from - PT_TR_REACH : 0;
	for (int i = pt_bkpt_lower(P, from); i < P->pp_nbp &&
	    P->pp_bp[i].pb_addr < to; i++) {
		const pt_bkpt_t *B = &P->pp_bp[i];
		uintptr_t lo = B->pb_addr, hi = B->pb_addr + 1;

		if (B->pb_tr != NULL)
			hi = B->pb_tr->tr_patch + B->pb_tr->tr_win.aw_len;
		if (pad != 0 && lo < pend && hi > pad)
			return err_set(EADDRINUSE, "pid %d: cannot patch "
			    "%#lx: its pad %#lx meets the site at %#lx",
			    (int)P->pp_pid, (unsigned long)addr,
			    (unsigned long)pad, (unsigned long)B->pb_addr);
		if (B->pb_addr == addr)
			continue;
		if (lo < patch + len && hi > addr)
			return err_set(EEXIST, "pid %d: cannot patch %#lx: "
			    "the site at %#lx is in the window",
			    (int)P->pp_pid, (unsigned long)addr,
			    (unsigned long)B->pb_addr);
	}
	for (int i = 0; i < P->pp_npad; i++) {
		const pt_tramp_t *tr = P->pp_pads[i];
		uintptr_t lo = tr->tr_pad, hi = lo + ARCH_JMP_LEN;

		if (!tr->tr_padset)
			continue;
		if (pad != 0 && lo < pend && hi > pad)
			return err_set(EADDRINUSE, "pid %d: cannot patch "
			    "%#lx: its pad %#lx meets the pad of %#lx",
			    (int)P->pp_pid, (unsigned long)addr,
			    (unsigned long)pad, (unsigned long)tr->tr_site);
		if (lo < patch + len && hi > addr)
			return err_set(EEXIST, "pid %d: cannot patch %#lx: "
			    "the pad of the site at %#lx is in the window",
			    (int)P->pp_pid, (unsigned long)addr,
			    (unsigned long)tr->tr_site);
	}
	return 0;
}

/*
 * May PAD be written?  Nothing runs padding, but a word of a stack may
 * still name its first byte (the return address of a call that does not
 * return, at the end of the function before): -EADDRINUSE.
 */
static int
pt_pad_free(pt_proc_t *P, uintptr_t addr, uintptr_t pad)
{
	pid_t who = 0;

	if (pt_tramp_used(P, pad, pad + ARCH_JMP_LEN, &who))
		return err_set(EADDRINUSE, "pid %d: cannot patch %#lx: "
		    "thread %d may run from its pad %#lx", (int)P->pp_pid,
		    (unsigned long)addr, (int)who, (unsigned long)pad);
	return 0;
}

/*
 * Build and write a trampoline for ADDR (window W at PATCH, original
 * bytes ORIG), counting in pair IDX, with a gate if TRAP: in a new slot
 * near the patch.  The record, or NULL with the reason set.
 */
static pt_tramp_t *
pt_tramp_make(pt_proc_t *P, uintptr_t addr, uintptr_t patch,
    const arch_window_t *w, const uint8_t *orig, uint32_t idx, bool trap,
    bool entry, uintptr_t pad)
{
	uint8_t code[ARCH_TRAMP_MAX];
	arch_tramp_req_t req;
	arch_tramp_t t;
	uintptr_t slot = 0, ctr = pt_page_counter_addr(P, idx);
	size_t size;
	pt_tramp_t *tr;
	int rv;

	memset(&req, 0, sizeof (req));
	req.at_site = addr;
	req.at_patch = patch;
	req.at_text = orig;
	req.at_n = w->aw_len;
	req.at_win = w;
	req.at_tramp = patch;	/* first, for its length */
	req.at_entry = entry;
	req.at_trap = trap;
	req.at_hits = ctr;
	req.at_missed = ctr + 8;
	req.at_owner = pt_page_owner_word(P);
	req.at_pid = pt_page_pid_word(P);
	/* a return site's returns may be recorded without a stop */
	if (trap && !entry)
		(void) pt_page_quick(P, &req.at_quick);
	if ((rv = arch_tramp_build(&req, code, &t)) != 0)
		goto fail;
	size = t.atr_len;
	for (int tries = 0; ; tries++) {
		if ((slot = pt_tramp_slot(P, patch, size, 0)) == 0) {
			(void) err_set(ENOMEM, "pid %d: cannot patch %#lx: no "
			    "room for its trampoline", (int)P->pp_pid,
			    (unsigned long)addr);
			return NULL;
		}
		req.at_tramp = slot;
		if ((rv = arch_tramp_build(&req, code, &t)) != 0)
			goto fail;
		if (t.atr_len <= size)
			break;
		/* longer where it is (a far jump back): a bigger slot */
		pt_tramp_slot_free(P, slot, size);
		slot = 0;
		size = t.atr_len;
		if (tries == 1) {
			rv = -ERANGE;
			goto fail;
		}
	}
	if (pad != 0) {
		int64_t rel = (int64_t)(slot - (pad + ARCH_JMP_LEN));

		if (rel < INT32_MIN || rel > INT32_MAX) {
			rv = -ERANGE;
			goto fail;
		}
	}
	if (pt_mem_write(P, slot, code, t.atr_len) != (ssize_t)t.atr_len) {
		rv = -errno;
		goto fail;
	}
	if ((tr = calloc(1, sizeof (*tr))) == NULL) {
		rv = -ENOMEM;
		goto fail;
	}
	tr->tr_site = addr;
	tr->tr_patch = patch;
	tr->tr_win = *w;
	tr->tr_win.aw_refuse = NULL;
	memcpy(tr->tr_orig, orig, w->aw_len);
	if (pad != 0) {
		/* the caller checked the rel8's reach */
		(void) arch_patch_short(patch, pad, w->aw_len, tr->tr_jump);
		arch_patch(pad, slot, ARCH_JMP_LEN, tr->tr_padjump);
		tr->tr_pad = pad;
	} else {
		arch_patch(patch, slot, w->aw_len, tr->tr_jump);
	}
	tr->tr_slot = slot;
	tr->tr_size = size;
	tr->tr_t = t;
	tr->tr_idx = idx;
	tr->tr_trap = trap;
	tr->tr_quick = req.at_quick != 0;
	return tr;
fail:
	if (slot != 0)
		pt_tramp_slot_free(P, slot, size);
	(void) err_set(-rv, "pid %d: cannot patch %#lx: %s", (int)P->pp_pid,
	    (unsigned long)addr, rv == -ERANGE ? "an operand cannot reach "
	    "the trampoline" : strerror(-rv));
	return NULL;
}

/* Our records of TR's text in the page, for a later run: gone. */
static void
pt_tramp_unrecord(pt_proc_t *P, const pt_tramp_t *tr)
{
	pt_page_unrecord(P, tr->tr_patch);
	if (tr->tr_pad != 0)
		pt_page_unrecord(P, tr->tr_pad);
}

/* ... and made: the pad's jump, and the patch's. */
static void
pt_tramp_record(pt_proc_t *P, const pt_tramp_t *tr)
{
	size_t len = tr->tr_win.aw_len;
	int rv;

	if (tr->tr_pad == 0) {
		rv = pt_page_record(P, tr->tr_patch, tr->tr_orig, len,
		    tr->tr_slot);
	} else if ((rv = pt_page_record(P, tr->tr_pad, tr->tr_padorig,
	    ARCH_JMP_LEN, tr->tr_slot)) == 0) {
		rv = pt_page_record_short(P, tr->tr_patch, tr->tr_orig, len,
		    tr->tr_pad);
	}
	if (rv != 0)
		pt_dprintf("pid %d: site %#lx not recorded in the page\n",
		    (int)P->pp_pid, (unsigned long)tr->tr_site);
}

/*
 * ADDR patched for the first time (an int3 site there converted); with
 * a short jump to PAD if not 0.
 */
static int
pt_tramp_new(pt_proc_t *P, uintptr_t addr, const arch_window_t *w,
    uintptr_t pad, int flags)
{
	uintptr_t patch = addr + w->aw_skip;
	uint8_t orig[PT_TR_ORIG], padorig[ARCH_JMP_LEN], first;
	bool trap = (flags & PT_TRAMP_TRAP) != 0;
	pt_tramp_t *tr = NULL;
	pt_edit_t e;
	pt_bkpt_t *B;
	uint32_t idx;
	bool reg, moved = false;
	int rv;

	if ((rv = pt_edit_begin(P, &e)) != 0)
		return rv;
	pt_tramp_sweep(P);
	B = pt_bkpt_find(P, addr);
	if ((rv = pt_window_clear(P, addr, patch, w->aw_len, pad)) != 0 ||
	    (rv = pt_window_free(P, addr, patch, w)) != 0 ||
	    (pad != 0 && (rv = pt_pad_free(P, addr, pad)) != 0))
		goto out;
	if (pt_text_read(P, patch, orig, w->aw_len) != w->aw_len ||
	    pt_text_read(P, addr, &first, 1) != 1 || (pad != 0 &&
	    pt_text_read(P, pad, padorig, ARCH_JMP_LEN) != ARCH_JMP_LEN)) {
		rv = err_set(EFAULT, "pid %d: cannot patch %#lx: address "
		    "not mapped", (int)P->pp_pid, (unsigned long)addr);
		goto out;
	}
	/*
	 * The scratch area (and its resume stub) before the page: the
	 * page's four calls and SIGTRAP's rt_sigaction then come back by
	 * themselves should we die in one (inject.c), rather than run on
	 * into the entry point's trap.
	 */
	pt_xol_stub_near(P, patch);
	if (trap && P->pp_trap == PT_TRAP_UNKNOWN)
		pt_trapsig_learn(P, 0);
	if ((rv = pt_page_get(P, 0)) != 0 ||
	    (rv = pt_page_counter(P, &idx)) != 0) {
		rv = err_set(rv < 0 ? -rv : EIO, "pid %d: cannot patch %#lx: "
		    "no shared page: %s", (int)P->pp_pid, (unsigned long)addr,
		    err_msg());
		goto out;
	}
	if ((tr = pt_tramp_make(P, addr, patch, w, orig, idx, trap,
	    (flags & PT_TRAMP_ENTRY) != 0, pad)) == NULL) {
		pt_page_counter_free(P, idx);
		rv = -err_code();
		goto out;
	}
	if (pad != 0)
		memcpy(tr->tr_padorig, padorig, ARCH_JMP_LEN);
	tr->tr_ownidx = true;
	pthread_mutex_lock(&P->pp_trlock);
	rv = pt_tr_register(P, tr);
	pthread_mutex_unlock(&P->pp_trlock);
	reg = rv == 0;
	/* the trampoline is written; then the pad's jump, then the patch */
	if (rv == 0 && pad != 0) {
		if (pt_mem_write(P, pad, tr->tr_padjump, ARCH_JMP_LEN) !=
		    ARCH_JMP_LEN) {
			rv = -errno;
		} else {
			pthread_mutex_lock(&P->pp_trlock);
			pt_pad_on(P, tr);
			pthread_mutex_unlock(&P->pp_trlock);
		}
	}
	/* then the threads at its instructions moved in */
	if (rv == 0 && (rv = pt_window_move(P, tr, false)) == 0)
		moved = true;
	if (rv != 0 ||
	    pt_mem_write(P, patch, tr->tr_jump, w->aw_len) != w->aw_len) {
		int err = rv != 0 ? -rv : errno;

		if (moved)
			(void) pt_window_move(P, tr, true);
		if (tr->tr_padset)
			(void) pt_mem_write(P, pad, padorig, ARCH_JMP_LEN);
		pthread_mutex_lock(&P->pp_trlock);
		if (reg)
			pt_tr_drop(P, tr, true);
		pthread_mutex_unlock(&P->pp_trlock);
		if (!reg) {
			pt_tramp_slot_free(P, tr->tr_slot, tr->tr_size);
			pt_page_counter_free(P, idx);
			free(tr);
		}
		rv = err_set(err, "pid %d: cannot patch %#lx: %s",
		    (int)P->pp_pid, (unsigned long)addr, strerror(err));
		goto out;
	}
	if (B != NULL) {
		/* the int3 of the site converted: lifted where the jump
		   did not cover it (an endbr64 kept in place) */
		if (w->aw_skip > 0 && !P->pp_lifted)
			(void) pt_mem_write(P, addr, &B->pb_orig, 1);
		B->pb_tr = tr;
		B->pb_ntrap = trap ? B->pb_refs + 1 : 0;
		B->pb_refs++;
		B->pb_entry = (flags & PT_TRAMP_ENTRY) != 0;
	} else {
		pt_bkpt_t n = { .pb_addr = addr, .pb_orig = first,
		    .pb_refs = 1, .pb_tr = tr, .pb_ntrap = trap,
		    .pb_entry = (flags & PT_TRAMP_ENTRY) != 0 };

		pt_ident_of(P, addr, false, &n.pb_id);
		if (pt_bkpt_insert(P, &n) != 0) {
			(void) pt_mem_write(P, patch, orig, w->aw_len);
			(void) pt_window_move(P, tr, true);
			if (tr->tr_padset)
				(void) pt_mem_write(P, pad, padorig,
				    ARCH_JMP_LEN);
			pthread_mutex_lock(&P->pp_trlock);
			pt_tr_drop(P, tr, true);
			pthread_mutex_unlock(&P->pp_trlock);
			rv = err_set(ENOMEM, "pid %d: out of memory",
			    (int)P->pp_pid);
			goto out;
		}
	}
	pt_tramp_record(P, tr);
	pt_dprintf("pid %d: %#lx patched, trampoline at %#lx (%u bytes)%s%s\n",
	    (int)P->pp_pid, (unsigned long)addr, (unsigned long)tr->tr_slot,
	    (unsigned)tr->tr_t.atr_len, trap ? " (trap)" : "",
	    pad != 0 ? " through a pad" : "");
out:
	pt_edit_end(P, &e);
	return rv;
}

/* B's trampoline built again, with a trap gate or without. */
static int
pt_tramp_rebuild(pt_proc_t *P, uintptr_t addr, bool trap)
{
	pt_tramp_t *old, *tr;
	pt_edit_t e;
	pt_bkpt_t *B;
	int rv = 0;

	if ((rv = pt_edit_begin(P, &e)) != 0)
		return rv;
	pt_tramp_sweep(P);
	if ((B = pt_bkpt_find(P, addr)) == NULL || (old = B->pb_tr) == NULL) {
		rv = err_set(ENOENT, "pid %d: no patched site at %#lx",
		    (int)P->pp_pid, (unsigned long)addr);
		goto out;
	}
	if (trap && P->pp_trap == PT_TRAP_UNKNOWN)
		pt_trapsig_learn(P, 0);
	if ((tr = pt_tramp_make(P, addr, old->tr_patch, &old->tr_win,
	    old->tr_orig, old->tr_idx, trap, B->pb_entry,
	    old->tr_pad)) == NULL) {
		rv = -err_code();
		goto out;
	}
	memcpy(tr->tr_padorig, old->tr_padorig, ARCH_JMP_LEN);
	pthread_mutex_lock(&P->pp_trlock);
	rv = pt_tr_register(P, tr);
	pthread_mutex_unlock(&P->pp_trlock);
	if (rv != 0) {
		pt_tramp_slot_free(P, tr->tr_slot, tr->tr_size);
		free(tr);
		rv = err_set(ENOMEM, "pid %d: out of memory", (int)P->pp_pid);
		goto out;
	}
	/*
	 * The jump re-pointed: the window's other bytes stay as they are.
	 * Through a pad, the pad's jump is: the short jump stays.
	 */
	if (tr->tr_pad != 0 ? pt_mem_write(P, tr->tr_pad, tr->tr_padjump,
	    ARCH_JMP_LEN) != ARCH_JMP_LEN : pt_mem_write(P, tr->tr_patch,
	    tr->tr_jump, tr->tr_win.aw_len) != tr->tr_win.aw_len) {
		int err = errno;

		pthread_mutex_lock(&P->pp_trlock);
		pt_tr_drop(P, tr, true);
		pt_trs_put(P, old);	/* still the site's */
		pthread_mutex_unlock(&P->pp_trlock);
		rv = err_set(err, "pid %d: cannot patch %#lx: %s",
		    (int)P->pp_pid, (unsigned long)addr, strerror(err));
		goto out;
	}
	/* the counters are the site's: they go on with the new one */
	old->tr_ownidx = false;
	tr->tr_ownidx = true;
	B->pb_tr = tr;
	if (tr->tr_pad != 0) {
		/* the pad's bytes are the new one's */
		pthread_mutex_lock(&P->pp_trlock);
		pt_pad_off(P, old);
		pt_pad_on(P, tr);
		pthread_mutex_unlock(&P->pp_trlock);
	}
	pt_tramp_unrecord(P, tr);
	pt_tramp_record(P, tr);
	pt_tramp_retire(P, old);
	pt_dprintf("pid %d: %#lx rebuilt %s a trap\n", (int)P->pp_pid,
	    (unsigned long)addr, trap ? "with" : "without");
out:
	pt_edit_end(P, &e);
	return rv;
}

int
pt_tramp_set_pad(pt_proc_t *P, uintptr_t addr, const arch_window_t *w,
    uintptr_t pad, int flags)
{
	arch_window_t win;
	pt_ident_t id;
	pt_bkpt_t *B;
	uint8_t j[ARCH_JMP_LEN];
	int rv;

	PT_ASSERT_OWNER(P);
	if (P->pp_state == PT_DEAD || P->pp_state == PT_LOST || P->pp_rdonly)
		return err_set(ESRCH, "pid %d: cannot patch: process not "
		    "under control", (int)P->pp_pid);
	if (w == NULL || w->aw_refuse != NULL || w->aw_len > PT_TR_ORIG)
		return err_set(EINVAL, "pid %d: cannot patch %#lx: %s",
		    (int)P->pp_pid, (unsigned long)addr, w != NULL &&
		    w->aw_refuse != NULL ? w->aw_refuse : "bad window");
	if ((rv = pt_edit_ok(P, "patch")) != 0)
		return rv;
	win = *w;
	if ((B = pt_bkpt_find(P, addr)) != NULL) {
		pt_ident_of(P, addr, true, &id);
		if (!pt_ident_same(&B->pb_id, &id)) {
			/* its object went unseen (unmap.c): a new site */
			if (B->pb_tr != NULL)
				pt_tramp_forget(P, B);
			pt_bkpt_forget(P, addr);
			B = NULL;
		}
	}
	if (B != NULL && B->pb_tr != NULL) {
		if ((flags & PT_TRAMP_TRAP) && !B->pb_tr->tr_trap &&
		    (rv = pt_tramp_rebuild(P, addr, true)) != 0)
			return rv;
		if ((B = pt_bkpt_find(P, addr)) == NULL)
			return err_set(ESRCH, "pid %d: site %#lx gone",
			    (int)P->pp_pid, (unsigned long)addr);
		B->pb_refs++;
		if (flags & PT_TRAMP_TRAP)
			B->pb_ntrap++;
		return 0;
	}
	if (pad == 0 ? w->aw_len < ARCH_JMP_LEN : w->aw_len < ARCH_SHORT_LEN ||
	    w->aw_len >= ARCH_JMP_LEN)
		return err_set(EINVAL, "pid %d: cannot patch %#lx: a window "
		    "of %u bytes%s", (int)P->pp_pid, (unsigned long)addr,
		    w->aw_len, pad != 0 ? " for a short jump" : "");
	if (pad != 0 && arch_patch_short(addr + w->aw_skip, pad, w->aw_len,
	    j) != 0)
		return err_set(ERANGE, "pid %d: cannot patch %#lx: its pad "
		    "%#lx is out of a short jump's reach", (int)P->pp_pid,
		    (unsigned long)addr, (unsigned long)pad);
	if (B != NULL && !(flags & (PT_TRAMP_TRAP | PT_TRAMP_TAKE)))
		return err_set(EEXIST, "pid %d: cannot patch %#lx: an int3 "
		    "site is there for other users", (int)P->pp_pid,
		    (unsigned long)addr);
	/* claimed pads are known without stopping anybody */
	if (pad != 0 && (rv = pt_window_clear(P, addr, addr + w->aw_skip,
	    w->aw_len, pad)) == -EADDRINUSE)
		return rv;
	return pt_tramp_new(P, addr, &win, pad, flags);
}

int
pt_tramp_set(pt_proc_t *P, uintptr_t addr, const arch_window_t *w,
    int flags)
{
	return pt_tramp_set_pad(P, addr, w, 0, flags);
}

int
pt_tramp_remove(pt_proc_t *P, uintptr_t addr)
{
	uint8_t cur[PT_TR_ORIG];
	pt_bkpt_t *B = pt_bkpt_find(P, addr);
	pt_tramp_t *tr;
	pt_edit_t e;
	size_t len;
	int rv = 0;

	if (B == NULL || (tr = B->pb_tr) == NULL)
		return err_set(ENOENT, "pid %d: no patched site at %#lx",
		    (int)P->pp_pid, (unsigned long)addr);
	len = tr->tr_win.aw_len;
	if (P->pp_state == PT_DEAD || P->pp_state == PT_LOST ||
	    pt_edit_begin(P, &e) != 0) {
		/* nothing to write to: the records go */
		pthread_mutex_lock(&P->pp_trlock);
		pt_tr_unlive(P, tr);
		pthread_mutex_unlock(&P->pp_trlock);
		pt_bkpt_forget(P, addr);
		return 0;
	}
	/*
	 * Only our jump is undone: text unmapped since (dlclose) needs
	 * nothing back, nor does memory mapped there since.
	 */
	if (pt_mem_read(P, tr->tr_patch, cur, len) == (ssize_t)len &&
	    memcmp(cur, tr->tr_jump, len) == 0 &&
	    pt_mem_write(P, tr->tr_patch, tr->tr_orig, len) != (ssize_t)len)
		rv = err_set(errno, "pid %d: cannot restore text at %#lx: %s",
		    (int)P->pp_pid, (unsigned long)addr, strerror(errno));
	/* then the pad: kept (and TR with it) while a thread needs it */
	if (rv == 0 && !pt_pad_restore(P, tr))
		pt_dprintf("pid %d: pad %#lx of %#lx kept: a thread may come "
		    "back to it\n", (int)P->pp_pid, (unsigned long)tr->tr_pad,
		    (unsigned long)addr);
	pt_tramp_unrecord(P, tr);
	pt_bkpt_forget(P, addr);
	pt_tramp_retire(P, tr);
	pt_edit_end(P, &e);
	return rv;
}

int
pt_tramp_del(pt_proc_t *P, uintptr_t addr, int flags)
{
	pt_bkpt_t *B;
	bool trap;
	int rv;

	PT_ASSERT_OWNER(P);
	if ((B = pt_bkpt_find(P, addr)) == NULL)
		return err_set(ENOENT, "pid %d: no site at %#lx",
		    (int)P->pp_pid, (unsigned long)addr);
	if (B->pb_tr == NULL)
		return pt_bkpt_del(P, addr);
	if ((rv = pt_edit_ok(P, "restore a site")) != 0)
		return rv;
	/* a user of the kind named, or else of the other */
	trap = (flags & PT_TRAMP_TRAP) ? B->pb_ntrap > 0 :
	    B->pb_refs - B->pb_ntrap == 0;
	if (B->pb_refs <= 1)
		return pt_tramp_remove(P, addr);
	B->pb_refs--;
	if (trap)
		B->pb_ntrap--;
	/* counting users remain: no stop for them */
	if (B->pb_ntrap == 0 && B->pb_tr->tr_trap &&
	    pt_tramp_rebuild(P, addr, false) != 0)
		pt_dprintf("pid %d: %#lx keeps its trap: %s\n",
		    (int)P->pp_pid, (unsigned long)addr, err_msg());
	return 0;
}

void
pt_tramp_forget(pt_proc_t *P, pt_bkpt_t *B)
{
	pt_tramp_t *tr = B->pb_tr;

	if (tr == NULL)
		return;
	pt_tramp_unrecord(P, tr);
	/* freed by the next edit that finds no thread in it; the pad
	   went with the text */
	pthread_mutex_lock(&P->pp_trlock);
	pt_tr_unlive(P, tr);
	pt_pad_off(P, tr);
	pthread_mutex_unlock(&P->pp_trlock);
	B->pb_tr = NULL;
}

/* ------------------------------------------------------ hits, views */

int
pt_tramp_hit(const pt_proc_t *P, uintptr_t pc, uintptr_t *site)
{
	const pt_tramp_t *tr = pt_trl_at(P, pc);

	if (tr == NULL || !tr->tr_trap || tr->tr_t.atr_trap == 0 ||
	    tr->tr_slot + tr->tr_t.atr_trap != pc)
		return 0;
	*site = tr->tr_site;
	return tr->tr_live ? 1 : 2;
}

/*
 * The gate sends the signal with tgkill to its own process: SI_TKILL,
 * and the sender's pid as the process sees it (the page's word; ours
 * when the namespaces agree).  A thread of the program could send the
 * same to a thread standing at the stop point, after the gate found the
 * signal at SIG_DFL: taken as ours, it is swallowed, and the program
 * would have ignored it anyway.
 */
bool
pt_tramp_sig(const pt_proc_t *P, const siginfo_t *si)
{
	pid_t pid = pt_page_pid(P);

	return si->si_signo == ARCH_TRAMP_SIG && si->si_code == SI_TKILL &&
	    (si->si_pid == P->pp_pid || (pid != 0 && si->si_pid == pid));
}

int
pt_tramp_gate(const pt_proc_t *P, pt_thread_t *T, const siginfo_t *si,
    uintptr_t *site)
{
	arch_regs_t regs;

	if (P->pp_ntrl == 0 || si->si_signo != ARCH_TRAMP_SIG ||
	    (T->pt_flags & PT_TF_GUEST) || !pt_tramp_sig(P, si) ||
	    pt_thr_regs(T, &regs) != 0)
		return 0;
	return pt_tramp_hit(P, arch_pc(&regs), site);
}

bool
pt_tramp_pending(const pt_proc_t *P, pt_thread_t *T)
{
	arch_regs_t regs;
	uintptr_t site;
	char pnd[64];

	return P->pp_ntrl > 0 && !(T->pt_flags & PT_TF_GUEST) &&
	    pt_thr_regs(T, &regs) == 0 &&
	    pt_tramp_hit(P, arch_pc(&regs), &site) != 0 &&
	    pt_status_text(P->pp_pid, T->pt_tid, "SigPnd", pnd,
	    sizeof (pnd)) == 0 &&
	    ((strtoull(pnd, NULL, 16) >> (ARCH_TRAMP_SIG - 1)) & 1);
}

bool
pt_tramp_inside(const pt_proc_t *P, uintptr_t pc)
{
	return P->pp_ntrl > 0 && pt_trl_at(P, pc) != NULL;
}

/*
 * The words of T, stopped at a trap with stack pointer SP, from SP up to
 * the site's own first ARCH_ENTRY_WORDS: one read a stop serves the
 * site's registers, the gate's clock and the entry's return address and
 * arguments.  NULL if not even the frame can be read; *N the words read.
 */
static const uint64_t *
pt_tramp_words(pt_proc_t *P, pt_thread_t *T, uintptr_t sp, size_t *n)
{
	size_t all = sizeof (T->pt_trw), frame = ARCH_TRAMP_TRAPSP;

	if (T->pt_trw_n != 0 && T->pt_trw_sp == sp &&
	    T->pt_trw_gen == pt_flushgen && T->pt_trw_mem == P->pp_memgen) {
		*n = T->pt_trw_n;
		return T->pt_trw;
	}
	T->pt_trw_n = 0;
	/* the site's words may lie past the stack's end: the frame alone */
	if (pt_mem_read(P, sp, T->pt_trw, all) != (ssize_t)all) {
		if (pt_mem_read(P, sp, T->pt_trw, frame) != (ssize_t)frame)
			return NULL;
		all = frame;
	}
	T->pt_trw_n = (unsigned)(all / 8);
	T->pt_trw_sp = sp;
	T->pt_trw_gen = pt_flushgen;
	T->pt_trw_mem = P->pp_memgen;
	*n = T->pt_trw_n;
	return T->pt_trw;
}

ssize_t
pt_site_read(pt_proc_t *P, pid_t tid, uintptr_t addr, void *buf, size_t len)
{
	const uint64_t *w;
	pt_thread_t *T;
	arch_regs_t r;
	uintptr_t sp;
	size_t n;

	PT_ASSERT_OWNER(P);
	if ((T = pt_thr_find(P, tid)) != NULL &&
	    (T->pt_flags & (PT_TF_STOPPED | PT_TF_TRAMP)) ==
	    (PT_TF_STOPPED | PT_TF_TRAMP) && pt_thr_regs(T, &r) == 0 &&
	    (w = pt_tramp_words(P, T, sp = arch_sp(&r), &n)) != NULL &&
	    addr >= sp && addr + len <= sp + 8 * n) {
		memcpy(buf, (const char *)w + (addr - sp), len);
		return (ssize_t)len;
	}
	return pt_mem_read(P, addr, buf, len);
}

int
pt_regs_site(pt_proc_t *P, pid_t tid, arch_regs_t *regs)
{
	const uint64_t *frame;
	size_t n;
	pt_thread_t *T;
	arch_regs_t r;
	int rv;

	PT_ASSERT_OWNER(P);
	if ((T = pt_thr_find(P, tid)) == NULL ||
	    (T->pt_flags & (PT_TF_STOPPED | PT_TF_TRAMP)) !=
	    (PT_TF_STOPPED | PT_TF_TRAMP))
		return pt_regs_get(P, tid, regs);
	if ((rv = pt_thr_regs(T, &r)) != 0)
		return err_set(-rv, "pid %d: thread %d: %s", (int)P->pp_pid,
		    (int)tid, strerror(-rv));
	if ((frame = pt_tramp_words(P, T, arch_sp(&r), &n)) == NULL)
		return err_set(EFAULT, "pid %d: thread %d: cannot read the "
		    "registers saved by the trampoline", (int)P->pp_pid,
		    (int)tid);
	arch_tramp_view(&r, frame, T->pt_trsite, regs);
	return 0;
}

/* T's clock slot (our view), if it has one of this image's page. */
static _Atomic uint64_t *
pt_vslot_local(pt_proc_t *P, pt_thread_t *T)
{
	if (T->pt_vslot != 0 && T->pt_vexecs != P->pp_execs)
		T->pt_vslot = 0;
	return T->pt_vslot == 0 ? NULL : (_Atomic uint64_t *)
	    pt_page_counter_local(P, T->pt_vslot - 1);
}

uint64_t
pt_tramp_vpost(pt_proc_t *P, pid_t tid)
{
	const _Atomic uint64_t *c;
	pt_thread_t *T;

	PT_ASSERT_OWNER(P);
	if ((T = pt_thr_find(P, tid)) == NULL) {
		for (unsigned i = 0; i < PT_VGONE && i < P->pp_nvgone; i++)
			if (P->pp_vgone[(P->pp_nvgone - 1 - i) % PT_VGONE].
			    vg_tid == tid)
				return P->pp_vgone[(P->pp_nvgone - 1 - i) %
				    PT_VGONE].vg_post;
		return 0;
	}
	if ((c = pt_vslot_local(P, T)) == NULL)
		return 0;
	return pt_ts_ns(atomic_load(&c[0]), atomic_load(&c[1]));
}

arch_quick_t *
pt_quick_table(pt_proc_t *P)
{
	PT_ASSERT_OWNER(P);
	return pt_page_quick(P, NULL);
}

pid_t
pt_quick_tid(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T;

	PT_ASSERT_OWNER(P);
	if (pt_page_pid(P) == P->pp_pid || (T = pt_thr_find(P, tid)) == NULL)
		return tid;
	if (T->pt_nstid == 0)
		T->pt_nstid = pt_nsid(P, tid);
	return T->pt_nstid;
}

bool
pt_quick_ok(pt_proc_t *P, uintptr_t addr)
{
	pt_bkpt_t *B;

	PT_ASSERT_OWNER(P);
	return (B = pt_bkpt_find(P, addr)) != NULL && B->pb_tr != NULL &&
	    B->pb_tr->tr_trap && B->pb_ntrap == 1 &&
	    B->pb_tr->tr_quick;
}

/*
 * A slot is a counter pair (16 bytes, a struct timespec): the thread
 * writes it after each resume from a gate stop, and we read and clear it
 * at its next one, so a failed write reads as 0.  One per thread, taken
 * at its first gate stop and given back when it goes; a slot of an
 * image before an exec is not this page's (pt_vexecs).
 */
int
pt_tramp_clock(pt_proc_t *P, pid_t tid, uint64_t *pre, uint64_t *post)
{
	_Atomic uint64_t *c;
	const uint64_t *w;
	size_t n;
	pt_thread_t *T;
	uint32_t idx;
	uintptr_t at;
	bool trap;
	int rv;

	PT_ASSERT_OWNER(P);
	*pre = *post = 0;
	if ((T = pt_thr_find(P, tid)) == NULL ||
	    !(T->pt_flags & PT_TF_STOPPED))
		return -EINVAL;
	trap = (T->pt_flags & PT_TF_TRAMP) != 0;
	if (trap && (rv = pt_thr_regs(T, &T->pt_regs)) != 0)
		return rv;
	if (trap && (w = pt_tramp_words(P, T, arch_sp(&T->pt_regs), &n)) !=
	    NULL)
		*pre = pt_ts_ns(w[ARCH_TRAMP_CLOCK / 8],
		    w[ARCH_TRAMP_CLOCK / 8 + 1]);
	if ((c = pt_vslot_local(P, T)) == NULL && trap &&
	    pt_page_counter(P, &idx) == 0) {
		T->pt_vslot = idx + 1;
		T->pt_vexecs = P->pp_execs;
		c = pt_vslot_local(P, T);
	}
	if (c == NULL || (at = pt_page_counter_addr(P,
	    T->pt_vslot - 1)) == 0)
		return !trap;
	*post = pt_ts_ns(atomic_load(&c[0]), atomic_load(&c[1]));
	atomic_store(&c[0], 0);
	atomic_store(&c[1], 0);
	if (!trap)
		return 1;
	arch_tramp_slot(&T->pt_regs, at);
	T->pt_regs_dirty = true;
	return 0;
}

int
pt_tramp_where(pt_proc_t *P, uintptr_t pc, uintptr_t *site_pc,
    size_t *depth)
{
	const pt_tramp_t *tr;
	int in = 0;

	pthread_mutex_lock(&P->pp_trlock);
	if ((tr = pt_trl_at(P, pc)) != NULL) {
		arch_tramp_where(&tr->tr_t, tr->tr_site, tr->tr_patch,
		    &tr->tr_win, pc - tr->tr_slot, site_pc, depth);
		in = 1;
	}
	/* at a pad: past the short jump, nothing else done */
	for (int i = 0; !in && i < P->pp_npad; i++) {
		tr = P->pp_pads[i];
		if (tr->tr_padset && tr->tr_pad == pc) {
			*site_pc = tr->tr_patch;
			*depth = 0;
			in = 1;
		}
	}
	pthread_mutex_unlock(&P->pp_trlock);
	return in;
}

int
pt_tramp_count(pt_proc_t *P, uintptr_t addr, uint64_t *hits,
    uint64_t *missed)
{
	const _Atomic uint64_t *c = NULL;
	int found, i;

	pthread_mutex_lock(&P->pp_trlock);
	i = pt_trs_index(P, addr, &found);
	if (found)
		c = pt_page_counter_local(P, P->pp_trs[i]->tr_idx);
	if (c != NULL) {
		*hits = c[0];
		*missed = c[1];
	}
	pthread_mutex_unlock(&P->pp_trlock);
	return c != NULL ? 0 : -ENOENT;
}

const _Atomic uint64_t *
pt_tramp_counters(pt_proc_t *P, uintptr_t addr)
{
	const pt_bkpt_t *B;

	PT_ASSERT_OWNER(P);
	if ((B = pt_bkpt_find(P, addr)) == NULL || B->pb_tr == NULL)
		return NULL;
	return pt_page_counter_local(P, B->pb_tr->tr_idx);
}

int
pt_site_kind(const pt_proc_t *P, uintptr_t addr)
{
	const pt_bkpt_t *B = pt_bkpt_find((pt_proc_t *)P, addr);

	return B == NULL ? -ENOENT : B->pb_tr != NULL;
}

int
pt_tramp_nsites(const pt_proc_t *P)
{
	return P->pp_ntrs;
}

/* -------------------------------------------- fork, exec, release */

int
pt_tramp_clean_child(pt_proc_t *P, int fd)
{
	uint8_t cur[PT_TR_ORIG];
	int rv = 0;

	for (int i = 0; i < P->pp_ntrl; i++) {
		const pt_tramp_t *tr = P->pp_trl[i];
		size_t len = tr->tr_win.aw_len;

		/* only our jump: the child's text may have changed since */
		if (pread(fd, cur, len, (off_t)tr->tr_patch) != (ssize_t)len ||
		    memcmp(cur, tr->tr_jump, len) != 0)
			continue;
		if (pwrite(fd, tr->tr_orig, len, (off_t)tr->tr_patch) !=
		    (ssize_t)len)
			rv = -errno;
	}
	/* the pads once no short jump leads to them */
	for (int i = 0; i < P->pp_ntrl; i++) {
		const pt_tramp_t *tr = P->pp_trl[i];

		if (tr->tr_pad == 0 || pread(fd, cur, ARCH_JMP_LEN,
		    (off_t)tr->tr_pad) != ARCH_JMP_LEN ||
		    memcmp(cur, tr->tr_padjump, ARCH_JMP_LEN) != 0)
			continue;
		if (pwrite(fd, tr->tr_padorig, ARCH_JMP_LEN,
		    (off_t)tr->tr_pad) != ARCH_JMP_LEN)
			rv = -errno;
	}
	return rv;
}

void
pt_tramp_text_pads(const pt_proc_t *P, uintptr_t addr, uint8_t *buf,
    size_t n)
{
	for (int i = 0; i < P->pp_npad; i++) {
		const pt_tramp_t *tr = P->pp_pads[i];

		if (!tr->tr_padset || tr->tr_pad >= addr + n ||
		    tr->tr_pad + ARCH_JMP_LEN <= addr)
			continue;
		for (size_t k = 0; k < ARCH_JMP_LEN; k++) {
			uintptr_t at = tr->tr_pad + k;

			if (at >= addr && at < addr + n)
				buf[at - addr] = tr->tr_padorig[k];
		}
	}
}

bool
pt_tramp_pinned(const pt_proc_t *P)
{
	for (int i = 0; i < P->pp_npad; i++) {
		if (!P->pp_pads[i]->tr_live)
			return true;
	}
	return false;
}

/* Every record dropped, nothing written: the memory is not ours. */
static void
pt_tramp_clear(pt_proc_t *P)
{
	pthread_mutex_lock(&P->pp_trlock);
	while (P->pp_ntrl > 0)
		pt_tr_drop(P, P->pp_trl[P->pp_ntrl - 1], false);
	P->pp_ntrs = 0;
	pthread_mutex_unlock(&P->pp_trlock);
	for (int i = 0; i < P->pp_nbp; i++)
		P->pp_bp[i].pb_tr = NULL;
	if (P->pp_tscan != NULL)
		P->pp_tscan->ts_ok = false;
}

void
pt_tramp_reset(pt_proc_t *P)
{
	pt_tramp_clear(P);
	P->pp_vffree = 0;
	pt_page_retire(P);	/* our view: the old counts, until next exec */
}

void
pt_tramp_fini(pt_proc_t *P)
{
	/*
	 * pt_xol_fini stepped every thread out of the areas and unmapped
	 * them (the page first: left here, only our view of it), unless a
	 * thread (a signal frame on its stack) or an
	 * untraced vfork child may still come back to one: then the page
	 * stays mapped for their counters, its owner word let go, so
	 * their gates skip the trap.
	 */
	bool gone = P->pp_nxol == 0;

	if (!gone)
		pt_dprintf("pid %d: trampolines left mapped: a thread may "
		    "come back to one\n", (int)P->pp_pid);
	pt_page_release(P, gone);
}

void
pt_tramp_free(pt_proc_t *P)
{
	pt_tramp_clear(P);
	free(P->pp_pads);
	P->pp_pads = NULL;
	P->pp_apad = 0;
	free(P->pp_trl);
	free(P->pp_trs);
	P->pp_trl = P->pp_trs = NULL;
	P->pp_atrl = P->pp_atrs = 0;
	if (P->pp_tscan != NULL) {
		free(P->pp_tscan->ts_w);
		free(P->pp_tscan);
		P->pp_tscan = NULL;
	}
	pthread_mutex_destroy(&P->pp_trlock);
}
