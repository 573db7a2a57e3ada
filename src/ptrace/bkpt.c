/*
 * bkpt.c - breakpoint primitives: plant, remove, execute over.
 *
 * The site table is what makes a SIGTRAP ours: it is updated before an
 * int3 is written and after one is removed, on the owner thread, which is
 * also the only thread that classifies stops, so a hit is never seen
 * against a stale table.  Planting and removal are single-byte writes and
 * need no stop: a thread that trapped on a site just before its removal
 * reports the trap later, and the "gone" list tells wait.c to rewind it
 * rather than pass the victim a SIGTRAP.
 *
 * Stepping over a site restores the original byte, so every other thread
 * is stopped first: nobody can run past the site unseen.  The stepping
 * thread's signal mask blocks asynchronous signals meanwhile, so a signal
 * cannot divert it into a handler that would run with the site open; the
 * synchronous ones stay unblocked so a faulting instruction is reported
 * to the victim exactly as without us.  This costs stops per hit; the
 * probes layer replaces it with emulation and out-of-line execution.
 */
#include "pt_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PT_INT3 ARCH_TRAP_BYTE

/* Where ADDR is, or would go, in the sorted array A of N sites. */
static int
pt_bp_search(const pt_bkpt_t *a, int n, uintptr_t addr, int *found)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (a[mid].pb_addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n && a[lo].pb_addr == addr;
	return lo;
}

/* E inserted at I in the sorted array *A (*N used of *CAP). */
static int
pt_bp_insert(pt_bkpt_t **a, int *n, int *cap, int i, const pt_bkpt_t *e)
{
	if (*n == *cap) {
		int m = *cap ? *cap * 2 : 16;
		pt_bkpt_t *g = realloc(*a, m * sizeof (*g));

		if (g == NULL)
			return -ENOMEM;
		*a = g;
		*cap = m;
	}
	memmove(&(*a)[i + 1], &(*a)[i], (*n - i) * sizeof (**a));
	(*a)[i] = *e;
	(*n)++;
	return 0;
}

static int
pt_bp_index(const pt_proc_t *P, uintptr_t addr, int *found)
{
	return pt_bp_search(P->pp_bp, P->pp_nbp, addr, found);
}

/* The first site at or above ADDR (an index into pp_bp). */
int
pt_bkpt_lower(const pt_proc_t *P, uintptr_t addr)
{
	int found;

	return pt_bp_index(P, addr, &found);
}

static const pt_bkpt_t *
pt_bkpt_cfind(const pt_proc_t *P, uintptr_t addr)
{
	int found, i = pt_bp_index(P, addr, &found);

	return found ? &P->pp_bp[i] : NULL;
}

pt_bkpt_t *
pt_bkpt_find(pt_proc_t *P, uintptr_t addr)
{
	return (pt_bkpt_t *)pt_bkpt_cfind(P, addr);
}

int
pt_bkpt_insert(pt_proc_t *P, const pt_bkpt_t *e)
{
	int found, i = pt_bp_index(P, e->pb_addr, &found);

	if (found)
		return -EEXIST;
	return pt_bp_insert(&P->pp_bp, &P->pp_nbp, &P->pp_abp, i, e);
}

void
pt_bkpt_forget(pt_proc_t *P, uintptr_t addr)
{
	int found, i = pt_bp_index(P, addr, &found);

	if (!found)
		return;
	memmove(&P->pp_bp[i], &P->pp_bp[i + 1],
	    (P->pp_nbp - i - 1) * sizeof (*P->pp_bp));
	P->pp_nbp--;
}

static int
pt_gone_index(const pt_proc_t *P, uintptr_t addr, int *found)
{
	return pt_bp_search(P->pp_gone, P->pp_ngone, addr, found);
}

int
pt_gone_find(pt_proc_t *P, uintptr_t addr)
{
	int found;

	(void) pt_gone_index(P, addr, &found);
	return found;
}

static int
pt_gone_add(pt_proc_t *P, const pt_bkpt_t *B)
{
	int found, i = pt_gone_index(P, B->pb_addr, &found);

	if (found)
		return 0;
	return pt_bp_insert(&P->pp_gone, &P->pp_ngone, &P->pp_agone, i, B);
}

static void
pt_gone_del(pt_proc_t *P, uintptr_t addr)
{
	int found, i = pt_gone_index(P, addr, &found);

	if (!found)
		return;
	memmove(&P->pp_gone[i], &P->pp_gone[i + 1],
	    (P->pp_ngone - i - 1) * sizeof (*P->pp_gone));
	P->pp_ngone--;
}

/* Refuse a site over an int3 that is not ours, or where nothing is. */
static int
pt_bkpt_check(pt_proc_t *P, uintptr_t addr, uint8_t *orig)
{
	/* before the first int3 of an image: what would a hit change? */
	if (P->pp_trap == PT_TRAP_UNKNOWN)
		pt_trapsig_learn(P, 0);
	if (pt_mem_read(P, addr, orig, 1) != 1) {
		/* no address space at all: it is exiting (or exec'ing) */
		if (errno == ESRCH)
			return err_set(ESRCH, "pid %d: cannot set "
			    "breakpoint: process is exiting", (int)P->pp_pid);
		return err_set(EFAULT, "pid %d: cannot set breakpoint "
		    "at %#lx: address not mapped", (int)P->pp_pid,
		    (unsigned long)addr);
	}
	if (*orig == PT_INT3)
		return err_set(EINVAL, "pid %d: cannot set breakpoint "
		    "at %#lx: an int3 is already there", (int)P->pp_pid,
		    (unsigned long)addr);
	return 0;
}

/*
 * B's address maps something else now (ID): the old site died with its
 * object, and B becomes the new object's site, with one user.  0, or
 * the error of the new site.
 */
static int
pt_bkpt_renew(pt_proc_t *P, pt_bkpt_t *B, const pt_ident_t *id)
{
	uint8_t orig, int3 = PT_INT3;
	int rv;

	if ((rv = pt_bkpt_check(P, B->pb_addr, &orig)) != 0)
		return rv;
	pt_xol_release(P, B->pb_addr);
	B->pb_orig = orig;
	B->pb_refs = 1;
	B->pb_id = *id;
	memset(&B->pb_carry, 0, sizeof (B->pb_carry));
	if (!P->pp_lifted && pt_mem_write(P, B->pb_addr, &int3, 1) != 1) {
		int err = errno;
		uintptr_t addr = B->pb_addr;

		B->pb_refs = 0;
		(void) pt_bkpt_del(P, addr);
		return err_set(err, "pid %d: cannot write breakpoint at "
		    "%#lx: %s", (int)P->pp_pid, (unsigned long)addr,
		    strerror(err));
	}
	return 0;
}

int
pt_bkpt_set(pt_proc_t *P, uintptr_t addr)
{
	bool renewed;

	return pt_bkpt_set_renew(P, addr, &renewed);
}

int
pt_bkpt_set_renew(pt_proc_t *P, uintptr_t addr, bool *renewed)
{
	uint8_t orig, int3 = PT_INT3;
	pt_ident_t id;
	int found, i, rv;

	PT_ASSERT_OWNER(P);
	*renewed = false;
	if (P->pp_state == PT_DEAD || P->pp_state == PT_LOST || P->pp_rdonly)
		return err_set(ESRCH, "pid %d: cannot set breakpoint: "
		    "process not under control", (int)P->pp_pid);
	if ((rv = pt_edit_ok(P, "set a breakpoint")) != 0)
		return rv;
	i = pt_bp_index(P, addr, &found);
	if (found && P->pp_bp[i].pb_tr != NULL) {
		pt_bkpt_t *B = &P->pp_bp[i];
		arch_window_t w = B->pb_tr->tr_win;

		/* a patched site: one more user that wants stops */
		pt_ident_of(P, addr, true, &id);
		if (pt_ident_same(&B->pb_id, &id))
			return pt_tramp_set(P, addr, &w, PT_TRAMP_TRAP |
			    (B->pb_entry ? PT_TRAMP_ENTRY : 0));
		/* its object went unseen: an int3 site anew */
		*renewed = true;
		pt_tramp_forget(P, B);
		pt_bkpt_forget(P, addr);
		i = pt_bp_index(P, addr, &found);
	}
	if (found) {
		pt_bkpt_t *B = &P->pp_bp[i];

		/* one int3 serves every user of a site: count them */
		pt_ident_of(P, addr, true, &id);
		if (pt_ident_same(&B->pb_id, &id)) {
			B->pb_refs++;
			return 0;
		}
		/* its object went unseen: this is a new site (unmap.c) */
		*renewed = true;
		return pt_bkpt_renew(P, B, &id);
	}
	pt_ident_of(P, addr, false, &id);
	if ((rv = pt_bkpt_check(P, addr, &orig)) != 0)
		return rv;
	pt_bkpt_t e = { .pb_addr = addr, .pb_orig = orig, .pb_refs = 1,
	    .pb_id = id };
	if (pt_bp_insert(&P->pp_bp, &P->pp_nbp, &P->pp_abp, i, &e) != 0)
		return err_set(ENOMEM, "pid %d: out of memory",
		    (int)P->pp_pid);
	if (!P->pp_lifted && pt_mem_write(P, addr, &int3, 1) != 1) {
		int err = errno;

		memmove(&P->pp_bp[i], &P->pp_bp[i + 1],
		    (P->pp_nbp - i - 1) * sizeof (*P->pp_bp));
		P->pp_nbp--;
		return err_set(err, "pid %d: cannot write breakpoint at "
		    "%#lx: %s", (int)P->pp_pid, (unsigned long)addr,
		    strerror(err));
	}
	pt_gone_del(P, addr);
	return 0;
}

int
pt_bkpt_del(pt_proc_t *P, uintptr_t addr)
{
	int found, i, rv = 0;

	PT_ASSERT_OWNER(P);
	i = pt_bp_index(P, addr, &found);
	if (!found)
		return err_set(ENOENT, "pid %d: no breakpoint at %#lx",
		    (int)P->pp_pid, (unsigned long)addr);
	if (P->pp_bp[i].pb_tr != NULL)
		return pt_tramp_del(P, addr, PT_TRAMP_TRAP);
	if ((rv = pt_edit_ok(P, "delete a breakpoint")) != 0)
		return rv;
	if (--P->pp_bp[i].pb_refs > 0)
		return 0;
	/*
	 * Text that is no longer mapped (dlclose) needs nothing back, nor
	 * does memory mapped there since: only our int3 is undone.
	 */
	uint8_t cur;
	if (P->pp_state != PT_DEAD && P->pp_state != PT_LOST &&
	    !P->pp_lifted && pt_mem_read(P, addr, &cur, 1) == 1 &&
	    cur == PT_INT3 && pt_mem_write(P, addr, &P->pp_bp[i].pb_orig, 1)
	    != 1 && errno != EIO && errno != EFAULT)
		rv = err_set(errno, "pid %d: cannot restore text at "
		    "%#lx: %s", (int)P->pp_pid, (unsigned long)addr,
		    strerror(errno));
	(void) pt_gone_add(P, &P->pp_bp[i]);
	memmove(&P->pp_bp[i], &P->pp_bp[i + 1],
	    (P->pp_nbp - i - 1) * sizeof (*P->pp_bp));
	P->pp_nbp--;
	return rv;
}

int
pt_bkpt_remove_all(pt_proc_t *P)
{
	int rv = 0;

	while (P->pp_nbp > 0) {
		pt_bkpt_t *B = &P->pp_bp[P->pp_nbp - 1];
		int r;

		B->pb_refs = 1;
		/* an untraced vfork child may run here: restored anyway */
		if (B->pb_tr != NULL)
			r = pt_tramp_remove(P, B->pb_addr);
		else if (P->pp_vffree > 0)
			pt_bkpt_forget(P, B->pb_addr), r = 0;
		else
			r = pt_bkpt_del(P, B->pb_addr);
		if (r != 0)
			rv = r;
	}
	return rv;
}

/*
 * While a process rests at a rendezvous its text is kept pristine, as the
 * reference does, for our own reading and anybody else's.  Only for a
 * process whose threads are all stopped.
 */
int
pt_bkpt_lift(pt_proc_t *P)
{
	int rv = 0;

	if (P->pp_lifted)
		return 0;
	/* patched sites stay: their jumps need no tracer */
	for (int i = 0; i < P->pp_nbp; i++) {
		if (P->pp_bp[i].pb_tr == NULL && pt_mem_write(P,
		    P->pp_bp[i].pb_addr, &P->pp_bp[i].pb_orig, 1) != 1)
			rv = -errno;
	}
	P->pp_lifted = true;
	return rv;
}

int
pt_bkpt_replant(pt_proc_t *P)
{
	uint8_t int3 = PT_INT3;
	int rv = 0;

	if (!P->pp_lifted)
		return 0;
	for (int i = 0; i < P->pp_nbp; i++) {
		if (P->pp_bp[i].pb_tr == NULL &&
		    pt_mem_write(P, P->pp_bp[i].pb_addr, &int3, 1) != 1)
			rv = -errno;
	}
	P->pp_lifted = false;
	return rv;
}

/* A new image has none of our sites. */
void
pt_bkpt_reset(pt_proc_t *P)
{
	pt_tramp_reset(P);
	P->pp_nbp = 0;
	P->pp_ngone = 0;
	P->pp_lifted = false;
	pt_maps_forget(P);
	pt_xol_reset(P);
}

/* int3 sites only: pt_tramp_nsites() counts the patched ones */
int
pt_bkpt_count(const pt_proc_t *P)
{
	return P->pp_nbp - P->pp_ntrs;
}

int
pt_bkpt_orig(const pt_proc_t *P, uintptr_t addr, uint8_t *byte)
{
	const pt_bkpt_t *B = pt_bkpt_cfind(P, addr);

	if (B != NULL)
		*byte = B->pb_orig;
	return B != NULL ? 0 : -ENOENT;
}

/*
 * A fork child has a copy of our text, int3s included: give it back.  A
 * site removed after the fork but before we saw the fork event is still
 * planted in the child's copy, so removed sites holding an int3 there are
 * restored too.  Only over an int3: a byte is never written over text
 * that is not a site's (a lifted site, an object mapped since).
 */
static int
pt_clean_list(int fd, const pt_bkpt_t *bp, int n)
{
	int rv = 0;

	for (int i = 0; i < n; i++) {
		uint8_t b;

		if (pread(fd, &b, 1, (off_t)bp[i].pb_addr) != 1 ||
		    b != PT_INT3)
			continue;
		if (pwrite(fd, &bp[i].pb_orig, 1, (off_t)bp[i].pb_addr) != 1)
			rv = -errno;
	}
	return rv;
}

int
pt_bkpt_clean_child(pt_proc_t *P, pid_t child)
{
	char path[64];
	int fd, rv, rv2, rv3;

	if (P->pp_nbp == 0 && P->pp_ngone == 0 && P->pp_ntrl == 0)
		return 0;
	snprintf(path, sizeof (path), "/proc/%d/mem", (int)child);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return -errno;
	rv = pt_clean_list(fd, P->pp_bp, P->pp_nbp);
	rv2 = pt_clean_list(fd, P->pp_gone, P->pp_ngone);
	/* and our jumps: its hits are not ours (it is not traced) */
	rv3 = pt_tramp_clean_child(P, fd);
	close(fd);
	return rv != 0 ? rv : rv2 != 0 ? rv2 : rv3;
}

/*
 * Single-step TID over the original instruction (pt_run).  Returns 0 with
 * TID stopped after it (or at the signal-delivery stop of the fault it
 * raised), 1 when the instruction was a system call that reported an
 * event (dispatched), -ESRCH if the thread died.  A signal that arrives
 * meanwhile is held, siginfo and all, and owed from the final stop:
 * injecting it during the step would run its handler with the step's
 * signal mask saved in the frame, for sigreturn to bring back.
 */
static int
pt_step_one(pt_proc_t *P, pid_t tid)
{
	pt_thread_t *T;
	pt_ran_t ran;
	int rv = pt_run(P, tid, PT_RUN_STEP, &ran);

	if (rv == 0 && ran.pr_kind == PT_RAN_TRAP &&
	    (T = pt_thr_find(P, tid)) != NULL) {
		/* the instruction was a trap of the program's own */
		T->pt_sig = SIGTRAP;
		T->pt_info = ran.pr_info;
		T->pt_has_info = 1;
	}
	pt_unhold(P, tid);
	pt_trapsig_stepped(P, tid);
	if (rv != 0)
		return rv;
	return ran.pr_kind == PT_RAN_GONE ? -ESRCH :
	    ran.pr_kind == PT_RAN_EVENT ? 1 : 0;
}

/*
 * Write WORD at AT, as a push would: process_vm_writev honours the page's
 * protection (/proc/PID/mem would write through a guard page), so a
 * push that would fault fails here and the thread is stepped instead.
 */
static int
pt_stack_push(pt_proc_t *P, uintptr_t at, uint64_t word)
{
	struct iovec local = { &word, sizeof (word) };
	struct iovec remote = { (void *)at, sizeof (word) };

	return process_vm_writev(P->pp_pid, &local, 1, &remote, 1, 0) ==
	    (ssize_t)sizeof (word) ? 0 : -1;
}

/* Does T run with a shadow stack (a return must match its copy there)? */
bool
pt_thr_shstk(pt_proc_t *P, pt_thread_t *T)
{
	if (T->pt_shstk < 0) {
		char feat[128];

		T->pt_shstk = pt_status_text((T->pt_flags & PT_TF_GUEST) ?
		    T->pt_tid : P->pp_pid, T->pt_tid, ARCH_SHSTK_FIELD, feat,
		    sizeof (feat)) == 0 && arch_shstk(feat);
	}
	return T->pt_shstk > 0;
}

/*
 * Carry T, stopped at the site ADDR, past it by its plan (arch_carry):
 * the registers change in T's cache (written back when T restarts), and
 * a push or a call writes the stack first.  0 when done, -1 to fall back
 * to a step (no plan, a shadow stack, or a stack write that failed: the
 * step lets the fault happen).
 */
static int
pt_carry(pt_proc_t *P, pt_thread_t *T, const arch_carry_t *c, uintptr_t addr)
{
	arch_regs_t r = T->pt_regs;
	uintptr_t at;
	uint64_t word;

	if (arch_carry(c, addr, &r, c->ac_kind == ARCH_CARRY_CALL &&
	    pt_thr_shstk(P, T), &at, &word) != 0 ||
	    (at != 0 && pt_stack_push(P, at, word) != 0))
		return -1;
	T->pt_regs = r;
	T->pt_regs_dirty = true;
	return 0;
}

int
pt_bkpt_step(pt_proc_t *P, pid_t tid)
{
	arch_regs_t regs;
	uint64_t mask, block;
	pt_thread_t *T;
	pt_bkpt_t *B;
	uintptr_t addr;
	unsigned execs;
	int outer, rv;
	uint8_t orig, int3 = PT_INT3;

	PT_ASSERT_OWNER(P);
	if ((T = pt_thr_find(P, tid)) == NULL ||
	    !(T->pt_flags & PT_TF_STOPPED))
		return err_set(ESRCH, "pid %d: thread %d is not stopped",
		    (int)P->pp_pid, (int)tid);
	/* stopped at a trampoline's trap: it goes on from there */
	if (T->pt_flags & PT_TF_TRAMP)
		return 0;
	if ((rv = pt_thr_regs(T, &regs)) != 0)
		return err_set(-rv, "pid %d: thread %d: %s",
		    (int)P->pp_pid, (int)tid, strerror(-rv));
	addr = arch_pc(&regs);
	if ((B = pt_bkpt_find(P, addr)) == NULL)
		return err_set(EINVAL, "pid %d: thread %d is not at a "
		    "breakpoint (pc %#lx)", (int)P->pp_pid, (int)tid,
		    (unsigned long)addr);
	if (B->pb_tr != NULL) {
		/*
		 * An int3 hit whose site was patched since: the window's
		 * instructions run from the trampoline's relocated copy,
		 * not through the jump, which would count the hit again.
		 */
		arch_set_pc(&T->pt_regs, B->pb_tr->tr_slot +
		    B->pb_tr->tr_t.atr_reloc);
		T->pt_regs_dirty = true;
		return 0;
	}
	/* one stop per hit: no other thread need stop, the int3 stays */
	if (!P->pp_lifted && pt_carry(P, T, &B->pb_carry, addr) == 0) {
		/* a signal it owes (caught while the plan was made) is
		   taken after the copy, not inside it */
		if (B->pb_carry.ac_kind == ARCH_CARRY_XOL && T->pt_sig != 0 &&
		    (T->pt_flags & PT_TF_SIGSTOP))
			(void) pt_xol_out(P, tid);
		return 0;
	}
	orig = B->pb_orig;

	outer = P->pp_stopping;
	execs = P->pp_execs;
	if ((rv = pt_gather(P, PT_WHY_BREAKPOINT)) != 0)
		return rv;
	/* an exec, or the site's removal, while gathering: nothing to do */
	T = pt_thr_find(P, tid);
	if (T == NULL || P->pp_execs != execs ||
	    pt_bkpt_find(P, addr) == NULL) {
		if (outer == 0)
			pt_resume_internal(P, tid);
		return err_set(ESRCH, "pid %d: thread %d: breakpoint at "
		    "%#lx gone", (int)P->pp_pid, (int)tid,
		    (unsigned long)addr);
	}

	(void) pt_mem_write(P, addr, &orig, 1);
	block = ~((1ULL << (SIGSEGV - 1)) | (1ULL << (SIGBUS - 1)) |
	    (1ULL << (SIGILL - 1)) | (1ULL << (SIGFPE - 1)) |
	    (1ULL << (SIGTRAP - 1)));
	if (pt_ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof (mask),
	    &mask) == 0)
		(void) pt_ptrace(PTRACE_SETSIGMASK, tid,
		    (void *)sizeof (block), &block);
	else
		mask = 0, block = 0;

	rv = pt_step_one(P, tid);

	if (P->pp_execs == execs && pt_bkpt_find(P, addr) != NULL)
		(void) pt_mem_write(P, addr, &int3, 1);
	T = pt_thr_find(P, tid);
	if (T != NULL && block != 0 && P->pp_execs == execs)
		(void) pt_ptrace(PTRACE_SETSIGMASK, tid,
		    (void *)sizeof (mask), &mask);
	if (rv > 0)
		rv = 0;		/* an event of the stepped syscall, queued */
	if (outer == 0)
		pt_resume_internal(P, tid);
	return rv < 0 ? err_set(-rv, "pid %d: thread %d died while "
	    "stepping over %#lx", (int)P->pp_pid, (int)tid,
	    (unsigned long)addr) : 0;
}

int
pt_bkpt_carry(const pt_proc_t *P, uintptr_t addr, arch_carry_t *c)
{
	const pt_bkpt_t *B = pt_bkpt_cfind(P, addr);

	if (B != NULL)
		*c = B->pb_carry;
	return B != NULL ? 0 : -ENOENT;
}

int
pt_bkpt_set_carry(pt_proc_t *P, uintptr_t addr, const arch_carry_t *c)
{
	pt_bkpt_t *B;

	PT_ASSERT_OWNER(P);
	if ((B = pt_bkpt_find(P, addr)) == NULL)
		return -ENOENT;
	B->pb_carry = *c;
	return 0;
}

/* Read text as the program sees it: our int3s and jumps replaced. */
ssize_t
pt_text_read(pt_proc_t *P, uintptr_t addr, void *buf, size_t len)
{
	ssize_t n = pt_mem_read(P, addr, buf, len);
	uintptr_t end = addr + (size_t)(n > 0 ? n : 0);
	int found, i;

	if (n <= 0)
		return n;
	/* a window starts at most PT_TR_ORIG + its skip before ADDR */
	i = pt_bp_index(P, addr > 2 * PT_TR_ORIG ? addr - 2 * PT_TR_ORIG : 0,
	    &found);
	for (; i < P->pp_nbp && P->pp_bp[i].pb_addr < end; i++) {
		const pt_bkpt_t *B = &P->pp_bp[i];
		const pt_tramp_t *tr = B->pb_tr;

		if (tr == NULL) {
			/* lifted: the int3s are out already */
			if (!P->pp_lifted && B->pb_addr >= addr)
				((uint8_t *)buf)[B->pb_addr - addr] =
				    B->pb_orig;
			continue;
		}
		for (size_t k = 0; k < tr->tr_win.aw_len; k++) {
			uintptr_t at = tr->tr_patch + k;

			if (at >= addr && at < end)
				((uint8_t *)buf)[at - addr] = tr->tr_orig[k];
		}
	}
	pt_tramp_text_pads(P, addr, buf, (size_t)n);
	return n;
}
