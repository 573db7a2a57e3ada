/*
 * follow.c - handing a child to an owner thread of its own.
 *
 * The kernel attaches a fork child to the thread that traces its parent,
 * and only that thread may use ptrace on it; each controlled process has
 * an owner thread of its own.  A tracee cannot change tracer thread
 * while attached, so the child is detached and seized again by its new
 * owner, and it must run nothing of its own in between: its first calls
 * would go unseen, a handler could run, and our sites would not be set
 * yet.  Nor may it stop (its parent could hear of a SIGSTOP: the stop
 * was sent to it).  So before the detach it is *parked*:
 *
 *   - a page of its own is mapped in it (an mmap it runs for us, at its
 *     stop, from the resume stub in the scratch area it inherited, else
 *     on a system call instruction of its vDSO or the one its fork just
 *     returned from), and the park code, its registers and its signal
 *     mask are written there (arch/park.c);
 *   - its pc is set to that code, every signal blocked
 *     (PTRACE_SETSIGMASK: pending ones wait), and it is let go.
 *
 * The code sleeps in a futex wait, no spin, for PT_PARK_SECS.  Its new
 * owner seizes it well before (pt_grab's PTRACE_INTERRUPT ends the
 * wait, and the call is never restarted) and finds it in the page: it
 * puts back the mask and then the registers itself (killed between the
 * two, the child is still in the page), then unmaps the page with a
 * call injected the usual way (pt_unpark).  Should nobody come (dtproc
 * killed in the window between the two tracers), the wait times out and
 * the code puts back the mask and every register and jumps to the
 * child's pc: it goes on as if never parked, untraced, its own text never
 * written; only the page is left.  A new owner that comes later than
 * that finds the child in its own code, having run untraced meanwhile:
 * it is traced from there, and pt_unpark says so.  pt_park_undo() puts
 * back at once, from any thread, a child that nobody will take.
 *
 * What is not covered: dtproc killed during the park itself (the mmap
 * run in the child, some tens of microseconds) when the child has no
 * resume stub (no scratch area in its parent yet, a vfork child's exec,
 * a shadow stack); with one, it comes back from the mmap by itself, its
 * own mask and registers back (arch/resume.c).  A child of a process
 * dtproc created is then killed with it (PTRACE_O_EXITKILL is
 * inherited); a grabbed one's child goes on from the injected call.  A
 * child under a seccomp filter (which might kill it for an mmap it did
 * not expect) or with no system call instruction to borrow is not
 * parked, hence not followed.
 */
#include "pt_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a parked child waits for its new owner before going on. */
#define PT_PARK_SECS	2

void
pt_set_follow(pt_proc_t *P, bool on)
{
	PT_ASSERT_OWNER(P);
	P->pp_follow = on;
}

void
pt_set_fork_hook(pt_proc_t *P, pt_fork_f *fn, void *arg)
{
	PT_ASSERT_OWNER(P);
	P->pp_fork_fn = fn;
	P->pp_fork_arg = arg;
}

static uint64_t
pt_park_now(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int
pt_park_rw(pid_t pid, uintptr_t at, void *buf, size_t len, bool wr)
{
	char path[64];
	ssize_t n;
	int fd, rv = 0;

	snprintf(path, sizeof (path), "/proc/%d/mem", (int)pid);
	if ((fd = open(path, (wr ? O_RDWR : O_RDONLY) | O_CLOEXEC)) < 0)
		return -errno;
	n = wr ? pwrite(fd, buf, len, (off_t)at) : pread(fd, buf, len,
	    (off_t)at);
	if (n != (ssize_t)len)
		rv = n < 0 ? -errno : -EIO;
	close(fd);
	return rv;
}

/*
 * A system call instruction in PID's executable memory: the first in its
 * vDSO, else the one just before PC (a fork child's pc is just past the
 * call that made it).  0, or -ENOENT.
 */
static int
pt_park_insn(pid_t pid, uintptr_t pc, uintptr_t *at)
{
	uint8_t buf[8192], b[ARCH_SYSCALL_INSN_LEN];
	pt_map_t *maps;
	size_t n;
	int rv = -ENOENT;

	if (pt_maps_read(pid, &maps, &n) != 0)
		return -ESRCH;
	for (size_t i = 0; i < n && rv != 0; i++) {
		pt_map_t *m = &maps[i];
		size_t len = m->pm_end - m->pm_start;

		if (!(m->pm_prot & PROT_EXEC) || len > sizeof (buf) ||
		    strcmp(m->pm_path, "[vdso]") != 0 ||
		    pt_park_rw(pid, m->pm_start, buf, len, false) != 0)
			continue;
		for (size_t o = 0; o + ARCH_SYSCALL_INSN_LEN <= len; o++) {
			if (memcmp(buf + o, ARCH_SYSCALL_INSN,
			    ARCH_SYSCALL_INSN_LEN) == 0) {
				*at = m->pm_start + o;
				rv = 0;
				break;
			}
		}
	}
	for (size_t i = 0; i < n && rv != 0; i++) {
		pt_map_t *m = &maps[i];

		if ((m->pm_prot & PROT_EXEC) && pc >= m->pm_start +
		    ARCH_SYSCALL_INSN_LEN && pc <= m->pm_end &&
		    pt_park_rw(pid, pc - ARCH_SYSCALL_INSN_LEN, b, sizeof (b),
		    false) == 0 && memcmp(b, ARCH_SYSCALL_INSN, sizeof (b)) ==
		    0) {
			*at = pc - ARCH_SYSCALL_INSN_LEN;
			rv = 0;
		}
	}
	pt_maps_free(maps, n);
	return rv;
}

/*
 * Run system call NR in PID, stopped and traced by this thread (not a
 * pt_proc_t's: a child between owners), from the resume stub at STUB
 * (its parent's, inherited: should we die before the call's exit stop is
 * collected, it comes back by itself, with MASK) or, with none, on the
 * instruction at AT: its entry and exit stops are collected, nothing past
 * it runs, and its registers are put back after.  0 and *RET, or -errno
 * (-EAGAIN: some other stop came, a SIGSTOP; the registers are back).
 * Every signal waits while the call runs: blocked only once the thread's
 * registers point at the stub, and MASK back before they are put back,
 * so that a dtproc dying at any moment leaves it with its own mask.
 */
static int
pt_park_call(pid_t pid, uintptr_t stub, uint64_t mask, uintptr_t at,
    long nr, const long args[6], long *ret)
{
	uint64_t blk[ARCH_RESUME_WORDS], all = ~0ULL;
	arch_regs_t saved, r;
	uintptr_t blkat;
	int rv = 0, status;

	if ((rv = arch_regs_read(pid, &saved)) != 0)
		return rv;
	r = saved;
	if (stub != 0 && (blkat = arch_resume_block(&saved, mask, blk),
	    pt_park_rw(pid, blkat, blk, sizeof (blk), true) == 0))
		arch_resume_setup(&r, stub, blkat, nr, args);
	else if (at != 0)
		arch_syscall_setup(&r, at, nr, args);
	else
		return -EFAULT;	/* its stack not writable: nowhere to run */
	if ((rv = arch_regs_write(pid, &r)) != 0)
		return rv;
	if (ptrace(PTRACE_SETSIGMASK, pid, sizeof (all), &all) != 0)
		rv = -errno;
	for (int stops = 0; stops < 2 && rv == 0; stops++) {
		if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0)
			rv = -errno;
		else if ((rv = pt_wait_tid(pid, &status)) != 0)
			break;
		else if (!WIFSTOPPED(status))
			return -ESRCH;		/* killed meanwhile */
		else if ((WSTOPSIG(status) & 0x7f) != SIGTRAP ||
		    (status >> 16) != 0)
			rv = -EAGAIN;
	}
	if (rv == 0 && (rv = arch_regs_read(pid, &r)) == 0)
		*ret = arch_syscall_ret(&r);
	(void) ptrace(PTRACE_SETSIGMASK, pid, sizeof (mask), &mask);
	if (arch_regs_write(pid, &saved) != 0 && rv == 0)
		rv = -ESRCH;
	return rv;
}

/*
 * Park CHILD, in a ptrace stop of this thread's, before it is detached:
 * 0 with *PK filled, or -errno with the child as it was.  The stop is a
 * fork child's first or (INSYS) an exec event stop, whose system call
 * returns 0 once it goes on; that call is finished first, so the
 * registers saved are those it would run its own code with.
 */
int
pt_park(pid_t child, bool insys, uintptr_t stub, pt_park_t *pk)
{
	static const uint64_t all = ~0ULL;
	uint8_t page[ARCH_PARK_SIZE];
	arch_regs_t r;
	uintptr_t at = 0;
	char feat[128];
	long args[6] = { 0, ARCH_PARK_SIZE, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0 };
	long addr = 0;
	int rv, status;

	memset(pk, 0, sizeof (*pk));
	pk->pk_t0 = pt_park_now();
	if (pt_status_field(child, 0, "Seccomp") > 0)
		return err_set(EPERM, "pid %d: under a seccomp filter: not "
		    "parked, not followed", (int)child);
	if (insys && (ptrace(PTRACE_SYSCALL, child, 0, 0) != 0 ||
	    pt_wait_tid(child, &status) != 0 || !WIFSTOPPED(status) ||
	    (WSTOPSIG(status) & 0x7f) != SIGTRAP))
		return err_set(ESRCH, "pid %d: its exec did not return",
		    (int)child);
	if (arch_regs_read(child, &pk->pk_regs) != 0)
		return err_set(ESRCH, "pid %d: cannot read its registers",
		    (int)child);
	pk->pk_pc = arch_pc(&pk->pk_regs);
	/* its return would not match a shadow stack's */
	if (stub != 0 && (!pt_xol_stub_in(child, stub) || (pt_status_text(
	    child, child, ARCH_SHSTK_FIELD, feat, sizeof (feat)) == 0 &&
	    arch_shstk(feat))))
		stub = 0;
	/* the instruction too, should its stack refuse the stub's block */
	if ((rv = pt_park_insn(child, pk->pk_pc, &at)) != 0 && stub == 0)
		return err_set(-rv, "pid %d: no system call instruction to "
		    "park it with: not followed", (int)child);
	/* signals wait while it runs our mmap, and then in the page */
	if (ptrace(PTRACE_GETSIGMASK, child, sizeof (pk->pk_mask),
	    &pk->pk_mask) != 0)
		return err_set(errno, "pid %d: cannot read its signal mask: %s",
		    (int)child, strerror(errno));
	pk->pk_stub = stub;
	/* its own mask again while the page is filled: should we die now,
	   it goes on whole, a stray page its only trace */
	rv = pt_park_call(child, stub, pk->pk_mask, at, SYS_mmap, args,
	    &addr);
	if (rv == 0 && (addr < 0 && addr > -4096))
		rv = (int)addr;
	if (rv != 0)
		return err_set(-rv, "pid %d: cannot map its park page: %s",
		    (int)child, strerror(-rv));
	pk->pk_page = (uintptr_t)addr;
	arch_park_build(page, &pk->pk_regs, pk->pk_mask, PT_PARK_SECS);
	r = pk->pk_regs;
	arch_park_enter(&r, pk->pk_page);
	/* registers last: in the page with its own mask it still comes out */
	if ((rv = pt_park_rw(child, pk->pk_page, page, sizeof (page),
	    true)) != 0 || (rv = arch_regs_write(child, &r)) != 0 ||
	    (ptrace(PTRACE_SETSIGMASK, child, sizeof (all), &all) != 0 &&
	    (rv = -errno) != 0)) {
		(void) arch_regs_write(child, &pk->pk_regs);
		(void) ptrace(PTRACE_SETSIGMASK, child, sizeof (pk->pk_mask),
		    &pk->pk_mask);
		return err_set(-rv, "pid %d: cannot park it: %s", (int)child,
		    strerror(-rv));
	}
	pk->pk_pid = child;
	pt_dprintf("pid %d: parked at %#lx in page %#lx (%lu us)\n",
	    (int)child, (unsigned long)pk->pk_pc, (unsigned long)pk->pk_page,
	    (unsigned long)((pt_park_now() - pk->pk_t0) / 1000));
	return 0;
}

static bool
pt_in_page(const pt_park_t *pk, uintptr_t pc)
{
	return pc >= pk->pk_page && pc < pk->pk_page + ARCH_PARK_SIZE;
}

/*
 * The new owner, right after pt_grab (every thread stopped): in the
 * page, the child gets its mask and registers back (0); gone on by
 * itself, it is left where it is (1: it ran untraced a while).  The page
 * goes either way, unless a thread runs in it.
 */
int
pt_unpark(pt_proc_t *P, const pt_park_t *pk, void (*hold)(void *),
    void *arg)
{
	long args[6] = { (long)pk->pk_page, ARCH_PARK_SIZE, 0, 0, 0, 0 };
	arch_regs_t r;
	long ret = 0;
	int late;

	PT_ASSERT_OWNER(P);
	if (pt_regs_get(P, P->pp_pid, &r) != 0)
		return -err_code();
	/* mask first: killed between the two, it is still in the page,
	   which puts back the rest; its own code never runs all blocked */
	if ((late = !pt_in_page(pk, arch_pc(&r))) == 0) {
		if (ptrace(PTRACE_SETSIGMASK, P->pp_pid, sizeof (pk->pk_mask),
		    &pk->pk_mask) != 0)
			return err_set(errno, "pid %d: cannot give back its "
			    "signal mask: %s", (int)P->pp_pid,
			    strerror(errno));
		if (hold != NULL)
			hold(arg);
		r = pk->pk_regs;
		arch_no_restart(&r);
		if (pt_regs_set(P, P->pp_pid, &r) != 0)
			return -err_code();
	}
	/* a lost page costs the child nothing: no failure for it */
	if (pt_syscall(P, P->pp_pid, SYS_munmap, args, &ret) != 0 || ret != 0)
		pt_dprintf("pid %d: park page %#lx left mapped: %s\n",
		    (int)P->pp_pid, (unsigned long)pk->pk_page,
		    ret != 0 ? strerror((int)-ret) : err_msg());
	pt_dprintf("pid %d: unparked%s, %lu us after its park began\n",
	    (int)P->pp_pid, late ? " (it had gone on by itself)" : "",
	    (unsigned long)((pt_park_now() - pk->pk_t0) / 1000));
	return late;
}

/*
 * Nobody will take the parked child: seize it here, put back its mask
 * and registers (if it is still in the page), unmap the page (its
 * signals wait while that runs) and let it go.  Seizing it fails only if
 * it is gone or traced by another (it then comes out of the page by
 * itself).
 */
void
pt_park_undo(const pt_park_t *pk)
{
	long args[6] = { (long)pk->pk_page, ARCH_PARK_SIZE, 0, 0, 0, 0 };
	pid_t pid = pk->pk_pid;
	uint64_t mask = pk->pk_mask;
	arch_regs_t r;
	uintptr_t at = 0;
	long ret;
	int status = 0;
	bool in;

	if (pid == 0)
		return;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, 0, 0) != 0 ||
	    pt_wait_tid(pid, &status) != 0 || !WIFSTOPPED(status))
		return;
	in = arch_regs_read(pid, &r) == 0 && pt_in_page(pk, arch_pc(&r));
	/* its mask, then its registers: should we die between, the page
	   puts back the rest; after, it goes on whole */
	if (in) {
		(void) ptrace(PTRACE_SETSIGMASK, pid, sizeof (mask), &mask);
		r = pk->pk_regs;
		arch_no_restart(&r);
		(void) arch_regs_write(pid, &r);
	}
	/* gone on by itself: its mask is its own now */
	if ((in || ptrace(PTRACE_GETSIGMASK, pid, sizeof (mask), &mask) ==
	    0) && (pt_park_insn(pid, pk->pk_pc, &at) == 0 || pk->pk_stub != 0))
		(void) pt_park_call(pid, pk->pk_stub, mask, at, SYS_munmap,
		    args, &ret);
	(void) ptrace(PTRACE_SETSIGMASK, pid, sizeof (mask), &mask);
	pt_dprintf("pid %d: parked and not taken: let go\n", (int)pid);
	(void) ptrace(PTRACE_DETACH, pid, 0, 0);
}
